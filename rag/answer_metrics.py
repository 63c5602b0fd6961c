"""Answer quality against gold short answers, as the field scores it.

English: SQuAD v1.1's normalisation (lower case, punctuation and articles a/an/the removed,
whitespace collapsed), exact match and token-bag F1. Chinese: the CMRC 2018 evaluation's
(each CJK character a token, English words and numbers kept whole, punctuation dropped; F1
from the longest common substring). Several gold answers: the best score over them.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from rag.answerer.citations import strip_citations
from rag.text import CJK_IDEOGRAPH, terms

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# CMRC 2018's separators (sp_char), and ASCII punctuation that its word tokenizer splits off;
# not "." inside a word: 3.11 stays one token
_SEPARATORS = set("-:_*^/\\~`+=，。：？！“”；’《》…·、「」（）－～『』‘【】〈〉—,!?;\"'()[]{}")


def normalize_en(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def tokens_zh(text: str) -> list[str]:
    """CMRC 2018's mixed segmentation: CJK characters one by one, other runs as words."""
    out, word = [], ""
    for c in text.lower():
        if CJK_IDEOGRAPH.match(c) or c in _SEPARATORS or c.isspace():
            if word.strip("."):
                out.append(word.strip("."))
            word = ""
            if CJK_IDEOGRAPH.match(c):
                out.append(c)
        else:
            word += c
    if word.strip("."):
        out.append(word.strip("."))
    return out


def _is_zh(text: str) -> bool:
    return bool(CJK_IDEOGRAPH.search(text))


def _longest_common_substring(a: list[str], b: list[str]) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                row[j] = prev[j - 1] + 1
                best = max(best, row[j])
        prev = row
    return best


def _f1(pred: str, gold: str) -> float:
    if _is_zh(gold):
        p, g = tokens_zh(pred), tokens_zh(gold)
        common = _longest_common_substring(p, g)
    else:
        p, g = normalize_en(pred).split(), normalize_en(gold).split()
        common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or not common:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _normal(text: str) -> str:
    return "".join(tokens_zh(text)) if _is_zh(text) else normalize_en(text)


def exact_match(pred: str, golds: list[str]) -> float:
    return float(any(_normal(pred) == _normal(g) for g in golds))


def f1(pred: str, golds: list[str]) -> float:
    return max((_f1(pred, g) for g in golds), default=0.0)


def contains(pred: str, golds: list[str]) -> float:
    """1 when a normalised gold answer occurs in the normalised prediction (FlashRAG's
    "acc"): fair to long extractive answers that EM and F1 penalise for their length."""
    return float(any(_normal(g) and _normal(g) in _normal(pred) for g in golds))


def support(text: str, cited_texts: list[str]) -> float:
    """Share of the answer's content terms that occur in the passages it cites: 1 for a
    quote, low for an answer the passages do not back. Nothing cited supports nothing."""
    said = terms(strip_citations(text))
    if not said:
        return 0.0
    found = set().union(*(terms(t) for t in cited_texts)) if cited_texts else set()
    return len(said & found) / len(said)


def score_answer(answer, golds: list[str], relevant: set[str],
                 unanswerable: bool = False) -> dict[str, float | None]:
    """One answer (rag.answerer.Answer) scored; None where a measure does not apply.

    Citations count only when the answer itself made them: a citation attributed by term
    overlap (an LLM that cited nothing) is ours, not the model's, and scores as no citation.
    """
    own = [] if answer.attributed else answer.cited()
    cited_docs = [hit.payload.get("doc_id") for _, hit in own]
    given_relevant = any(h.payload.get("doc_id") in relevant for h in answer.passages)
    answered = not answer.declined
    pred = strip_citations(answer.text) if answered else ""
    out: dict[str, float | None] = {
        "declined": float(answer.declined),
        "abstained": float(answer.declined) if unanswerable else None,
        "wrongly_declined": float(answer.declined) if not unanswerable else None,
        "em": exact_match(pred, golds) if golds else None,
        "f1": f1(pred, golds) if golds else None,
        "contains": contains(pred, golds) if golds else None,
        "cites": float(bool(own)) if answered else None,
        "citation_precision": (sum(d in relevant for d in cited_docs) / len(cited_docs)
                               if answered and cited_docs and not unanswerable else None),
        "citation_recall": (float(any(d in relevant for d in cited_docs))
                            if given_relevant and not unanswerable else None),
        "support": support(answer.text, [h.payload.get("text", "") for _, h in own])
        if answered else None,
    }
    # what a user experiences: a gold answer given, or a decline when there is none
    out["correct"] = out["abstained"] if unanswerable else (out["contains"] if golds else None)
    return out


def summarize(per_question: dict[str, dict[str, float | None]]) -> dict[str, float | None]:
    """Mean of each measure over the questions it applies to, with how many those were."""
    names = {k for scores in per_question.values() for k in scores}
    out: dict[str, float | None] = {}
    for name in sorted(names):
        values = [s[name] for s in per_question.values() if s.get(name) is not None]
        out[name] = sum(values) / len(values) if values else None
        out[f"n_{name}"] = len(values)
    return out
