"""Each model family's conventions, on tiny locally built models of the right architecture:
the exact text each model receives (instructions and prefixes on the right side only) and the
pooling that turns its hidden states into the vector."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
import torch

from rag.embedder.flag import FlagEmbedder
from rag.embedder.sentence_transformer import SentenceTransformerEmbedder
from tests.conftest import copy_minilm_tokenizer, loaded, make_cfg, tiny_sentence_model

QWEN_INSTRUCTION = "Instruct: Given a web search query, retrieve relevant passages\nQuery:"
QUESTION = "how long is the warranty"
PASSAGE = "The espresso machine has a two-year limited warranty."


@contextmanager
def recorded_texts(tokenizer):
    """Every text the model's tokenizer is asked to encode, however the library calls it."""
    seen: list[str] = []
    cls = type(tokenizer)
    original = cls.__call__

    def spy(self, text=None, *args, **kwargs):
        seen.extend([text] if isinstance(text, str) else list(text or []))
        return original(self, text, *args, **kwargs)

    cls.__call__ = spy
    try:
        yield seen
    finally:
        cls.__call__ = original


@pytest.fixture(scope="module")
def tiny_qwen3(tmp_path_factory):
    """A 1-layer Qwen3 saved as a Qwen3-Embedding-style sentence-transformers model:
    last-token pooling, an instruction prompt for queries and none for documents."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import Qwen3Config, Qwen3Model

    root = tmp_path_factory.mktemp("qwen3")
    torch.manual_seed(0)
    Qwen3Model(Qwen3Config(vocab_size=30522, hidden_size=32, intermediate_size=64,
                           num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                           head_dim=16, max_position_embeddings=512)).save_pretrained(root / "hf")
    copy_minilm_tokenizer(root / "hf")
    word = models.Transformer(str(root / "hf"))
    model = SentenceTransformer(modules=[word, models.Pooling(32, pooling_mode="lasttoken"),
                                         models.Normalize()],
                                prompts={"query": QWEN_INSTRUCTION})
    model.save(str(root / "st"))
    return root


def test_qwen3_instruction_on_queries_only_and_last_token_pooling(tiny_qwen3):
    from transformers import AutoModel, AutoTokenizer

    cfg = make_cfg("embedder=qwen3_0_6b", f"embedder.model={tiny_qwen3 / 'st'}")
    embedder = SentenceTransformerEmbedder(**{k: v for k, v in cfg.embedder.items()
                                              if k != "_target_"})
    with recorded_texts(loaded(embedder).tokenizer) as seen:
        query = embedder.encode_queries([QUESTION])[0]
        passage = embedder.encode_documents([PASSAGE])[0]
    # sentence-transformers also tokenizes the prompt alone, to measure it
    assert [t for t in seen if t != QWEN_INSTRUCTION] == [QWEN_INSTRUCTION + QUESTION, PASSAGE]

    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen3 / "hf")
    hf = AutoModel.from_pretrained(tiny_qwen3 / "hf").eval()
    with torch.no_grad():
        states = hf(**tokenizer([QWEN_INSTRUCTION + QUESTION], return_tensors="pt"))
    last = states.last_hidden_state[0, -1].numpy()  # the last token: [SEP] here
    np.testing.assert_allclose(query, last / np.linalg.norm(last), atol=1e-5)
    mean = states.last_hidden_state[0].mean(0).numpy()
    assert not np.allclose(query, mean / np.linalg.norm(mean), atol=1e-3)  # not mean pooling
    assert not np.allclose(passage, query)


def test_e5_prefixes_reach_the_model_on_each_side(tmp_path):
    cfg = make_cfg("embedder=multilingual_e5_small",
                   f"embedder.model={tiny_sentence_model(tmp_path, dim=32)}")
    embedder = SentenceTransformerEmbedder(**{k: v for k, v in cfg.embedder.items()
                                              if k != "_target_"})
    with recorded_texts(loaded(embedder).tokenizer) as seen:
        embedder.encode_queries([QUESTION])
        embedder.encode_documents([PASSAGE])
    assert [t for t in seen if t not in ("query: ", "passage: ")] == [
        "query: " + QUESTION, "passage: " + PASSAGE]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from transformers import BertConfig, BertModel

    root = tmp_path_factory.mktemp("bge") / "bge-tiny"
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64)).save_pretrained(root)
    copy_minilm_tokenizer(root)
    return root


def test_bge_instruction_on_queries_only_and_cls_pooling(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    cfg = make_cfg("embedder=bge_small_en", f"embedder.model={tiny_bert}")
    embedder = FlagEmbedder(**{k: v for k, v in cfg.embedder.items() if k != "_target_"})
    with recorded_texts(loaded(embedder).tokenizer) as seen:
        query = embedder.encode_queries([QUESTION])[0]
        embedder.encode_documents([PASSAGE])
    instruction = cfg.embedder.query_instruction
    assert seen == [instruction + QUESTION, PASSAGE]

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    hf = AutoModel.from_pretrained(tiny_bert).eval()
    with torch.no_grad():
        cls = hf(**tokenizer([instruction + QUESTION], return_tensors="pt")
                 ).last_hidden_state[0, 0].numpy()
    np.testing.assert_allclose(query, cls / np.linalg.norm(cls), atol=1e-5)


def test_nv_embed_instruction_and_eos_reach_the_model(tiny_qwen3):
    """NV-Embed-v2's convention (its modelling code lives on the hub, so a tiny model of
    another architecture stands in): instruction on queries only, EOS appended to both."""
    cfg = make_cfg("embedder=nv_embed_v2", f"embedder.model={tiny_qwen3 / 'st'}",
                   "embedder.trust_remote_code=false")
    embedder = SentenceTransformerEmbedder(**{k: v for k, v in cfg.embedder.items()
                                              if k != "_target_"})
    model = loaded(embedder)
    model.tokenizer.eos_token = "[SEP]"
    with recorded_texts(model.tokenizer) as seen:
        embedder.encode_queries([QUESTION])
        embedder.encode_documents([PASSAGE])
    prompt = cfg.embedder.query_prompt
    assert [t for t in seen if t != prompt] == [prompt + QUESTION + "[SEP]", PASSAGE + "[SEP]"]
