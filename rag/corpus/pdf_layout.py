"""What a PDF's text layer says about structure, from pypdf's font sizes and positions.

pypdf gives the text of a page with its line breaks, and — through its visitor — the font
size and baseline of every piece of it. Two cues from those:

- headings: a line set in a font at least HEADING_RATIO times the document's body size (the
  size most characters are set in) and short enough to be a title. It becomes a Markdown
  heading on a paragraph of its own ("## 1.2 Programs needed"), so line joining never glues it
  to the sentence after it and the answerer never quotes it as one; the largest heading size
  of the document is level 1, the next level 2, the rest level 3.
- running headers and footers: a first or last line of a page that repeats (digits aside) on
  at least half the pages, and on three or more ("Debian New Maintainers' Guide 3 / 57"). They
  are dropped: they are on every page and answer nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

HEADING_RATIO = 1.2
MAX_HEADING_CHARS = 120
_DIGITS = re.compile(r"\d+")


@dataclass
class PageText:
    text: str  # as pypdf extracts it, line breaks kept
    sizes: dict[str, float] = field(default_factory=dict)  # line (stripped) -> its font size
    chars: Counter = field(default_factory=Counter)  # font size -> characters set in it


def extract(page) -> PageText:
    """The page's text and, per line, the size it is set in (the smallest size of its
    pieces: a heading is large all through, a body line with one large glyph is not)."""
    pieces: list[tuple[float, float, str]] = []

    def visit(text, cm, tm, font, size) -> None:
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            pieces.append((round(size * scale, 1), round(tm[5] * cm[3] + cm[5], 1), text))

    text = page.extract_text(visitor_text=visit) or ""
    out = PageText(text)
    lines: dict[float, list[tuple[float, str]]] = {}
    for size, y, piece in pieces:
        lines.setdefault(y, []).append((size, piece))
        out.chars[size] += len(piece.strip())
    for parts in lines.values():
        line = " ".join("".join(p for _, p in parts).split())
        if line:
            out.sizes[line] = min(s for s, _ in parts)
    return out


def structure(pages: list[PageText]) -> list[str]:
    """Each page's text with headings marked and running headers and footers dropped."""
    total: Counter = Counter()
    for p in pages:
        total.update(p.chars)
    body = total.most_common(1)[0][0] if total else 0.0
    heading_sizes = sorted({s for p in pages for s in p.sizes.values()
                            if body and s >= HEADING_RATIO * body}, reverse=True)
    level = {s: min(i + 1, 3) for i, s in enumerate(heading_sizes)}
    running = _running_lines(pages)
    out = []
    for p in pages:
        lines = p.text.splitlines()
        ends = _ends(lines)
        kept = []
        for i, line in enumerate(lines):
            if ends.get(i) in running:
                continue
            bare = " ".join(line.split())
            size = p.sizes.get(bare)
            if size in level and len(bare) <= MAX_HEADING_CHARS:
                kept.append(f"\n{'#' * level[size]} {bare}\n")
            else:
                kept.append(line)
        out.append("\n".join(kept))
    return out


def _running_lines(pages: list[PageText]) -> set[str]:
    if len(pages) < 3:
        return set()
    seen: Counter = Counter()
    for p in pages:
        seen.update(set(_ends(p.text.splitlines()).values()))
    return {ln for ln, n in seen.items() if n >= max(3, len(pages) / 2)}


def _ends(lines: list[str]) -> dict[int, str]:
    """The page's first and last non-empty lines by index, as a running header or footer
    is compared across pages: whitespace collapsed, digits as #."""
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    return {i: _DIGITS.sub("#", " ".join(lines[i].split())) for i in filled[:1] + filled[-1:]}
