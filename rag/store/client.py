"""qdrant-client backend: a Qdrant server or cluster by URL (the scale-out path), or
qdrant-client's own local mode (``:memory:`` for tests, a path for small experiments)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from rag.errors import ConfigError
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


class QdrantClientStore:
    def __init__(
        self,
        url: str | None = None,
        location: str | None = None,
        path: str | None = None,
        api_key: str | None = None,
        collection: str | None = None,
        exact_below: int = 20000,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = None,
        tie_margin: int = 10,
        timeout: int = 60,
        quantization: str | None = None,
        rescore: bool = True,
        oversampling: float = 2.0,
        shard_number: int | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        on_disk: bool = False,
        on_disk_payload: bool | None = None,
    ) -> None:
        check_quantization(quantization)
        if quantization and url is None:
            raise ConfigError("store.quantization needs a Qdrant server (store.url=...) or "
                             "store=edge: qdrant-client's local mode does not quantize")
        self.quantization, self.rescore, self.oversampling = quantization, rescore, oversampling
        if sum(x is not None for x in (url, location, path)) != 1:
            raise ConfigError(
                "set exactly one of store.url, store.location (':memory:'), store.path")
        self.url, self.location, self.path = url, location, path
        self.api_key = api_key or os.environ.get("QDRANT_API_KEY")
        self.collection = collection
        self.exact_below = exact_below
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self.hnsw_ef = hnsw_ef
        self.tie_margin = tie_margin
        self.timeout = timeout
        # a cluster's layout, used when the collection is created (null: the server's default)
        self.cluster = {"shard_number": shard_number, "replication_factor": replication_factor,
                        "write_consistency_factor": write_consistency_factor,
                        "on_disk_payload": on_disk_payload}
        self.on_disk = on_disk
        self._client = None
        self._count: int | None = None  # None: changed since last counted
        self.where = self.location_name  # with the collection's name once open

    @property
    def location_name(self) -> str:
        return self.url or self.path or self.location

    def _connect(self):
        if self._client is None:
            from qdrant_client import QdrantClient

            try:
                self._client = QdrantClient(url=self.url, location=self.location,
                                            path=self.path, api_key=self.api_key,
                                            timeout=self.timeout)
            except RuntimeError as exc:
                if "already accessed by another instance" in str(exc):
                    raise IndexBusyError(busy_message(str(self.path))) from exc
                raise
        return self._client

    def open(self, spec: IndexSpec, create: bool = True) -> bool:
        from qdrant_client import models

        client = self._connect()
        self._spec = spec
        self._name = self.collection or spec.name
        where = self.where = f"{self._name} at {self.location_name}"
        if client.collection_exists(self._name):
            metadata = client.get_collection(self._name).config.metadata or {}
            if "rag" not in metadata:
                raise IndexMismatchError(f"collection {where} was not made by rag: choose another "
                                   f"store.collection")
            spec.check_against(metadata["rag"], where)
        elif not create:
            return False
        else:
            quantized = _quantization_config(spec.quantization)
            vectors = {}
            if spec.dim:
                vectors[DENSE] = models.VectorParams(size=spec.dim,
                                                     distance=models.Distance.COSINE,
                                                     quantization_config=quantized,
                                                     on_disk=self.on_disk)
            if spec.dim and spec.mrl_dim:
                vectors[DENSE_MRL] = models.VectorParams(size=spec.mrl_dim,
                                                         distance=models.Distance.COSINE,
                                                         quantization_config=quantized,
                                                         on_disk=self.on_disk)
            sparse = None
            if spec.sparse_idf is not None:
                sparse = {SPARSE: models.SparseVectorParams(
                    modifier=models.Modifier.IDF if spec.sparse_idf else None)}
            client.create_collection(
                self._name, vectors_config=vectors, sparse_vectors_config=sparse,
                hnsw_config=models.HnswConfigDiff(m=self.hnsw_m,
                                                  ef_construct=self.hnsw_ef_construct),
                metadata={"rag": spec.manifest()},
                **{k: v for k, v in self.cluster.items() if v is not None},
            )
        self._count = None
        return True

    def upsert(self, points: Sequence[Point]) -> None:
        from qdrant_client import models

        structs = []
        for p in points:
            vectors = p.named_vectors(self._spec.mrl_dim)
            if SPARSE in vectors:
                indices, values = vectors[SPARSE]
                vectors[SPARSE] = models.SparseVector(indices=list(indices), values=list(values))
            structs.append(models.PointStruct(id=p.id, vector=vectors, payload=p.payload))
        self._client.upsert(self._name, points=structs, wait=True)
        self._count = None

    def ids(self) -> dict[str, str]:
        found: dict[str, str] = {}
        offset = None
        while True:
            records, offset = self._client.scroll(self._name, offset=offset, limit=1000,
                                                  with_payload=["doc_id"], with_vectors=False)
            found.update((str(r.id), (r.payload or {}).get("doc_id", "")) for r in records)
            if offset is None:
                return found

    def delete(self, ids: Sequence[str]) -> None:
        from qdrant_client import models

        self._client.delete(self._name, points_selector=models.PointIdsList(points=list(ids)))
        self._count = None

    def delete_source(self, source: str) -> int:
        """Remove a file's chunks (payload ``source`` or ``doc_id`` equal to it) by a payload
        filter: the server finds them, no scan of every id."""
        from qdrant_client import models

        where = models.Filter(should=[
            models.FieldCondition(key=k, match=models.MatchValue(value=source))
            for k in ("source", "doc_id")])
        n = self._client.count(self._name, count_filter=where, exact=True).count
        if n:
            self._client.delete(self._name, points_selector=models.FilterSelector(filter=where),
                                wait=True)
            self._count = None
        return n

    def optimize(self) -> None:
        pass  # a server optimises by itself; local mode is brute force

    def sample_vectors(self, n: int) -> list[dict]:
        records, _ = self._client.scroll(self._name, limit=n, with_payload=False,
                                         with_vectors=True)
        return [{name: (list(v.indices), list(v.values)) if hasattr(v, "indices") else v
                 for name, v in r.vector.items()} for r in records]

    def count(self) -> int:
        if self._count is None:
            self._count = self._client.count(self._name, exact=True).count
        return self._count

    def count_within(self, within: Within) -> int:
        return self._client.count(self._name, count_filter=_filter(within), exact=True).count

    def _params(self):
        from qdrant_client import models

        if self.url is None:  # local mode is always exact and warns about search params
            return None
        if self.quantization:
            return models.SearchParams(
                exact=False, hnsw_ef=self.hnsw_ef,
                quantization=models.QuantizationSearchParams(rescore=self.rescore,
                                                             oversampling=self.oversampling))
        return models.SearchParams(exact=self.count() < self.exact_below, hnsw_ef=self.hnsw_ef)

    def _query(self, node: Plan):
        from qdrant_client import models

        if isinstance(node, Fuse):
            if node.method == "rrf":
                return models.RrfQuery(rrf=models.Rrf(k=node.k, weights=node.weights))
            return models.FusionQuery(fusion=models.Fusion.DBSF)
        if isinstance(node.vector, tuple):
            return models.SparseVector(indices=list(node.vector[0]), values=list(node.vector[1]))
        return list(node.vector)

    def _prefetch(self, node: Plan):
        from qdrant_client import models

        return models.Prefetch(
            query=self._query(node), using=getattr(node, "using", None), limit=node.limit,
            prefetch=[self._prefetch(c) for c in node.prefetch] or None, params=self._params(),
            filter=_filter(within_of(node)),
        )

    def search(self, plan: Plan, with_payload: bool = True) -> list[Hit]:
        return search_plan(self._search, plan, with_payload, self._payloads)

    def _payloads(self, ids: list[str]) -> dict[str, dict]:
        return {str(r.id): r.payload or {} for r in self._client.retrieve(
            self._name, ids, with_payload=True, with_vectors=False)}

    def _search(self, plan: Plan, with_payload: bool) -> list[Hit]:
        response = self._client.query_points(
            self._name, query=self._query(plan), using=getattr(plan, "using", None),
            prefetch=[self._prefetch(c) for c in plan.prefetch] or None,
            limit=plan.limit + self.tie_margin, search_params=self._params(),
            with_payload=with_payload, with_vectors=False, query_filter=_filter(within_of(plan)),
        )
        hits = [Hit(str(p.id), float(p.score), p.payload or {}) for p in response.points]
        return sort_hits(hits, plan.limit)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _filter(within: Within | None):
    """A plan node's Within (None: no filter) as must-not below or above, so that a point
    without the key is kept."""
    from qdrant_client import models

    if within is None:
        return None
    return models.Filter(must_not=[
        models.FieldCondition(key=within.key, range=models.Range(lt=within.low)),
        models.FieldCondition(key=within.key, range=models.Range(gt=within.high))])


def _quantization_config(quantization: str | None):
    """Qdrant's quantization of a dense vector (applied by a server; local mode ignores it)."""
    from qdrant_client import models

    if quantization is None:
        return None
    if quantization == "int8":
        return models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
            type=models.ScalarType.INT8, quantile=0.99, always_ram=True))
    encoding = {"binary": models.BinaryQuantizationEncoding.ONE_BIT,
                "binary_1.5bit": models.BinaryQuantizationEncoding.ONE_AND_HALF_BITS,
                "binary_2bit": models.BinaryQuantizationEncoding.TWO_BITS}[quantization]
    return models.BinaryQuantization(binary=models.BinaryQuantizationConfig(
        always_ram=True, encoding=encoding))
