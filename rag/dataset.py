"""Evaluation data in the BEIR format: queries.jsonl and qrels/<split>.tsv beside corpus.jsonl.

    corpus.jsonl      {"_id": "d1", "title": "...", "text": "..."}
    queries.jsonl     {"_id": "q1", "text": "..."}
    qrels/test.tsv    query-id <tab> corpus-id <tab> score   (with a header line)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path


class BeirDataset:
    def __init__(self, path: str, split: str = "test", max_queries: int | None = None,
                 name: str | None = None) -> None:
        self.path = Path(path).expanduser()
        self.split = split
        self.max_queries = max_queries
        self.name = name or self.path.name

    def _need(self, path: Path) -> Path:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} does not exist: run `make data`, or give "
                f"dataset.path=<folder with corpus.jsonl, queries.jsonl, qrels/>")
        return path

    def qrels(self) -> dict[str, dict[str, int]]:
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

    def queries(self) -> dict[str, str]:
        """The split's judged queries, in file order, cut to ``max_queries`` (a fixed prefix,
        so a subset is the same on every machine)."""
        judged = self.qrels()
        out: dict[str, str] = {}
        with self._need(self.path / "queries.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if str(row["_id"]) in judged:
                        out[str(row["_id"])] = row["text"]
                    if self.max_queries and len(out) >= self.max_queries:
                        break
        return out
