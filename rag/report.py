"""Turn evaluation runs into one decision table and plot.

    python -m rag.report <sweep or eval dir> [more dirs] [--baseline TEXT] [--out DIR]
                         [--selected TEXT --on "where it was chosen" ...]

Reads every results.json below the given directories and writes summary.csv, summary.md
(quality, latency, storage per configuration, with a paired significance test of each
configuration against the baseline, Holm-adjusted for the number of rows compared) and
pareto.png (nDCG@10 against p50 latency, marker area proportional to bytes per chunk).
Every row names the questions it was measured on; ``--selected`` names the questions a
configuration was chosen on, so a reader sees that a figure is not measured where it was tuned.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

COLUMNS = [  # (header, how to read it from results.json, format)
    ("nDCG@10", lambda r: r["metrics"]["ndcg@10"], "{:.4f}"),
    ("R@10", lambda r: r["metrics"]["recall@10"], "{:.4f}"),
    ("R@100", lambda r: r["metrics"]["recall@100"], "{:.4f}"),
    ("MRR@10", lambda r: r["metrics"]["mrr@10"], "{:.4f}"),
    ("top-1", lambda r: r["metrics"]["top1"], "{:.3f}"),
    ("top-5", lambda r: r["metrics"]["top5"], "{:.3f}"),
    ("p50 ms", lambda r: r["latency_ms"]["total_ms"]["p50"], "{:.1f}"),
    ("p95 ms", lambda r: r["latency_ms"]["total_ms"]["p95"], "{:.1f}"),
    ("search p50 ms", lambda r: r["latency_ms"]["search_ms"]["p50"], "{:.2f}"),
    ("QPS", lambda r: r["qps"], "{:.1f}"),
    ("B/chunk", lambda r: r["bytes_per_chunk_searched"], "{:.0f}"),
    ("GB per 1M chunks", lambda r: r["projected_gb_per_1m_chunks"], "{:.2f}"),
    ("peak MB", lambda r: r["peak_rss_mb"], "{:.0f}"),
    # embedding services only: tokens billed for this run, and their price from config
    ("API tokens", lambda r: r["embedding_api"]["tokens"], "{:,}"),
    ("API $", lambda r: r["embedding_api"]["cost_usd"], "{:.4f}"),
    # answer quality (rag.eval with an answerer; rag.answer_metrics)
    ("correct", lambda r: r["answers"]["correct"], "{:.3f}"),
    ("F1", lambda r: r["answers"]["f1"], "{:.3f}"),
    ("EM", lambda r: r["answers"]["em"], "{:.3f}"),
    ("contains", lambda r: r["answers"]["contains"], "{:.3f}"),
    ("cite P", lambda r: r["answers"]["citation_precision"], "{:.3f}"),
    ("cite R", lambda r: r["answers"]["citation_recall"], "{:.3f}"),
    ("support", lambda r: r["answers"]["support"], "{:.3f}"),
    ("abstained", lambda r: r["answers"]["abstained"], "{:.3f}"),
    ("wrongly declined", lambda r: r["answers"]["wrongly_declined"], "{:.3f}"),
    ("TTFT p50 ms", lambda r: r["latency_ms"]["first_token_ms"]["p50"], "{:.0f}"),
    ("answer p50 ms", lambda r: r["latency_ms"]["answer_ms"]["p50"], "{:.0f}"),
]
# per-question measures a paired test can compare (per_query.json key -> column); by default
# answer F1 when every row answered, else nDCG@10
TESTED = {"ndcg@10": "nDCG@10", "recall@10": "R@10", "recall@100": "R@100", "mrr@10": "MRR@10",
          "answer_f1": "F1", "answer_correct": "correct", "answer_contains": "contains"}


def load(dirs: list[Path]) -> list[dict]:
    rows = []
    for d in dirs:
        for path in sorted(d.rglob("results.json"), key=lambda p: _job_order(p, d)):
            result = json.loads(path.read_text())
            result["_dir"] = path.parent
            rows.append(result)
    if not rows:
        sys.exit(f"no results.json under {', '.join(map(str, dirs))}: run python -m rag.eval first")
    # Label each row by what sets it apart: the overrides that not every row shares.
    common = set.intersection(*(set(r["overrides"]) for r in rows)) if len(rows) > 1 else set()
    for r in rows:
        own = " ".join(o for o in r["overrides"] if o not in common)
        # among several runs, the one that sets nothing of its own ran the defaults
        r["label"] = own or ("defaults" if len(rows) > 1 else r["label"])
    return rows


def _job_order(path: Path, root: Path) -> tuple:
    parts = path.parent.relative_to(root).parts
    return tuple(int(p) if p.isdigit() else math.inf for p in parts), str(path)


def paired_test(base: dict[str, float], other: dict[str, float]) -> tuple[float, float]:
    """Mean difference and two-sided p-value (Wilcoxon signed-rank) over shared queries."""
    from scipy.stats import wilcoxon

    shared = sorted(set(base) & set(other))
    diffs = [other[q] - base[q] for q in shared]
    if not shared or all(d == 0 for d in diffs):
        return 0.0, 1.0
    return sum(diffs) / len(diffs), float(wilcoxon(diffs, zero_method="wilcox").pvalue)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment: the i-th smallest of m p-values times (m - i), kept
    monotone and capped at 1; controls the family-wise error over all the comparisons."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def _per_query(row: dict, metric: str = "ndcg@10") -> dict[str, float]:
    per = json.loads((row["_dir"] / "per_query.json").read_text())
    return {q: v[metric] for q, v in per.items() if metric in v}


def tested_metric(rows: list[dict]) -> str:
    return "answer_f1" if all(r.get("answers") for r in rows) else "ndcg@10"


def summarise(rows: list[dict], baseline: str | None, alpha: float = 0.05,
              metric: str | None = None, selected: dict[str, str] | None = None) -> list[dict]:
    metric = metric or tested_metric(rows)
    name = TESTED[metric]
    base = rows[0]
    if baseline:
        matches = [r for r in rows if baseline in r["label"]]
        if not matches:
            sys.exit(f"no configuration label contains {baseline!r}")
        base = matches[0]
    base_q = _per_query(base, metric)
    table = []
    for r in rows:
        entry = {"configuration": r["label"], "dataset": r["dataset"]["name"],
                 "measured on": r["dataset"].get("split", "test"),
                 "selected on": next((where for text, where in (selected or {}).items()
                                      if text in r["label"]), None),
                 "queries": r["dataset"]["queries"]}
        for header, get, _ in COLUMNS:
            try:
                entry[header] = get(r)
            except (KeyError, TypeError):
                entry[header] = None
        delta, p = paired_test(base_q, _per_query(r, metric)) if r is not base else (0.0, 1.0)
        entry["tested"] = name
        entry["Δ vs baseline"] = delta
        entry["p (Wilcoxon)"] = p
        entry["baseline"] = r is base
        table.append(entry)
    others = [e for e in table if not e["baseline"]]
    for e, adjusted in zip(others, holm([e["p (Wilcoxon)"] for e in others]), strict=True):
        e["p (Holm)"] = adjusted
    for e in table:
        e.setdefault("p (Holm)", 1.0)
        e["significant"] = not e["baseline"] and e["p (Holm)"] < alpha
    return table


def write_csv(table: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def write_markdown(table: list[dict], path: Path, alpha: float = 0.05) -> None:
    # a column no run has a value for (API tokens without an API embedder) is left out
    fmt = {h: f for h, _, f in COLUMNS if any(e[h] is not None for e in table)}
    name = table[0]["tested"]
    selected = any(e["selected on"] for e in table)
    headers = ["configuration", "measured on", *(["selected on"] if selected else []), *fmt,
               f"Δ{name}", "p", "p (Holm)"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    best = max(table, key=lambda e: e[name] or 0)
    for e in table:
        label = e["configuration"] + (" (baseline)" if e["baseline"] else "")
        if e is best:
            label = f"**{label}**"
        cells = [label, e["measured on"], *([e["selected on"] or "–"] if selected else [])]
        cells += [fmt[h].format(e[h]) if e[h] is not None else "–" for h in fmt]
        mark = "" if e["baseline"] else (" *" if e["significant"] else "")
        cells += [f"{e['Δ vs baseline']:+.4f}", f"{e['p (Wilcoxon)']:.3g}",
                  f"{e['p (Holm)']:.3g}{mark}"]
        lines.append("| " + " | ".join(cells) + " |")
    base = next(e for e in table if e["baseline"])
    verdict = ("the baseline itself" if best is base else
               f"{best['Δ vs baseline']:+.4f} {name} over the baseline, "
               f"{'significant' if best['significant'] else 'not significant'} "
               f"(Wilcoxon signed-rank, p = {best['p (Wilcoxon)']:.3g}, Holm-adjusted over "
               f"{len(table) - 1} comparisons {best['p (Holm)']:.3g}, α = {alpha})")
    datasets = sorted({f"{e['dataset']} ({e['queries']} queries)" for e in table})
    text = "\n".join([
        f"Dataset: {', '.join(datasets)}. Baseline: `{base['configuration']}`.",
        "",
        *lines,
        "",
        f"Best: `{best['configuration']}`: {verdict}. `*` marks a Holm-adjusted p < {alpha} "
        f"against the baseline, paired over queries. \"measured on\" is the split (and "
        f"seeded part) whose questions the row is scored on; \"selected on\", where shown, "
        f"the questions a configuration was chosen on. Latency is per query after start-up, "
        f"sequential, on this machine; B/chunk counts the stored vectors the plan searches "
        f"(float32 dense, u32 index + f32 value per sparse entry; payload excluded), and GB per 1M "
        f"chunks projects it.",
        "",
    ])
    path.write_text(text, encoding="utf-8")


def short_label(label: str) -> str:
    """'retriever.mrl_dim=128' -> 'mrl_dim=128': the group prefix repeats on every row."""
    return " ".join(part.split("=", 1)[0].rsplit(".", 1)[-1] + "=" + part.split("=", 1)[1]
                    if "=" in part else part for part in label.split())


def write_plot(table: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, key) = plt.subplots(1, 2, figsize=(12, 5.5), width_ratios=[3, 2])
    sizes = [max(e["B/chunk"] or 0, 1) for e in table]
    scale = 600 / max(sizes)
    for i, (e, size) in enumerate(zip(table, sizes, strict=True), 1):
        ax.scatter(e["p50 ms"], e["nDCG@10"], s=size * scale, alpha=0.5,
                   edgecolors="black", color="tab:red" if e["baseline"] else "tab:blue")
        ax.annotate(str(i), (e["p50 ms"], e["nDCG@10"]), fontsize=8, ha="center",
                    va="center")
    ax.set_xlabel("p50 query latency (ms, after start-up)")
    ax.set_ylabel("nDCG@10")
    ax.set_title("Quality vs latency\n(marker area ∝ bytes per chunk searched; red = baseline)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    key.axis("off")
    lines = [f"{i}  {short_label(e['configuration'])}" for i, e in enumerate(table, 1)]
    key.text(0, 1, "\n".join(lines), va="top", fontsize=8, family="monospace",
             transform=key.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m rag.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="sweep or eval run directories")
    parser.add_argument("--baseline", help="text in the baseline's label (default: first job)")
    parser.add_argument("--out", type=Path, help="output directory (default: the first dir)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--metric", choices=sorted(TESTED),
                        help="per-question measure to test and rank by (default: answer_f1 "
                             "when every run answered, else ndcg@10)")
    parser.add_argument("--selected", action="append", default=[], metavar="TEXT",
                        help="rows whose label contains TEXT were chosen on the questions "
                             "named by the matching --on; repeatable, in pairs")
    parser.add_argument("--on", action="append", default=[], metavar="WHERE",
                        help="where the matching --selected rows were chosen, e.g. "
                             "'insuranceqa_en valid'")
    args = parser.parse_args(argv)
    if len(args.selected) != len(args.on):
        parser.error("give one --on for every --selected")
    selected = dict(zip(args.selected, args.on, strict=True))
    table = summarise(load(args.dirs), args.baseline, args.alpha, args.metric, selected)
    out = args.out or args.dirs[0]
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "summary.csv")
    write_markdown(table, out / "summary.md", args.alpha)
    write_plot(table, out / "pareto.png")
    print((out / "summary.md").read_text())
    print(f"wrote {out / 'summary.csv'}, {out / 'summary.md'}, {out / 'pareto.png'}")
    return out


if __name__ == "__main__":
    main()
