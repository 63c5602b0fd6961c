"""Ruled tables in real PDFs (made with reportlab, read by pdfplumber): Markdown tables of their
own, cited by page and table, their cells gone from the page's text; answered row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus.pdf import read_pdf

ROWS = [["City tier", "Hotel per night", "Meals per day"], ["Tier 1", "600 CNY", "100 CNY"],
        ["Tier 2", "450 CNY", "80 CNY"], ["Other cities", "350 CNY", "60 CNY"]]


def make_pdf(path: Path, password: str | None = None) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    table = Table(ROWS)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    listing = Table([["make install"], ["make test"], ["make serve"]])  # a framed code box
    listing.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.black)]))
    SimpleDocTemplate(str(path), pagesize=A4, encrypt=password).build([
        Paragraph("Travel allowances", styles["Heading1"]),
        Paragraph("Claims follow the table below. Receipts are required for hotels.",
                  styles["Normal"]),
        Spacer(1, 12), table, Spacer(1, 12),
        Paragraph("Meals need no receipts.", styles["Normal"]), Spacer(1, 12), listing])
    return path


@pytest.fixture(scope="module")
def rates(tmp_path_factory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("tables") / "rates.pdf")


def test_a_ruled_table_becomes_a_markdown_table_and_leaves_the_page_text(rates):
    page, table = read_pdf(rates, "rates.pdf", [], tables=True)
    assert page.doc_id == table.doc_id == "rates.pdf#page=1"
    assert "Tier 2" not in page.text and "450 CNY" not in page.text
    assert "Claims follow the table below." in page.text and "Meals need no receipts." in page.text
    assert "make install" in page.text  # a one-column box is not a table
    assert table.metadata["anchor"] == "page 1, table 1, rows 2-4"
    assert table.text.endswith("| City tier | Hotel per night | Meals per day |\n"
                               "| --- | --- | --- |\n| Tier 1 | 600 CNY | 100 CNY |\n"
                               "| Tier 2 | 450 CNY | 80 CNY |\n| Other cities | 350 CNY | 60 CNY |")


def test_without_tables_the_cells_stay_in_the_page_text(rates):
    (page,) = read_pdf(rates, "rates.pdf", [], tables=False)
    assert "Tier 2" in page.text and "450 CNY" in page.text


def test_an_encrypted_pdf_s_tables_are_read_with_its_password(tmp_path):
    pdf = make_pdf(tmp_path / "locked.pdf", password="s3cret")
    docs = read_pdf(pdf, "locked.pdf", ["s3cret"], tables=True)
    assert [d.metadata.get("anchor") for d in docs] == [None, "page 1, table 1, rows 2-4"]


def test_a_question_about_a_row_is_answered_with_its_header_and_cited_by_table(rates,
                                                                               tmp_path):
    """End to end: the default pipeline indexes the PDF, finds the table, quotes the row."""
    from rag.pipeline import Pipeline
    from tests.conftest import make_cfg

    pipeline = Pipeline.from_config(make_cfg(f"paths.data={tmp_path}",
                                             f"corpus.path={rates.parent}", "progress=false"))
    try:
        pipeline.index()
        response = pipeline.ask("What is the hotel allowance per night in tier 2 cities?", 5)
    finally:
        pipeline.close()
    assert response.answer.text.startswith(
        "| City tier | Hotel per night | Meals per day | … | Tier 2 | 450 CNY | 80 CNY |")
    assert response.answer.sources() == ["[1] rates.pdf, page 1, table 1, rows 2-4"]
