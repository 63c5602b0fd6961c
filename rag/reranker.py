"""Rerank stage: a cross-encoder rescores the top fused candidates.

The reranker's score replaces the hit's score; the retrieval score is kept beside it in the
payload (``retrieval_score``) so both can be shown and evaluated. With ``retrieval_weight`` w > 0
the new score is a relative fusion of the two over the candidates, (1 - w) * min-max(reranker) +
w * min-max(retrieval): a small cross-encoder and a strong first stage err on different
candidates. Candidates beyond ``top_n`` follow the reranked ones in first-stage order.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.errors import ConfigError
from rag.models import resolve_model
from rag.onnx_model import check_runtime
from rag.store import Hit, sort_hits
from rag.store.plan import fuse_relative


class MissingHeadError(RuntimeError):
    pass


def check_classifier_head(path: Path) -> None:
    """Refuse a checkpoint without trained sequence-classification weights.

    Loading one, transformers and FlagEmbedding initialise the head at random and the
    "reranked" order is noise; we read the weight names instead of trusting the load.
    """
    config_file = path / "config.json"
    config = json.loads(config_file.read_text()) if config_file.exists() else {}
    archs = config.get("architectures") or []
    keys: set[str] = set()
    for f in path.glob("*.safetensors"):
        from safetensors import safe_open

        with safe_open(str(f), framework="pt") as st:
            keys.update(st.keys())
    for f in path.glob("pytorch_model*.bin"):
        import torch

        keys.update(torch.load(f, map_location="cpu", weights_only=True).keys())
    has_head = any(k.split(".")[0] in ("classifier", "score") for k in keys)
    if not any(a.endswith("ForSequenceClassification") for a in archs) or not has_head:
        raise MissingHeadError(
            f"{path} is not a trained cross-encoder: no sequence-classification head "
            f"(architectures={archs}, classifier weights {'found' if has_head else 'missing'}). "
            f"Loading it would initialise the head at random. Use a reranker checkpoint such as "
            f"BAAI/bge-reranker-v2-m3, one trained with `rag.train reranker`, or reranker=none."
        )


class _CrossEncoderBase:
    def __init__(self, model: str, top_n: int = 20, batch_size: int = 16, max_length: int = 512,
                 device: str = "cpu", retrieval_weight: float = 0.0) -> None:
        if not 0.0 <= retrieval_weight < 1.0:
            raise ConfigError(f"reranker.retrieval_weight (the first stage's share of the rerank "
                             f"score) must be in [0, 1), got {retrieval_weight}; use "
                             f"reranker=none for the first stage's order alone")
        self.retrieval_weight = retrieval_weight
        self.model = model
        self.top_n = top_n
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._model = None

    def warm_up(self) -> None:
        self._load()  # each subclass's own loader

    def _path(self) -> Path:
        path = resolve_model(self.model)
        check_classifier_head(path)
        return path

    def scores(self, query: str, texts: list[str]) -> list[float]:
        raise NotImplementedError

    def rerank(self, query: str, hits: list[Hit], top_k: int) -> list[Hit]:
        candidates = hits[: self.top_n]
        if not candidates:
            return []
        scores = self.scores(query, [h.payload.get("text", "") for h in candidates])
        rescored = [
            replace(h, score=float(s), payload={**h.payload, "retrieval_score": h.score})
            for h, s in zip(candidates, scores, strict=True)
        ]
        w = self.retrieval_weight
        head = (fuse_relative([rescored, candidates], [1.0 - w, w], len(rescored)) if w
                else sort_hits(rescored, len(rescored)))
        # A reranker reorders the head of the list; it must not cut recall deeper down. The
        # tail keeps its first-stage order, its scores shifted below the head's (they are on
        # another scale) so that every consumer may keep trusting "sorted by score".
        tail = hits[self.top_n : top_k]
        shift = (head[-1].score - tail[0].score - 1.0
                 if tail and tail[0].score >= head[-1].score else 0.0)
        tail = [replace(h, score=h.score + shift, payload={**h.payload, "retrieval_score": h.score})
                for h in tail]
        return (head + tail)[:top_k]


class BgeReranker(_CrossEncoderBase):
    """FlagEmbedding's FlagReranker (bge-reranker-v2-m3, -base, -large, or a local checkpoint).
    On a CPU sentence-transformers' CrossEncoder scores the same checkpoint faster
    (docs/benchmarks.md), so the bge presets use that; this is ``reranker=bge_flag``."""

    def _load(self):
        if self._model is None:
            from FlagEmbedding import FlagReranker
            from FlagEmbedding.inference.reranker.encoder_only import base

            _silence_bars(base)

            # fp16 on a CPU is slower and less accurate: never use it there.
            self._model = FlagReranker(str(self._path()), use_fp16=self.device != "cpu",
                                       devices=self.device, batch_size=self.batch_size,
                                       max_length=self.max_length)
        return self._model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        out = self._load().compute_score([(query, t) for t in texts])
        return [float(out)] if isinstance(out, float) else [float(s) for s in out]


class CrossEncoderReranker(_CrossEncoderBase):
    """A cross-encoder checkpoint (bge-reranker, ms-marco MiniLM, one from ``rag.train``):
    ``backend=torch`` through sentence-transformers' CrossEncoder, ``backend=onnx`` through
    onnxruntime (``quantize=int8`` for int8 weights; rag/onnx_model.py)."""

    def __init__(self, model: str, top_n: int = 20, batch_size: int = 16, max_length: int = 512,
                 device: str = "cpu", backend: str = "torch", quantize: str | None = None,
                 threads: int | None = None, onnx_dir: str | None = None,
                 retrieval_weight: float = 0.0) -> None:
        super().__init__(model, top_n, batch_size, max_length, device, retrieval_weight)
        check_runtime("reranker", backend, quantize)
        self.backend, self.quantize, self.threads, self.onnx_dir = (
            backend, quantize, threads, onnx_dir)

    def _load(self):
        if self._model is None and self.backend == "onnx":
            from rag.onnx_model import OnnxEncoder, exported

            path = self._path()
            self._model = OnnxEncoder(exported(path, self.onnx_dir, "logits", self.quantize),
                                      path, self.max_length, self.batch_size, self.threads,
                                      quantized=self.quantize is not None)
        if self._model is None:
            import torch
            from sentence_transformers import CrossEncoder

            # Raw logits, as FlagReranker returns them: the two rerankers stay comparable.
            self._model = CrossEncoder(str(self._path()), device=self.device,
                                       max_length=self.max_length,
                                       activation_fn=torch.nn.Identity())
        return self._model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        pairs = [(query, t) for t in texts]
        model = self._load()
        if self.backend == "onnx":
            out = np.empty(len(pairs), dtype=np.float32)
            for rows, logits, _ in model.run(pairs):
                out[rows] = logits[:, 0]
        else:
            out = model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return [float(s) for s in out]


class ColbertReranker(_CrossEncoderBase):
    """bge-m3's multi-vector (ColBERT) output as a rerank stage: the question and each
    candidate become one vector per token, and a candidate scores the mean over question
    tokens of its best-matching token (MaxSim). Cheaper than a cross-encoder for long
    candidates, and the same checkpoint serves embedder=bge_m3 and sparse=bge_m3."""

    def _path(self) -> Path:
        path = resolve_model(self.model)
        if not (path / "colbert_linear.pt").exists():
            raise MissingHeadError(
                f"{path} has no colbert_linear.pt, so its multi-vector output would be random: "
                f"use a full BAAI/bge-m3 checkpoint, or another reranker"
            )
        return path

    def _load(self):
        if self._model is None:
            from FlagEmbedding import BGEM3FlagModel

            self._model = BGEM3FlagModel(str(self._path()), use_fp16=self.device != "cpu",
                                         devices=self.device, batch_size=self.batch_size,
                                         passage_max_length=self.max_length,
                                         query_max_length=self.max_length)
        return self._model

    def vectors(self, texts: list[str]) -> list[np.ndarray]:
        out = self._load().encode(texts, batch_size=self.batch_size, max_length=self.max_length,
                                  return_dense=False, return_sparse=False,
                                  return_colbert_vecs=True)
        return [np.asarray(v, dtype=np.float32) for v in out["colbert_vecs"]]

    def scores(self, query: str, texts: list[str]) -> list[float]:
        q, *passages = self.vectors([query, *texts])
        return [maxsim(q, p) for p in passages]


def _silence_bars(module) -> None:
    """FlagReranker draws a tqdm bar per query once the pairs outnumber a batch, and takes no
    option to stop it: its module's tqdm becomes one that is always disabled."""
    from tqdm import tqdm, trange

    module.tqdm = lambda *args, **kwargs: tqdm(*args, **{**kwargs, "disable": True})
    module.trange = lambda *args, **kwargs: trange(*args, **{**kwargs, "disable": True})


def maxsim(query: np.ndarray, passage: np.ndarray) -> float:
    """ColBERT late interaction: for each query token its best passage token, averaged."""
    if not len(query) or not len(passage):
        return 0.0
    return float((query @ passage.T).max(axis=1).mean())
