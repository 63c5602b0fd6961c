"""The pipeline: stages built from config, and the two jobs that use them (index, search)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from rag.documents import Chunk, text_hash
from rag.embedding_cache import EmbeddingCache
from rag.readers import Skipped
from rag.store import Hit, IndexSpec, Point

log = logging.getLogger(__name__)


@dataclass
class IndexReport:
    collection: str
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks new to the store this run
    removed: int = 0  # chunks of changed or deleted files
    points: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    encoded: int = 0  # texts the model encoded (the rest came from the embedding cache)
    embed_seconds: float = 0.0  # time to get the new chunks' vectors, cache included


def _progress(iterable, enabled: bool, **kwargs):
    """A tqdm bar on stderr, or the bare iterable (None for a manual bar) when disabled."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **kwargs)


class Pipeline:
    def __init__(self, corpus, chunker, embedder, sparse, store, retriever,
                 cache_dir: str, batch_size: int = 256, progress: bool = True,
                 reranker=None, answerer=None) -> None:
        self.corpus = corpus
        self.chunker = chunker
        self.embedder = embedder
        self.sparse = sparse
        self.store = store
        self.retriever = retriever
        self.reranker = reranker
        self.answerer = answerer
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.progress = progress
        if retriever.uses_sparse and sparse is None:
            raise ValueError(f"retriever mode {retriever.mode!r} needs a sparse encoder: "
                             f"set sparse=bm25 (or splade), or retriever=dense")

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Pipeline:
        from hydra.utils import instantiate

        return cls(
            corpus=instantiate(cfg.corpus), chunker=instantiate(cfg.chunker),
            embedder=instantiate(cfg.embedder),
            sparse=instantiate(cfg.sparse) if cfg.get("sparse") else None,
            store=instantiate(cfg.store), retriever=instantiate(cfg.retriever),
            cache_dir=cfg.cache_dir, batch_size=cfg.index_batch_size,
            progress=cfg.progress,
            reranker=instantiate(cfg.reranker) if cfg.get("reranker") else None,
            answerer=instantiate(cfg.llm) if cfg.get("llm") else None,
        )

    def spec(self) -> IndexSpec:
        """What the index is built from; its hash names the collection."""
        dim = self.embedder.dim
        self.retriever.check_dim(dim)
        fingerprint = {
            "corpus": self.corpus.fingerprint,
            "chunker": self.chunker.fingerprint,
            "embedder": self.embedder.fingerprint,
            "sparse": self.sparse.fingerprint if self.sparse else None,
            "mrl_dim": self.retriever.mrl_dim,
        }
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        return IndexSpec(
            name=f"{self.corpus.name}-{digest[:10]}", dim=dim, mrl_dim=self.retriever.mrl_dim,
            sparse_idf=self.sparse.idf if self.sparse else None, fingerprint=fingerprint,
        )

    # ---- index -------------------------------------------------------------------------

    def index(self, prune: bool = True) -> IndexReport:
        start = time.perf_counter()
        documents, skipped = self.corpus.read()
        chunks = list({c.point_id: c for c in self.chunker.split(documents)}.values())
        spec = self.spec()
        self.store.open(spec)  # refuses a mismatched index before anything is written
        report = IndexReport(self.store.where, len(documents), len(chunks), skipped=skipped)

        stored = self.store.ids()
        todo = [c for c in chunks if c.point_id not in stored]
        if todo:
            t = time.perf_counter()
            vectors, report.encoded = self._embed([c.text for c in todo])
            report.embed_seconds = time.perf_counter() - t
            batches = range(0, len(todo), self.batch_size)
            for i in _progress(batches, self.progress, desc="upsert", unit="batch"):
                self.store.upsert(self._points(todo[i : i + self.batch_size],
                                               vectors[i : i + self.batch_size]))
        report.embedded = len(todo)
        if prune:  # after the upsert: a changed file is never absent from the index
            stale = sorted(stored - {c.point_id for c in chunks})
            if stale:
                self.store.delete(stale)
            report.removed = len(stale)
        self.store.optimize()  # builds the HNSW graph where the store searches by it
        report.points = self.store.count()
        report.seconds = time.perf_counter() - start
        return report

    def _points(self, chunks: list[Chunk], vectors: np.ndarray) -> list[Point]:
        sparse = (self.sparse.encode_documents([c.text for c in chunks])
                  if self.sparse else [None] * len(chunks))
        return [Point(c.point_id, v, s, c.payload())
                for c, v, s in zip(chunks, vectors, sparse, strict=True)]

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Full-dimension document vectors, from the cache where possible."""
        return self._embed(texts)[0]

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        cache = EmbeddingCache(self.cache_dir / "embeddings", self.embedder.fingerprint)
        try:
            found = cache.get(texts)
            missing = list({text_hash(t): t for t in texts if text_hash(t) not in found}.values())
            # Large calls let the model sort texts by length and pad less; the bar still moves.
            batch = max(self.embedder.batch_size, 1) * 16
            bar = _progress(None, self.progress and bool(missing), desc="embed", unit="chunk",
                            total=len(missing))
            for i in range(0, len(missing), batch):
                part = missing[i : i + batch]
                vecs = self.embedder.encode_documents(part)
                cache.put(part, vecs)
                found.update(zip((text_hash(t) for t in part), vecs, strict=True))
                if bar is not None:
                    bar.update(len(part))
            if bar is not None:
                bar.close()
            log.info("embedded %d texts, %d from cache", len(missing), len(texts) - len(missing))
            return np.stack([found[text_hash(t)] for t in texts]), len(missing)
        finally:
            cache.close()

    # ---- search ------------------------------------------------------------------------

    def open_index(self, build_if_missing: bool = False) -> None:
        spec = self.spec()
        if self.store.open(spec, create=False):
            return
        if not build_if_missing:
            raise FileNotFoundError(
                f"no index for this configuration ({spec.name}): run `make index` (or "
                f"`python -m rag.index` with the same overrides) first"
            )
        log.info("no index for this configuration yet: building %s", spec.name)
        self.index()

    def search(self, question: str, top_k: int, timings: dict | None = None) -> list[Hit]:
        timings = {} if timings is None else timings
        t0 = time.perf_counter()
        dense = self.embedder.encode_queries([question])[0] if self.retriever.uses_dense else None
        t1 = time.perf_counter()
        sparse = self.sparse.encode_queries([question])[0] if self.retriever.uses_sparse else None
        t2 = time.perf_counter()
        limit = max(top_k, self.reranker.top_n) if self.reranker else top_k
        hits = self.store.search(self.retriever.plan(dense, sparse, limit))
        t3 = time.perf_counter()
        timings.update(embed_query_ms=(t1 - t0) * 1e3, sparse_query_ms=(t2 - t1) * 1e3,
                       search_ms=(t3 - t2) * 1e3)
        if self.reranker:
            hits = self.reranker.rerank(question, hits, top_k)
            timings["rerank_ms"] = (time.perf_counter() - t3) * 1e3
        return hits

    def close(self) -> None:
        self.store.close()
