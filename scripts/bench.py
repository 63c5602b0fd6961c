"""Speed benchmarks: rag's indexing against the raw model, and query latency per stage.

    python scripts/bench.py index --chunks 10000 --repeats 3
    python scripts/bench.py query --chunks 10000 100000 --queries 500
    python scripts/bench.py peer --passages 8000 --queries 500
    python scripts/bench.py ray --chunks 3000 --repeats 3
    python scripts/bench.py footprint --chunks 10000 31115
    python scripts/bench.py scale --chunks 10000 30000 100000 300000 --queries 300

Data: InsuranceQA en (``make data``) chunk texts; beyond its 31,115 chunks the query benchmark
adds copies of real chunks whose vectors are the originals' plus small noise (re-normalised),
so search cost is measured at 100k points without embedding 70k more texts. Figures are medians
over repeats in one run, printed as a Markdown table (machines here are shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.dataset import BeirDataset  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.retriever import configured  # noqa: E402

CORPUS = ROOT / "data" / "datasets" / "insuranceqa_en" / "corpus.jsonl"
QUERIES = ROOT / "data" / "datasets" / "insuranceqa_en" / "queries.jsonl"


def chunk_texts(limit: int, stack: tuple[str, ...] | None = None) -> list[str]:
    """The first ``limit`` distinct chunks of InsuranceQA en, as rag's chunker cuts them."""
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} missing: run `make data` first")
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = beir_pipeline(CORPUS, Path(tmp), stack=stack)
        documents, _ = pipeline.corpus.read()
        chunks = pipeline.chunker.split(documents)
    return list(dict.fromkeys(c.text for c in chunks))[:limit]


def write_corpus(texts: list[str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"_id": str(i), "title": "", "text": text}) + "\n")
    return folder / "corpus.jsonl"


# The stack these benchmarks measure: MiniLM + BM25 (experiment=en), the default until #30
# and what docs/benchmarks.md's figures and the llama-index peer (same MiniLM) were run with.
STACK = ("experiment=en",)


def beir_pipeline(corpus: Path, data: Path, *overrides: str,
                  stack: tuple[str, ...] | None = None) -> Pipeline:
    """A pipeline over a BEIR corpus; ``stack`` (default STACK) picks the models, () the
    project's default stack."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="eval", overrides=[
            *(STACK if stack is None else stack), "dataset=beir", f"dataset.path={corpus.parent}",
            f"paths.data={data}", f"paths.index={data / 'index'}", "progress=false", *overrides])
    return Pipeline.from_config(cfg)


# ---- indexing ----------------------------------------------------------------------------

def bench_index(n: int, repeats: int) -> dict:
    """Wall time of rag.index (read, chunk, embed, sparse-encode, upsert, prune) against the
    model encoding the same chunk texts in the same calls, alternating which runs first."""
    texts = chunk_texts(n)
    raw_s, rag_s, peak = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(texts, Path(tmp) / "corpus")
        for r in range(repeats):
            for which in (("raw", "rag") if r % 2 == 0 else ("rag", "raw")):
                data = Path(tmp) / f"run{r}-{which}"  # a fresh cache: every text is encoded
                pipeline = beir_pipeline(corpus, data)
                pipeline.embedder.encode_documents(texts[:64])  # load and warm up the model
                start = time.perf_counter()
                if which == "raw":
                    for i in range(0, len(texts), pipeline.block_size):
                        pipeline.embedder.encode_documents(texts[i : i + pipeline.block_size])
                    raw_s.append(time.perf_counter() - start)
                else:
                    report = pipeline.index()
                    rag_s.append(time.perf_counter() - start)
                    assert report.points == len(texts), report
                pipeline.close()
                peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    raw, rag = statistics.median(raw_s), statistics.median(rag_s)
    return {"chunks": len(texts), "raw_s": raw, "rag_s": rag, "overhead": rag / raw,
            "chunks_per_s": len(texts) / rag, "peak_rss_mb": max(peak), "repeats": repeats}


# ---- Ray ---------------------------------------------------------------------------------

RAY_SETTINGS = {
    "one process": (),
    "ray, 1 actor x 2 CPUs": ("runner=ray", "runner.actors=1", "runner.cpus_per_actor=2"),
    "ray, 2 actors x 1 CPU": ("runner=ray", "runner.actors=2", "runner.cpus_per_actor=1"),
}


def bench_ray(n: int, repeats: int) -> list[dict]:
    """rag.index with runner=ray against one process on the same cores and chunks, a fresh
    cache each run, the order of the settings alternating between repeats. The actors are
    started and warmed before the clock starts (start-up is reported on its own)."""
    import os

    import ray

    texts = chunk_texts(n)
    cores = os.cpu_count() or 1
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False,
             object_store_memory=512 << 20, configure_logging=False)
    seconds: dict[str, list[float]] = {k: [] for k in RAY_SETTINGS}
    starts: dict[str, list[float]] = {k: [] for k in RAY_SETTINGS}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = write_corpus(texts, Path(tmp) / "corpus")
            for r in range(repeats):
                names = list(RAY_SETTINGS) if r % 2 == 0 else list(reversed(RAY_SETTINGS))
                for i, name in enumerate(names):
                    pipeline = beir_pipeline(corpus, Path(tmp) / f"run{r}-{i}",
                                             *RAY_SETTINGS[name])
                    start = time.perf_counter()
                    pipeline.encoder.encode_documents(texts[:64])
                    starts[name].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    report = pipeline.index()
                    seconds[name].append(time.perf_counter() - start)
                    assert report.points == len(texts) == report.encoded, report
                    pipeline.close()
    finally:
        ray.shutdown()
    one = statistics.median(seconds["one process"])
    rows = []
    for name, args in RAY_SETTINGS.items():
        s = statistics.median(seconds[name])
        actors = int(dict(a.split("=") for a in args).get("runner.actors", 1))
        rows.append({"setting": name, "cores": cores, "chunks": len(texts), "index_s": s,
                     "chunks/s": len(texts) / s, "chunks/s per actor": len(texts) / s / actors,
                     "time vs one process": s / one,
                     "start_s": statistics.median(starts[name]), "repeats": repeats})
    return rows


def bench_footprint(n: int, data: Path) -> dict:
    """Disk per chunk of the default index (edge, hybrid: 384-d float dense + BM25 + payload),
    vectors from the embedding cache: what docs/scaling.md multiplies by 10M and 100M."""
    texts = chunk_texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(texts, Path(tmp) / "corpus")
        pipeline = beir_pipeline(corpus, Path(tmp), f"paths.cache={data / 'cache'}")
        report = pipeline.index()
        pipeline.close()
        folder = Path(tmp) / "index"
        disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        sample = [json.dumps(c.payload(), ensure_ascii=False).encode()
                  for c in pipeline.chunker.split(pipeline.corpus.read()[0][:2000])]
    return {"chunks": report.points, "encoded": report.encoded, "disk_MB": disk / 1e6,
            "disk B/chunk": disk / report.points,
            "payload JSON B/chunk": statistics.mean(len(p) for p in sample)}


# ---- queries -----------------------------------------------------------------------------

def questions(n: int) -> list[str]:
    with QUERIES.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows if r["_id"].startswith("test-")][:n]


def scaled_corpus(n: int, folder: Path, data: Path, *overrides: str,
                  stack: tuple[str, ...] | None = None, cache_dir: Path | None = None) -> Path:
    """n chunk texts with their vectors in an embedding cache: real chunks first, then copies
    ("text [k]") whose vectors are the original's plus noise, re-normalised. The copies go to
    ``cache_dir`` (with the real vectors) when given, else to the shared cache under data."""
    from rag.embedder.cache import EmbeddingCache, text_hash

    texts = chunk_texts(n, stack)
    probe = beir_pipeline(write_corpus(texts, folder), data, *overrides, stack=stack)
    vectors = probe.embed_documents(texts)  # from the shared cache after a first run
    copies = [f"{texts[k % len(texts)]} [{k // len(texts) + 1}]"
              for k in range(max(0, n - len(texts)))]
    corpus = write_corpus(texts + copies, folder)
    cache = EmbeddingCache((cache_dir or Path(probe.cache_dir)) / "embeddings",
                           probe.embedder.fingerprint)
    if cache_dir is not None:
        cache.put(texts, vectors)
    if copies:
        # The suffix can push a copy over the chunker's token budget, so cache a vector for
        # every chunk the chunker makes of the copies, not for the copies as written.
        documents, _ = probe.corpus.read()
        source = {c.text: int(c.doc_id) % len(texts) for c in probe.chunker.split(documents)
                  if int(c.doc_id) >= len(texts)}
        cached = cache.get(list(source))
        missing = [t for t in source if text_hash(t) not in cached]
        rng = np.random.default_rng(0)
        for i in range(0, len(missing), 50_000):  # bounded memory at 300k points
            part = missing[i : i + 50_000]
            noisy = np.stack([vectors[source[t]] for t in part]) + rng.normal(
                scale=0.05, size=(len(part), vectors.shape[1])).astype(np.float32)
            cache.put(part, noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    cache.close()
    probe.close()
    return corpus


def stage_latency(pipeline: Pipeline, asked: list[str]) -> dict[str, float]:
    """p50 and p95 ms of each search stage over the questions, after ten warm-up searches
    (which also fill the script gate's count, cached per range)."""
    for q in asked[:10]:
        pipeline.search(q, 10)
    stages: dict[str, list[float]] = {}
    for q in asked:
        timings: dict = {}
        pipeline.search(q, 10, timings)
        for stage, ms in timings.items():
            stages.setdefault(stage, []).append(ms)
    return {**{f"{stage} p50": statistics.median(v) for stage, v in stages.items()},
            **{f"{stage} p95": float(np.percentile(v, 95)) for stage, v in stages.items()}}


PLANS = {
    "dense, full 384-d": ["retriever=dense", "retriever.mrl_dim=null"],
    "dense, MRL 256 → 384": ["retriever=dense", "retriever.mrl_dim=256"],
    "dense, MRL 128 → 384": ["retriever=dense", "retriever.mrl_dim=128"],
    "dense, MRL 64 → 384": ["retriever=dense", "retriever.mrl_dim=64"],
    "hybrid (BM25 + MRL 128 → 384, RRF)": ["retriever=hybrid", "retriever.mrl_dim=128"],
}
STORES = {"qdrant-edge (embedded)": ["store=edge"],
          "qdrant-client local mode": ["store=memory"]}


def bench_query(n: int, n_queries: int, data: Path, local_queries: int) -> list[dict]:
    rows = []
    asked = questions(max(n_queries, local_queries))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = scaled_corpus(n, Path(tmp) / "corpus", data)
        for store, store_args in STORES.items():
            for plan, plan_args in PLANS.items():
                if store_args == ["store=memory"] and "hybrid" not in plan and "full" not in plan:
                    continue  # local mode is brute force: one dense and one hybrid row suffice
                pipeline = beir_pipeline(corpus, data, *store_args, *plan_args,
                                         f"paths.index={Path(tmp) / 'index'}")
                start = time.perf_counter()
                report = pipeline.index()  # every vector is cached: the framework's own time
                build_s = time.perf_counter() - start
                assert report.encoded == 0, "the query benchmark expects a warm cache"
                # local mode searches by brute force (0.3-3 s a hybrid query at 10k-100k): fewer
                # questions give the same medians in minutes instead of half an hour
                qs = asked[: local_queries if "memory" in store_args[0] else n_queries]
                latency = stage_latency(pipeline, qs)
                pipeline.close()
                rows.append({"chunks": report.points, "store": store, "plan": plan,
                             "queries": len(qs), "index s (cached vectors)": build_s,
                             **latency})
                print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


# ---- scale: the writer and search at growing sizes, today's default ----------------------

def _timed(obj, name: str, seconds: dict[str, float]) -> None:
    """Wrap obj.name so its wall time adds up in seconds[name]."""
    inner = getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

    setattr(obj, name, wrapper)


def bench_scale(n: int, n_queries: int, data: Path) -> dict:
    """The default stack (e5-small + BM25 over character n-grams, the default hybrid plan)
    indexed into a new embedded store with every vector cached, so the run is the one writer's
    own work: reading and chunking, the cache lookup, BM25 and payloads (``points``), the
    upserts and the HNSW build (``optimize``), each timed. Then the default plan's search with
    HNSW at every size (store.exact_below=0; the default searches exactly below 20,000)."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        corpus = scaled_corpus(n, Path(tmp) / "corpus", data, stack=(), cache_dir=cache)
        pipeline = beir_pipeline(corpus, Path(tmp), "store.exact_below=0",
                                 f"paths.cache={cache}", stack=())
        pipeline.warm_up()
        seconds: dict[str, float] = {}
        _timed(pipeline, "embed", seconds)
        _timed(pipeline, "points", seconds)
        _timed(pipeline.store, "upsert", seconds)
        _timed(pipeline.store, "optimize", seconds)
        start = time.perf_counter()
        report = pipeline.index()
        total = time.perf_counter() - start
        assert report.encoded == 0 and report.points >= n, report
        asked = questions(n_queries)
        latency = stage_latency(pipeline, asked)
        pipeline.close()
        disk = sum(f.stat().st_size for f in (Path(tmp) / "index").rglob("*") if f.is_file())
    rest = total - sum(seconds.values())
    row = {"chunks": report.points, "index_s": total,
           "read+chunk+prune s": rest, "cache lookup s": seconds["embed"],
           "BM25+payload s": seconds["points"], "upsert s": seconds["upsert"],
           "HNSW build s": seconds["optimize"],
           "writer chunks/s": report.points / total,
           "upsert chunks/s": report.points / seconds["upsert"],
           "disk B/chunk": disk / report.points, "queries": len(asked), **latency}
    print(json.dumps(row), file=sys.stderr)
    return row


# ---- the peer pipeline --------------------------------------------------------------------

def subset(source: Path, n_queries: int, n_passages: int, folder: Path) -> Path:
    """A BEIR folder with the first n_queries test questions and n_passages passages: every
    passage judged for those questions, then the corpus in file order as distractors."""
    dataset = BeirDataset(str(source), max_queries=n_queries)
    queries, qrels = dataset.queries(), dataset.qrels()
    wanted = {d for q in queries for d in qrels[q]}
    with (source / "corpus.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    keep = [r for r in rows if str(r["_id"]) in wanted]
    keep += [r for r in rows if str(r["_id"]) not in wanted][: max(0, n_passages - len(keep))]
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in keep)
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n"
                     for q, t in queries.items())
    with (folder / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t{s}\n" for q in queries for d, s in qrels[q].items())
    return folder


def bench_peer(n_queries: int | None, folder: Path) -> list[dict]:
    """rag against the llama-index pipeline a user would otherwise build: VectorStoreIndex over
    QdrantVectorStore(enable_hybrid=True) with the same MiniLM, the same BM25 (rag's encoder as
    its sparse_doc_fn / sparse_query_fn), the same chunks and the same questions, both indexing
    from an empty embedding cache. Quality by the same trec_eval code."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient, models

    from rag.metrics import evaluate
    from rag.models import resolve_model

    corpus = folder / "corpus.jsonl"
    dataset = BeirDataset(str(folder), max_queries=n_queries)
    queries, qrels = dataset.queries(), dataset.qrels()
    qrels = {q: qrels[q] for q in queries}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # rag: experiment=en as conf/ holds it, exact search, from an empty cache
        rag = beir_pipeline(corpus, Path(tmp) / "rag", "store.exact_below=1000000")
        rag.embedder.encode_documents(["warm up"])
        start = time.perf_counter()
        report = rag.index()
        rag_index_s = time.perf_counter() - start
        chunks = rag.chunker.split(rag.corpus.read()[0])
        # query-time plans over the same index: the defaults (chosen on tuning questions,
        # docs/results/tuning.md), the default before that, the peer's own plan run by rag
        # (full-dimension dense and BM25 top 100 each, relative score fusion, alpha 0.5) and
        # dense alone
        d = rag.retriever
        plans = {f"rag experiment=en ({d.mode}, {d.fusion}, alpha {d.alpha})": d,
                 "rag previous default (hybrid, RRF k=60)": configured(
                     fusion="rrf", rrf_k=60, mrl_dim=128, mrl_limit=100, dense_limit=50,
                     sparse_limit=50),
                 "rag with the peer's plan (relative, alpha 0.5, full-dim top 100 each)":
                     configured(fusion="relative", alpha=0.5, mrl_dim=None, dense_limit=100,
                                sparse_limit=100),
                 "rag dense, full 384-d": configured(mode="dense", mrl_dim=None)}
        for name, retriever in plans.items():
            rag.retriever = retriever
            run, latency = {}, []
            for qid, text in queries.items():
                t = time.perf_counter()
                hits = rag.search(text, 100)
                latency.append((time.perf_counter() - t) * 1e3)
                run[qid] = _collapse([(h.payload["doc_id"], h.score) for h in hits])
            rows.append({"pipeline": name, "chunks": report.chunks,
                         "nDCG@10": evaluate(qrels, run)[0]["ndcg@10"],
                         "index s": rag_index_s, "query p50 ms": statistics.median(latency)})
        rag.close()

        # llama-index: the standard hybrid pipeline
        bm25 = rag.sparse

        def sparse(encode):
            def fn(texts):
                vectors = encode(list(texts))
                return [list(i) for i, _ in vectors], [list(v) for _, v in vectors]
            return fn

        store = QdrantVectorStore(
            collection_name="peer", client=QdrantClient(location=":memory:"),
            enable_hybrid=True, sparse_doc_fn=sparse(bm25.encode_documents),
            sparse_query_fn=sparse(bm25.encode_queries), batch_size=256,
            sparse_config=models.SparseVectorParams(modifier=models.Modifier.IDF))
        embed = HuggingFaceEmbedding(model_name=str(resolve_model(rag.embedder.model)),
                                     embed_batch_size=rag.embedder.batch_size, device="cpu")
        embed.get_text_embedding("warm up")
        unique = {c.point_id: c for c in chunks}
        nodes = [TextNode(id_=pid, text=c.text, metadata={"doc_id": c.doc_id},
                          excluded_embed_metadata_keys=["doc_id"],
                          excluded_llm_metadata_keys=["doc_id"]) for pid, c in unique.items()]
        start = time.perf_counter()
        index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(
            vector_store=store), embed_model=embed, show_progress=False)
        peer_index_s = time.perf_counter() - start
        retriever = index.as_retriever(vector_store_query_mode="hybrid", similarity_top_k=100,
                                       sparse_top_k=100, hybrid_top_k=100)
        run, latency = {}, []
        for qid, text in queries.items():
            t = time.perf_counter()
            found = retriever.retrieve(text)
            latency.append((time.perf_counter() - t) * 1e3)
            run[qid] = _collapse([(n.node.metadata["doc_id"], n.score or 0.0) for n in found])
        rows.append({"pipeline": "llama-index VectorStoreIndex + QdrantVectorStore(hybrid)",
                     "chunks": len(nodes), "nDCG@10": evaluate(qrels, run)[0]["ndcg@10"],
                     "index s": peer_index_s, "query p50 ms": statistics.median(latency)})
    peer = rows[-1]
    for r in rows:  # ratios within this one run: the machine is shared and noisy
        r["ΔnDCG@10 vs peer"] = r["nDCG@10"] - peer["nDCG@10"]
        r["latency / peer's"] = r["query p50 ms"] / peer["query p50 ms"]
    return rows


def _collapse(scored: list[tuple[str, float]]) -> dict[str, float]:
    """Chunk hits to document scores, keeping the rank order (a document at its best chunk)."""
    out: dict[str, float] = {}
    for rank, (doc, _) in enumerate(scored):
        out.setdefault(doc, float(len(scored) - rank))
    return out


def markdown(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        out.append("| " + " | ".join(
            (f"{r[k]:+.4f}" if "Δ" in k else f"{r[k]:.4f}" if "nDCG" in k
             else f"{r[k]:.3f}" if "/" in k else f"{r[k]:.2f}") if isinstance(r.get(k), float)
            else str(r.get(k, "–")) for k in keys)
            + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["index", "query", "peer", "ray", "footprint", "scale"])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--local-queries", type=int, default=100,
                        help="query: questions for qdrant-client local mode (brute force)")
    parser.add_argument("--dataset", default=str(CORPUS.parent),
                        help="BEIR folder for the peer comparison (InsuranceQA en)")
    parser.add_argument("--passages", type=int, default=8000,
                        help="peer: judged passages of the questions plus distractors")
    parser.add_argument("--data", default=str(ROOT / "data"),
                        help="data dir whose embedding cache the query benchmark reuses")
    parser.add_argument("--out", type=Path,
                        help="write the run to OUT.md and OUT.json (git SHA, host, cores, "
                             "command, raw rows), e.g. docs/benchmarks-runs/scale")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    if args.what == "peer":
        with tempfile.TemporaryDirectory() as tmp:
            folder = subset(Path(args.dataset), args.queries, args.passages, Path(tmp))
            rows = bench_peer(args.queries, folder)
    for n in args.chunks if args.what != "peer" else []:
        if args.what == "index":
            rows.append(bench_index(n, args.repeats))
        elif args.what == "ray":
            rows.extend(bench_ray(n, args.repeats))
        elif args.what == "footprint":
            rows.append(bench_footprint(n, Path(args.data)))
        elif args.what == "scale":
            rows.append(bench_scale(n, args.queries, Path(args.data)))
        else:
            rows.extend(bench_query(n, args.queries, Path(args.data), args.local_queries))
    print(markdown(rows))
    if args.out:
        from run_record import write_run

        stack = "default" if args.what == "scale" else " ".join(STACK)
        write_run(args.out, rows, markdown(rows), settings={"stack": stack})


if __name__ == "__main__":
    main()
