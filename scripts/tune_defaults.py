"""Choose the retrieval defaults on tuning questions, then measure them once on test (#17).

    python scripts/tune_defaults.py search en    # Optuna over the plan on each tuning set
    python scripts/tune_defaults.py select en    # candidates on every tuning set -> the choice
    python scripts/tune_defaults.py test en      # the choice vs dense alone on test, with Holm

Tuning sets are kept apart from what is reported: InsuranceQA ``valid`` (its own 2,000
questions) and the seeded ``tune`` part of the smaller sets (rag.dataset.seeded_part); test is
InsuranceQA ``test`` and the ``test`` part. ``select`` runs every search's three best plans,
the previous default and dense alone on every tuning set of the language and keeps the plan with
the best mean nDCG@10 over the collections (each collection counts once, whatever its size),
writing docs/results/tuning/<lang>.json; conf/ then carries that plan, and ``test`` measures
the committed defaults (tests/test_config.py checks that they match the choice).
Outputs go to data/multirun/tune/ and docs/results/tuning/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "data" / "multirun" / "tune"
DOCS = ROOT / "docs" / "results" / "tuning"
PLAN_KEYS = ("mode", "fusion", "alpha", "rrf_k", "dense_weight", "sparse_weight", "dense_limit",
             "sparse_limit", "mrl_limit")
COMMON = ["store.exact_below=1000000", "progress=false"]  # exact: compare plans, not HNSW

LANGS = {
    "en": {
        "preset": ["experiment=en"],  # the default stack until #30
        "tune": {"insuranceqa_en": ["dataset=insuranceqa_en", "dataset.split=valid"],
                 "python_faq": ["dataset=python_faq", "dataset.part=tune"]},
        "test": {"insuranceqa_en": ["dataset=insuranceqa_en"],
                 "python_faq": ["dataset=python_faq", "dataset.part=test"]},
        # the plan before #17: hybrid RRF k=60 over BM25 top 50 and the 128-d funnel top 50
        "previous": ["retriever.fusion=rrf", "retriever.rrf_k=60", "retriever.dense_limit=50",
                     "retriever.sparse_limit=50", "retriever.mrl_limit=100"],
        "dense": ["retriever=dense", "retriever.mrl_dim=null"],
    },
    "zh": {
        "preset": ["experiment=zh"],
        "tune": {"insuranceqa_zh": ["dataset=insuranceqa_zh", "dataset.split=valid"],
                 "maint_guide_zh": ["dataset=maint_guide_zh", "dataset.part=tune"]},
        "test": {"insuranceqa_zh": ["dataset=insuranceqa_zh"],
                 "maint_guide_zh": ["dataset=maint_guide_zh", "dataset.part=test"]},
        # experiment=zh before #17: DBSF, selected on the test questions themselves
        "previous": ["retriever.fusion=dbsf", "retriever.dense_limit=50",
                     "retriever.sparse_limit=50"],
        "dense": ["retriever=dense"],
    },
}


def _sets(split: str, part: str) -> dict[str, list[str]]:
    """Every collection of both languages: InsuranceQA by split, the small sets by part."""
    out = {f"insuranceqa_{n}": [f"dataset=insuranceqa_{n}", f"dataset.split={split}"]
           for n in ("en", "zh", "en2zh", "zh2en", "mixed")}
    out |= {f"maint_guide_{n}": [f"dataset=maint_guide_{n}", f"dataset.part={part}"]
            for n in ("en", "zh", "en2zh", "zh2en", "mixed")}
    out["python_faq"] = ["dataset=python_faq", f"dataset.part={part}"]
    return out


# One default for Chinese, English and mixed folders (#30): the multilingual stack (e5-small +
# mixed-script BM25), its candidate plans from the Optuna searches on the two large sets, run
# on all eleven collections, the English stack beside them as a whole.
LANGS["multi"] = {
    "preset": ["embedder=e5_small", "sparse=bm25_char", "retriever.mrl_dim=null"],
    "search": ["insuranceqa_en"],
    # The plans the searches ranked: InsuranceQA en valid (search_multi_insuranceqa_en, this
    # stack) and zh valid (search_insuranceqa_zh.md, #17: the same e5 in its 4-bit engine):
    # each one's best, and zh's best relative fusion as the compromise between them.
    "plans": {
        "en search 1 (relative 0.9)": ["retriever.fusion=relative", "retriever.alpha=0.9",
                                       "retriever.dense_limit=100", "retriever.sparse_limit=100"],
        "zh search 1 (dbsf 200/200)": ["retriever.fusion=dbsf", "retriever.dense_limit=200",
                                       "retriever.sparse_limit=200"],
        "zh best relative (0.7)": ["retriever.fusion=relative", "retriever.alpha=0.7",
                                   "retriever.dense_limit=100", "retriever.sparse_limit=100"],
    },
    "tune": _sets("valid", "tune"),
    "test": _sets("test", "test"),
    "previous": ["retriever.fusion=dbsf", "retriever.dense_limit=100",
                 "retriever.sparse_limit=200"],  # experiment=zh's plan, on the converted e5
    "dense": ["retriever=dense"],
    # whole stacks, run without the preset
    "stacks": {"English default": ["experiment=en"]},
    # MiniLM reads no Chinese; its vectors for the 30k Chinese passages were not made
    "skip": {"English default": ["insuranceqa_zh", "insuranceqa_en2zh", "insuranceqa_mixed"]},
}


# The script gate (#30): the chosen plan with its sparse leg limited to chunks near the
# question's script (and left out below a fifth of the index), at two widths, on every tuning
# collection of both languages and across.
_DBSF = LANGS["multi"]["previous"]  # the plan the first round chose (DBSF 100/200)
LANGS["gate"] = {
    "preset": [],  # the committed default stack and plan
    "plans": {**{f"gap {g}": [*_DBSF, f"retriever.sparse_script_gap={g}"]
                 for g in ("0.95", "0.9")},
              # added after the first test run (multilingual.md says why): the collection
              # rule alone, BM25 over every chunk when the question's script is common
              "gap 0.9, no chunk filter": [*_DBSF, "retriever.sparse_script_gap=0.9",
                                           "retriever.sparse_script_filter=false"]},
    "tune": _sets("valid", "tune"),
    "test": _sets("test", "test"),
    "previous": [*_DBSF, "retriever.sparse_script_gap=null"],
    "dense": ["retriever=dense"],
}


def rag_eval(*args: str) -> None:
    cmd = [sys.executable, "-m", "rag.eval", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def _key(lang: str, name: str) -> str:
    """A search's name: the per-language searches of #17 kept their collection's name."""
    return name if lang in ("en", "zh") else f"{lang}_{name}"


def search(lang: str, trials: int) -> None:
    spec = LANGS[lang]
    for name, data in spec["tune"].items():
        if name not in spec.get("search", spec["tune"]):
            continue
        sweep = RUNS / f"search_{_key(lang, name)}"
        rag_eval("hparams_search=retrieval", *spec["preset"], *data,
                 f"hydra.sweeper.n_trials={trials}", f"hydra.sweep.dir={sweep}")


def best_plans(name: str, n: int = 3) -> list[list[str]]:
    """The n best distinct plans a search tried (TPE repeats some), best first."""
    scored = {}
    for result in (RUNS / f"search_{name}").glob("*/results.json"):
        run = json.loads(result.read_text())
        plan = tuple(sorted(o for o in run["overrides"] if o.startswith("retriever.")))
        scored[plan] = max(scored.get(plan, 0.0), run["metrics"]["ndcg@10"])
    ranked = sorted(scored, key=lambda p: -scored[p])[:n]
    return [[_tidy(o) for o in plan] for plan in ranked]


def _tidy(override: str) -> str:
    """retriever.alpha=0.6000000000000001 (Optuna's float steps) -> retriever.alpha=0.6"""
    key, value = override.split("=", 1)
    try:
        return f"{key}={round(float(value), 6):g}" if "." in value else override
    except ValueError:
        return override


def write_trials(name: str) -> None:
    """Every trial of a search, in the order run: docs/results/tuning/search_<name>.md."""
    rows = []
    for result in sorted((RUNS / f"search_{name}").glob("*/results.json"),
                         key=lambda p: int(p.parent.name)):
        run = json.loads(result.read_text())
        plan = " ".join(_tidy(o) for o in run["overrides"] if o.startswith("retriever."))
        rows.append(f"| {result.parent.name} | `{plan}` | {run['metrics']['ndcg@10']:.4f} |")
    split = rows and json.loads(result.read_text())["dataset"]["split"]
    (DOCS / f"search_{name}.md").write_text(
        f"Optuna (TPE) trials on {name}, {split} questions (hparams_search=retrieval):\n\n"
        "| trial | plan | nDCG@10 |\n|---|---|---|\n" + "\n".join(rows) + "\n")


def candidates(lang: str) -> dict[str, list[str]]:
    spec = LANGS[lang]
    if "plans" in spec:
        return {**spec["plans"], "previous default": spec["previous"],
                "dense alone": spec["dense"], **spec.get("stacks", {})}
    out = {}
    for name in spec["tune"]:
        if not (RUNS / f"search_{_key(lang, name)}").is_dir():
            continue  # a set may serve for selection only
        for rank, plan in enumerate(best_plans(_key(lang, name)), 1):
            if plan not in out.values():
                out[f"{name} search {rank}"] = plan
    out["previous default"] = spec["previous"]
    out["dense alone"] = spec["dense"]
    return out | spec.get("stacks", {})


def effective(plan: list[str], k: int = 100) -> dict[str, str]:
    """The retriever settings a run really used: rag.eval asks for k=100 hits and no leg
    returns fewer than asked, so a leg limit below 100 ran as 100 (and the MRL first pass is
    never shorter than the leg it feeds). These are what conf/ carries."""
    out = {o.split("=", 1)[0].removeprefix("retriever."): o.split("=", 1)[1] for o in plan
           if o.startswith("retriever.")}
    for leg in ("dense_limit", "sparse_limit"):
        if leg in out:
            out[leg] = str(max(int(out[leg]), k))
    if "mrl_limit" in out:
        out["mrl_limit"] = str(max(int(out["mrl_limit"]), int(out.get("dense_limit", k))))
    fusion = out.get("fusion")  # a fusion's own knobs only: the others did nothing
    if fusion != "relative":
        out.pop("alpha", None)
    if fusion != "rrf":
        for key in ("rrf_k", "dense_weight", "sparse_weight"):
            out.pop(key, None)
    return out


def _dirname(label: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in label)


def ndcg(run_dir: Path) -> float:
    return json.loads((run_dir / "results.json").read_text())["metrics"]["ndcg@10"]


def select(lang: str) -> dict:
    spec = LANGS[lang]
    scores: dict[str, dict[str, float]] = {}
    plans = candidates(lang)
    for label, plan in plans.items():
        for name, data in spec["tune"].items():
            if name in spec.get("skip", {}).get(label, []):
                continue
            out = RUNS / f"select_{lang}" / name / _dirname(label)
            preset = [] if label in spec.get("stacks", {}) else spec["preset"]
            if not (out / "results.json").exists():
                rag_eval(*preset, *data, *COMMON, *plan, "+eval.cache_queries=true",
                         f"store.path={ROOT / 'data' / 'tune-index'}", f"hydra.run.dir={out}")
            scores.setdefault(label, {})[name] = ndcg(out)
    mean = {label: sum(s.values()) / len(s) for label, s in scores.items()}
    complete = [label for label in mean if len(scores[label]) == len(spec["tune"])]
    chosen = max(complete, key=mean.get)
    result = {"language": lang,
              "tuning sets": {n: " ".join(d) for n, d in spec["tune"].items()},
              "rule": "best mean nDCG@10 over the tuning sets", "chosen": chosen,
              "plan": plans[chosen], "effective": effective(plans[chosen]),
              "candidates": {label: {"overrides": plans[label], "ndcg@10": scores[label],
                                     "mean": mean[label]} for label in plans}}
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in spec["tune"]:
        if (RUNS / f"search_{_key(lang, name)}").is_dir():
            write_trials(_key(lang, name))
    (DOCS / f"{lang}.json").write_text(json.dumps(result, indent=2) + "\n")
    names = list(spec["tune"])
    lines = [f"| candidate | overrides | {' | '.join(names)} | mean |",
             "|---|---|" + "---|" * (len(names) + 1)]
    for label in plans:
        mark = "**" if label == chosen else ""
        cells = [f"{mark}{label}{mark}", "`" + " ".join(plans[label]) + "`",
                 *(f"{scores[label][n]:.4f}" if n in scores[label] else "—" for n in names),
                 f"{mean[label]:.4f}" + ("" if label in complete else
                                         f" (over {len(scores[label])})")]
        lines.append("| " + " | ".join(cells) + " |")
    (DOCS / f"selection_{lang}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


def test(lang: str) -> None:
    """The committed defaults (no retriever override) against dense alone and the previous
    default, on the test questions; one rag.report per collection, Holm over its rows."""
    spec = LANGS[lang]
    chosen = json.loads((DOCS / f"{lang}.json").read_text())
    preset = spec["preset"]
    if "stacks" in spec:  # a whole stack was chosen (#30): the default exactly as committed
        rows = {"default": [], "dense": [*preset, *spec["dense"]], **spec["stacks"]}
    else:
        rows = {label: [*preset, *plan] for label, plan in
                {"default": [], "dense": spec["dense"], "previous": spec["previous"]}.items()}
    for name, data in spec["test"].items():
        dirs = []
        for label, plan in rows.items():
            if name in spec.get("skip", {}).get(label, []):
                continue
            out = RUNS / f"test_{lang}" / name / _dirname(label)
            if not (out / "results.json").exists():
                rag_eval(*plan, *data, *COMMON,
                         f"store.path={ROOT / 'data' / 'tune-index'}",  # the tuning indexes
                         f"hydra.run.dir={out}")
            dirs.append(str(out))
        where = ", ".join(f"{n} {d[1].split('=')[1].replace('tune', 'test/tune')}"
                          for n, d in spec["tune"].items())
        subprocess.run([sys.executable, "-m", "rag.report", *dirs, "--baseline",
                        "retriever=dense", "--selected", "defaults",
                        "--on", f"{where} ({chosen['chosen']})",
                        "--out", str(DOCS / (f"test_{name}" if lang in ("en", "zh") else
                                             f"test_{lang}_{name}"))], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["search", "select", "test"])
    parser.add_argument("lang", choices=sorted(LANGS))
    parser.add_argument("--trials", type=int, default=24)
    args = parser.parse_args()
    if args.stage == "search":
        search(args.lang, args.trials)
    elif args.stage == "select":
        select(args.lang)
    else:
        test(args.lang)


if __name__ == "__main__":
    main()
