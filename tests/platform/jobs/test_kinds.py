"""Every family's job kinds declare a timeout and whether they are idempotent, and recovery follows
the declaration: an idempotent kind whose worker died is re-queued, any other is FAILED
``job_worker_lost``; a kind's timeout ends it FAILED ``job_timeout``, also through the Redis queue."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import (
    _OPTIONS_ATTR,
    LOCAL_ALIVE_STALE_FACTOR,
    JobService,
    JobStatus,
    jobs_table,
    load_job_settings,
    options_of,
)
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds)

pytestmark = pytest.mark.db

FAST = load_job_settings({}, heartbeat_s=0.1, stale_s=1.0, cancel_poll_s=0.05)
DEAD = "another-host:1:gone"  # an owner on another host whose heartbeat is long stale


def family_kinds() -> dict[tuple[str, str], Any]:
    from ridgeline.app import available_families, load_family
    from ridgeline.genai import downloads  # noqa: F401  (registers its kind with @job_kind)
    from ridgeline.platform import jobs

    names = available_families()
    found = {(f, k): h for (f, k), h in jobs._HANDLERS.items() if f in names}  # @job_kind (genai)
    for name in names:
        for kind, handler in load_family(name).job_kinds.items():
            found[(name, kind)] = handler
    return found


class Recorder:
    """An executor that only records what it is handed (the queue, without Redis)."""

    owns_queued = False

    def __init__(self) -> None:
        self.dispatched: list[str] = []

    async def start(self, service: JobService) -> None:
        return None

    async def dispatch(self, service: JobService, job: Any) -> None:
        self.dispatched.append(job.id)

    async def shutdown(self) -> None:
        return None


def test_every_kind_declares_its_options() -> None:
    declared = family_kinds()
    assert {("routing", "batch_pareto"), ("sim", "run"), ("retail", "train")} <= set(declared)
    assert {f for f, _ in declared} >= {"routing", "sim", "retail", "autopack", "genai"}
    for key, handler in declared.items():
        assert getattr(handler, _OPTIONS_ATTR, None) is not None, f"{key} declares no job_options"
        opts = options_of(handler)
        assert opts.timeout_s is not None and 0 < opts.timeout_s < 24 * 3600, key


async def _insert(
    svc: JobService,
    family: str,
    kind: str,
    *,
    owner: str = DEAD,
    beat_age_s: float = 600,
    attempts: int = 1,
    cancel: bool = False,
    status: str = "RUNNING",
) -> str:
    job_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    async with svc.db.begin() as conn:
        await conn.execute(
            jobs_table.insert().values(
                id=job_id,
                family=family,
                kind=kind,
                status=status,
                params={},
                created_at=now,
                queued_at=now,
                started_at=now,
                owner=owner,
                heartbeat_at=now - timedelta(seconds=beat_age_s),
                attempts=attempts,
                cancel_requested_at=now if cancel else None,
            )
        )
    return job_id


def _run(settings, body) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        dbmod.upgrade(settings)
        db = dbmod.Database(settings)
        executor = Recorder()
        svc = JobService(db, executor, settings=FAST)
        for (family, kind), handler in family_kinds().items():
            svc.register(family, kind, handler)
        try:
            await body(svc, executor)
        finally:
            await db.dispose()

    asyncio.run(main())


def test_an_idempotent_kind_is_requeued_after_its_worker_died(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(svc: JobService, executor: Recorder) -> None:
        ids = {k: await _insert(svc, *k) for k in (("sim", "run"), ("routing", "batch_pareto"))}
        assert await svc.recover() == 2
        for job_id in ids.values():
            job = await svc.get(job_id)
            assert job is not None and job.status == JobStatus.QUEUED
            assert job.error["reason_code"] == "job_worker_lost"  # type: ignore[index]
        assert sorted(executor.dispatched) == sorted(ids.values())  # handed to the queue again

    _run(settings, body)


def test_a_non_idempotent_kind_fails_when_its_worker_died(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(svc: JobService, executor: Recorder) -> None:
        ids = [await _insert(svc, *k) for k in (("retail", "train"), ("autopack", "oauth_refresh"))]
        assert await svc.recover() == 2
        for job_id in ids:
            job = await svc.get(job_id)
            assert job is not None and job.status == JobStatus.FAILED
            assert job.error["reason_code"] == "job_worker_lost"  # type: ignore[index]
        assert executor.dispatched == []

    _run(settings, body)


def test_a_job_cancelled_while_its_worker_died_ends_cancelled(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(svc: JobService, executor: Recorder) -> None:
        job_id = await _insert(svc, "sim", "run", cancel=True)  # idempotent, but the user asked to stop
        assert await svc.recover() == 1
        job = await svc.get(job_id)
        assert job is not None and job.status == JobStatus.CANCELLED
        assert executor.dispatched == []

    _run(settings, body)


def test_a_delivered_job_whose_cancel_was_requested_ends_cancelled(settings) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    async def body(svc: JobService, executor: Recorder) -> None:
        # re-queued by a recovery just as a cancel was recorded (the cancel read it RUNNING)
        job_id = await _insert(svc, "sim", "run", owner="queue", status="QUEUED", cancel=True)
        job = await svc.get(job_id)
        assert job is not None
        with ThreadPoolExecutor(1) as pool:
            assert await svc.execute(job, pool) is None  # not claimed...
        done = await svc.get(job_id)
        assert done is not None and done.status == JobStatus.CANCELLED  # ...and not left QUEUED forever

    _run(settings, body)


def test_a_live_process_here_gets_longer_before_its_jobs_are_taken(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(svc: JobService, executor: Recorder) -> None:
        live = f"{socket.gethostname()[:80]}:{os.getppid()}:live"  # pytest's parent: alive
        late = await _insert(svc, "retail", "train", owner=live, beat_age_s=3 * FAST.stale_s)
        wedged = await _insert(
            svc, "retail", "train", owner=live, beat_age_s=2 * LOCAL_ALIVE_STALE_FACTOR * FAST.stale_s
        )
        assert await svc.recover() == 1
        assert (await svc.get(late)).status == JobStatus.RUNNING  # type: ignore[union-attr]
        assert (await svc.get(wedged)).status == JobStatus.FAILED  # type: ignore[union-attr]

    _run(settings, body)


def test_declared_timeouts_reach_the_service(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(svc: JobService, executor: Recorder) -> None:
        for (family, kind), handler in family_kinds().items():
            assert svc.timeout_s(family, kind) == options_of(handler).timeout_s
        assert svc.timeout_s("sim", "run") < svc.settings.default_timeout_s

    _run(settings, body)


@pytest.mark.redis
def test_a_kind_timeout_fails_the_job_through_the_queue(settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.jobqueue import QueueExecutor

    async def main() -> None:
        dbmod.upgrade(settings)
        db = dbmod.Database(settings)
        svc = JobService(db, QueueExecutor(redis_url, run_jobs=True, families=["jt"]), settings=FAST)
        await svc.start()
        try:
            job = await svc.submit("jt", "slow_to_notice", {})  # timeout_s=0.3; works 30 s if ignored
            done = await svc.wait(job.id, limit_s=20)
            assert done is not None and done.status == JobStatus.FAILED, done
            assert done.error["reason_code"] == "job_timeout"  # type: ignore[index]
        finally:
            await svc.shutdown()
            await db.dispose()

    asyncio.run(main())
