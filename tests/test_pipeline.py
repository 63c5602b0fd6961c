"""Integration: the sample corpus through the real pipeline (packaged MiniLM, real engines)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.pipeline import Pipeline
from rag.retriever import configured
from rag.store import IndexMismatchError

EN_QUESTION = "How long is the warranty on the espresso machine?"
ZH_QUESTION = "一线城市出差住宿每晚可以报销多少钱？"


@pytest.fixture(scope="module")
def tmp_data(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def indexed(tmp_data):
    from tests.conftest import SAMPLE, make_cfg

    def build(*overrides):
        cfg = make_cfg(f"paths.data={tmp_data}", f"corpus.path={SAMPLE}", "progress=false",
                       *overrides)
        return Pipeline.from_config(cfg)

    pipeline = build()
    report = pipeline.index()
    pipeline.close()
    return build, report


class CountingEmbedder:
    """Wraps the real embedder to count document encodings."""

    def __init__(self, inner):
        self.inner, self.encoded = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode_documents(self, texts):
        self.encoded += len(texts)
        return self.inner.encode_documents(texts)


def test_index_reports_what_it_did(indexed):
    _, report = indexed
    assert report.documents == 7  # 3 text files + 4 PDF pages
    assert report.chunks == report.embedded == report.points > report.documents
    assert report.skipped == []


@pytest.mark.parametrize(("question", "source", "snippet"), [
    (EN_QUESTION, "aurora-espresso-manual.md", "two-year limited warranty"),
    (ZH_QUESTION, "travel-expense-policy-zh.md", "一线城市每晚不超过六百元"),
    ("How many days of paid annual leave do employees get?", "company-handbook.pdf",
     "28 days of paid annual leave"),
    ("密码多久需要更换一次？", "company-handbook.pdf", "每九十天更换一次"),
])
def test_right_passage_near_the_top(indexed, question, source, snippet):
    """The passage that answers is first, or second behind one of the same file: the warranty
    sentence shares its chunk with descaling, and under the dense-weighted default fusion the
    manual's brewing chunk comes first for "…the espresso machine?"."""
    build, _ = indexed
    pipeline = build()
    pipeline.open_index()
    timings: dict = {}
    hits = pipeline.search(question, 5, timings)
    pipeline.close()
    assert hits[0].payload["source"] == source
    assert any(snippet in h.payload["text"] for h in hits[:2])
    assert set(timings) == {"embed_query_ms", "sparse_query_ms", "search_ms"}


def test_pdf_hits_carry_their_page(indexed):
    build, _ = indexed
    pipeline = build()
    pipeline.open_index()
    hit = pipeline.search("How many days of paid annual leave do employees get?", 1)[0]
    pipeline.close()
    assert (hit.payload["page"], hit.payload["doc_id"]) == (2, "company-handbook.pdf#page=2")


def test_reindex_unchanged_folder_embeds_nothing(indexed):
    build, first = indexed
    pipeline = build()
    pipeline.embedder = spy = CountingEmbedder(pipeline.embedder)
    report = pipeline.index()
    pipeline.close()
    assert (report.embedded, report.removed, report.points) == (0, 0, first.points)
    assert spy.encoded == 0


def test_new_mrl_dim_builds_a_new_collection_from_cached_embeddings(indexed):
    build, first = indexed
    pipeline = build("retriever=dense", "retriever.mrl_dim=64")
    pipeline.embedder = spy = CountingEmbedder(pipeline.embedder)
    report = pipeline.index()
    hits = pipeline.search(EN_QUESTION, 3)
    pipeline.close()
    assert report.collection != first.collection
    assert report.embedded == first.points and spy.encoded == 0  # all from the cache
    # The corpus is smaller than mrl_limit, so the funnel must equal full-dimension search.
    full = build("retriever=dense", "retriever.mrl_dim=null")
    full.open_index(build_if_missing=True)
    expected = full.search(EN_QUESTION, 3)
    full.close()
    assert [h.payload["content_hash"] for h in hits] == [
        h.payload["content_hash"] for h in expected]
    assert any("two-year limited warranty" in h.payload["text"] for h in hits)


def test_cached_vectors_equal_fresh_encodings(indexed):
    build, _ = indexed
    pipeline = build()
    texts = ["The warranty lasts two years.", "住宿费用按照城市等级报销"]
    cached = pipeline.embed_documents(texts)
    fresh = pipeline.embedder.encode_documents(texts)
    np.testing.assert_allclose(cached, fresh, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(fresh, axis=1), 1.0, atol=1e-5)
    pipeline.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_embedded_engine_and_memory_store_agree(indexed, mode):
    build, _ = indexed
    results = []
    for store in ("edge", "memory"):
        pipeline = build(f"retriever={mode}", f"store={store}")
        pipeline.open_index(build_if_missing=True)
        results.append([h.id for h in pipeline.search(EN_QUESTION, 8)])
        pipeline.close()
    assert results[0] == results[1]


def test_other_dimension_on_existing_index_is_refused_before_writing(indexed, tmp_path):
    """A real (tiny, locally built) 64-d model against the 384-d index."""
    from tests.conftest import tiny_sentence_model

    tiny = tiny_sentence_model(tmp_path)
    build, first = indexed
    pipeline = build(f"embedder.model={tiny}", "retriever.mrl_dim=32",
                     f"store.collection={first.collection.rsplit('/', 1)[-1]}")
    assert pipeline.embedder.dim == 64
    with pytest.raises(IndexMismatchError, match="dim=384 but this configuration needs dim=64"):
        pipeline.index()
    pipeline.close()
    untouched = build()
    untouched.open_index()
    assert untouched.store.count() == first.points
    untouched.close()


@pytest.mark.parametrize(("override", "stage"), [("chunker.chunk_size=120", "chunker"),
                                                  ("sparse.k1=1.5", "sparse")])
def test_other_chunks_or_terms_on_a_named_index_are_refused(indexed, override, stage):
    """#33: a named collection checked only the dimension and the embedder, so another chunker
    (or BM25 tokenizer) wrote its points beside the old ones and pruned them."""
    build, first = indexed
    pipeline = build(override, f"store.collection={first.collection.rsplit('/', 1)[-1]}")
    with pytest.raises(IndexMismatchError, match=f"was built with {stage} "):
        pipeline.index()
    pipeline.close()
    untouched = build()
    untouched.open_index()
    assert untouched.store.count() == first.points
    untouched.close()


def test_changed_and_deleted_files_replace_their_chunks(tmp_path):
    import shutil

    from tests.conftest import SAMPLE, make_cfg

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)

    def build():
        return Pipeline.from_config(make_cfg(f"paths.data={tmp_path}", f"corpus.path={corpus}",
                                             "progress=false"))

    def index():
        pipeline = build()
        pipeline.embedder = spy = CountingEmbedder(pipeline.embedder)
        report = pipeline.index()
        pipeline.close()
        return report, spy.encoded

    first, _ = index()
    policy = corpus / "remote-work-policy.txt"
    policy.write_text("Remote Work Policy\n\nThe stipend is now 800 euros.\n")
    (corpus / "travel-expense-policy-zh.md").unlink()
    second, encoded = index()
    assert encoded == 1  # only the changed file's one new chunk is embedded
    assert second.embedded == 1
    assert second.documents == first.documents - 1
    assert second.points == second.chunks == first.points - second.removed + 1
    pipeline = build()
    pipeline.open_index()
    texts = [h.payload["text"] for h in pipeline.search("remote work stipend euros", 20)]
    sources = {h.payload["source"] for h in pipeline.search("住宿 报销", 20)}
    pipeline.close()
    assert any("800 euros" in t for t in texts)
    assert not any("500 euros" in t for t in texts)
    assert "travel-expense-policy-zh.md" not in sources


def test_renamed_file_is_not_re_embedded_and_prune_false_only_adds(tmp_path):
    import shutil

    from tests.conftest import SAMPLE, make_cfg

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)

    def index(*overrides):
        cfg = make_cfg(f"paths.data={tmp_path}", f"corpus.path={corpus}", "progress=false",
                       *overrides)
        pipeline = Pipeline.from_config(cfg)
        pipeline.embedder = spy = CountingEmbedder(pipeline.embedder)
        report = pipeline.index(prune=cfg.prune)
        sources = set(pipeline.store.ids().values())
        pipeline.close()
        return report, spy.encoded, sources

    first, _, _ = index()
    (corpus / "remote-work-policy.txt").rename(corpus / "policies-remote-work.txt")
    renamed, encoded, sources = index()
    assert encoded == 0  # the same text under a new name comes from the embedding cache
    assert renamed.points == first.points and renamed.removed == renamed.embedded > 0
    assert "policies-remote-work.txt" in sources and "remote-work-policy.txt" not in sources

    (corpus / "aurora-espresso-manual.md").unlink()
    kept, _, sources = index("prune=false")
    assert kept.removed == 0 and kept.points == first.points
    assert "aurora-espresso-manual.md" in sources  # prune=false never deletes
    pruned, _, sources = index()
    assert pruned.removed > 0 and "aurora-espresso-manual.md" not in sources


def test_a_sparse_only_plan_never_embeds(tmp_path):
    """retriever=sparse builds and reads a sparse-only index: the dense model is not even
    loaded, and the hits equal the sparse leg of a full index."""
    from tests.conftest import SAMPLE, make_cfg

    def build(data, *overrides):
        return Pipeline.from_config(make_cfg(f"paths.data={data}", f"corpus.path={SAMPLE}",
                                             "progress=false", *overrides))

    sparse = build(tmp_path / "a", "retriever=sparse", "reranker=none", "answerer=none")
    report = sparse.index()
    assert report.encoded == 0 and report.chunks > 0
    assert sparse.embedder._model is None  # never loaded
    assert not list((tmp_path / "a" / "cache").rglob("*.sqlite"))  # nothing embedded
    assert all(set(v) == {"sparse"} for v in sparse.store.sample_vectors(50))
    hits = sparse.search(EN_QUESTION, 5)
    assert sparse.embedder._model is None
    sparse.close()

    full = build(tmp_path / "b", "answerer=none")
    full.index()
    assert full.spec().name != sparse.spec().name  # a separate, sparse-only collection
    full.retriever = configured("sparse")
    assert [h.id for h in full.search(EN_QUESTION, 5)] == [h.id for h in hits]
    full.close()
