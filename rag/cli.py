"""What the command-line jobs share: mistakes a user can fix become one clear line, and
the exit status says what happened.

Exit status: 0 done; 1 done, but some files were skipped (listed); 2 a configuration or input
error, nothing written; 3 the index is busy (another process holds it); 130 interrupted.
"""

from __future__ import annotations

import functools
import logging
import re
import sys

log = logging.getLogger("rag")

OK, SKIPPED, USER_ERROR, BUSY, INTERRUPTED = 0, 1, 2, 3, 130


VERBOSE = {"on": False}  # -v / --verbose on the command line: keep tracebacks


def user_errors(fn):
    """Turn the errors a user can fix (rag.errors.RagError: configuration, missing input,
    a mismatched index) into one line on stderr and an exit status. Anything else is not the
    user's to fix and keeps its traceback; ``-v`` keeps it for these too."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from hydra.errors import InstantiationException

        from rag.errors import RagError
        from rag.store import IndexBusyError

        try:
            return fn(*args, **kwargs)
        except IndexBusyError as exc:
            log.error("busy: %s", exc)
            sys.exit(BUSY)
        except KeyboardInterrupt:
            log.error("interrupted: everything written so far is kept; run the same command "
                      "again to finish")
            sys.exit(INTERRUPTED)
        except (RagError, InstantiationException) as exc:
            cause = exc.__cause__ if isinstance(exc, InstantiationException) else exc
            if not isinstance(cause, RagError):
                raise  # a constructor failed for a reason that is not the user's to fix
            if VERBOSE["on"]:
                log.exception("error: %s", cause)
            else:
                log.error("error: %s (-v shows where)", cause)
        sys.exit(USER_ERROR)

    return wrapper


def take_verbose(argv: list[str]) -> list[str]:
    """Pull -v / --verbose out of argv (Hydra would read it as an override)."""
    VERBOSE["on"] = any(a in ("-v", "--verbose") for a in argv)
    return [a for a in argv if a not in ("-v", "--verbose")]


# Names from before the stage contract (config group llm, loose path keys) -> their new names.
_RENAMED = {"llm": "answerer", "data_dir": "paths.data", "cache_dir": "paths.cache",
            "store_dir": "paths.index", "ray": "runner"}
_OLD_NAME = re.compile(rf"^([+~]{{0,2}})({'|'.join(_RENAMED)})(?=[=.])")


def renamed_overrides(argv: list[str]) -> list[str]:
    """Accept the old names on the command line (``llm=local``, ``llm.llm.model=...``,
    ``data_dir=...``), each rewritten to its new one with a note on stderr; ``-v`` is taken
    out here too (take_verbose), since every job's argv passes through."""
    out = []
    for arg in take_verbose(argv):
        new = _OLD_NAME.sub(lambda m: m.group(1) + _RENAMED[m.group(2)], arg)
        if new != arg:
            print(f"note: {arg.split('=', 1)[0]} is now {new.split('=', 1)[0]}", file=sys.stderr)
        out.append(new)
    return out
