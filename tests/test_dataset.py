"""Evaluation sets: the seeded tune/test parts and the bilingual sets built from two languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.dataset import BeirDataset, seeded_part

ROOT = Path(__file__).resolve().parent.parent


def test_both_wordings_of_a_question_fall_in_the_same_part():
    ids = [f"b{i}" for i in range(200)]
    parts = {seeded_part(i) for i in ids}
    assert parts == {"tune", "test"}  # the rule splits, ...
    # ... and never puts one question's English and Chinese wording on different sides
    assert all(seeded_part(f"{i}/en") == seeded_part(f"{i}/zh") == seeded_part(i) for i in ids)


def _beir(folder: Path, queries: dict[str, str], qrels: dict[str, dict[str, str]],
          corpus: dict[str, str] | None = None) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "docs").mkdir()
    (folder / "docs" / f"{folder.name}.pdf").write_bytes(b"%PDF-1.4 stand-in")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n"
                for q, t in queries.items()), encoding="utf-8")
    for split, judged in qrels.items():
        (folder / "qrels" / f"{split}.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in judged.items()))
    if corpus:
        (folder / "corpus.jsonl").write_text(
            "".join(json.dumps({"_id": d, "text": t}, ensure_ascii=False) + "\n"
                    for d, t in corpus.items()), encoding="utf-8")
    return folder


def _prepare(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "prepare_bilingual.py"), *args],
                   check=True, capture_output=True)


def test_bookmark_sets_pair_each_title_with_its_twin_page(tmp_path):
    en = _beir(tmp_path / "g_en", {"b0": "First steps", "b1": "Shared libraries"},
               {"test": {"b0": "g.en.pdf#page=12", "b1": "g.en.pdf#page=59"}})
    zh = _beir(tmp_path / "g_zh", {"b0": "第一步", "b1": "共享库"},
               {"test": {"b0": "g.zh.pdf#page=11", "b1": "g.zh.pdf#page=58"}})
    _prepare("bookmarks", str(en), str(zh), str(tmp_path), "g")
    en2zh = BeirDataset(str(tmp_path / "g_en2zh"))
    assert en2zh.queries() == {"b0": "First steps", "b1": "Shared libraries"}
    assert en2zh.qrels() == {"b0": {"g.zh.pdf#page=11": 1}, "b1": {"g.zh.pdf#page=58": 1}}
    assert BeirDataset(str(tmp_path / "g_zh2en")).qrels()["b1"] == {"g.en.pdf#page=59": 1}
    mixed = BeirDataset(str(tmp_path / "g_mixed"))
    assert mixed.queries()["b1/zh"] == "共享库"
    assert mixed.qrels()["b1/zh"] == {"g.zh.pdf#page=58": 1}
    assert mixed.qrels()["b1/en"] == {"g.en.pdf#page=59": 1}
    assert {p.name for p in (tmp_path / "g_mixed" / "docs").iterdir()} == {"g_en.pdf", "g_zh.pdf"}
    tune = BeirDataset(str(tmp_path / "g_mixed"), part="tune").queries()
    assert all(q.split("/")[0] + "/en" in tune and q.split("/")[0] + "/zh" in tune for q in tune)


def test_bookmark_sets_that_do_not_align_are_refused(tmp_path):
    en = _beir(tmp_path / "a", {"b0": "x", "b1": "y"},
               {"test": {"b0": "a#page=1", "b1": "a#page=2"}})
    zh = _beir(tmp_path / "b", {"b0": "甲"}, {"test": {"b0": "b#page=1"}})
    with pytest.raises(subprocess.CalledProcessError) as err:
        _prepare("bookmarks", str(en), str(zh), str(tmp_path), "g")
    assert b"do not align" in err.value.stderr


def test_mixed_insuranceqa_keeps_each_language_on_its_own_passages(tmp_path):
    en = _beir(tmp_path / "en", {"valid-0": "Is it covered?", "test-0": "What is a term?"},
               {"valid": {"valid-0": "7"}, "test": {"test-0": "9"}},
               corpus={"7": "It is covered.", "9": "A term is ..."})
    zh = _beir(tmp_path / "zh", {"valid-0": "包括吗？", "test-0": "期限是什么？"},
               {"valid": {"valid-0": "7"}, "test": {"test-0": "9"}},
               corpus={"7": "包括。", "9": "期限是……"})
    _prepare("insuranceqa", str(en), str(zh), str(tmp_path))
    out = tmp_path / "insuranceqa_mixed"
    ids = [json.loads(line)["_id"] for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert ids == ["en-7", "en-9", "zh-7", "zh-9"]
    valid = BeirDataset(str(out), split="valid")
    assert valid.qrels() == {"valid-0/en": {"en-7": 1}, "valid-0/zh": {"zh-7": 1}}
    assert BeirDataset(str(out)).queries() == {"test-0/en": "What is a term?",
                                               "test-0/zh": "期限是什么？"}
