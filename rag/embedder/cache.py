"""On-disk embedding cache keyed by model fingerprint and text hash.

A sweep over chunking-independent settings (retrieval plans, MRL dims, fusion) then embeds
each text once per model. SQLite: one file per model, safe for concurrent readers, no server.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from rag.documents import text_hash


class EmbeddingCache:
    def __init__(self, directory: str | Path, model_fingerprint: str) -> None:
        self.path = Path(directory) / f"{model_fingerprint}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (hash TEXT PRIMARY KEY, vec BLOB)")

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors by text hash, for the texts that have one."""
        hashes = list({text_hash(t) for t in texts})
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            batch = hashes[start : start + 500]
            rows = self._db.execute(
                f"SELECT hash, vec FROM emb WHERE hash IN ({','.join('?' * len(batch))})", batch
            )
            for h, blob in rows:
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        rows = [
            (text_hash(t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", rows)

    def close(self) -> None:
        self._db.close()


class CachedQueries:
    """An embedder whose query vectors come from the cache (file ``<fingerprint>-queries``),
    for search over settings: a hundred trials on the same questions encode them once. Query
    latency measured through it is a cache read, not the model: rag.eval says so."""

    def __init__(self, embedder, directory: str | Path) -> None:
        self.inner = embedder
        self._cache = EmbeddingCache(directory, f"{embedder.fingerprint}-queries")

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        found = self._cache.get(texts)
        missing = [t for t in dict.fromkeys(texts) if text_hash(t) not in found]
        if missing:
            vectors = self.inner.encode_queries(missing)
            self._cache.put(missing, vectors)
            found.update(zip(map(text_hash, missing), vectors, strict=True))
        return np.stack([found[text_hash(t)] for t in texts])

    def close(self) -> None:
        self._cache.close()
        if hasattr(self.inner, "close"):
            self.inner.close()
