"""Turn a PDF with bookmarks into an evaluation set: each bookmark title is a query whose
relevant document is the page it points to. The corpus is the PDF itself, read by rag's own
PDF reader, so the evaluation covers PDF ingestion too.

    python scripts/prepare_pdf_bookmarks.py <file.pdf> <out dir>
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def bookmarks(pdf: Path) -> list[tuple[str, int]]:
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    out: list[tuple[str, int]] = []

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((" ".join(item.title.split()),
                            reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return out


def main(pdf: Path, out: Path) -> None:
    (out / "docs").mkdir(parents=True, exist_ok=True)
    (out / "qrels").mkdir(exist_ok=True)
    shutil.copy(pdf, out / "docs" / pdf.name)
    marks = bookmarks(pdf)
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for i, (title, _) in enumerate(marks):
            f.write(json.dumps({"_id": f"b{i}", "text": title}, ensure_ascii=False) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"b{i}\t{pdf.name}#page={page}\t1\n" for i, (_, page) in enumerate(marks))
    print(f"{out}: {len(marks)} bookmark -> page pairs over {pdf.name}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
