"""rag.eval and rag.report end to end on a tiny BEIR dataset, as a sweep of two jobs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_cli import run

CORPUS = {
    "warranty": "The Aurora X2 espresso machine has a two-year warranty; registering adds a year.",
    "descale": "Descale the espresso machine every three months with citric acid, never vinegar.",
    "grind": "Grind 18 grams of coffee for a double shot and tamp with 15 kg of force.",
    "leave": "Full-time employees get 28 days of paid annual leave per calendar year.",
    "vpn": "Company data may only be accessed through the corporate VPN from home.",
    "stipend": "Remote workers receive a one-time home office stipend of 500 euros.",
    "hotel": "一线城市出差住宿每晚不超过六百元，其他城市不超过四百元。",
    "meal": "出差期间每天发放餐饮补贴一百元，不需要提供发票。",
    "password": "登录密码不得少于十二位，并且每九十天更换一次。",
}
QUERIES = {
    "q1": ("How long is the warranty on the espresso machine?", "warranty"),
    "q2": ("How often should I descale?", "descale"),
    "q3": ("How many days of annual leave do I get?", "leave"),
    "q4": ("出差住宿每晚可以报销多少钱？", "hotel"),
    "q5": ("密码多久更换一次？", "password"),
}


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("beir")
    with (root / "corpus.jsonl").open("w") as f:
        for did, text in CORPUS.items():
            f.write(json.dumps({"_id": did, "title": "", "text": text}, ensure_ascii=False) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for qid, (text, _) in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, (_, d) in QUERIES.items()))
    return root


@pytest.mark.parametrize("launcher", ["basic", "parallel"])
def test_sweep_of_two_configurations_ends_in_a_report(tiny_dataset, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    args = ["-m", "rag.eval", "-m", "dataset=beir", f"dataset.path={tiny_dataset}",
            "retriever=sparse,hybrid,dense", "retriever.mrl_dim=64", f"hydra.sweep.dir={sweep}",
            "progress=false"]
    if launcher == "parallel":
        args.append("hydra/launcher=parallel")
    run(*args, data_dir=tmp_path / "data")
    results = [json.loads((sweep / str(i) / "results.json").read_text()) for i in (0, 1, 2)]
    assert [r["choices"]["retriever"] for r in results] == ["sparse", "hybrid", "dense"]
    for r in results:
        assert r["dataset"]["queries"] == 5 and r["dataset"]["chunks"] == len(CORPUS)
        assert all(0 <= v <= 1 for v in r["metrics"].values())
        assert r["bytes_per_vector"]["sparse"] > 0
        searched = r["bytes_per_chunk_searched"]
        if r["choices"]["retriever"] == "sparse":  # a sparse-only index: nothing embedded
            assert set(r["bytes_per_vector"]) == {"sparse"} and r["index"]["encoded"] == 0
            assert searched == r["bytes_per_vector"]["sparse"]
        else:
            assert r["bytes_per_vector"]["dense"] == 384 * 4
            assert r["bytes_per_vector"]["dense_mrl"] == 64 * 4
            assert searched <= r["bytes_per_chunk"] == sum(r["bytes_per_vector"].values())
        assert r["latency_ms"]["total_ms"]["p50"] > 0 and r["qps"] > 0
        assert r["peak_rss_mb"] > 100
        run_file = json.loads((sweep / "0" / "run.json").read_text())
        assert set(run_file) == set(QUERIES) and all(set(v) <= set(CORPUS)
                                                     for v in run_file.values())
    # each job its own index; the embedding cache is shared, so the third job embeds nothing
    assert results[1]["index"]["embedded"] == len(CORPUS)
    assert (sweep / "0" / "index").is_dir() and (sweep / "1" / "index").is_dir()
    if launcher == "basic":
        assert results[1]["index"]["encoded"] == len(CORPUS)
        assert results[2]["index"]["encoded"] == 0  # all from the cache

    report = run("-m", "rag.report", str(sweep), "--baseline", "retriever=sparse",
                 "--selected", "retriever=hybrid", "--on", "tiny tune part",
                 data_dir=tmp_path / "data")
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [(r["measured on"], r["selected on"]) for r in rows] == [
        ("test", ""), ("test", "tiny tune part"), ("test", "")]
    p, holm = (sorted(float(r[k]) for r in rows[1:]) for k in ("p (Wilcoxon)", "p (Holm)"))
    assert holm[0] == pytest.approx(min(1.0, 2 * p[0]))  # two comparisons
    # labels keep only what differs between the jobs
    assert [r["configuration"] for r in rows] == ["retriever=sparse", "retriever=hybrid",
                                                  "retriever=dense"]
    assert float(rows[0]["nDCG@10"]) == pytest.approx(results[0]["metrics"]["ndcg@10"])
    assert (sweep / "pareto.png").stat().st_size > 10_000
    assert "(baseline)" in (sweep / "summary.md").read_text()
    assert "Best:" in report.stdout


def test_answers_are_scored_on_a_gold_set_and_compared_by_f1(tmp_path):
    """rag.eval with an answerer on the sample's gold set: every question answered through
    Pipeline.ask and scored; rag.report shows the answer columns and tests F1."""
    sweep = tmp_path / "sweep"
    run("-m", "rag.eval", "-m", "dataset=sample_qa", "answerer=overlap,extractive",
        f"hydra.sweep.dir={sweep}", "progress=false", data_dir=tmp_path / "data")
    results = [json.loads((sweep / str(i) / "results.json").read_text()) for i in (0, 1)]
    gold = [json.loads(line) for line in
            Path("data/qa/sample.jsonl").read_text(encoding="utf-8").splitlines()]
    test = [g for g in gold if g["split"] == "test"]
    for r in results:
        a = r["answers"]
        assert r["dataset"]["queries"] == len(test)
        assert a["n_f1"] == sum(not g.get("unanswerable") for g in test)
        assert a["n_abstained"] == sum(bool(g.get("unanswerable")) for g in test)
        assert all(0 <= a[k] <= 1 for k in ("f1", "em", "contains", "correct", "support"))
        assert r["latency_ms"]["first_token_ms"]["p50"] <= r["latency_ms"]["total_ms"]["p50"]
    overlap, extractive = (r["answers"] for r in results)
    assert overlap["abstained"] == 0  # the first answerer never declines
    assert extractive["abstained"] > 0
    answers = json.loads((sweep / "1" / "answers.json").read_text())
    ceo = next(q for q, a in answers.items() if a["question"] == "What is the CEO's salary?")
    assert answers[ceo]["unanswerable"] and answers[ceo]["scores"]["abstained"] == 1
    assert not answers[ceo]["cited"]
    # retrieval metrics cover the answerable questions only (an unanswerable one has no qrels)
    per_query = json.loads((sweep / "1" / "per_query.json").read_text())
    assert "ndcg@10" not in per_query[ceo] and "answer_abstained" in per_query[ceo]

    run("-m", "rag.report", str(sweep), "--baseline", "answerer=overlap",
        data_dir=tmp_path / "data")
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert {r["tested"] for r in rows} == {"F1"}
    assert float(rows[1]["F1"]) == pytest.approx(extractive["f1"])
    assert "ΔF1" in (sweep / "summary.md").read_text()


@pytest.mark.parametrize(("reply", "cites"), [
    # an LLM that cites nothing: no citation of its own, so no precision, and no support
    ("The machine is covered for two years.", 0.0),
    # the manual's first two passages (brewing; descaling and warranty) are cited
    ("The Aurora X2 comes with a two-year limited warranty [1][2].", 1.0),
])
def test_llm_answers_go_through_the_same_scoring(tmp_path, reply, cites):
    from tests.openai_server import ChatServer

    with ChatServer([reply]) as server:
        run("-m", "rag.eval", "dataset=sample_qa", "dataset.max_queries=1",
            "answerer=openai_like", f"answerer.llm.api_base={server.url}",
            "answerer.llm.model=test-model", f"hydra.run.dir={tmp_path / 'run'}",
            "progress=false", data_dir=tmp_path / "data")
    assert server.requests and all(r["body"]["stream"] for r in server.requests)
    a = json.loads((tmp_path / "run" / "results.json").read_text())["answers"]
    assert a["cites"] == cites and a["contains"] == 1.0  # "two-year" / "two years"
    if cites:
        assert a["citation_precision"] == 1.0 and a["support"] == 1.0
    else:
        assert a["citation_precision"] is None and a["support"] == 0.0
    assert a["abstained"] is None  # the first test question is answerable


def test_optuna_search_over_the_plan_writes_its_best_settings(tiny_dataset, tmp_path):
    """hparams_search=retrieval: Optuna trials over the plan on one shared index, ending in
    optimization_results.yaml whose best value is the best trial's nDCG@10."""
    import yaml

    sweep = tmp_path / "search"
    run("-m", "rag.eval", "hparams_search=retrieval", "dataset=beir",
        f"dataset.path={tiny_dataset}", "dataset.part=tune", "hydra.sweeper.n_trials=3",
        "retriever.mrl_dim=64", f"hydra.sweep.dir={sweep}", data_dir=tmp_path / "data")
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    results = [json.loads((sweep / str(i) / "results.json").read_text()) for i in range(3)]
    assert best["best_value"] == pytest.approx(max(r["metrics"]["ndcg@10"] for r in results))
    assert set(best["best_params"]) >= {"retriever.fusion", "retriever.alpha", "retriever.rrf_k"}
    assert all(r["dataset"]["split"] == "test/tune" for r in results)
    # the questions were encoded once, into the query cache, for all trials
    assert all(r["queries_cached"] for r in results)
    assert list((tmp_path / "data" / "cache" / "embeddings").glob("*-queries.sqlite"))
    # one index for every trial, under paths.runs, not one per job
    assert len(list((tmp_path / "data" / "tune-index").iterdir())) == 1
    assert not (sweep / "0" / "index").exists()
