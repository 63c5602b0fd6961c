"""Reading throughput per format: the same pages of text as PDF, scanned PDF, DOCX, PPTX, XLSX,
HTML and Markdown, read and chunked by rag's readers (what indexing adds per format before
the embedder, whose cost per chunk is the same for all).

    python scripts/bench_formats.py --pages 20 --repeats 3 [--out docs/benchmarks-runs/formats]

The text is --pages pages of the Debian maint-guide (English) PDF from its 8th (its body, past
the cover and contents), as rag reads them (make data). Each format holds those pages: a PDF
page, a scanned page (the PDF page rendered at 150 dpi into an image-only PDF, read by OCR),
a DOCX section, a slide, an XLSX sheet of the page's lines, an HTML section, a Markdown
section. Medians of --repeats runs
in one process after a warm-up read (OCR: one run; it takes minutes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.corpus.folder import FolderReader  # noqa: E402
from rag.corpus.pdf import read_pdf  # noqa: E402

GUIDE = ROOT / "data/downloads/extracted/usr/share/doc/maint-guide/maint-guide.en.pdf"
FIRST = 8  # the guide's first pages are its cover and contents: start with chapter text


def build(folder: Path, pages: int) -> dict[str, Path]:
    """One file per format holding the same pages of text."""
    import docx
    import pptx
    import pypdfium2 as pdfium
    from openpyxl import Workbook
    from pypdf import PdfReader, PdfWriter

    docs = read_pdf(GUIDE, GUIDE.name, [])[FIRST - 1 : FIRST - 1 + pages]
    numbers = [d.page for d in docs]
    texts = [d.text.replace("#", "").strip() for d in docs]
    out = {}

    writer = PdfWriter()
    reader = PdfReader(GUIDE)
    for n in numbers:
        writer.add_page(reader.pages[n - 1])
    out["pdf"] = folder / "guide.pdf"
    writer.write(out["pdf"])

    images = [p.render(scale=150 / 72).to_pil().convert("RGB")
              for p in pdfium.PdfDocument(str(out["pdf"]))]
    out["scanned pdf (OCR)"] = folder / "scanned.pdf"
    images[0].save(out["scanned pdf (OCR)"], save_all=True, append_images=images[1:],
                   resolution=150)

    document = docx.Document()
    for i, text in enumerate(texts, 1):
        document.add_heading(f"Page {i}", level=1)
        for para in text.split("\n\n"):
            document.add_paragraph(para)
    out["docx"] = folder / "guide.docx"
    document.save(out["docx"])

    deck = pptx.Presentation()
    for i, text in enumerate(texts, 1):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Page {i}"
        slide.placeholders[1].text = text
    out["pptx"] = folder / "guide.pptx"
    deck.save(out["pptx"])

    book = Workbook()
    book.remove(book.active)
    for i, text in enumerate(texts, 1):
        sheet = book.create_sheet(f"Page {i}")
        sheet.append(["line", "text"])
        for k, line in enumerate(text.splitlines(), 1):
            sheet.append([k, line])
    out["xlsx"] = folder / "guide.xlsx"
    book.save(out["xlsx"])

    from html import escape

    body = "".join(f"<h2>Page {i}</h2>" + "".join(f"<p>{escape(p)}</p>"
                                                  for p in text.split("\n\n"))
                   for i, text in enumerate(texts, 1))
    out["html"] = folder / "guide.html"
    out["html"].write_text(f"<html><head><title>Guide</title></head><body><main>{body}"
                           f"</main></body></html>")
    out["markdown"] = folder / "guide.md"
    out["markdown"].write_text("\n\n".join(f"## Page {i}\n\n{t}" for i, t in enumerate(texts, 1)))
    return out


def read_once(reader: FolderReader, chunker, source: str) -> tuple[float, int]:
    start = time.perf_counter()
    docs = list(reader.load(source))
    chunks = chunker.split(docs)
    return time.perf_counter() - start, len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write OUT.md and OUT.json")
    args = parser.parse_args()
    if not GUIDE.exists():
        sys.exit(f"{GUIDE} missing: run `make data` first")
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        chunker = instantiate(compose(config_name="config").chunker)  # the default's
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), args.pages)
        reader = FolderReader(tmp)
        for kind, path in files.items():
            ocr = "OCR" in kind
            read_once(reader, chunker, path.name)  # warm-up: imports, models, tokenizer
            runs = [read_once(reader, chunker, path.name)
                    for _ in range(1 if ocr else args.repeats)]
            seconds = statistics.median(s for s, _ in runs)
            rows.append({"format": kind, "pages": args.pages, "chunks": runs[0][1],
                         "read+chunk s": seconds, "pages/s": args.pages / seconds,
                         "chunks/s": runs[0][1] / seconds, "repeats": len(runs)})
            print(rows[-1], file=sys.stderr)
    keys = list(rows[0])
    table = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    table += ["| " + " | ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k])
                                for k in keys) + " |" for r in rows]
    print("\n".join(table))
    if args.out:
        from run_record import write_run

        write_run(args.out, rows, "\n".join(table), settings={"chunker": "default"})


if __name__ == "__main__":
    main()
