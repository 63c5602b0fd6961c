"""Both Qdrant backends against a brute-force numpy computation of the same query plan."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest

from rag.retriever import configured
from rag.store import DENSE, IndexMismatchError, IndexSpec, Nearest, Point, mrl_cut, tie_key
from rag.store.client import QdrantClientStore
from rag.store.edge import EdgeStore

N, DIM, MRL, VOCAB = 400, 32, 8, 60


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    dense = rng.normal(size=(N, DIM)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    sparse = []
    for _ in range(N):
        terms = sorted(rng.choice(VOCAB, size=rng.integers(1, 8), replace=False).tolist())
        sparse.append((terms, rng.uniform(0.1, 2.0, size=len(terms)).round(6).tolist()))
    ids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(N)]
    points = [Point(ids[i], dense[i], sparse[i], {"n": i}) for i in range(N)]
    query = rng.normal(size=DIM).astype(np.float32)
    query /= np.linalg.norm(query)
    return {"dense": dense, "sparse": sparse, "ids": ids, "points": points, "query": query,
            "sparse_query": ([3, 10, 17, 42], [1.0, 1.0, 1.0, 1.0])}


SPEC = IndexSpec("fixture", DIM, MRL, sparse_idf=True, fingerprint={"embedder": "fixture"})


def _edge(tmp_path):
    return EdgeStore(str(tmp_path / "edge"))


def _memory(tmp_path):
    return QdrantClientStore(location=":memory:")


BACKENDS = {"edge": _edge, "memory": _memory}


@pytest.fixture(params=sorted(BACKENDS))
def store(request, tmp_path, data):
    s = BACKENDS[request.param](tmp_path)
    s.open(SPEC)
    s.upsert(data["points"])
    yield s
    s.close()


# ---- reference implementations ---------------------------------------------------------


def ref_dense_funnel(data, mrl_limit, k):
    q = data["query"]
    first = mrl_cut(data["dense"], MRL) @ mrl_cut(q, MRL)
    cands = np.argsort(-first, kind="stable")[:mrl_limit]
    full = data["dense"][cands] @ q
    return _ranked({data["ids"][c]: float(s) for c, s in zip(cands, full, strict=True)}, k)


def ref_sparse_idf(data, k):
    """Qdrant's IDF modifier: idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5))."""
    df = {}
    for terms, _ in data["sparse"]:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    qt, qv = data["sparse_query"]
    scores = {}
    for i, (terms, vals) in enumerate(data["sparse"]):
        d = dict(zip(terms, vals, strict=True))
        s = sum(w * d[t] * math.log(1 + (N - df[t] + 0.5) / (df[t] + 0.5))
                for t, w in zip(qt, qv, strict=True) if t in d)
        if s > 0:
            scores[data["ids"][i]] = s
    return _ranked(scores, k)


def ref_rrf(lists, k_rrf, weights=None):
    """Qdrant's weighted RRF: 1 / ((rank0 + 1) / w + k - 1), summed over sources."""
    weights = weights or [1.0] * len(lists)
    scores: dict[str, float] = {}
    for ranked, w in zip(lists, weights, strict=True):
        for pos, (pid, _) in enumerate(ranked):
            scores[pid] = scores.get(pid, 0.0) + 1 / ((pos + 1) / w + k_rrf - 1)
    return scores


def ref_relative(lists, alpha):
    """Relative score fusion written out: min-max scale each list, alpha * dense +
    (1 - alpha) * sparse, a list that misses a point gives it 0."""
    scores: dict[str, float] = {}
    for ranked, w in zip(lists, (alpha, 1 - alpha), strict=True):
        values = np.array([s for _, s in ranked])
        scaled = (values - values.min()) / (values.max() - values.min())
        for (pid, _), v in zip(ranked, scaled, strict=True):
            scores[pid] = scores.get(pid, 0.0) + w * float(v)
    return scores


def _ranked(scores: dict[str, float], k: int) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: tie_key(kv[1], kv[0]))[:k]


def _ids(hits):
    return [h.id for h in hits]


# ---- tests -------------------------------------------------------------------------------


def test_mrl_funnel_equals_brute_force(store, data):
    retriever = configured(mode="dense", mrl_dim=MRL, mrl_limit=40)
    hits = store.search(retriever.plan(data["query"], None, 10))
    expected = ref_dense_funnel(data, 40, 10)
    assert _ids(hits) == [pid for pid, _ in expected]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], rtol=1e-5)


def test_funnel_with_a_narrow_first_pass_differs_from_full_search(store, data):
    # Guards the test above: a funnel that silently searched the full vector would pass it.
    narrow = store.search(configured(mode="dense", mrl_dim=MRL, mrl_limit=10)
                          .plan(data["query"], None, 10))
    full = ref_dense_funnel(data, N, 10)
    assert _ids(narrow) == [p for p, _ in ref_dense_funnel(data, 10, 10)]
    assert _ids(narrow) != [p for p, _ in full]


def test_mrl_without_rescoring_ranks_by_the_short_vector_alone(store, data):
    retriever = configured(mode="dense", mrl_dim=MRL, rescore=False)
    hits = store.search(retriever.plan(data["query"], None, 10))
    short = mrl_cut(data["dense"], MRL) @ mrl_cut(data["query"], MRL)
    expected = _ranked({data["ids"][i]: float(s) for i, s in enumerate(short)}, 10)
    assert _ids(hits) == [pid for pid, _ in expected]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], rtol=1e-5)
    assert _ids(hits) != _ids(store.search(configured(mode="dense", mrl_dim=MRL)
                                           .plan(data["query"], None, 10)))
    assert retriever.searched_vectors == {"dense_mrl"}


def test_sparse_idf_equals_reference(store, data):
    hits = store.search(configured(mode="sparse").plan(None, data["sparse_query"], 15))
    expected = ref_sparse_idf(data, 15)
    assert _ids(hits) == [pid for pid, _ in expected]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], rtol=1e-4)


@pytest.mark.parametrize(("k", "weights"), [(60, None), (2, None), (60, (1.0, 3.0)),
                                            (10, (2.0, 0.5))])
def test_rrf_fusion_equals_reference(store, data, k, weights):
    dw, sw = weights or (1.0, 1.0)
    retriever = configured(mode="hybrid", mrl_dim=MRL, mrl_limit=60, dense_limit=30,
                           sparse_limit=30, fusion="rrf", rrf_k=k, dense_weight=dw,
                           sparse_weight=sw)
    hits = store.search(retriever.plan(data["query"], data["sparse_query"], 10))
    fused = ref_rrf([ref_dense_funnel(data, 60, 30), ref_sparse_idf(data, 30)], k,
                    list(weights) if weights else None)
    expected = _ranked(fused, 10)
    assert _ids(hits) == [pid for pid, _ in expected]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.5, 0.8, 0.0])
def test_relative_fusion_equals_reference(store, data, alpha):
    retriever = configured(mode="hybrid", mrl_dim=MRL, mrl_limit=60, dense_limit=30,
                          sparse_limit=30, fusion="relative", alpha=alpha)
    hits = store.search(retriever.plan(data["query"], data["sparse_query"], 10))
    expected = _ranked(ref_relative([ref_dense_funnel(data, 60, 30),
                                     ref_sparse_idf(data, 30)], alpha), 10)
    assert _ids(hits) == [pid for pid, _ in expected]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], rtol=1e-4)
    assert all(h.payload for h in hits)  # payloads come through the fusion


def test_relative_fusion_matches_llama_index(store, data):
    """The same fused order as llama-index's own function (installed with the bench extra)."""
    utils = pytest.importorskip("llama_index.vector_stores.qdrant.utils")
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import VectorStoreQueryResult

    def result(ranked):
        return VectorStoreQueryResult(nodes=[TextNode(id_=p, text="") for p, _ in ranked],
                                      similarities=[s for _, s in ranked],
                                      ids=[p for p, _ in ranked])

    dense, sparse = ref_dense_funnel(data, 60, 30), ref_sparse_idf(data, 30)
    peer = utils.relative_score_fusion(result(dense), result(sparse), alpha=0.7, top_k=10)
    hits = store.search(configured(mode="hybrid", mrl_dim=MRL, mrl_limit=60, dense_limit=30,
                                  sparse_limit=30, fusion="relative", alpha=0.7)
                        .plan(data["query"], data["sparse_query"], 10))
    np.testing.assert_allclose([h.score for h in hits], peer.similarities, rtol=1e-4)
    assert set(_ids(hits)) == set(peer.ids)


def test_relative_fusion_edge_cases():
    from rag.store import Hit, fuse_relative

    a = [Hit("x", 0.9, {}), Hit("y", 0.5, {}), Hit("z", 0.1, {})]
    b = [Hit("z", 7.0, {}), Hit("w", 7.0, {})]  # all equal: each scales to 1
    fused = fuse_relative([a, b], [0.6, 0.4], 3)
    # x: 0.6 * 1; z: 0.6 * 0 + 0.4 * 1; w: 0.4 * 1 (tied with z, ordered by id); y: 0.3
    assert [(h.id, round(h.score, 6)) for h in fused] == [("x", 0.6), ("w", 0.4), ("z", 0.4)]
    assert fuse_relative([[], b], [0.5, 0.5], 5)[0].score == pytest.approx(0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        configured(fusion="relative", alpha=1.5)


def test_backends_agree_on_every_plan(tmp_path, data):
    stores = []
    for make in BACKENDS.values():
        s = make(tmp_path)
        s.open(SPEC)
        s.upsert(data["points"])
        stores.append(s)
    for retriever in (configured(mode="dense", mrl_dim=MRL), configured(mode="sparse"),
                      configured(mode="hybrid", mrl_dim=MRL, fusion="rrf"),
                      configured(mode="hybrid", mrl_dim=MRL, fusion="dbsf"),
                      configured(mode="hybrid", mrl_dim=MRL, fusion="relative", alpha=0.7)):
        plan = retriever.plan(data["query"], data["sparse_query"], 10)
        edge, memory = (s.search(plan) for s in stores)
        assert _ids(edge) == _ids(memory), retriever.mode
    for s in stores:
        s.close()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("change", [{"dim": 64}, {"mrl_dim": 16}, {"sparse_idf": None}])
def test_mismatched_index_is_refused_before_writing(tmp_path, data, backend, change):
    store = BACKENDS[backend](tmp_path)
    store.open(SPEC)
    store.upsert(data["points"][:5])
    if backend == "edge":  # a new process opens the shard from disk
        store.close()
        store = BACKENDS[backend](tmp_path)
    other = IndexSpec(**{**SPEC.__dict__, **change})
    with pytest.raises(IndexMismatchError, match="Nothing was written") as err:
        store.open(other)
    key = next(iter(change))
    assert f"{key}=" in str(err.value)
    store.open(SPEC)
    assert store.count() == 5


def test_different_embedder_with_same_dimension_is_refused(tmp_path):
    store = EdgeStore(str(tmp_path / "edge"), collection="shared")
    store.open(SPEC)
    store.close()
    other = IndexSpec("other", DIM, MRL, True, fingerprint={"embedder": "another-model"})
    with pytest.raises(IndexMismatchError, match="another-model"):
        EdgeStore(str(tmp_path / "edge"), collection="shared").open(other)


def test_persisted_edge_index_reopens_with_its_points(tmp_path, data):
    store = EdgeStore(str(tmp_path / "edge"))
    store.open(SPEC)
    store.upsert(data["points"])
    store.close()
    reopened = EdgeStore(str(tmp_path / "edge"))
    assert reopened.open(SPEC, create=False)
    assert reopened.count() == N
    assert set(reopened.ids()) == set(data["ids"])
    reopened.close()
    assert not EdgeStore(str(tmp_path / "nothing")).open(SPEC, create=False)


def test_quantized_search_is_used_rescored_and_sized(tmp_path):
    """Binary quantization really changes what a search reads (without rescoring the ranking
    comes from bits), rescoring from the float originals restores the exact top hit, and int8
    keeps the float ranking here."""
    from rag.store import quantized_bytes

    rng = np.random.default_rng(3)
    dim, n = 256, 400
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = [Point(str(uuid.UUID(int=i + 1)), v, None, {"i": i}) for i, v in enumerate(vectors)]
    queries = vectors[:20] + 0.6 * rng.normal(size=(20, dim)).astype(np.float32) / np.sqrt(dim)

    def top(store):
        return [[h.payload["i"] for h in store.search(Nearest(DENSE, q.tolist(), 10))]
                for q in queries]

    spec = IndexSpec("q", dim, None, None)
    exact = EdgeStore(str(tmp_path / "float"))
    exact.open(spec)
    exact.upsert(points)
    truth = top(exact)
    results = {}
    for name, kwargs in {"bits": dict(quantization="binary", rescore=False),
                         "bits_rescored": dict(quantization="binary", oversampling=4.0),
                         "int8": dict(quantization="int8")}.items():
        store = EdgeStore(str(tmp_path / name), **kwargs)
        store.open(IndexSpec("q", dim, None, None, quantization=kwargs["quantization"]))
        store.upsert(points)
        results[name] = top(store)
        store.close()
    exact.close()

    def recall(found):
        return np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])

    assert [r[0] for r in results["bits_rescored"]] == [t[0] for t in truth]
    assert recall(results["bits"]) < recall(results["bits_rescored"])
    assert recall(results["int8"]) >= 0.95
    assert quantized_bytes("binary", 384) == 48 and quantized_bytes("int8", 384) == 392
    with pytest.raises(IndexMismatchError, match="quantization=None but this configuration "
                                                 "needs quantization=int8"):
        EdgeStore(str(tmp_path / "float"), quantization="int8").open(
            IndexSpec("q", dim, None, None, quantization="int8"))


def test_qdrant_cluster_layout_is_set_when_the_collection_is_created(monkeypatch, data):
    """shard_number, replication_factor and write_consistency_factor reach Qdrant's
    create_collection (local mode accepts and drops them: a multi-node cluster does not run
    here); on-disk vectors are kept by local mode too and read back."""
    from rag.store import DENSE_MRL

    store = QdrantClientStore(location=":memory:", shard_number=6, replication_factor=2,
                              write_consistency_factor=2, on_disk=True, on_disk_payload=True)
    client, created = store._connect(), []
    create = client.create_collection
    monkeypatch.setattr(client, "create_collection",
                        lambda *a, **k: created.append(k) or create(*a, **k))
    store.open(SPEC)
    store.upsert(data["points"][:10])
    layout = {k: created[0].get(k) for k in ("shard_number", "replication_factor",
                                             "write_consistency_factor", "on_disk_payload")}
    assert layout == {"shard_number": 6, "replication_factor": 2,
                      "write_consistency_factor": 2, "on_disk_payload": True}
    vectors = client.get_collection(SPEC.name).config.params.vectors
    assert vectors[DENSE].on_disk and vectors[DENSE_MRL].on_disk
    assert store.count() == 10
    store.open(SPEC)  # an existing collection is opened, not created again
    assert len(created) == 1
    store.close()

    default = QdrantClientStore(location=":memory:")
    client, created = default._connect(), []
    create = client.create_collection
    monkeypatch.setattr(client, "create_collection",
                        lambda *a, **k: created.append(k) or create(*a, **k))
    default.open(SPEC)
    assert not {"shard_number", "replication_factor", "on_disk_payload"} & created[0].keys()


def test_a_files_chunks_are_deleted_by_payload_filter(tmp_path, data):
    """#32: deleting a document scanned every id through Python; now the engine filters."""
    for backend in BACKENDS.values():
        s = backend(tmp_path)
        s.open(SPEC)
        payloads = [{"source": "a.pdf", "doc_id": f"a.pdf#page={i % 3}"} if i % 4 == 0 else
                    {"source": "b.md", "doc_id": "b.md"} for i in range(N)]
        s.upsert([Point(p.id, p.dense, p.sparse, payload)
                  for p, payload in zip(data["points"], payloads, strict=True)])
        in_a = sum(p["source"] == "a.pdf" for p in payloads)
        page = sum(p["doc_id"] == "a.pdf#page=1" for p in payloads)
        assert s.delete_source("a.pdf#page=1") == page  # one page, by its doc id
        assert s.delete_source("a.pdf") == in_a - page  # the rest of the file, by source
        assert s.delete_source("a.pdf") == 0 and s.count() == N - in_a
        assert set(s.ids().values()) == {"b.md"}
        s.close()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("fusion", ["rrf", "relative"])
def test_script_gate_limits_the_sparse_leg_to_chunks_near_the_questions_script(
        tmp_path, data, backend, fusion):
    """The sparse leg scores only points whose latin_share is within the gap of the
    question's (and points indexed before the key existed); the dense leg sees every point."""
    store = BACKENDS[backend](tmp_path)
    store.open(SPEC)
    # shares 0, 0.01, ..., 0.99 in turn; every 10th point was indexed without the key
    points = [Point(p.id, p.dense, p.sparse,
                    {"n": i} if i % 10 == 0 else {"n": i, "latin_share": (i % 100) / 100})
              for i, p in enumerate(data["points"])]
    store.upsert(points)
    eligible = {p.id for p in points if abs(p.payload.get("latin_share", 0.95) - 0.95) <= 0.3}
    sparse_ref = [(pid, s) for pid, s in ref_sparse_idf(data, N) if pid in eligible][:30]
    dense_ref = ref_dense_funnel(data, 60, 30)
    retriever = configured(mode="hybrid", mrl_dim=MRL, mrl_limit=60, dense_limit=30,
                           sparse_limit=30, fusion=fusion, rrf_k=60, alpha=0.5,
                           sparse_script_gap=0.3, sparse_script_filter=True)
    within = retriever.script_filter(0.95)
    hits = store.search(retriever.plan(data["query"], data["sparse_query"], 10, within))
    fused = (ref_rrf([dense_ref, sparse_ref], 60) if fusion == "rrf"
             else ref_relative([dense_ref, sparse_ref], 0.5))
    assert _ids(hits) == [pid for pid, _ in _ranked(fused, 10)]
    # without the gate the sparse leg would have brought other points
    ungated = store.search(retriever.plan(data["query"], data["sparse_query"], 10, None))
    assert _ids(ungated) != _ids(hits)
    # what the pipeline weighs before using the sparse leg at all: the points the gate admits
    assert store.count_within(within) == len(eligible)
    store.close()
