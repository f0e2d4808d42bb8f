"""One job API for every family: persistent records, two executors, real cancellation, crash recovery.

A job kind is a plain function ``handler(ctx: JobContext) -> result`` registered with
:func:`job_kind` (or ``Family.job_kinds``). Sync handlers run on a worker thread (native calls
release the GIL there, so the event loop stays free); ``async def`` handlers run on the loop.
Handlers cancel cooperatively by calling ``ctx.check_cancelled()`` between chunks of work, or by
handing ``ctx.token`` to a native call that polls it (``ctx.token.on_cancel(native_handle.cancel)``).
:func:`job_options` declares a kind's timeout and whether it is idempotent (safe to run again
after its worker died).

States: CREATED -> QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED; CREATED/QUEUED may go
straight to CANCELLED. The database record is the source of truth for every executor:

- each non-terminal job names its ``owner`` (host:pid:nonce of the process holding it) and carries a
  ``heartbeat_at`` that process refreshes; a job is recovered only when its owner is really gone
  (its heartbeat is stale, or it is a dead pid on this host), never because another process started;
- a result is written only by the owner that claimed the job (``status = RUNNING AND owner = me``),
  so a job recovered from a presumed-dead worker can never be stored twice;
- a cancel is recorded on the row (``cancel_requested_at``) and the owning process, wherever it is,
  sees it within ``RIDGELINE_JOBS_CANCEL_POLL_S`` and sets the job's token.

Executors: :class:`InProcessExecutor` (default) runs jobs in this process; with
``RIDGELINE_REDIS_URL`` set, :mod:`ridgeline.platform.jobqueue` enqueues them to SAQ and
``ridgeline worker`` processes run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol, TypeVar

import msgspec
import sqlalchemy as sa

from ridgeline.platform.db import Database, UTCDateTime, metadata, row_to
from ridgeline.platform.jobs_redis import JobEvents
from ridgeline.platform.observability import JOB_SECONDS, JOBS_FINISHED, JOBS_RECOVERED, JOBS_RUNNING
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.platform.settings import load_env_struct

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


PENDING = (JobStatus.CREATED, JobStatus.QUEUED)
LIVE = (JobStatus.CREATED, JobStatus.QUEUED, JobStatus.RUNNING)
#: ``owner`` of a job waiting in the Redis queue: the queue holds it, no process heartbeats it.
QUEUE_OWNER = "queue"
#: with Redis job events, a waiter re-reads the record at least this often (a lost message costs this)
EVENTS_FALLBACK_POLL_S = 5.0
#: a running job's progress (and detail) is written to its record at most this often
PROGRESS_WRITE_S = 0.5
#: the cancel reason of jobs stopped because their process is stopping: they are released for
#: recovery (re-queued if idempotent, else FAILED job_worker_lost), not CANCELLED
SHUTDOWN = "the process holding this job stopped"

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
    # migration 0013_jobs_lease
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_requested_at", UTCDateTime(), nullable=True),
    # migration 0023_jobs_progress
    sa.Column("progress_detail", sa.JSON, nullable=True),
    sa.Index("ix_platform_jobs_family_kind_created", "family", "kind", "created_at"),
    sa.Index("ix_platform_jobs_status", "status"),
    sa.Index("ix_platform_jobs_owner", "owner"),
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
    owner: str | None = None
    heartbeat_at: datetime | None = None
    attempts: int = 0
    cancel_requested_at: datetime | None = None
    #: the handler's last ``report_progress(..., detail)`` (the step in progress), written with progress
    progress_detail: dict[str, Any] | None = None


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
    progress_detail: dict[str, Any] | None = None


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
        progress_detail=job.progress_detail,
    )


class JobSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``RIDGELINE_JOBS_*``: how jobs are held, recovered and (with Redis) where they run."""

    heartbeat_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    #: a job whose owner has not heartbeated for this long is recovered by any other process
    stale_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    #: how often a process looks for cancels of the jobs it runs (cross-process cancel latency)
    cancel_poll_s: Annotated[float, msgspec.Meta(gt=0, le=5)] = 0.2
    #: kinds that declare no timeout of their own (job_options) get this one
    default_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 6 * 3600.0
    #: native threads per job; 0 = a fair share: the cores divided by the jobs running in this
    #: process when the job starts (at least 1)
    threads_per_job: Annotated[int, msgspec.Meta(ge=0, le=1024)] = 0
    #: with Redis: how often QUEUED jobs missing from Redis (it lost its data) are enqueued again from
    #: their database record (also at start-up); a job is only checked once it was queued this long
    #: ago, at most 5 s, so a job being submitted is never enqueued twice
    reconcile_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    #: with RIDGELINE_REDIS_URL set, ``serve`` only enqueues unless this is true
    run_in_serve: bool = False
    #: with Redis: job slots of each granian worker (in all, across families) when ``serve`` runs jobs
    serve_concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] = 2

    def validate(self) -> None:
        from ridgeline.platform.settings import SettingsError

        if self.stale_s < 3 * self.heartbeat_s:
            raise SettingsError(
                "RIDGELINE_JOBS_STALE_S must be at least 3 x RIDGELINE_JOBS_HEARTBEAT_S "
                f"(got {self.stale_s} and {self.heartbeat_s})"
            )


def load_job_settings(env: Mapping[str, str] | None = None, **overrides: object) -> JobSettings:
    return load_env_struct(JobSettings, "RIDGELINE_JOBS_", env, **overrides)


class JobCancelled(Exception):
    """Raised inside a handler (by ``ctx.check_cancelled()``) to stop a cancelled job."""


class CancelToken:
    """Thread-safe cancellation flag; callbacks let native work stop promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.reason = "cancelled"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            if not self._event.is_set():
                self.reason = reason
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


T = TypeVar("T")


class JobContext:
    """What a handler gets: its parameters, its cancel token, progress reporting, and ``app``, the
    :class:`~ridgeline.platform.context.AppContext` it runs under (services, database, artifacts)."""

    def __init__(
        self,
        job: Job,
        token: CancelToken,
        app: Any = None,
        thread_budget: int = 0,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.app = app
        self.job_id = job.id
        self.params = job.params
        self.token = token
        # (fraction, detail) as one value: the handler's thread writes it, the loop reads it
        self._progress: tuple[float, dict[str, Any] | None] = (0.0, None)
        #: threads this job's native parallel loops may use (0 = all cores); hand it to the core
        #: (``threads=ctx.thread_budget``) so concurrent jobs share the cores instead of one taking all
        self.thread_budget = thread_budget
        self._pool = pool

    async def run_blocking(self, fn: Callable[[], T]) -> T:
        """Run blocking work of an async handler on the job threads (the pool sync handlers run on,
        sized to the job slots), not the event loop's default pool, which serves requests: jobs
        then never take the threads that requests' off-loop work waits for."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def check_cancelled(self) -> None:
        if self.token.cancelled:
            raise JobCancelled(self.job_id)

    @property
    def progress(self) -> float:
        return self._progress[0]

    @property
    def progress_detail(self) -> dict[str, Any] | None:
        return self._progress[1]

    def report_progress(self, fraction: float, detail: Mapping[str, Any] | None = None) -> None:
        """Progress only moves forward: a smaller value than the last one is ignored (with its
        ``detail``). ``detail`` (JSON-able, e.g. the step in progress) replaces the last one; like the
        fraction it is written to the job record (at most every ``PROGRESS_WRITE_S``), so every
        process serving the API sees it."""
        current, last = self._progress
        value = min(max(float(fraction), 0.0), 1.0)
        if value < current:
            return
        self._progress = (value, dict(detail) if detail is not None else last)


Handler = Callable[[JobContext], Any] | Callable[[JobContext], Awaitable[Any]]
_HANDLERS: dict[tuple[str, str], Handler] = {}


@dataclass(frozen=True)
class KindOptions:
    """How a kind runs: ``timeout_s`` (None: RIDGELINE_JOBS_DEFAULT_TIMEOUT_S) and ``idempotent``
    (running it again gives the same result and side effects, so a job whose worker died is re-queued
    up to ``retries`` times instead of FAILED)."""

    timeout_s: float | None = None
    idempotent: bool = False
    retries: int = 1


_OPTIONS_ATTR = "__ridgeline_job_options__"


def job_options(
    *, timeout_s: float | None = None, idempotent: bool = False, retries: int = 1
) -> Callable[[Handler], Handler]:
    """Declare a kind's timeout and idempotency on its handler (works with ``Family.job_kinds``)."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _OPTIONS_ATTR, KindOptions(timeout_s, idempotent, retries))
        return handler

    return mark


def with_options(
    handler: Handler, *, timeout_s: float | None = None, idempotent: bool = False, retries: int = 1
) -> Handler:
    """``handler`` with its kind's options declared: ``job_options`` for a family's ``job_kinds`` map."""
    return job_options(timeout_s=timeout_s, idempotent=idempotent, retries=retries)(handler)


def options_of(handler: Handler) -> KindOptions:
    return getattr(handler, _OPTIONS_ATTR, None) or KindOptions()


def job_kind(family: str, kind: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the implementation of jobs of (family, kind)."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[(family, kind)] = handler
        return handler

    return register


def _now() -> datetime:
    return datetime.now(UTC)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_owner_id() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


#: a live process on this host is given this many times ``stale_s`` before its jobs are taken: its
#: pid says it is alive, and a late heartbeat there is a stalled loop or database (a loaded machine),
#: not a death; a process that really died is seen by its pid at once
LOCAL_ALIVE_STALE_FACTOR = 6


def owner_gone_here(owner: str) -> bool:
    """True when ``owner`` was a process on this host that no longer exists (sim's webhook claims)."""
    return _owner_here(owner) is False


def _owner_here(owner: str) -> bool | None:
    """Whether ``owner`` names a live process on this host: False when its pid no longer exists (no
    need to wait for its heartbeat to go stale), True when it does, None when this host cannot tell
    (another host's owner, or this very process: another JobService, in tests)."""
    try:
        host, pid_s, _ = owner.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return None
    if host != socket.gethostname()[:80] or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Executor(Protocol):
    """Where jobs run. ``dispatch`` hands over a QUEUED job; the service's runner claims and runs it."""

    async def start(self, service: JobService) -> None: ...
    async def dispatch(self, service: JobService, job: Job) -> None: ...
    async def shutdown(self) -> None: ...


class InProcessExecutor:
    """Runs jobs in this process: at most ``workers`` at once, sync handlers on a thread pool."""

    owns_queued = True  # queued jobs wait in this process: heartbeat them, recover them if it dies

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ridgeline-job")
        self._slots: asyncio.Semaphore | None = None
        self._service: JobService | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, service: JobService) -> None:
        return None

    async def dispatch(self, service: JobService, job: Job) -> None:
        self._service = service
        task = asyncio.get_running_loop().create_task(self._run(service, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, service: JobService, job: Job) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        token = service._token(job.id)
        async with self._slots:
            if token.cancelled:  # cancelled while waiting for a slot (recorded by cancel())
                service._tokens.pop(job.id, None)
                return
            await service.execute(job, self.pool)

    async def shutdown(self) -> None:
        if self._service is not None:
            self._service.cancel_all(SHUTDOWN)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        self.pool.shutdown(wait=False, cancel_futures=True)


class JobService:
    """Submit, inspect, list, wait for and cancel jobs; records live in ``platform_jobs``."""

    def __init__(
        self,
        db: Database,
        executor: Executor,
        app: Any = None,
        *,
        settings: JobSettings | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.executor = executor
        self.app = app  # handed to every handler as JobContext.app
        self.settings = settings or load_job_settings()
        self.owner = owner or make_owner_id()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        # Kinds the composer registered from the families' declarations (Family.job_kinds); the
        # module-level @job_kind registry is the fallback.
        self._handlers: dict[tuple[str, str], Handler] = {}
        # Jobs this process holds: their cancel tokens, and the contexts of the running ones.
        self._tokens: dict[str, CancelToken] = {}
        self._contexts: dict[str, JobContext] = {}
        # what _write_progress last wrote per running job: (fraction, detail, monotonic time)
        self._written_progress: dict[str, tuple[float, dict[str, Any] | None, float]] = {}
        self._family_kind: dict[str, tuple[str, str]] = {}  # running here: for the metrics labels
        self._executing: set[str] = set()  # ids in execute() now (claiming or running)
        self._maintainer: asyncio.Task[None] | None = None
        self._started = False
        self._stopping = False  # shutdown() began: this process's released jobs are for the others
        # With Redis: job events (state changes, progress) published for waiters on other hosts.
        self.events: JobEvents | None = None

    # -- registry ------------------------------------------------------------------------------

    def register(self, family: str, kind: str, handler: Handler) -> None:
        self._handlers[(family, kind)] = handler

    def handler(self, family: str, kind: str) -> Handler:
        found = self._handlers.get((family, kind)) or _HANDLERS.get((family, kind))
        if found is None:
            raise KeyError(f"no job kind {family}/{kind}")
        return found

    def options(self, family: str, kind: str) -> KindOptions:
        return options_of(self.handler(family, kind))

    def timeout_s(self, family: str, kind: str) -> float:
        return self.options(family, kind).timeout_s or self.settings.default_timeout_s

    @property
    def families(self) -> set[str]:
        return {f for f, _ in self._handlers} | {f for f, _ in _HANDLERS}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> int:
        """Recover jobs whose owners are gone, then keep this process's jobs alive (heartbeats,
        progress, cancels) and keep recovering others' in the background. Returns how many jobs
        were recovered now. Idempotent."""
        url = getattr(self.executor, "redis_url", None)
        if url and self.events is None:
            self.events = JobEvents(url)
        self._stopping = False
        recovered = await self.recover()
        if not self._started:
            self._started = True
            await self.executor.start(self)
            self._maintainer = asyncio.get_running_loop().create_task(self._maintain())
        return recovered

    def cancel_all(self, reason: str) -> None:
        for token in list(self._tokens.values()):
            token.cancel(reason)

    async def shutdown(self) -> None:
        """Stop this process's jobs (their tokens) and the background loop; close the executor."""
        self._stopping = True
        self.cancel_all(SHUTDOWN)
        await self.executor.shutdown()
        if self._maintainer is not None:
            self._maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._maintainer
            self._maintainer = None
        if self.events is not None:
            await self.events.close()
            self.events = None
        self._started = False

    async def _publish(self, job_id: str, status: str, progress: float) -> None:
        if self.events is not None:
            await self.events.publish(job_id, status, progress)

    async def _maintain(self) -> None:
        s = self.settings
        last_beat = last_reap = time.monotonic()
        passes = 0
        while True:
            await asyncio.sleep(s.cancel_poll_s)
            try:
                await self._poll_cancels()
                now = time.monotonic()
                if self._tokens and now - last_beat > s.stale_s / 2:
                    # others take this process's jobs for lost at stale_s: say why if it comes close
                    log.warning("job heartbeat %.1f s late (event loop or database stalled)", now - last_beat)
                if now - last_beat >= s.heartbeat_s:
                    last_beat = now
                    await self._heartbeat()
                await self._write_progress()
                if now - last_reap >= max(s.heartbeat_s, s.stale_s / 4):
                    last_reap = now
                    # a dead pid on this host is checked at every 4th pass; stale rows every pass
                    passes += 1
                    await self.recover(thorough=passes % 4 == 0)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database can be briefly away; the next tick tries again
                log.warning("job maintenance tick failed", exc_info=True)

    async def _poll_cancels(self) -> None:
        ids = [i for i, tok in self._tokens.items() if not tok.cancelled]
        if not ids:
            return
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(jobs_table.c.id).where(
                        jobs_table.c.id.in_(ids), jobs_table.c.cancel_requested_at.is_not(None)
                    )
                )
            ).all()
        for (job_id,) in rows:
            self.cancel_local(job_id)

    async def _heartbeat(self) -> None:
        if not self._tokens:
            return
        async with self.db.begin() as conn:
            # Only the jobs this process still holds: a record it dropped (its task was cancelled)
            # goes stale and is recovered by someone else.
            await conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.id.in_(list(self._tokens)),
                    jobs_table.c.owner == self.owner,
                    jobs_table.c.status.in_(LIVE),
                )
                .values(heartbeat_at=_now())
            )

    async def _write_progress(self) -> None:
        """Live progress and its detail for the processes that do not hold the job (the API of every
        serving process reads the record): written when it moved, at most every ``PROGRESS_WRITE_S``
        per job, and never backwards (the update requires the stored fraction to be no larger)."""
        now = time.monotonic()
        due: list[tuple[str, float, dict[str, Any] | None]] = []
        for job_id, ctx in list(self._contexts.items()):
            p, detail = ctx._progress
            written = self._written_progress.get(job_id)
            if written is not None and (
                (written[0], written[1]) == (p, detail) or now - written[2] < PROGRESS_WRITE_S
            ):
                continue
            if written is None and p == 0.0 and detail is None:
                continue  # nothing reported yet
            due.append((job_id, p, detail))
        if not due:
            return
        c = jobs_table.c
        async with self.db.begin() as conn:
            for job_id, p, detail in due:
                await conn.execute(
                    jobs_table.update()
                    .where(
                        c.id == job_id,
                        c.owner == self.owner,
                        c.status == JobStatus.RUNNING,
                        c.progress <= p,
                    )
                    .values(progress=p, progress_detail=detail)
                )
                self._written_progress[job_id] = (p, detail, now)
        for job_id, p, _ in due:
            await self._publish(job_id, JobStatus.RUNNING, p)

    async def recover(self, *, thorough: bool = True) -> int:
        """Recover the jobs whose owner is gone: no owner recorded (a process older than leases),
        a dead pid on this host, or a heartbeat older than ``stale_s`` (for a live pid on this host,
        ``LOCAL_ALIVE_STALE_FACTOR`` times that). An idempotent kind is re-queued
        (at most ``retries`` extra attempts); anything else is FAILED with ``job_worker_lost``.
        Jobs held by live processes, and jobs waiting in the Redis queue, are left alone. The periodic
        pass (``thorough=False``) reads only stale rows; start-up also checks pids on this host."""
        cutoff = _now() - timedelta(seconds=self.settings.stale_s)
        c = jobs_table.c
        where = [c.status.in_(LIVE), sa.or_(c.owner.is_(None), c.owner != QUEUE_OWNER)]
        if not thorough:
            where.append(sa.or_(c.owner.is_(None), c.heartbeat_at.is_(None), c.heartbeat_at < cutoff))
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        c.id,
                        c.family,
                        c.kind,
                        c.status,
                        c.owner,
                        c.heartbeat_at,
                        c.attempts,
                        c.cancel_requested_at,
                    ).where(*where)
                )
            ).all()
        count = 0
        known = self._known()
        local_cutoff = _now() - timedelta(seconds=self.settings.stale_s * LOCAL_ALIVE_STALE_FACTOR)
        for row in rows:
            if (row.family, row.kind) not in known:
                continue  # a process that serves this family decides (it knows the kind's options)
            if row.owner == self.owner and (
                self._stopping or row.id in self._tokens or row.id in self._executing
            ):
                # This process holds it (or is stopping and leaves it to the others). A record of
                # ours that we no longer hold, gone stale, is an orphan: its end could not be
                # written (the database refused the final update). With one process nobody else
                # would ever recover it, so it is recovered below like any lost job.
                continue
            stale = row.owner is None or row.heartbeat_at is None or row.heartbeat_at < cutoff
            here = None if row.owner is None else _owner_here(row.owner)
            if here is True and row.heartbeat_at is not None and row.heartbeat_at >= local_cutoff:
                continue  # alive on this host: only a much older heartbeat counts (a wedged process)
            if not stale and here is not False:
                continue
            if await self._recover_one(row):
                count += 1
        return count

    async def _recover_one(self, row: Any) -> bool:
        c = jobs_table.c
        claim = [c.id == row.id, c.status == row.status]
        claim.append(c.owner.is_(None) if row.owner is None else c.owner == row.owner)
        try:
            opts = self.options(row.family, row.kind)
        except KeyError:
            opts = KindOptions()
        if row.cancel_requested_at is not None:
            # Cancelled while its owner was dying: nothing runs it any more, so it is CANCELLED (a
            # re-queued copy could never be claimed: a claim needs no pending cancel).
            done = await self._finish(
                row.id,
                JobStatus.CANCELLED,
                error={"message": "cancelled (its worker stopped)"},
                only_from=(row.status,),
                owner=row.owner,
                any_owner=row.owner is None,
            )
            if done:
                JOBS_RECOVERED.labels(row.family, row.kind, "cancelled").inc()
            return done
        retry = opts.idempotent and row.attempts <= opts.retries
        if retry:
            # Re-queue: this process takes it over (in-process) or hands it to the queue (Redis).
            owner = self.owner if getattr(self.executor, "owns_queued", False) else QUEUE_OWNER
            async with self.db.begin() as conn:
                res = await conn.execute(
                    jobs_table.update()
                    .where(*claim)
                    .values(
                        status=JobStatus.QUEUED,
                        owner=owner,
                        heartbeat_at=_now(),
                        queued_at=_now(),
                        started_at=None,
                        error={
                            "type": "WorkerLost",
                            "reason_code": "job_worker_lost",
                            "message": f"re-queued: the worker {row.owner} stopped (attempt {row.attempts})",
                        },
                    )
                )
            if not res.rowcount:
                return False  # another process recovered it first
            log.warning("job %s re-queued: its owner %s is gone", row.id, row.owner)
            JOBS_RECOVERED.labels(row.family, row.kind, "requeued").inc()
            await self._publish(row.id, JobStatus.QUEUED, 0.0)
            job = await self.get(row.id)
            if job is not None:
                if owner == self.owner:
                    self._token(job.id)
                await self.executor.dispatch(self, job)
            return True
        done = await self._finish(
            row.id,
            JobStatus.FAILED,
            error={
                "type": "WorkerLost",
                "reason_code": "job_worker_lost",
                "message": (
                    "the service restarted or the worker holding this job stopped before it finished"
                    + (f" (owner {row.owner})" if row.owner else "")
                ),
                "attempts": row.attempts,
            },
            only_from=(row.status,),
            owner=row.owner,
            any_owner=row.owner is None,
        )
        if done:
            log.warning("job %s FAILED: its owner %s is gone", row.id, row.owner)
            JOBS_RECOVERED.labels(row.family, row.kind, "failed").inc()
        return done

    def _known(self) -> set[tuple[str, str]]:
        return set(self._handlers) | set(_HANDLERS)

    # -- the API families use ------------------------------------------------------------------

    async def submit(
        self,
        family: str,
        kind: str,
        params: dict[str, Any],
        *,
        prepare: Callable[[Job], Awaitable[None]] | None = None,
    ) -> Job:
        """Record the job and hand it to the executor. ``prepare(job)`` runs in between (the job row
        exists, nothing runs it yet): a family writes the records its handler reads there, so a worker
        in another process never starts before they exist. If ``prepare`` raises, the job is FAILED
        and the error propagates."""
        self.handler(family, kind)  # KeyError for an unknown kind, before anything is stored
        now = _now()
        holds = getattr(self.executor, "owns_queued", False)
        job = Job(
            id=uuid.uuid4().hex,
            family=family,
            kind=kind,
            status=JobStatus.QUEUED,
            params=params,
            created_at=now,
            queued_at=now,
            owner=self.owner if holds else QUEUE_OWNER,
            heartbeat_at=now if holds else None,
        )
        if holds:
            self._token(job.id)  # held before its row exists: never taken for an orphan of ours
        try:
            # One insert straight to QUEUED: the CREATED moment has no observer (one round trip less).
            async with self.db.begin() as conn:
                await conn.execute(
                    jobs_table.insert().values(msgspec.to_builtins(job, builtin_types=(datetime,)))
                )
        except BaseException:
            self._tokens.pop(job.id, None)
            raise
        if prepare is not None:
            try:
                await prepare(job)
            except BaseException as exc:
                self._tokens.pop(job.id, None)
                await self._finish(
                    job.id,
                    JobStatus.FAILED,
                    error={"type": type(exc).__name__, "message": f"not started: {exc}"},
                    only_from=PENDING,
                    any_owner=True,
                )
                raise
        await self.executor.dispatch(self, job)
        await self._publish(job.id, JobStatus.QUEUED, 0.0)
        return job

    def _overlay(self, job: Job) -> Job:
        """A job this process runs shows its live progress, not the last one written."""
        if job.status == JobStatus.RUNNING:
            ctx = self._contexts.get(job.id)
            if ctx is not None:
                p, detail = ctx._progress
                if p >= job.progress:
                    job.progress = p
                    job.progress_detail = detail if detail is not None else job.progress_detail
        return job

    async def get(self, job_id: str) -> Job | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(jobs_table.select().where(jobs_table.c.id == job_id))).first()
        return None if row is None else self._overlay(row_to(Job, row))

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
        return {r.id: self._overlay(row_to(Job, r)) for r in rows}

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
        return [self._overlay(row_to(Job, r)) for r in rows]

    def cancel_local(self, job_id: str, reason: str = "cancelled") -> bool:
        """Set the token of a job this process holds (False when it holds none)."""
        token = self._tokens.get(job_id)
        if token is None:
            return False
        token.cancel(reason)
        return True

    async def cancel(self, job_id: str, *, wait_s: float = 30) -> Job | None:
        """Cancel a job: a pending one at once, a running one by stopping its work wherever it runs
        (the owner sees the request within ``cancel_poll_s``). A job that finished its work keeps its
        outcome; terminal jobs are returned unchanged."""
        job = await self.get(job_id)
        if job is None or job.status.terminal:
            return job
        async with self.db.begin() as conn:
            await conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(LIVE))
                .values(cancel_requested_at=_now())
            )
        # Pending now (also when it was re-queued since the read above, its holder having died): CANCELLED
        # at once; no worker can claim it any more (a claim needs no pending cancel).
        # A local executor task (pending or running) sees the token: it never starts, or stops.
        self.cancel_local(job_id)
        if await self._finish(
            job_id,
            JobStatus.CANCELLED,
            error={"message": "cancelled before start"},
            only_from=PENDING,
            any_owner=True,
        ):
            return await self.get(job_id)
        return await self.wait(job_id, limit_s=wait_s)

    async def wait(self, job_id: str, limit_s: float | None = None) -> Job | None:
        """Wait until the job is terminal (or the timeout passes) and return its record. A job this
        process runs wakes the waiter at once; one running elsewhere is polled (50 ms growing to 0.5 s)."""
        if self.events is not None and job_id not in self._tokens:
            job = await self.get(job_id)
            if job is None or job.status.terminal:
                return job  # done already: no subscription needed
            with contextlib.suppress(Exception):  # Redis away: poll as without it
                return await self._wait_for_events(job_id, limit_s)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(fut)
        deadline = None if limit_s is None else time.monotonic() + limit_s
        delay = 0.05
        try:
            while True:
                job = await self.get(job_id)
                if job is None or job.status.terminal:
                    return job
                step = delay if deadline is None else min(delay, deadline - time.monotonic())
                if step <= 0:
                    return job
                if fut.done():  # woken for a job that is not terminal (a failed claim): wait afresh
                    self._waiters.get(job_id, []).remove(fut)
                    fut = asyncio.get_running_loop().create_future()
                    self._waiters.setdefault(job_id, []).append(fut)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(fut), step)
                delay = min(delay * 2, 0.5)
        finally:
            waiters = self._waiters.get(job_id, [])
            if fut in waiters:
                waiters.remove(fut)
            if not waiters:
                self._waiters.pop(job_id, None)

    async def _wait_for_events(self, job_id: str, limit_s: float | None) -> Job | None:
        """``wait`` for a job another process runs: re-read the record when its event arrives, with a
        slow poll (EVENTS_FALLBACK_POLL_S) in case a message was lost."""
        assert self.events is not None
        deadline = None if limit_s is None else time.monotonic() + limit_s
        async with self.events.subscribe(job_id) as sub:  # before the first read: no event missed
            while True:
                job = await self.get(job_id)
                if job is None or job.status.terminal:
                    return job
                # Progress events need no read; the terminal one (or the slow fallback) does.
                read_at = time.monotonic() + EVENTS_FALLBACK_POLL_S
                if deadline is not None:
                    read_at = min(read_at, deadline)
                while (left := read_at - time.monotonic()) > 0:
                    event = await sub.next(left)
                    if event is None or JobStatus(event.status).terminal:
                        break
                if deadline is not None and time.monotonic() >= deadline:
                    return await self.get(job_id)

    async def watch(self, job_id: str, *, poll_s: float = 0.5) -> AsyncIterator[Job]:
        """The job's record each time its status, progress or progress detail changes, until it is terminal (for
        streams and SSE). With Redis it wakes on the job's events; without, it polls every ``poll_s``."""
        last: tuple[JobStatus, float, Any] | None = None
        sub_cm = self.events.subscribe(job_id) if self.events is not None else None
        sub = await sub_cm.__aenter__() if sub_cm is not None else None
        try:
            while True:
                job = await self.get(job_id)
                if job is None:
                    return
                if (job.status, job.progress, job.progress_detail) != last:
                    last = (job.status, job.progress, job.progress_detail)
                    yield job
                if job.status.terminal:
                    return
                if sub is not None:
                    await sub.next(EVENTS_FALLBACK_POLL_S)
                else:
                    await asyncio.sleep(poll_s)
        finally:
            if sub_cm is not None:
                await sub_cm.__aexit__(None, None, None)

    # -- the runner every executor uses --------------------------------------------------------

    def _token(self, job_id: str) -> CancelToken:
        return self._tokens.setdefault(job_id, CancelToken())

    async def execute(self, job: Job, pool: ThreadPoolExecutor) -> JobStatus | None:
        """Claim ``job`` (QUEUED -> RUNNING, owner = this process) and run it to one terminal state.
        Returns None when the claim fails (cancelled, or another process holds it)."""
        if job.id in self._executing:
            # A second delivery of a job this process is already claiming or running (SAQ can hand a
            # job out twice): it must not touch the first one's token, context or heartbeat.
            return None
        self._executing.add(job.id)
        try:
            return await self._execute(job, pool)
        except Exception:
            # The database refused a write of its state (most often the last one). The record is
            # left RUNNING (or QUEUED) under this owner with no heartbeat: recover() takes it up
            # once it is stale, here or in another process.
            log.exception("job %s: its state could not be recorded; recovered once stale", job.id)
            return None
        finally:
            self._executing.discard(job.id)

    async def _execute(self, job: Job, pool: ThreadPoolExecutor) -> JobStatus | None:
        token = self._token(job.id)
        c = jobs_table.c
        try:
            now = _now()
            async with self.db.begin() as conn:
                res = await conn.execute(
                    jobs_table.update()
                    .where(c.id == job.id, c.status == JobStatus.QUEUED, c.cancel_requested_at.is_(None))
                    .values(
                        status=JobStatus.RUNNING,
                        started_at=now,
                        owner=self.owner,
                        heartbeat_at=now,
                        attempts=c.attempts + 1,
                    )
                )
            if not res.rowcount or token.cancelled:
                if res.rowcount:  # claimed, then cancelled at once: record it
                    await self._finish(job.id, JobStatus.CANCELLED, error={"message": token.reason})
                else:  # a delivery of a job whose cancel was requested while it waited: end it
                    await self._finish(
                        job.id,
                        JobStatus.CANCELLED,
                        error={"message": "cancelled before start"},
                        only_from=PENDING,
                        any_owner=True,
                        cancelled_only=True,
                    )
                return None
            await self._publish(job.id, JobStatus.RUNNING, 0.0)
            handler = self.handler(job.family, job.kind)
            ctx = JobContext(job, token, self.app, self._budget(), pool)
            self._contexts[job.id] = ctx
            self._family_kind[job.id] = (job.family, job.kind)
            running = JOBS_RUNNING.labels(job.family, job.kind)
            running.inc()
            started = time.perf_counter()
            timeout = self.timeout_s(job.family, job.kind)
            loop = asyncio.get_running_loop()
            timer = loop.call_later(timeout, token.cancel, f"timed out after {timeout:g} s")
            try:
                if inspect.iscoroutinefunction(handler):
                    result = await handler(ctx)
                else:
                    result = await loop.run_in_executor(pool, handler, ctx)
            except asyncio.CancelledError:
                # This task was cancelled (the worker is stopping): stop the work and let go of the
                # record, so another process recovers it at once (FAILED, or re-queued if idempotent).
                token.cancel(SHUTDOWN)
                await asyncio.shield(self._release(job.id))
                raise
            except JobCancelled:
                if token.reason == SHUTDOWN and not await self._cancel_requested(job.id):
                    await self._release(job.id)  # another process recovers it at once
                    return None
                if token.reason.startswith("timed out"):
                    err = {"type": "Timeout", "reason_code": "job_timeout", "message": token.reason}
                    return await self._finish_as(job.id, JobStatus.FAILED, error=err)
                return await self._finish_as(job.id, JobStatus.CANCELLED, error={"message": token.reason})
            except Exception as exc:
                log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
                err = {"type": type(exc).__name__, "message": str(exc)}
                if isinstance(exc, EngineError):  # the family's contract code, not a parsed message
                    err["reason_code"] = exc.reason_code
                return await self._finish_as(job.id, JobStatus.FAILED, error=err)
            finally:
                timer.cancel()
                running.dec()
                JOB_SECONDS.labels(job.family, job.kind).observe(time.perf_counter() - started)
            # The work is done: a cancel that arrived meanwhile does not relabel it.
            try:
                stored = msgspec.to_builtins(result) if result is not None else None
            except (TypeError, ValueError, msgspec.EncodeError) as exc:
                err = {"type": "TypeError", "message": f"the job's result cannot be stored: {exc}"}
                return await self._finish_as(job.id, JobStatus.FAILED, error=err)
            return await self._finish_as(job.id, JobStatus.SUCCEEDED, result=stored, progress=1.0)
        finally:
            self._tokens.pop(job.id, None)
            self._contexts.pop(job.id, None)
            self._written_progress.pop(job.id, None)
            self._family_kind.pop(job.id, None)
            self._notify(job.id)

    async def _finish_as(self, job_id: str, status: JobStatus, **kw: Any) -> JobStatus | None:
        """``_finish`` by the holder: the status, or None when the job was recovered elsewhere meanwhile."""
        return status if await self._finish(job_id, status, **kw) else None

    def _budget(self) -> int:
        if self.settings.threads_per_job:
            return self.settings.threads_per_job
        return max(1, _cores() // (len(self._contexts) + 1))

    async def _cancel_requested(self, job_id: str) -> bool:
        job = await self.get(job_id)
        return job is not None and job.cancel_requested_at is not None

    async def _release(self, job_id: str) -> None:
        c = jobs_table.c
        async with self.db.begin() as conn:
            await conn.execute(
                jobs_table.update()
                .where(c.id == job_id, c.owner == self.owner, c.status == JobStatus.RUNNING)
                .values(heartbeat_at=None)
            )

    def _notify(self, job_id: str) -> None:
        for fut in self._waiters.get(job_id, []):
            if not fut.done():
                fut.set_result(None)

    async def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Any = None,
        error: dict[str, Any] | None = None,
        progress: float | None = None,
        only_from: tuple[JobStatus, ...] = (JobStatus.RUNNING,),
        owner: str | None = None,
        any_owner: bool = False,
        cancelled_only: bool = False,
    ) -> bool:
        """Move the job to a terminal state, only from ``only_from`` and only if ``owner`` (default: this
        process) still holds it, so a result is stored once, by the holder."""
        values: dict[str, Any] = {"status": status, "finished_at": _now(), "error": error}
        if result is not None:
            values["result"] = msgspec.to_builtins(result)
        if progress is not None:
            values["progress"] = progress
        c = jobs_table.c
        where = [c.id == job_id, c.status.in_(only_from)]
        if not any_owner:
            where.append(c.owner == (owner or self.owner))
        if cancelled_only:
            where.append(c.cancel_requested_at.is_not(None))
        async with self.db.begin() as conn:
            res = await conn.execute(jobs_table.update().where(*where).values(**values))
        if res.rowcount:
            self._notify(job_id)
            await self._publish(job_id, status, progress if progress is not None else 0.0)
            family_kind = self._family_kind.pop(job_id, None)
            if family_kind is not None:
                JOBS_FINISHED.labels(*family_kind, status.value).inc()
        return bool(res.rowcount)


def make_executor(settings: Any) -> Executor:
    """The executor for ``settings`` (a :class:`~ridgeline.platform.settings.Settings`, or a worker
    count for an in-process executor): the Redis queue when ``redis_url`` is set, else in-process."""
    if isinstance(settings, int):
        return InProcessExecutor(settings)
    if settings.redis_url:
        from ridgeline.platform.jobqueue import QueueExecutor

        js = load_job_settings()
        return QueueExecutor(settings.redis_url, run_jobs=js.run_in_serve, concurrency=js.serve_concurrency)
    return InProcessExecutor(settings.job_workers)
