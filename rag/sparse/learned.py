"""Learned sparse encoders: SPLADE (sentence-transformers SparseEncoder) and bge-m3's
lexical weights. Their values already carry term importance, so no IDF modifier."""

from __future__ import annotations

import hashlib

from rag.errors import InputNotFoundError
from rag.models import resolve_model, weights_signature
from rag.sparse import SparseVec


class _LearnedSparse:
    idf = False
    kind = ""

    def __init__(self, model: str, batch_size: int = 32, max_length: int = 256,
                 device: str = "cpu") -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._model = None

    def warm_up(self) -> None:
        self._load()  # each subclass's own loader

    @property
    def fingerprint(self) -> str:
        desc = f"{self.model}|{weights_signature(resolve_model(self.model))}|{self.max_length}"
        return f"{self.kind}-{hashlib.sha256(desc.encode()).hexdigest()[:12]}"


class SpladeEncoder(_LearnedSparse):
    kind = "splade"

    def _load(self):
        if self._model is None:
            from sentence_transformers import SparseEncoder

            self._model = SparseEncoder(str(resolve_model(self.model)), device=self.device)
            self._model.max_seq_length = self.max_length
        return self._model

    def _to_vecs(self, emb) -> list[SparseVec]:
        emb = emb.coalesce().cpu() if emb.is_sparse else emb.to_sparse().coalesce().cpu()
        rows, cols = emb.indices().numpy()
        vals = emb.values().numpy()
        out: list[SparseVec] = [([], []) for _ in range(emb.shape[0])]
        for r, c, v in zip(rows, cols, vals, strict=True):
            out[r][0].append(int(c))
            out[r][1].append(float(v))
        return out

    def encode_documents(self, texts: list[str]) -> list[SparseVec]:
        return self._to_vecs(self._load().encode_document(
            texts, batch_size=self.batch_size, convert_to_sparse_tensor=True))

    def encode_queries(self, texts: list[str]) -> list[SparseVec]:
        return self._to_vecs(self._load().encode_query(
            texts, batch_size=self.batch_size, convert_to_sparse_tensor=True))


class BgeM3LexicalEncoder(_LearnedSparse):
    """bge-m3's lexical weights. Refuses a checkpoint without ``sparse_linear.pt``:
    FlagEmbedding would otherwise initialise that head at random and return noise."""

    kind = "bgem3-lexical"

    def __init__(self, model: str = "BAAI/bge-m3", batch_size: int = 16,
                 max_length: int = 512, device: str = "cpu") -> None:
        super().__init__(model, batch_size, max_length, device)

    def _load(self):
        if self._model is None:
            path = resolve_model(self.model)
            if not (path / "sparse_linear.pt").exists():
                raise InputNotFoundError(
                    f"{path} has no sparse_linear.pt, so bge-m3 lexical weights would be random: "
                    f"use a full BAAI/bge-m3 checkpoint or sparse=bm25"
                )
            from FlagEmbedding import BGEM3FlagModel

            self._model = BGEM3FlagModel(str(path), use_fp16=self.device != "cpu",
                                         devices=self.device)
        return self._model

    def _encode(self, texts: list[str]) -> list[SparseVec]:
        out = self._load().encode(texts, batch_size=self.batch_size, max_length=self.max_length,
                                  return_dense=False, return_sparse=True)
        vecs = []
        for weights in out["lexical_weights"]:
            by_id = {int(k): float(v) for k, v in weights.items()}
            ids = sorted(by_id)
            vecs.append((ids, [by_id[i] for i in ids]))
        return vecs

    def encode_documents(self, texts: list[str]) -> list[SparseVec]:
        return self._encode(texts)

    def encode_queries(self, texts: list[str]) -> list[SparseVec]:
        return self._encode(texts)
