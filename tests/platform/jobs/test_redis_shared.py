"""With Redis: job events reach waiters and watchers in other processes without polling the database
at every step, and the routing result cache is shared by every worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobqueue import QueueExecutor
from ridgeline.platform.jobs import JobService, JobStatus, load_job_settings
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds)
from tests.routing.api_support import SAMPLE_A, SAMPLE_B, routing_key, sample_assets  # noqa: F401

pytestmark = [pytest.mark.redis, pytest.mark.db]

FAST = load_job_settings({}, heartbeat_s=0.1, stale_s=1.0, cancel_poll_s=0.05)


def _two_services(settings, redis_url: str, body) -> None:  # type: ignore[no-untyped-def]
    """``body(submitter, runner)``: two job services on one database and Redis, like two hosts: only
    the runner runs jobs."""

    async def main() -> None:
        dbmod.upgrade(settings)
        dbs = [dbmod.Database(settings), dbmod.Database(settings)]
        submitter = JobService(dbs[0], QueueExecutor(redis_url, run_jobs=False), settings=FAST)
        runner = JobService(dbs[1], QueueExecutor(redis_url, run_jobs=True, families=["jt"]), settings=FAST)
        for s in (submitter, runner):
            await s.start()
        try:
            await body(submitter, runner)
        finally:
            for s in (submitter, runner):
                await s.shutdown()
            for d in dbs:
                await d.dispose()

    asyncio.run(main())


def test_a_waiter_elsewhere_wakes_on_the_event_not_by_polling(
    settings, redis_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    async def body(submitter: JobService, runner: JobService) -> None:
        assert submitter.events is not None
        reads = 0
        get = submitter.get

        async def counting_get(job_id: str) -> Any:
            nonlocal reads
            reads += 1
            return await get(job_id)

        submitter.get = counting_get  # type: ignore[method-assign]
        job = await submitter.submit("jt", "spin", {"seconds": 2, "dir": str(tmp_path)})
        done = await submitter.wait(job.id, limit_s=30)
        assert done is not None and done.status == JobStatus.SUCCEEDED
        # polled, the wait would read ~10 times in 2 s (50 ms growing to 0.5 s); woken by the
        # terminal event it reads at start and once after it
        assert reads <= 3, reads

    _two_services(settings, redis_url, body)


def test_watch_sees_progress_published_by_another_process(settings, redis_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def body(submitter: JobService, runner: JobService) -> None:
        job = await submitter.submit("jt", "spin", {"seconds": 2, "dir": str(tmp_path)})
        seen = [(j.status, j.progress) async for j in submitter.watch(job.id)]
        statuses = [s for s, _ in seen]
        assert statuses[-1] == JobStatus.SUCCEEDED
        running = [p for s, p in seen if s == JobStatus.RUNNING]
        assert len([p for p in running if p > 0]) >= 2  # live progress, several steps of it
        assert running == sorted(running)  # only forward

    _two_services(settings, redis_url, body)


def test_events_without_redis_stay_off(settings) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.jobs import InProcessExecutor

    async def main() -> None:
        dbmod.upgrade(settings)
        db = dbmod.Database(settings)
        svc = JobService(db, InProcessExecutor(1), settings=FAST)
        await svc.start()
        try:
            assert svc.events is None
            job = await svc.submit("jt", "add", {"a": 1, "b": 2})
            seen = [j.status async for j in svc.watch(job.id, poll_s=0.05)]
            assert seen[-1] == JobStatus.SUCCEEDED
        finally:
            await svc.shutdown()
            await db.dispose()

    asyncio.run(main())


def test_the_routing_result_cache_is_shared_across_workers(
    make_client: Callable[..., Any],
    routing_key: Path,  # noqa: F811
    sample_assets: Path,  # noqa: F811
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ridgeline.routing.api import build_family
    from ridgeline.routing.api import service as routing_service

    computed: list[int] = []
    off_loop = routing_service.off_loop

    async def counting(fn):  # type: ignore[no-untyped-def]
        computed.append(1)
        return await off_loop(fn)

    monkeypatch.setattr(routing_service, "off_loop", counting)
    body = {"origin": SAMPLE_A, "destination": SAMPLE_B}

    def ask(client: Any) -> tuple[int, Any]:
        before = len(computed)
        r = client.post("/routing/route", json=body)
        assert r.status_code == 200, r.text
        return len(computed) - before, r.json()

    first = make_client(
        families=[build_family(sample_assets)], signing_key_file=routing_key, redis_url=redis_url
    )
    second = make_client(
        families=[build_family(sample_assets)], signing_key_file=routing_key, redis_url=redis_url
    )
    work_first, a = ask(first)
    work_second, b = ask(second)  # another worker: its own LRU is empty, Redis has the result
    assert work_second == work_first - 1  # everything but the route computation itself
    assert a.pop("run_id") != b.pop("run_id")  # each request is its own run...
    a.pop("compute_ms"), b.pop("compute_ms")
    assert a == b  # ...with the same answer
    assert second.get("/routing/cache/stats").json()["misses"] == 1  # a local miss, served from Redis
