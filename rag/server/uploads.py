"""What an uploaded file may be, and where it is written.

An upload lands in ``<corpus.path>/<serve.upload_dir>/`` under a safe base name: directory
parts, leading dots and characters outside letters, digits, ``._-`` and spaces are dropped
(Chinese names stay readable), so a name cannot climb out of the folder or hide as a dot-file.
A file of the same name is replaced only by a new upload of that name, never by a rename of
another; the write goes to a temporary file first, so a failed upload leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


class UploadError(ValueError):
    """An upload refused before anything was written; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def safe_name(name: str) -> str:
    """The base name of an uploaded file, reduced to what is safe to write."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name  # drop / and \\ parts
    base = unicodedata.normalize("NFC", base)
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base:
        raise UploadError(400, f"file name {name!r} has nothing left once made safe: "
                               f"rename the file (letters, digits, '.', '-', '_')")
    return base[:200]


def check_upload(name: str, size: int, extensions: tuple[str, ...], max_mb: float) -> str:
    """The safe name to store ``name`` under, or UploadError (415 type, 413 size, 400 empty)."""
    safe = safe_name(name)
    ext = Path(safe).suffix.lower()
    if ext not in extensions:
        raise UploadError(415, f"{name}: {ext or 'no extension'} is not accepted; upload "
                               f"{', '.join(extensions)}")
    if size > max_mb * 2**20:
        raise UploadError(413, f"{name}: {size / 2**20:.2f} MB is over the limit of "
                               f"{max_mb:g} MB (serve.max_upload_mb)")
    if size == 0:
        raise UploadError(400, f"{name}: the file is empty")
    return safe


def write_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write atomically: a temporary file in the same folder, renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.resolve().parent != folder.resolve():  # belt and braces after safe_name
        raise UploadError(400, f"{name}: not a plain file name")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
