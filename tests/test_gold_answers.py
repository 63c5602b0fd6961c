"""The gold question–answer sets in data/qa: well formed, big enough, and true to their
documents (every gold answer is written in the document it names)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.dataset import QADataset

QA = Path("data/qa")
# (file, language, answerable at least, unanswerable at least), as issue #16 asks
SETS = [("python_faq.jsonl", "en", 200, 30), ("maint_guide_zh.jsonl", "zh", 150, 30),
        ("sample.jsonl", "mixed", 20, 6)]


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (QA / name).read_text(encoding="utf-8").splitlines()]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("name", "lang", "answerable", "unanswerable"), SETS)
def test_gold_sets_are_well_formed_and_big_enough(name, lang, answerable, unanswerable):
    rows = _rows(name)
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"tune", "test"}
    answerable_rows = [r for r in rows if not r.get("unanswerable")]
    assert len(answerable_rows) >= answerable
    assert len(rows) - len(answerable_rows) >= unanswerable
    assert all(r["answers"] and all(a.strip() for a in r["answers"]) and r["doc"]
               for r in answerable_rows)
    if lang == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", r["question"]) for r in rows)
    # the split is fixed by the file: tune and test never share a question
    tune, test = (QADataset(str(QA / name), split=s) for s in ("tune", "test"))
    assert not set(tune.queries()) & set(test.queries())
    assert len(tune.queries()) + len(test.queries()) == len(rows)
    assert 0.25 < len(tune.queries()) / len(rows) < 0.55
    assert set(test.qrels()) | test.unanswerable() == set(test.queries())


def test_sample_answers_are_written_in_their_documents():
    from rag.corpus.folder import FolderReader

    reader = FolderReader("data/sample")
    docs = {d.doc_id: _squash(d.text) for d in reader.read()[0]}
    for r in _rows("sample.jsonl"):
        if not r.get("unanswerable"):
            assert any(_squash(a) in docs[r["doc"]] for a in r["answers"]), r["id"]


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} missing: run `make data`")
    return path


def test_python_faq_answers_are_written_in_their_sections():
    corpus = _need(Path("data/datasets/python_faq/corpus.jsonl"))
    text = {json.loads(line)["_id"]: " ".join(json.loads(line)["text"].split())
            for line in corpus.read_text(encoding="utf-8").splitlines()}
    for r in _rows("python_faq.jsonl"):
        if not r.get("unanswerable"):
            assert all(" ".join(a.split()) in text[r["doc"]] for a in r["answers"]), r["id"]


def test_maint_guide_answers_are_written_on_their_pages():
    from rag.corpus.pdf import read_pdf

    pdf = _need(Path("data/datasets/maint_guide_zh/docs/maint-guide.zh-cn.pdf"))
    pages = {d.doc_id: _squash(d.text) for d in read_pdf(pdf, pdf.name, [])}
    for r in _rows("maint_guide_zh.jsonl"):
        if not r.get("unanswerable"):
            assert all(_squash(a) in pages[r["doc"]] for a in r["answers"]), r["id"]


def test_a_row_without_its_answers_is_named_by_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "Why?", "split": "test"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: missing answers, doc"):
        QADataset(str(bad)).queries()


@pytest.mark.parametrize("name", ["python_faq.jsonl", "maint_guide_zh.jsonl"])
def test_gold_splits_follow_the_seeded_rule(name):
    """The rule BeirDataset(part=...) applies (the small sample set was split by hand)."""
    from rag.dataset import seeded_part

    assert all(r["split"] == seeded_part(r["id"]) for r in _rows(name))


def test_beir_parts_split_the_questions_without_overlap(tmp_path):
    from rag.dataset import BeirDataset

    (tmp_path / "qrels").mkdir()
    ids = [f"q{i}" for i in range(200)]
    (tmp_path / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": f"question {q}"}) + "\n" for q in ids))
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\td{q}\t1\n" for q in ids))
    whole = BeirDataset(str(tmp_path))
    tune, test = (BeirDataset(str(tmp_path), part=p) for p in ("tune", "test"))
    assert not set(tune.queries()) & set(test.queries())
    assert set(tune.queries()) | set(test.queries()) == set(whole.queries())
    assert 0.3 < len(tune.queries()) / 200 < 0.5
    assert set(tune.qrels()) >= set(tune.queries())
    assert (tune.selection, whole.selection) == ("test/tune", "test")
    with pytest.raises(ValueError, match="dataset.part"):
        BeirDataset(str(tmp_path), part="valid")


def test_every_nth_question_keeps_the_unanswerable_ones_a_prefix_loses():
    full = QADataset(str(QA / "python_faq.jsonl"), split="test")
    strided = QADataset(str(QA / "python_faq.jsonl"), split="test", every=2)
    prefix = QADataset(str(QA / "python_faq.jsonl"), split="test", max_queries=85)
    assert list(strided.queries()) == list(full.queries())[::2]
    assert len(strided.queries()) == len(prefix.queries()) == 85
    assert strided.unanswerable() and not prefix.unanswerable()
    assert strided.selection == "test (every 2)"
