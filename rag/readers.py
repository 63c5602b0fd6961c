"""Corpus stage: read a folder of PDF, Markdown and text files into Documents."""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from rag.documents import Document

log = logging.getLogger(__name__)

_CJK_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
_CJK_BREAK = re.compile(rf"(?<={_CJK_CHAR})[ \t]*\n[ \t]*(?={_CJK_CHAR})")
# A line that ends a sentence or a heading keeps its break; other breaks are PDF line wrapping.
_SOFT_BREAK = re.compile(r"(?<![.!?:;。！？；：\n])[ \t]*\n(?!\n)[ \t]*")


def join_cjk_lines(text: str) -> str:
    """A line break between two CJK characters is wrapping, not a space: remove it."""
    return _CJK_BREAK.sub("", text)


def join_pdf_lines(text: str) -> str:
    """Undo PDF line wrapping: CJK lines join with no space, other lines with one."""
    return _SOFT_BREAK.sub(" ", join_cjk_lines(text)).strip()


@dataclass
class Skipped:
    path: str  # a source, or a doc id (``file.pdf#page=3``) when one page was skipped
    reason: str  # what is wrong and how to fix it
    unsupported: bool = False  # a file type rag does not read: reported, but not a failure


class UnreadableError(Exception):
    """A file that cannot be indexed; the message is the reason and the fix."""


SUPPORTED = (".pdf", ".md", ".markdown", ".txt")
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
    ) -> None:
        self.root = Path(path).expanduser()
        self.extensions = tuple(e.lower() for e in extensions)
        unknown = [e for e in self.extensions if e not in SUPPORTED]
        if unknown:
            raise ValueError(f"corpus.extensions {unknown} cannot be read: rag reads "
                             f"{', '.join(SUPPORTED)}")
        self.recursive = recursive
        self.encodings = tuple(encodings)
        for name in self.encodings:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ValueError(f"corpus.encodings: unknown encoding {name!r}") from None
        self.exclude = tuple(exclude)
        self.max_file_mb = max_file_mb
        self.pdf_passwords = [str(p) for p in pdf_passwords]

    @property
    def name(self) -> str:
        return self.root.resolve().name or "corpus"

    @property
    def fingerprint(self) -> dict:
        return {"path": str(self.root.resolve()), "extensions": list(self.extensions)}

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
            raise FileNotFoundError(
                f"corpus folder {self.root} does not exist: set corpus.path=/path/to/your/documents"
            )
        sources, skipped = [], []
        for path in self._walk():
            rel = path.relative_to(self.root).as_posix()
            if any(fnmatch(rel, pattern) for pattern in self.exclude):
                continue
            if path.suffix.lower() not in self.extensions:
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
            if path.suffix.lower() == ".pdf":
                docs: Iterator[Document | Skipped] = iter(self._read_pdf(path, source))
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

    # ---- text ------------------------------------------------------------------------

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

    # ---- PDF -------------------------------------------------------------------------

    def _read_pdf(self, path: Path, source: str) -> list[Document | Skipped]:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, PdfReadError

        with path.open("rb") as f:
            head = f.read(1024)
        if b"%PDF-" not in head:
            raise UnreadableError(f"not a PDF (it starts with {head[:16]!r}): rename it to its "
                                  f"real type, or add it to corpus.exclude")
        try:
            reader = PdfReader(path)
            if reader.is_encrypted:
                self._decrypt(reader, source)
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
        documents, failed = [], []
        for number, page in enumerate(pages, start=1):
            try:
                text = join_pdf_lines(page.extract_text() or "")
            except Exception as exc:  # one damaged page must not cost the others
                failed.append((number, f"{type(exc).__name__}: {exc}"))
                continue
            if text:
                documents.append(Document(text=text, source=source, page=number))
        if failed and not documents:
            raise UnreadableError(f"no page could be read ({failed[0][1]}): re-export it, or "
                                  f"repair it (e.g. qpdf damaged.pdf repaired.pdf)")
        if not documents:
            raise UnreadableError(
                f"no text layer on any of its {len(pages)} pages (scanned or image-only): "
                f"OCR it first, e.g. ocrmypdf {source} out.pdf"
            )
        return documents + [Skipped(f"{source}#page={n}", f"page could not be read ({r})")
                            for n, r in failed]

    def _decrypt(self, reader, source: str) -> None:
        from pypdf import PasswordType

        # "" first: many PDFs are encrypted only to restrict editing, and open without one.
        for password in ("", *self.pdf_passwords):
            if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
                return
        if not self.pdf_passwords:
            raise UnreadableError(
                "encrypted PDF: give its password in corpus.pdf_passwords (a list tried on "
                "every encrypted PDF, e.g. corpus.pdf_passwords='[${oc.env:PDF_PASSWORD}]'), "
                "or remove the encryption"
            )
        raise UnreadableError(f"encrypted PDF: none of the {len(self.pdf_passwords)} "
                              f"passwords in corpus.pdf_passwords opens it")


def _block_end(text: str) -> int:
    """Where to end a block: the last paragraph break, else line break, else space, in the
    second half of the block; a hard cut only for text with none of them."""
    for sep in ("\n\n", "\n", " "):
        cut = text.rfind(sep, BLOCK_CHARS // 2, BLOCK_CHARS)
        if cut > 0:
            return cut + len(sep)
    return BLOCK_CHARS


class BeirCorpusReader:
    """A BEIR ``corpus.jsonl`` (``{"_id", "title", "text"}`` per line): one Document per
    line, whose doc id is the BEIR ``_id`` so that retrieval runs match the qrels."""

    def __init__(self, path: str, title: bool = True) -> None:
        self.path = Path(path).expanduser()
        self.title = title

    @property
    def name(self) -> str:
        return self.path.parent.name if self.path.name == "corpus.jsonl" else self.path.stem

    @property
    def fingerprint(self) -> dict:
        stat = self.path.stat()
        return {"beir": str(self.path.resolve()), "size": stat.st_size, "title": self.title}

    def sources(self) -> tuple[list[str], list[Skipped]]:
        """Every document id; the corpus is read once and kept (evaluation corpora are small)."""
        if not self.path.is_file():
            raise FileNotFoundError(
                f"{self.path} does not exist: run `make data` for the packaged data sets, or "
                f"point corpus.path at a BEIR corpus.jsonl"
            )
        self._docs: dict[str, Document] = {}
        with self.path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text, doc_id = row.get("text", ""), str(row["_id"])
                except (ValueError, KeyError) as exc:
                    raise ValueError(f"{self.path} line {number} is not a BEIR corpus row "
                                     f"({{\"_id\", \"title\", \"text\"}}): {exc}") from exc
                if self.title and row.get("title"):
                    text = f"{row['title']}\n\n{text}"
                if text.strip():
                    self._docs[doc_id] = Document(text=text, source=doc_id)
        return list(self._docs), []

    def load(self, source: str) -> Iterator[Document]:
        return iter([self._docs[source]])

    def read(self) -> tuple[list[Document], list[Skipped]]:
        sources, skipped = self.sources()
        return [self._docs[s] for s in sources], skipped
