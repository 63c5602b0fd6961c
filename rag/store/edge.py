"""The Qdrant engine embedded in-process (qdrant-edge): one shard directory per collection."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as qe

from rag.store import (
    DENSE,
    DENSE_MRL,
    SPARSE,
    Fuse,
    Hit,
    IndexBusyError,
    IndexMismatchError,
    IndexSpec,
    Plan,
    Point,
    Within,
    busy_message,
    check_quantization,
    search_plan,
    sort_hits,
    within_of,
)

MANIFEST = "rag_manifest.json"


class EdgeStore:
    def __init__(
        self,
        path: str,
        collection: str | None = None,
        exact_below: int = 20000,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = None,
        tie_margin: int = 10,
        quantization: str | None = None,
        rescore: bool = True,
        oversampling: float = 2.0,
    ) -> None:
        check_quantization(quantization)
        self.root = Path(path)
        self.quantization = quantization
        self.rescore = rescore
        self.oversampling = oversampling
        self.collection = collection
        self.exact_below = exact_below
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self.hnsw_ef = hnsw_ef
        self.tie_margin = tie_margin
        self._shard: qe.EdgeShard | None = None
        self._count: int | None = None  # None: changed since last counted
        self.where = str(self.root)  # the collection's directory once open

    def open(self, spec: IndexSpec, create: bool = True) -> bool:
        self._spec = spec
        self._dir = self.root / (self.collection or spec.name)
        self.where = str(self._dir)
        manifest = self._dir / MANIFEST
        if manifest.exists():
            spec.check_against(json.loads(manifest.read_text()), str(self._dir))
            self._shard = self._load()
        elif self._dir.exists() and any(self._dir.iterdir()):
            raise IndexMismatchError(
                f"{self._dir} exists but is not a rag index (no {MANIFEST}): move it away "
                f"or choose another store.path"
            )
        elif not create:
            return False
        else:
            self._create(spec)
            self._shard = self._load()
        self._count = None
        return True

    def _load(self) -> qe.EdgeShard:
        try:
            return qe.EdgeShard.load(str(self._dir))
        except Exception as exc:  # the engine reports its lock only in the message
            if "WouldBlock" in str(exc):
                raise IndexBusyError(busy_message(str(self._dir))) from exc
            raise

    def _create(self, spec: IndexSpec) -> None:
        """Build the empty shard and its manifest aside, then rename it into place: a run
        killed half-way leaves no collection directory that cannot be opened."""
        self.root.mkdir(parents=True, exist_ok=True)
        for old in self.root.glob(f".{self._dir.name}.creating-*"):
            if not _alive(int(old.name.rsplit("-", 1)[1])):
                shutil.rmtree(old, ignore_errors=True)
        tmp = self.root / f".{self._dir.name}.creating-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        quantized = _quantization_config(spec.quantization)
        vectors = {}
        if spec.dim:
            vectors[DENSE] = qe.EdgeVectorParams(size=spec.dim, distance=qe.Distance.Cosine,
                                                 quantization_config=quantized)
        if spec.dim and spec.mrl_dim:
            vectors[DENSE_MRL] = qe.EdgeVectorParams(size=spec.mrl_dim, distance=qe.Distance.Cosine,
                                                     quantization_config=quantized)
        sparse = None
        if spec.sparse_idf is not None:
            modifier = qe.Modifier.Idf if spec.sparse_idf else None
            sparse = {SPARSE: qe.EdgeSparseVectorParams(modifier=modifier)}
        config = qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors=sparse,
            hnsw_config=qe.HnswIndexConfig(m=self.hnsw_m, ef_construct=self.hnsw_ef_construct,
                                           full_scan_threshold=10000),  # KB, Qdrant default
        )
        try:
            tmp.mkdir()
            shard = qe.EdgeShard.create(str(tmp), config)
            shard.flush()
            shard.close()
            (tmp / MANIFEST).write_text(json.dumps(spec.manifest(), indent=2, ensure_ascii=False))
            os.rename(tmp, self._dir)
        except OSError:
            if not (self._dir / MANIFEST).exists():  # not a concurrent run that won the race
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def upsert(self, points: Sequence[Point]) -> None:
        self._shard.update(qe.UpdateOperation.upsert_points([self._point(p) for p in points]))
        self._count = None

    def _point(self, p: Point) -> qe.Point:
        vectors = p.named_vectors(self._spec.mrl_dim)
        if SPARSE in vectors:
            vectors[SPARSE] = qe.SparseVector(*map(list, vectors[SPARSE]))
        return qe.Point(p.id, vectors, p.payload)

    def ids(self) -> dict[str, str]:
        found: dict[str, str] = {}
        offset = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1000, with_payload=["doc_id"],
                                 with_vector=False))
            found.update((str(r.id), (r.payload or {}).get("doc_id", "")) for r in records)
            if offset is None:
                return found

    def delete(self, ids: Sequence[str]) -> None:
        self._shard.update(qe.UpdateOperation.delete_points(list(ids)))
        self._count = None

    def delete_source(self, source: str) -> int:
        """Remove a file's chunks (payload ``source`` or ``doc_id`` equal to it) by a payload
        filter, in the engine: no scan of every id through Python."""
        where = qe.Filter(should=[qe.FieldCondition(key=k, match=qe.MatchValue(source))
                                  for k in ("source", "doc_id")])
        n = self._shard.count(qe.CountRequest(exact=True, filter=where))
        if n:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(where))
            self._count = None
        return n

    def optimize(self) -> None:
        if self.count() >= self.exact_below:
            self._shard.optimize()

    def sample_vectors(self, n: int) -> list[dict]:
        records, _ = self._shard.scroll(qe.ScrollRequest(limit=n, with_payload=False,
                                                         with_vector=True))
        return [_plain(r.vector) for r in records]

    def count(self) -> int:
        # Counted on demand: recounting after every upsert batch cost an exact count per batch.
        if self._count is None:
            self._count = self._shard.count(qe.CountRequest(exact=True))
        return self._count

    def count_within(self, within: Within) -> int:
        return self._shard.count(qe.CountRequest(exact=True, filter=_filter(within)))

    def _params(self) -> qe.SearchParams:
        if self.quantization:  # exact search would read the float originals: scan quantized
            return qe.SearchParams(
                exact=False, hnsw_ef=self.hnsw_ef,
                quantization=qe.QuantizationSearchParams(rescore=self.rescore,
                                                         oversampling=self.oversampling))
        return qe.SearchParams(exact=self.count() < self.exact_below, hnsw_ef=self.hnsw_ef)

    def _query(self, node: Plan):
        if isinstance(node, Fuse):
            if node.method == "rrf":
                return qe.Fusion.Rrf(k=node.k, weights=node.weights)
            return qe.Fusion.Dbsf()
        vector = node.vector
        if isinstance(vector, tuple):
            vector = qe.SparseVector(list(vector[0]), list(vector[1]))
        return qe.Query.Nearest(vector, using=node.using)

    def _prefetch(self, node: Plan) -> qe.Prefetch:
        return qe.Prefetch(limit=node.limit, query=self._query(node),
                           prefetches=[self._prefetch(c) for c in node.prefetch] or None,
                           params=self._params(), filter=_filter(within_of(node)))

    def search(self, plan: Plan, with_payload: bool = True) -> list[Hit]:
        return search_plan(self._search, plan, with_payload, self._payloads)

    def _payloads(self, ids: list[str]) -> dict[str, dict]:
        return {str(r.id): r.payload or {} for r in self._shard.retrieve(ids, True, False)}

    def _search(self, plan: Plan, with_payload: bool) -> list[Hit]:
        request = qe.QueryRequest(
            limit=plan.limit + self.tie_margin, query=self._query(plan),
            prefetches=[self._prefetch(c) for c in plan.prefetch] or None,
            params=self._params(), with_payload=with_payload, with_vector=False,
            filter=_filter(within_of(plan)),
        )
        hits = [Hit(str(p.id), float(p.score), p.payload or {}) for p in self._shard.query(request)]
        return sort_hits(hits, plan.limit)

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None


def _filter(within: Within | None) -> qe.Filter | None:
    """A plan node's Within (None: no filter) as must-not below or above, so that a point
    without the key is kept."""
    if within is None:
        return None
    return qe.Filter(must_not=[
        qe.FieldCondition(key=within.key, range=qe.RangeFloat(lt=within.low)),
        qe.FieldCondition(key=within.key, range=qe.RangeFloat(gt=within.high))])


def _quantization_config(quantization: str | None):
    if quantization is None:
        return None
    if quantization == "int8":
        return qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99,
                                           always_ram=True)
    encoding = {"binary": qe.BinaryQuantizationEncoding.OneBit,
                "binary_1.5bit": qe.BinaryQuantizationEncoding.OneAndHalfBits,
                "binary_2bit": qe.BinaryQuantizationEncoding.TwoBits}[quantization]
    return qe.BinaryQuantizationConfig(always_ram=True, encoding=encoding)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _plain(vector: dict) -> dict:
    """Named vectors as lists, sparse ones as (indices, values)."""
    return {name: (list(v.indices), list(v.values)) if isinstance(v, qe.SparseVector) else v
            for name, v in vector.items()}
