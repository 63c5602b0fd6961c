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

EXPECTED = {
    "good.txt": None,
    "encrypted-with-password.pdf": None,  # its password is in corpus.pdf_passwords
    "encrypted-other-password.pdf": "none of the 1 passwords in corpus.pdf_passwords opens it",
    "image-only.pdf": "no text layer on any of its 1 pages (scanned or image-only): OCR it",
    "truncated.pdf": "malformed or truncated PDF",
    "not-really.pdf": "not a PDF (it starts with",
    "zero-bytes.md": "empty file (0 bytes)",
    "gb18030.txt": "not valid utf-8 (byte 0xb3 at offset 0)",
    "binary.txt": "binary file, not text",
    "slides.pptx": "unsupported file type '.pptx'",
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
