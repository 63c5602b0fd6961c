"""Every config composes and every stage it names can be built (models load lazily)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra.utils import instantiate

from rag.chunker import RecursiveTokenChunker
from rag.retriever import Retriever
from rag.stages import Embedder, SparseEncoder
from tests.conftest import CONF, make_cfg

GROUPS = ["corpus", "chunker", "embedder", "sparse", "store", "retriever", "reranker",
          "answerer"]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
EXPECTED_TYPES = {"chunker": RecursiveTokenChunker, "retriever": Retriever}
# Protocols are checked on the class: an isinstance() check would evaluate `fingerprint`,
# which resolves (and for a hub id, downloads) the model.
PROTOCOLS = {"embedder": Embedder, "sparse": SparseEncoder}


def _protocol_members(proto) -> set[str]:
    return {n for n in vars(proto) if not n.startswith("_")} | set(
        getattr(proto, "__annotations__", {}))


def test_every_stage_has_a_config_group():
    assert {p.name for p in CONF.iterdir() if p.is_dir()} >= set(GROUPS)


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes_and_instantiates(group, option, tmp_path):
    extra = ["+dataset.path=/d"] if (group, option) == ("corpus", "beir") else []  # eval-only
    cfg = make_cfg(f"{group}={option}", f"paths.data={tmp_path}", *extra)
    node = cfg.get(group)
    if node is None:  # "none" choices switch the stage off
        assert option == "none"
        return
    stage = instantiate(node)
    if group in EXPECTED_TYPES:
        assert isinstance(stage, EXPECTED_TYPES[group]), type(stage)
    if group in PROTOCOLS:
        missing = {m for m in _protocol_members(PROTOCOLS[group]) if not hasattr(type(stage), m)
                   and m not in vars(stage)}
        assert not missing, f"{type(stage).__name__} lacks {missing}"
    if group == "chunker":  # the chunker measures with the embedder's tokenizer
        assert stage.tokenizer == cfg.embedder.model


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_retriever_options_set_their_mode(mode):
    assert instantiate(make_cfg(f"retriever={mode}").retriever).mode == mode


def test_command_line_style_overrides_reach_the_stages():
    cfg = make_cfg("retriever=dense", "retriever.mrl_dim=64", "store=memory",
                   "embedder=bge_small_en", "chunker.chunk_size=77")
    assert instantiate(cfg.retriever).mrl_dim == 64
    assert instantiate(cfg.store).location == ":memory:"
    chunker = instantiate(cfg.chunker)
    assert (chunker.chunk_size, chunker.tokenizer) == (77, "BAAI/bge-small-en-v1.5")


DATASETS = sorted(p.stem for p in (CONF / "dataset").glob("*.yaml"))


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_composes_with_its_corpus(dataset, tmp_path):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="eval", overrides=[f"dataset={dataset}",
                                                     f"paths.data={tmp_path}", "dataset.path=/d"])
    ds = instantiate(cfg.dataset)
    corpus = instantiate(cfg.corpus)
    where = str(corpus.root if hasattr(corpus, "root") else corpus.path)
    assert str(ds.path) == "/d"
    if "2" in dataset:  # cross-lingual: questions of one side, passages of the other
        other = dataset.rsplit("2", 1)[1]
        assert where.startswith(str(tmp_path / "datasets"))
        assert where.endswith(f"_{other}/corpus.jsonl" if "insuranceqa" in dataset
                              else f"_{other}/docs")
    elif dataset.endswith("_qa"):  # a gold QA file over another set's documents or the sample
        assert where.startswith((str(tmp_path / "datasets"), "data/sample"))
    else:
        assert where.startswith("/d")
    assert cfg.answerer is None and cfg.eval.k == 100


@pytest.mark.parametrize("launcher", ["parallel", "slurm"])
def test_launcher_configs_compose(launcher):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="eval", overrides=[f"hydra/launcher={launcher}"],
                      return_hydra_config=True)
    target = cfg.hydra.launcher._target_
    assert ("Joblib" if launcher == "parallel" else "SlurmLauncher") in target


@pytest.mark.parametrize(("lang", "overrides"),
                         [("multi", []), ("gate", []), ("en", ["experiment=en"]),
                          ("zh", ["experiment=zh"])])
def test_defaults_are_the_plan_chosen_on_the_tuning_sets(lang, overrides):
    """conf/ carries what rag/tune.py select chose (docs/results/tuning/)."""
    chosen = Path(f"docs/results/tuning/{lang}.json")
    if not chosen.exists():
        pytest.skip(f"{chosen}: not selected yet")
    plan = json.loads(chosen.read_text())["effective"]
    retriever = make_cfg(*overrides).retriever
    # as an override spells it: true/false, not Python's True/False
    assert {key: str(retriever[key]).lower() if isinstance(retriever[key], bool)
            else str(retriever[key]) for key in plan} == plan


def _eval_cfg(*overrides: str):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="eval", overrides=list(overrides))


@pytest.mark.parametrize("answerer", ["extractive", "extractive_zh"])
def test_eval_and_query_get_the_same_answerer_under_a_preset(answerer):
    """rag.eval names an answerer to answer at all; whichever name it uses, it must decline
    as rag.query does over the same embedder (#30: the eval kept MiniLM's threshold)."""
    query = instantiate(make_cfg("experiment=zh").answerer)
    evaluated = instantiate(_eval_cfg("experiment=zh", f"answerer={answerer}").answerer)
    assert type(evaluated) is type(query)
    assert vars(evaluated) == vars(query)
    assert query.min_score == 0.675


def test_the_answer_threshold_follows_the_embedder():
    assert instantiate(make_cfg("experiment=en").answerer).min_score == 0.35  # MiniLM's
    assert instantiate(make_cfg("embedder=minilm").answerer).min_score == 0.35
    assert instantiate(make_cfg().answerer).min_score == 0.675  # the default embedder is e5
    for embedder in ("e5_small", "e5_small_q4"):
        assert instantiate(make_cfg(f"embedder={embedder}").answerer).min_score == 0.675
    # an explicit setting still wins
    cfg = make_cfg("embedder=e5_small", "answerer.min_score=0.5")
    assert instantiate(cfg.answerer).min_score == 0.5


def test_retriever_plans_have_one_home():
    """#33: Retriever's own defaults were the pre-#17 RRF plan while conf/ held the tuned one
    (and scripts/bench.py ran the stale copy). Now it has none, and configured() is conf's."""
    import inspect

    params = inspect.signature(Retriever).parameters.values()
    assert all(p.default is inspect.Parameter.empty for p in params)
    from rag.retriever import configured

    assert vars(configured()) == vars(instantiate(make_cfg().retriever))
    assert vars(configured("dense")) == vars(instantiate(make_cfg("retriever=dense").retriever))
