"""backend=onnx: the packaged MiniLM and a cross-encoder exported and run by onnxruntime,
checked against sentence-transformers / transformers on the same weights."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.embedder.sentence_transformer import SentenceTransformerEmbedder
from rag.onnx_model import exported
from rag.reranker import CrossEncoderReranker
from rag.train import cross_encoder_from
from tests.conftest import MINILM, ROOT, tiny_sentence_model
from tests.test_reranker import QUERY, TEXTS, _tiny_bert, reference_scores

MIXED = ["How long is the warranty on the espresso machine?", "descale",
         "一线城市出差住宿每晚可以报销多少钱？", "Mixed 中英文 text with numbers 2024.",
         "word " * 400,  # longer than max_length: truncated alike
         "  padded with spaces  ", "The warranty lasts two years from the date of purchase."]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def torch_minilm():
    return SentenceTransformerEmbedder(MINILM, max_length=256)


def onnx_minilm(onnx_dir, quantize=None, **kw):
    return SentenceTransformerEmbedder(MINILM, max_length=256, backend="onnx",
                                       quantize=quantize, onnx_dir=str(onnx_dir), **kw)


def test_onnx_vectors_equal_torch(onnx_dir, torch_minilm):
    reference = torch_minilm.encode_documents(MIXED)
    onnx = onnx_minilm(onnx_dir, batch_size=3)  # batches of similar length, order restored
    vectors = onnx.encode_documents(MIXED)
    assert vectors.shape == reference.shape == (len(MIXED), 384)
    cosine = np.sum(vectors * reference, axis=1)
    assert cosine.min() > 0.9999, cosine
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # a query alone equals the same query in a batch (padding does not leak into the mean)
    alone = onnx.encode_queries([MIXED[1]])[0]
    assert float(alone @ vectors[1]) > 0.99999


def test_int8_stays_close_and_keeps_the_ranking(onnx_dir, torch_minilm):
    docs = TEXTS + MIXED
    reference = torch_minilm.encode_documents(docs)
    int8 = onnx_minilm(onnx_dir, "int8").encode_documents(docs)
    assert np.sum(int8 * reference, axis=1).min() > 0.98
    q_ref = torch_minilm.encode_queries([QUERY])[0]
    q_int8 = onnx_minilm(onnx_dir, "int8").encode_queries([QUERY])[0]
    assert np.argsort(-(reference @ q_ref))[:3].tolist() == \
        np.argsort(-(int8 @ q_int8))[:3].tolist()
    files = sorted(p.name for p in next(onnx_dir.iterdir()).iterdir())
    assert files == ["hidden-int8.onnx", "hidden.onnx"]  # exported once, quantised once


def test_each_runtime_has_its_own_fingerprint(onnx_dir):
    torch_fp = SentenceTransformerEmbedder(MINILM, max_length=256).fingerprint
    fps = {torch_fp, onnx_minilm(onnx_dir).fingerprint, onnx_minilm(onnx_dir, "int8").fingerprint}
    assert len(fps) == 3
    # threads and batch size change the speed, not the vectors
    assert onnx_minilm(onnx_dir, threads=1, batch_size=4).fingerprint == \
        onnx_minilm(onnx_dir).fingerprint


def test_encoding_imports_neither_torch_nor_transformers(onnx_dir):
    onnx_minilm(onnx_dir).warm_up()  # exported (with torch) in this process, once
    code = f"""
import sys, json
from rag.embedder.sentence_transformer import SentenceTransformerEmbedder
e = SentenceTransformerEmbedder({MINILM!r}, max_length=256, backend="onnx",
                                onnx_dir={str(onnx_dir)!r})
v = e.encode_queries(["How long is the warranty?"])
print(json.dumps({{"shape": list(v.shape), "torch": "torch" in sys.modules,
                  "transformers": "transformers" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "shape": [1, 384], "torch": False, "transformers": False}


def test_onnx_reranker_scores_equal_the_checkpoint(tmp_path, onnx_dir):
    path = _tiny_bert(tmp_path / "ce", head=True)
    expected = reference_scores(path, [(QUERY, t) for t in TEXTS])
    reranker = CrossEncoderReranker(str(path), max_length=128, backend="onnx",
                                    onnx_dir=str(onnx_dir), batch_size=4)
    assert reranker.scores(QUERY, TEXTS) == pytest.approx(expected, abs=1e-4)
    path = cross_encoder_from(MINILM, tmp_path / "minilm-ce")
    expected = reference_scores(path, [(QUERY, t) for t in TEXTS])
    int8 = CrossEncoderReranker(str(path), max_length=128, backend="onnx", quantize="int8",
                                onnx_dir=str(onnx_dir))
    got = int8.scores(QUERY, TEXTS)
    assert np.corrcoef(got, expected)[0, 1] > 0.95


def test_settings_and_models_onnx_cannot_run_are_refused(tmp_path, onnx_dir):
    with pytest.raises(ValueError, match="backend='tf': use torch or onnx"):
        SentenceTransformerEmbedder(MINILM, backend="tf")
    with pytest.raises(ValueError, match="quantize needs embedder.backend=onnx"):
        SentenceTransformerEmbedder(MINILM, quantize="int8")
    with pytest.raises(ValueError, match="quantize='int4'"):
        onnx_minilm(onnx_dir, "int4").warm_up()
    with pytest.raises(ValueError, match="reranker.backend"):
        CrossEncoderReranker(MINILM, backend="openvino")
    # a sentence-transformers model with a Dense layer: the torch backend runs it, onnx says so
    from sentence_transformers import SentenceTransformer, models

    base = tiny_sentence_model(tmp_path)
    st = SentenceTransformer(str(base))
    dense = models.Dense(st.get_embedding_dimension(), 16)
    SentenceTransformer(modules=[*st, dense]).save(str(tmp_path / "with-dense"))
    with pytest.raises(ValueError, match=r"also has \['Dense'\]: use embedder.backend=torch"):
        SentenceTransformerEmbedder(str(tmp_path / "with-dense"), backend="onnx",
                                    onnx_dir=str(onnx_dir)).warm_up()


def test_a_retrained_model_is_exported_again(tmp_path, onnx_dir):
    path = _tiny_bert(tmp_path / "ce", head=True)
    first = exported(path, onnx_dir, "logits")
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        model.classifier.bias += 1.0
    model.save_pretrained(path)
    second = exported(path, onnx_dir, "logits")
    assert first != second and first.exists() and second.exists()
    reranker = CrossEncoderReranker(str(path), max_length=128, backend="onnx",
                                    onnx_dir=str(onnx_dir))
    assert reranker.scores(QUERY, TEXTS) == pytest.approx(
        reference_scores(path, [(QUERY, t) for t in TEXTS]), abs=1e-4)


def test_an_int8_query_gets_the_same_vector_alone_and_in_a_batch(onnx_dir):
    # int8 activations take one range per batch: queries run one at a time so that a server
    # batching concurrent searches returns what each would get alone
    int8 = onnx_minilm(onnx_dir, "int8")
    batch = int8.encode_queries(MIXED)
    alone = np.stack([int8.encode_queries([q])[0] for q in MIXED])
    assert np.array_equal(batch, alone)
