"""The Qdrant schema: named vectors, what an index records of its making, and the errors that
protect an index from a configuration that does not match it.

  dense      full-dimension vector, cosine (absent in a sparse-only index: dim None)
  dense_mrl  first ``mrl_dim`` dims re-normalised (absent when mrl_dim is None)
  sparse     sparse vector, with Qdrant's IDF modifier when the encoder asks for it
  payload    text, doc_id, source, page, language, content_hash (+ section, ...)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from rag.errors import ConfigError, RagError
from rag.sparse import SparseVec

DENSE, DENSE_MRL, SPARSE = "dense", "dense_mrl", "sparse"


class IndexMismatchError(RagError, RuntimeError):
    """The existing index was built with a different schema; nothing was written."""


class IndexBusyError(RuntimeError):
    """Another process holds the index (an embedded engine serves one process at a time)."""


def busy_message(where: str) -> str:
    return (f"index {where} is in use by another process (an index run, or a query): try again "
            f"when it finishes, or set lock_timeout=SECONDS to wait for it. The embedded engines "
            f"serve one process at a time; a Qdrant server (store=qdrant store.url=...) serves "
            f"many")


@dataclass(frozen=True)
class IndexSpec:
    name: str
    dim: int | None  # None: no dense vectors (built for a plan that reads none)
    mrl_dim: int | None
    sparse_idf: bool | None  # None: no sparse vector
    fingerprint: dict = field(default_factory=dict, compare=False)
    quantization: str | None = None  # of the dense vectors: None (float), int8, binary, ...

    def manifest(self) -> dict:
        return {"name": self.name, "dim": self.dim, "mrl_dim": self.mrl_dim,
                "sparse_idf": self.sparse_idf, "quantization": self.quantization,
                "fingerprint": self.fingerprint}

    def check_against(self, manifest: dict, where: str) -> None:
        """Raise before any write if an existing index does not match this configuration."""
        for key in ("dim", "mrl_dim", "sparse_idf", "quantization"):
            if manifest.get(key) != getattr(self, key):
                raise IndexMismatchError(
                    f"index {where} was built with {key}={manifest.get(key)} but this "
                    f"configuration needs {key}={getattr(self, key)} "
                    f"(embedder {manifest.get('fingerprint', {}).get('embedder')}). Nothing was "
                    f"written. Use another store.collection, or delete {where} to rebuild it."
                )
        old, new = manifest.get("fingerprint", {}), self.fingerprint
        if old.get("embedder") != new.get("embedder"):
            raise IndexMismatchError(
                f"index {where} was built with embedder {old.get('embedder')}, not "
                f"{new.get('embedder')}: its vectors are not comparable. Nothing was written. "
                f"Use another store.collection, or delete {where} to rebuild it."
            )
        for stage in ("chunker", "sparse"):  # other chunks or terms would mix into this index
            # as the manifest stores it (JSON: a tuple reads back as a list)
            if stage in old and old[stage] != json.loads(json.dumps(new.get(stage))):
                raise IndexMismatchError(
                    f"index {where} was built with {stage} {old[stage]}, not {new.get(stage)}: "
                    f"its points would mix with these. Nothing was written. Use another "
                    f"store.collection, or delete {where} to rebuild it."
                )


QUANTIZATIONS = ("int8", "binary", "binary_1.5bit", "binary_2bit")


def check_quantization(quantization: str | None) -> None:
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ConfigError(f"store.quantization must be null or one of {QUANTIZATIONS}, "
                         f"got {quantization!r}")


def quantized_bytes(quantization: str | None, dim: int) -> float:
    """Bytes a dense vector of ``dim`` takes in the quantized copy Qdrant searches first (the
    float original stays on disk for rescoring): int8 one byte per dim plus its offset and
    scale, binary one bit per dim (1.5 and 2 bits for the finer encodings)."""
    if quantization is None:
        return 4.0 * dim
    if quantization == "int8":
        return dim + 8.0
    bits = {"binary": 1, "binary_1.5bit": 1.5, "binary_2bit": 2}[quantization]
    return float(np.ceil(dim * bits / 8))


def mrl_cut(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Matryoshka vector: the first ``dim`` components, re-normalised to unit length."""
    head = np.asarray(vectors, dtype=np.float32)[..., :dim]
    return head / np.maximum(np.linalg.norm(head, axis=-1, keepdims=True), 1e-12)


@dataclass
class Point:
    id: str
    dense: np.ndarray | None  # full dimension, unit length; None in a sparse-only index
    sparse: SparseVec | None
    payload: dict

    def named_vectors(self, mrl_dim: int | None) -> dict:
        """The schema's named vectors; the MRL vector is derived here, never encoded."""
        vectors: dict = {}
        if self.dense is not None:
            vectors[DENSE] = self.dense.tolist()
        if mrl_dim and self.dense is not None:
            vectors[DENSE_MRL] = mrl_cut(self.dense, mrl_dim).tolist()
        if self.sparse is not None:
            vectors[SPARSE] = self.sparse
        return vectors
