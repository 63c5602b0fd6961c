"""Index the configured corpus: ``python -m rag.index [overrides]`` (or ``make index``).

Prints a summary (indexed / skipped and why) and exits 0 when every file of a supported type
was indexed, 1 when some were skipped (see rag.cli for the other statuses). Files of other
types are counted by type, not treated as failures.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path

import hydra
from omegaconf import DictConfig

from rag.cli import SKIPPED, renamed_overrides, user_errors

log = logging.getLogger("rag.index")


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    from rag.pipeline import Pipeline

    pipeline = Pipeline.from_config(cfg)
    try:
        report = pipeline.index(prune=cfg.get("prune", True))
    finally:
        pipeline.close()
    log.info(
        "indexed %d documents from %d files into %d chunks: %d new, %d removed, %d points in "
        "%s (%.1f s)", report.documents, report.files, report.chunks, report.embedded,
        report.removed, report.points, report.collection, report.seconds,
    )
    ignored = Counter(Path(s.path).suffix or "no extension"
                      for s in report.skipped if s.unsupported)
    if ignored:
        log.info("not read (unsupported type; corpus.exclude silences them): %s",
                 ", ".join(f"{n} {kind}" for kind, n in ignored.most_common()))
    failed = [s for s in report.skipped if not s.unsupported]
    if failed:
        log.warning("skipped %d:", len(failed))
        for s in failed:
            log.warning("  %s: %s", s.path, s.reason)
        if report.kept:
            log.warning("kept %d chunks indexed earlier from files skipped this time",
                        report.kept)
        sys.exit(SKIPPED)

if __name__ == "__main__":
    sys.argv[1:] = renamed_overrides(sys.argv[1:])
    main()
