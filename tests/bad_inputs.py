"""A folder of every kind of bad input rag must survive, made from real files: the sample PDF
(encrypted with pypdf, truncated), a PDF with only drawings, Chinese text in GB18030, and so on.

    python -m tests.bad_inputs DIR    # build it, then: python -m rag.index corpus.path=DIR

Each entry is (file name, what the user should see: None when it is indexed, else a fragment
of the reason printed for it). Used by the tests and by docs/bad-input.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.conftest import SAMPLE

PASSWORD = "s3cret-pw"
GOOD_TEXT = "The quarterly report is due on the fifth working day of each quarter."
CHINESE = "出差住宿费的报销标准是一线城市每晚六百元。"
SCANNED_TEXT = "Expense claims are paid on the last Friday of the month."
NOTICE_TEXT = "The north stairwell is closed for repairs until May."

EXPECTED = {
    "good.txt": None,
    "encrypted-with-password.pdf": None,  # its password is in corpus.pdf_passwords
    "encrypted-other-password.pdf": "none of the 1 passwords in corpus.pdf_passwords opens it",
    "image-only.pdf": "no text on any of its 1 pages, neither a text layer nor text OCR",
    "scanned.pdf": None,  # a page that is one picture of text: read by OCR
    "truncated.pdf": "malformed or truncated PDF",
    "not-really.pdf": "not a PDF (it starts with",
    "zero-bytes.md": "empty file (0 bytes)",
    "gb18030.txt": "not valid utf-8 (byte 0xb3 at offset 0)",
    "binary.txt": "binary file, not text",
    "slides.pptx": "not a .pptx file (it starts with",
    "archive-named.docx": "a zip archive but not a .docx file (no word/document.xml)",
    "password-protected.docx": "password-protected, or an old binary Office file",
    "sparse-rows.xlsx": None,  # a value in row 1,000,000: read up to 1,000 empty rows, no further
    "with-scripts.html": None,  # indexed without its script
    "zero-bytes.png": "empty file (0 bytes)",
    "photo.png": "not a readable image",  # a PNG signature and nothing after it
    "blank.png": "OCR found no text in the image",
    "notice.png": None,  # a picture of text: read by OCR
    "drawing.svg": "unsupported file type '.svg'",
    "broken-link.md": "broken symlink (points to",
    "huge.txt": "over corpus.max_file_mb=1",
}

# The configuration the folder is indexed with (what a user would set for it).
OVERRIDES = [
    "corpus.max_file_mb=1",
    f"corpus.pdf_passwords=[{PASSWORD}]",
]


def _encrypted(src: Path, dst: Path, password: str) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=password, owner_password=password + "-owner",
                   algorithm="AES-256")
    with dst.open("wb") as f:
        writer.write(f)


def _image_only(dst: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(dst), pagesize=A4)
    c.setFillColorRGB(0.2, 0.4, 0.6)
    for i in range(8):  # shapes only: what a scan looks like to a text extractor
        c.rect(60 + 50 * i, 500 - 30 * i, 40, 120, fill=1)
    c.showPage()
    c.save()


def text_image(lines: list[str], size: int = 28):
    """A white picture of lines of text (Pillow's own font, or a CJK font for Chinese)."""
    from PIL import Image, ImageDraw, ImageFont

    cjk = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    font = (ImageFont.truetype(str(cjk), size) if cjk.exists()
            else ImageFont.load_default(size=size))
    image = Image.new("RGB", (1000, 60 + int(size * 1.6) * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + int(size * 1.6) * i), line, fill="black", font=font)
    return image


def _sparse_rows(dst: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["item", "due"])
    sheet.append(["quarterly report", "fifth working day"])
    sheet.cell(row=1_000_000, column=1, value="far below")  # the sheet spans a million rows
    book.save(dst)


def build(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = SAMPLE / "company-handbook.pdf"
    (folder / "good.txt").write_text(GOOD_TEXT + "\n")
    _encrypted(pdf, folder / "encrypted-with-password.pdf", PASSWORD)
    _encrypted(pdf, folder / "encrypted-other-password.pdf", "another-one")
    _image_only(folder / "image-only.pdf")
    data = pdf.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (folder / "not-really.pdf").write_text("<html>a web page saved as .pdf</html>")
    (folder / "zero-bytes.md").write_bytes(b"")
    (folder / "gb18030.txt").write_bytes(CHINESE.encode("gb18030"))
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04 not read")
    import zipfile

    with zipfile.ZipFile(folder / "archive-named.docx", "w") as z:
        z.writestr("notes.txt", "a zip archive someone named .docx")
    # encrypted Office files are OLE compound files, not zips: their magic number
    (folder / "password-protected.docx").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))
    _sparse_rows(folder / "sparse-rows.xlsx")
    (folder / "with-scripts.html").write_text(
        "<html><head><script>var secret = 'SCRIPT-TEXT';</script></head><body>"
        f"<h1>Reports</h1><p>{GOOD_TEXT}</p><script>alert('SCRIPT-TEXT')</script></body></html>")
    (folder / "zero-bytes.png").write_bytes(b"")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    text_image([]).save(folder / "blank.png")
    text_image([SCANNED_TEXT]).save(folder / "scanned.pdf", resolution=150)
    text_image([NOTICE_TEXT]).save(folder / "notice.png")
    (folder / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    link = folder / "broken-link.md"
    if not link.is_symlink():
        os.symlink(folder / "deleted-target.md", link)
    loop = folder / "loop"  # a symlink to its own folder: walked once, never forever
    if not loop.is_symlink():
        os.symlink(folder, loop)
    (folder / ".hidden.txt").write_text("dot-files are not documents")
    with (folder / "huge.txt").open("w") as f:  # 2 MB > max_file_mb=1
        f.write(("A line of a very large log file.\n") * 65536)
    return folder


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
