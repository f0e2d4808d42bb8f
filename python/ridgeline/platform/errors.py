"""One exception type for every family, and one renderer per family.

Handlers raise :class:`RidgelineError` (status, reason code, message, warnings, extra fields). The
app's single exception handler turns it, and any Litestar or unknown exception, into a response in
the shape of the family whose path was hit. Every error carries the request id; a 500 never
carries a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ridgeline.platform.observability import current_request_id
from ridgeline.platform.problems import EngineError, NotFound, ServiceUnavailable

log = logging.getLogger("ridgeline.errors")


class RidgelineError(EngineError):
    """The HTTP layer's name for :class:`~ridgeline.platform.problems.EngineError` (same signature)."""


Renderer = Callable[[Request[Any, Any, Any], EngineError], Response[Any]]

__all__ = ["EngineError", "NotFound", "RidgelineError", "ServiceUnavailable", "as_ridgeline_error"]

_REASON_FOR_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def as_ridgeline_error(exc: Exception, validation_status: int = 422) -> EngineError:
    """Normalise any exception into a RidgelineError (unknown ones become an opaque 500)."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc.extra)
        fields = ", ".join(e["field"] for e in errors if e.get("field")) or "body"
        first = errors[0]["message"] if errors else exc.detail
        return RidgelineError(
            validation_status, "invalid_request", f"Invalid request: {first} ({fields})", errors=errors
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        reason = _REASON_FOR_STATUS.get(status, "http_error" if status < 500 else "internal_error")
        return RidgelineError(status, reason, exc.detail or HTTPStatus(status).phrase, headers=exc.headers)
    log.exception("unhandled error", exc_info=exc)
    return RidgelineError(500, "internal_error", "Internal server error.")


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        field = item.get("key")
        if not field and " - at `$." in message:
            message, _, path = message.partition(" - at `$.")
            field = path.rstrip("`")
        entry = {"field": field or None, "message": message}
        if item.get("source"):
            entry["source"] = item["source"]
        out.append(entry)
    return out


def _json(status: int, body: Any, media_type: str, headers: dict[str, str] | None) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(body), status_code=status, media_type=media_type, headers=headers
    )


def render_reason_coded(request: Request[Any, Any, Any], err: EngineError) -> Response[Any]:
    """Contract 000: ``{"detail": {"reason_code", "message", "warnings", ...extras}}``."""
    detail = {"reason_code": err.reason_code, "message": err.message, "warnings": err.warnings}
    detail.update(err.extra)
    detail["request_id"] = current_request_id()
    return _json(err.status, {"detail": detail}, "application/json", err.headers)


def render_problem_json(request: Request[Any, Any, Any], err: EngineError) -> Response[Any]:
    """Contract 002: RFC 7807 ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": f"/problems/{err.reason_code.replace('_', '-')}",
        "title": HTTPStatus(err.status).phrase,
        "status": err.status,
        "detail": err.message,
        "instance": request.url.path,
        "reason_code": err.reason_code,
    }
    if err.warnings:
        body["warnings"] = err.warnings
    body.update(err.extra)
    body["request_id"] = current_request_id()
    return _json(err.status, body, "application/problem+json", err.headers)


def render_fastapi_detail(request: Request[Any, Any, Any], err: EngineError) -> Response[Any]:
    """FastAPI-style contracts (001, 003, 004): ``{"detail": message}`` plus a stable reason code."""
    body: dict[str, Any] = {"detail": err.message, "reason_code": err.reason_code}
    if err.warnings:
        body["warnings"] = err.warnings
    body.update(err.extra)
    body["request_id"] = current_request_id()
    return _json(err.status, body, "application/json", err.headers)
