"""Does an LLM's answer stand on its passages? The quote-then-answer check.

The prompt (prompt.py) asks for ``Quote [n]: <words copied from passage n>`` lines, then
``Answer: ... [n]``. An answer is supported when it quotes at least once, every quote is
found in the passage it names (case and spacing aside: a quote is copied, not paraphrased),
and the answer cites only passages it quoted. A small model that paraphrases, quotes the wrong
passage or cites one it did not read fails the check, and the answerer falls back to the
extractive answer, which quotes by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answerer.citations import parse_citations
from rag.store import Hit
from rag.text import CJK_IDEOGRAPH

# "Quote [2]: ..." (also 引用 [2]：...), the quote optionally in quotation marks
_QUOTE = re.compile(r"^\s*(?:quote|引用|引文)\s*\[(\d+)\]\s*[:：]\s*(.+?)\s*$",
                    re.IGNORECASE | re.MULTILINE)
_ANSWER = re.compile(r"^\s*(?:answer|回答|答案)\s*[:：]", re.IGNORECASE | re.MULTILINE)
_QUOTE_MARKS = "\"'“”‘’「」『』«»"
MIN_QUOTE_CHARS = 8  # shorter "quotes" ("yes", a number) prove nothing


@dataclass
class Check:
    supported: bool
    reason: str  # why not, for the log and the eval's answers.json


def answer_started(text: str) -> bool:
    """Whether the model has moved from quoting to answering (the quotes can be checked)."""
    return bool(_ANSWER.search(text))


def _norm(text: str) -> str:
    text = text.lower()
    # spacing aside; between Chinese characters no space at all (a PDF's line breaks)
    text = " ".join(text.split())
    return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])", "",
                  text)


def quotes(text: str) -> list[tuple[int, str]]:
    """(passage number, quoted words) for each Quote line."""
    found = []
    for n, quoted in _QUOTE.findall(text):
        quoted = quoted.strip().strip(_QUOTE_MARKS).strip()
        quoted = re.sub(r"(\s*\[\d+\])+$", "", quoted).strip().strip(_QUOTE_MARKS).strip()
        quoted = quoted.rstrip("…").removesuffix("...").strip()
        found.append((int(n), quoted))
    return found


def check(text: str, passages: list[Hit]) -> Check:
    said = quotes(text)
    if not said:
        return Check(False, "no quote")
    quoted = set()
    for n, words in said:
        if not 1 <= n <= len(passages):
            return Check(False, f"quote names passage [{n}], not given")
        short = len(words) < (MIN_QUOTE_CHARS // 2 if CJK_IDEOGRAPH.search(words)
                              else MIN_QUOTE_CHARS)
        if short:
            return Check(False, f"quote [{n}] too short to check")
        if _norm(words) not in _norm(passages[n - 1].payload.get("text", "")):
            return Check(False, f"quote [{n}] is not in passage [{n}]")
        quoted.add(n)
    match = _ANSWER.search(text)
    cited = set(parse_citations(text[match.end():], len(passages))) if match else set()
    if cited - quoted:
        return Check(False, f"answer cites {sorted(cited - quoted)} without quoting them")
    return Check(True, "")
