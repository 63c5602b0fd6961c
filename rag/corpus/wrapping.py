"""Line wrapping undone: the breaks a page layout put inside sentences (PDF text layers, OCR,
hard-wrapped text files) joined, the breaks that end a sentence, a heading or a list item kept."""

from __future__ import annotations

import re

from rag.text import CJK_IDEOGRAPHS, CJK_PUNCTUATION

_CJK_CHAR = f"[{CJK_IDEOGRAPHS}{CJK_PUNCTUATION}]"
_CJK_BREAK = re.compile(rf"(?<={_CJK_CHAR})[ \t]*\n[ \t]*(?={_CJK_CHAR})")
# A line that ends a sentence or a heading keeps its break, and so does the break before a list
# item (a bullet); other breaks are PDF line wrapping.
_SOFT_BREAK = re.compile(r"(?<![.!?:;。！？；：\n])[ \t]*\n(?!\n)(?![ \t]*(?:[•◦▪●■–]|- ))[ \t]*")
# A table of contents' dot leaders ("Using lintian . . . . . . . 45", "简介 ........ 3"): four or
# more dots, spaced or not. They carry no words but cost a tokenizer one or two tokens a dot,
# so how many titles a contents chunk holds depended on the tokenizer: with e5's (two tokens a
# dot) the contents pages outranked the sections they list (docs/results/multilingual.md).
_LEADER = re.compile(r"[ \t]*(?:[.·…][ \t]*){4,}(?=(?:\d+|[ivxlcdm]+|[IVXLCDM]+)?[ \t]*$)",
                     re.MULTILINE)


def join_cjk_lines(text: str) -> str:
    """A line break between two CJK characters is wrapping, not a space: remove it."""
    return _CJK_BREAK.sub("", text)


def join_pdf_lines(text: str) -> str:
    """Undo PDF line wrapping: CJK lines join with no space, other lines with one; a contents
    line's dot leader becomes one space (the line keeps its break: it ends in a number)."""
    return _SOFT_BREAK.sub(" ", join_cjk_lines(_LEADER.sub(" ", text))).strip()
