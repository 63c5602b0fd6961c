"""Rerank stage: a cross-encoder rescores the top fused candidates.

The reranker's score replaces the hit's score; the retrieval score is kept beside it in the
payload (``retrieval_score``) so both can be shown and evaluated.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from rag.models import resolve_model
from rag.store import Hit, sort_hits


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
                 device: str = "cpu") -> None:
        self.model = model
        self.top_n = top_n
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._model = None

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
        return sort_hits(rescored, top_k)


class BgeReranker(_CrossEncoderBase):
    """FlagEmbedding's FlagReranker (bge-reranker-v2-m3, -base, -large, or a local checkpoint)."""

    def _load(self):
        if self._model is None:
            from FlagEmbedding import FlagReranker

            # fp16 on a CPU is slower and less accurate: never use it there.
            self._model = FlagReranker(str(self._path()), use_fp16=self.device != "cpu",
                                       devices=self.device, batch_size=self.batch_size,
                                       max_length=self.max_length)
        return self._model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        out = self._load().compute_score([(query, t) for t in texts])
        return [float(out)] if isinstance(out, float) else [float(s) for s in out]


class CrossEncoderReranker(_CrossEncoderBase):
    """sentence-transformers CrossEncoder, for checkpoints FlagEmbedding does not know."""

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import CrossEncoder

            # Raw logits, as FlagReranker returns them: the two rerankers stay comparable.
            self._model = CrossEncoder(str(self._path()), device=self.device,
                                       max_length=self.max_length,
                                       activation_fn=torch.nn.Identity())
        return self._model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        out = self._load().predict([(query, t) for t in texts], batch_size=self.batch_size,
                                   show_progress_bar=False)
        return [float(s) for s in out]
