"""Sparse stage: lexical (BM25) and learned (SPLADE, bge-m3) sparse encoders.

A sparse vector is ``(indices, values)``; indices are u32 term ids, as Qdrant stores them.
Encoders whose values are term frequencies ask the store for Qdrant's IDF modifier (``idf``),
so IDF follows the live collection instead of being frozen at index time. The contract is
``rag.stages.SparseEncoder``.
"""

from __future__ import annotations

SparseVec = tuple[list[int], list[float]]
