"""sentence-transformers models: MiniLM, e5, gte, nomic, Qwen3-Embedding."""

from __future__ import annotations

import numpy as np

from rag.embedder import declared_dim, fingerprint, normalize, quiet_loading
from rag.models import resolve_model


class SentenceTransformerEmbedder:
    """Prompts: when ``query_prompt``/``document_prompt`` are unset, the model's own configured
    prompts are used (``encode_query``/``encode_document``), as Qwen3-Embedding expects.
    """

    def __init__(
        self,
        model: str,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        device: str = "cpu",
        trust_remote_code: bool = False,
        append_eos: bool = False,
        dim: int | None = None,
    ) -> None:
        self.model = model
        self.append_eos = append_eos  # NV-Embed-v2 pools over an explicit end-of-sequence token
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.trust_remote_code = trust_remote_code
        self._dim = dim
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer

        quiet_loading()
        self._model = SentenceTransformer(
            str(resolve_model(self.model)), device=self.device,
            trust_remote_code=self.trust_remote_code,
        )
        if self.max_length:
            self._model.max_seq_length = self.max_length
        loaded = int(self._model.get_embedding_dimension())
        if self._dim is not None and self._dim != loaded:
            raise ValueError(f"embedder.dim={self._dim} but {self.model} gives {loaded}-d "
                             f"vectors: remove embedder.dim or correct it")
        self._dim = loaded

    @property
    def dim(self) -> int:
        self._dim = declared_dim(self.model, self._dim)
        return self._dim

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            "st", self.model,
            {"query_prompt": self.query_prompt, "document_prompt": self.document_prompt,
             "max_length": self.max_length, **({"append_eos": True} if self.append_eos else {})},
        )

    def _encode(self, texts: list[str], prompt: str | None, role: str) -> np.ndarray:
        self.warm_up()
        model = self._model
        if self.append_eos:
            eos = model.tokenizer.eos_token
            if not eos:
                raise ValueError(f"embedder.append_eos: {self.model} has no eos_token")
            texts = [t + eos for t in texts]
        kwargs = dict(batch_size=self.batch_size, normalize_embeddings=True,
                      convert_to_numpy=True, show_progress_bar=False)
        if prompt is not None:
            return normalize(model.encode(texts, prompt=prompt, **kwargs))
        encode = model.encode_query if role == "query" else model.encode_document
        return normalize(encode(texts, **kwargs))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.document_prompt, "document")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, "query")
