"""Serving benchmark: a real rag.serve process on loopback, driven by 1, 8 and 32 clients.

    python scripts/bench_serve.py --chunks 0 100000 --clients 1 8 32 --requests 1000
    (make bench runs it; --chunks 0 is the sample corpus, 100000 InsuranceQA en chunks scaled
    as in scripts/bench.py query, vectors from the embedding cache)

For each corpus and client count, a fixed number of requests to /v1/search and to /v1/answer
(extractive): QPS, client-side p50/p99, the server's own time (p50 of the sum of timings_ms:
query encoding + search, or the answer's total; in a batch the encoders' time is the batch's),
its search time alone, and errors (must be 0). Then the server's RSS before and after
--rss-requests more searches.
Figures are from one run on a shared machine: compare them as ratios within the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.server.process import ServerProcess  # noqa: E402
from scripts.bench import markdown, questions, scaled_corpus  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drive(url: str, path: str, bodies: list[dict], clients: int) -> dict:
    """Send every body once, from ``clients`` threads each with its own connection."""
    latency: list[float] = []
    server_ms: list[float] = []  # the server's own time: query encoders + search (+ answer)
    search_ms: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def client() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=120) as c:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                t = time.perf_counter()
                r = c.post(path, json=body)
                ms = (time.perf_counter() - t) * 1e3
                with lock:
                    if r.status_code != 200:
                        errors += 1
                        continue
                    latency.append(ms)
                    t = r.json()["timings_ms"]
                    search_ms.append(t["search_ms"])
                    server_ms.append(t.get("total_ms") or sum(t.values()))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {"requests": len(bodies), "QPS": len(latency) / wall,
            "p50 ms": statistics.median(latency), "p99 ms": float(np.percentile(latency, 99)),
            "server p50 ms": statistics.median(server_ms),
            "server search p50 ms": statistics.median(search_ms), "errors": errors}


def bench(chunks: int, clients: list[int], n: int, rss_requests: int, tmp: Path) -> list[dict]:
    asked = questions(2000) if chunks else [
        "How long is the warranty on the espresso machine?", "How often should I descale?",
        "How many days of paid annual leave do employees get?",
        "一线城市出差住宿每晚可以报销多少钱？"]
    corpus, overrides = ROOT / "data" / "sample", []
    if chunks:
        corpus = scaled_corpus(chunks, tmp / "corpus", ROOT / "data")
        overrides = ["corpus=beir", f"paths.cache={ROOT / 'data' / 'cache'}"]
    server = ServerProcess(corpus, tmp / "data", tmp / "server.log", *overrides)
    rows = []
    try:
        points = httpx.get(server.url + "/healthz", timeout=60).json()["points"]
        for path, key in (("/v1/search", "query"), ("/v1/answer", "question")):
            bodies = [{key: asked[i % len(asked)]} for i in range(n)]
            drive(server.url, path, bodies[:20], 1)  # warm-up
            for c in clients:
                row = {"chunks": points, "endpoint": path, "clients": c,
                       **drive(server.url, path, bodies, c)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
        before = rss_mb(server.proc.pid)
        more = drive(server.url, "/v1/search",
                     [{"query": asked[i % len(asked)]} for i in range(rss_requests)], 8)
        after = rss_mb(server.proc.pid)
        rows.append({"chunks": points, "endpoint": f"RSS over {rss_requests} searches",
                     "clients": 8, "requests": rss_requests, "errors": more["errors"],
                     "RSS before MB": before, "RSS after MB": after})
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 100000])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rss-requests", type=int, default=10000)
    parser.add_argument("--out", type=Path, help="write the run to OUT.md and OUT.json")
    args = parser.parse_args()
    rows = []
    for chunks in args.chunks:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.pop("RAG_API_KEY", None)
            rows += bench(chunks, args.clients, args.requests, args.rss_requests, Path(tmp))
    for r in rows:  # the ratio the issue asks about, within this run
        one = next((x for x in rows if x["chunks"] == r["chunks"] and x["endpoint"] ==
                    r["endpoint"] and x["clients"] == 1), None)
        if one and "QPS" in r:
            r["QPS / 1 client"] = r["QPS"] / one["QPS"]
    print(markdown(rows))
    if args.out:
        from run_record import write_run

        write_run(args.out, rows, markdown(rows), settings={"stack": "default"})


if __name__ == "__main__":
    main()
