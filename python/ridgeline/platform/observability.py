"""Request ids, structured JSON logs and the access log.

Every response carries ``X-Request-Id``: the client's, when it is well-formed (1..128 characters
of ``[A-Za-z0-9._:-]``), otherwise a fresh one. Logs are JSON lines; the access log records the
path without its query string, and no headers or bodies, so secrets never reach the log.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from typing import Any

import msgspec

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("ridgeline_request_id", default=None)
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "authorization")
access_log = logging.getLogger("ridgeline.access")


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    """Pure ASGI middleware: assigns the request id, adds the header, writes the access log."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                if _VALID_ID.match(value):
                    rid = value.decode()
                break
        rid = rid or uuid.uuid4().hex
        token = _request_id.set(rid)
        started = time.perf_counter()
        status_holder: list[int] = [0]

        async def send_with_id(message: Any) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                status_holder[0] = message.get("status", 101)
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method", "WS"),
                        "path": scope.get("path"),
                        "status": status_holder[0],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
            _request_id.reset(token)


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = current_request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = "[redacted]" if any(w in key.lower() for w in _SECRET_WORDS) else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The access log goes through ours; granian's own would duplicate it.
    logging.getLogger("granian.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
