"""The backend-neutral query plan (Qdrant's Query API as data) and the hits it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.sparse import SparseVec


@dataclass
class Nearest:
    """Score candidates by one named vector; candidates come from ``prefetch`` if given."""

    using: str
    vector: list[float] | SparseVec
    limit: int
    prefetch: list[Nearest | Fuse] = field(default_factory=list)


@dataclass
class Fuse:
    """Fuse the prefetch results: Qdrant's RRF (score 1/(k + rank0) per source, rank0 from 0;
    with weights, rank0+1 is divided by the weight) or DBSF."""

    method: str  # "rrf" | "dbsf"
    prefetch: list[Nearest | Fuse]
    limit: int
    k: int = 60
    weights: list[float] | None = None


Plan = Nearest | Fuse


@dataclass
class Hit:
    id: str
    score: float
    payload: dict


def tie_key(score: float, point_id: str) -> tuple[float, str]:
    """Sort key: best first; scores equal to 6 significant digits are ties, ordered by id.

    Fused scores tie often (RRF sums of 1/(k+rank)), and the engines compute them in f32 or
    f64 with different rounding: without the rounding, ties would break by float noise.
    """
    return -float(f"{score:.6g}"), point_id


def sort_hits(hits: Sequence[Hit], limit: int) -> list[Hit]:
    return sorted(hits, key=lambda h: tie_key(h.score, h.id))[:limit]
