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


def error(status: int, message: str, kind: str | None = None) -> JSONResponse:
    kind = kind or KINDS.get(status, "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}},
                        status_code=status)
