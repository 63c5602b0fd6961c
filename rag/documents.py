"""The two records that flow between stages: a read document and a chunk of it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from rag.text import count_cjk, latin_share

LATIN_SHARE = "latin_share"


@dataclass
class Document:
    """One unit of text as read: a whole text file, or one page of a PDF."""

    text: str
    source: str  # path relative to the corpus root: stable across machines
    page: int | None = None  # 1-based PDF page; None for formats without pages
    metadata: dict = field(default_factory=dict)
    # the headings in force where the text starts (a PDF page continues the section of the
    # page before it): what a chunk's context header starts from
    headings: tuple[str, ...] = ()

    @property
    def doc_id(self) -> str:
        return self.source if self.page is None else f"{self.source}#page={self.page}"


@dataclass
class Chunk:
    text: str
    doc_id: str
    source: str
    page: int | None
    metadata: dict = field(default_factory=dict)
    # "title > section > subsection": embedded and BM25-encoded with the text (the chunk is
    # found by the section it sits in), never quoted; "" when the chunker adds none
    context: str = ""

    @property
    def content_hash(self) -> str:
        return text_hash(self.text)

    @property
    def indexed_text(self) -> str:
        """What the encoders see: the context header, then the text."""
        return f"{self.context}\n\n{self.text}" if self.context else self.text

    @property
    def point_id(self) -> str:
        # A UUID is what every Qdrant backend accepts as an id; deriving it from the
        # document and the content makes re-indexing idempotent. The context is part of
        # what was encoded, so a renamed section makes new points.
        key = f"{self.doc_id}\0{self.context}\0{self.text}" if self.context else \
            f"{self.doc_id}\0{self.text}"
        digest = hashlib.sha256(key.encode()).digest()
        return str(uuid.UUID(bytes=digest[:16]))

    def payload(self) -> dict:
        return {
            "text": self.text,
            "doc_id": self.doc_id,
            "source": self.source,
            "page": self.page,
            "language": detect_language(self.text),
            # the script mix the hybrid plan's sparse leg matches against the question's
            LATIN_SHARE: round(latin_share(self.text), 4),
            "content_hash": self.content_hash,
            **({"context": self.context} if self.context else {}),
            **self.metadata,
        }


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def detect_language(text: str, threshold: float = 0.2) -> str:
    """'zh' when CJK characters make up a real share of the letters, else 'en'.

    A ratio, not a dictionary model: enough to route tokenizers and to tag payloads.
    """
    letters = sum(1 for c in text if c.isalnum())
    if not letters:
        return "en"
    cjk = count_cjk(text)
    return "zh" if cjk / letters >= threshold else "en"
