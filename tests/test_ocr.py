"""OCR: pictures of known text read back by the real engine (RapidOCR with the PP-OCRv6 models
its wheel ships), as image files and as scanned PDF pages, through the folder reader and the
pipeline. Accuracy on real rendered PDFs is measured by scripts/ocr_accuracy.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import UnreadableError
from rag.corpus.folder import FolderReader
from rag.corpus.ocr import _layout, ocr_image
from tests.bad_inputs import text_image

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
ENGLISH = ["Descale the boiler every three months.", "Use 20 g of citric acid per litre."]
CHINESE = ["一线城市住宿标准为每晚六百元。", "报销须在出差结束后十个工作日内提交。"]


def squash(text: str) -> str:
    return " ".join(text.split())


def test_layout_puts_boxes_back_into_lines_paragraphs_and_headings():
    boxes = [  # (top, bottom, left, text), given out of reading order
        (112, 140, 300, "of the month."),
        (110, 140, 40, "Claims are paid"),
        (60, 100, 40, "Expenses"),  # taller than the body lines: a heading
        (148, 178, 40, "on the last Friday."),
        (230, 258, 40, "报销"),  # a paragraph gap above; two CJK boxes join with no space
        (231, 259, 110, "须在十日内提交。"),
    ]
    assert _layout(boxes) == ("## Expenses\n\nClaims are paid of the month.\n"
                              "on the last Friday.\n\n报销须在十日内提交。")


def test_english_text_in_a_picture_is_read_exactly():
    assert squash(ocr_image(text_image(ENGLISH))) == " ".join(ENGLISH)


@pytest.mark.skipif(not CJK_FONT.exists(), reason="needs a CJK font (make browser)")
def test_chinese_text_in_a_picture_is_read_exactly():
    assert ocr_image(text_image(CHINESE)).split() == CHINESE


def test_a_picture_without_text_reads_as_nothing():
    assert ocr_image(text_image([])) == ""


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scans")
    pages = [text_image(ENGLISH), text_image(CHINESE if CJK_FONT.exists() else ENGLISH[:1])]
    pages[0].save(folder / "manual-scan.pdf", save_all=True, append_images=pages[1:],
                  resolution=150)
    text_image(["The north stairwell is closed until May."]).save(folder / "notice.jpg")
    frames = [text_image(["Page one of the fax."]), text_image(["Page two of the fax."])]
    frames[0].save(folder / "fax.tiff", save_all=True, append_images=frames[1:])
    return folder


def test_scanned_pdf_pages_and_image_files_become_documents(scans):
    docs, skipped = FolderReader(str(scans)).read()
    assert not skipped
    text = {d.doc_id: squash(d.text) for d in docs}
    assert text["manual-scan.pdf#page=1"] == " ".join(ENGLISH)
    assert text["notice.jpg"] == "The north stairwell is closed until May."
    assert text["fax.tiff#page=1"] == "Page one of the fax."  # frames are pages
    assert text["fax.tiff#page=2"] == "Page two of the fax."
    if CJK_FONT.exists():
        assert text["manual-scan.pdf#page=2"] == "".join(CHINESE)  # wrapping undone


def test_with_ocr_off_images_are_not_read_and_scans_say_how_to_read_them(scans):
    reader = FolderReader(str(scans), ocr=False)
    sources, skipped = reader.sources()
    assert {s.path for s in skipped if s.unsupported} == {"notice.jpg", "fax.tiff"}
    assert "corpus.ocr=true" in next(s.reason for s in skipped if s.path == "notice.jpg")
    with pytest.raises(UnreadableError, match="set corpus.ocr=true"):
        list(reader.load("manual-scan.pdf"))
    assert reader.fingerprint != FolderReader(str(scans)).fingerprint  # a separate index


def test_a_question_about_a_scanned_page_finds_it(scans, tmp_path):
    """End to end: the default pipeline (e5, BM25, embedded Qdrant) over the scans."""
    from rag.pipeline import Pipeline
    from tests.conftest import make_cfg

    pipeline = Pipeline.from_config(make_cfg(f"paths.data={tmp_path}", f"corpus.path={scans}",
                                             "progress=false"))
    try:
        report = pipeline.index()
        assert report.files == 3 and not report.skipped
        hits = pipeline.search("How much citric acid per litre for descaling?", 3)
        assert hits[0].payload["source"] == "manual-scan.pdf"
        assert hits[0].payload["page"] == 1
    finally:
        pipeline.close()
