"""Property-based tests (hypothesis): chunking and tokenisation survive arbitrary Unicode, and
the chunks cover the whole text of a document."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunker import MarkdownHeaderChunker, RecursiveTokenChunker
from rag.corpus.wrapping import join_pdf_lines
from rag.documents import Document, detect_language
from rag.sparse.bm25 import BM25Encoder
from rag.sparse.tokenizers import (
    CharNgramTokenizer,
    EnglishTokenizer,
    JiebaTokenizer,
    MixedTokenizer,
)
from tests.conftest import MINILM

# Arbitrary code points (no surrogates, which cannot be encoded), weighted towards what
# documents hold: words, CJK, punctuation, line breaks, and the odd emoji or control code.
WORDS = st.sampled_from([
    "the", "warranty", "v2.1.3", "Qdrant", "RAG-2024", "déjà", "naïve", "出差", "报销标准",
    "一线城市", "密码", "ＡＢＣ", "😀", "e\u0301", "\u200b", "\u2028", "。", "，", ". ", "\n",
    "\n\n", "\t", "  ", "#", "\n## Title\n", "\n```\n",
])
ANY = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
TEXT = st.lists(st.one_of(WORDS, ANY), max_size=120).map("".join)

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def covers(text: str, chunks: list[str]) -> bool:
    """Whether the chunks, placed in order at occurrences in the text (overlaps allowed),
    cover every non-whitespace character. Tries every placement, so repeated text cannot
    make a correct chunking look wrong."""
    ink = [0]
    for c in text:
        ink.append(ink[-1] + (not c.isspace()))

    def blank(a: int, b: int) -> bool:
        return a >= b or ink[b] == ink[a]

    states = {0: 0}  # start of the last placed chunk -> text covered up to
    for chunk in chunks:
        where = [i for i in range(len(text) - len(chunk) + 1) if text.startswith(chunk, i)]
        nxt: dict[int, int] = {}
        for start, covered in states.items():
            for i in where:
                if i >= start and blank(covered, i):
                    nxt[i] = max(nxt.get(i, 0), covered, i + len(chunk))
        if not nxt:
            return False
        states = nxt
    return any(blank(covered, len(text)) for covered in states.values())


def test_coverage_check_can_fail():
    assert covers("ab cd ab", ["ab cd", "cd ab"])
    assert covers("ab ab ab", ["ab", "ab", "ab"])
    assert not covers("ab cd ef", ["ab", "ef"])  # "cd" is lost
    assert not covers("ab cd", ["cd", "ab"])  # out of order


CHUNKER = RecursiveTokenChunker(MINILM, chunk_size=16, chunk_overlap=4)


@PROPERTY
@given(TEXT)
def test_chunks_are_within_budget_and_cover_the_text(text):
    chunks = CHUNKER.split_text(text)
    assert all(c and c == c.strip() for c in chunks)
    assert all(CHUNKER.count_tokens(c) <= 16 for c in chunks)
    assert covers(text, chunks)


@PROPERTY
@given(TEXT)
def test_markdown_chunks_are_within_budget_and_cover_the_text(text):
    chunker = MarkdownHeaderChunker(MINILM, chunk_size=16, chunk_overlap=4)
    chunks = chunker.split([Document(text=text, source="a.md")])
    assert all(chunker.count_tokens(c.text) <= 16 for c in chunks)
    assert covers(text, [c.text for c in chunks])


TOKENIZERS = [EnglishTokenizer(), JiebaTokenizer("rjieba"), JiebaTokenizer("jieba"),
              CharNgramTokenizer(), MixedTokenizer()]


@PROPERTY
@given(TEXT)
def test_tokenizers_return_non_empty_terms_without_spaces(text):
    for tokenize in TOKENIZERS:
        terms = tokenize(text)
        assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in terms)
        assert tokenize(text) == terms  # deterministic


@PROPERTY
@given(TEXT)
def test_every_chinese_character_is_a_char_ngram_term(text):
    terms = set(CharNgramTokenizer()(text))
    han = {c for c in text if "\u4e00" <= c <= "\u9fff"}
    assert han <= terms


@PROPERTY
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_bm25_vectors_are_well_formed(texts):
    encoder = BM25Encoder()
    for indices, values in [*encoder.encode_documents(texts), *encoder.encode_queries(texts)]:
        assert len(indices) == len(set(indices)) == len(values)
        assert all(0 <= i < 2**32 for i in indices)
        assert all(math.isfinite(v) and v > 0 for v in values)


@PROPERTY
@given(TEXT)
def test_language_detection_and_pdf_line_joining_never_crash(text):
    assert detect_language(text) in {"en", "zh"}
    joined = join_pdf_lines(text)

    def kept(s: str) -> str:  # only whitespace changes, and contents lines' dot leaders go
        return "".join(c for c in s if not c.isspace() and c not in ".·…")

    assert kept(joined) == kept(text)
