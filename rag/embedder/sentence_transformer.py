"""sentence-transformers models: MiniLM, e5, gte, nomic, Qwen3-Embedding.

``backend=torch`` runs them with sentence-transformers; ``backend=onnx`` exports the encoder
once and runs it with onnxruntime (``quantize=int8`` for int8 weights), pooling in numpy: no
torch or transformers is imported to encode (rag/onnx_model.py). The ONNX backend takes the
common shape (encoder, mean or CLS pooling, normalisation); a model with more modules is
refused with the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rag.embedder import declared_dim, fingerprint, normalize, quiet_loading
from rag.errors import ConfigError
from rag.models import resolve_model
from rag.onnx_model import check_runtime


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
        backend: str = "torch",
        quantize: str | None = None,
        threads: int | None = None,
        onnx_dir: str | None = None,
    ) -> None:
        check_runtime("embedder", backend, quantize)
        self.backend, self.quantize, self.threads, self.onnx_dir = (
            backend, quantize, threads, onnx_dir)
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
        if self.backend == "onnx":
            self._model = _OnnxSentenceModel(self)
            self._dim = self.dim
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
            raise ConfigError(f"embedder.dim={self._dim} but {self.model} gives {loaded}-d "
                             f"vectors: remove embedder.dim or correct it")
        self._dim = loaded

    @property
    def dim(self) -> int:
        self._dim = declared_dim(self.model, self._dim)
        return self._dim

    @property
    def fingerprint(self) -> str:
        # The ONNX vectors equal torch's to float tolerance, not bit for bit: their own
        # cache and index. Torch's settings hash as before, so existing indexes stay valid.
        runtime = {"backend": self.backend, "quantize": self.quantize} if (
            self.backend != "torch") else {}
        if self.quantize:  # one text per pass: vectors no longer depend on the batch
            runtime["per_text"] = True
        return fingerprint(
            "st", self.model,
            {"query_prompt": self.query_prompt, "document_prompt": self.document_prompt,
             "max_length": self.max_length, **({"append_eos": True} if self.append_eos else {}),
             **runtime},
        )

    def _encode(self, texts: list[str], prompt: str | None, role: str) -> np.ndarray:
        self.warm_up()
        model = self._model
        if isinstance(model, _OnnxSentenceModel):
            return model.encode(texts, prompt, role)
        if self.append_eos:
            eos = model.tokenizer.eos_token
            if not eos:
                raise ConfigError(f"embedder.append_eos: {self.model} has no eos_token")
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


class _OnnxSentenceModel:
    """A sentence-transformers directory run by onnxruntime: encoder, pooling, normalising."""

    def __init__(self, embedder: SentenceTransformerEmbedder) -> None:
        from rag.onnx_model import OnnxEncoder, exported

        path = resolve_model(embedder.model)
        self.pooling = _pooling(path, embedder.model)
        st_config = _read(path / "config_sentence_transformers.json")
        self.prompts = st_config.get("prompts") or {}
        if embedder.append_eos:
            raise ConfigError("embedder.append_eos is not supported by backend=onnx")
        max_length = embedder.max_length or _read(path / "sentence_bert_config.json").get(
            "max_seq_length") or 512
        self.encoder = OnnxEncoder(exported(path, embedder.onnx_dir, "hidden", embedder.quantize),
                                   path, max_length, embedder.batch_size, embedder.threads,
                                   quantized=embedder.quantize is not None)

    def encode(self, texts: list[str], prompt: str | None, role: str) -> np.ndarray:
        if prompt is None:  # the model's own prompt for the role, as encode_query does
            prompt = self.prompts.get(role, "")
        out = None
        for rows, hidden, mask in self.encoder.run([prompt + t for t in texts]):
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                m = mask[:, :, None].astype(np.float32)
                pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            if out is None:
                out = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return normalize(out) if out is not None else np.zeros((0, 0), dtype=np.float32)


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _pooling(path: Path, model: str) -> str:
    """mean or cls, from the model's Pooling module; other module stacks are refused."""
    modules = json.loads((path / "modules.json").read_text()) if (
        path / "modules.json").exists() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    extra = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        raise ConfigError(f"embedder.backend=onnx runs encoder + pooling models; {model} also "
                         f"has {extra}: use embedder.backend=torch")
    pooling = next((m for m in modules if m.get("type", "").endswith("Pooling")), None)
    config = _read(path / pooling["path"] / "config.json") if pooling else {}
    mode = config.get("pooling_mode") or next(
        (k.removeprefix("pooling_mode_").removesuffix("_token").removesuffix("_tokens")
         for k, v in config.items() if k.startswith("pooling_mode_") and v is True), "mean")
    if mode not in ("mean", "cls"):
        raise ConfigError(f"embedder.backend=onnx pools by mean or cls; {model} pools by "
                         f"{mode}: use embedder.backend=torch")
    return mode
