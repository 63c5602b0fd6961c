"""The errors a user can fix: the command-line jobs report these as one line (exit status 2);
anything else is a bug or an environment fault and keeps its traceback."""

from __future__ import annotations


class RagError(Exception):
    """Raised by rag for input or configuration the user can correct; the message says how."""


class ConfigError(RagError, ValueError):
    """A setting that cannot work (checked before anything is written)."""


class InputNotFoundError(RagError, FileNotFoundError):
    """A file or folder the configuration names does not exist."""
