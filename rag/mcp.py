"""MCP tools ``search`` and ``answer`` over the pipeline, for agents.

    python -m rag.mcp [overrides]     over stdio (an MCP client starts it as a subprocess)
    python -m rag.serve               the same tools over streamable HTTP at /mcp

Built with the official SDK (``mcp``, MCPServer). Stdout is the protocol channel over stdio,
so rag logs to stderr (conf/hydra/job_logging) and nothing else may print.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import hydra
from omegaconf import DictConfig

from rag.cli import renamed_overrides, user_errors

log = logging.getLogger("rag.mcp")


def build_server(pipeline, lock: threading.Lock, top_k: int, max_top_k: int = 50,
                 batcher=None, ready=None):
    """An MCPServer whose tools run the pipeline in a worker thread, one request at a time
    (searches through the HTTP server's batcher when it has one). Tools check their arguments
    as the REST routes do and fail with a message the agent can act on; ``ready`` (stdio)
    opens the index on a call when it was busy at start."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from rag.server.errors import ApiError, check_question, check_top_k
    from rag.store import IndexBusyError

    server = MCPServer("rag", instructions=(
        "Search and answer questions over the documents indexed by rag. `answer` quotes the "
        "passages and numbers its citations [n]; `search` returns the passages only."))

    def checked(text: str, field: str, k: int | None) -> tuple[str, int]:
        try:  # REST's rules, as a tool error the agent reads
            return check_question(text, field), check_top_k(k, top_k, max_top_k)
        except ApiError as exc:
            raise ToolError(exc.detail) from None

    def guarded(run):
        def call():
            try:
                if ready is not None:
                    ready()
                return run()
            except IndexBusyError as exc:
                raise ToolError(f"busy: {exc}") from None
        return call

    @server.tool(description="Passages from the indexed documents that match a query, best "
                             "first: text, source file, PDF page, score.")
    async def search(query: str, top_k: int | None = None) -> dict[str, Any]:
        query, k = checked(query, "query", top_k)

        def run() -> dict[str, Any]:
            if batcher is not None:
                hits = batcher.search(query, k)[0]
            else:
                with lock:
                    hits = pipeline.search(query, k)
            return {"query": query, "passages": [h.to_dict() for h in hits]}

        return await anyio.to_thread.run_sync(guarded(run))

    @server.tool(description="Answer a question from the indexed documents, quoting them, with "
                             "numbered citations [n] and their sources; says so when the "
                             "documents do not answer.")
    async def answer(question: str, top_k: int | None = None) -> dict[str, Any]:
        question, k = checked(question, "question", top_k)

        def run() -> dict[str, Any]:
            with lock:
                response = pipeline.ask(question, k)
            full = response.to_dict()
            a = response.answer
            return {"answer": full["answer"], "declined": full["declined"],
                    "citations": full["citations"],
                    "sources": a.sources() if a else []}

        return await anyio.to_thread.run_sync(guarded(run))

    return server


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    from rag.pipeline import Pipeline
    from rag.store import IndexBusyError

    pipeline = Pipeline.from_config(cfg)

    opened = False

    def ready() -> None:  # a busy index is a tool error, not an exit; once open, nothing to do
        nonlocal opened
        if not opened:
            pipeline.open_index(build_if_missing=cfg.index_if_missing)
            opened = True

    try:
        try:
            ready()
        except IndexBusyError as exc:  # an exit would reach the agent as "Connection closed"
            log.warning("busy: %s; each tool call tries again", exc)
        server = build_server(pipeline, threading.Lock(), cfg.top_k, cfg.serve.max_top_k,
                              ready=ready)
        server.run("stdio")
    finally:
        pipeline.close()


if __name__ == "__main__":
    sys.argv[1:] = renamed_overrides(sys.argv[1:])
    main()
