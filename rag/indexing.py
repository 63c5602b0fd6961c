"""Indexing: bring a store up to date with a corpus, streaming and resumable.

    sync()       the loop: read -> chunk -> embed (cached) -> upsert, then prune what is gone
    read_source  the unit of reading work, in this process or a Ray task
    Runner       where reading and document embedding run (conf/runner): LocalRunner here,
                 rag.ray_runner.RayRunner on a Ray cluster
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.corpus import Skipped, UnreadableError
from rag.documents import Chunk
from rag.stages import Chunker, Corpus, Embedder

if TYPE_CHECKING:
    from rag.pipeline import Pipeline


@dataclass
class IndexReport:
    collection: str
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks new to the store this run
    removed: int = 0  # chunks of changed or deleted files
    kept: int = 0  # chunks of files skipped this run, kept from an earlier run
    files: int = 0  # files with at least one document (a PDF is one file, many documents)
    points: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    encoded: int = 0  # texts the model encoded (the rest came from the embedding cache)
    embed_seconds: float = 0.0  # time to get the new chunks' vectors, cache included


@dataclass
class SourceRead:
    """One source's documents, chunked, and what of it was skipped."""

    documents: int = 0
    chunks: list[Chunk] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def read_source(corpus: Corpus, chunker: Chunker, source: str) -> SourceRead:
    """Read and chunk one source: the unit of reading work, in this process or a Ray task."""
    got = SourceRead()
    try:
        for item in corpus.load(source):
            if isinstance(item, Skipped):  # one page of a PDF
                got.skipped.append(item)
                continue
            got.documents += 1
            got.chunks.extend(chunker.split([item]))
    except UnreadableError as exc:
        return SourceRead(skipped=[*got.skipped, Skipped(source, str(exc))])
    return got


def source_of(doc_id: str) -> str:
    """The file a document id belongs to (a PDF page's id names its page)."""
    return doc_id.split("#page=", 1)[0]


class DocumentEncoder(Protocol):
    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


class Runner(Protocol):  # conf/runner
    def block_size(self, embedder: Embedder) -> int: ...  # chunks embedded per round trip
    def encoder(self, embedder: Embedder) -> DocumentEncoder: ...  # what embeds documents
    def read(self, corpus: Corpus, chunker: Chunker,
             sources: Sequence[str]) -> Iterator[tuple[str, SourceRead]]: ...
    def close(self) -> None: ...


class LocalRunner:
    """Read, chunk and embed in this process (the default)."""

    def block_size(self, embedder: Embedder) -> int:
        # large calls let the model sort by length and pad less
        return max(getattr(embedder, "batch_size", 32), 1) * 16

    def encoder(self, embedder: Embedder) -> DocumentEncoder:
        return embedder

    def read(self, corpus: Corpus, chunker: Chunker,
             sources: Sequence[str]) -> Iterator[tuple[str, SourceRead]]:
        return ((s, read_source(corpus, chunker, s)) for s in sources)

    def close(self) -> None:
        pass


def sync(pipeline: Pipeline, prune: bool = True,
         only: Collection[str] | None = None) -> IndexReport:
    """Bring the pipeline's index up to date with its corpus, streaming: files are read,
    chunked, embedded and written a block at a time, so memory does not grow with the corpus
    and a run killed at any point loses at most one block (whose vectors are already cached).

    Point ids are hashes of the doc id and chunk text inside a collection named by the
    chunker, embedder and sparse settings, so re-running writes nothing twice. Chunks of a file
    that could not be read this time are kept, never pruned. ``only`` (sources, i.e. paths
    relative to the corpus folder) indexes just those files and prunes only their own old
    chunks: what a server does with an upload (a changed file replaces its chunks).
    """
    p = pipeline
    start = time.perf_counter()
    sources, skipped = p.corpus.sources()  # a missing folder fails before any write
    if only is not None:
        sources = [s for s in sources if s in only]
        skipped = [s for s in skipped if s.path in only]
    p.warm_up()  # a service embedder learns its dimension here
    p.open_for_writing()  # refuses a mismatched index before anything is written
    report = IndexReport(p.store.where, skipped=skipped)
    stored = p.store.ids()
    current: set[str] = set()
    block: list[Chunk] = []
    reads = p.runner.read(p.corpus, p.chunker, sources)
    bar = progress_bar(reads, p.progress, desc="index", unit="file", total=len(sources))
    for _, got in bar:
        report.skipped.extend(got.skipped)
        report.documents += got.documents
        report.files += got.documents > 0
        for chunk in got.chunks:
            if chunk.point_id not in current:
                current.add(chunk.point_id)
                if chunk.point_id not in stored:
                    block.append(chunk)
        if len(block) >= p.block_size:
            _write(p, block, report)
            block = []
            if p.progress:
                bar.set_postfix(new_chunks=report.embedded, refresh=False)
    if block:
        _write(p, block, report)
    report.chunks = len(current)
    report.skipped.sort(key=lambda s: s.path)
    if prune:  # after the writes: a changed file is never absent from the index
        unread = {s.path for s in report.skipped}
        kept = {i for i, doc_id in stored.items()
                if i not in current and (doc_id in unread or source_of(doc_id) in unread)}
        stale = {i for i in set(stored) - current - kept
                 if only is None or source_of(stored[i]) in only}
        stale = sorted(stale)
        if stale:
            p.store.delete(stale)
        report.removed, report.kept = len(stale), len(kept)
    p.store.optimize()  # builds the HNSW graph where the store searches by it
    report.points = p.store.count()
    report.seconds = time.perf_counter() - start
    return report


def _write(p: Pipeline, chunks: list[Chunk], report: IndexReport) -> None:
    t = time.perf_counter()
    vectors, encoded = [None] * len(chunks), 0
    if p.dense:
        vectors, encoded = p.embed([c.indexed_text for c in chunks], progress=False)
    report.embed_seconds += time.perf_counter() - t
    report.encoded += encoded
    for i in range(0, len(chunks), p.batch_size):
        p.store.upsert(p.points(chunks[i : i + p.batch_size], vectors[i : i + p.batch_size]))
    report.embedded += len(chunks)


def progress_bar(iterable, enabled: bool, **kwargs):
    """A tqdm bar on stderr, or the bare iterable (None for a manual bar) when disabled."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **kwargs)
