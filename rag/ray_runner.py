"""Indexing on a Ray cluster: ``python -m rag.index runner=ray [runner.address=...]``.

Sources are read and chunked in Ray tasks and documents embedded by a pool of actors, each
holding one copy of the model. Everything that must be decided once stays in the driver (this
process, ``Pipeline.index``): which chunks are new, the embedding cache (consulted before a
text is dispatched, filled when its vector comes back), sparse encoding and the writes. So a
Ray run writes the same point ids and payloads as a one-process run, and vectors equal within
float tolerance (docs/scaling.md). An actor that dies is restarted and its batches re-run.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence

import numpy as np

from rag.errors import ConfigError
from rag.indexing import DocumentEncoder, SourceRead, read_source
from rag.stages import Chunker, Corpus, Embedder

log = logging.getLogger(__name__)


class Encoder:
    """One embedding model on one actor's CPUs."""

    def __init__(self, embedder: dict, threads: int) -> None:
        from hydra.utils import instantiate

        config = dict(embedder)
        if "threads" in config:  # a local model's threads: the actor's CPUs, not the machine's
            config["threads"] = threads
        self.embedder = instantiate(config)
        self.embedder.warm_up()
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode_documents(texts)

    def pid(self) -> int:
        return os.getpid()


def read_group(corpus: Corpus, chunker: Chunker, sources: list[str]) -> list[SourceRead]:
    return [read_source(corpus, chunker, source) for source in sources]


class RayRunner:
    """conf/runner/ray.yaml: reads in Ray tasks, embeds documents in an actor pool."""

    def __init__(self, embedder, address: str | None = None, actors: int = 2,
                 cpus_per_actor: float = 1, batch_size: int = 64, sources_per_task: int = 256,
                 readers: int = 2, object_store_mb: int = 512) -> None:
        import importlib.util

        from omegaconf import DictConfig, OmegaConf

        if importlib.util.find_spec("ray") is None:
            raise ConfigError("runner=ray needs Ray: pip install -e '.[ray]' (or pip install "
                              "ray==2.60.0)")
        if actors < 1 or batch_size < 1 or sources_per_task < 1:
            raise ConfigError("runner.actors, runner.batch_size and runner.sources_per_task "
                              "must be >= 1")
        # the embedder's config (each actor builds its own model), plain for pickling
        self.embedder = (OmegaConf.to_container(embedder, resolve=True)
                         if isinstance(embedder, DictConfig) else dict(embedder))
        self.address, self.actors, self.cpus_per_actor = address, actors, cpus_per_actor
        self.batch_size, self.sources_per_task, self.readers = batch_size, sources_per_task, readers
        self.object_store_mb = object_store_mb
        self.pool = None
        self.handles: list = []  # the actors (a test kills one mid-run)
        self._started = False

    def block_size(self, embedder: Embedder) -> int:
        # enough batches per round trip to keep every actor busy while the driver writes
        return self.batch_size * self.actors * 4

    def encoder(self, embedder: Embedder) -> DocumentEncoder:
        return self  # the actors' models, not the driver's

    def _start(self) -> None:
        if self.pool is not None:
            return
        import ray
        from ray.util import ActorPool

        if not ray.is_initialized():
            # a local cluster when no address is given; workers log to their own files
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     object_store_memory=None if self.address else self.object_store_mb << 20,
                     configure_logging=False)
            self._started = True
        cpus = ray.cluster_resources().get("CPU", 0)
        needed = self.actors * self.cpus_per_actor
        if needed > cpus:
            raise ConfigError(f"runner.actors={self.actors} x runner.cpus_per_actor="
                             f"{self.cpus_per_actor} needs {needed:g} CPUs; the cluster has "
                             f"{cpus:g}: lower runner.actors or add nodes")
        remote = ray.remote(num_cpus=self.cpus_per_actor, max_restarts=-1,
                            max_task_retries=-1)(Encoder)
        threads = max(int(self.cpus_per_actor), 1)
        self.handles = [remote.remote(self.embedder, threads) for _ in range(self.actors)]
        self.pool = ActorPool(self.handles)
        log.info("ray: %d embedding actors x %g CPUs on %s", self.actors, self.cpus_per_actor,
                 self.address or "a local cluster")

    def read(self, corpus: Corpus, chunker: Chunker,
             sources: Sequence[str]) -> Iterator[tuple[str, SourceRead]]:
        """Each source read and chunked in a Ray task, yielded as tasks finish. Reading takes
        no CPU reservation, so it never waits behind the actors that hold the CPUs; at most
        2 x runner.readers tasks are in flight."""
        import ray

        self._start()
        task = ray.remote(num_cpus=0, max_retries=3)(read_group)
        corpus_ref, chunker_ref = ray.put(corpus), ray.put(chunker)
        groups = iter([list(sources[i : i + self.sources_per_task])
                       for i in range(0, len(sources), self.sources_per_task)])
        pending: dict = {}

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                pending[task.remote(corpus_ref, chunker_ref, group)] = group

        for _ in range(2 * max(self.readers, 1)):
            submit()
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            group = pending.pop(ref)
            submit()
            yield from zip(group, ray.get(ref), strict=True)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors in the order of ``texts``, from batches spread over the actors."""
        self._start()
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        vectors = list(self.pool.map(lambda actor, batch: actor.encode.remote(batch), batches))
        return np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)

    def close(self) -> None:
        import ray

        for handle in self.handles:
            ray.kill(handle)
        self.handles, self.pool = [], None
        if self._started:
            ray.shutdown()
            self._started = False
