"""Office files as Markdown Documents: headings kept as ``#`` lines, tables as Markdown tables.

DOCX (python-docx): one Document, paragraphs and tables in body order, Word's Heading styles
as Markdown headings. PPTX (python-pptx): one Document per slide (``page`` = slide number,
anchor "slide N"), its title as a heading. XLSX (openpyxl, read-only) and CSV: one Document per
block of rows (at most ROWS_PER_BLOCK, about BLOCK_CHARS), each block a Markdown table that
repeats the header row, so every chunk of a table says what its columns are (anchor "sheet S,
rows a-b"). A sheet is read until MAX_EMPTY_ROWS empty rows in a row: values below such a gap
are left out (a sheet whose dimension claims a million rows would otherwise take minutes).

Every failure is an UnreadableError naming the cause and the fix, raised before the first
Document, so a bad file costs only itself.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path

from rag.corpus import UnreadableError
from rag.documents import Document

ROWS_PER_BLOCK = 40  # table rows per Document at most ...
BLOCK_CHARS = 600  # ... and about this many characters: a block is one 200-token chunk
MAX_EMPTY_ROWS = 1000  # a sheet ends after this many empty rows in a row (1M-row dimensions)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .doc/.xls/.ppt


def markdown_table(rows: list[list[str]]) -> str:
    """Rows as a Markdown table, the first as its header; pipes and line breaks escaped, rows
    with no text left out."""
    width = max(len(r) for r in rows)

    def line(cells: list[str]) -> str:
        cells = [" ".join(str(c).split()).replace("|", "\\|") for c in cells]
        return "| " + " | ".join(cells + [""] * (width - len(cells))) + " |"

    body = [r for r in rows[1:] if any(str(c).strip() for c in r)]  # a slide's unfilled grid
    return "\n".join([line(rows[0]), "|" + " --- |" * width, *(line(r) for r in body)])


def _check_zip(path: Path, member: str, kind: str) -> None:
    """An OOXML file is a zip holding ``member``; say what it is when it is not."""
    with path.open("rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC:
        raise UnreadableError(
            f"password-protected, or an old binary Office file saved under a {kind} name: "
            f"remove the password (or save it as {kind}) in Office, or add it to corpus.exclude")
    if not zipfile.is_zipfile(path):
        raise UnreadableError(f"not a {kind} file (it starts with {head!r}): rename it to its "
                              f"real type, or add it to corpus.exclude")
    with zipfile.ZipFile(path) as z:
        if member not in z.namelist():
            raise UnreadableError(f"a zip archive but not a {kind} file (no {member}): "
                                  f"rename it to its real type, or add it to corpus.exclude")


def read_docx(path: Path, source: str) -> list[Document]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(path, "word/document.xml", ".docx")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise UnreadableError(f"damaged .docx ({type(exc).__name__}: {str(exc)[:120]}): "
                              f"open and re-save it in Word, or add it to corpus.exclude") \
            from exc
    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = _heading_level(style)
            blocks.append(f"{'#' * level} {text}" if level else
                          f"- {text}" if style.startswith("List") else text)
        elif isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            if rows:
                blocks.append(markdown_table(rows))
    title = (document.core_properties.title or "").strip()
    if title and blocks[:1] != [f"# {title}"]:
        blocks.insert(0, f"# {title}")
    text = "\n\n".join(blocks)
    return [Document(text=text, source=source)] if text.strip() else []


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        tail = style.removeprefix("Heading ").strip()
        return min(int(tail), 6) if tail.isdigit() else 0
    return 0


def read_pptx(path: Path, source: str) -> list[Document]:
    from pptx import Presentation

    _check_zip(path, "ppt/presentation.xml", ".pptx")
    try:
        deck = Presentation(str(path))
    except Exception as exc:
        raise UnreadableError(f"damaged .pptx ({type(exc).__name__}: {str(exc)[:120]}): "
                              f"open and re-save it in PowerPoint, or add it to "
                              f"corpus.exclude") from exc
    out = []
    for number, slide in enumerate(deck.slides, 1):
        title = slide.shapes.title
        blocks = [f"# {title.text.strip()}"] if title is not None and title.text.strip() \
            else []
        for shape in slide.shapes:
            if title is not None and shape.shape_id == title.shape_id:
                continue
            if shape.has_text_frame:
                lines = [p.text.strip() for p in shape.text_frame.paragraphs if p.text.strip()]
                blocks.extend(lines)
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                if rows:
                    blocks.append(markdown_table(rows))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                blocks.append(notes)
        if blocks:
            out.append(Document(text="\n\n".join(blocks), source=source, page=number,
                                metadata={"anchor": f"slide {number}"}))
    return out


def row_blocks(rows: Iterator[list[str]], source: str, label: str) -> list[Document]:
    """Documents of ROWS_PER_BLOCK rows each, the header row repeated in every one."""
    header, block, first, out = None, [], 2, []
    empty = size = 0
    for number, row in enumerate(rows, 1):
        cells = ["" if v is None else str(v) for v in row]
        if not any(c.strip() for c in cells):
            empty += 1
            if empty >= MAX_EMPTY_ROWS:
                break
            continue
        empty = 0
        if header is None:
            header, first = cells, number + 1
            continue
        row_size = _line_size(cells)
        if block and (len(block) == ROWS_PER_BLOCK or size + row_size > BLOCK_CHARS):
            out.append(_table_doc(header, block, source, label, first, first + len(block) - 1))
            block = []
        if not block:
            first, size = number, _line_size(header) + 6 * len(header) + 2  # + the --- line
        block.append(cells)
        size += row_size
    if block:
        out.append(_table_doc(header, block, source, label, first, first + len(block) - 1))
    elif header is not None and not out:  # a header alone is still a table of names
        out.append(_table_doc(header, [], source, label, 1, 1))
    return out


def _line_size(cells: list[str]) -> int:
    """Characters of the row's Markdown line: "| a | b |" and its line break."""
    return sum(len(c) + 3 for c in cells) + 2


def _table_doc(header, block, source, label, first, last) -> Document:
    rows = f"row {first}" if first == last else f"rows {first}-{last}"
    anchor = f"{label}, {rows}" if label else rows
    title = f"# {label}\n\n" if label else ""
    return Document(text=title + markdown_table([header, *block]), source=source,
                    metadata={"anchor": anchor})


def read_xlsx(path: Path, source: str) -> list[Document]:
    from openpyxl import load_workbook

    _check_zip(path, "xl/workbook.xml", ".xlsx")
    try:
        book = load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableError(f"damaged .xlsx ({type(exc).__name__}: {str(exc)[:120]}): "
                              f"open and re-save it in Excel, or add it to corpus.exclude") \
            from exc
    try:
        out = []
        for sheet in book.worksheets:
            rows = (list(r) for r in sheet.iter_rows(values_only=True))
            out.extend(row_blocks(rows, source, f"sheet {sheet.title}"))
        return out
    finally:
        book.close()


def read_csv(path: Path, source: str, encoding: str) -> list[Document]:
    with path.open(encoding=encoding, newline="") as f:
        sample = f.read(65536)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:
            return row_blocks(csv.reader(f, dialect), source, "")
        except csv.Error as exc:
            raise UnreadableError(f"malformed CSV ({exc}): fix the quoting, or add it to "
                                  f"corpus.exclude") from exc
