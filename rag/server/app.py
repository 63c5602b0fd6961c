"""The FastAPI app over one warmed Pipeline.

    POST /v1/search              passages only
    POST /v1/answer              the answer with citations; stream=true: server-sent events
                                 retrieval -> delta... -> citations -> done
    GET  /v1/models, POST /v1/chat/completions     OpenAI-compatible (rag/server/openai.py)
    POST /v1/documents           upload files: indexed at once, skipped ones with reasons
    DELETE /v1/documents/{id}    remove a document's chunks (and the uploaded file)
    GET  /healthz                the index is open and answers
    /mcp                         MCP tools search and answer, streamable HTTP (rag/mcp.py)
    GET  /                       the web page; /docs the OpenAPI page

The pipeline is one object with one set of models: requests take turns on it (a lock), which
is also what keeps an upload's writes apart from the searches. Searches that arrive together
are run as one batch (rag/server/batch.py). Every error response is JSON in OpenAI's
shape (rag/server/errors.py); a stream that fails after it started ends with an error event.
"""

from __future__ import annotations

import hmac
import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Route

from rag.pipeline import Pipeline
from rag.server.batch import SearchBatcher
from rag.server.errors import (
    MAX_QUESTION_CHARS,
    ApiError,
    check_top_k,
    error,
    question_problem,
)
from rag.server.events import ask_events, sse
from rag.server.uploads import UploadError, check_upload, write_upload
from rag.store import IndexBusyError

log = logging.getLogger("rag.serve")
PAGE = Path(__file__).with_name("page.html")


@dataclass
class Settings:
    host: str = "127.0.0.1"  # what the server binds: MCP's DNS-rebinding guard needs it
    top_k: int = 5
    api_key: str | None = None
    model_name: str = "rag"
    upload_dir: str = "uploads"  # under the corpus folder
    max_upload_mb: float = 20
    max_files: int = 10
    max_top_k: int = 50
    max_batch: int = 16  # concurrent searches run as one batch
    cors_origins: list[str] = field(default_factory=list)


def _has_text(value: str) -> str:
    if problem := question_problem(value):
        raise ValueError(problem)
    return value


Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS),
                     AfterValidator(_has_text)]


class SearchRequest(BaseModel):
    query: Question
    top_k: int | None = Field(default=None, ge=1)


class AnswerRequest(BaseModel):
    question: Question
    top_k: int | None = Field(default=None, ge=1)
    stream: bool = False


def create_app(pipeline: Pipeline, settings: Settings) -> FastAPI:
    from rag.mcp import build_server

    lock = threading.Lock()
    batcher = SearchBatcher(pipeline, lock, settings.max_batch)
    mcp = build_server(pipeline, lock, settings.top_k, settings.max_top_k,
                       batcher).streamable_http_app(streamable_http_path="/mcp",
                                                    host=settings.host)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        async with mcp.router.lifespan_context(mcp):  # the MCP session manager
            yield
        batcher.close()

    # /docs with Swagger UI's files served from the package, not a CDN: it works offline
    app = FastAPIOffline(title="rag", summary="Questions over your documents, with citations",
                         version="0.1.0", lifespan=lifespan, redoc_url=None,
                         static_url="/docs-assets")
    app.state.pipeline, app.state.settings, app.state.lock = pipeline, settings, lock

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"])

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        response = error(exc.status_code, str(exc.detail), getattr(exc, "kind", None))
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = ["body: not valid JSON" if e["type"] == "json_invalid" else
                 f"{'.'.join(str(x) for x in e['loc'] if x != 'body') or 'body'}: {e['msg']}"
                 for e in exc.errors()]
        return error(422, "invalid request: " + "; ".join(parts))

    @app.exception_handler(IndexBusyError)
    async def busy(_: Request, exc: IndexBusyError) -> JSONResponse:
        return error(503, str(exc))

    def authorized(request: Request) -> None:
        if not key_ok(request.headers.get("authorization", ""), settings.api_key):
            raise ApiError(401, NO_KEY)

    def top_k(requested: int | None) -> int:
        return check_top_k(requested, settings.top_k, settings.max_top_k)

    guarded = [Depends(authorized)]

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get("/healthz", dependencies=guarded)
    def healthz() -> dict:
        with lock:
            points = pipeline.store.count()
        return {"status": "ok", "index": pipeline.store.where, "points": points,
                "answerer": type(pipeline.answerer).__name__ if pipeline.answerer else None}

    @app.post("/v1/search", dependencies=guarded)
    def search(body: SearchRequest) -> dict:
        hits, timings, batch = batcher.search(body.query, top_k(body.top_k))
        return {"query": body.query, "passages": [h.to_dict() for h in hits],
                "timings_ms": timings, "batch": batch}

    @app.post("/v1/answer", dependencies=guarded)
    def answer(body: AnswerRequest):
        k = top_k(body.top_k)
        if not body.stream:
            with lock:
                return pipeline.ask(body.question, k).to_dict()
        events = ask_events(pipeline, lock, body.question, k)

        def stream():
            try:
                for kind, value in events:
                    if kind == "retrieval":
                        yield sse("retrieval", {"passages": [h.to_dict() for h in value]})
                    elif kind == "delta":
                        yield sse("delta", {"text": value})
                    else:
                        full = value.to_dict()
                        yield sse("citations", {k: full[k] for k in (
                            "answer", "citations", "citations_attributed", "declined")})
                        yield sse("done", {"timings_ms": full["timings_ms"]})
            except Exception as exc:  # the status line is sent: report it as an event
                log.exception("answer stream failed")
                yield sse("error", {"message": str(exc)})

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.post("/v1/documents", dependencies=guarded)
    async def upload(files: list[UploadFile] = File(...)) -> dict:  # noqa: B008
        if len(files) > settings.max_files:
            raise ApiError(413, f"{len(files)} files in one request; the limit is "
                                f"{settings.max_files} (serve.max_files)")
        corpus_root = Path(pipeline.corpus.root)
        folder = corpus_root / settings.upload_dir
        accepted: list[tuple[str, bytes]] = []
        limit = settings.max_upload_mb * 2**20
        for f in files:  # every file is checked before any is written
            data = await f.read(int(limit) + 1)
            size = f.size if f.size is not None else len(data)  # read stops past the limit
            try:
                name = check_upload(f.filename or "", size, pipeline.corpus.extensions,
                                    settings.max_upload_mb)
            except UploadError as exc:
                raise ApiError(exc.status, str(exc)) from None
            accepted.append((name, data))
        if len({n for n, _ in accepted}) < len(accepted):
            raise ApiError(400, "two uploaded files have the same name once made safe: "
                                "rename one")
        with lock:
            for name, data in accepted:
                write_upload(folder, name, data)
            sources = [f"{Path(settings.upload_dir).as_posix()}/{n}" for n, _ in accepted]
            report = pipeline.index(only=sources)
            for s in report.skipped:  # reported, not kept: the next index run would skip it
                (corpus_root / s.path).unlink(missing_ok=True)
        skipped = [{"file": s.path, "reason": s.reason} for s in report.skipped]
        return {"files": sources, "indexed": [s for s in sources
                                              if s not in {k["file"] for k in skipped}],
                "skipped": skipped, "documents": report.documents,
                "new_chunks": report.embedded, "points": report.points}

    @app.delete("/v1/documents/{doc_id:path}", dependencies=guarded)
    def delete(doc_id: str) -> dict:
        with lock:
            removed = pipeline.delete_document(doc_id)
        if not removed:
            raise ApiError(404, f"no document {doc_id!r} in the index (ids are paths relative "
                                f"to the corpus folder, as in a passage's doc_id or source)")
        path = Path(pipeline.corpus.root) / doc_id
        uploads = (Path(pipeline.corpus.root) / settings.upload_dir).resolve()
        # only an uploaded file is deleted from disk; the user's own files are left alone
        if path.resolve().parent == uploads and path.is_file():
            path.unlink()
        return {"deleted": doc_id, "chunks": removed}

    from rag.server.openai import add_openai_routes

    add_openai_routes(app, pipeline, settings, lock, guarded, top_k)
    for route in mcp.routes:  # /mcp, behind the same key as every other endpoint
        app.router.routes.append(Route(route.path, keyed(route.endpoint, settings.api_key),
                                       methods=["GET", "POST", "DELETE"]))
    return app


NO_KEY = "missing or wrong API key: send 'Authorization: Bearer <RAG_API_KEY>'"


def key_ok(header: str, api_key: str | None) -> bool:
    if not api_key:
        return True
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), api_key)


class keyed:  # noqa: N801 - reads as a function; a class, so Starlette routes it as ASGI
    """An ASGI app that answers 401 (JSON) unless the request carries the bearer key."""

    def __init__(self, asgi, api_key: str | None) -> None:
        self.asgi, self.api_key = asgi, api_key

    async def __call__(self, scope, receive, send) -> None:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode()
        if not key_ok(header, self.api_key):
            response = error(401, NO_KEY)
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.asgi(scope, receive, send)
