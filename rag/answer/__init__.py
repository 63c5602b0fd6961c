"""Answer stage: numbered passages in, an answer that cites them as [n] out.

An answerer streams text; ``answer()`` collects it and resolves the citations to passages.
Choices: an LLM through llama-index (any OpenAI-compatible endpoint, or the packaged local
SmolLM2), or extractive (no LLM: the best passages, cited).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from rag.store import Hit

_CITATION = re.compile(r"\[(\d+(?:\s*[,，;]\s*\d+)*)\]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages you are given. "
    "After each statement, cite the passages that support it by number in square brackets, "
    "for example [1] or [2][3]. If the passages do not contain the answer, say that the "
    "documents do not answer the question, and do not guess. Answer in the language of the "
    "question.\n\n"
    # A worked example: small local models follow an example far better than a rule.
    "Example:\nPassages:\n[1] (shop.md)\nThe shop opens at 9 am.\n[2] (parking.md)\n"
    "Parking is free on weekends.\nQuestion: When does the shop open?\n"
    "Answer: The shop opens at 9 am [1]."
)


@dataclass
class Answer:
    text: str
    passages: list[Hit]  # numbered from 1 in the prompt
    citations: list[int] = field(default_factory=list)  # cited passage numbers, in order
    # True when the model cited nothing and the citation was attributed by term overlap
    attributed: bool = False

    def cited(self) -> list[tuple[int, Hit]]:
        return [(n, self.passages[n - 1]) for n in self.citations]


class Answerer(Protocol):
    def select(self, question: str, hits: list[Hit]) -> list[Hit]:
        """The passages that fit the context budget, in the order they will be numbered."""
        ...

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]: ...

    def complete(self, question: str, passages: list[Hit]) -> str: ...


def approx_tokens(text: str) -> int:
    """Tokens an LLM will see, without its tokenizer: one per CJK character, one per four
    other characters. Used only to budget the context, so it errs high for English."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def passage_label(hit: Hit) -> str:
    p = hit.payload
    return p.get("source", "?") + (f", page {p['page']}" if p.get("page") else "")


def select_passages(hits: list[Hit], context_tokens: int, max_passages: int) -> list[Hit]:
    """Best-first passages until the token budget is spent (the first always fits: it is
    cut to the budget rather than dropped)."""
    chosen: list[Hit] = []
    used = 0
    for hit in hits[:max_passages]:
        cost = approx_tokens(hit.payload.get("text", "")) + 12  # label and spacing
        if chosen and used + cost > context_tokens:
            break
        chosen.append(hit)
        used += cost
    return chosen


def build_messages(question: str, passages: list[Hit], context_tokens: int) -> list[dict]:
    blocks = []
    budget = context_tokens
    for i, hit in enumerate(passages, 1):
        text = " ".join(hit.payload.get("text", "").split())
        while approx_tokens(text) > budget and len(text) > 1:
            text = text[: int(len(text) * 0.9)]
        budget -= approx_tokens(text)
        blocks.append(f"[{i}] ({passage_label(hit)})\n{text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}\nAnswer:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def parse_citations(text: str, n_passages: int) -> list[int]:
    """Passage numbers cited as [n], [n, m] or [n][m], first appearance first; numbers
    outside 1..n_passages are ignored (a model may invent them)."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for num in re.split(r"\s*[,，;]\s*", group):
            n = int(num)
            if 1 <= n <= n_passages and n not in seen:
                seen.append(n)
    return seen


def terms(text: str) -> set[str]:
    """Lower-cased words and CJK character bigrams: enough to match an answer to a passage."""
    text = text.lower()
    words = set(re.findall(r"[a-z0-9]{3,}", text))
    cjk = "".join(_CJK.findall(text))
    return words | {cjk[i : i + 2] for i in range(len(cjk) - 1)}


def attribute_citation(text: str, passages: list[Hit], min_shared: int = 2) -> list[int]:
    """The passage sharing most terms with an uncited answer, if it shares at least
    ``min_shared``: what a reader needs to check the answer, labelled as attributed."""
    said = terms(text)
    shared = [len(said & terms(p.payload.get("text", ""))) for p in passages]
    if not shared or max(shared) < min_shared:
        return []
    return [shared.index(max(shared)) + 1]


def answer(answerer: Answerer, question: str, hits: list[Hit],
           on_text: Callable[[str], None] | None = None, attribute: bool = True) -> Answer:
    """Run the answerer; stream text to ``on_text`` if given, else make one blocking call.

    If the answer cites no passage (small local models often do not) and ``attribute`` is
    set, the best-overlapping passage is attributed and the answer says so.
    """
    passages = answerer.select(question, hits)
    if on_text is None:
        text = answerer.complete(question, passages)
    else:
        parts = []
        for delta in answerer.stream(question, passages):
            parts.append(delta)
            on_text(delta)
        text = "".join(parts)
    citations = parse_citations(text, len(passages))
    if citations or not attribute or not text.strip():
        return Answer(text.strip(), passages, citations)
    attributed = attribute_citation(text, passages)
    return Answer(text.strip(), passages, attributed, attributed=bool(attributed))
