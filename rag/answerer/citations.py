"""Citations: the passage numbers an answer cites, checked against the passages it was given."""

from __future__ import annotations

import re

from rag.answerer import is_decline
from rag.store import Hit
from rag.text import terms

_CITATION = re.compile(r"\[(\d+(?:\s*[,，;]\s*\d+)*)\]")


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


def renumber_citations(text: str, renumber: dict[int, int]) -> str:
    """The text with each [n] (and [n, m]) replaced by [renumber[n]] where given."""
    if not renumber:
        return text
    return _CITATION.sub(lambda m: "".join(f"[{renumber.get(int(n), int(n))}]"
                                           for n in re.findall(r"\d+", m.group())), text)


def strip_citations(text: str) -> str:
    """The answer's words without its [n] markers (what answer metrics compare)."""
    return " ".join(_CITATION.sub(" ", text).split())


def attribute_citation(text: str, passages: list[Hit], min_shared: int = 2) -> list[int]:
    """The passage sharing most terms with an uncited answer, if it shares at least
    ``min_shared``: what a reader needs to check the answer, labelled as attributed."""
    said = terms(text)
    shared = [len(said & terms(p.payload.get("text", ""))) for p in passages]
    if not shared or max(shared) < min_shared:
        return []
    return [shared.index(max(shared)) + 1]


def cite(text: str, passages: list[Hit], attribute: bool = True) -> tuple[list[int], bool]:
    """The passages an answer cites, and whether they were attributed rather than cited.

    If the answer cites no passage (small local models often do not) and ``attribute`` is
    set, the best-overlapping passage is attributed, and the caller says so.
    """
    citations = parse_citations(text, len(passages))
    if citations or not attribute or not text.strip() or is_decline(text):
        return citations, False
    attributed = attribute_citation(text, passages)
    return attributed, bool(attributed)
