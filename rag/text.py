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


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def latin_share(text: str) -> float:
    """Latin-script words / (Latin words + CJK ideographs): 0 for plain Chinese, 1 for plain
    English, 0.1-0.5 for Chinese technical prose that keeps English commands; 0.5 when the
    text has neither. An ideograph counts as a word: each is a BM25 term of its own."""
    latin = len(_LATIN_WORD.findall(text))
    han = len(CJK_IDEOGRAPH.findall(text))
    return latin / (latin + han) if latin + han else 0.5


def terms(text: str) -> set[str]:
    """Lower-cased words of three or more letters and CJK character bigrams: enough to match
    an answer to a passage."""
    text = text.lower()
    words = set(re.findall(r"[a-z0-9]{3,}", text))
    cjk = "".join(CJK_CHAR.findall(text))
    return words | {cjk[i : i + 2] for i in range(len(cjk) - 1)}


# A full stop ends an English sentence only when whitespace follows and the next word does not
# start in lower case; a decimal (2.5), a version (3.11.4) or a domain has no space after its
# dots. These words end in a dot without ending the sentence.
ABBREVIATIONS = frozenset([
    "e.g", "i.e", "etc", "vs", "cf", "al", "approx", "ca", "no", "nos", "fig", "figs", "eq",
    "sec", "ch", "vol", "pp", "p", "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc",
    "ltd", "co", "corp", "dept", "est", "min", "max", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec",
])
_EN_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
_ZH_END = re.compile(r"[。！？；]+[”’」』）]*|[!?;]+(?=[" + CJK_IDEOGRAPHS + "])")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_HEADING_LINE = re.compile(r"(?m)^[ \t]*#{1,6}[ \t].*$")
# a Markdown table row (Office sheets, DOCX and PPTX tables, HTML tables): a unit of its own
TABLE_ROW = re.compile(r"(?m)^[ \t]*\|.*\|[ \t]*$")
TABLE_RULE = re.compile(r"^[ \t]*\|(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*$")  # | --- | :-: |
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, so that a sentence is always quoted as the
    passage wrote it. Ends: Chinese 。！？； (and closing quotes after them), English .!? followed
    by space and a word not in lower case, and paragraph breaks. Not ends: decimals, version
    numbers, abbreviations such as "e.g." and "Dr.". A Markdown table row is one sentence."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _ZH_END.finditer(text))
    cuts.update(m.start() for m in _PARAGRAPH.finditer(text))
    cuts.update(i for m in _HEADING_LINE.finditer(text) for i in (m.start(), m.end()))
    cuts.update(i for m in TABLE_ROW.finditer(text) for i in (m.start(), m.end()))
    for m in _EN_END.finditer(text):
        rest = text[m.end():].lstrip()
        if not rest or rest[0].islower():
            continue
        word = _WORD_BEFORE.search(text[: m.start()])
        if m.group().startswith(".") and word and word.group(1).lower().rstrip(".") in \
                ABBREVIATIONS:
            continue
        cuts.add(m.end())
    spans = []
    bounds = sorted(cuts)
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            spans.append((start + lead, start + trail))
    return spans


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


_ATX_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(```|~~~)")


def heading_paths(text: str, start: tuple[str, ...] = (),
                  levels: int = 3) -> list[tuple[int, tuple[str, ...]]]:
    """(offset, path) at every ATX heading of level <= ``levels`` outside code fences: the
    path in force from that offset on, where path[i] is the level i+1 heading ("" for a level
    skipped). ``start`` is the path in force before the text (a PDF page continues the
    section of the page before it). The chunker, its context headers and the PDF reader all
    read headings here."""
    out: list[tuple[int, tuple[str, ...]]] = []
    path = {i + 1: h for i, h in enumerate(start) if h}
    pos, fence = 0, None
    for line in text.split("\n"):
        if fenced := _FENCE.match(line):
            fence = None if fence == fenced.group(1) else fence or fenced.group(1)
        elif fence is None and (header := _ATX_HEADING.fullmatch(line)):
            level = len(header.group(1))
            if level <= levels:
                path = {k: v for k, v in path.items() if k < level}
                path[level] = header.group(2).strip()
                out.append((pos, tuple(path.get(n, "") for n in range(1, level + 1))))
        pos += len(line) + 1
    return out
