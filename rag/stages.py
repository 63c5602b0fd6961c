"""The stage contract: what each config group's ``_target_`` class provides.

Every stage is a plain class whose ``__init__`` keywords are its YAML keys, so Hydra builds it
with ``instantiate`` and building costs nothing: no model is loaded, no file is parsed and no
service is called. A stage with a model loads it in ``warm_up()`` (idempotent; also done on
first use), and ``dim`` and ``fingerprint`` come from the config or the model's files, never
from loading it. ``Pipeline.warm_up()`` warms every stage; ``Pipeline.ask()`` runs them.

    question ─► Embedder + SparseEncoder ─► Retriever.plan ─► Store.search ─► Reranker ─► Answerer
    corpus   ─► Corpus ─► Chunker ─► Embedder + SparseEncoder ─► Store.upsert
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from rag.corpus import Skipped
from rag.documents import Chunk, Document
from rag.sparse import SparseVec
from rag.store.plan import Hit, Plan, Within
from rag.store.schema import IndexSpec, Point


class Corpus(Protocol):  # conf/corpus -> rag/corpus/
    name: str
    fingerprint: dict

    def sources(self) -> tuple[list[str], list[Skipped]]: ...
    def load(self, source: str) -> Iterator[Document | Skipped]: ...


class Chunker(Protocol):  # conf/chunker -> rag/chunker.py
    fingerprint: dict

    def warm_up(self) -> None: ...
    def split(self, documents: Sequence[Document]) -> list[Chunk]: ...


@runtime_checkable
class Embedder(Protocol):  # conf/embedder -> rag/embedder/
    model: str
    batch_size: int
    # A model run here takes ``threads`` (None: the library's default), one name for every
    # runtime so rag.ray_runner can cap it per actor; an HTTP service has none.

    @property
    def dim(self) -> int: ...
    @property
    def fingerprint(self) -> str: ...
    def warm_up(self) -> None: ...
    def encode_documents(self, texts: list[str]) -> np.ndarray: ...  # (n, dim), unit length
    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


@runtime_checkable
class SparseEncoder(Protocol):  # conf/sparse -> rag/sparse/
    idf: bool  # values are term frequencies: the store applies Qdrant's IDF modifier

    @property
    def fingerprint(self) -> str: ...
    def warm_up(self) -> None: ...
    def encode_documents(self, texts: list[str]) -> list[SparseVec]: ...
    def encode_queries(self, texts: list[str]) -> list[SparseVec]: ...


class Store(Protocol):  # conf/store -> rag/store/
    where: str

    def open(self, spec: IndexSpec, create: bool = True) -> bool: ...
    def ids(self) -> dict[str, str]: ...  # point id -> doc id
    def upsert(self, points: Sequence[Point]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def delete_source(self, source: str) -> int: ...  # a file's chunks, by payload filter
    def optimize(self) -> None: ...  # build HNSW above store.exact_below points
    def search(self, plan: Plan, with_payload: bool = True) -> list[Hit]: ...
    def sample_vectors(self, n: int) -> list[dict]: ...
    def count(self) -> int: ...
    def count_within(self, within: Within) -> int: ...  # points in range (or without the key)
    def close(self) -> None: ...


class Retriever(Protocol):  # conf/retriever -> rag/retriever.py
    mrl_dim: int | None
    uses_dense: bool
    uses_sparse: bool

    def plan(self, dense: np.ndarray | None, sparse: SparseVec | None, top_k: int) -> Plan: ...


class Reranker(Protocol):  # conf/reranker -> rag/reranker.py
    top_n: int

    def warm_up(self) -> None: ...
    def rerank(self, query: str, hits: list[Hit], top_k: int) -> list[Hit]: ...


class Answerer(Protocol):  # conf/answerer -> rag/answerer/
    def warm_up(self) -> None: ...
    def select(self, question: str, hits: list[Hit]) -> list[Hit]: ...  # numbered from [1]
    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]: ...
    def complete(self, question: str, passages: list[Hit]) -> str: ...
