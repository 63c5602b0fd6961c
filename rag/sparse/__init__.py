"""Sparse stage: lexical (BM25) and learned (SPLADE, bge-m3) sparse encoders.

A sparse vector is ``(indices, values)``; indices are u32 term ids, as Qdrant stores them.
Encoders whose values are term frequencies ask the store for Qdrant's IDF modifier (``idf``),
so IDF follows the live collection instead of being frozen at index time.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

SparseVec = tuple[list[int], list[float]]


@runtime_checkable
class SparseEncoder(Protocol):
    idf: bool

    @property
    def fingerprint(self) -> str: ...

    def encode_documents(self, texts: list[str]) -> list[SparseVec]: ...

    def encode_queries(self, texts: list[str]) -> list[SparseVec]: ...
