"""Ruled tables in PDFs as Markdown tables, one Document per block of rows (pdfplumber).

pypdf's text layer gives a table's cells one per line, in no order a reader can follow ("City
tier\nHotel per night\n...\nTier 1\n600 CNY"), so a row's values lose their column names.
pdfplumber finds tables from the lines that rule them; each becomes blocks of at most
ROWS_PER_BLOCK rows under a repeated header row (the same blocks as a sheet), anchored
"page P, table N, rows a-b", and its cells' lines leave the page's text.

Only tables of two rows and two columns or more count: a framed code listing is a one-column
"table" (the Debian maint-guide draws 67 of them). Pages are opened by pdfplumber only when
their content stream draws lines or rectangles, since its layout analysis costs ~0.07 s a page.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.corpus.office import row_blocks
from rag.documents import Document

_DRAWS = re.compile(rb"(?<![A-Za-z])(?:re|l)\s")  # path operators: rectangles and lines
MIN_PATH_OPERATORS = 8  # a ruled table of 2x2 draws at least this many


def draws_rules(page) -> bool:
    """Whether a pypdf page's content stream draws enough lines or rectangles to rule a table."""
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:  # an unreadable stream: no tables from it
        return False
    return len(_DRAWS.findall(data)) >= MIN_PATH_OPERATORS


def read_tables(path: Path, source: str, pages: list[int],
                password: str | None = None) -> dict[int, list[list[list[str]]]]:
    """The ruled tables (rows of cells, 2x2 or larger) of the given 1-based pages."""
    import pdfplumber

    found: dict[int, list[list[list[str]]]] = {}
    with pdfplumber.open(path, password=password or "") as pdf:
        for number in pages:
            tables = []
            for table in pdf.pages[number - 1].find_tables():
                rows = [[" ".join((c or "").split()) for c in row] for row in table.extract()]
                rows = [r for r in rows if any(r)]
                if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                    tables.append(rows)
            if tables:
                found[number] = tables
    return found


def table_documents(source: str, page: int, tables: list[list[list[str]]]) -> list[Document]:
    out = []
    for n, rows in enumerate(tables, 1):
        for doc in row_blocks(iter(rows), source, f"page {page}, table {n}"):
            doc.page = page
            out.append(doc)
    return out


def without_cells(text: str, tables: list[list[list[str]]]) -> str:
    """The page's text without the lines that are a table's cells (pypdf puts each cell on a
    line of its own, or a row's cells on one line)."""
    cells = {c for rows in tables for row in rows for c in row if c}
    cells |= {" ".join(c for c in row if c) for rows in tables for row in rows}
    return "\n".join(line for line in text.split("\n") if " ".join(line.split()) not in cells)
