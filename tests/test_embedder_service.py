"""Embedding services over HTTP, against a real server on 127.0.0.1 speaking the OpenAI and
Cohere protocols: what each request carries, batching, retries, the 401 message, and the
vectors landing in a real index."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedder.service import CohereEmbedder, EmbeddingServiceError, OpenAICompatibleEmbedder
from rag.pipeline import Pipeline
from tests.conftest import SAMPLE, make_cfg
from tests.embedding_server import EmbeddingServer, bag_of_words

TEXTS = [f"policy number {i} covers travel and hotel costs" for i in range(7)]


@pytest.fixture
def server():
    with EmbeddingServer(dim=64) as s:
        yield s


def openai(server, **kwargs):
    return OpenAICompatibleEmbedder(model="text-embedding-3-small", base_url=f"{server.url}/v1",
                                    backoff_s=0.01, **kwargs)


def test_openai_requests_carry_model_dimensions_prompts_and_key(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    embedder = openai(server, dimensions=32, batch_size=3, query_prompt="query: ",
                      document_prompt="passage: ")
    docs = embedder.encode_documents(TEXTS)
    query = embedder.encode_queries(["hotel costs"])
    assert docs.shape == (7, 32) and query.shape == (1, 32)
    bodies = [r["body"] for r in server.requests]
    assert [len(b["input"]) for b in bodies] == [3, 3, 1, 1]  # batches of batch_size
    assert all(b["model"] == "text-embedding-3-small" and b["dimensions"] == 32 for b in bodies)
    assert bodies[0]["input"][0] == "passage: " + TEXTS[0]
    assert bodies[-1]["input"] == ["query: hotel costs"]
    assert {r["auth"] for r in server.requests} == {"Bearer sk-test"}
    # the server answers in reverse order: vectors must follow the "index" field
    assert np.allclose(docs[0], bag_of_words("passage: " + TEXTS[0], 32), atol=1e-6)
    assert embedder.tokens == sum(len(("passage: " + t).split()) for t in TEXTS) + 3


def test_no_key_sends_no_authorization(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai(server).encode_queries(["a"])
    assert server.requests[0]["auth"] is None  # a local vLLM / Ollama needs none


def test_429_and_5xx_are_retried_then_succeed(server):
    server.failures = [429, 503, 500]
    vectors = openai(server, max_retries=3).encode_documents(TEXTS[:2])
    assert len(server.requests) == 4  # three refusals, then the answer
    assert np.allclose(vectors[1], bag_of_words(TEXTS[1], 64), atol=1e-6)


def test_retries_run_out_with_a_clear_error(server):
    server.failures = [503] * 5
    with pytest.raises(EmbeddingServiceError, match=r"still failing after 2 retries \(503"):
        openai(server, max_retries=2).encode_documents(["x"])
    assert len(server.requests) == 3


def test_401_says_which_variable_holds_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    with EmbeddingServer(key="right") as guarded:
        with pytest.raises(EmbeddingServiceError, match="refused the request .401.: set "
                                                        "OPENAI_API_KEY to a valid key"):
            openai(guarded).encode_documents(["x"])
        assert len(guarded.requests) == 1  # never retried


def test_cohere_sets_input_type_per_role_and_decodes_each_type(server):
    floats = CohereEmbedder(model="embed-v4.0", base_url=server.url, backoff_s=0.01,
                            output_dimension=64, batch_size=4)
    docs = floats.encode_documents(TEXTS)
    floats.encode_queries(["hotel costs"])
    bodies = [r["body"] for r in server.requests]
    assert [r["path"] for r in server.requests] == ["/v2/embed"] * 3
    assert [b["input_type"] for b in bodies] == ["search_document"] * 2 + ["search_query"]
    assert [len(b["texts"]) for b in bodies] == [4, 3, 1]
    assert all(b["model"] == "embed-v4.0" and b["output_dimension"] == 64 for b in bodies)
    assert floats.tokens == sum(len(t.split()) for t in TEXTS) + 2

    int8 = CohereEmbedder(base_url=server.url, embedding_type="int8").encode_documents(TEXTS)
    binary = CohereEmbedder(base_url=server.url, embedding_type="binary").encode_documents(TEXTS)
    assert np.allclose(int8, docs, atol=0.02)  # int8 is float rounded to 1/127
    signs = np.where(np.array([bag_of_words(t, 64) for t in TEXTS]) > 0, 1, -1) / 8.0
    assert np.allclose(binary, signs)  # ±1 per bit, normalised over 64 dims


def test_unknown_embedding_type_is_refused():
    with pytest.raises(ValueError, match="embedding_type must be one of"):
        CohereEmbedder(embedding_type="float16")


@pytest.mark.parametrize("embedder", ["openai_like", "cohere"])
def test_vectors_land_in_the_index_and_answer_queries(tmp_path, embedder):
    with EmbeddingServer(dim=384) as server:  # as wide as MiniLM: few hash collisions
        _index_and_search(server, tmp_path, embedder)


def _index_and_search(server, tmp_path, embedder):
    base_url = server.url + ("/v1" if embedder == "openai_like" else "")
    cfg = make_cfg(f"paths.data={tmp_path}", f"corpus.path={SAMPLE}", "progress=false",
                   f"embedder={embedder}", f"embedder.base_url={base_url}",
                   "embedder.backoff_s=0.01", "embedder.api_key_env=null",
                   "retriever=dense", "retriever.mrl_dim=64")
    pipeline = Pipeline.from_config(cfg)
    report = pipeline.index()
    hits = pipeline.search("two-year limited warranty espresso machine", 3)
    tokens, cost = pipeline.embedder.tokens, pipeline.embedder.cost_usd
    client = pipeline.embedder._client
    pipeline.close()
    assert client.is_closed and pipeline.embedder._client is None  # #33: it leaked before
    assert report.points == report.chunks > 0
    assert hits[0].payload["source"] == "aurora-espresso-manual.md"
    assert tokens > 0 and cost == pytest.approx(tokens * cfg.embedder.price_per_million_tokens
                                                / 1e6)
