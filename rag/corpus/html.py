"""HTML pages as Markdown Documents (BeautifulSoup + markdownify): headings as ``#`` lines,
lists and tables kept; scripts, styles, navigation (by tag or ARIA role), permalink anchors
and forms dropped, never indexed as text."""

from __future__ import annotations

import re
from pathlib import Path

from rag.corpus import UnreadableError
from rag.documents import Document

# not the page's content: code that runs, and the site around the page
DROP = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "nav", "header",
        "footer", "aside", "form", "button", "select", "head")
# the same site furniture marked by ARIA role (Sphinx, many CMSs), and permalink anchors ("¶")
DROP_ROLES = ("navigation", "search", "banner", "contentinfo", "complementary")
DROP_CLASSES = ("headerlink",)
_BLANK_LINES = re.compile(r"\n{3,}")


def read_html(path: Path, source: str, encoding: str) -> list[Document]:
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    text = path.read_text(encoding=encoding)
    soup = BeautifulSoup(text, "html.parser")
    if soup.find() is None:
        raise UnreadableError("no HTML elements in it: rename it to .txt if it is plain text, "
                              "or add it to corpus.exclude")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in [*soup.find_all(DROP), *soup.find_all(role=DROP_ROLES),
                *soup.find_all(class_=DROP_CLASSES)]:
        tag.decompose()
    body = soup.find("main") or soup.find(role="main") or soup.find("article") or soup.body \
        or soup
    markdown = MarkdownConverter(heading_style="ATX", bullets="-", strip=["a", "img"],
                                 escape_underscores=False, escape_asterisks=False)\
        .convert_soup(body)
    markdown = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in
                                                  markdown.splitlines())).strip()
    if title and not markdown.startswith("# "):
        markdown = f"# {title}\n\n{markdown}"
    return [Document(text=markdown, source=source)] if markdown.strip() else []
