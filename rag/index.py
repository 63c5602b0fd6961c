"""Index the configured corpus: ``python -m rag.index [overrides]`` (or ``make index``).

Prints a summary (indexed / skipped and why) and exits 0 when every file was indexed, 1 when
some were skipped (see rag.cli for the other statuses).
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from rag.cli import SKIPPED, user_errors

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
    if report.skipped:
        log.warning("skipped %d:", len(report.skipped))
        for s in report.skipped:
            log.warning("  %s: %s", s.path, s.reason)
        if report.kept:
            log.warning("kept %d chunks indexed earlier from files skipped this time",
                        report.kept)
        sys.exit(SKIPPED)


if __name__ == "__main__":
    main()
