"""Jobs are held by an owner with a heartbeat: another process starting never touches them; a dead
owner's jobs are recovered (FAILED, or re-queued once for idempotent kinds); a result is stored only
by its holder; cancels cross processes; finished work is never relabelled CANCELLED."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import (
    InProcessExecutor,
    JobService,
    JobStatus,
    jobs_table,
    load_job_settings,
)
from tests.platform.jobs import kinds

pytestmark = pytest.mark.db

FAST = load_job_settings({}, heartbeat_s=0.1, stale_s=1.0, cancel_poll_s=0.05)


def run(settings, body: Callable[..., Awaitable[None]], services: int = 2) -> None:  # type: ignore[no-untyped-def]
    """``body(a, b, ...)`` with ``services`` started job services on one database (like two processes)."""

    async def main() -> None:
        dbmod.upgrade(settings)
        dbs = [dbmod.Database(settings) for _ in range(services)]
        jobs = [JobService(d, InProcessExecutor(2), app="app", settings=FAST) for d in dbs]
        try:
            for j in jobs:
                await j.start()
            await body(*jobs)
        finally:
            for j in jobs:
                await j.shutdown()
            for d in dbs:
                await d.dispose()

    asyncio.run(main())


async def until(cond: Callable[[], Awaitable[Any]], limit_s: float = 60, what: str = "condition") -> Any:
    """Await ``cond()`` until it gives something true, and return that; AssertionError after
    ``limit_s`` (a hang guard: conditions are polled, never assumed after a sleep)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while not (value := await cond()):
        if loop.time() > end:
            raise AssertionError(f"{what} not reached within {limit_s} s")
        await asyncio.sleep(0.02)
    return value


async def insert(
    jobs: JobService,
    *,
    kind: str,
    status: str,
    owner: str | None,
    beat_age_s: float | None,
    attempts: int = 1,
) -> str:
    job_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    async with jobs.db.begin() as conn:
        await conn.execute(
            jobs_table.insert().values(
                id=job_id,
                family="jt",
                kind=kind,
                status=status,
                params={"seconds": 0.2},
                created_at=now,
                queued_at=now,
                started_at=now,
                owner=owner,
                heartbeat_at=None if beat_age_s is None else now - timedelta(seconds=beat_age_s),
                attempts=attempts,
            )
        )
    return job_id


def test_a_second_process_starting_leaves_running_jobs_alone(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService, b: JobService) -> None:
        job = await a.submit("jt", "spin", {"seconds": 60})
        await until(lambda: _status(a, job.id, JobStatus.RUNNING))
        assert await b.recover() == 0  # the second worker's start-up recovery
        await asyncio.sleep(3 * FAST.stale_s)  # several heartbeats and reaper passes of b
        assert (await b.get(job.id)).status == JobStatus.RUNNING  # type: ignore[union-attr]
        await a.cancel(job.id)

    run(settings, body)


def test_a_stale_owner_is_recovered_as_failed_with_a_reason(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService) -> None:
        stale = await insert(a, kind="spin", status="RUNNING", owner="elsewhere:1:abcd", beat_age_s=60)
        fresh = await insert(a, kind="spin", status="RUNNING", owner="elsewhere:2:abcd", beat_age_s=0)
        legacy = await insert(a, kind="spin", status="QUEUED", owner=None, beat_age_s=None)
        assert await a.recover() == 2
        job = await a.get(stale)
        assert job is not None and job.status == JobStatus.FAILED
        assert job.error["reason_code"] == "job_worker_lost" and "elsewhere:1:abcd" in job.error["message"]  # type: ignore[index]
        assert (await a.get(legacy)).status == JobStatus.FAILED  # type: ignore[union-attr]
        assert (await a.get(fresh)).status == JobStatus.RUNNING  # type: ignore[union-attr]

    run(settings, body, services=1)


def test_a_dead_pid_on_this_host_is_recovered_without_waiting(settings) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    owner = f"{socket.gethostname()[:80]}:{proc.pid}:dead"

    async def body(a: JobService) -> None:
        job_id = await insert(a, kind="spin", status="RUNNING", owner=owner, beat_age_s=0)
        alive = await insert(
            a,
            kind="spin",
            status="RUNNING",
            owner=f"{socket.gethostname()[:80]}:{os.getppid()}:live",
            beat_age_s=0,
        )
        assert await a.recover() == 1
        assert (await a.get(job_id)).status == JobStatus.FAILED  # type: ignore[union-attr]
        assert (await a.get(alive)).status == JobStatus.RUNNING  # type: ignore[union-attr]

    run(settings, body, services=1)


def test_an_idempotent_kind_is_requeued_once_then_fails(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService) -> None:
        once = await insert(
            a, kind="spin_idempotent", status="RUNNING", owner="gone:1:x", beat_age_s=60, attempts=1
        )
        twice = await insert(
            a, kind="spin_idempotent", status="RUNNING", owner="gone:1:x", beat_age_s=60, attempts=2
        )
        assert await a.recover() == 2
        done = await a.wait(once, limit_s=20)
        assert done is not None and done.status == JobStatus.SUCCEEDED and done.attempts == 2
        assert done.owner == a.owner and done.result == 19  # the last step of 0.2 s of work
        failed = await a.get(twice)
        assert failed is not None and failed.status == JobStatus.FAILED
        assert failed.error["reason_code"] == "job_worker_lost"  # type: ignore[index]

    run(settings, body, services=1)


def test_a_holder_that_lost_its_job_cannot_store_a_result(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService, b: JobService) -> None:
        gate = kinds.gates[uuid.uuid4().hex] = threading.Event()
        key = next(k for k, v in kinds.gates.items() if v is gate)
        job = await a.submit("jt", "ignores_cancel", {"gate": key})
        await until(lambda: _status(a, job.id, JobStatus.RUNNING))
        # a looks dead to b (its heartbeat went stale: a paused, a partition): b recovers the job
        a._maintainer.cancel()  # type: ignore[union-attr]
        async with a.db.begin() as conn:
            await conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job.id)
                .values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=60))
            )
        assert await b.recover() == 1
        gate.set()  # a finishes its work afterwards
        await until(lambda: _gone(a, job.id))
        final = await b.get(job.id)
        assert final is not None and final.status == JobStatus.FAILED and final.result is None

    run(settings, body)


def test_cancel_taken_by_another_process_stops_the_job(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService, b: JobService) -> None:
        job = await a.submit("jt", "spin", {"seconds": 60})
        await until(lambda: _status(a, job.id, JobStatus.RUNNING))
        done = await b.cancel(job.id, wait_s=20)
        assert done is not None and done.status == JobStatus.CANCELLED
        assert done.progress < 0.5  # stopped long before its 60 s of work

    run(settings, body)


def test_finished_work_is_never_relabelled_cancelled(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService) -> None:
        key = uuid.uuid4().hex
        gate = kinds.gates[key] = threading.Event()
        job = await a.submit("jt", "ignores_cancel", {"gate": key})
        await until(lambda: _status(a, job.id, JobStatus.RUNNING))
        task = asyncio.create_task(a.cancel(job.id, wait_s=20))
        await until(lambda: _cancel_requested(a, job.id))
        gate.set()
        done = await task
        assert done is not None and done.status == JobStatus.SUCCEEDED and done.result == "finished"

    run(settings, body, services=1)


def test_progress_only_moves_forward_and_other_processes_see_it(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService, b: JobService) -> None:
        back = await a.submit("jt", "progress_back", {})
        assert (await a.wait(back.id, limit_s=10)).result == 0.6  # type: ignore[union-attr]
        job = await a.submit("jt", "spin", {"seconds": 60})
        await until(lambda: _progress(b, job.id))  # written by a's heartbeat, read by b
        seen = [(await b.get(job.id)).progress for _ in range(5)]  # type: ignore[union-attr]
        assert seen == sorted(seen)
        await a.cancel(job.id)

    run(settings, body)


def test_a_kind_timeout_fails_the_job_with_its_reason(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService) -> None:
        job = await a.submit("jt", "slow_to_notice", {})
        done = await a.wait(job.id, limit_s=20)
        assert done is not None and done.status == JobStatus.FAILED
        assert done.error["reason_code"] == "job_timeout"  # type: ignore[index]

    run(settings, body, services=1)


async def _status(jobs: JobService, job_id: str, status: JobStatus) -> bool:
    job = await jobs.get(job_id)
    return job is not None and job.status == status


async def _gone(jobs: JobService, job_id: str) -> bool:
    return job_id not in jobs._tokens


async def _cancel_requested(jobs: JobService, job_id: str) -> bool:
    job = await jobs.get(job_id)
    return job is not None and job.cancel_requested_at is not None


async def _progress(jobs: JobService, job_id: str) -> bool:
    async with jobs.db.engine.connect() as conn:
        p = (await conn.execute(sa.select(jobs_table.c.progress).where(jobs_table.c.id == job_id))).scalar()
    return bool(p and p > 0)


def test_a_stopping_process_releases_its_jobs_for_recovery(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(a: JobService, b: JobService) -> None:
        plain = await a.submit("jt", "spin", {"seconds": 60})
        idem = await a.submit("jt", "spin_idempotent", {"seconds": 0.3})
        for job in (plain, idem):
            await until(lambda j=job: _status(a, j.id, JobStatus.RUNNING))
        await a.shutdown()  # e.g. SIGTERM to a worker: not a user's cancel
        failed = await b.wait(plain.id, limit_s=20)
        assert failed is not None and failed.status == JobStatus.FAILED
        assert failed.error["reason_code"] == "job_worker_lost"  # type: ignore[index]
        rerun = await b.wait(idem.id, limit_s=20)
        assert rerun is not None and rerun.status == JobStatus.SUCCEEDED and rerun.owner == b.owner

    run(settings, body)
