"""Text facts every stage agrees on: which characters are CJK, and the terms of a text.

One home for them, so that the reader, the sparse tokenizers and the answer stage never
disagree on what counts as Chinese.
"""

from __future__ import annotations

import re

# Unified ideographs (extension A, the main block, compatibility ideographs).
CJK_IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# CJK punctuation (。、「」…) and full-width forms (，！？０-９Ａ-Ｚ).
CJK_PUNCTUATION = "\u3000-\u303f\uff00-\uffef"

CJK_IDEOGRAPH = re.compile(f"[{CJK_IDEOGRAPHS}]")
# An ideograph or CJK punctuation: a character that is written without spaces around it.
CJK_CHAR = re.compile(f"[{CJK_IDEOGRAPHS}{CJK_PUNCTUATION}]")
CJK_RUN = re.compile(f"([{CJK_IDEOGRAPHS}]+)")


def count_cjk(text: str) -> int:
    return len(CJK_CHAR.findall(text))


def terms(text: str) -> set[str]:
    """Lower-cased words of three or more letters and CJK character bigrams: enough to match
    an answer to a passage."""
    text = text.lower()
    words = set(re.findall(r"[a-z0-9]{3,}", text))
    cjk = "".join(CJK_CHAR.findall(text))
    return words | {cjk[i : i + 2] for i in range(len(cjk) - 1)}
