"""Retrieval quality, computed by trec_eval (pytrec_eval) on the BEIR run format.

Two things peers get wrong are handled before trec_eval sees the run:
  - ties: trec_eval breaks equal scores by document id in reverse, not as our search does,
    so each run is re-scored by rank (1/rank) and the metric matches the order users saw;
  - chunks: several chunks of one document are one hit (the best chunk's score), never two.
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.store import Hit, tie_key

# name in our reports -> trec_eval measure
MEASURES = {
    "ndcg@10": "ndcg_cut_10",
    "recall@10": "recall_10",
    "recall@100": "recall_100",
    "mrr@10": "recip_rank",  # on the run cut to 10, reciprocal rank is MRR@10
    "top1": "success_1",
    "top5": "success_5",
}


def collapse_to_documents(hits: Iterable[Hit]) -> dict[str, float]:
    """Chunk hits to document scores: a document scores as its best chunk, once."""
    docs: dict[str, float] = {}
    for hit in hits:
        doc = hit.payload["doc_id"]
        if doc not in docs or hit.score > docs[doc]:
            docs[doc] = hit.score
    return docs


def _ranked(scores: dict[str, float], k: int | None = None) -> dict[str, float]:
    """Scores replaced by 1/rank, ranked as the search ranked them (``tie_key``)."""
    order = sorted(scores, key=lambda d: tie_key(scores[d], d))
    return {doc: 1.0 / rank for rank, doc in enumerate(order[:k] if k else order, 1)}


def evaluate(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]],
             ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query metrics over the queries in ``qrels``; a judged query missing
    from the run scores 0 (trec_eval would silently skip it)."""
    import pytrec_eval

    full = {q: _ranked(run.get(q, {})) for q in qrels}
    top10 = {q: _ranked(run.get(q, {}), 10) for q in qrels}
    measures = {m for m in MEASURES.values() if m != "recip_rank"}
    per_full = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(full)
    per_10 = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    per_query: dict[str, dict[str, float]] = {}
    for q in qrels:
        values = {**per_full.get(q, {}), **per_10.get(q, {})}
        per_query[q] = {name: float(values.get(m, 0.0)) for name, m in MEASURES.items()}
    n = max(len(per_query), 1)
    mean = {name: sum(v[name] for v in per_query.values()) / n for name in MEASURES}
    return mean, per_query
