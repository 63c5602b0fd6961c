"""No LLM: the answer is the passages' own sentences that answer the question, each cited.

Every sentence of the passages is scored by how much of the question's weight it covers
(terms weighted by IDF over the passages given, so "the" counts for nothing and "warranty" for
much) and by the loaded embedding model's question-sentence similarity. The answer quotes the
best sentence with the next best of the same passage while they fit (in the passage's order,
so a section's opening statement comes before its details), and cites a second
passage only when its best sentence scores nearly as well. When the best sentence scores
below ``min_score`` the documents do not answer, and the answer says so. The score's scale is
the embedding model's (e5's cosines run higher than MiniLM's), so the threshold is chosen per
embedder on a tune split (docs/results/answers.md). Nor do they when no sentence contains
``min_coverage`` of the question's weight: an embedding model that does not know the
question's language (MiniLM on Chinese) finds every sentence similar, and no shared term is
the sign. Sentences are quoted as the passage wrote
them (runs of whitespace shown as one space), never re-joined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

from rag.answerer import decline_for
from rag.errors import ConfigError
from rag.sparse.tokenizers import EnglishTokenizer, JiebaTokenizer, MixedTokenizer
from rag.store import Hit
from rag.text import CJK_IDEOGRAPH, TABLE_ROW, TABLE_RULE, sentence_spans, terms

# Question and function words carry no content: their IDF would only reward sentences that
# repeat them.
_QUESTION_WORDS = frozenset([
    "how", "what", "when", "where", "which", "who", "whom", "whose", "why", "the", "does",
    "did", "are", "was", "were", "can", "could", "should", "would", "will", "many", "much",
    "get", "got", "for", "and", "with", "from", "this", "that", "have", "has", "you",
    "your", "there", "about", "any", "some", "into", "per", "its", "long", "is", "on", "in",
    "of", "to", "do", "it", "be", "at", "by", "or", "an", "if", "as", "we", "my", "our",
    "me", "their", "they", "he", "she", "his", "her",
])


@dataclass
class Scored:
    """A candidate sentence (or table row) of a passage, scored for the question."""

    passage: int  # 0-based index into the passages given
    start: int  # position in the passage text: sentences of one passage keep their order
    text: str
    coverage: float  # share of the question's IDF weight the sentence contains
    score: float
    lead: bool = False  # the first sentence under a heading: where a section states its point
    key: str | None = None  # its most informative question term
    header: str | None = None  # a table row's header row: scored with it, quoted before it

    @property
    def quote(self) -> str:
        """What the answer shows: the sentence, or a row after its header ("…": the rows
        between are left out, each part exactly as the passage has it)."""
        return f"{self.header} … {self.text}" if self.header else self.text


_ZH_QUESTION_WORDS = frozenset([
    "什么", "多少", "多久", "哪些", "哪个", "哪里", "如何", "怎么", "怎样", "是否", "可以", "需要",
    "能否", "为什么", "一次", "我们", "公司",
])
# BM25's own tokenizers: stemmed English words, Chinese words by rjieba's search mode.
_ENGLISH = EnglishTokenizer()
_MIXED = MixedTokenizer(zh=JiebaTokenizer(), en=_ENGLISH)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@cache
def _stop_words() -> frozenset[str]:
    # stemmed as the words they filter are ("many" -> "mani")
    return frozenset(_ENGLISH(" ".join(_QUESTION_WORDS))) | _ZH_QUESTION_WORDS


def question_terms(question: str) -> set[str]:
    """Content words: stemmed English words and Chinese words, without question words."""
    return {t for t in _MIXED(question) if len(t) >= 2 and t not in _stop_words()}


def contained(asked: set[str], text: str) -> set[str]:
    """The question's terms that a text contains (Chinese words as substrings)."""
    words = set(_ENGLISH(text))
    return {t for t in asked if (t in text if CJK_IDEOGRAPH.match(t) else t in words)}


def idf_weights(question: set[str], passages: list[str]) -> dict[str, float]:
    """IDF of each question term over the passages given: a term in every passage weighs
    little, one in none weighs most (it is what the passages would need to answer)."""
    bags = [contained(question, p) for p in passages]
    n = len(bags)
    return {t: math.log((n + 1) / (sum(t in b for b in bags) + 0.5)) for t in question}


class ExtractiveAnswerer:
    def __init__(self, max_passages: int = 3, max_chars: int = 320,
                 semantic_weight: float = 0.7, min_score: float = 0.35,
                 min_coverage: float = 0.1,
                 second_passage_ratio: float = 0.9, keep_ratio: float = 0.75,
                 lead_bonus: float = 0.1, max_sentences: int = 24) -> None:
        if not 0 <= semantic_weight <= 1:
            raise ConfigError(f"answerer.semantic_weight must be in [0, 1], got {semantic_weight}")
        self.max_passages = max_passages
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight
        self.min_score = min_score
        self.min_coverage = min_coverage
        self.second_passage_ratio = second_passage_ratio
        self.keep_ratio = keep_ratio
        self.lead_bonus = lead_bonus
        self.max_sentences = max_sentences  # embedded per question: bounds the answer's cost
        self.embedder = None

    def use(self, embedder=None, reranker=None) -> None:
        """The pipeline hands over its loaded embedder: sentences are compared with the
        question by the same model that retrieved them."""
        self.embedder = embedder

    def warm_up(self) -> None:
        """Nothing of its own to load (the embedder is the pipeline's)."""

    def select(self, question: str, hits: list[Hit]) -> list[Hit]:
        return hits[: self.max_passages]

    def score(self, question: str, passages: list[Hit]) -> list[Scored]:
        """Every candidate sentence, best first."""
        texts = [p.payload.get("text", "") for p in passages]
        asked = question_terms(question)
        idf = idf_weights(asked, texts)
        total = sum(idf.values())
        found: list[Scored] = []
        for i, text in enumerate(texts):
            after_heading = False
            headers = table_headers(text)
            for start, end in sentence_spans(text):
                sentence = " ".join(text[start:end].split())
                if sentence.startswith("#"):
                    after_heading = True  # a heading labels an answer, it is not one
                    continue
                header = headers.get(start)
                if start in headers and header is None:
                    continue  # a header row or a rule names the columns; it answers nothing
                if len(terms(sentence)) < 2 and header is None:
                    continue  # fragments ("Expenses.")
                # a row is read with its header: "Hotel per night" is what "Tier 2 | 450"
                # answers
                shared = contained(asked, f"{header} {sentence}" if header else sentence)
                coverage = sum(idf[t] for t in shared) / total if total else 0.0
                key = max(shared, key=lambda t: (idf[t], t)) if shared else None
                # a section's first sentence states its point; a table's first row does not
                found.append(Scored(i, start, sentence, coverage, coverage,
                                    after_heading and header is None, key, header))
                after_heading = False
        found.sort(key=lambda s: -s.coverage)
        if self.embedder is not None and self.semantic_weight and found:
            head = found[: self.max_sentences]
            q = self.embedder.encode_queries([question])[0]
            cos = self.embedder.encode_documents([s.quote for s in head]) @ q
            w = self.semantic_weight
            for s, c in zip(head, np.asarray(cos, dtype=float), strict=True):
                s.score = (1 - w) * s.coverage + w * float(c)
            for s in found[self.max_sentences:]:
                s.score = (1 - w) * s.coverage
        # a row whose cells hold a number the question names ("tier 2") is the row it asks
        # for; numbers are too short to be terms, and rows of one table share every other word
        numbers = set(_NUMBER.findall(question))
        for s in found:
            s.score += self.lead_bonus * s.lead * (s.coverage > 0)
            if s.header and numbers & set(_NUMBER.findall(s.text)):
                s.score += self.lead_bonus
        found.sort(key=lambda s: (-s.score, s.passage, s.start))
        return found

    def compose(self, question: str, passages: list[Hit]) -> list[tuple[int, list[str]]]:
        """(passage number, its sentences to quote) in answer order; empty to decline."""
        scored = self.score(question, passages)
        if not scored or scored[0].score < self.min_score or \
                max(s.coverage for s in scored) < self.min_coverage:
            return []
        best = scored[0]
        if best.header:  # a table row: its header and the row, nothing around them
            return [(best.passage + 1, [best.quote])]
        lead = [best]
        used = len(best.text)
        passage = "".join(passages[best.passage].payload.get("text", "").split())
        for s in scored[1:]:  # more of the same passage, while it answers and fits
            if s.passage == best.passage and s.score >= self.keep_ratio * best.score and \
                    used + len(s.text) + 1 <= self.max_chars:
                # in the passage's own order (a section's opening statement before its
                # details), and only as one run of its text: a quote skips no sentence
                run = sorted([*lead, s], key=lambda s: s.start)
                if "".join(_joined([r.text for r in run]).split()) in passage:  # spacing aside
                    lead = run
                    used += len(s.text) + 1
        parts = [(best.passage + 1, [s.text for s in lead])]
        second = next((s for s in scored if s.passage != best.passage), None)
        # another passage is cited only when it answers too: about the same key term, covering
        # as much of the question, scoring nearly as well
        if second is not None and second.key == best.key and \
                second.coverage >= best.coverage and \
                second.score >= self.second_passage_ratio * best.score:
            parts.append((second.passage + 1, [second.quote]))
        return parts

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        parts = self.compose(question, passages)
        if not parts:
            yield decline_for(question)
            return
        for i, (n, quoted) in enumerate(parts):
            text = _joined(quoted)
            yield ("\n\n" if i else "") + f"{text[: self.max_chars]} [{n}]"

    def complete(self, question: str, passages: list[Hit]) -> str:
        return "".join(self.stream(question, passages))


def table_headers(text: str) -> dict[int, str | None]:
    """For every Markdown table line of a text, by its start: a data row maps to its table's
    header row (whitespace as one space), a header row or a rule to None."""
    out: dict[int, str | None] = {}
    header, previous_end = None, -2
    for m in TABLE_ROW.finditer(text):
        contiguous = text[previous_end:m.start()].strip() == "" and previous_end >= 0
        line = " ".join(m.group().split())
        if not contiguous:  # a new table: its first line is its header
            header = line
            out[m.start()] = None
        elif TABLE_RULE.match(m.group()):
            out[m.start()] = None
        else:
            out[m.start()] = header
        previous_end = m.end()
    return out


def _joined(sentences: list[str]) -> str:
    """Sentences as the passage runs them (whitespace as one space; none between Chinese)."""
    return ("" if CJK_IDEOGRAPH.search(sentences[0]) else " ").join(sentences)
