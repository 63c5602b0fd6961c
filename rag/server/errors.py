"""Errors as JSON in OpenAI's shape, ``{"error": {"message", "type", "code"}}``: one client
handles the REST and the OpenAI-compatible routes alike."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

KINDS = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large",
         415: "unsupported_media_type", 503: "service_unavailable"}


class ApiError(HTTPException):
    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(status, message)
        self.kind = kind or KINDS.get(status, "invalid_request_error")


MAX_QUESTION_CHARS = 4000  # every route that takes a question: REST, chat, MCP


def question_problem(text: str) -> str | None:
    """Why a question cannot be asked (blank, or over the limit), or None: one rule for every
    route — REST (through its request model), chat and MCP."""
    if not text or not text.strip():
        return "give a question (it is empty or only spaces)"
    if len(text) > MAX_QUESTION_CHARS:
        return f"the question is {len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}"
    return None


def check_question(text: str, field: str) -> str:
    """The question stripped, or a 422 naming the field."""
    if problem := question_problem(text):
        raise ApiError(422, f"{field}: {problem}")
    return text.strip()


def check_top_k(requested: int | None, default: int, limit: int) -> int:
    """The hits to return: ``default`` when none was asked for, else 1 to ``limit`` or a 422."""
    k = default if requested is None else requested
    if k < 1:
        raise ApiError(422, f"top_k={k} must be at least 1")
    if k > limit:
        raise ApiError(422, f"top_k={k} is over the server's limit of {limit}")
    return k


def error(status: int, message: str, kind: str | None = None) -> JSONResponse:
    kind = kind or KINDS.get(status, "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}},
                        status_code=status)
