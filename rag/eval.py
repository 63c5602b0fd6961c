"""Evaluate one configuration on a BEIR-style dataset: quality, latency, storage.

    python -m rag.eval dataset=insuranceqa_en [any pipeline override]
    python -m rag.eval -m retriever=dense,hybrid retriever.mrl_dim=64,128   # a sweep

    python -m rag.eval dataset=python_faq_qa answerer=extractive   # answers scored too

Writes results.json (metrics, latency, storage, index cost), per_query.json and run.json
(the BEIR run format) to the Hydra run directory, and returns nDCG@10 for sweepers. With an
answerer, every question is answered through Pipeline.ask and scored against the dataset's
gold answers, judged documents and unanswerable flags (rag.answer_metrics); answers.json
keeps each answer with its scores, and results.json their means under "answers".
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

from rag.cli import renamed_overrides, user_errors
from rag.store import DENSE, DENSE_MRL, quantized_bytes

log = logging.getLogger("rag.eval")


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "mean": float(arr.mean())}


def vector_bytes(samples: list[dict]) -> dict[str, float]:
    """Mean stored bytes per point for each named vector: float32 dense components,
    sparse entries as a u32 index plus an f32 value."""
    out: dict[str, list[int]] = {}
    for vectors in samples:
        for name, v in vectors.items():
            size = 8 * len(v[0]) if isinstance(v, tuple) else 4 * len(v)
            out.setdefault(name, []).append(size)
    return {name: float(np.mean(sizes)) for name, sizes in out.items()}


@hydra.main(config_path="../conf", config_name="eval", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import instantiate
    from tqdm import tqdm

    from rag.answer_metrics import score_answer, summarize
    from rag.errors import ConfigError
    from rag.metrics import MEASURES, collapse_to_documents, evaluate
    from rag.pipeline import Pipeline

    if cfg.eval.optimized_metric not in MEASURES:  # refused before an index is built
        raise ConfigError(f"eval.optimized_metric={cfg.eval.optimized_metric} is not measured: "
                          f"use one of {', '.join(MEASURES)}")
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    dataset = instantiate(cfg.dataset)
    queries, qrels = dataset.queries(), dataset.qrels()
    golds, unanswerable = dataset.answers(), dataset.unanswerable()
    pipeline = Pipeline.from_config(cfg)
    if cfg.eval.get("cache_queries"):  # a search over settings: encode each question once
        from rag.embedder.cache import CachedQueries

        pipeline.embedder = CachedQueries(pipeline.embedder, Path(cfg.paths.cache) / "embeddings")
    try:
        index = pipeline.index()
        log.info("index: %d chunks (%d embedded in %.1f s), %.1f s in all",
                 index.chunks, index.embedded, index.embed_seconds, index.seconds)
        run: dict[str, dict[str, float]] = {}
        latency: dict[str, list[float]] = {}
        start = time.perf_counter()
        answers: dict[str, dict] = {}
        for qid, text in tqdm(queries.items(), desc="queries", disable=not cfg.progress):
            # streamed when answering, so the time to the first token is measured
            response = pipeline.ask(text, cfg.eval.k,
                                    stream=(lambda _: None) if pipeline.answerer else None)
            if qid in qrels:
                run[qid] = collapse_to_documents(response.passages)
            if response.answer is not None:
                a = response.answer
                answers[qid] = {
                    "question": text, "answer": a.text, "gold": golds.get(qid, []),
                    "unanswerable": qid in unanswerable,
                    "cited": [h.payload["doc_id"] for _, h in a.cited()],
                    "attributed": a.attributed, "fallback": a.fallback,
                    "scores": score_answer(a, golds.get(qid, []), set(qrels.get(qid, {})),
                                           qid in unanswerable)}
            for stage, ms in response.timings_ms.items():
                latency.setdefault(stage, []).append(ms)
        wall = time.perf_counter() - start
        per_vector = vector_bytes(pipeline.store.sample_vectors(cfg.eval.storage_sample))
        searched = pipeline.retriever.searched_vectors
        embedder = pipeline.embedder
        api = ({"tokens": embedder.tokens, "requests": embedder.requests,
                "cost_usd": embedder.cost_usd} if hasattr(embedder, "tokens") else None)
    finally:
        pipeline.close()

    mean, per_query = evaluate({q: qrels[q] for q in run}, run)
    answer_means = None
    if answers:
        scores = {q: a["scores"] for q, a in answers.items()}
        answer_means = summarize(scores)
        for q, s in scores.items():  # per-question answer scores, for paired tests
            per_query.setdefault(q, {}).update(
                {f"answer_{k}": v for k, v in s.items() if v is not None})
    per_chunk = sum(per_vector.values())
    # what a search holds in RAM: a quantized copy of each dense vector when there is one
    quantization = cfg.store.get("quantization")
    in_search = {name: quantized_bytes(quantization, round(b / 4))
                 if quantization and name in (DENSE, DENSE_MRL) else b
                 for name, b in per_vector.items()}
    per_chunk_searched = sum(v for name, v in in_search.items() if name in searched)
    results = {
        "label": " ".join(hydra_cfg.overrides.task) or "default",
        "overrides": list(hydra_cfg.overrides.task),
        "choices": {k: v for k, v in hydra_cfg.runtime.choices.items()
                    if not k.startswith("hydra")},
        "dataset": {"name": dataset.name, "split": dataset.selection, "queries": len(queries),
                    "chunks": index.chunks, "documents": index.documents},
        "metrics": mean,
        "answers": answer_means,
        "latency_ms": {stage: percentiles(v) for stage, v in latency.items()},
        # query vectors from the cache: embed_query_ms and total_ms exclude the model
        "queries_cached": bool(cfg.eval.get("cache_queries")),
        "qps": len(queries) / wall if wall else None,
        "bytes_per_vector": per_vector,
        "bytes_per_chunk": per_chunk,
        "quantization": quantization,
        "bytes_per_vector_searched": in_search,
        # what this plan reads: a sparse-only plan would not need the dense vectors stored
        "bytes_per_chunk_searched": per_chunk_searched,
        "projected_gb_per_1m_chunks": per_chunk_searched * 1e6 / 1e9,
        "index": {"seconds": index.seconds, "embedded": index.embedded,
                  "encoded": index.encoded, "embed_seconds": index.embed_seconds,
                  # texts the model encoded per second (cache hits are not throughput)
                  "chunks_per_s": index.encoded / index.embed_seconds
                  if index.encoded and index.embed_seconds else None},
        "embedding_api": api,  # tokens billed by an embedding service (index + queries)
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "config": OmegaConf.to_container(cfg, resolve=False),
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (out_dir / "per_query.json").write_text(json.dumps(per_query))
    (out_dir / "run.json").write_text(json.dumps(run))
    if answers:
        (out_dir / "answers.json").write_text(json.dumps(answers, ensure_ascii=False))
    if answer_means:
        log.info("answers: F1 %.3f  EM %.3f  contains %.3f  citation P %s R %s  abstained %s",
                 *(answer_means.get(k) or 0 for k in ("f1", "em", "contains")),
                 *(f"{answer_means[k]:.3f}" if answer_means.get(k) is not None else "–"
                   for k in ("citation_precision", "citation_recall", "abstained")))
    log.info("%s  nDCG@10 %.4f  R@100 %.4f  MRR@10 %.4f  p50 %.1f ms  %.0f B/chunk  -> %s",
             results["label"], mean["ndcg@10"], mean["recall@100"], mean["mrr@10"],
             results["latency_ms"]["total_ms"]["p50"], per_chunk_searched, out_dir)
    return mean[cfg.eval.optimized_metric]


if __name__ == "__main__":
    sys.argv[1:] = renamed_overrides(sys.argv[1:])
    main()
