"""The backend-neutral query plan (Qdrant's Query API as data) and the hits it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.sparse import SparseVec


@dataclass(frozen=True)
class Within:
    """Only points whose payload ``key`` lies in [low, high]. A point without the key passes:
    an index built before the key existed searches as it did."""

    key: str
    low: float
    high: float


@dataclass
class Nearest:
    """Score candidates by one named vector; candidates come from ``prefetch`` if given."""

    using: str
    vector: list[float] | SparseVec
    limit: int
    prefetch: list[Nearest | Fuse] = field(default_factory=list)
    within: Within | None = None


@dataclass
class Fuse:
    """Fuse the prefetch results: Qdrant's RRF (score 1/(k + rank0) per source, rank0 from 0;
    with weights, rank0+1 is divided by the weight), DBSF, or relative score fusion (each
    source's scores min-max scaled to [0, 1], then a weighted sum; a source that did not
    return a point adds 0), which the engines cannot express and ``fuse_relative`` computes."""

    method: str  # "rrf" | "dbsf" | "relative"
    prefetch: list[Nearest | Fuse]
    limit: int
    k: int = 60
    weights: list[float] | None = None


Plan = Nearest | Fuse


def within_of(node: Plan) -> Within | None:
    """The payload range a plan node is limited to (a fusion never is)."""
    return node.within if isinstance(node, Nearest) else None


@dataclass
class Hit:
    id: str
    score: float
    payload: dict

    def to_dict(self) -> dict:
        """A passage as rag.query --json and the server show it."""
        return {"id": self.id, "score": self.score, **self.payload}


def tie_key(score: float, point_id: str) -> tuple[float, str]:
    """Sort key: best first; scores equal to 6 significant digits are ties, ordered by id.

    Fused scores tie often (RRF sums of 1/(k+rank)), and the engines compute them in f32 or
    f64 with different rounding: without the rounding, ties would break by float noise.
    """
    return -float(f"{score:.6g}"), point_id


def sort_hits(hits: Sequence[Hit], limit: int) -> list[Hit]:
    return sorted(hits, key=lambda h: tie_key(h.score, h.id))[:limit]


def fuse_relative(sources: Sequence[Sequence[Hit]], weights: Sequence[float] | None,
                  limit: int) -> list[Hit]:
    """llama-index's relative score fusion over the sources' own result lists.

    Min-max scaling keeps each list's margins (a clear dense winner stays ahead), which rank
    fusion discards; Qdrant's score formulas cannot see a list's min and max, so this runs on
    the prefetched candidates. A list whose scores are all equal scales to 1.
    """
    weights = list(weights) if weights else [1.0] * len(sources)
    fused: dict[str, float] = {}
    payloads: dict[str, dict] = {}
    for hits, weight in zip(sources, weights, strict=True):
        if not hits:
            continue
        scores = [h.score for h in hits]
        low, span = min(scores), max(scores) - min(scores)
        for h in hits:
            scaled = (h.score - low) / span if span > 0 else 1.0
            fused[h.id] = fused.get(h.id, 0.0) + weight * scaled
            payloads.setdefault(h.id, h.payload)
    return sort_hits([Hit(i, s, payloads[i]) for i, s in fused.items()], limit)


def search_plan(search: Callable[[Plan, bool], list[Hit]], plan: Plan, with_payload: bool,
                payloads: Callable[[list[str]], dict[str, dict]]) -> list[Hit]:
    """Run a plan on a backend whose ``search`` executes what the engine can: a relative
    fusion becomes one engine query per source, fused here; the payloads of the fused hits
    only are read afterwards (reading them for every candidate of both lists cost more than
    the fusion)."""
    if isinstance(plan, Fuse) and plan.method == "relative":
        hits = fuse_relative([search(p, False) for p in plan.prefetch], plan.weights,
                             plan.limit)
        if with_payload and hits:
            found = payloads([h.id for h in hits])
            hits = [Hit(h.id, h.score, found.get(h.id, {})) for h in hits]
        return hits
    return search(plan, with_payload)
