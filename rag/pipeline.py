"""The pipeline: stages built from config (cheaply), warmed once, and the jobs that use them.

    index()   corpus -> chunks -> vectors -> store, streaming and resumable
    search()  a question -> passages (retrieval and rerank only)
    ask()     a question -> passages -> answer with citations, timed per stage: the one path
              every caller takes (rag.query, rag.eval, a server)
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from rag.answerer import Answer, is_decline
from rag.answerer.citations import cite
from rag.documents import Chunk, text_hash
from rag.embedder.cache import EmbeddingCache
from rag.errors import ConfigError, InputNotFoundError
from rag.indexing import IndexReport, LocalRunner, Runner, progress_bar, sync
from rag.stages import (
    Answerer,
    Chunker,
    Corpus,
    Embedder,
    Reranker,
    Retriever,
    SparseEncoder,
    Store,
)
from rag.store import Hit, IndexBusyError, IndexSpec, Point, Within
from rag.text import latin_share

log = logging.getLogger(__name__)


@dataclass
class Response:
    """What ``Pipeline.ask`` returns: the passages retrieved, the answer (None without an
    answer stage) and the time each stage took, in milliseconds."""

    question: str
    passages: list[Hit]
    answer: Answer | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON shape of ``rag.query --json``."""
        answer = self.answer
        return {
            "question": self.question,
            "answer": answer.text if answer else None,
            "citations": [{"n": n, "id": h.id, "source": h.payload.get("source"),
                           "page": h.payload.get("page"), "anchor": h.payload.get("anchor"),
                           "doc_id": h.payload.get("doc_id")}
                          for n, h in answer.cited()] if answer else [],
            "citations_attributed": bool(answer and answer.attributed),
            "declined": bool(answer and answer.declined),
            "fallback": answer.fallback if answer else "",
            "passages": [h.to_dict() for h in self.passages],
            "timings_ms": self.timings_ms,
        }


class Pipeline:
    def __init__(self, corpus: Corpus, chunker: Chunker, embedder: Embedder,
                 sparse: SparseEncoder | None, store: Store, retriever: Retriever,
                 cache_dir: str, batch_size: int = 256, progress: bool = True,
                 reranker: Reranker | None = None, answerer: Answerer | None = None,
                 lock_timeout: float = 0, runner: Runner | None = None) -> None:
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
        self.lock_timeout = lock_timeout
        self.runner = runner or LocalRunner()  # where reading and document embedding run
        self._warm = False
        self._script_shares: dict[tuple, float] = {}  # the script gate's counts
        self._open_name: str | None = None  # the collection this pipeline holds open
        if answerer is not None and hasattr(answerer, "use"):
            # an answerer that reads with the pipeline's models gets them, not copies
            answerer.use(embedder=embedder, reranker=reranker)
        self.block_size = self.runner.block_size(embedder)  # texts embedded per call
        if retriever.uses_sparse and sparse is None:
            raise ConfigError(f"retriever mode {retriever.mode!r} needs a sparse encoder: "
                             f"set sparse=bm25 (or splade), or retriever=dense")

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Pipeline:
        from hydra.utils import instantiate

        return cls(
            corpus=instantiate(cfg.corpus), chunker=instantiate(cfg.chunker),
            embedder=instantiate(cfg.embedder),
            sparse=instantiate(cfg.sparse) if cfg.get("sparse") else None,
            store=instantiate(cfg.store), retriever=instantiate(cfg.retriever),
            cache_dir=cfg.paths.cache, batch_size=cfg.index_batch_size,
            progress=cfg.progress, lock_timeout=cfg.get("lock_timeout", 0),
            reranker=instantiate(cfg.reranker) if cfg.get("reranker") else None,
            answerer=instantiate(cfg.answerer) if cfg.get("answerer") else None,
            runner=instantiate(cfg.runner),
        )

    @property
    def encoder(self):
        """What embeds documents for the index: the embedder here, or the runner's pool."""
        return self.runner.encoder(self.embedder)

    @property
    def stages(self) -> list:
        return [s for s in (self.corpus, self.chunker, self.embedder, self.sparse, self.store,
                            self.retriever, self.reranker, self.answerer) if s is not None]

    @property
    def dense(self) -> bool:
        """Whether the index holds dense vectors: a plan that reads none (sparse only) is
        served by a sparse-only index, and no document or query is embedded for it."""
        return self.retriever.uses_dense

    def warm_up(self) -> None:
        """Load every stage's models now (idempotent): a server or a sweep pays the start-up
        once, before the first request; stages without a model have no warm_up."""
        if self._warm:
            return
        for stage in self.stages:
            if stage is self.embedder and not self.dense and self.answerer is None:
                continue  # loaded on first use, if ever
            if hasattr(stage, "warm_up"):
                stage.warm_up()
        self._warm = True

    def spec(self) -> IndexSpec:
        """What the index is built from; its hash names the collection."""
        dim = mrl_dim = None
        if self.dense:
            dim, mrl_dim = self.embedder.dim, self.retriever.mrl_dim
            self.retriever.check_dim(dim)
        fingerprint = {
            "corpus": self.corpus.fingerprint,
            "chunker": self.chunker.fingerprint,
            "embedder": self.embedder.fingerprint if self.dense else None,
            "sparse": self.sparse.fingerprint if self.sparse else None,
            "mrl_dim": mrl_dim,
            # 2: chunks carry latin_share (the script gate); older indexes rebuild once
            "payload": 2,
        }
        quantization = getattr(self.store, "quantization", None) if self.dense else None
        if quantization:  # float indexes keep the names they had before quantization existed
            fingerprint["quantization"] = quantization
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        return IndexSpec(
            name=f"{self.corpus.name}-{digest[:10]}", dim=dim, mrl_dim=mrl_dim,
            sparse_idf=self.sparse.idf if self.sparse else None, fingerprint=fingerprint,
            quantization=quantization,
        )

    # ---- index -------------------------------------------------------------------------

    def index(self, prune: bool = True, only: Collection[str] | None = None) -> IndexReport:
        """Bring the index up to date with the corpus (rag.indexing.sync: streaming,
        resumable, prunes what changed or is gone; ``only`` indexes just those sources)."""
        return sync(self, prune, only)

    def open_for_writing(self) -> None:
        """Open (or create) the index for this configuration: a mismatched existing index is
        refused here, before anything is written."""
        self._open(self.spec())

    def _open(self, spec: IndexSpec, create: bool = True) -> bool:
        """Open the store, waiting up to ``lock_timeout`` seconds while another process has it."""
        if self._open_name == spec.name:
            return True  # already held (a server indexing an upload)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                opened = self.store.open(spec, create=create)
                self._open_name = spec.name if opened else None
                return opened
            except IndexBusyError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    def points(self, chunks: list[Chunk], vectors: np.ndarray | list[None]) -> list[Point]:
        """Store points for chunks: their vectors (None in a sparse-only index) and terms."""
        sparse = (self.sparse.encode_documents([c.indexed_text for c in chunks])
                  if self.sparse else [None] * len(chunks))
        return [Point(c.point_id, v, s, c.payload())
                for c, v, s in zip(chunks, vectors, sparse, strict=True)]

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Full-dimension document vectors, from the cache where possible."""
        return self.embed(texts)[0]

    def embed(self, texts: list[str], progress: bool = True) -> tuple[np.ndarray, int]:
        """Document vectors (from the cache where possible) and how many the model encoded."""
        cache = EmbeddingCache(self.cache_dir / "embeddings", self.embedder.fingerprint)
        try:
            found = cache.get(texts)
            missing = list({text_hash(t): t for t in texts if text_hash(t) not in found}.values())
            batch = self.block_size
            bar = progress_bar(None, progress and self.progress and bool(missing), desc="embed",
                            unit="chunk",
                            total=len(missing))
            for i in range(0, len(missing), batch):
                part = missing[i : i + batch]
                vecs = self.encoder.encode_documents(part)
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
        self.warm_up()
        spec = self.spec()
        if self._open(spec, create=False):
            return
        if not build_if_missing:
            raise InputNotFoundError(
                f"no index for this configuration ({spec.name}): run `make index` (or "
                f"`python -m rag.index` with the same overrides) first"
            )
        log.info("no index for this configuration yet: building %s", spec.name)
        self.index()

    def search(self, question: str, top_k: int, timings: dict | None = None) -> list[Hit]:
        hits, took = self.search_many([question], top_k)[0]
        if timings is not None:
            timings.update(took)
        return hits

    def search_many(self, questions: Sequence[str],
                    top_k: int | Sequence[int]) -> list[tuple[list[Hit], dict[str, float]]]:
        """Search several questions with one call of each query encoder (one forward pass
        for a float model; an int8 ONNX model runs them one by one, rag/onnx_model.py): how a
        server keeps pace with concurrent clients (rag/server/batch.py). Returns (hits,
        timings) per question; the encoders' times are the batch's."""
        ks = [top_k] * len(questions) if isinstance(top_k, int) else list(top_k)
        t0 = time.perf_counter()
        dense = (self.embedder.encode_queries(list(questions)) if self.retriever.uses_dense
                 else [None] * len(questions))
        t1 = time.perf_counter()
        sparse = (self.sparse.encode_queries(list(questions)) if self.retriever.uses_sparse
                  else [None] * len(questions))
        t2 = time.perf_counter()
        results = []
        for question, k, d, s in zip(questions, ks, dense, sparse, strict=True):
            t = time.perf_counter()
            limit = max(k, self.reranker.top_n) if self.reranker else k
            within = self.retriever.script_filter(latin_share(question))
            if within is not None and self._script_share(within) < \
                    self.retriever.sparse_script_min:
                s = None  # too few chunks in the question's script: the dense leg alone
            hits = self.store.search(self.retriever.plan(d, s, limit, within))
            t3 = time.perf_counter()
            timings = {"embed_query_ms": (t1 - t0) * 1e3, "sparse_query_ms": (t2 - t1) * 1e3,
                       "search_ms": (t3 - t) * 1e3}
            if self.reranker:
                hits = self.reranker.rerank(question, hits, k)
                timings["rerank_ms"] = (time.perf_counter() - t3) * 1e3
            results.append((hits, timings))
        return results

    def _script_share(self, within: Within) -> float:
        """Share of the index's chunks the script gate lets the sparse leg score; counted
        once per range while the index keeps its size (questions share a few ranges)."""
        total = self.store.count()
        key = (round(within.low, 3), round(within.high, 3), total)
        if key not in self._script_shares:
            self._script_shares[key] = self.store.count_within(within) / total if total else 0.0
        return self._script_shares[key]

    def ask(self, question: str, top_k: int, stream: Callable[[str], None] | None = None,
            on_passages: Callable[[list[Hit]], None] | None = None) -> Response:
        """Retrieve, rerank and answer one question: the one path from a question to an answer.

        ``on_passages`` sees the passages as soon as they are found (to show them while the
        answer is written); ``stream`` receives the answer's text as it is written (the
        answerer's streaming call); without it the answerer makes one blocking call. Without
        an answer stage the response carries the passages only.
        """
        start = time.perf_counter()
        timings: dict[str, float] = {}
        hits = self.search(question, top_k, timings)
        if on_passages is not None:
            on_passages(hits)
        answer = None
        if self.answerer is not None:
            t = time.perf_counter()
            answer = self._answer(question, hits, stream, timings, start)
            timings["answer_ms"] = (time.perf_counter() - t) * 1e3
        timings["total_ms"] = (time.perf_counter() - start) * 1e3
        return Response(question, hits, answer, timings)

    def _answer(self, question: str, hits: list[Hit], stream: Callable[[str], None] | None,
                timings: dict[str, float], start: float) -> Answer:
        passages = self.answerer.select(question, hits)
        if stream is None:
            text = self.answerer.complete(question, passages)
        else:
            parts = []
            for delta in self.answerer.stream(question, passages):
                if not parts:
                    # from the question, as a user waits: retrieval included
                    timings["first_token_ms"] = (time.perf_counter() - start) * 1e3
                parts.append(delta)
                stream(delta)
            text = "".join(parts)
        citations, attributed = cite(text, passages)
        declined = not citations and is_decline(text)
        return Answer(text.strip(), passages, citations, attributed, declined,
                      getattr(self.answerer, "last_check", ""))

    def delete_document(self, doc: str) -> int:
        """Remove every chunk of a document (a doc id, or a file: all of a PDF's pages);
        returns how many were removed."""
        return self.store.delete_source(doc)

    def close(self) -> None:
        """Release what the stages hold (the store's lock, HTTP clients, cache handles)."""
        self._open_name = None
        for stage in [*self.stages, self.runner]:
            if hasattr(stage, "close"):
                stage.close()
