"""The agent engine's HTTP app (``ridgeline agent-engine``, its own process): the internal contract
the backend's execution proxy calls.

- ``POST /v1/internal/agent-executions``: run an agent (body: the agent and its tools as the backend
  resolved them from the registry, the input, ``requested_by`` and the execution-scoped
  ``platform_runtime`` snapshot) and answer 201 with the execution record.
- ``GET /v1/internal/agent-executions/{id}``: one record.
- ``GET /health``: liveness (no token).

Every ``/v1/internal`` call must carry ``X-Service-Token`` equal to ``AGENT_ENGINE_SERVICE_TOKEN``
(constant-time comparison; an engine started without a token refuses to start) and may carry
``X-Request-Id``, which is kept on the record. Records are kept in the engine's own SQLite database
(``AGENT_ENGINE_DB_PATH``, WAL): they survive a restart; the most recent ``max_records`` are kept.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException, ValidationException

from ridgeline.genai.agent_engine.executor import ExecutionRequest, Executor
from ridgeline.platform.problems import EngineError

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RecordStore:
    """Execution records in SQLite (stdlib ``sqlite3``, WAL, one connection behind a lock; calls
    run in a thread so the event loop never waits on the disk). ``seq`` orders them for retention."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS agent_executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                "id TEXT NOT NULL UNIQUE, requested_by TEXT, created_at TEXT NOT NULL, record BLOB NOT NULL)"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _put(self, record: dict[str, Any], keep: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO agent_executions (id, requested_by, created_at, record) VALUES (?, ?, ?, ?)",
                    (
                        record["id"],
                        record.get("requested_by"),
                        record["created_at"],
                        msgspec.json.encode(record),
                    ),
                )
                self._db.execute(
                    "DELETE FROM agent_executions WHERE seq <= (SELECT max(seq) FROM agent_executions) - ?",
                    (keep,),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _get(self, execution_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM agent_executions WHERE id = ?", (execution_id,)
            ).fetchone()
        return msgspec.json.decode(row[0]) if row else None

    async def put(self, record: dict[str, Any], keep: int) -> None:
        await asyncio.to_thread(self._put, record, keep)

    async def get(self, execution_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._get, execution_id)


class EngineState:
    def __init__(
        self,
        token: str,
        *,
        max_records: int = 10_000,
        tool_timeout_s: float = 30.0,
        db_path: str = ":memory:",
    ) -> None:
        if not token:
            raise ValueError("AGENT_ENGINE_SERVICE_TOKEN must be set for the agent engine")
        self.token = token.encode()
        self.records = RecordStore(db_path)
        self.max_records = max_records
        self.executor = Executor(tool_timeout_s=tool_timeout_s)

    def check(self, request: Request[Any, Any, Any]) -> None:
        presented = (request.headers.get("x-service-token") or "").encode()
        if not hmac.compare_digest(presented, self.token):
            raise EngineError(401, "invalid_service_token", "Missing or wrong X-Service-Token.")

    async def keep(self, record: dict[str, Any]) -> None:
        await self.records.put(record, self.max_records)


def _state(request: Request[Any, Any, Any]) -> EngineState:
    return request.app.state["engine"]


def _request_id(request: Request[Any, Any, Any]) -> str:
    rid = request.headers.get("x-request-id") or ""
    return rid if _REQUEST_ID.match(rid) else uuid.uuid4().hex


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "service": "ridgeline-agent-engine"}


@post("/v1/internal/agent-executions", status_code=201)
async def create_execution(request: Request[Any, Any, Any]) -> dict[str, Any]:
    state = _state(request)
    state.check(request)
    try:
        body = msgspec.json.decode(await request.body(), type=ExecutionRequest)
    except msgspec.DecodeError as exc:
        raise EngineError(422, "invalid_request", f"Invalid execution request: {exc}") from None
    created = datetime.now(UTC)
    outcome = await state.executor.run(body)
    record = {
        "id": f"exec_{uuid.uuid4().hex[:24]}",
        "agent_id": body.agent.id,
        "agent_version": body.agent.version,
        "requested_by": body.requested_by,
        "request_id": _request_id(request),
        "input": msgspec.to_builtins(body.input),
        **outcome,
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "completed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    await state.keep(record)
    return record


@get("/v1/internal/agent-executions/{execution_id:str}")
async def get_execution(request: Request[Any, Any, Any], execution_id: str) -> dict[str, Any]:
    state = _state(request)
    state.check(request)
    record = await state.records.get(execution_id)
    if record is None:
        raise EngineError(
            404, "execution_not_found", f"No agent execution {execution_id!r}.", id=execution_id
        )
    return record


def _render(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, EngineError):
        status, code, message, extra = exc.status, exc.reason_code, exc.message, dict(exc.extra)
    elif isinstance(exc, ValidationException):
        status, code, message, extra = 422, "invalid_request", str(exc.detail), {}
    elif isinstance(exc, HTTPException):
        status, code, message, extra = exc.status_code, "http_error", str(exc.detail), {}
    else:
        status, code, message, extra = 500, "internal_error", "Internal error.", {}
    return Response({"detail": message, "reason_code": code, **extra}, status_code=status)


def create_engine_app(
    token: str, *, max_records: int = 10_000, tool_timeout_s: float = 30.0, db_path: str = ":memory:"
) -> Litestar:
    state = EngineState(token, max_records=max_records, tool_timeout_s=tool_timeout_s, db_path=db_path)

    async def _close() -> None:
        state.records.close()

    app = Litestar(
        route_handlers=[health, create_execution, get_execution],
        exception_handlers={Exception: _render},
        openapi_config=None,
        on_shutdown=[_close],
    )
    app.state["engine"] = state
    return app
