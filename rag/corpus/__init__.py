"""Corpus stage: read a source of documents (a folder of files, a BEIR corpus) into Documents.

A corpus lists its ``sources()`` (and what it skips outright, with the reason and the fix)
and ``load()``s one source at a time, so indexing streams and one bad file costs only itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Skipped:
    path: str  # a source, or a doc id (``file.pdf#page=3``) when one page was skipped
    reason: str  # what is wrong and how to fix it
    unsupported: bool = False  # a file type rag does not read: reported, but not a failure


class UnreadableError(Exception):
    """A file that cannot be indexed; the message is the reason and the fix."""
