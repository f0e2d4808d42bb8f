"""One job API for every family: persistent records, an in-process executor, real cancellation.

A job kind is a plain function ``handler(ctx: JobContext) -> result`` registered with
:func:`job_kind`. Sync handlers run on a worker thread (native calls release the GIL there, so the
event loop stays free); ``async def`` handlers run on the loop. Handlers cancel cooperatively by
calling ``ctx.check_cancelled()`` between chunks of work, or by handing ``ctx.token`` to a native
call that polls it (``ctx.token.on_cancel(native_handle.cancel)``).

States: CREATED -> QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED; CREATED/QUEUED may go
straight to CANCELLED. The executor is a seam: the Redis-backed distributed queue of a later issue
implements :class:`Executor` too.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa

from ridgeline.platform.db import Database, UTCDateTime, metadata, row_to
from ridgeline.platform.problems import EngineError, NotFound

log = logging.getLogger("ridgeline.jobs")


class JobStatus(enum.StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


jobs_table = sa.Table(
    "platform_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("family", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("error", sa.JSON, nullable=True),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("queued_at", UTCDateTime(), nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_platform_jobs_family_kind_created", "family", "kind", "created_at"),
    sa.Index("ix_platform_jobs_status", "status"),
)


class Job(msgspec.Struct, kw_only=True):
    id: str
    family: str
    kind: str
    status: JobStatus
    params: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    progress: float = 0.0
    created_at: datetime
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobView(msgspec.Struct, kw_only=True):
    """A job in a family's words: ``state`` is the family's name for the platform status."""

    id: str
    kind: str
    state: str
    progress: float
    params: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    created_at: datetime
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


#: The platform's own words (UPPERCASE statuses); retail maps to lowercase, for example.
PLATFORM_WORDS: Mapping[JobStatus, str] = {s: s.value for s in JobStatus}


def job_view(job: Job, words: Mapping[JobStatus, str] = PLATFORM_WORDS) -> JobView:
    """The job with its status mapped through ``words`` (a family's contract vocabulary)."""
    return JobView(
        id=job.id,
        kind=job.kind,
        state=words[job.status],
        progress=job.progress,
        params=job.params,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        queued_at=job.queued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


class JobCancelled(Exception):
    """Raised inside a handler (by ``ctx.check_cancelled()``) to stop a cancelled job."""


class CancelToken:
    """Thread-safe cancellation flag; callbacks let native work stop promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()


class JobContext:
    """What a handler gets: its parameters, its cancel token, progress reporting, and ``app``, the
    :class:`~ridgeline.platform.context.AppContext` it runs under (services, database, artifacts)."""

    def __init__(self, job: Job, token: CancelToken, app: Any = None) -> None:
        self.app = app
        self.job_id = job.id
        self.params = job.params
        self.token = token
        self.progress = 0.0

    def check_cancelled(self) -> None:
        if self.token.cancelled:
            raise JobCancelled(self.job_id)

    def report_progress(self, fraction: float) -> None:
        self.progress = min(max(float(fraction), 0.0), 1.0)


Handler = Callable[[JobContext], Any] | Callable[[JobContext], Awaitable[Any]]
_HANDLERS: dict[tuple[str, str], Handler] = {}


def job_kind(family: str, kind: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the implementation of jobs of (family, kind)."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[(family, kind)] = handler
        return handler

    return register


def _now() -> datetime:
    return datetime.now(UTC)


class Executor(Protocol):
    def dispatch(self, service: JobService, job: Job) -> None: ...
    def cancel_running(self, job_id: str) -> bool: ...
    async def shutdown(self) -> None: ...


class InProcessExecutor:
    """Runs jobs in this process: at most ``workers`` at once, sync handlers on a thread pool."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ridgeline-job")
        self._slots = asyncio.Semaphore(workers)
        self._tokens: dict[str, CancelToken] = {}
        self._contexts: dict[str, JobContext] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, service: JobService, job: Job) -> None:
        token = self._tokens.setdefault(job.id, CancelToken())
        task = asyncio.get_running_loop().create_task(self._run(service, job, token))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def token(self, job_id: str) -> CancelToken | None:
        return self._tokens.get(job_id)

    def progress(self, job_id: str) -> float | None:
        ctx = self._contexts.get(job_id)
        return None if ctx is None else ctx.progress

    def cancel_running(self, job_id: str) -> bool:
        token = self._tokens.get(job_id)
        if token is None:
            return False
        token.cancel()
        return True

    async def _run(self, service: JobService, job: Job, token: CancelToken) -> None:
        try:
            async with self._slots:
                if token.cancelled or not await service._transition(job.id, JobStatus.RUNNING):
                    return
                handler = service.handler(job.family, job.kind)
                ctx = JobContext(job, token, service.app)
                self._contexts[job.id] = ctx
                try:
                    if inspect.iscoroutinefunction(handler):
                        result = await handler(ctx)
                    else:
                        loop = asyncio.get_running_loop()
                        result = await loop.run_in_executor(self._pool, handler, ctx)
                    if token.cancelled:
                        raise JobCancelled(job.id)
                except JobCancelled:
                    await service._finish(job.id, JobStatus.CANCELLED, error={"message": "cancelled"})
                except Exception as exc:
                    log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
                    err = {"type": type(exc).__name__, "message": str(exc)}
                    if isinstance(exc, EngineError):  # the family's contract code, not a parsed message
                        err["reason_code"] = exc.reason_code
                    await service._finish(job.id, JobStatus.FAILED, error=err)
                else:
                    await service._finish(job.id, JobStatus.SUCCEEDED, result=result, progress=1.0)
        finally:
            self._tokens.pop(job.id, None)
            self._contexts.pop(job.id, None)
            service._notify(job.id)

    async def shutdown(self) -> None:
        for token in list(self._tokens.values()):
            token.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)


class JobService:
    """Submit, inspect, list, wait for and cancel jobs; records live in ``platform_jobs``."""

    def __init__(self, db: Database, executor: Executor, app: Any = None) -> None:
        self.db = db
        self.executor = executor
        self.app = app  # handed to every handler as JobContext.app
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        # Kinds the composer registered from the families' declarations (Family.job_kinds); the
        # module-level @job_kind registry is the fallback.
        self._handlers: dict[tuple[str, str], Handler] = {}

    def register(self, family: str, kind: str, handler: Handler) -> None:
        self._handlers[(family, kind)] = handler

    def handler(self, family: str, kind: str) -> Handler:
        found = self._handlers.get((family, kind)) or _HANDLERS.get((family, kind))
        if found is None:
            raise KeyError(f"no job kind {family}/{kind}")
        return found

    async def recover(self) -> int:
        """Mark jobs a previous process left unfinished as FAILED (in-process work does not survive)."""
        async with self.db.begin() as conn:
            res = await conn.execute(
                jobs_table.update()
                .where(jobs_table.c.status.in_([JobStatus.CREATED, JobStatus.QUEUED, JobStatus.RUNNING]))
                .values(
                    status=JobStatus.FAILED,
                    error={
                        "type": "Interrupted",
                        "message": "the service restarted before this job finished",
                    },
                    finished_at=_now(),
                )
            )
        return res.rowcount or 0

    async def submit(self, family: str, kind: str, params: dict[str, Any]) -> Job:
        self.handler(family, kind)  # KeyError for an unknown kind, before anything is stored
        now = _now()
        job = Job(
            id=uuid.uuid4().hex,
            family=family,
            kind=kind,
            status=JobStatus.CREATED,
            params=params,
            created_at=now,
        )
        async with self.db.begin() as conn:
            await conn.execute(
                jobs_table.insert().values(msgspec.to_builtins(job, builtin_types=(datetime,)))
            )
        await self._transition(job.id, JobStatus.QUEUED)
        job.status, job.queued_at = JobStatus.QUEUED, _now()
        self.executor.dispatch(self, job)
        return job

    async def get(self, job_id: str) -> Job | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(jobs_table.select().where(jobs_table.c.id == job_id))).first()
        if row is None:
            return None
        job = row_to(Job, row)
        if job.status == JobStatus.RUNNING and isinstance(self.executor, InProcessExecutor):
            live = self.executor.progress(job_id)
            if live is not None:
                job.progress = live
        return job

    async def get_for(self, family: str, job_id: str, *, what: str = "job") -> Job:
        """The family's job, or NotFound (``<what>_not_found``) also when it belongs to another family."""
        job = await self.get(job_id) if len(job_id) <= 64 else None
        if job is None or job.family != family:
            raise NotFound(what, job_id, **{f"{what}_id": job_id})
        return job

    async def get_many(self, job_ids: Iterable[str]) -> dict[str, Job]:
        """Jobs by id, one query (ids with no record are absent); live progress as in :meth:`get`."""
        ids = sorted({i for i in job_ids if i})
        if not ids:
            return {}
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(jobs_table.select().where(jobs_table.c.id.in_(ids)))).all()
        out = {r.id: row_to(Job, r) for r in rows}
        if isinstance(self.executor, InProcessExecutor):
            for job in out.values():
                live = self.executor.progress(job.id) if job.status == JobStatus.RUNNING else None
                if live is not None:
                    job.progress = live
        return out

    def ids_where(self, *, family: str, status: str | Iterable[str]) -> sa.Select[Any]:
        """A subquery of the ids of the family's jobs in ``status``, for ``column.in_(...)`` filters
        on a family's own table (so the family never reads ``platform_jobs`` itself)."""
        statuses = [status] if isinstance(status, str) else list(status)
        return sa.select(jobs_table.c.id).where(
            jobs_table.c.family == family, jobs_table.c.status.in_(statuses)
        )

    async def list(
        self,
        *,
        family: str | None = None,
        kind: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
        order_by: str = "created_at",
        descending: bool = True,
    ) -> list[Job]:
        col = jobs_table.c[order_by]
        query = jobs_table.select().order_by(col.desc() if descending else col.asc(), jobs_table.c.id)
        if family is not None:
            query = query.where(jobs_table.c.family == family)
        if kind is not None:
            query = query.where(jobs_table.c.kind == kind)
        if status is not None:
            query = query.where(jobs_table.c.status == status)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit).offset(offset))).all()
        return [row_to(Job, r) for r in rows]

    async def cancel(self, job_id: str) -> Job | None:
        """Cancel a job: a pending one at once, a running one by stopping its work. Terminal: unchanged."""
        job = await self.get(job_id)
        if job is None or job.status.terminal:
            return job
        if job.status in (JobStatus.CREATED, JobStatus.QUEUED):
            # The executor task sees the token (or the status change) and never starts the handler.
            self.executor.cancel_running(job_id)
            if await self._finish(
                job_id,
                JobStatus.CANCELLED,
                error={"message": "cancelled before start"},
                only_from=(JobStatus.CREATED, JobStatus.QUEUED),
            ):
                return await self.get(job_id)
        self.executor.cancel_running(job_id)
        await self.wait(job_id, limit_s=30)
        return await self.get(job_id)

    async def wait(self, job_id: str, limit_s: float | None = None) -> Job | None:
        """Wait until the job is terminal (or the timeout passes) and return its record."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(fut)
        job = await self.get(job_id)
        if job is not None and not job.status.terminal:
            try:
                await asyncio.wait_for(asyncio.shield(fut), limit_s)
            except TimeoutError:
                pass
            job = await self.get(job_id)
        waiters = self._waiters.get(job_id, [])
        if fut in waiters:
            waiters.remove(fut)
        return job

    def _notify(self, job_id: str) -> None:
        for fut in self._waiters.pop(job_id, []):
            if not fut.done():
                fut.set_result(None)

    async def _transition(self, job_id: str, status: JobStatus) -> bool:
        allowed = {JobStatus.QUEUED: (JobStatus.CREATED,), JobStatus.RUNNING: (JobStatus.QUEUED,)}[status]
        stamp = {JobStatus.QUEUED: "queued_at", JobStatus.RUNNING: "started_at"}[status]
        async with self.db.begin() as conn:
            res = await conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(allowed))
                .values(status=status, **{stamp: _now()})
            )
        return bool(res.rowcount)

    async def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Any = None,
        error: dict[str, Any] | None = None,
        progress: float | None = None,
        only_from: tuple[JobStatus, ...] = (JobStatus.RUNNING,),
    ) -> bool:
        values: dict[str, Any] = {"status": status, "finished_at": _now(), "error": error}
        if result is not None:
            values["result"] = msgspec.to_builtins(result)
        if progress is not None:
            values["progress"] = progress
        async with self.db.begin() as conn:
            res = await conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(only_from))
                .values(**values)
            )
        if res.rowcount:
            self._notify(job_id)
        return bool(res.rowcount)


def make_executor(workers: int) -> Executor:
    return InProcessExecutor(workers)
