"""The test tables of docs/results/multilingual.md, from the runs that
``python -m rag.tune test multi|gate`` makes:

    python scripts/multilingual_table.py [RUNS]     # RUNS: data/multirun/tune/test_multi

Each collection's default row against e5 dense alone, the default without the script gate
(``previous``) and with its per-chunk filter (``gate_with_filter``; test_gate only) and the
English stack: Wilcoxon signed-rank over the
questions, Holm-adjusted over the row's comparisons. Columns no run has are left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

ROOT = Path(__file__).resolve().parent.parent
SETS = [f"insuranceqa_{n}" for n in ("en", "zh", "zh2en", "en2zh", "mixed")] + \
    [f"maint_guide_{n}" for n in ("en", "zh", "en2zh", "zh2en", "mixed")] + ["python_faq"]
OTHERS = {"dense": "e5 dense", "previous": "gate off", "gate_with_filter": "gate + chunk filter",
          "English_default": "English stack"}


def holm(ps: list[float]) -> list[float]:
    out, running = [0.0] * len(ps), 0.0
    for rank, i in enumerate(np.argsort(ps)):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out


def scores(run: Path) -> dict[str, float]:
    return {q: v["ndcg@10"] for q, v in json.loads((run / "per_query.json").read_text()).items()}


def ndcg(run: Path) -> float:
    return json.loads((run / "results.json").read_text())["metrics"]["ndcg@10"]


def row(folder: Path, others: list[str]) -> str:
    default = scores(folder / "default")
    queries = len(default)
    found = [k for k in OTHERS if (folder / k / "results.json").exists()]
    ps = []
    for k in found:
        other = scores(folder / k)
        a = np.array([default[q] for q in sorted(default)])
        b = np.array([other.get(q, 0.0) for q in sorted(default)])
        ps.append(float(wilcoxon(a, b).pvalue) if np.any(a != b) else 1.0)
    adjusted = dict(zip(found, holm(ps), strict=True)) if ps else {}
    cells = []
    for k in others:
        if k not in adjusted:
            cells += ["—", "—"]
            continue
        p, delta = adjusted[k], ndcg(folder / "default") - ndcg(folder / k)
        cells += [f"{ndcg(folder / k):.4f}", f"{delta:+.4f} ({p:.2g}{' *' if p < 0.05 else ''})"]
    return f"| {folder.name} | {queries} | **{ndcg(folder / 'default'):.4f}** | " + \
        " | ".join(cells) + " |"


def main() -> None:
    runs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/multirun/tune/test_multi"
    others = [k for k in OTHERS if any((runs / n / k / "results.json").exists() for n in SETS)]
    head = [f"{OTHERS[k]}{' (`experiment=en`)' if k == 'English_default' else ''} | "
            f"Δ vs {OTHERS[k]} (p Holm)" for k in others]
    print("| collection (test) | questions | **default** | " + " | ".join(head) + " |")
    print("|---|---|---|" + "---|---|" * len(others))
    for name in SETS:
        if (runs / name / "default" / "results.json").exists():
            print(row(runs / name, others))


if __name__ == "__main__":
    main()
