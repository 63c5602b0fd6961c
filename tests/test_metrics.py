"""Golden tests for the metrics: hand-worked values, the classic mistakes, and an independent
pure-Python implementation on random runs."""

from __future__ import annotations

import math
import random

import pytest

from rag.metrics import collapse_to_documents, evaluate
from rag.store import Hit


def test_hand_worked_example():
    qrels = {"q1": {"d1": 1, "d2": 1}}
    mean, per_query = evaluate(qrels, {"q1": {"d3": 0.9, "d1": 0.8, "d2": 0.7, "d4": 0.1}})
    # DCG = 1/log2(3) + 1/log2(4); ideal DCG = 1 + 1/log2(3)
    assert mean["ndcg@10"] == pytest.approx((1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3)))
    assert mean["ndcg@10"] == pytest.approx(0.693426, abs=1e-6)
    assert (mean["mrr@10"], mean["recall@10"], mean["top1"], mean["top5"]) == (0.5, 1, 0, 1)
    assert per_query["q1"] == mean


def test_cutoff_at_k_is_applied():
    qrels = {"q": {"rel": 1}}
    run = {"q": {**{f"x{i:02d}": 1 - i / 100 for i in range(10)}, "rel": 0.5}}  # rel at rank 11
    mean, _ = evaluate(qrels, run)
    assert mean["ndcg@10"] == 0 and mean["mrr@10"] == 0 and mean["recall@10"] == 0
    assert mean["recall@100"] == 1 and mean["top5"] == 0


def test_a_document_hit_by_several_chunks_counts_once():
    hits = [Hit("c1", 0.9, {"doc_id": "d1"}), Hit("c2", 0.8, {"doc_id": "d1"}),
            Hit("c3", 0.7, {"doc_id": "d2"})]
    docs = collapse_to_documents(hits)
    assert docs == {"d1": 0.9, "d2": 0.7}
    mean, _ = evaluate({"q": {"d1": 1, "d2": 1}}, {"q": docs})
    assert mean["ndcg@10"] == pytest.approx(1.0)  # d2 is second, not third


def test_ties_are_ranked_as_the_search_ranked_them():
    # Our search orders equal scores by id (dA before dB); plain trec_eval would put dB first.
    mean, _ = evaluate({"q": {"dA": 1}}, {"q": {"dB": 0.5, "dA": 0.5}})
    assert mean["mrr@10"] == 1.0 and mean["top1"] == 1.0


def test_an_unanswered_query_scores_zero_and_counts():
    mean, per_query = evaluate({"q1": {"d": 1}, "q2": {"d": 1}}, {"q1": {"d": 1.0}})
    assert per_query["q2"]["ndcg@10"] == 0 and mean["ndcg@10"] == 0.5


def reference(qrels: dict[str, int], ranking: list[str]) -> dict[str, float]:
    """Textbook definitions, written independently of trec_eval."""
    gains = [qrels.get(d, 0) for d in ranking]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:10]))
    ideal = sorted(qrels.values(), reverse=True)
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal[:10]))
    first = next((i for i, g in enumerate(gains[:10]) if g > 0), None)
    relevant = sum(1 for g in qrels.values() if g > 0)
    return {
        "ndcg@10": dcg / idcg,
        "mrr@10": 0.0 if first is None else 1 / (first + 1),
        "recall@10": sum(1 for g in gains[:10] if g > 0) / relevant,
        "recall@100": sum(1 for g in gains[:100] if g > 0) / relevant,
        "top1": float(any(g > 0 for g in gains[:1])),
        "top5": float(any(g > 0 for g in gains[:5])),
    }


def test_matches_an_independent_implementation_on_random_runs():
    rng = random.Random(3)
    docs = [f"d{i}" for i in range(300)]
    qrels, run = {}, {}
    for q in range(60):
        qid = f"q{q}"
        qrels[qid] = {d: rng.choice([1, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 6))}
        ranking = rng.sample(docs, 120)
        # graded scores with deliberate ties
        run[qid] = {d: round(1 - i / 120, 1) for i, d in enumerate(ranking)}
    _, per_query = evaluate(qrels, run)
    from rag.store import tie_key

    for qid in qrels:
        order = sorted(run[qid], key=lambda d: tie_key(run[qid][d], d))
        expected = reference(qrels[qid], order)
        for name, value in expected.items():
            assert per_query[qid][name] == pytest.approx(value, abs=1e-9), (qid, name)


def test_holm_adjustment_on_a_worked_case():
    from rag.report import holm

    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.02]) == [0.02]
    stats = pytest.importorskip("statsmodels.stats.multitest")
    p = [0.001, 0.2, 0.013, 0.04, 0.0002, 0.5]
    assert holm(p) == pytest.approx(list(stats.multipletests(p, method="holm")[1]))
