"""OpenAI-compatible routes, so chat front-ends and the ``openai`` client can ask rag.

The last user message is the question (earlier turns are not retrieval context). The answer
keeps its [n] markers, and its sources follow in the text (so any chat UI shows them) and in
the documented extra field ``rag``: citations (n, source, page, doc_id, id), passages, whether
it declined. Streaming sends the answer as it is written, then the sources, then a last chunk
with ``finish_reason`` and ``rag``, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from rag.pipeline import Pipeline, Response
from rag.server.errors import ApiError, check_question
from rag.server.events import ask_events

log = logging.getLogger("rag.serve")


class Message(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    # accepted for compatibility; retrieval decides what is said, not sampling
    temperature: float | None = None
    max_tokens: int | None = None
    top_k: int | None = Field(default=None, ge=1)  # rag's own: passages to retrieve


def question_of(messages: list[Message]) -> str:
    for m in reversed(messages):
        if m.role == "user":
            content = m.content
            if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
                content = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            if content and content.strip():
                return check_question(content, "messages: the last user message")
    raise ApiError(422, "messages: no user message with text; the last user message is the "
                        "question")


def sources_text(response: Response) -> str:
    a = response.answer
    if a is None or not a.citations:
        return ""
    return "\n\nSources:\n" + "\n".join(a.sources())


def rag_field(response: Response) -> dict:
    full = response.to_dict()
    return {k: full[k] for k in ("citations", "citations_attributed", "declined", "passages")}


def usage(pipeline: Pipeline, question: str, response: Response) -> dict:
    """Tokens by the index's tokenizer: the question and the passages the answer was made
    from in, the answer out (an extractive answerer calls no model that could count them)."""
    count = getattr(pipeline.chunker, "count_tokens", lambda t: len(t.split()))
    prompt = count(question) + sum(count(h.payload.get("text", ""))
                                   for h in response.passages)
    completion = count(response.answer.text) if response.answer else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def add_openai_routes(app: FastAPI, pipeline: Pipeline, settings, lock: threading.Lock,
                      guarded: list, top_k) -> None:
    def check_model(name: str) -> None:
        if name != settings.model_name:
            raise ApiError(404, f"model {name!r} does not exist here; GET /v1/models lists "
                                f"{settings.model_name!r}", "model_not_found")

    def model() -> dict:
        return {"id": settings.model_name, "object": "model", "created": 0, "owned_by": "rag"}

    @app.get("/v1/models", dependencies=guarded)
    def models() -> dict:
        return {"object": "list", "data": [model()]}

    @app.get("/v1/models/{name}", dependencies=guarded)
    def one_model(name: str) -> dict:
        check_model(name)
        return model()

    @app.post("/v1/chat/completions", dependencies=guarded)
    def chat(body: ChatRequest):
        check_model(body.model)
        question, k = question_of(body.messages), top_k(body.top_k)
        head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": settings.model_name}
        if not body.stream:
            with lock:
                response = pipeline.ask(question, k)
            text = (response.answer.text if response.answer else "") + sources_text(response)
            return {**head, "object": "chat.completion",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": usage(pipeline, question, response), "rag": rag_field(response)}

        def chunk(delta: dict, finish: Literal["stop"] | None = None, **extra) -> str:
            body = {**head, "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        events = ask_events(pipeline, lock, question, k)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)

        def stream():
            yield chunk({"role": "assistant", "content": ""})
            try:
                for kind, value in events:
                    if kind == "delta":
                        yield chunk({"content": value})
                    elif kind == "response":
                        if sources := sources_text(value):
                            yield chunk({"content": sources})
                        yield chunk({}, "stop", rag=rag_field(value))
                        if include_usage:  # OpenAI's shape: a last chunk with no choices
                            last = {**head, "object": "chat.completion.chunk", "choices": [],
                                    "usage": usage(pipeline, question, value)}
                            yield f"data: {json.dumps(last)}\n\n"
            except Exception as exc:  # the status line is sent: end with an error chunk
                log.exception("chat stream failed")
                error = {"message": f"the answer failed mid-stream: {exc}", "type": "server_error",
                         "code": 500}
                yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
