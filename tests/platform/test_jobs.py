"""The job API: states, results, failures, real cancellation (pending and running), restart recovery."""

import asyncio
import threading
import time

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import JobContext, JobService, JobStatus, job_kind, jobs_table, make_executor

pytestmark = pytest.mark.db

ticks: dict[str, int] = {}
release = threading.Event()


@job_kind("test", "add")
def add(ctx: JobContext) -> dict[str, int]:
    return {"sum": ctx.params["a"] + ctx.params["b"]}


@job_kind("test", "explode")
def explode(ctx: JobContext) -> None:
    raise ValueError("bad parameters: b must be positive")


@job_kind("test", "spin")
def spin(ctx: JobContext) -> int:
    key = ctx.params["key"]
    ticks[key] = 0
    while ticks[key] < 10_000:  # ~100 s if never cancelled
        ctx.check_cancelled()
        ticks[key] += 1
        ctx.report_progress(ticks[key] / 10_000)
        time.sleep(0.01)
    return ticks[key]


@job_kind("test", "whoami")
async def whoami(ctx: JobContext) -> str:
    return str(ctx.app)


@job_kind("test", "block")
def block(ctx: JobContext) -> str:
    release.wait(30)
    return "released"


@job_kind("test", "blocking_thread")
async def blocking_thread(ctx: JobContext) -> str:
    return await ctx.run_blocking(lambda: threading.current_thread().name)


def run(settings, body):  # type: ignore[no-untyped-def]
    async def main() -> None:
        dbmod.upgrade(settings)
        db = dbmod.Database(settings)
        service = JobService(db, make_executor(1), app="the-app-context")
        try:
            await body(service)
        finally:
            await service.executor.shutdown()
            await db.dispose()

    asyncio.run(main())


def test_success_records_result_and_timestamps(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        job = await jobs.submit("test", "add", {"a": 2, "b": 3})
        assert job.status == JobStatus.QUEUED
        done = await jobs.wait(job.id, limit_s=10)
        assert done is not None and done.status == JobStatus.SUCCEEDED
        assert done.result == {"sum": 5} and done.progress == 1.0
        assert done.created_at <= done.queued_at <= done.started_at <= done.finished_at  # type: ignore[operator]
        listed = await jobs.list(family="test", kind="add")
        assert [j.id for j in listed] == [job.id]

    run(settings, body)


def test_failure_records_the_error(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        job = await jobs.submit("test", "explode", {})
        done = await jobs.wait(job.id, limit_s=10)
        assert done is not None and done.status == JobStatus.FAILED
        assert done.error == {"type": "ValueError", "message": "bad parameters: b must be positive"}

    run(settings, body)


def test_cancel_running_job_really_stops_it(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        job = await jobs.submit("test", "spin", {"key": "r"})
        for _ in range(200):
            await asyncio.sleep(0.01)
            current = await jobs.get(job.id)
            if current and current.status == JobStatus.RUNNING and ticks.get("r", 0) > 3:
                break
        cancelled = await jobs.cancel(job.id)
        assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
        stopped_at = ticks["r"]
        await asyncio.sleep(0.2)
        assert ticks["r"] == stopped_at  # no more work after cancellation
        assert stopped_at < 10_000

    run(settings, body)


def test_cancel_queued_job_never_runs(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        release.clear()
        blocker = await jobs.submit("test", "block", {})  # occupies the single worker slot
        queued = await jobs.submit("test", "spin", {"key": "q"})
        await asyncio.sleep(0.1)
        cancelled = await jobs.cancel(queued.id)
        assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
        assert cancelled.started_at is None
        release.set()
        assert (await jobs.wait(blocker.id, limit_s=10)).status == JobStatus.SUCCEEDED  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
        assert "q" not in ticks
        # terminal jobs stay as they are
        again = await jobs.cancel(blocker.id)
        assert again is not None and again.status == JobStatus.SUCCEEDED

    run(settings, body)


def test_restart_marks_unfinished_jobs_failed(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        async with jobs.db.begin() as conn:
            await conn.execute(
                jobs_table.insert().values(
                    id="x" * 32,
                    family="test",
                    kind="add",
                    status="RUNNING",
                    params={},
                    progress=0.5,
                    created_at=__import__("datetime").datetime.now(__import__("datetime").UTC),
                )
            )
        assert await jobs.recover() == 1
        job = await jobs.get("x" * 32)
        assert job is not None and job.status == JobStatus.FAILED and "restarted" in job.error["message"]  # type: ignore[index]

    run(settings, body)


def test_unknown_kind_is_rejected(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        with pytest.raises(KeyError):
            await jobs.submit("test", "nope", {})

    run(settings, body)


def test_handlers_receive_the_app_context(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(jobs: JobService) -> None:
        job = await jobs.submit("test", "whoami", {})
        done = await jobs.wait(job.id, limit_s=10)
        assert done is not None and done.result == "the-app-context"

    run(settings, body)


def test_an_async_jobs_blocking_work_runs_on_the_job_threads(settings) -> None:  # type: ignore[no-untyped-def]
    """Not on the loop's default pool, which requests' off-loop work shares: there, N jobs could take
    every thread requests wait for."""

    async def body(jobs: JobService) -> None:
        job = await jobs.submit("test", "blocking_thread", {})
        done = await jobs.wait(job.id, limit_s=10)
        assert done is not None and done.status == JobStatus.SUCCEEDED
        assert str(done.result).startswith("ridgeline-job"), done.result

    run(settings, body)
