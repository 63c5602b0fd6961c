"""Text from pictures of text: image files, and PDF pages that have no text layer (scans).

RapidOCR runs PP-OCRv6's detection and recognition models (Chinese and English in one model)
on onnxruntime; its wheel ships the model files, so nothing is downloaded. Recognised boxes are
put back into lines (boxes side by side on one baseline) and paragraphs (a gap taller than a
line), so the text reaches the chunker as a page's text layer would.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rag.corpus import UnreadableError
from rag.corpus.wrapping import join_pdf_lines
from rag.documents import Document
from rag.text import CJK_CHAR

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
# a line this much taller than the page's median line is a heading (pdf_layout's 1.2 for font
# sizes, plus room for boxes that differ by descenders: "Annual Leave" vs "plus public")
HEADING_HEIGHT = 1.25
MAX_HEADING_CHARS = 120


@functools.cache
def _engine(min_score: float):
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # an install without it: say how to get it
        raise UnreadableError("OCR needs rapidocr: pip install rapidocr (or set "
                              "corpus.ocr=false to skip images and scans)") from exc
    # No angle classifier: it flips single boxes by 180 degrees and then reads them as noise
    # (seen on the sample handbook rendered at 200 dpi: a whole body line became
    # "ol r s i-y ys"); a page scanned upside down is a page to rotate, not a box.
    return RapidOCR(params={"Global.log_level": "error", "Global.text_score": min_score,
                            "Global.use_cls": False})


def ocr_image(image, min_score: float = 0.5) -> str:
    """The text of one picture (PIL image or array): lines in reading order, paragraphs
    separated by a blank line. Empty when nothing legible is found."""
    if hasattr(image, "convert"):
        if "A" in image.getbands():  # transparent parts are paper, not black
            from PIL import Image

            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"),
                                          image.convert("RGBA"))
        image = np.asarray(image.convert("RGB"))
    result = _engine(min_score)(image)
    if result.boxes is None or not result.txts:
        return ""
    boxes = [(float(b[:, 1].min()), float(b[:, 1].max()), float(b[:, 0].min()), t)
             for b, t in zip(result.boxes, result.txts, strict=True) if t.strip()]
    text = _layout(boxes)
    # a lone character is what OCR makes of a logo or a stamp (pypdf's git.pdf: the cat's
    # circle read as "0"), not text to index
    return text if sum(ch.isalnum() for ch in text) >= 2 else ""


def _layout(boxes: list[tuple[float, float, float, str]]) -> str:
    """(top, bottom, left, text) boxes -> lines and paragraphs. A box joins a line when its
    vertical middle falls inside the line's first box; a gap of more than ~0.8 line height
    between lines starts a paragraph; a line much taller than most is a Markdown heading."""
    lines: list[list[tuple[float, float, float, str]]] = []
    for box in sorted(boxes):
        middle = (box[0] + box[1]) / 2
        for line in lines:
            if line[0][0] <= middle <= line[0][1]:
                line.append(box)
                break
        else:
            lines.append([box])
    lines.sort(key=lambda ln: ln[0][0])
    heights = sorted(ln[0][1] - ln[0][0] for ln in lines)
    height = heights[len(heights) // 2] if heights else 0.0
    out: list[str] = []
    previous_bottom = None
    for line in lines:
        text = ""
        for _, _, _, piece in sorted(line, key=lambda b: b[2]):
            piece = piece.strip()
            glue = "" if not text or (CJK_CHAR.match(text[-1]) and CJK_CHAR.match(piece)) else " "
            text += glue + piece
        top, bottom = min(b[0] for b in line), max(b[1] for b in line)
        if bottom - top >= HEADING_HEIGHT * height and len(text) <= MAX_HEADING_CHARS:
            out.extend(["", f"## {text}", ""])
        else:
            if previous_bottom is not None and top - previous_bottom > 0.8 * height:
                out.append("")
            out.append(text)
        previous_bottom = bottom
    return "\n".join(out).strip()


def read_image(path: Path, source: str, min_score: float = 0.5) -> list[Document]:
    """One Document per frame with text (a multi-page TIFF has several, numbered as pages)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = [f.copy() for f in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableError(f"not a readable image ({type(exc).__name__}: {str(exc)[:100]})"
                              f": re-save it as PNG or JPEG, or add it to corpus.exclude") from exc
    documents = []
    for number, frame in enumerate(frames, start=1):
        text = join_pdf_lines(ocr_image(frame, min_score))
        if text:
            documents.append(Document(text=text, source=source,
                                      page=number if len(frames) > 1 else None))
    if not documents:
        raise UnreadableError("OCR found no text in the image: nothing to index (a photo or "
                              "a drawing?); add it to corpus.exclude to silence this")
    return documents


def ocr_pdf_page(page, min_score: float = 0.5) -> str:
    """The text of a PDF page without a text layer: its images, largest first, read by OCR."""
    images = []
    for item in page.images:
        try:
            images.append(item.image)
        except Exception:  # an image pypdf cannot decode (a rare filter): the others still count
            continue
    images.sort(key=lambda im: im.width * im.height, reverse=True)
    return "\n\n".join(t for t in (ocr_image(im, min_score) for im in images) if t)
