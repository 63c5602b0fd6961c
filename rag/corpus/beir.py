"""A BEIR ``corpus.jsonl`` as a corpus: what rag.eval indexes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from rag.corpus import Skipped
from rag.documents import Document
from rag.errors import ConfigError, InputNotFoundError


class BeirCorpusReader:
    """A BEIR ``corpus.jsonl`` (``{"_id", "title", "text"}`` per line): one Document per
    line, whose doc id is the BEIR ``_id`` so that retrieval runs match the qrels."""

    def __init__(self, path: str, title: bool = True) -> None:
        self.path = Path(path).expanduser()
        self.title = title

    @property
    def name(self) -> str:
        return self.path.parent.name if self.path.name == "corpus.jsonl" else self.path.stem

    @property
    def fingerprint(self) -> dict:
        stat = self.path.stat()
        return {"beir": str(self.path.resolve()), "size": stat.st_size, "title": self.title}

    def sources(self) -> tuple[list[str], list[Skipped]]:
        """Every document id; the corpus is read once and kept (evaluation corpora are small)."""
        if not self.path.is_file():
            raise InputNotFoundError(
                f"{self.path} does not exist: run `make data` for the packaged data sets, or "
                f"point corpus.path at a BEIR corpus.jsonl"
            )
        self._docs: dict[str, Document] = {}
        with self.path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text, doc_id = row.get("text", ""), str(row["_id"])
                except (ValueError, KeyError) as exc:
                    raise ConfigError(f"{self.path} line {number} is not a BEIR corpus row "
                                     f"({{\"_id\", \"title\", \"text\"}}): {exc}") from exc
                meta = {}
                if self.title and row.get("title"):
                    text = f"{row['title']}\n\n{text}"
                    meta = {"title": row["title"]}
                if text.strip():
                    self._docs[doc_id] = Document(text=text, source=doc_id, metadata=meta)
        return list(self._docs), []

    def load(self, source: str) -> Iterator[Document]:
        return iter([self._docs[source]])

    def read(self) -> tuple[list[Document], list[Skipped]]:
        sources, skipped = self.sources()
        return [self._docs[s] for s in sources], skipped
