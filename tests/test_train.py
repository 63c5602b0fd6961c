"""rag.train on a tiny BEIR train split: a handful of steps, the loss goes down, the checkpoint
resumes, and the saved models load in the embed and rerank stages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_cli import run

TOPICS = ["warranty", "hotel refunds", "passwords", "annual leave", "training budget",
          "parking", "laptops", "visitors", "expenses", "overtime", "remote work", "payroll"]


@pytest.fixture(scope="module")
def train_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("beir-train")
    with (root / "corpus.jsonl").open("w") as f:
        for i, topic in enumerate(TOPICS):
            f.write(json.dumps({"_id": f"d{i}", "title": "",
                                "text": f"Policy on {topic}: rule {i} says staff must file "
                                        f"{topic} requests within {i + 2} days."}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for i, topic in enumerate(TOPICS):
            f.write(json.dumps({"_id": f"q{i}", "text": f"What is the rule for {topic}?"}) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(len(TOPICS))))
    return root


def train(kind, train_split, data_dir, *extra):
    proc = run("-m", "rag.train", kind, "dataset=beir", f"dataset.path={train_split}",
               "dataset.split=train", "train.batch_size=4", "train.learning_rate=1e-4",
               "train.logging_steps=1", "train.save_steps=3", "train.hard_negatives=1",
               "train.mine_range=[1,6]", "train.max_length=32", "progress=false", *extra,
               data_dir=data_dir)
    final = data_dir / "models" / "beir" / kind / "final"
    return proc, json.loads((final / "card.json").read_text()), final


def test_embedder_trains_resumes_and_loads(train_split, tmp_path):
    from rag.embedder.sentence_transformer import SentenceTransformerEmbedder

    proc, card, final = train("embedder", train_split, tmp_path, "train.steps=6")
    assert card["steps"] == 6 and card["pairs"] == len(TOPICS)
    assert card["loss_last"] < card["loss_first"]
    assert (final / "MODEL_CARD.md").read_text().startswith("# rag-trained embedder")
    embedder = SentenceTransformerEmbedder(str(final))
    q = embedder.encode_queries(["What is the rule for parking?"])[0]
    docs = embedder.encode_documents([f"Policy on {t}" for t in TOPICS])
    assert docs.shape == (len(TOPICS), 384) and int(np.argmax(docs @ q)) == TOPICS.index("parking")

    again, card, _ = train("embedder", train_split, tmp_path, "train.steps=9")
    assert "resuming from" in again.stderr and "checkpoint-6" in again.stderr
    assert card["steps"] == 9  # continued from step 6, not restarted

    # re-trained into the same directory with other settings: the same file names and
    # sizes, new weights, so a new fingerprint (no stale cached embeddings or index)
    before = SentenceTransformerEmbedder(str(final)).fingerprint
    other, card, _ = train("embedder", train_split, tmp_path, "train.steps=9",
                           "train.learning_rate=3e-4")
    assert "made with other settings (learning_rate)" in other.stderr
    assert "resuming from" not in other.stderr and card["steps"] == 9  # from step 0
    assert list((final.parent).glob("checkpoints-other-settings-*"))
    assert SentenceTransformerEmbedder(str(final)).fingerprint != before


def test_reranker_trains_and_its_checkpoint_is_accepted(train_split, tmp_path):
    from rag.reranker import BgeReranker, CrossEncoderReranker, check_classifier_head

    proc, card, final = train("reranker", train_split, tmp_path, "train.steps=8")
    assert card["steps"] == 8 and card["loss_last"] < card["loss_first"]
    check_classifier_head(final)  # a trained head, not a random one
    texts = [f"Policy on {t}: rule {i}." for i, t in enumerate(TOPICS)]
    for cls in (BgeReranker, CrossEncoderReranker):
        scores = cls(str(final)).scores("What is the rule for parking?", texts)
        assert len(scores) == len(TOPICS) and len(set(scores)) > 1
    assert card["use"] == f"reranker=bge reranker.model={final}"


def test_reranker_mines_with_the_named_miner_and_keeps_a_frozen_table(train_split, tmp_path):
    import torch
    from safetensors.torch import load_file

    from rag.models import resolve_model
    from tests.conftest import MINILM

    missing = run("-m", "rag.train", "reranker", "dataset=beir", f"dataset.path={train_split}",
                  "dataset.split=train", "train.miner=/no/such/miner", "progress=false",
                  data_dir=tmp_path, check=False)
    assert missing.returncode != 0 and "/no/such/miner" in missing.stderr

    _, card, final = train("reranker", train_split, tmp_path, "train.steps=3",
                           f"train.miner={MINILM}", "train.freeze_embeddings=true")
    assert card["steps"] == 3 and card["config"]["miner"] == MINILM
    base = load_file(str(resolve_model(MINILM) / "model.safetensors"))
    tuned = load_file(str(final / "model.safetensors"))

    def weight(weights, name):
        return next(v for k, v in weights.items() if k.endswith(name))

    table, query = "embeddings.word_embeddings.weight", "layer.0.attention.self.query.weight"
    assert torch.equal(weight(tuned, table), weight(base, table))
    assert not torch.equal(weight(tuned, query), weight(base, query))  # the rest did train


def test_random_negatives_never_draw_a_judged_passage():
    from datasets import Dataset

    from rag.train import with_random_negatives

    labeled = Dataset.from_dict({"query": ["a", "a", "a", "b", "b"],
                                 "answer": ["pa", "pa2", "hard", "pb", "hard"],
                                 "label": [1, 1, 0, 1, 0]})
    passages = ["pa", "pa2", "pb", "pc", "pd"]
    out = with_random_negatives(labeled, passages, 3, seed=0).to_dict()
    added = list(zip(out["query"][5:], out["answer"][5:], out["label"][5:], strict=True))
    assert sorted(q for q, _, _ in added) == ["a"] * 6 + ["b"] * 3  # k per judged pair
    assert all(label == 0 for _, _, label in added)
    assert not {a for q, a, _ in added if q == "a"} & {"pa", "pa2"}
    assert "pb" not in {a for q, a, _ in added if q == "b"}
    # a question judged on every passage has nothing to draw: skipped, not drawn forever
    everything = Dataset.from_dict({"query": ["c", "c"], "answer": ["pc", "pd"], "label": [1, 1]})
    assert len(with_random_negatives(everything, ["pc", "pd"], 2, seed=0)) == 2


def test_a_miner_retrained_in_place_is_another_run(tmp_path):
    from omegaconf import OmegaConf

    from rag.train import run_settings

    base, miner = tmp_path / "base", tmp_path / "miner"
    for d in (base, miner):
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"weights v1")
    cfg = OmegaConf.create({"dataset": {"name": "beir", "path": "x", "split": "train"},
                            "train": {"miner": str(miner), "steps": 10}})
    before = run_settings("reranker", cfg, str(base))
    (miner / "model.safetensors").write_bytes(b"weights v2")  # same name and size
    after = run_settings("reranker", cfg, str(base))
    assert before["miner"] == after["miner"] and before != after
    cfg.train.miner = None  # no miner: the base mines, already in base_weights
    assert "miner_weights" not in run_settings("reranker", cfg, str(base))


def test_train_without_a_kind_says_what_to_do(tmp_path):
    proc = run("-m", "rag.train", "progress=false", data_dir=tmp_path, check=False)
    assert proc.returncode == 2 and "python -m rag.train embedder|reranker" in proc.stderr


def test_a_model_is_mined_and_trained_with_its_own_prompts():
    """e5 is searched as "query: ..." / "passage: ...": its training pairs must be too."""
    from types import SimpleNamespace

    from rag.train import model_prompts

    e5 = SimpleNamespace(prompts={"query": "query: ", "document": "passage: "})
    assert model_prompts(e5) == ("query: ", "passage: ")
    assert model_prompts(SimpleNamespace(prompts={"query": "q: ", "passage": "p: "})) == (
        "q: ", "p: ")
    assert model_prompts(SimpleNamespace(prompts={})) == (None, None)  # MiniLM: none
