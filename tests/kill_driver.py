"""Run ``rag.index`` and SIGKILL the process at a chosen point, for the kill-and-resume tests.

    python -m tests.kill_driver POINT N [hydra overrides ...]

POINT is where the N-th call dies:
  create         the empty shard is made aside, not yet renamed into place
  embed          a block's vectors are in the embedding cache, not yet in the index
  upsert-before  about to write an upsert batch
  upsert-during  inside the engine's write (a timer thread fires while it runs)
  upsert-after   an upsert batch was written
  delete         about to prune stale chunks
  optimize       about to build the HNSW graph
  hold           never dies: prints OPEN once the index is open, then sleeps (busy tests)
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time
import types


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def patch(point: str, n: int) -> None:
    import rag.store.edge as edge
    from rag.embedder.cache import EmbeddingCache

    calls = [0]

    def nth() -> bool:
        calls[0] += 1
        return calls[0] == n

    def around(owner, name, before=False, after=False, during=False):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            hit = nth()
            if hit and before:
                die()
            if hit and during:
                threading.Timer(0.0005, die).start()
            result = original(*args, **kwargs)
            if hit and after:
                die()
            return result

        setattr(owner, name, wrapper)

    if point == "create":
        edge.os = types.SimpleNamespace(**{**vars(os), "rename": lambda *a: die()})
    elif point == "embed":
        around(EmbeddingCache, "put", after=True)
    elif point.startswith("upsert-"):
        around(edge.EdgeStore, "upsert", **{point.split("-")[1]: True})
    elif point in ("delete", "optimize"):
        around(edge.EdgeStore, point, before=True)
    elif point == "hold":
        original = edge.EdgeStore.open

        def open_and_hold(self, *args, **kwargs):
            opened = original(self, *args, **kwargs)
            print("OPEN", flush=True)
            time.sleep(120)
            return opened

        edge.EdgeStore.open = open_and_hold
    else:
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    point, n, *overrides = sys.argv[1:]
    patch(point, int(n))
    sys.argv = [sys.argv[0], *overrides]
    runpy.run_module("rag.index", run_name="__main__", alter_sys=True)
