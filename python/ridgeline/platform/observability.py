"""Request ids, Prometheus metrics, structured JSON logs and the access log.

Every response carries ``X-Request-Id`` (and the security headers of ``security_headers``): the client's, when it is well-formed (1..128 characters
of ``[A-Za-z0-9._:-]``), otherwise a fresh one. Logs are JSON lines; the access log records the
path without its query string, and no headers or bodies, so secrets never reach the log.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import time
from typing import Any

import msgspec
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from ridgeline.platform.security_headers import SecurityHeaders

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("ridgeline_request_id", default=None)
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "authorization")
access_log = logging.getLogger("ridgeline.access")


def current_request_id() -> str | None:
    return _request_id.get()


REQUESTS = Counter(
    "ridgeline_requests_total", "HTTP requests by method, route and status", ["method", "path", "status"]
)
LATENCY = Histogram(
    "ridgeline_request_duration_seconds",
    "HTTP request latency by method and route (until the last body chunk is sent)",
    ["method", "path"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IN_PROGRESS = Gauge("ridgeline_requests_in_progress", "HTTP requests being served")
# Jobs, recorded by whichever process runs them (serve or `ridgeline worker`). With several processes
# on a host, PROMETHEUS_MULTIPROC_DIR aggregates them (the running gauge sums the live processes);
# a worker on another host exposes its own with `ridgeline worker --metrics-port`.
JOBS_FINISHED = Counter(
    "ridgeline_jobs_finished_total", "Jobs that reached a terminal state here", ["family", "kind", "status"]
)
JOBS_RUNNING = Gauge(
    "ridgeline_jobs_running", "Jobs running in this process", ["family", "kind"], multiprocess_mode="livesum"
)
JOB_SECONDS = Histogram(
    "ridgeline_job_duration_seconds",
    "Job run time, claim to terminal state",
    ["family", "kind"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400),
)
JOBS_RECOVERED = Counter(
    "ridgeline_jobs_recovered_total", "Jobs of a gone owner recovered here", ["family", "kind", "action"]
)
UNMATCHED = "<unmatched>"  # one label for every path no route matched, so scanners cannot explode cardinality


class ObservabilityMiddleware:
    """Pure ASGI middleware around the whole app: request id, access log and Prometheus metrics.

    Metrics are labelled by route template (``/runs/{run_id}``), never the raw path. Label children
    are cached per (method, route, status) so a request costs two dictionary lookups, not four
    ``labels()`` calls.
    """

    def __init__(self, app: Any, security: SecurityHeaders | None = None) -> None:
        self.app = app
        self.security = security or SecurityHeaders()
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

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
        rid = rid or os.urandom(16).hex()
        token = _request_id.set(rid)
        started = time.perf_counter()
        status_holder = [0]
        header = (b"x-request-id", rid.encode())
        security = self.security

        async def send_with_id(message: Any) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                status_holder[0] = message.get("status", 101)
                message = {**message, "headers": [*security.add(message.get("headers", ())), header]}
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            method = scope.get("method", "WS")
            route = scope.get("path_template", UNMATCHED)
            status = status_holder[0]
            counter = self._counters.get((method, route, status))
            if counter is None:
                counter = self._counters[(method, route, status)] = REQUESTS.labels(
                    method, route, str(status)
                )
            counter.inc()
            hist = self._histograms.get((method, route))
            if hist is None:
                hist = self._histograms[(method, route)] = LATENCY.labels(method, route)
            hist.observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
            _request_id.reset(token)


# Litestar appends "; charset=utf-8" to text/* media types itself; with the client's own charset
# parameter the header carried it twice.
METRICS_MEDIA_TYPE = ";".join(p for p in CONTENT_TYPE_LATEST.split(";") if "charset" not in p).strip()


def metrics_exposition() -> tuple[bytes, str]:
    """The Prometheus text exposition (aggregated across workers when PROMETHEUS_MULTIPROC_DIR is set)."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), METRICS_MEDIA_TYPE


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
