"""The Redis-backed executor (SAQ) and the ``ridgeline worker`` process.

With ``RIDGELINE_REDIS_URL`` set, a submitted job is recorded QUEUED (owner ``queue``) and enqueued
to SAQ on the family's queue (``ridgeline:<family>``) with the kind's timeout. A worker process
dequeues it and hands it to :meth:`JobService.execute`, which claims the database record (QUEUED ->
RUNNING, owner = that worker) before running anything: the record stays the source of truth, so a
SAQ delivery of a job that was cancelled, already claimed or recovered elsewhere does nothing.

SAQ is used for what it is good at (delivery to exactly one dequeuer, per-job timeout, its own
heartbeat and sweep of stuck SAQ entries); liveness of a *running* job, cancellation and the
re-queue of idempotent kinds after a crash are the job service's (database heartbeat and cancel
flag), so the in-process and Redis executors behave the same and a cancel reaches a job whichever
process took the request. Between SAQ's dequeue and the claim a worker can die (SIGKILL): the record
is then QUEUED while SAQ holds the entry active on a dead worker, and :meth:`QueueExecutor.reconcile`
enqueues it again (see there).

A worker process runs at most ``concurrency`` jobs at once in all: its family queues' SAQ workers
share one pool of slots, and a slot is taken before a dequeue (:func:`_slot_worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ridgeline.platform.jobs import (
    QUEUE_OWNER,
    SHUTDOWN,
    Job,
    JobService,
    JobStatus,
    _now,
    _owner_here,
    jobs_table,
)

log = logging.getLogger("ridgeline.jobs.queue")

QUEUE_PREFIX = "ridgeline"
# SAQ's own timeout backs ours up (the service cancels the token at the kind's timeout and records
# FAILED job_timeout); SAQ only steps in if a handler ignores its token for this much longer.
SAQ_TIMEOUT_GRACE_S = 60


def queue_name(family: str) -> str:
    return f"{QUEUE_PREFIX}:{family}"


#: with several family queues, an idle queue's dequeue holds a slot at most this long, then lets go
#: of it for this long, so the queues that have work take the process's slots
SHARED_DEQUEUE_S = 0.25
SHARED_IDLE_S = 0.25


def _slot_worker(slots: asyncio.Semaphore, idle_s: float) -> type[Any]:
    """A SAQ worker that takes one of the process's job slots *before* it dequeues and holds it until
    the job is done: ``concurrency`` is then the number of jobs the process runs at once across all
    the family queues it serves, and a worker with no free slot leaves jobs in Redis for the others
    (it never holds a dequeued job it cannot start)."""
    from saq import Worker

    class SlotWorker(Worker):  # type: ignore[misc]
        async def abort(self, abort_threshold: float) -> None:
            """Never cancel a delivery because its SAQ entry was aborted: a cancel is a flag on the
            record (the job service polls it), and the only aborts SAQ makes are its sweep's. That
            sweep takes an entry in the active list whose stored status is not yet ``active`` for an
            orphan, and a worker whose event loop is stalled (a loaded host) sets ``active`` late
            after its dequeue: SAQ then aborted a live worker's fresh delivery and cancelled our
            handler, before the claim (the record stayed QUEUED, its entry aborted: no one ran it)
            or after it (the job was released as if its worker had died: re-run, or FAILED
            job_worker_lost for a kind that is not idempotent)."""
            return None

        async def process(self) -> bool:
            async with slots:
                got = bool(await super().process())
            if not got and idle_s and not self.event.is_set():
                await asyncio.sleep(idle_s)  # this queue is idle: the slot goes to one with work
            return got

    return SlotWorker


def saq_worker_id(owner: str) -> str:
    """The SAQ worker id of this process's workers: its job owner id (``host:pid:nonce``) with ``/``
    for ``:`` (SAQ splits its worker keys on ``:``), so reconciliation can tell whose entry it is."""
    return owner.replace(":", "/")


class QueueExecutor:
    """Enqueues jobs to SAQ; with ``run_jobs`` also runs SAQ workers for ``families`` in this process
    (``concurrency`` job slots for the process, shared by its family queues)."""

    owns_queued = False  # a queued job waits in Redis, not in this process

    def __init__(
        self,
        redis_url: str,
        *,
        run_jobs: bool,
        concurrency: int = 2,
        families: Sequence[str] | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.run_jobs = run_jobs
        self.concurrency = concurrency
        self.families = list(families) if families is not None else None
        self.pool = ThreadPoolExecutor(
            max_workers=max(concurrency, 1) * 4, thread_name_prefix="ridgeline-job"
        )
        self._queues: dict[str, Any] = {}
        self._workers: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._service: JobService | None = None
        self.stopped = asyncio.Event()

    def queue(self, family: str) -> Any:
        q = self._queues.get(family)
        if q is None:
            from saq import Queue

            q = self._queues[family] = Queue.from_url(self.redis_url, name=queue_name(family))
        return q

    async def start(self, service: JobService) -> None:
        self._service = service
        try:
            await self.reconcile(service)
        except Exception:  # Redis or the database briefly away: the periodic pass tries again
            log.warning("job queue reconciliation failed at start-up", exc_info=True)
        self._tasks.append(asyncio.get_running_loop().create_task(self._reconcile_loop(service)))
        if not self.run_jobs:
            return
        names = self.families if self.families is not None else sorted(service.families)
        # One pool of slots for the process: each family queue may use all of them when the others
        # are idle, never more in all.
        shared = len(names) > 1
        worker_class = _slot_worker(asyncio.Semaphore(self.concurrency), SHARED_IDLE_S if shared else 0.0)
        for family in names:
            q = self.queue(family)
            await q.connect()
            worker = worker_class(
                q,
                functions=[("run", self._run)],
                id=saq_worker_id(service.owner),
                concurrency=self.concurrency,
                timers={"abort": 1, "sweep": 30, "schedule": 5, "worker_info": 10},
                dequeue_timeout=SHARED_DEQUEUE_S if shared else 1.0,
            )
            worker.SIGNALS = []  # the process owns its signals (granian's, or ridgeline worker's)
            self._workers.append(worker)
            self._tasks.append(asyncio.get_running_loop().create_task(worker.start()))
        log.info("job workers started for %s (%d job slots in all)", ", ".join(names), self.concurrency)

    @staticmethod
    def saq_key(job_id: str, attempts: int) -> str:
        return f"{job_id}:{attempts}"  # a re-queued attempt is a new SAQ job

    async def reconcile(self, service: JobService) -> int:
        """Enqueue again the QUEUED jobs (queued more than min(5 s, reconcile_s) ago) that no worker
        will run from their SAQ entry; the database record is the source of truth. Their entry is:

        - missing: Redis restarted without persistence, was flushed or failed over;
        - ended (complete, failed, aborted) though the record was never claimed: SAQ's sweep aborted
          the entry of a worker that died after dequeuing it (SAQ retries nothing: ``retries=1``);
        - active on a worker that is gone (its pid on this host no longer exists, or, on another host,
          its SAQ worker record expired and it took the entry more than ``stale_s`` ago): it died
          between SAQ's dequeue and the claim of the record, so neither it nor SAQ will run the job.

        Enqueueing twice is harmless (a delivery runs only what it can claim on the record), and SAQ
        refuses a key it holds, so processes reconciling at once do not pile up entries. Returns how
        many jobs were enqueued again."""
        from saq.job import TERMINAL_STATUSES, Status

        grace = min(5.0, service.settings.reconcile_s)
        c = jobs_table.c
        families = sorted(self.families if self.families is not None else service.families)
        async with service.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(c.id, c.family, c.attempts).where(
                        c.status == JobStatus.QUEUED,
                        c.owner == QUEUE_OWNER,
                        c.cancel_requested_at.is_(None),
                        c.family.in_(families),
                        c.queued_at < _now() - timedelta(seconds=grace),
                    )
                )
            ).all()
        count = 0
        by_family: dict[str, list[Any]] = {}
        for row in rows:
            by_family.setdefault(row.family, []).append(row)
        for family, members in by_family.items():
            q = self.queue(family)
            found = await q.jobs([self.saq_key(r.id, r.attempts) for r in members])
            for row, saq_job in zip(members, found, strict=True):
                if saq_job is None:
                    why = "was missing from the Redis queue"
                elif saq_job.status in TERMINAL_STATUSES:
                    why = f"had a {saq_job.status.value} SAQ entry but was never claimed"
                elif saq_job.status == Status.ACTIVE and await self._holder_gone(q, saq_job, service):
                    why = f"was taken from the queue by a worker that is gone ({saq_job.worker_id})"
                else:
                    continue  # waiting in Redis, or held by a live worker about to claim it
                job = await service.get(row.id)
                if job is None or job.status != JobStatus.QUEUED or job.owner != QUEUE_OWNER:
                    continue  # claimed or cancelled meanwhile
                if job.attempts != row.attempts:
                    continue
                if saq_job is not None and not await self._lock_requeue(q, saq_job.key):
                    continue  # another process is on it
                if saq_job is not None and saq_job.status == Status.ACTIVE:
                    # release the key (SAQ refuses to enqueue a key it holds as incomplete)
                    await q.finish(saq_job, Status.ABORTED, error=f"reconciled: {why}")
                if await self.dispatch(service, job):
                    log.warning("job %s %s: enqueued again", row.id, why)
                    count += 1
        return count

    @staticmethod
    async def _holder_gone(q: Any, saq_job: Any, service: JobService) -> bool:
        """Whether the worker holding ``saq_job`` (active in SAQ, its record still QUEUED) is gone."""
        worker_id = saq_job.worker_id
        if not worker_id:
            return False  # not marked active by a worker yet
        owner = str(worker_id).replace("/", ":")
        if owner == service.owner:
            return False  # this very process: alive
        here = _owner_here(owner)
        if here is not None:
            return not here  # a process on this host: its pid says
        # Another host: SAQ's worker record (refreshed every 10 s, kept 11 s) has expired, and the
        # entry was taken long enough ago that a live worker would have claimed the record.
        if time.time() * 1000 - (saq_job.started or 0) < service.settings.stale_s * 1000:
            return False
        return not await q.redis.exists(q.namespace(f"worker_info:{worker_id}"))

    @staticmethod
    async def _lock_requeue(q: Any, key: str) -> bool:
        """One process re-enqueues a given SAQ entry (a short lock in Redis)."""
        return bool(await q.redis.set(f"{QUEUE_PREFIX}:requeue:{q.name}:{key}", 1, nx=True, ex=30))

    async def _reconcile_loop(self, service: JobService) -> None:
        while True:
            await asyncio.sleep(service.settings.reconcile_s)
            try:
                await self.reconcile(service)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job queue reconciliation failed", exc_info=True)

    async def dispatch(self, service: JobService, job: Job) -> bool:
        """Enqueue ``job`` (key ``<id>:<attempts>``); False when SAQ already holds that key."""
        try:
            q = self.queue(job.family)
            timeout = service.timeout_s(job.family, job.kind)
            enqueued = await q.enqueue(
                "run",
                key=self.saq_key(job.id, job.attempts),
                kwargs={"job_id": job.id},
                timeout=int(timeout) + SAQ_TIMEOUT_GRACE_S,
                heartbeat=int(max(30, service.settings.stale_s * 3)),
                retries=1,  # SAQ never re-runs on its own: re-runs are decided on the database record
                ttl=24 * 3600,
            )
        except Exception as exc:
            log.exception("could not enqueue job %s", job.id)
            await service._finish(
                job.id,
                JobStatus.FAILED,
                error={
                    "type": "QueueUnavailable",
                    "reason_code": "job_queue_unavailable",
                    "message": f"the job queue could not take this job: {type(exc).__name__}: {exc}",
                },
                only_from=(JobStatus.QUEUED,),
                any_owner=True,
            )
            return False
        if enqueued is None:
            log.debug("job %s: SAQ already holds %s", job.id, self.saq_key(job.id, job.attempts))
        return enqueued is not None

    async def _run(self, ctx: dict[str, Any], *, job_id: str) -> str:
        service = self._service
        if service is None:
            raise RuntimeError("executor not started")
        job = await service.get(job_id)
        if job is None or job.status != JobStatus.QUEUED:
            return "skipped"  # cancelled, recovered or claimed elsewhere: the record decides
        saq_job = ctx.get("job")

        async def touch() -> None:  # keep SAQ's heartbeat (its sweep) in step with ours
            while True:
                await asyncio.sleep(service.settings.heartbeat_s * 5)
                with contextlib.suppress(Exception):
                    live = service._contexts.get(job_id)
                    await saq_job.update(progress=live.progress if live else 0.0)

        toucher = asyncio.get_running_loop().create_task(touch()) if saq_job is not None else None
        try:
            status = await service.execute(job, self.pool)
        finally:
            if toucher is not None:
                toucher.cancel()
        return "skipped" if status is None else status.value

    async def shutdown(self) -> None:
        if self._service is not None:
            self._service.cancel_all(SHUTDOWN)
        for worker in self._workers:
            with contextlib.suppress(Exception):
                await worker.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        for q in self._queues.values():
            with contextlib.suppress(Exception):
                await q.disconnect()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.stopped.set()


async def run_worker(settings: Any, family_names: Iterable[str], concurrency: int) -> None:
    """``ridgeline worker``: start the families' services, then run their jobs from Redis until
    SIGTERM/SIGINT (running jobs are stopped and recovered by the others)."""
    from ridgeline.app import _start_family, _stop_family, load_family
    from ridgeline.platform.context import AppContext
    from ridgeline.platform.family import validate_settings
    from ridgeline.platform.observability import configure_logging

    configure_logging(settings.log_level)
    from ridgeline.app import available_families

    names = list(family_names)
    present = set(available_families())
    families = [load_family(n) for n in names if n in present]  # others: @job_kind registrations
    family_settings = validate_settings(families)
    ctx = AppContext(settings)
    ctx.family_settings.update(family_settings)
    executor = QueueExecutor(settings.redis_url, run_jobs=True, concurrency=concurrency, families=names)
    ctx.jobs.executor = executor
    for fam in families:
        for kind, handler in fam.job_kinds.items():
            ctx.jobs.register(fam.name, kind, handler)
        for prov in fam.services:
            ctx.service_family[prov.type] = fam.name
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        for fam in families:
            await _start_family(ctx, fam)
        if ctx.failed:
            log.error("families failed to start: %s", ctx.failed)
        await ctx.jobs.start()
        print(
            f"ridgeline worker {ctx.jobs.owner} running {', '.join(names)} jobs "
            f"(job slots: {concurrency} in all)",
            flush=True,
        )
        await stop.wait()
    finally:
        await ctx.jobs.shutdown()
        for fam in families:
            with contextlib.suppress(Exception):
                await _stop_family(ctx, fam)
        await ctx.db.dispose()
