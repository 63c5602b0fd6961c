"""Corpus stage: read a folder of PDF, Markdown and text files into Documents."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from rag.documents import Document

log = logging.getLogger(__name__)

_CJK_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
_CJK_BREAK = re.compile(rf"(?<={_CJK_CHAR})[ \t]*\n[ \t]*(?={_CJK_CHAR})")
# A line that ends a sentence or a heading keeps its break; other breaks are PDF line wrapping.
_SOFT_BREAK = re.compile(r"(?<![.!?:;。！？；：\n])[ \t]*\n(?!\n)[ \t]*")


def join_cjk_lines(text: str) -> str:
    """A line break between two CJK characters is wrapping, not a space: remove it."""
    return _CJK_BREAK.sub("", text)


def join_pdf_lines(text: str) -> str:
    """Undo PDF line wrapping: CJK lines join with no space, other lines with one."""
    return _SOFT_BREAK.sub(" ", join_cjk_lines(text)).strip()


@dataclass
class Skipped:
    path: str
    reason: str


class FolderReader:
    """Reads every supported file under `path`; a PDF becomes one Document per page."""

    def __init__(
        self,
        path: str,
        extensions: tuple[str, ...] | list[str] = (".pdf", ".md", ".markdown", ".txt"),
        recursive: bool = True,
        encoding: str = "utf-8",
    ) -> None:
        self.root = Path(path).expanduser()
        self.extensions = tuple(e.lower() for e in extensions)
        self.recursive = recursive
        self.encoding = encoding

    @property
    def name(self) -> str:
        return self.root.resolve().name or "corpus"

    @property
    def fingerprint(self) -> dict:
        return {"path": str(self.root.resolve()), "extensions": list(self.extensions)}

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"corpus folder {self.root} does not exist: set corpus.path=/path/to/your/documents"
            )
        pattern = "**/*" if self.recursive else "*"
        return sorted(p for p in self.root.glob(pattern)
                      if p.suffix.lower() in self.extensions and p.is_file())

    def read(self) -> tuple[list[Document], list[Skipped]]:
        documents: list[Document] = []
        skipped: list[Skipped] = []
        for path in self.files():
            rel = path.relative_to(self.root).as_posix()
            try:
                if path.suffix.lower() == ".pdf":
                    docs = self._read_pdf(path, rel)
                else:
                    text = join_cjk_lines(path.read_text(encoding=self.encoding))
                    docs = [Document(text=text, source=rel)]
            except Exception as exc:  # one bad file must not stop the run
                skipped.append(Skipped(rel, f"{type(exc).__name__}: {exc}"))
                log.warning("skipped %s: %s", rel, exc)
                continue
            kept = [d for d in docs if d.text.strip()]
            if not kept:
                skipped.append(Skipped(rel, "no text found (an image-only PDF needs OCR)"))
                log.warning("skipped %s: no text found", rel)
            documents.extend(kept)
        return documents, skipped

    def _read_pdf(self, path: Path, rel: str) -> list[Document]:
        from pypdf import PdfReader

        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted PDF: decrypt it or remove it from the corpus")
        return [
            Document(text=join_pdf_lines(page.extract_text() or ""), source=rel, page=number)
            for number, page in enumerate(reader.pages, start=1)
        ]


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

    def read(self) -> tuple[list[Document], list[Skipped]]:
        if not self.path.is_file():
            raise FileNotFoundError(
                f"{self.path} does not exist: run `make data` for the packaged data sets, or "
                f"point corpus.path at a BEIR corpus.jsonl"
            )
        documents = []
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                text = row.get("text", "")
                if self.title and row.get("title"):
                    text = f"{row['title']}\n\n{text}"
                documents.append(Document(text=text, source=str(row["_id"])))
        return [d for d in documents if d.text.strip()], []
