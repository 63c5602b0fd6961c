"""Fine-tune on a team's own labelled pairs: ``python -m rag.train embedder|reranker [overrides]``.

embedder: a sentence-embedding model trained with a Matryoshka loss (in-batch negatives plus
          mined hard negatives), so its first 256/128/64 dims work as shortened vectors.
reranker: a cross-encoder trained on (question, passage, relevant?) pairs with mined hard
          negatives, saved with its classification head so reranker=bge / cross_encoder load it.

Both use sentence-transformers' trainers, stop at ``train.time_budget_minutes``, save
checkpoints that a re-run with the same settings resumes from (checkpoints made with other
settings are moved aside, not resumed), and write a model card (MODEL_CARD.md + card.json)
beside the weights. The data is a BEIR folder's ``train`` split (``make data``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from rag.cli import renamed_overrides, user_errors
from rag.errors import ConfigError

log = logging.getLogger("rag.train")
KINDS = ("embedder", "reranker")
# The reranker's classification head starts from random weights: at the embedder's 2e-5 it
# barely moved in a 30-minute run (loss 0.69 -> 0.66) and its ranking was worse than none.
LEARNING_RATE = {"embedder": 2.0e-5, "reranker": 7.0e-5}
_KIND: dict[str, str | None] = {"kind": None}


def training_pairs(dataset, corpus, max_queries: int | None = None) -> tuple[list, list]:
    """(question, relevant passage) for every judged pair of the split, in file order."""
    documents, _ = corpus.read()
    text = {d.source: d.text for d in documents}
    queries, qrels = dataset.queries(), dataset.qrels()
    anchors, positives = [], []
    for qid, question in list(queries.items())[:max_queries]:
        for doc_id in qrels.get(qid, {}):
            if doc_id in text:
                anchors.append(question)
                positives.append(text[doc_id])
    if not anchors:
        raise ConfigError(f"no training pairs in {dataset.path} split {dataset.split!r}: "
                         f"check dataset.split (InsuranceQA has train, valid, test)")
    return anchors, positives


def _time_budget(deadline: float):
    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        """Stop (and save) at the deadline: the whole run, mining included, must fit its slot."""

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() > deadline:
                log.info("time budget spent at step %d: saving and stopping", state.global_step)
                control.should_training_stop = True
                control.should_save = True
            return control

    return TimeBudget()


def _args(cls, t: DictConfig, out: Path):
    return cls(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=t.batch_size,
        learning_rate=t.learning_rate, warmup_steps=float(t.warmup_ratio), seed=t.seed,
        num_train_epochs=t.epochs, max_steps=t.steps or -1, save_steps=t.save_steps,
        save_total_limit=2, logging_steps=t.logging_steps, report_to="none", use_cpu=True,
        disable_tqdm=not t.progress, dataloader_drop_last=True,
    )


def model_prompts(model) -> tuple[str | None, str | None]:
    """The bi-encoder's own query and document prompts (e5: "query: " / "passage: "). Mining
    and training without them would tune the model on inputs it never sees at search time."""
    prompts = model.prompts or {}
    return prompts.get("query"), prompts.get("document") or prompts.get("passage")


def _mine(pairs, model, t: DictConfig, output_format: str):
    from sentence_transformers.util import mine_hard_negatives

    query_prompt, document_prompt = model_prompts(model)
    return mine_hard_negatives(
        pairs, model, num_negatives=t.hard_negatives, range_min=t.mine_range[0],
        range_max=t.mine_range[1], sampling_strategy=t.mine_sampling, batch_size=t.batch_size,
        query_prompt=query_prompt, corpus_prompt=document_prompt,
        output_format=output_format, use_faiss=False, verbose=False)


def _freeze_embeddings(encoder) -> None:
    """Keep the token embedding table as is. Multilingual models: tokens only one language's
    training touches would drift away from the words they share a space with in others; e5
    also sheds 4/5 of its optimizer state (the table is 96M of its 118M weights)."""
    encoder.get_input_embeddings().weight.requires_grad_(False)


def train_embedder(base: str, anchors: list, positives: list, t: DictConfig, out: Path,
                   deadline: float):
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = t.max_length
    pairs = Dataset.from_dict({"anchor": anchors, "positive": positives})
    if t.hard_negatives:
        pairs = _mine(pairs, model, t, "triplet")
    if t.freeze_embeddings:
        _freeze_embeddings(model[0].auto_model)
    dims = [d for d in t.dims if d <= model.get_embedding_dimension()]
    loss = losses.MatryoshkaLoss(model, losses.MultipleNegativesRankingLoss(model),
                                 matryoshka_dims=dims)
    args = _args(SentenceTransformerTrainingArguments, t, out)
    args.batch_sampler = BatchSamplers.NO_DUPLICATES  # a duplicate is a false in-batch negative
    query_prompt, document_prompt = model_prompts(model)
    if query_prompt or document_prompt:
        args.prompts = {"anchor": query_prompt or "", "positive": document_prompt or "",
                        "negative": document_prompt or ""}
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs, loss=loss,
                                         callbacks=[_time_budget(deadline)])
    return model, trainer, len(pairs)


def with_random_negatives(labeled, passages: list, k: int, seed: int):
    """k passages drawn at random beside each judged pair, labelled 0. A cross-encoder shown
    only topical negatives has no signal it can find from a random head: two runs on
    InsuranceQA zh kept one score for every passage (docs/results/rerank_zh.md)."""
    import random

    from datasets import Dataset, concatenate_datasets

    rng, pool = random.Random(seed), sorted(set(passages))
    judged: dict[str, set] = {}
    for q, a, label in zip(labeled["query"], labeled["answer"], labeled["label"], strict=True):
        if label:
            judged.setdefault(q, set()).add(a)
    extra = []
    for q, relevant in judged.items():
        if len(relevant) >= len(pool):  # every passage judged: none to draw, and no end to it
            continue
        for _ in range(k * len(relevant)):
            a = rng.choice(pool)
            while a in relevant:  # a judged passage is no negative
                a = rng.choice(pool)
            extra.append((q, a))
    return concatenate_datasets([labeled, Dataset.from_dict(
        {"query": [q for q, _ in extra], "answer": [a for _, a in extra],
         "label": [0] * len(extra)}).cast(labeled.features)])


def cross_encoder_from(base: str, out: Path, seed: int = 0) -> Path:
    """A cross-encoder made from an encoder checkpoint (``package:`` or a folder): its
    weights under a one-score classification head seeded with ``seed``, saved with its
    tokenizer. Untrained, yet it orders pairs by the encoder's features rather than alike (a
    random tiny model spreads its scores over 2e-4): what runtime benchmarks and the ONNX
    tests compare backends on."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rag.models import resolve_model

    torch.manual_seed(seed)
    path = resolve_model(base)
    AutoModelForSequenceClassification.from_pretrained(path, num_labels=1).save_pretrained(out)
    AutoTokenizer.from_pretrained(path).save_pretrained(out)
    return out


def train_reranker(base: str, anchors: list, positives: list, t: DictConfig, out: Path,
                   deadline: float):
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from rag.models import resolve_model

    pairs = Dataset.from_dict({"query": anchors, "answer": positives})
    # the negatives a reranker must learn to push down are the ones its first stage ranks
    # high: mine with that bi-encoder (train.miner), by default the base itself. Not with one
    # trained on these same questions: its near misses are mostly unjudged duplicates.
    miner = SentenceTransformer(str(resolve_model(t.miner or base)), device="cpu")
    miner.max_seq_length = t.max_length
    labeled = _mine(pairs, miner, t, "labeled-pair")
    del miner
    if t.random_negatives:
        labeled = with_random_negatives(labeled, positives, t.random_negatives, t.seed)
    model = CrossEncoder(base, num_labels=1, max_length=t.max_length, device="cpu")
    if t.freeze_embeddings:
        _freeze_embeddings(model.model)
    args = _args(CrossEncoderTrainingArguments, t, out)
    # k negatives per positive: weigh each positive k times so "relevant" is not the rare class
    negatives = max(t.hard_negatives + t.random_negatives, 1)
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(negatives)))
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=labeled, loss=loss,
                                  callbacks=[_time_budget(deadline)])
    return model, trainer, len(labeled)


# what a resumed run may change: how long it trains and how often it reports and saves
_RESUMABLE = {"steps", "epochs", "time_budget_minutes", "save_steps", "logging_steps",
              "progress", "output_dir"}


def run_settings(kind: str, cfg: DictConfig, base: str) -> dict:
    """Everything that makes a checkpoint what it is: the data, the base weights (by
    content) and every training setting a resumed run must share."""
    from rag.models import resolve_model, weights_signature

    t = OmegaConf.to_container(cfg.train, resolve=True)
    settings = {"kind": kind, "base_weights": weights_signature(Path(base)),
                "dataset": {k: str(cfg.dataset.get(k)) for k in ("name", "path", "split")},
                **{k: v for k, v in sorted(t.items()) if k not in _RESUMABLE}}
    if t.get("miner"):  # a miner re-trained in place mines other negatives: not a resume
        settings["miner_weights"] = weights_signature(resolve_model(t["miner"]))
    return settings


def claim_checkpoints(out: Path, settings: dict) -> None:
    """Keep ``out/checkpoints`` only if it was made with these settings; otherwise move it
    aside (never delete a user's training) so this run starts afresh."""
    checkpoints, stamp = out / "checkpoints", out / "checkpoints" / "settings.json"
    if checkpoints.exists() and any(checkpoints.iterdir()):
        made_with = json.loads(stamp.read_text()) if stamp.exists() else None
        if made_with != settings:
            aside = out / f"checkpoints-other-settings-{time.strftime('%Y%m%d-%H%M%S')}"
            checkpoints.rename(aside)
            changed = sorted(k for k in {*settings, *(made_with or {})}
                             if (made_with or {}).get(k) != settings.get(k))
            log.warning("checkpoints in %s were made with other settings (%s): moved to %s, "
                        "training starts afresh", checkpoints, ", ".join(changed), aside)
    checkpoints.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(settings, indent=2))


def _last_checkpoint(out: Path) -> str | None:
    checkpoints = sorted((out / "checkpoints").glob("checkpoint-*"),
                         key=lambda p: int(p.name.split("-")[1]))
    return str(checkpoints[-1]) if checkpoints else None


def run(kind: str, cfg: DictConfig) -> dict:
    from hydra.utils import instantiate

    from rag.models import resolve_model

    t = cfg.train
    if t.learning_rate is None:
        t.learning_rate = LEARNING_RATE[kind]
    out = Path(t.output_dir) / kind
    dataset, corpus = instantiate(cfg.dataset), instantiate(cfg.corpus)
    anchors, positives = training_pairs(dataset, corpus, t.max_queries)
    base = str(resolve_model(t.base))
    build = train_embedder if kind == "embedder" else train_reranker
    claim_checkpoints(out, run_settings(kind, cfg, base))
    start = time.monotonic()
    deadline = start + t.time_budget_minutes * 60
    model, trainer, examples = build(base, anchors, positives, t, out, deadline)
    resume = _last_checkpoint(out)
    if resume:
        log.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    final = out / "final"
    model.save_pretrained(str(final))
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    card = {
        "kind": kind, "base": t.base, "dataset": dataset.name, "split": dataset.split,
        "pairs": len(anchors), "examples": examples, "steps": trainer.state.global_step,
        "examples_seen": trainer.state.global_step * t.batch_size,
        "minutes": (time.monotonic() - start) / 60,
        "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None,
        "config": OmegaConf.to_container(t, resolve=True),
        "use": (f"embedder.model={final}" if kind == "embedder"
                else f"reranker=bge reranker.model={final}"),
    }
    (final / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))
    (final / "MODEL_CARD.md").write_text(_card_markdown(card))
    log.info("trained %s: %d steps in %.1f min, loss %s -> %s; use it with %s", kind,
             card["steps"], card["minutes"], card["loss_first"], card["loss_last"], card["use"])
    return card


def _card_markdown(card: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in card.items() if k != "config")
    return (f"# rag-trained {card['kind']}\n\nBase `{card['base']}`, fine-tuned by `python -m "
            f"rag.train {card['kind']}` on {card['dataset']} ({card['split']}).\n\n| | |\n"
            f"|---|---|\n{rows}\n\nTraining configuration:\n\n```json\n"
            f"{json.dumps(card['config'], indent=2)}\n```\n\nMeasure it with `python -m "
            f"rag.eval {card['use']}` on held-out questions.\n")


@hydra.main(config_path="../conf", config_name="train", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    kind = _KIND["kind"]
    if kind not in KINDS:
        log.error("error: say what to train: python -m rag.train embedder|reranker [overrides]")
        sys.exit(2)
    run(kind, cfg)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in KINDS:
        _KIND["kind"] = sys.argv.pop(1)
    sys.argv[1:] = renamed_overrides(sys.argv[1:])
    main()
