"""PDF pages as Documents (pypdf): page numbers kept, wrapping undone, headings on lines of their
own and running headers dropped (pdf_layout.py), pages without a text layer read by OCR
(ocr.py), every failure a reason."""

from __future__ import annotations

import logging
from pathlib import Path

from rag.corpus import Skipped, UnreadableError
from rag.corpus.ocr import ocr_pdf_page
from rag.corpus.pdf_layout import PageText, extract, structure
from rag.corpus.pdf_tables import draws_rules, read_tables, table_documents, without_cells
from rag.corpus.wrapping import join_pdf_lines
from rag.documents import Document
from rag.text import heading_paths

log = logging.getLogger(__name__)


def read_pdf(path: Path, source: str, passwords: list[str], ocr: bool = False,
             tables: bool = False) -> list[Document | Skipped]:
    """One Document per page with text, and a Skipped per page that failed; raises
    UnreadableError when the file as a whole cannot be indexed. With ``ocr``, a page with no
    text layer (a scan) is read from its images; with ``tables``, ruled tables become
    Markdown tables of their own (pdf_tables.py) and leave their page's text."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise UnreadableError(f"not a PDF (it starts with {head[:16]!r}): rename it to its "
                              f"real type, or add it to corpus.exclude")
    password = None
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            password = _decrypt(reader, passwords)
        pages = list(reader.pages)
    except UnreadableError:
        raise
    except DependencyError as exc:
        raise UnreadableError(f"{exc}: pip install 'pypdf[crypto]'") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, AssertionError) as exc:
        raise UnreadableError(
            f"malformed or truncated PDF ({type(exc).__name__}: {str(exc)[:120]}): "
            f"re-export it, or "
            f"repair it (e.g. qpdf damaged.pdf repaired.pdf)"
        ) from exc
    documents, failed, read, ruled = [], [], {}, []
    for number, page in enumerate(pages, start=1):
        try:
            read[number] = extract(page)
            if tables and draws_rules(page):
                ruled.append(number)
            if ocr and not read[number].text.strip():
                read[number] = PageText(ocr_pdf_page(page))
        except UnreadableError:
            raise  # OCR is not installed: the file, not a page, is what cannot be read
        except Exception as exc:  # one damaged page must not cost the others
            failed.append((number, f"{type(exc).__name__}: {exc}"))
    found = _tables(path, source, password, [n for n in ruled if n in read])
    for number, page_tables in found.items():
        read[number].text = without_cells(read[number].text, page_tables)
    # headings and running headers are told apart by comparing pages: the whole file first
    headings: tuple[str, ...] = ()  # the section in force, carried from page to page
    for number, marked in zip(read, structure(list(read.values())), strict=True):
        text = join_pdf_lines(marked)
        if text:
            documents.append(Document(text=text, source=source, page=number, headings=headings))
        if marks := heading_paths(marked, headings):
            headings = marks[-1][1]
    for number, page_tables in found.items():
        documents.extend(table_documents(source, number, page_tables))
    if failed and not documents:
        raise UnreadableError(f"no page could be read ({failed[0][1]}): re-export it, or "
                              f"repair it (e.g. qpdf damaged.pdf repaired.pdf)")
    if not documents and ocr:
        raise UnreadableError(f"no text on any of its {len(pages)} pages, neither a text "
                              f"layer nor text OCR could read in its images (drawings or "
                              f"blank scans?): add it to corpus.exclude to silence this")
    if not documents:
        raise UnreadableError(
            f"no text layer on any of its {len(pages)} pages (scanned or image-only): "
            f"set corpus.ocr=true, or OCR it first, e.g. ocrmypdf {source} out.pdf"
        )
    return documents + [Skipped(f"{source}#page={n}", f"page could not be read ({r})")
                        for n, r in failed]


def _tables(path: Path, source: str, password: str | None,
            pages: list[int]) -> dict[int, list[list[list[str]]]]:
    """Ruled tables of the pages, or none when pdfplumber cannot read them (the text stays)."""
    if not pages:
        return {}
    try:
        return read_tables(path, source, pages, password)
    except Exception as exc:  # a parser's failure on one file costs its tables, not its text
        log.warning("%s: tables not read (%s: %s); its pages are indexed as text", source,
                    type(exc).__name__, str(exc)[:120])
        return {}


def _decrypt(reader, passwords: list[str]) -> str:
    """Decrypt with "" or one of the passwords; the one that opened it."""
    from pypdf import PasswordType

    # "" first: many PDFs are encrypted only to restrict editing, and open without one.
    for password in ("", *passwords):
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return password
    if not passwords:
        raise UnreadableError(
            "encrypted PDF: give its password in corpus.pdf_passwords (a list tried on "
            "every encrypted PDF, e.g. corpus.pdf_passwords='[${oc.env:PDF_PASSWORD}]'), "
            "or remove the encryption"
        )
    raise UnreadableError(f"encrypted PDF: none of the {len(passwords)} "
                          f"passwords in corpus.pdf_passwords opens it")


