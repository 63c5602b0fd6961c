"""What the command-line jobs share: mistakes a user can fix become one clear line."""

from __future__ import annotations

import functools
import logging
import sys

log = logging.getLogger("rag")


def user_errors(fn):
    """Turn configuration and input errors into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from hydra.errors import InstantiationException

        from rag.models import ModelNotFoundError
        from rag.store import IndexMismatchError

        try:
            return fn(*args, **kwargs)
        except (ModelNotFoundError, IndexMismatchError, FileNotFoundError, ValueError) as exc:
            log.error("error: %s", exc)
        except InstantiationException as exc:
            cause = exc.__cause__ or exc
            log.error("error: %s", cause)
        sys.exit(2)

    return wrapper
