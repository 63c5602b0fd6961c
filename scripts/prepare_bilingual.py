"""Cross-lingual and mixed-language evaluation sets from two sets that say the same thing in
English and Chinese (#30): the default must serve both languages and folders that mix them.

    python scripts/prepare_bilingual.py bookmarks <en set> <zh set> <out root> <name>
    python scripts/prepare_bilingual.py insuranceqa <en set> <zh set> <out root>

``bookmarks``: two bookmark sets of one manual (scripts/prepare_pdf_bookmarks.py) whose
bookmarks align one to one (the Debian New Maintainers' Guide in English and Chinese: 90 each,
same order). Writes <name>_en2zh (English titles, the Chinese PDF's pages judged), <name>_zh2en
and <name>_mixed (both PDFs in one folder, every title in both languages judged on the page of
its own language's PDF). ``insuranceqa``: insuranceqa_mixed, both corpora in one collection
(ids ``en-…``/``zh-…``) and every valid and test question in both languages, each judged on its
own language's passages (only judged questions are written). Mixed question ids are
``<id>/en`` and ``<id>/zh``, so both wordings fall in the same seeded part
(rag.dataset.seeded_part). Sets are read with rag.dataset.BeirDataset, as rag.eval reads them.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from rag.dataset import BeirDataset


def _judged(folder: Path, split: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A split's judged questions (file order) and their relevant documents, read as rag.eval
    reads them."""
    data = BeirDataset(str(folder), split=split)
    return data.queries(), {q: list(docs) for q, docs in data.qrels().items()}


def _write(out: Path, queries: dict[str, str], qrels: dict[str, dict[str, list[str]]]) -> None:
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n"
                     for q, t in queries.items())
    for split, judged in qrels.items():
        with (out / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            f.writelines(f"{q}\t{d}\t1\n" for q, docs in judged.items() for d in docs)
    print(f"{out}: {len(queries)} questions, "
          + ", ".join(f"{len(j)} judged in {s}" for s, j in qrels.items()))


def bookmarks(en: Path, zh: Path, root: Path, name: str) -> None:
    folders = {"en": en, "zh": zh}
    q, rel = {}, {}
    for lang, folder in folders.items():
        q[lang], rel[lang] = _judged(folder, "test")
    if list(q["en"]) != list(q["zh"]):
        raise SystemExit(f"{en} and {zh}: the bookmarks do not align one to one")
    for src, dst in (("en", "zh"), ("zh", "en")):
        _write(root / f"{name}_{src}2{dst}", q[src], {"test": rel[dst]})
    mixed = root / f"{name}_mixed"
    (mixed / "docs").mkdir(parents=True, exist_ok=True)
    for folder in folders.values():
        for pdf in (folder / "docs").iterdir():
            shutil.copy(pdf, mixed / "docs" / pdf.name)
    _write(mixed, {f"{i}/{lang}": t for lang in q for i, t in q[lang].items()},
           {"test": {f"{i}/{lang}": d for lang in rel for i, d in rel[lang].items()}})


def insuranceqa(en: Path, zh: Path, root: Path) -> None:
    out = root / "insuranceqa_mixed"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for lang, folder in (("en", en), ("zh", zh)):
            with (folder / "corpus.jsonl").open(encoding="utf-8") as src:
                for line in src:
                    row = json.loads(line)
                    row["_id"] = f"{lang}-{row['_id']}"
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, list[str]]] = {}
    for lang, folder in (("en", en), ("zh", zh)):
        for split in ("valid", "test"):
            asked, judged = _judged(folder, split)
            queries.update({f"{q}/{lang}": t for q, t in asked.items()})
            qrels.setdefault(split, {}).update(
                {f"{q}/{lang}": [f"{lang}-{d}" for d in docs] for q, docs in judged.items()})
    _write(out, queries, qrels)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "bookmarks":
        bookmarks(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "insuranceqa":
        insuranceqa(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(__doc__)
