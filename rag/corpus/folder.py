"""A folder of documents as a corpus: PDF, Markdown, text, Word, PowerPoint, Excel, CSV, HTML,
and images.

Office files and HTML become Markdown (rag/corpus/office.py, html.py), so their headings and
tables reach the chunker as they do from a Markdown file; images and scanned PDF pages are read
by OCR (rag/corpus/ocr.py) unless corpus.ocr=false."""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

from rag.corpus import Skipped, UnreadableError
from rag.corpus.html import read_html
from rag.corpus.ocr import IMAGE_SUFFIXES, read_image
from rag.corpus.office import read_csv, read_docx, read_pptx, read_xlsx
from rag.corpus.pdf import read_pdf
from rag.corpus.wrapping import join_cjk_lines
from rag.documents import Document
from rag.errors import ConfigError, InputNotFoundError

SUPPORTED = (".pdf", ".md", ".markdown", ".txt", ".docx", ".pptx", ".xlsx", ".csv", ".html",
             ".htm", *IMAGE_SUFFIXES)
# binary formats, each with its reader; text formats are decoded first (corpus.encodings)
BINARY = {".docx": read_docx, ".pptx": read_pptx, ".xlsx": read_xlsx}
DECODED = {".csv": read_csv, ".html": read_html, ".htm": read_html}
READER_VERSION = 3
BLOCK_CHARS = 1 << 20  # a long text file is read in pieces of about this many characters


class FolderReader:
    """Reads every supported file under ``path``; a PDF becomes one Document per page.

    ``sources()`` lists what there is to read (and what is skipped outright: unsupported,
    empty, too large, broken links); ``load()`` reads one source. Dot-files, dot-folders and
    files matching ``exclude`` (globs on the relative path) are left out silently.
    """

    def __init__(
        self,
        path: str,
        extensions: Sequence[str] = SUPPORTED,
        recursive: bool = True,
        encodings: Sequence[str] = ("utf-8",),
        exclude: Sequence[str] = (),
        max_file_mb: float = 200,
        pdf_passwords: Sequence[str] = (),
        ocr: bool = True,
        pdf_tables: bool = True,
    ) -> None:
        self.root = Path(path).expanduser()
        self.extensions = tuple(e.lower() for e in extensions)
        unknown = [e for e in self.extensions if e not in SUPPORTED]
        if unknown:
            raise ConfigError(f"corpus.extensions {unknown} cannot be read: rag reads "
                             f"{', '.join(SUPPORTED)}")
        self.recursive = recursive
        self.encodings = tuple(encodings)
        for name in self.encodings:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ConfigError(f"corpus.encodings: unknown encoding {name!r}") from None
        self.exclude = tuple(exclude)
        self.max_file_mb = max_file_mb
        self.pdf_passwords = [str(p) for p in pdf_passwords]
        self.ocr = ocr
        self.pdf_tables = pdf_tables

    @property
    def name(self) -> str:
        return self.root.resolve().name or "corpus"

    @property
    def fingerprint(self) -> dict:
        # reader 2: PDF headings and bullets on lines of their own, running headers dropped;
        # 3: ruled PDF tables as Markdown tables. A new reader version names a new index, so
        # unchanged files are read again
        return {"path": str(self.root.resolve()), "extensions": list(self.extensions),
                "reader": READER_VERSION, **({} if self.ocr else {"ocr": False}),
                **({} if self.pdf_tables else {"pdf_tables": False})}

    def _walk(self) -> Iterator[Path]:
        seen: set[str] = set()  # real paths of folders: a symlink loop is walked once
        for folder, dirs, files in os.walk(self.root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if self.recursive else []
            yield from (Path(folder) / f for f in sorted(files) if not f.startswith("."))

    def sources(self) -> tuple[list[str], list[Skipped]]:
        if not self.root.is_dir():
            raise InputNotFoundError(
                f"corpus folder {self.root} does not exist: set corpus.path=/path/to/your/documents"
            )
        sources, skipped = [], []
        for path in self._walk():
            rel = path.relative_to(self.root).as_posix()
            if any(fnmatch(rel, pattern) for pattern in self.exclude):
                continue
            if path.suffix.lower() in IMAGE_SUFFIXES and not self.ocr:
                skipped.append(Skipped(
                    rel, "image: corpus.ocr=false, so images are not read; set corpus.ocr=true "
                         "to read its text, or add it to corpus.exclude", unsupported=True))
            elif path.suffix.lower() not in self.extensions:
                kind = f"'{path.suffix}'" if path.suffix else "with no extension"
                skipped.append(Skipped(
                    rel, f"unsupported file type {kind}: rag reads {', '.join(self.extensions)}; "
                         f"convert it, or add it to corpus.exclude", unsupported=True))
            elif reason := self._refuse(path):
                skipped.append(Skipped(rel, reason))
            else:
                sources.append(rel)
        return sorted(sources), skipped

    def _refuse(self, path: Path) -> str | None:
        """Why a file is skipped without opening it, or None."""
        if not path.exists():
            return (f"broken symlink (points to {os.readlink(path)}): fix the link or "
                    f"remove it")
        size = path.stat().st_size
        if size == 0:
            return "empty file (0 bytes)"
        if size > self.max_file_mb * 2**20:
            return (f"file is {size / 2**20:,.0f} MB, over corpus.max_file_mb="
                    f"{self.max_file_mb:g}: split it, or raise corpus.max_file_mb")
        return None

    def load(self, source: str) -> Iterator[Document | Skipped]:
        """The documents of one file, and any page that had to be skipped. Raises
        UnreadableError for a file that cannot be indexed, always before the first document."""
        path = self.root / source
        try:
            suffix = path.suffix.lower()
            if suffix == ".pdf":
                docs: Iterator[Document | Skipped] = iter(read_pdf(
                    path, source, self.pdf_passwords, ocr=self.ocr, tables=self.pdf_tables))
            elif suffix in IMAGE_SUFFIXES:
                docs = iter(read_image(path, source))
            elif suffix in BINARY:
                docs = iter(BINARY[suffix](path, source))
            elif suffix in DECODED:
                docs = iter(DECODED[suffix](path, source, self._encoding(path)))
            else:
                docs = self._read_text(path, source)
        except OSError as exc:
            raise UnreadableError(f"cannot read the file ({exc.strerror or exc}): check its "
                                  f"permissions") from exc
        return docs

    def read(self) -> tuple[list[Document], list[Skipped]]:
        """Every document at once (small folders, tests); indexing streams with load()."""
        sources, skipped = self.sources()
        documents = []
        for source in sources:
            try:
                for item in self.load(source):
                    (skipped if isinstance(item, Skipped) else documents).append(item)
            except UnreadableError as exc:
                skipped.append(Skipped(source, str(exc)))
        return documents, skipped

    def _read_text(self, path: Path, source: str) -> Iterator[Document]:
        encoding = self._encoding(path)
        return self._text_blocks(path, source, encoding)

    def _encoding(self, path: Path) -> str:
        """The first configured encoding that decodes the whole file, checked in pieces so a
        huge file is never held in memory."""
        with path.open("rb") as f:
            if b"\0" in f.read(8192):
                raise UnreadableError("binary file, not text: remove it or add it to "
                                      "corpus.exclude")
        errors = []
        for label in self.encodings:
            # utf-8-sig reads files with and without a byte-order mark
            name = "utf-8-sig" if codecs.lookup(label).name == "utf-8" else label
            decoder = codecs.getincrementaldecoder(name)()
            offset = 0
            try:
                with path.open("rb") as f:
                    while piece := f.read(BLOCK_CHARS):
                        decoder.decode(piece)
                        offset += len(piece)
                    decoder.decode(b"", final=True)
                return name
            except UnicodeDecodeError as exc:
                errors.append(f"not valid {label} (byte 0x{exc.object[exc.start]:02x} at "
                              f"offset {offset + exc.start})")
        raise UnreadableError(
            f"{'; '.join(errors)}: save it as UTF-8 (e.g. iconv -f GB18030 -t UTF-8), or list "
            f"its encoding in corpus.encodings, e.g. corpus.encodings=[utf-8,gb18030]"
        )

    def _text_blocks(self, path: Path, source: str, encoding: str) -> Iterator[Document]:
        """Paragraph-aligned blocks of at most BLOCK_CHARS: one Document for a usual file,
        several for a huge one, so memory stays bounded by the block size."""
        buffer = ""
        with path.open(encoding=encoding) as f:
            while piece := f.read(BLOCK_CHARS):
                buffer += piece
                while len(buffer) >= BLOCK_CHARS:
                    cut = _block_end(buffer)
                    if buffer[:cut].strip():
                        yield Document(text=join_cjk_lines(buffer[:cut]), source=source)
                    buffer = buffer[cut:]
        if buffer.strip():
            yield Document(text=join_cjk_lines(buffer), source=source)


def _block_end(text: str) -> int:
    """Where to end a block: the last paragraph break, else line break, else space, in the
    second half of the block; a hard cut only for text with none of them."""
    for sep in ("\n\n", "\n", " "):
        cut = text.rfind(sep, BLOCK_CHARS // 2, BLOCK_CHARS)
        if cut > 0:
            return cut + len(sep)
    return BLOCK_CHARS
