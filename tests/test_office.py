"""Office files and web pages, written by the libraries that make them, read back as Markdown:
headings on their own lines, tables as Markdown tables, anchors for slides and sheets."""

from __future__ import annotations

import pytest

from rag.corpus.folder import FolderReader
from rag.corpus.office import BLOCK_CHARS, ROWS_PER_BLOCK, markdown_table


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    docx = pytest.importorskip("docx")
    pptx = pytest.importorskip("pptx")
    from openpyxl import Workbook
    from pptx.util import Inches

    root = tmp_path_factory.mktemp("office")
    doc = docx.Document()
    doc.core_properties.title = "Employee Handbook"
    doc.add_heading("Annual Leave", level=1)
    doc.add_paragraph("Full-time employees receive 25 days of paid leave per year.")
    doc.add_heading("Carry-over", level=2)
    doc.add_paragraph("Up to 5 unused days carry over to the next year.", style="List Bullet")
    table = doc.add_table(rows=2, cols=2)
    for cell, text in zip([*table.rows[0].cells, *table.rows[1].cells],
                          ["Grade", "Days", "Senior | Lead", "30"], strict=True):
        cell.text = text
    doc.add_paragraph("出差住宿费的报销标准是一线城市每晚六百元。")
    doc.save(root / "handbook.docx")

    deck = pptx.Presentation()
    for title, bullet in [("Quarterly results", "Revenue grew 12% over the quarter."),
                          ("Next steps", "Hire two engineers in Berlin.")]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = bullet
    shape = deck.slides[1].shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1))
    for (r, c), text in {(0, 0): "Role", (0, 1): "City", (1, 0): "Engineer",
                         (1, 1): "Berlin"}.items():
        shape.table.cell(r, c).text = text
    deck.slides[1].notes_slide.notes_text_frame.text = "Speaker note: budget approved."
    deck.save(root / "review.pptx")

    book = Workbook()
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["Team", "Amount"])
    for i in range(ROWS_PER_BLOCK + 5):
        sheet.append([f"team-{i}", i * 100])
    book.create_sheet("Empty")
    book.save(root / "budget.xlsx")

    (root / "people.csv").write_text("name;city\nAda;London\nLin;上海\n", encoding="utf-8")
    (root / "page.html").write_text(
        "<html><head><title>Install guide</title><style>p{color:red}</style></head><body>"
        "<nav>Home | Docs | Blog</nav><div role=\"navigation\">previous | next</div><main>"
        "<h1>Installing<a class=\"headerlink\" href=\"#i\">¶</a></h1><p>Run <code>make install"
        "</code> first.</p><h2>Requirements</h2><ul><li>Python 3.11</li><li>2 cores</li>"
        "</ul><table><tr><th>OS</th><th>Status</th></tr><tr><td>Debian</td><td>tested</td>"
        "</tr></table></main><script>document.write('TRACKER')</script></body></html>",
        encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def docs(folder):
    documents, skipped = FolderReader(str(folder)).read()
    assert not skipped, skipped
    by_source: dict[str, list] = {}
    for d in documents:
        by_source.setdefault(d.source, []).append(d)
    return by_source


def test_docx_keeps_headings_lists_and_tables_in_order(docs):
    (doc,) = docs["handbook.docx"]
    lines = [ln for ln in doc.text.splitlines() if ln.strip()]
    assert lines[:3] == ["# Employee Handbook", "# Annual Leave",
                         "Full-time employees receive 25 days of paid leave per year."]
    assert "## Carry-over" in lines
    assert "- Up to 5 unused days carry over to the next year." in lines
    assert "| Grade | Days |" in lines and "| Senior \\| Lead | 30 |" in lines
    assert lines[-1] == "出差住宿费的报销标准是一线城市每晚六百元。"
    # the heading is a line of its own, not glued to the sentence after it
    assert "Annual Leave Full-time" not in doc.text


def test_pptx_is_one_document_per_slide_with_its_anchor(docs):
    slides = docs["review.pptx"]
    assert [(d.page, d.metadata["anchor"]) for d in slides] == [(1, "slide 1"), (2, "slide 2")]
    assert slides[0].text.startswith("# Quarterly results\n\nRevenue grew 12%")
    assert "| Engineer | Berlin |" in slides[1].text
    assert "Speaker note: budget approved." in slides[1].text
    assert slides[1].doc_id == "review.pptx#page=2"


def test_xlsx_rows_come_in_blocks_that_repeat_the_header(docs):
    blocks = docs["budget.xlsx"]
    anchors = [d.metadata["anchor"] for d in blocks]
    assert len(blocks) >= 2 and anchors[0].startswith("sheet Budget, rows 2-")
    assert anchors[-1].endswith(f"-{ROWS_PER_BLOCK + 6}")  # the last data row
    rows = []
    for d in blocks:
        assert d.text.startswith("# sheet Budget\n\n| Team | Amount |\n| --- | --- |")
        assert len(d.text) <= BLOCK_CHARS + 40  # the title line is outside the budget
        rows += [ln for ln in d.text.splitlines()[4:]]
    # every row once, in order, and each block's anchor names its own rows
    assert rows == [f"| team-{i} | {i * 100} |" for i in range(ROWS_PER_BLOCK + 5)]
    first, last = (int(n) for n in anchors[1].split("rows ")[1].split("-"))
    assert blocks[1].text.splitlines()[4] == f"| team-{first - 2} | {(first - 2) * 100} |"
    assert len(blocks[1].text.splitlines()[4:]) == last - first + 1


def test_csv_delimiter_is_sniffed(docs):
    (doc,) = docs["people.csv"]
    assert doc.text.splitlines()[:4] == ["| name | city |", "| --- | --- |", "| Ada | London |",
                                         "| Lin | 上海 |"]


def test_html_keeps_structure_and_drops_scripts_styles_and_navigation(docs):
    (doc,) = docs["page.html"]
    text = doc.text
    assert text.startswith("# Installing\n")
    assert "## Requirements" in text and "- Python 3.11" in text
    assert "| OS | Status |" in text and "| Debian | tested |" in text
    assert "make install" in text
    for gone in ("TRACKER", "color:red", "Home | Docs", "previous | next", "¶"):
        assert gone not in text


def test_markdown_table_pads_short_rows_and_leaves_out_empty_ones():
    assert markdown_table([["a", "b", "c"], ["1"], ["", " ", ""], ["2", "", "3"]]).splitlines() == [
        "| a | b | c |", "| --- | --- | --- |", "| 1 |  |  |", "| 2 |  | 3 |"]


def test_a_sheet_ends_after_a_thousand_empty_rows(tmp_path):
    """A sheet whose dimension claims a million rows is not walked to its end: reading stops
    after MAX_EMPTY_ROWS empty rows in a row (the value a million rows down is left out)."""
    from tests.bad_inputs import _sparse_rows

    _sparse_rows(tmp_path / "sparse.xlsx")
    documents, skipped = FolderReader(str(tmp_path)).read()
    assert not skipped
    assert [d.metadata["anchor"] for d in documents] == ["sheet Sheet, row 2"]
    assert "far below" not in documents[0].text


def test_office_files_index_and_answer_with_their_anchor(folder, tmp_path):
    """End to end through the real pipeline (default embedder, embedded Qdrant): a question
    about a slide finds that slide, and the payload carries the anchor the page shows."""
    from rag.answerer import passage_label
    from rag.pipeline import Pipeline
    from tests.conftest import make_cfg

    cfg = make_cfg(f"paths.data={tmp_path}", f"corpus.path={folder}", "progress=false")
    pipeline = Pipeline.from_config(cfg)
    try:
        pipeline.index()
        hits = pipeline.search("Where will the two engineers be hired?", 3)
        assert hits[0].payload["source"] == "review.pptx"
        assert hits[0].payload["anchor"] == "slide 2"
        assert passage_label(hits[0]) == "review.pptx, slide 2"  # as citations list it
        budget = pipeline.search("What amount does team-7 have in the budget?", 5)
        assert any(h.payload.get("anchor", "").startswith("sheet Budget") for h in budget)
    finally:
        pipeline.close()
