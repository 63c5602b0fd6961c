"""Answer stage: numbered passages in, an answer that cites them as [n] out.

Choices (conf/answerer): extractive (no LLM: the best sentences, cited), or an LLM through
llama-index: any OpenAI-compatible endpoint (llm.py) or the packaged local SmolLM2 (local.py).
An answerer streams text; ``Pipeline.ask`` collects it and resolves the citations
(citations.py) to passages. prompt.py builds what an LLM reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.documents import detect_language
from rag.store import Hit

DECLINE = {"en": "The documents do not answer this question.",
           "zh": "文档中没有这个问题的答案。"}
# How answerers (ours, and LLMs asked by our prompt) say the passages do not answer.
_DECLINED = re.compile(
    r"(do(es)? not (answer|contain|mention|say)|don't (answer|contain|know)|no information|"
    r"not (mentioned|stated|provided)|cannot (be )?answer|"
    r"没有(这个问题的)?答案|无法回答|没有提到|未提及)",
    re.IGNORECASE)


def decline_for(question: str) -> str:
    """The decline, in the question's language."""
    return DECLINE[detect_language(question)]


def is_decline(text: str) -> bool:
    """An answer that says the documents do not answer (and so should cite nothing)."""
    return bool(_DECLINED.search(text)) and len(text) < 400


@dataclass
class Answer:
    text: str
    passages: list[Hit]  # numbered from 1 in the prompt
    citations: list[int] = field(default_factory=list)  # cited passage numbers, in order
    # True when the model cited nothing and the citation was attributed by term overlap
    attributed: bool = False
    declined: bool = False  # the answer says the documents do not answer
    fallback: str = ""  # why the LLM's own answer was replaced (rag/answerer/llm.py), or ""

    def cited(self) -> list[tuple[int, Hit]]:
        return [(n, self.passages[n - 1]) for n in self.citations]

    def sources(self) -> list[str]:
        """"[n] file, page p" for each cited passage, as every front-end lists them."""
        return [f"[{n}] {passage_label(h)}" for n, h in self.cited()]


def passage_label(hit: Hit) -> str:
    """"file, page p" — or the anchor a slide or a sheet's rows carry ("slide 3")."""
    p = hit.payload
    if p.get("anchor"):
        return f"{p.get('source', '?')}, {p['anchor']}"
    return p.get("source", "?") + (f", page {p['page']}" if p.get("page") else "")
