"""Index the configured corpus: ``python -m rag.index [overrides]`` (or ``make index``)."""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from rag.cli import user_errors

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
        "indexed %d documents into %d chunks: %d new, %d removed, %d points in %s (%.1f s)",
        report.documents, report.chunks, report.embedded, report.removed, report.points,
        report.collection, report.seconds,
    )
    for s in report.skipped:
        log.warning("skipped %s: %s", s.path, s.reason)


if __name__ == "__main__":
    main()
