"""python -m rag.tune: a study's search -> select -> test, end to end over real rag.eval jobs
on the tiny BEIR set, optimising MRR@10 rather than nDCG@10; and the committed studies."""

from __future__ import annotations

import json

import pytest
import yaml

from rag.errors import ConfigError
from rag.tune import Study, effective
from tests.test_cli import run
from tests.test_eval import tiny_dataset  # noqa: F401  (the fixture)


def test_a_study_searches_selects_on_tune_and_reports_on_test(tiny_dataset, tmp_path):  # noqa: F811
    beir = ["dataset=beir", f"dataset.path={tiny_dataset}"]
    study = tmp_path / "tiny.yaml"
    study.write_text(yaml.safe_dump({
        "metric": "mrr@10",
        "tune": {"tiny": [*beir, "dataset.part=tune"]},
        "test": {"tiny": [*beir, "dataset.part=test"]},
        "previous": ["retriever.fusion=rrf", "retriever.rrf_k=60"],
        "dense": ["retriever=dense"],
    }))
    where = [f"--runs={tmp_path / 'runs'}", f"--docs={tmp_path / 'docs'}",
             f"--index={tmp_path / 'index'}"]
    data = tmp_path / "data"

    run("-m", "rag.tune", "search", str(study), "--trials=2", *where, data_dir=data)
    sweep = tmp_path / "runs" / "search_tiny_tiny"
    trials = [json.loads((sweep / str(i) / "results.json").read_text()) for i in (0, 1)]
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    # rag.eval handed the sweeper the study's metric, not nDCG@10
    assert best["best_value"] == pytest.approx(max(t["metrics"]["mrr@10"] for t in trials))

    run("-m", "rag.tune", "select", str(study), *where, data_dir=data)
    chosen = json.loads((tmp_path / "docs" / "tiny.json").read_text())
    means = {label: c["mean"] for label, c in chosen["candidates"].items()}
    assert {"tiny search 1", "previous default", "dense alone"} <= set(means)
    assert chosen["chosen"] == max(means, key=means.get)
    assert chosen["rule"] == "best mean mrr@10 over the tuning sets"
    for label, c in chosen["candidates"].items():  # the score is the run's own MRR@10
        run_dir = tmp_path / "runs" / "select_tiny" / "tiny" / label.replace(" ", "_")
        mrr = json.loads((run_dir / "results.json").read_text())["metrics"]["mrr@10"]
        assert c["mrr@10"]["tiny"] == pytest.approx(mrr)
        assert json.loads((run_dir / "results.json").read_text())["dataset"]["split"] == \
            "test/tune"
    assert (tmp_path / "docs" / "search_tiny_tiny.md").exists()

    run("-m", "rag.tune", "test", str(study), *where, data_dir=data)
    report = (tmp_path / "docs" / "test_tiny_tiny" / "summary.md").read_text()
    assert "ΔMRR@10" in report and "tiny test/tune" in report  # selected on the tune part
    assert "| test/test |" in report  # measured on the test part


def test_a_study_with_an_unknown_metric_is_refused(tmp_path):
    study = tmp_path / "bad.yaml"
    study.write_text("metric: ndcg@5\ntune: {}\ntest: {}\nprevious: []\ndense: []\n")
    with pytest.raises(ConfigError, match="metric 'ndcg@5' is not one rag.eval reports"):
        Study.load(str(study))
    proc = run("-m", "rag.tune", "select", "no-such-study", data_dir=tmp_path, check=False)
    assert proc.returncode == 2 and "no study 'no-such-study': give one of" in proc.stderr


@pytest.mark.parametrize("name", ["en", "zh", "multi", "gate"])
def test_the_committed_studies_load_and_name_their_runs_as_before(name):
    study = Study.load(name)
    assert study.metric == "ndcg@10" and set(study.tune) and set(study.test)
    assert set(study.tune) == set(study.test)  # every tuning set is reported on its test part
    if name == "gate":  # extends multi: its sets, its own candidates, no whole stacks
        assert study.tune == Study.load("multi").tune and not study.stacks
        assert "gap 0.9, no chunk filter" in study.plans


def test_effective_settings_are_what_a_run_used():
    plan = ["retriever.fusion=dbsf", "retriever.alpha=0.5", "retriever.dense_limit=50",
            "retriever.sparse_limit=200"]
    assert effective(plan) == {"fusion": "dbsf", "dense_limit": "100", "sparse_limit": "200"}
