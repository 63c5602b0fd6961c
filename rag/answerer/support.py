"""Does an LLM's answer stand on its passages? The quote-then-answer check.

The prompt (prompt.py) asks for ``Quote [n]: <words copied from passage n>`` lines, then
``Answer: ... [n]``. An answer is supported when it quotes at least once, every quote is
found in a passage given (case, whitespace, character width and curly quotation marks aside: a
quote is copied, not paraphrased), and the answer cites only passages it quoted. A quote found in
another passage than the one it names is renumbered to the passage that holds it (small
models miscount); an answer with no Quote line that is itself copied from a passage is its own
quote. A model that paraphrases, or cites a passage it did not quote, fails the check and the
answerer falls back to the extractive answer, which quotes by construction. The answerer
checks as soon as "Answer:" starts (rag/answerer/llm.py), so what the answer line goes on to
cite is not seen by that check: only text handed over whole is checked for it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.answerer.citations import parse_citations, strip_citations
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
    renumber: dict[int, int] = field(default_factory=dict)  # named passage -> holding one
    verbatim: int | None = None  # an unlabelled answer copied from this passage


def answer_started(text: str) -> bool:
    """Whether the model has moved from quoting to answering (the quotes can be checked)."""
    return bool(_ANSWER.search(text))


_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _norm(text: str) -> str:
    """What a copy must keep: the characters. Not case, width (NFKC: ，→ ,), curly quotes, or
    whitespace, which PDFs and models place freely (between Chinese characters, around "-")."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TYPOGRAPHY)
    return "".join(text.split())


def quotes(text: str) -> list[tuple[int, str]]:
    """(passage number, quoted words) for each Quote line."""
    found = []
    for n, quoted in _QUOTE.findall(text):
        quoted = quoted.strip().strip(_QUOTE_MARKS).strip()
        quoted = re.sub(r"(\s*\[\d+\])+$", "", quoted).strip().strip(_QUOTE_MARKS).strip()
        quoted = quoted.rstrip("…").removesuffix("...").strip()
        found.append((int(n), quoted))
    return found


def _holder(words: str, texts: list[str], first: int) -> int | None:
    """The passage (1-based) holding the words: ``first`` if it does, else the first that does."""
    for n in [first, *range(1, len(texts) + 1)]:
        if 1 <= n <= len(texts) and words in texts[n - 1]:
            return n
    return None


def _too_short(words: str) -> bool:
    return len(words) < (MIN_QUOTE_CHARS // 2 if CJK_IDEOGRAPH.search(words)
                         else MIN_QUOTE_CHARS)


def check(text: str, passages: list[Hit]) -> Check:
    texts = [_norm(p.payload.get("text", "")) for p in passages]
    said = quotes(text)
    if not said:
        plain = _norm(_ANSWER.sub("", strip_citations(text))).strip(".。")
        held = None if _too_short(plain) else _holder(plain, texts, 1)
        if held is None:
            return Check(False, "no quote")
        return Check(True, "", verbatim=held)
    holders: dict[int, set[int]] = {}
    for n, words in said:
        if _too_short(words):
            return Check(False, f"quote [{n}] too short to check")
        held = _holder(_norm(words), texts, n)
        if held is None:
            return Check(False, f"quote [{n}] is in no passage")
        holders.setdefault(n, set()).add(held)
        if len(holders[n]) > 1:
            return Check(False, f"quotes of [{n}] are in different passages")
    renumber = {n: h for n, (h,) in holders.items() if h != n}
    named = set(holders)
    match = _ANSWER.search(text)
    cited = set(parse_citations(text[match.end():], 99)) if match else set()
    if cited - named:
        return Check(False, f"answer cites {sorted(cited - named)} without quoting them")
    return Check(True, "", renumber)

