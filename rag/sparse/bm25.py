"""BM25 as Qdrant sparse vectors: documents carry the saturated, length-normalised term
frequency, queries carry 1 per term, and Qdrant's IDF modifier supplies the IDF factor.
The dot product is then exactly Okapi BM25."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from rag.sparse import SparseVec
from rag.sparse.tokenizers import MixedTokenizer, describe


def term_id(term: str) -> int:
    """Stable u32 id of a term (a hash: no vocabulary to store or keep in sync)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")


class BM25Encoder:
    idf = True

    def __init__(self, tokenizer=None, k1: float = 1.2, b: float = 0.75,
                 avg_len: float = 120.0) -> None:
        self.tokenizer = tokenizer or MixedTokenizer()
        self.k1 = k1
        self.b = b
        # Fixed, not fitted: document vectors then never depend on what else is indexed.
        self.avg_len = avg_len

    @property
    def fingerprint(self) -> str:
        tok = getattr(self.tokenizer, "fingerprint", None) or describe(self.tokenizer)
        desc = json.dumps({"tok": tok, "k1": self.k1, "b": self.b, "avg_len": self.avg_len},
                          sort_keys=True)
        return f"bm25-{hashlib.sha256(desc.encode()).hexdigest()[:12]}"

    def warm_up(self) -> None:
        """Load the tokenizers' dictionaries now rather than on the first query."""
        self.terms("warm up 预热")

    def terms(self, text: str) -> list[str]:
        return self.tokenizer(text)

    def encode_documents(self, texts: list[str]) -> list[SparseVec]:
        out = []
        for text in texts:
            tf = Counter(term_id(t) for t in self.terms(text))
            norm = self.k1 * (1 - self.b + self.b * sum(tf.values()) / self.avg_len)
            ids = sorted(tf)
            out.append((ids, [tf[i] * (self.k1 + 1) / (tf[i] + norm) for i in ids]))
        return out

    def encode_queries(self, texts: list[str]) -> list[SparseVec]:
        out = []
        for text in texts:
            ids = sorted({term_id(t) for t in self.terms(text)})
            out.append((ids, [1.0] * len(ids)))
        return out
