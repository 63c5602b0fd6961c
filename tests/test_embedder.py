"""The encoders on real packaged weights: MiniLM (both libraries) and SPLADE-tiny."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedder.flag import FlagEmbedder
from rag.embedder.sentence_transformer import SentenceTransformerEmbedder
from rag.sparse.learned import BgeM3LexicalEncoder, SpladeEncoder
from tests.conftest import MINILM

TEXTS = ["The espresso machine has a two-year warranty.", "Hotels are reimbursed per night."]
QUERIES = ["how long is the warranty"]


@pytest.fixture(scope="module")
def st():
    return SentenceTransformerEmbedder(MINILM)


def test_flagembedding_and_sentence_transformers_agree_on_minilm(st):
    flag = FlagEmbedder(MINILM, pooling_method="mean", max_length=256)
    assert flag.dim == st.dim == 384
    np.testing.assert_allclose(flag.encode_documents(TEXTS), st.encode_documents(TEXTS),
                               atol=1e-4)
    np.testing.assert_allclose(flag.encode_queries(QUERIES), st.encode_queries(QUERIES),
                               atol=1e-4)
    assert flag.fingerprint != st.fingerprint


def test_prompts_reach_the_model(st):
    prompted = SentenceTransformerEmbedder(MINILM, query_prompt="query: ",
                                           document_prompt="passage: ")
    np.testing.assert_allclose(prompted.encode_queries(QUERIES),
                               st.encode_documents(["query: " + QUERIES[0]]), atol=1e-5)
    np.testing.assert_allclose(prompted.encode_documents(TEXTS[:1]),
                               st.encode_documents(["passage: " + TEXTS[0]]), atol=1e-5)
    assert prompted.fingerprint != st.fingerprint


def test_dense_ranking_is_meaningful(st):
    docs, q = st.encode_documents(TEXTS), st.encode_queries(QUERIES)[0]
    assert docs[0] @ q > docs[1] @ q + 0.2


def test_splade_vectors_are_sparse_and_match_on_shared_terms():
    enc = SpladeEncoder("package:cognition/model")
    docs = enc.encode_documents(TEXTS)
    (qi, qv), = enc.encode_queries(QUERIES)
    for ids, vals in docs:
        assert ids == sorted(set(ids)) and all(v > 0 for v in vals)
        assert 0 < len(ids) < 30522 // 10

    def dot(doc):
        d = dict(zip(*doc, strict=True))
        return sum(v * d.get(i, 0.0) for i, v in zip(qi, qv, strict=True))

    assert dot(docs[0]) > 2 * dot(docs[1])
    assert not enc.idf


def test_bge_m3_lexical_refuses_checkpoint_without_sparse_head():
    enc = BgeM3LexicalEncoder(MINILM)
    with pytest.raises(FileNotFoundError, match="sparse_linear.pt"):
        enc.encode_documents(TEXTS)


def test_weights_are_identified_by_content_and_hashed_once(tmp_path, monkeypatch):
    import json
    import os

    from rag.models import weights_signature

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"a" * 4096)
    first = weights_signature(model)
    # retrained: same name, same size, other bytes (and a newer mtime, as a write gives)
    weights.write_bytes(b"b" * 4096)
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    second = weights_signature(model)
    assert second != first
    # the same bytes written again: a new mtime, the same identity
    weights.write_bytes(b"b" * 4096)
    assert weights_signature(model) == second
    # the hash is remembered against path, size and mtime: not read again while they hold
    cache_file = tmp_path / "cache" / "rag" / "weight-hashes.json"
    known = json.loads(cache_file.read_text())
    key = next(k for k in known if k.startswith(str(weights.resolve())) and
               k.endswith(f"|{weights.stat().st_mtime_ns}"))
    cache_file.write_text(json.dumps({key: "0" * 64}))
    assert weights_signature(model) not in (first, second)
