"""Jobs queued when Redis loses its data (FLUSHALL on a real redis-server) are enqueued again from
their database record: periodically by a running process, and at start-up by a worker."""

from __future__ import annotations

import asyncio

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobqueue import QueueExecutor
from ridgeline.platform.jobs import JobService, JobStatus, load_job_settings
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds)
from tests.platform.jobs.test_lease import until

pytestmark = [pytest.mark.redis, pytest.mark.db]


def _settings(reconcile_s: float):  # type: ignore[no-untyped-def]
    return load_job_settings({}, heartbeat_s=0.1, stale_s=1.0, cancel_poll_s=0.05, reconcile_s=reconcile_s)


async def _flushall(redis_url: str) -> None:
    import redis.asyncio as aioredis

    r = aioredis.from_url(redis_url)
    try:
        await r.flushall()
    finally:
        await r.aclose()


async def _in_redis(executor: QueueExecutor, jobs: list) -> list[bool]:  # type: ignore[type-arg]
    found = await executor.queue("jt").jobs([executor.saq_key(j.id, j.attempts) for j in jobs])
    return [f is not None for f in found]


def test_jobs_lost_by_redis_are_enqueued_again(settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        dbmod.upgrade(settings)
        dbs = [dbmod.Database(settings) for _ in range(3)]
        # a service that only enqueues (like `serve` with Redis), reconciling every 0.3 s
        submitter_q = QueueExecutor(redis_url, run_jobs=False)
        submitter = JobService(dbs[0], submitter_q, settings=_settings(0.3))
        await submitter.start()
        runner = None
        try:
            periodic = [await submitter.submit("jt", "add", {"a": i, "b": 1}) for i in range(3)]
            assert await _in_redis(submitter_q, periodic) == [True] * 3
            await _flushall(redis_url)
            assert await _in_redis(submitter_q, periodic) == [False] * 3  # Redis lost them
            await until(lambda: _all_in_redis(submitter_q, periodic))  # the periodic pass
            await submitter.shutdown()

            # stopped services, a flush, then a worker starts: its start-up pass enqueues them again
            later_q = QueueExecutor(redis_url, run_jobs=False)
            later = JobService(dbs[1], later_q, settings=_settings(3600))
            at_start = [await later.submit("jt", "add", {"a": 10 + i, "b": 1}) for i in range(2)]
            await later_q.shutdown()
            await _flushall(redis_url)
            await asyncio.sleep(5.2)  # older than the reconcile grace (5 s): a settled QUEUED record
            # no periodic pass in the time of this test: only the start-up one can enqueue them
            runner = JobService(
                dbs[2], QueueExecutor(redis_url, run_jobs=True, families=["jt"]), settings=_settings(3600)
            )
            await runner.start()
            for job in [*periodic, *at_start]:
                done = await runner.wait(job.id, limit_s=20)
                assert done is not None and done.status == JobStatus.SUCCEEDED, done
                assert done.result == {"sum": job.params["a"] + 1}
        finally:
            if runner is not None:
                await runner.shutdown()
            await submitter.shutdown()
            for d in dbs:
                await d.dispose()

    asyncio.run(main())


async def _all_in_redis(executor: QueueExecutor, jobs: list) -> bool:  # type: ignore[type-arg]
    return all(await _in_redis(executor, jobs))


def _dead_owner() -> str:
    """The owner id of a process on this host that has exited."""
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()[:80]}:{proc.pid}:deadbeef"


def test_a_job_dequeued_by_a_worker_that_died_before_claiming_it_runs_elsewhere(
    settings, redis_url: str
) -> None:  # type: ignore[no-untyped-def]
    """A worker SIGKILLed between SAQ's dequeue and the claim of the record leaves the record QUEUED
    and the SAQ entry active on a dead worker (later aborted by SAQ's sweep, since SAQ retries
    nothing): neither SAQ nor a worker would ever run it. Reconciliation enqueues both again."""
    from saq.job import Status
    from saq.utils import now

    from ridgeline.platform.jobqueue import saq_worker_id

    async def main() -> None:
        dbmod.upgrade(settings)
        dbs = [dbmod.Database(settings) for _ in range(2)]
        submitter_q = QueueExecutor(redis_url, run_jobs=False)
        submitter = JobService(dbs[0], submitter_q, settings=_settings(0.3))
        await submitter.start()
        runner = None
        try:
            held, swept = [await submitter.submit("jt", "add", {"a": i, "b": 1}) for i in range(2)]
            q = submitter_q.queue("jt")
            dead = saq_worker_id(_dead_owner())
            for job in (held, swept):  # what SAQ's worker does on dequeue, then the process dies
                entry = await q.dequeue(timeout=5)
                assert entry is not None and entry.kwargs == {"job_id": job.id}
                entry.started, entry.worker_id = now(), dead
                entry.attempts += 1
                await entry.update(status=Status.ACTIVE)
                if job is swept:  # what SAQ's sweep makes of it later (not retryable: retries=1)
                    await q.finish(entry, Status.ABORTED, error="swept")
            runner = JobService(
                dbs[1], QueueExecutor(redis_url, run_jobs=True, families=["jt"]), settings=_settings(0.3)
            )
            await runner.start()
            for job in (held, swept):
                done = await runner.wait(job.id, limit_s=30)
                assert done is not None and done.status == JobStatus.SUCCEEDED, done
                assert done.result == {"sum": job.params["a"] + 1} and done.attempts == 1
        finally:
            if runner is not None:
                await runner.shutdown()
            await submitter.shutdown()
            for d in dbs:
                await d.dispose()

    asyncio.run(main())


def test_saq_sweeping_a_live_delivery_does_not_stop_its_job(settings, redis_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SAQ's sweep takes a just-dequeued entry whose worker has not yet marked it active (its event
    loop stalled on a loaded host) for an orphan and aborts it; SAQ's worker then cancelled our
    handler, and the job was released as if its worker had died (FAILED job_worker_lost here, a
    kind that is not idempotent). The worker keeps running it: the record decides."""
    from saq.job import Status

    async def main() -> None:
        dbmod.upgrade(settings)
        dbs = [dbmod.Database(settings) for _ in range(2)]
        submitter = JobService(dbs[0], QueueExecutor(redis_url, run_jobs=False), settings=_settings(0.3))
        runner_q = QueueExecutor(redis_url, run_jobs=True, families=["jt"])
        runner = JobService(dbs[1], runner_q, settings=_settings(0.3))
        await submitter.start()
        await runner.start()
        try:
            job = await submitter.submit("jt", "steps", {"steps": 1, "dir": str(tmp_path)})
            await until(lambda: _running_on(submitter, job.id, runner.owner))
            q = runner_q.queue("jt")
            entry = await q.job(runner_q.saq_key(job.id, 0))
            assert entry is not None and entry.status == Status.ACTIVE
            await q.abort(entry, error="swept")  # what SAQ's sweep does to it
            await q.finish(entry, Status.ABORTED, error="swept")
            await asyncio.sleep(3)  # SAQ's abort check runs every second
            assert await _running_on(submitter, job.id, runner.owner)
            (tmp_path / f"{job.id}.go0").touch()
            done = await submitter.wait(job.id, limit_s=20)
            assert done is not None and done.status == JobStatus.SUCCEEDED and done.attempts == 1, done
        finally:
            await runner.shutdown()
            await submitter.shutdown()
            for d in dbs:
                await d.dispose()

    asyncio.run(main())


async def _running_on(service: JobService, job_id: str, owner: str) -> bool:
    job = await service.get(job_id)
    return (
        job is not None
        and job.status == JobStatus.RUNNING
        and job.owner == owner
        and job.heartbeat_at is not None
    )
