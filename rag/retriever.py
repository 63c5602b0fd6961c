"""Retrieve stage: turn encoded queries into one Qdrant Query API plan.

hybrid:  Fuse(rrf|dbsf|relative)[ dense top-k_d <- dense_mrl top-k_m,  sparse top-k_s ]
dense:   dense top-k <- dense_mrl top-k_m       (the MRL funnel: short first pass, full rescore)
sparse:  sparse top-k
With ``mrl_dim: null`` the dense leg searches the full vector directly; with ``rescore: false``
the short vector answers alone (dense_mrl top-k), which is what a shortened-only index gives.

Fusion: ``rrf`` (ranks; ``rrf_k``, ``dense_weight`` / ``sparse_weight``), ``dbsf`` (scores
normalised by their mean and spread, in the engine) or ``relative`` (min-max scaled scores,
``alpha`` * dense + (1 - alpha) * sparse, as llama-index's hybrid mode; fused on the
candidates, rag.store.plan.fuse_relative).

Script gate (hybrid, ``sparse_script_gap``): the sparse leg is left out for a question when
fewer than ``sparse_script_min`` of the collection's chunks have a share of Latin-script words
(payload ``latin_share``, rag.text.latin_share) within the gap of the question's (the pipeline
counts them, rag.pipeline); with ``sparse_script_filter`` it also scores only those chunks. An
English question over Chinese passages then has no sparse leg to be misled by (BM25 would
match stray numbers and Latin words in a few passages, and DBSF would rescale them to a full
share of the fused score), while Chinese pages that keep English commands still count as near
an English question.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.documents import LATIN_SHARE
from rag.errors import ConfigError
from rag.sparse import SparseVec
from rag.store import DENSE, DENSE_MRL, SPARSE, Fuse, Nearest, Plan, Within, mrl_cut

CONF = Path(__file__).resolve().parent.parent / "conf" / "retriever"
MODES = ("hybrid", "dense", "sparse")
FUSIONS = ("rrf", "dbsf", "relative")


class Retriever:
    """A retrieval plan. Every knob is required: the plans users run live in conf/retriever
    (``configured()`` reads them), never in a second copy here that could drift."""

    def __init__(
        self,
        *,
        mode: str,
        mrl_dim: int | None,
        mrl_limit: int,
        dense_limit: int,
        sparse_limit: int,
        fusion: str,
        rrf_k: int,
        dense_weight: float,
        sparse_weight: float,
        rescore: bool,
        alpha: float,
        sparse_script_gap: float | None,
        sparse_script_min: float,
        sparse_script_filter: bool,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"retriever.mode must be one of {MODES}, got {mode!r}")
        if fusion not in FUSIONS:
            raise ConfigError(f"retriever.fusion must be one of {FUSIONS}, got {fusion!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"retriever.alpha (the dense share of a relative fusion) must be "
                             f"between 0 and 1, got {alpha}")
        if sparse_script_gap is not None and not 0.0 <= sparse_script_gap <= 1.0:
            raise ConfigError(f"retriever.sparse_script_gap must be between 0 and 1 or null, "
                              f"got {sparse_script_gap}")
        if mrl_dim is not None and mrl_dim <= 0:
            raise ConfigError(f"retriever.mrl_dim must be positive or null, got {mrl_dim}")
        self.mode = mode
        self.mrl_dim = mrl_dim
        self.mrl_limit = mrl_limit
        self.dense_limit = dense_limit
        self.sparse_limit = sparse_limit
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.sparse_weight = sparse_weight
        self.rescore = rescore
        self.alpha = alpha
        self.sparse_script_gap = sparse_script_gap
        self.sparse_script_min = sparse_script_min
        self.sparse_script_filter = sparse_script_filter

    @property
    def uses_dense(self) -> bool:
        return self.mode in ("hybrid", "dense")

    @property
    def uses_sparse(self) -> bool:
        return self.mode in ("hybrid", "sparse")

    @property
    def searched_vectors(self) -> set[str]:
        """The named vectors this plan reads (what its storage cost is)."""
        names = set()
        if self.uses_dense:
            if not self.mrl_dim:
                names.add(DENSE)
            else:
                names |= {DENSE, DENSE_MRL} if self.rescore else {DENSE_MRL}
        if self.uses_sparse:
            names.add(SPARSE)
        return names

    def check_dim(self, dim: int) -> None:
        if self.mrl_dim is not None and self.mrl_dim >= dim:
            raise ConfigError(
                f"retriever.mrl_dim={self.mrl_dim} must be smaller than the embedder's "
                f"dimension {dim} (or null for no MRL first pass)"
            )

    def _dense(self, query: np.ndarray, limit: int) -> Nearest:
        if self.mrl_dim and not self.rescore:
            return Nearest(DENSE_MRL, mrl_cut(query, self.mrl_dim).tolist(), limit)
        funnel = []
        if self.mrl_dim:
            funnel = [Nearest(DENSE_MRL, mrl_cut(query, self.mrl_dim).tolist(),
                              max(self.mrl_limit, limit))]
        return Nearest(DENSE, query.tolist(), limit, funnel)

    def script_filter(self, latin_share: float) -> Within | None:
        """The chunks a question's sparse leg may score (None: every chunk)."""
        if self.mode != "hybrid" or self.sparse_script_gap is None:
            return None
        gap = self.sparse_script_gap
        return Within(LATIN_SHARE, latin_share - gap, latin_share + gap)

    def plan(self, dense: np.ndarray | None, sparse: SparseVec | None, top_k: int,
             within: Within | None = None) -> Plan:
        """``within``: the script gate's filter on the sparse leg; a hybrid plan given no
        sparse vector (the gate found too few chunks in the question's script) is dense."""
        if self.mode == "dense" or (self.mode == "hybrid" and sparse is None):
            return self._dense(dense, top_k)
        if self.mode == "sparse":
            return Nearest(SPARSE, sparse, top_k)
        weights = None
        if self.fusion == "relative":
            weights = [self.alpha, 1.0 - self.alpha]
        elif (self.dense_weight, self.sparse_weight) != (1.0, 1.0):
            weights = [self.dense_weight, self.sparse_weight]
        return Fuse(
            self.fusion,
            [self._dense(dense, max(self.dense_limit, top_k)),
             Nearest(SPARSE, sparse, max(self.sparse_limit, top_k),
                     within=within if self.sparse_script_filter else None)],
            top_k, k=self.rrf_k, weights=weights,
        )


def configured(mode: str = "hybrid", **changes) -> Retriever:
    """The plan conf/retriever/<mode>.yaml holds (the default's, for hybrid), with ``changes``:
    what scripts and tests build plans from."""
    from omegaconf import OmegaConf

    node = OmegaConf.load(CONF / "hybrid.yaml")  # dense/sparse.yaml only change the mode
    plan = {k: v for k, v in OmegaConf.to_container(node).items() if not k.startswith("_")}
    return Retriever(**{**plan, "mode": mode, **changes})
