"""Evaluation data: BEIR-style retrieval sets, and gold question–answer sets.

BEIR (retrieval; queries may carry gold answers):
    corpus.jsonl      {"_id": "d1", "title": "...", "text": "..."}
    queries.jsonl     {"_id": "q1", "text": "...", "answers": ["..."]}   answers optional
    qrels/test.tsv    query-id <tab> corpus-id <tab> score   (with a header line)

Gold QA (data/qa/*.jsonl, one question per line, written by hand from the documents):
    {"id": "en-001", "question": "...", "answers": ["..."], "doc": "<corpus id>", "split": "tune"}
    {"id": "en-201", "question": "...", "unanswerable": true, "split": "test"}
  ``doc`` is the id the corpus gives the supporting document: a BEIR ``_id``, a file path
  relative to the corpus folder, or ``file.pdf#page=N`` (a list when several support it).
"""

from __future__ import annotations

import csv
import hashlib
import json
from functools import cached_property
from pathlib import Path

from rag.errors import ConfigError, InputNotFoundError


def _need(path: Path, fix: str) -> Path:
    if not path.is_file():
        raise InputNotFoundError(f"{path} does not exist: {fix}")
    return path


PARTS = ("tune", "test")


def seeded_part(query_id: str) -> str:
    """Which part of a split a question falls in: ``tune`` for sha1(id) mod 5 < 2 (about 40 %),
    ``test`` for the rest; fixed by the id, so the same on every machine and every run. For
    sets that ship one judged split (the gold QA files use the same rule). Only the id before
    a "/" counts: the English and Chinese wording of one question (``b7/en``, ``b7/zh``) fall
    in the same part as each other and as ``b7``, so no question is tuned in one language and
    reported in the other."""
    key = query_id.split("/", 1)[0]
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 5 < 2 else "test"


class BeirDataset:
    """``split`` names the qrels file; ``part`` (tune | test) keeps one seeded part of its
    questions, for collections without a separate tuning split."""

    def __init__(self, path: str, split: str = "test", max_queries: int | None = None,
                 name: str | None = None, part: str | None = None) -> None:
        if part is not None and part not in PARTS:
            raise ConfigError(f"dataset.part must be null, 'tune' or 'test', got {part!r}")
        self.path = Path(path).expanduser()
        self.split = split
        self.part = part
        self.max_queries = max_queries
        self.name = name or self.path.name

    @property
    def selection(self) -> str:
        """The questions this run reads, as a report names them: test, valid, test/tune …"""
        return f"{self.split}/{self.part}" if self.part else self.split

    def _need(self, path: Path) -> Path:
        return _need(path, "run `make data`, or give dataset.path=<folder with corpus.jsonl, "
                           "queries.jsonl, qrels/>")

    def qrels(self) -> dict[str, dict[str, int]]:
        return self._qrels

    @cached_property
    def _qrels(self) -> dict[str, dict[str, int]]:
        qrels: dict[str, dict[str, int]] = {}
        with self._need(self.path / "qrels" / f"{self.split}.tsv").open(encoding="utf-8") as f:
            rows = csv.reader(f, delimiter="\t")
            for row in rows:
                if not row or row[0] == "query-id":
                    continue
                qid, did, score = row[0], row[1], int(row[2])
                if score > 0:
                    qrels.setdefault(qid, {})[did] = score
        return qrels

    @cached_property
    def _rows(self) -> list[dict]:
        """The split's judged queries, in file order, cut to ``max_queries`` (a fixed prefix,
        so a subset is the same on every machine); read once."""
        judged = self._qrels
        out: list[dict] = []
        with self._need(self.path / "queries.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    qid = str(row["_id"])
                    if qid in judged and (not self.part or seeded_part(qid) == self.part):
                        out.append(row)
                    if self.max_queries and len(out) >= self.max_queries:
                        break
        return out

    def queries(self) -> dict[str, str]:
        return {str(r["_id"]): r["text"] for r in self._rows}

    def answers(self) -> dict[str, list[str]]:
        return {str(r["_id"]): r["answers"] for r in self._rows if r.get("answers")}

    def unanswerable(self) -> set[str]:
        return set()  # a BEIR query is judged, so something in the corpus answers it


class QADataset:
    """A gold question–answer set (the format above); ``split`` selects tune or test."""

    def __init__(self, path: str, split: str = "test", max_queries: int | None = None,
                 name: str | None = None, every: int = 1) -> None:
        if every < 1:
            raise ConfigError(f"dataset.every must be >= 1, got {every}")
        self.path = Path(path).expanduser()
        self.split = split
        self.max_queries = max_queries
        self.every = every  # every n-th question of the split: a fixed subset that, unlike a
        # prefix, keeps the unanswerable questions (they come last in the files)
        self.name = name or self.path.stem

    @property
    def selection(self) -> str:
        return self.split if self.every == 1 else f"{self.split} (every {self.every})"

    @cached_property
    def _rows(self) -> list[dict]:
        """The split's questions, checked and read once."""
        out = []
        path = _need(self.path, "give dataset.path=<a gold QA .jsonl file> (see rag/dataset.py)")
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                missing = {"id", "question", "split"} - set(row)
                if not row.get("unanswerable"):
                    missing |= {"answers", "doc"} - set(row)
                if missing:
                    raise ConfigError(f"{path}:{n}: missing {', '.join(sorted(missing))}")
                if row["split"] == self.split:
                    out.append(row)
        out = out[:: self.every]
        return out[: self.max_queries] if self.max_queries else out

    def queries(self) -> dict[str, str]:
        return {r["id"]: r["question"] for r in self._rows}

    def qrels(self) -> dict[str, dict[str, int]]:
        return {r["id"]: {d: 1 for d in ([r["doc"]] if isinstance(r["doc"], str) else r["doc"])}
                for r in self._rows if not r.get("unanswerable")}

    def answers(self) -> dict[str, list[str]]:
        return {r["id"]: r["answers"] for r in self._rows if not r.get("unanswerable")}

    def unanswerable(self) -> set[str]:
        return {r["id"] for r in self._rows if r.get("unanswerable")}
