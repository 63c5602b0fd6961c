"""FlagEmbedding models: bge-*-v1.5 (query instruction, CLS pooling), bge-m3 (dense)."""

from __future__ import annotations

import numpy as np

from rag.embedder import declared_dim, fingerprint, normalize, quiet_loading
from rag.errors import ConfigError
from rag.models import resolve_model


class FlagEmbedder:
    """``model_class`` is explicit because FlagEmbedding otherwise guesses the class from the
    directory name, which a local path does not carry.
    """

    def __init__(
        self,
        model: str,
        model_class: str = "encoder",  # "encoder" (FlagModel) or "m3" (BGEM3FlagModel)
        query_instruction: str | None = None,
        pooling_method: str = "cls",
        batch_size: int = 32,
        max_length: int = 512,
        device: str = "cpu",
        dim: int | None = None,
    ) -> None:
        if model_class not in ("encoder", "m3"):
            raise ConfigError(f"embedder.model_class must be 'encoder' or 'm3', "
                              f"got {model_class!r}")
        self.model = model
        self.model_class = model_class
        self.query_instruction = query_instruction
        self.pooling_method = pooling_method
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._dim = dim
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        path = str(resolve_model(self.model))
        quiet_loading()
        # fp16 on a CPU is slower and less accurate: never use it there.
        common = dict(use_fp16=self.device != "cpu", devices=self.device,
                      normalize_embeddings=True, batch_size=self.batch_size,
                      query_max_length=self.max_length, passage_max_length=self.max_length)
        if self.model_class == "m3":
            from FlagEmbedding import BGEM3FlagModel

            self._model = BGEM3FlagModel(path, **common)
        else:
            from FlagEmbedding import FlagModel

            self._model = FlagModel(
                path, pooling_method=self.pooling_method,
                query_instruction_for_retrieval=self.query_instruction, **common,
            )

    @property
    def dim(self) -> int:
        # FlagEmbedding pools the encoder's hidden states (CLS or mean): its hidden size.
        self._dim = declared_dim(self.model, self._dim)
        return self._dim

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            "flag", self.model,
            {"class": self.model_class, "query_instruction": self.query_instruction,
             "pooling": self.pooling_method, "max_length": self.max_length},
        )

    def _dense(self, out) -> np.ndarray:
        return normalize(out["dense_vecs"] if isinstance(out, dict) else out)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._dense(self._model.encode_corpus(texts, batch_size=self.batch_size))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._dense(self._model.encode_queries(texts, batch_size=self.batch_size))
