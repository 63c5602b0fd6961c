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
"""

from __future__ import annotations

import numpy as np

from rag.sparse import SparseVec
from rag.store import DENSE, DENSE_MRL, SPARSE, Fuse, Nearest, Plan, mrl_cut

MODES = ("hybrid", "dense", "sparse")
FUSIONS = ("rrf", "dbsf", "relative")


class Retriever:
    def __init__(
        self,
        mode: str = "hybrid",
        mrl_dim: int | None = 128,
        mrl_limit: int = 100,
        dense_limit: int = 50,
        sparse_limit: int = 50,
        fusion: str = "rrf",
        rrf_k: int = 60,
        dense_weight: float = 1.0,
        sparse_weight: float = 1.0,
        rescore: bool = True,
        alpha: float = 0.5,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"retriever.mode must be one of {MODES}, got {mode!r}")
        if fusion not in FUSIONS:
            raise ValueError(f"retriever.fusion must be one of {FUSIONS}, got {fusion!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"retriever.alpha (the dense share of a relative fusion) must be "
                             f"between 0 and 1, got {alpha}")
        if mrl_dim is not None and mrl_dim <= 0:
            raise ValueError(f"retriever.mrl_dim must be positive or null, got {mrl_dim}")
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
            raise ValueError(
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

    def plan(self, dense: np.ndarray | None, sparse: SparseVec | None, top_k: int) -> Plan:
        if self.mode == "dense":
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
             Nearest(SPARSE, sparse, max(self.sparse_limit, top_k))],
            top_k, k=self.rrf_k, weights=weights,
        )
