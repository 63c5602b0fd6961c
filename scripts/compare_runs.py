"""One table from rag.eval run directories named by hand, for runs whose overrides do not tell
them apart (the same settings before and after a code change):

    python scripts/compare_runs.py [--part tune|test] LABEL=DIR [LABEL=DIR ...]
    python scripts/compare_runs.py --matrix ROOT     # ROOT/<dataset>/<candidate>/results.json

The first run is the baseline. Each row: nDCG@10, MRR@10, top-1 over the questions the runs
share (``--part`` keeps one seeded part of them, rag.dataset.seeded_part), the mean difference
from the baseline and its Wilcoxon p, Holm-adjusted over the rows compared (rag.report's own
test and adjustment). ``--matrix``: nDCG@10 of every candidate (rows) on every dataset
(columns) under ROOT, and the mean over the datasets it ran on, each dataset counting once.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.dataset import seeded_part
from rag.report import _per_query, holm, paired_test


def per_query(run: Path, metric: str, part: str | None) -> dict[str, float]:
    scores = _per_query({"_dir": run}, metric)  # as rag.report reads a run
    return {q: v for q, v in scores.items() if part is None or seeded_part(q) == part}


def matrix(root: Path) -> None:
    cells: dict[str, dict[str, float]] = {}
    queries: dict[str, int] = {}
    for result in sorted(root.glob("*/*/results.json")):
        run = json.loads(result.read_text())
        dataset, candidate = result.parent.parent.name, result.parent.name
        cells.setdefault(candidate, {})[dataset] = run["metrics"]["ndcg@10"]
        queries[dataset] = run["dataset"]["queries"]
    datasets = sorted(queries)
    print("| candidate | " + " | ".join(f"{d} ({queries[d]})" for d in datasets)
          + " | mean |\n|---|" + "---|" * (len(datasets) + 1))
    best = {d: max(r.get(d, 0) for r in cells.values()) for d in datasets}
    for candidate, row in sorted(cells.items(), key=lambda kv: -sum(kv[1].values()) / len(kv[1])):
        shown = [(f"**{row[d]:.4f}**" if row[d] == best[d] else f"{row[d]:.4f}") if d in row
                 else "–" for d in datasets]
        print(f"| {candidate} | " + " | ".join(shown)
              + f" | {sum(row.values()) / len(row):.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=DIR")
    parser.add_argument("--part", choices=["tune", "test"])
    parser.add_argument("--matrix", action="store_true", help="runs: one ROOT folder")
    args = parser.parse_args()
    if args.matrix:
        matrix(Path(args.runs[0]))
        return
    runs = [(label, Path(d)) for label, d in (r.split("=", 1) for r in args.runs)]
    scores = {label: {m: per_query(d, m, args.part) for m in ("ndcg@10", "mrr@10", "top1")}
              for label, d in runs}
    base = runs[0][0]
    tests = {label: paired_test(scores[base]["ndcg@10"], scores[label]["ndcg@10"])
             for label, _ in runs[1:]}
    adjusted = dict(zip(tests, holm([p for _, p in tests.values()]), strict=True))
    n = len(scores[base]["ndcg@10"])
    print(f"| run ({n} questions{', ' + args.part + ' part' if args.part else ''}) "
          "| nDCG@10 | MRR@10 | top-1 | Δ nDCG@10 | p (Holm) |\n|---|---|---|---|---|---|")
    for label, _ in runs:
        s = {m: sum(v.values()) / len(v) for m, v in scores[label].items()}
        delta, p = "—", "—"
        if label != base:
            star = " *" if adjusted[label] < 0.05 else ""
            delta, p = f"{tests[label][0]:+.4f}", f"{adjusted[label]:.2g}{star}"
        print(f"| {label} | {s['ndcg@10']:.4f} | {s['mrr@10']:.4f} | {s['top1']:.3f} "
              f"| {delta} | {p} |")


if __name__ == "__main__":
    main()
