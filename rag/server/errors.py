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


def check_question(text: str, field: str) -> str:
    """The question stripped, or a 422 naming the field: blank and oversized questions are
    refused the same way on every route."""
    if not text or not text.strip():
        raise ApiError(422, f"{field}: give a question (it is empty or only spaces)")
    if len(text) > MAX_QUESTION_CHARS:
        raise ApiError(422, f"{field}: the question is {len(text):,} characters; the limit is "
                            f"{MAX_QUESTION_CHARS:,}")
    return text.strip()


def error(status: int, message: str, kind: str | None = None) -> JSONResponse:
    kind = kind or KINDS.get(status, "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}},
                        status_code=status)
