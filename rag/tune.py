"""Choose a retrieval plan on tuning questions, then measure it once on test.

    python -m rag.tune search en     # Optuna over the plan on the study's search sets
    python -m rag.tune select en     # every candidate on every tuning set -> the choice
    python -m rag.tune test en       # the committed defaults vs dense alone on test, Holm p

A study is a YAML file: conf/tune/<name>.yaml, or a path to your own. It names the tuning
sets and the test sets (rag.eval overrides each, so any BEIR folder or QA gold set serves:
``[dataset=beir, dataset.path=/my/beir, dataset.part=tune]``), the metric to optimise, the
preset the plans run under, and the candidates: the best three plans of each search, or a
fixed ``plans`` list, plus the previous default and dense alone. ``select`` keeps the
candidate with the best mean metric over the tuning sets (each set counts once, whatever its
size) and writes <docs>/<study>.json and selection_<study>.md; conf/ then carries that plan by
hand, and ``test`` measures the committed defaults, one rag.report per test set.

Every run is a rag.eval job in its own folder under --runs; a folder that already holds
results.json is reused, so a stage interrupted at any point resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from rag.errors import ConfigError
from rag.metrics import MEASURES

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "conf" / "tune"
# exact search: compare plans, not the HNSW approximation
COMMON = ["store.exact_below=1000000", "progress=false"]


@dataclass
class Study:
    name: str
    tune: dict[str, list[str]]  # set name -> rag.eval overrides (tuning questions)
    test: dict[str, list[str]]  # set name -> rag.eval overrides (reported questions)
    previous: list[str]  # the plan before this study
    dense: list[str]  # dense alone, the baseline every report compares with
    metric: str = "ndcg@10"
    preset: list[str] = field(default_factory=list)  # the stack every plan runs under
    search: list[str] | None = None  # tuning sets searched by Optuna (None: all)
    plans: dict[str, list[str]] | None = None  # fixed candidates instead of searches
    stacks: dict[str, list[str]] = field(default_factory=dict)  # whole stacks, no preset
    skip: dict[str, list[str]] = field(default_factory=dict)  # candidate -> sets it cannot run
    search_runs: str = "search_{study}_{set}"  # folder names (older studies kept theirs)
    test_reports: str = "test_{study}_{set}"

    @classmethod
    def load(cls, name_or_path: str) -> Study:
        """conf/tune/<name>.yaml or a path; ``extends: other`` starts from another study."""
        path = Path(name_or_path)
        if path.suffix not in (".yaml", ".yml"):
            path = STUDIES / f"{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in STUDIES.glob("*.yaml")))
            raise ConfigError(f"no study {name_or_path!r}: give one of {known}, or a path to "
                              f"a study YAML file")
        spec = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        if base := spec.pop("extends", None):
            parent = cls.load(str(path.parent / f"{base}.yaml"))
            inherited = {k: getattr(parent, k) for k in cls.__dataclass_fields__ if k != "name"}
            spec = {**inherited, **spec}
        if spec.get("metric", "ndcg@10") not in MEASURES:
            raise ConfigError(f"{path}: metric {spec['metric']!r} is not one rag.eval reports "
                              f"({', '.join(MEASURES)})")
        return cls(name=path.stem, **spec)

    def search_dir(self, runs: Path, tuning_set: str) -> Path:
        return runs / self.search_runs.format(study=self.name, set=tuning_set)


def rag_eval(*args: str) -> None:
    cmd = [sys.executable, "-m", "rag.eval", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def search(study: Study, runs: Path, trials: int) -> None:
    for name, data in study.tune.items():
        if study.search is not None and name not in study.search:
            continue
        rag_eval("hparams_search=retrieval", *study.preset, *data,
                 f"eval.optimized_metric={study.metric}",
                 f"hydra.sweeper.n_trials={trials}",
                 f"hydra.sweep.dir={study.search_dir(runs, name)}")


def _tidy(override: str) -> str:
    """retriever.alpha=0.6000000000000001 (Optuna's float steps) -> retriever.alpha=0.6"""
    key, value = override.split("=", 1)
    try:
        return f"{key}={round(float(value), 6):g}" if "." in value else override
    except ValueError:
        return override


def trials(sweep: Path) -> list[tuple[str, list[str], dict]]:
    """A search's trials in the order run: (trial, plan overrides, metrics)."""
    out = []
    for result in sorted(sweep.glob("*/results.json"), key=lambda p: int(p.parent.name)):
        run = json.loads(result.read_text())
        plan = sorted(_tidy(o) for o in run["overrides"] if o.startswith("retriever."))
        out.append((result.parent.name, plan, run["metrics"]))
    return out


def best_plans(sweep: Path, metric: str, n: int = 3) -> list[list[str]]:
    """The n best distinct plans a search tried (TPE repeats some), best first."""
    scored: dict[tuple, float] = {}
    for _, plan, metrics in trials(sweep):
        scored[tuple(plan)] = max(scored.get(tuple(plan), float("-inf")), metrics[metric])
    return [list(p) for p in sorted(scored, key=lambda p: -scored[p])[:n]]


def candidates(study: Study, runs: Path) -> dict[str, list[str]]:
    if study.plans is not None:
        out = dict(study.plans)
    else:
        out = {}
        for name in study.tune:
            sweep = study.search_dir(runs, name)
            if not sweep.is_dir():
                continue  # a set may serve for selection only
            for rank, plan in enumerate(best_plans(sweep, study.metric), 1):
                if plan not in out.values():
                    out[f"{name} search {rank}"] = plan
    return {**out, "previous default": study.previous, "dense alone": study.dense,
            **study.stacks}


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


def score(run_dir: Path, metric: str) -> float:
    return json.loads((run_dir / "results.json").read_text())["metrics"][metric]


def select(study: Study, runs: Path, docs: Path, index: Path) -> dict:
    scores: dict[str, dict[str, float]] = {}
    plans = candidates(study, runs)
    for label, plan in plans.items():
        for name, data in study.tune.items():
            if name in study.skip.get(label, []):
                continue
            out = runs / f"select_{study.name}" / name / _dirname(label)
            preset = [] if label in study.stacks else study.preset
            if not (out / "results.json").exists():
                rag_eval(*preset, *data, *COMMON, *plan, "+eval.cache_queries=true",
                         f"store.path={index}", f"hydra.run.dir={out}")
            scores.setdefault(label, {})[name] = score(out, study.metric)
    mean = {label: sum(s.values()) / len(s) for label, s in scores.items()}
    complete = [label for label in mean if len(scores[label]) == len(study.tune)]
    chosen = max(complete, key=mean.get)
    result = {"language": study.name,
              "tuning sets": {n: " ".join(d) for n, d in study.tune.items()},
              "rule": f"best mean {study.metric} over the tuning sets", "chosen": chosen,
              "plan": plans[chosen], "effective": effective(plans[chosen]),
              "candidates": {label: {"overrides": plans[label], study.metric: scores[label],
                                     "mean": mean[label]} for label in plans}}
    docs.mkdir(parents=True, exist_ok=True)
    for name in study.tune:
        sweep = study.search_dir(runs, name)
        if sweep.is_dir():
            write_trials(sweep, docs / f"{sweep.name}.md", study.metric)
    (docs / f"{study.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    names = list(study.tune)
    lines = [f"| candidate | overrides | {' | '.join(names)} | mean |",
             "|---|---|" + "---|" * (len(names) + 1)]
    for label in plans:
        mark = "**" if label == chosen else ""
        cells = [f"{mark}{label}{mark}", "`" + " ".join(plans[label]) + "`",
                 *(f"{scores[label][n]:.4f}" if n in scores[label] else "—" for n in names),
                 f"{mean[label]:.4f}" + ("" if label in complete else
                                         f" (over {len(scores[label])})")]
        lines.append("| " + " | ".join(cells) + " |")
    (docs / f"selection_{study.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


def write_trials(sweep: Path, out: Path, metric: str) -> None:
    """Every trial of a search, in the order run."""
    rows = [f"| {trial} | `{' '.join(plan)}` | {metrics[metric]:.4f} |"
            for trial, plan, metrics in trials(sweep)]
    first = next(sweep.glob("*/results.json"))
    split = json.loads(first.read_text())["dataset"]["split"]
    out.write_text(f"Optuna (TPE) trials on {sweep.name.removeprefix('search_')}, {split} "
                   f"questions (hparams_search=retrieval):\n\n"
                   f"| trial | plan | {metric} |\n|---|---|---|\n" + "\n".join(rows) + "\n")


def _questions(overrides: list[str]) -> str:
    """Which questions a set's overrides pick, as rag.report's "measured on" names them:
    the split, and the seeded part of it ("valid", "test/tune")."""
    keys = dict(o.split("=", 1) for o in overrides if "=" in o)
    split = keys.get("dataset.split", "test")
    return f"{split}/{keys['dataset.part']}" if "dataset.part" in keys else split


def test(study: Study, runs: Path, docs: Path, index: Path) -> None:
    """The committed defaults (no retriever override) against dense alone and the previous
    default, on the test questions; one rag.report per test set, Holm over its rows."""
    chosen = json.loads((docs / f"{study.name}.json").read_text())
    if study.stacks:  # a whole stack was chosen (#30): the default exactly as committed
        rows = {"default": [], "dense": [*study.preset, *study.dense], **study.stacks}
    else:
        rows = {label: [*study.preset, *plan] for label, plan in
                {"default": [], "dense": study.dense, "previous": study.previous}.items()}
    where = ", ".join(f"{n} {_questions(d)}" for n, d in study.tune.items())
    for name, data in study.test.items():
        dirs = []
        for label, plan in rows.items():
            if name in study.skip.get(label, []):
                continue
            out = runs / f"test_{study.name}" / name / _dirname(label)
            if not (out / "results.json").exists():
                rag_eval(*plan, *data, *COMMON, f"store.path={index}", f"hydra.run.dir={out}")
            dirs.append(str(out))
        report = docs / study.test_reports.format(study=study.name, set=name)
        subprocess.run([sys.executable, "-m", "rag.report", *dirs, "--baseline",
                        "retriever=dense", "--metric", study.metric, "--selected", "defaults",
                        "--on", f"{where} ({chosen['chosen']})", "--out", str(report)],
                       cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rag.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["search", "select", "test"])
    parser.add_argument("study", help="a study in conf/tune (en, zh, multi, gate) or a YAML path")
    parser.add_argument("--trials", type=int, default=24, help="search: Optuna trials per set")
    parser.add_argument("--runs", type=Path, default=ROOT / "data" / "multirun" / "tune",
                        help="where the rag.eval runs go (reused when present)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "results" / "tuning",
                        help="where the choice, the tables and the reports are written")
    parser.add_argument("--index", type=Path, default=ROOT / "data" / "tune-index",
                        help="the indexes select and test share (one per configuration)")
    args = parser.parse_args(argv)
    try:
        study = Study.load(args.study)
    except ConfigError as exc:
        parser.exit(2, f"rag.tune: {exc}\n")
    if args.stage == "search":
        search(study, args.runs, args.trials)
    elif args.stage == "select":
        select(study, args.runs, args.docs, args.index)
    else:
        test(study, args.runs, args.docs, args.index)


if __name__ == "__main__":
    main()
