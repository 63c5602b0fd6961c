"""The first extractive answerer, kept as the baseline that
docs/results/answers.md measures the current one against: from each of the top passages, the
sentences sharing most question terms (no weighting), each passage cited."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.store import Hit
from rag.text import CJK_IDEOGRAPH, terms

_SENTENCE_END = re.compile(r"(?<=[.!?。！？；])\s*")
_HEADING = re.compile(r"(?m)^#{1,6}\s.*$")


class OverlapAnswerer:
    def __init__(self, max_passages: int = 2, max_chars: int = 240) -> None:
        self.max_passages = max_passages
        self.max_chars = max_chars

    def use(self, embedder=None, reranker=None) -> None:
        """Uses no model."""

    def warm_up(self) -> None:
        """Nothing to load."""

    def select(self, question: str, hits: list[Hit]) -> list[Hit]:
        return hits[: self.max_passages]

    def _excerpt(self, text: str, question: str) -> str:
        """The passage's sentences that share most terms with the question, in passage
        order, up to max_chars (at least one sentence, cut if it alone is longer)."""
        text = _HEADING.sub("", text)  # Markdown headings are labels, not answer sentences
        sentences = [x for x in _SENTENCE_END.split(" ".join(text.split())) if x]
        asked = terms(question)
        ranked = sorted(range(len(sentences)),
                        key=lambda i: (-len(asked & terms(sentences[i])), i))
        keep: list[int] = []
        for i in ranked:
            if keep and sum(len(sentences[j]) + 1 for j in keep) + len(sentences[i]) > \
                    self.max_chars:
                break
            keep.append(i)
        out = ""
        for i in sorted(keep):
            out += ("" if not out or CJK_IDEOGRAPH.match(sentences[i]) else " ") + sentences[i]
        return out[: self.max_chars]

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        for i, hit in enumerate(passages, 1):
            excerpt = self._excerpt(hit.payload.get("text", ""), question)
            yield ("\n\n" if i > 1 else "") + f"{excerpt} [{i}]"

    def complete(self, question: str, passages: list[Hit]) -> str:
        return "".join(self.stream(question, passages))
