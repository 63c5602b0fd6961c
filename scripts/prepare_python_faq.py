"""Write the Python FAQ (Debian package python3.11-doc) as a BEIR dataset: each FAQ question
is a query, and the answer section below it (without the question) is its one relevant
passage. ~175 pairs; data/datasets/python_faq/.

    python scripts/prepare_python_faq.py <extracted .../html/faq dir> [data/datasets]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def sections(html_file: Path) -> list[tuple[str, str, str]]:
    """(section id, question, answer text) for each question: a leaf section (no nested
    section). Pages nest questions at h2, h3 or h4 depending on their categories."""
    from lxml import html

    tree = html.parse(str(html_file))
    out = []
    for section in tree.xpath("//section[(h2 or h3 or h4) and not(.//section)]"):
        heading = next(c for c in section if c.tag in ("h2", "h3", "h4"))
        question = " ".join(heading.text_content().replace("¶", "").split())
        parts = [
            " ".join(child.text_content().split())
            for child in section
            if child is not heading and child.tag != "section"
        ]
        answer = "\n\n".join(p for p in parts if p)
        if question and answer:
            out.append((f"{html_file.stem}-{section.get('id')}", question, answer))
    return out


def main(faq_dir: Path, root: Path) -> None:
    out = root / "python_faq"
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    rows = [row for f in sorted(faq_dir.glob("*.html")) if f.stem != "index"
            for row in sections(f)]
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for sid, _, answer in rows:
            f.write(json.dumps({"_id": sid, "title": "", "text": answer}) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for sid, question, _ in rows:
            f.write(json.dumps({"_id": f"q-{sid}", "text": question}) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"q-{sid}\t{sid}\t1\n" for sid, _, _ in rows)
    print(f"{out}: {len(rows)} question -> answer pairs")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "data/datasets"))
