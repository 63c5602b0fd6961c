"""Rerankers on real (locally built, tiny) cross-encoder checkpoints."""

from __future__ import annotations

import pytest

from rag.models import ModelNotFoundError, resolve_model
from rag.reranker import BgeReranker, CrossEncoderReranker, MissingHeadError, _CrossEncoderBase
from rag.store import Hit
from tests.conftest import MINILM, copy_minilm_tokenizer

QUERY = "How long is the warranty?"
TEXTS = ["The warranty lasts two years.", "Descale every three months.",
         "Hotels are reimbursed per night.", "Registering extends the warranty.",
         "Grind 18 grams of coffee.", "密码每九十天更换一次。"]


def _tiny_bert(path, head: bool):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, num_labels=1)
    model = BertForSequenceClassification(config) if head else BertModel(config)
    model.save_pretrained(path)
    copy_minilm_tokenizer(path)
    return path


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory):
    return _tiny_bert(tmp_path_factory.mktemp("ce"), head=True)


def reference_scores(path, pairs):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        batch = tok([q for q, _ in pairs], [t for _, t in pairs], padding=True,
                    truncation=True, return_tensors="pt")
        return model(**batch).logits[:, 0].tolist()


@pytest.mark.parametrize("cls", [BgeReranker, CrossEncoderReranker])
def test_order_follows_the_cross_encoder_scores(cross_encoder, cls):
    hits = [Hit(f"id{i}", 1.0 - i / 10, {"text": t}) for i, t in enumerate(TEXTS)]
    reranker = cls(str(cross_encoder), top_n=5, max_length=128)
    out = reranker.rerank(QUERY, hits, top_k=3)
    expected = reference_scores(cross_encoder, [(QUERY, t) for t in TEXTS[:5]])
    order = sorted(range(5), key=lambda i: -expected[i])[:3]
    assert [h.id for h in out] == [f"id{i}" for i in order]
    assert [h.score for h in out] == pytest.approx([expected[i] for i in order], abs=1e-4)
    # the retrieval score is kept beside the reranker's
    assert [h.payload["retrieval_score"] for h in out] == [1.0 - i / 10 for i in order]
    assert "id5" not in {h.id for h in out}  # beyond top_n: never scored
    # a deeper top_k keeps the unscored tail in first-stage order instead of dropping it
    deep = reranker.rerank(QUERY, hits, top_k=8)
    assert [h.id for h in deep[:5]] == [f"id{i}" for i in sorted(range(5),
                                                                key=lambda i: -expected[i])]
    assert [h.id for h in deep[5:]] == ["id5"]
    assert deep[5].payload["retrieval_score"] == 0.5
    # scores stay sorted: metrics and the answer stage rank by score
    assert [h.score for h in deep] == sorted((h.score for h in deep), reverse=True)


@pytest.mark.parametrize("cls", [BgeReranker, CrossEncoderReranker])
def test_checkpoint_without_a_trained_head_is_refused(tmp_path, cls):
    headless = _tiny_bert(tmp_path / "headless", head=False)
    with pytest.raises(MissingHeadError, match="no sequence-classification head"):
        cls(str(headless)).rerank(QUERY, [Hit("a", 1.0, {"text": "x"})], 1)
    with pytest.raises(MissingHeadError):  # an embedding model is not a reranker either
        cls(MINILM).rerank(QUERY, [Hit("a", 1.0, {"text": "x"})], 1)


def test_unreachable_hub_id_says_to_pass_a_local_path(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    resolve_model.cache_clear()
    with pytest.raises(ModelNotFoundError, match="pass its directory"):
        BgeReranker("BAAI/bge-reranker-v2-m3").rerank(QUERY, [Hit("a", 1.0, {"text": "x"})], 1)
    resolve_model.cache_clear()


def test_pipeline_reranks_the_fused_candidates(cross_encoder, cfg_factory):
    from rag.pipeline import Pipeline

    cfg = cfg_factory("reranker=bge", f"reranker.model={cross_encoder}", "reranker.top_n=8",
                      "answerer=none")
    pipeline = Pipeline.from_config(cfg)
    pipeline.open_index(build_if_missing=True)
    timings: dict = {}
    hits = pipeline.search(QUERY, 3, timings)
    pipeline.close()
    assert len(hits) == 3 and "rerank_ms" in timings
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all("retrieval_score" in h.payload for h in hits)


@pytest.fixture(scope="module")
def tiny_m3(tmp_path_factory):
    """A 1-layer XLM-RoBERTa with bge-m3's extra heads (colbert_linear, sparse_linear)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    path = tmp_path_factory.mktemp("m3") / "bge-m3-tiny"
    torch.manual_seed(0)
    XLMRobertaModel(XLMRobertaConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=64,
                                     pad_token_id=0, max_position_embeddings=514)
                    ).save_pretrained(path)
    copy_minilm_tokenizer(path)
    torch.save(torch.nn.Linear(32, 32).state_dict(), path / "colbert_linear.pt")
    torch.save(torch.nn.Linear(32, 1).state_dict(), path / "sparse_linear.pt")
    return path


def test_maxsim_is_the_mean_of_each_query_tokens_best_match():
    import numpy as np

    from rag.reranker import maxsim

    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]])
    assert maxsim(q, p) == pytest.approx((1.0 + 0.8) / 2)
    assert maxsim(q, p[:0]) == 0.0


def test_colbert_rerank_follows_flagembeddings_own_maxsim(tiny_m3):
    from rag.reranker import ColbertReranker

    texts = ["The espresso machine has a two-year warranty.",
             "Hotels in tier-one cities are refunded up to 600 yuan a night.",
             "Passwords change every ninety days.", "warranty warranty warranty"]
    reranker = ColbertReranker(str(tiny_m3), top_n=4)
    hits = [Hit(str(i), 1.0 - i / 10, {"text": t}) for i, t in enumerate(texts)]
    ranked = reranker.rerank("how long is the warranty", hits, 4)

    model = reranker._load()
    out = model.encode(["how long is the warranty", *texts], return_dense=False,
                       return_sparse=False, return_colbert_vecs=True)
    q, *ps = out["colbert_vecs"]
    reference = [float(model.colbert_score(q, p)) for p in ps]
    assert [h.score for h in sorted(ranked, key=lambda h: h.id)] == pytest.approx(reference,
                                                                                 rel=1e-5)
    assert [h.id for h in ranked] == [str(i) for i in sorted(range(4),
                                                             key=lambda i: -reference[i])]
    assert all("retrieval_score" in h.payload for h in ranked)


def test_colbert_refuses_a_checkpoint_without_its_head(tmp_path):
    from rag.reranker import ColbertReranker

    with pytest.raises(MissingHeadError, match="no colbert_linear.pt"):
        ColbertReranker(MINILM).scores("q", ["a"])


def test_tail_scores_are_shifted_below_a_head_on_another_scale():
    class NegativeLogits(_CrossEncoderBase):  # logits well below the cosine scores behind them
        def scores(self, query, texts):
            return [-5.0 - i for i in range(len(texts))]

    hits = [Hit(f"id{i}", 0.9 - i / 100, {"text": str(i)}) for i in range(6)]
    out = NegativeLogits("unused", top_n=3).rerank(QUERY, hits, top_k=6)
    assert [h.id for h in out] == ["id0", "id1", "id2", "id3", "id4", "id5"]
    assert [h.score for h in out] == sorted((h.score for h in out), reverse=True)
    assert out[3].score < out[2].score == -7.0
    assert [h.payload["retrieval_score"] for h in out[3:]] == [0.87, 0.86, 0.85]


class FixedScores(_CrossEncoderBase):
    def scores(self, query, texts):
        return [{"a": 10.0, "b": 0.0, "c": 9.0}[t] for t in texts]


def test_retrieval_weight_fuses_min_max_scaled_scores():
    # retrieval prefers c, the cross-encoder a; c is close behind a in the cross-encoder's
    # scale (0.9 of its range) and far ahead in retrieval's, so a fusion ranks it first
    hits = [Hit("c", 0.80, {"text": "c"}), Hit("b", 0.60, {"text": "b"}),
            Hit("a", 0.50, {"text": "a"})]
    alone = FixedScores("unused", top_n=3).rerank(QUERY, hits, top_k=3)
    assert [h.id for h in alone] == ["a", "c", "b"]
    fused = FixedScores("unused", top_n=3, retrieval_weight=0.3).rerank(QUERY, hits, top_k=3)
    # c: 0.7 * 0.9 + 0.3 * 1 = 0.93; a: 0.7 * 1 + 0.3 * 0 = 0.7; b: 0 + 0.3 * 1/3 = 0.1
    assert [h.id for h in fused] == ["c", "a", "b"]
    assert [h.score for h in fused] == pytest.approx([0.93, 0.7, 0.1])
    assert [h.payload["retrieval_score"] for h in fused] == [0.80, 0.50, 0.60]
    with pytest.raises(ValueError, match="retrieval_weight"):
        FixedScores("unused", retrieval_weight=1.0)


def test_flag_reranker_draws_no_bar_per_query(cross_encoder, capfd):
    # FlagReranker shows tqdm bars once the pairs outnumber a batch: per query, in a CLI
    reranker = BgeReranker(str(cross_encoder), top_n=20, batch_size=2, max_length=64)
    hits = [Hit(f"id{i}", 1.0, {"text": TEXTS[i % len(TEXTS)]}) for i in range(12)]
    reranker.warm_up()  # transformers draws one "Loading weights" bar per load: not per query
    capfd.readouterr()
    assert len(reranker.rerank(QUERY, hits, top_k=5)) == 5
    err = capfd.readouterr().err
    assert "Compute Scores" not in err and "pre tokenize" not in err and "it/s" not in err
