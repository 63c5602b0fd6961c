"""Chunk stage: token-aware splitting with the embedder's own tokenizer."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from rag.documents import Chunk, Document
from rag.errors import ConfigError
from rag.models import load_tokenizer
from rag.text import heading_paths

# Paragraphs first, then sentences (Chinese and English punctuation), then clauses and words.
# Separators stay at the end of the piece they close, so a sentence keeps its full stop.
DEFAULT_SEPARATORS = [
    "\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ", "，", "、", ", ", " ", "",
]


class RecursiveTokenChunker:
    """langchain's recursive splitter, measuring length in the embedder's tokens."""

    def __init__(
        self,
        tokenizer: str,
        chunk_size: int = 200,
        chunk_overlap: int = 32,
        separators: Sequence[str] | None = None,
        context: bool = False,
    ) -> None:
        if not 0 <= chunk_overlap < chunk_size:
            raise ConfigError(
                f"chunker.chunk_overlap ({chunk_overlap}) must be >= 0 and smaller than "
                f"chunker.chunk_size ({chunk_size})"
            )
        self.tokenizer = tokenizer
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separators = list(separators or DEFAULT_SEPARATORS)
        self.context = context
        self._splitter = None

    @property
    def fingerprint(self) -> dict:
        return {
            "class": type(self).__name__,
            "tokenizer": self.tokenizer,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "separators": self.separators,
            **({"context": True} if self.context else {}),
        }

    def warm_up(self) -> None:
        load_tokenizer(self.tokenizer)

    def count_tokens(self, text: str) -> int:
        return len(load_tokenizer(self.tokenizer).encode(text, add_special_tokens=False).ids)

    def split_text(self, text: str) -> list[str]:
        if self.count_tokens(text) <= self.chunk_size:  # most short documents: one chunk
            return [text.strip()] if text.strip() else []
        if self._splitter is None:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitter = RecursiveCharacterTextSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.chunk_overlap,
                separators=self.separators,
                keep_separator="end",
                length_function=self.count_tokens,
                strip_whitespace=True,
            )
        pieces = [p for p in self._splitter.split_text(text) if p.strip()]
        # Token counts are not additive across a join, so langchain's merge can overshoot
        # by a token or two: re-split any piece over budget rather than let the model truncate.
        out: list[str] = []
        for piece in pieces:
            out.extend(self._enforce_budget(piece))
        return [p for p in out if p]

    def _enforce_budget(self, text: str) -> list[str]:
        if self.count_tokens(text) <= self.chunk_size:
            return [text]
        tokenizer = load_tokenizer(self.tokenizer)
        offsets = tokenizer.encode(text, add_special_tokens=False).offsets
        cut = offsets[self.chunk_size - 1][1]
        return [text[:cut].strip(), *self._enforce_budget(text[cut:].strip())]

    def split(self, documents: Sequence[Document]) -> list[Chunk]:
        chunks = []
        for doc in documents:
            pieces = self.split_text(doc.text)
            headers = context_headers(doc, pieces) if self.context else [""] * len(pieces)
            chunks.extend(Chunk(text=piece, doc_id=doc.doc_id, source=doc.source, page=doc.page,
                                metadata=dict(doc.metadata), context=header)
                          for piece, header in zip(pieces, headers, strict=True))
        return chunks


class MarkdownHeaderChunker(RecursiveTokenChunker):
    """Splits Markdown at headers first, so no chunk straddles two sections, and records the
    header path as ``section``; other documents fall back to the recursive splitter."""

    def __init__(self, tokenizer: str, header_levels: int = 3, **kwargs) -> None:
        super().__init__(tokenizer, **kwargs)
        self.header_levels = header_levels

    @property
    def fingerprint(self) -> dict:
        return {**super().fingerprint, "header_levels": self.header_levels}

    def split(self, documents: Sequence[Document]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for doc in documents:
            if not doc.source.lower().endswith((".md", ".markdown")):
                chunks.extend(super().split([doc]))
                continue
            for text, path in markdown_sections(doc.text, self.header_levels):
                meta = {**doc.metadata, **({"section": " > ".join(path)} if path else {})}
                header = " > ".join(p for p in [document_title(doc), *path] if p)
                chunks.extend(
                    Chunk(text=piece, doc_id=doc.doc_id, source=doc.source, page=doc.page,
                          metadata=meta, context=header if self.context else "")
                    for piece in self.split_text(text)
                )
        return chunks


def markdown_sections(text: str, levels: int = 3) -> list[tuple[str, list[str]]]:
    """The text cut before every ATX header of level <= ``levels`` outside code fences, each
    piece with its header path. The pieces are slices of the text, so nothing is lost or
    rewritten (langchain's Markdown splitter re-joins lines and drops some characters)."""
    marks = [(0, ()), *heading_paths(text, levels=levels), (len(text), ())]
    sections = [(text[a:b], [h for h in path if h])
                for (a, path), (b, _) in zip(marks, marks[1:], strict=False)]
    return [(t, p) for t, p in sections if t.strip()]


def document_title(doc: Document) -> str:
    """The title a context header starts with: the document's own (a BEIR row's), else its
    file name without the extension or the folders; "" for a bare id (a BEIR row without a
    title), which names nothing."""
    if title := doc.metadata.get("title"):
        return str(title)
    name = doc.source.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else ""


def context_headers(doc: Document, pieces: list[str]) -> list[str]:
    """Per piece of doc.text: "title > heading > subheading" in force where the piece starts
    (a piece that starts with a heading is under that heading)."""
    marks = [(0, doc.headings), *heading_paths(doc.text, doc.headings)]
    starts = [at for at, _ in marks]
    title = document_title(doc)
    out, cursor = [], 0
    for piece in pieces:
        found = doc.text.find(piece[:40], cursor)
        cursor = found if found >= 0 else cursor
        path = marks[bisect.bisect_right(starts, cursor) - 1][1]
        out.append(" > ".join(p for p in [title, *path] if p))
    return out
