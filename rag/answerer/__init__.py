"""Answer stage: numbered passages in, an answer that cites them as [n] out.

Choices (conf/answerer): extractive (no LLM: the best sentences, cited), or an LLM through
llama-index: any OpenAI-compatible endpoint (llm.py) or the packaged local SmolLM2 (local.py).
An answerer streams text; ``Pipeline.ask`` collects it and resolves the citations
(citations.py) to passages. prompt.py builds what an LLM reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.store import Hit


@dataclass
class Answer:
    text: str
    passages: list[Hit]  # numbered from 1 in the prompt
    citations: list[int] = field(default_factory=list)  # cited passage numbers, in order
    # True when the model cited nothing and the citation was attributed by term overlap
    attributed: bool = False

    def cited(self) -> list[tuple[int, Hit]]:
        return [(n, self.passages[n - 1]) for n in self.citations]


def passage_label(hit: Hit) -> str:
    p = hit.payload
    return p.get("source", "?") + (f", page {p['page']}" if p.get("page") else "")
