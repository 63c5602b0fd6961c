"""Text tokenizers for BM25: English words with stemming, Chinese words or characters,
and a mixed tokenizer that routes each script run to the right one."""

from __future__ import annotations

import re
from functools import cached_property

from rag.errors import ConfigError
from rag.text import CJK_RUN as _CJK_RUN

# Words, numbers and dotted/dashed codes such as "v2.3.1" or "X-200" stay one term.
_WORD = re.compile(r"[^\W_]+(?:[.\-][^\W_]+)*")


def describe(obj) -> dict:
    """Class and public settings: what makes two tokenizers produce the same terms."""
    return {"class": type(obj).__name__,
            **{k: v for k, v in vars(obj).items() if not k.startswith("_")}}


class EnglishTokenizer:
    """Lower-cased words, Snowball-stemmed (PyStemmer)."""

    def __init__(self, stem: bool = True, language: str = "english") -> None:
        self.stem = stem
        self.language = language

    @cached_property
    def _stemmer(self):
        import Stemmer

        return Stemmer.Stemmer(self.language)

    def __call__(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        return self._stemmer.stemWords(words) if self.stem else words


class JiebaTokenizer:
    """Chinese words. ``search`` mode also emits the sub-words of long words, so
    住宿费 in a query matches 住宿 in a passage."""

    def __init__(self, backend: str = "rjieba", mode: str = "search") -> None:
        if backend not in ("jieba", "rjieba"):
            raise ConfigError(f"jieba backend must be 'jieba' or 'rjieba', got {backend!r}")
        if mode not in ("search", "default"):
            raise ConfigError(f"jieba mode must be 'search' or 'default', got {mode!r}")
        self.backend = backend
        self.mode = mode

    @cached_property
    def _cut(self):
        if self.backend == "rjieba":
            import rjieba

            return rjieba.cut_for_search if self.mode == "search" else rjieba.cut
        import jieba

        jieba.setLogLevel(60)  # its dictionary-loading chatter is not the user's business
        return jieba.lcut_for_search if self.mode == "search" else jieba.lcut

    def __call__(self, text: str) -> list[str]:
        return [w for w in self._cut(text) if w.strip() and any(c.isalnum() for c in w)]


class CharNgramTokenizer:
    """Chinese characters as unigrams plus bigrams: no dictionary, robust to domain words.
    N-grams never cross from one Chinese run into the next; anything else in the text
    (English words, numbers, codes such as v2.3.1) stays whole and lower-cased."""

    def __init__(self, n: tuple[int, ...] | list[int] = (1, 2)) -> None:
        self.n = tuple(n)

    def __call__(self, text: str) -> list[str]:
        terms: list[str] = []
        for i, run in enumerate(_CJK_RUN.split(text)):
            if i % 2:
                terms.extend(run[j : j + n] for n in self.n for j in range(len(run) - n + 1))
            elif run:
                terms.extend(_WORD.findall(run.lower()))
        return terms


class MixedTokenizer:
    """Splits text into CJK and non-CJK runs and tokenizes each with its own tokenizer."""

    def __init__(self, zh=None, en=None) -> None:
        self.zh = zh or JiebaTokenizer()
        self.en = en or EnglishTokenizer()

    @property
    def fingerprint(self) -> dict:
        return {"zh": describe(self.zh), "en": describe(self.en)}

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        for i, run in enumerate(_CJK_RUN.split(text)):
            if run:
                tokens.extend(self.zh(run) if i % 2 else self.en(run))
        return tokens
