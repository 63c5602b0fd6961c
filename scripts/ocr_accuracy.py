"""OCR character accuracy on pages whose text is known: real PDFs rendered to images.

For each PDF a run of its pages is copied (text layer kept) and rendered to page images
(pypdfium2), once clean at 200 dpi and once as a poor office scan (150 dpi, turned 0.7°,
blurred, JPEG quality 50); the images become an image-only PDF, which rag reads through the
OCR path (read_pdf with ocr=True), while the copy with its text layer is read the usual way.
Character error rate (jiwer.cer) of the OCR text against the text layer, both with whitespace
and Markdown heading marks removed (Chinese has no spaces to compare, and OCR cannot see a
text layer's line breaks); accuracy = 1 - CER, over all pages of a document together.

    python scripts/ocr_accuracy.py [--out docs/benchmarks-runs/ocr]
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.corpus.pdf import read_pdf  # noqa: E402

EXTRACTED = ROOT / "data/downloads/extracted/usr/share/doc"
DOCUMENTS = {  # name: (pdf, first page, pages)
    "sample handbook (en + zh)": (ROOT / "data/sample/company-handbook.pdf", 1, 4),
    "Debian maint-guide (en)": (EXTRACTED / "maint-guide/maint-guide.en.pdf", 8, 8),
    "Debian maint-guide (zh)": (EXTRACTED / "maint-guide-zh-cn/maint-guide.zh-cn.pdf", 8, 8),
}


def pages_pdf(source: Path, first: int, count: int, out: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(source).pages[first - 1 : first - 1 + count]:
        writer.add_page(page)
    writer.write(out)
    return out


def scanned(pdf: Path, out: Path, poor: bool) -> Path:
    """An image-only PDF of pdf's pages: clean 200 dpi, or a poor 150 dpi office scan."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    images = []
    for page in pdfium.PdfDocument(str(pdf)):
        image = page.render(scale=(150 if poor else 200) / 72).to_pil().convert("RGB")
        if poor:
            image = image.rotate(0.7, resample=Image.BICUBIC, fillcolor="white", expand=False)
            image = image.filter(ImageFilter.GaussianBlur(0.8))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=50)
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        images.append(image)
    images[0].save(out, save_all=True, append_images=images[1:], resolution=150 if poor else 200)
    return out


def bare(text: str) -> str:
    return re.sub(r"\s+|^#+ ", "", text, flags=re.MULTILINE)


def measure(name: str, pdf: Path, first: int, count: int, tmp: Path) -> list[dict]:
    import jiwer

    original = pages_pdf(pdf, first, count, tmp / f"{name}.pdf")
    reference = {d.page: d.text for d in read_pdf(original, name, []) if hasattr(d, "page")}
    rows = []
    for condition, poor in (("clean 200 dpi", False), ("poor scan 150 dpi", True)):
        image_pdf = scanned(original, tmp / f"{name}-{poor}.pdf", poor)
        start = time.perf_counter()
        read = {d.page: d.text for d in read_pdf(image_pdf, name, [], ocr=True)
                if hasattr(d, "page")}
        seconds = time.perf_counter() - start
        truth = "".join(bare(reference[p]) for p in sorted(reference))
        hypothesis = "".join(bare(read.get(p, "")) for p in sorted(reference))
        per_page = [jiwer.cer(bare(reference[p]), bare(read.get(p, "")) or "∅")
                    for p in sorted(reference)]
        rows.append({"document": name, "condition": condition, "pages": len(reference),
                     "characters": len(truth),
                     "char accuracy": 1 - jiwer.cer(truth, hypothesis),
                     "worst page accuracy": 1 - max(per_page),
                     "median page accuracy": 1 - statistics.median(per_page),
                     "s/page": seconds / len(reference)})
        print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write OUT.md and OUT.json")
    args = parser.parse_args()
    missing = [str(p) for p, _, _ in DOCUMENTS.values() if not p.exists()]
    if missing:
        sys.exit(f"missing {missing}: run `make data` first")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (pdf, first, count) in DOCUMENTS.items():
            rows.extend(measure(name, pdf, first, count, Path(tmp)))
    keys = list(rows[0])
    table = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        table.append("| " + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k])
                                       for k in keys) + " |")
    print("\n".join(table))
    if args.out:
        from run_record import write_run

        write_run(args.out, rows, "\n".join(table), settings={"engine": "rapidocr PP-OCRv6 small"})


if __name__ == "__main__":
    main()
