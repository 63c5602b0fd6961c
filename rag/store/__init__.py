"""Store stage: Qdrant collections, embedded (edge.py: qdrant-edge in-process) or through
qdrant-client (client.py: a server or cluster by URL, or its in-memory mode for tests).

schema.py is what an index holds and records; plan.py is the query as data. The contract a
backend fulfils is ``rag.stages.Store``.
"""

from rag.store.plan import (
    Fuse,
    Hit,
    Nearest,
    Plan,
    Within,
    fuse_relative,
    search_plan,
    sort_hits,
    tie_key,
    within_of,
)
from rag.store.schema import (
    DENSE,
    DENSE_MRL,
    QUANTIZATIONS,
    SPARSE,
    IndexBusyError,
    IndexMismatchError,
    IndexSpec,
    Point,
    busy_message,
    check_quantization,
    mrl_cut,
    quantized_bytes,
)

__all__ = [
    "DENSE", "DENSE_MRL", "QUANTIZATIONS", "SPARSE", "Fuse", "Hit", "IndexBusyError",
    "IndexMismatchError", "IndexSpec", "Nearest", "Plan", "Point", "Within", "busy_message",
    "check_quantization", "fuse_relative", "mrl_cut", "quantized_bytes", "search_plan",
    "sort_hits", "tie_key", "within_of",
]
