from __future__ import annotations

import pytest

from rag.corpus.folder import FolderReader
from rag.corpus.wrapping import join_cjk_lines, join_pdf_lines
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def sample_docs():
    docs, skipped = FolderReader(str(SAMPLE)).read()
    assert skipped == []
    return docs


def test_real_pdf_keeps_page_numbers(sample_docs):
    pages = {d.page: d.text for d in sample_docs if d.source == "company-handbook.pdf"}
    assert sorted(pages) == [1, 2, 3, 4]
    assert "28 days of paid annual leave" in pages[2]
    assert "28 days" not in pages[1] + pages[3] + pages[4]
    # Chinese page: wrapped lines joined without spaces, characters intact
    assert "登录密码长度不得少于十二位，必须同时包含大小写字母" in pages[3]
    assert "培训预算" in pages[4]


def test_doc_ids_name_the_page(sample_docs):
    ids = {d.doc_id for d in sample_docs}
    assert "company-handbook.pdf#page=2" in ids
    assert "aurora-espresso-manual.md" in ids


def test_markdown_and_text_are_read_with_cjk_wrapping_removed(sample_docs):
    by_source = {d.source: d for d in sample_docs if d.page is None}
    assert set(by_source) == {"aurora-espresso-manual.md", "remote-work-policy.txt",
                              "travel-expense-policy-zh.md"}
    assert "每晚不超过四百五十元" in by_source["travel-expense-policy-zh.md"].text
    assert "## Warranty" in by_source["aurora-espresso-manual.md"].text


def test_line_joining_rules():
    assert join_cjk_lines("每晚不超过\n六百元") == "每晚不超过六百元"
    assert join_cjk_lines("段落一。\n\n段落二") == "段落一。\n\n段落二"
    joined = join_pdf_lines("a wrapped\nline. Next\n\nparagraph")
    assert joined == "a wrapped line. Next\n\nparagraph"
    assert join_pdf_lines("Heading:\nbody") == "Heading:\nbody"


def test_contents_dot_leaders_are_dropped_and_other_dots_kept():
    toc = "7.1 Suspicious changes . . . . . . . . 44\n7.2 Using lintian .......... 45\n前言 ………… iv"
    assert join_pdf_lines(toc) == "7.1 Suspicious changes 44 7.2 Using lintian 45 前言 iv"
    prose = "It costs 3.14 and so on...\nWait.... in 12 days. Version 1.2.3.4.5 is out"
    assert join_pdf_lines(prose) == prose


def test_missing_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus.path="):
        FolderReader(str(tmp_path / "nope")).read()


def test_pdf_layout_headings_bullets_and_running_headers(tmp_path):
    """A PDF set like a manual (reportlab): a running header with the page number on every
    page, a larger heading, wrapped body lines and bullets. The header is dropped, the heading
    is a Markdown heading of its own, wrapping is undone and each bullet keeps its line."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from rag.corpus.pdf import read_pdf

    path = tmp_path / "manual.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    parts = ["portafilter", "steam wand", "grinder", "water tank"]  # what differs per page
    for n in range(1, 5):
        c.setFont("Helvetica", 8)
        c.drawString(72, 800, f"Acme Espresso Manual  {n} / 4")
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, 760, f"{n}. Cleaning step {n}")
        c.setFont("Helvetica", 10)
        c.drawString(72, 730, "Descale the machine every two months with the citric")
        c.drawString(72, 716, "acid solution from the kit")
        c.drawString(72, 696, "- Empty the drip tray")
        c.drawString(72, 682, f"- Rinse the {parts[n - 1]}")
        c.showPage()
    c.save()
    pages = read_pdf(path, "manual.pdf", [])
    assert [p.page for p in pages] == [1, 2, 3, 4]
    for p in pages:
        assert p.text.splitlines() == [
            f"# {p.page}. Cleaning step {p.page}", "",
            "Descale the machine every two months with the citric acid solution from the kit",
            "- Empty the drip tray", f"- Rinse the {parts[p.page - 1]}"]
