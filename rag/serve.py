"""Serve the API and web page: ``python -m rag.serve [overrides]`` (``make serve``).

The same Hydra config as rag.index and rag.query, so the same overrides name the same index;
every stage is warmed once at start-up, and one process holds the embedded index for all
requests. Binds 127.0.0.1 unless told otherwise, and refuses any other address without an API
key (``RAG_API_KEY``, or ``serve.api_key``): the server reads and writes your index.
"""

from __future__ import annotations

import ipaddress
import logging
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from rag.cli import renamed_overrides, user_errors
from rag.errors import ConfigError

log = logging.getLogger("rag.serve")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, api_key: str | None) -> None:
    if not is_loopback(host) and not api_key:
        raise ConfigError(f"serve.host={host} would expose the index beyond this machine "
                         f"without a key: set RAG_API_KEY (clients send 'Authorization: "
                         f"Bearer <key>'), or keep serve.host=127.0.0.1")


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    import uvicorn

    from rag.pipeline import Pipeline
    from rag.server.app import Settings, create_app

    serve = OmegaConf.to_container(cfg.serve, resolve=True)
    host, port = serve.pop("host"), serve.pop("port")
    check_bind(host, serve.get("api_key"))
    pipeline = Pipeline.from_config(cfg)
    try:
        pipeline.open_index(build_if_missing=cfg.index_if_missing)  # warms every stage
        app = create_app(pipeline, Settings(host=host, top_k=cfg.top_k, **serve))
        log.info("serving %s on http://%s:%d  (page /, API /docs%s)", pipeline.store.where,
                 host, port, ", key required" if serve.get("api_key") else "")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        pipeline.close()


if __name__ == "__main__":
    sys.argv[1:] = renamed_overrides(sys.argv[1:])
    main()
