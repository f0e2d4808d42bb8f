"""A running job's progress and its detail are in the job record, so every process serving the API
shows them (not only the one running the job): written at most every PROGRESS_WRITE_S per job, and
never backwards."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform import jobs as jobsmod
from ridgeline.platform.jobs import JobContext, JobService, JobStatus, job_view
from tests.platform.jobs.test_lease import run, until
from tests.platform.jobs.test_queue import enqueuer, start_worker, wait_ready, worker_env

pytestmark = pytest.mark.db


async def _record(jobs: JobService, job_id: str) -> tuple[float, object]:
    """The stored progress and detail, as a process that does not run the job reads them."""
    job = await jobs.get(job_id)
    assert job is not None
    return job.progress, job.progress_detail


def test_report_progress_keeps_detail_with_the_fraction_and_never_moves_back() -> None:
    ctx = JobContext(jobsmod.Job(id="j", family="jt", kind="steps", status=JobStatus.RUNNING, params={}, created_at=jobsmod._now()), jobsmod.CancelToken())  # fmt: skip
    ctx.report_progress(0.5, {"step": 2})
    ctx.report_progress(0.25, {"step": 1})  # behind: ignored with its detail
    assert (ctx.progress, ctx.progress_detail) == (0.5, {"step": 2})
    ctx.report_progress(0.5, {"step": 3})  # same fraction, next step
    ctx.report_progress(0.75)  # no detail: the last one stays
    assert (ctx.progress, ctx.progress_detail) == (0.75, {"step": 3})


def test_another_process_sees_progress_and_detail_from_the_record(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir()

    async def body(a: JobService, b: JobService) -> None:
        job = await a.submit("jt", "steps", {"steps": 4, "dir": str(work)})
        for i in range(3):
            # b holds no context for the job: what it shows comes from the record a writes
            await until(lambda i=i: _is(b, job.id, (i / 4, {"step": i, "of": 4})))
            assert job.id not in b._contexts
            view = job_view(await b.get(job.id))  # type: ignore[arg-type]
            assert view.progress == i / 4 and view.progress_detail == {"step": i, "of": 4}
            listed = {j.id: j for j in await b.list(family="jt")}
            assert listed[job.id].progress_detail == {"step": i, "of": 4}
            (work / f"{job.id}.go{i}").touch()
        (work / f"{job.id}.go3").touch()
        done = await b.wait(job.id, limit_s=20)
        assert done is not None and done.status == JobStatus.SUCCEEDED and done.progress == 1.0

    run(settings, body)


def test_progress_writes_are_throttled_per_job(settings, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir()

    async def body(a: JobService, b: JobService) -> None:
        job = await a.submit("jt", "steps", {"steps": 4, "dir": str(work)})
        await until(lambda: _is(b, job.id, (0.0, {"step": 0, "of": 4})))
        # from now on one write per hour at most: the record keeps step 0 while the job moves on
        monkeypatch.setattr(jobsmod, "PROGRESS_WRITE_S", 3600.0)
        (work / f"{job.id}.go0").touch()
        await until(lambda: _is(a, job.id, (0.25, {"step": 1, "of": 4})))  # a's live view
        for _ in range(5):
            await a._write_progress()
        assert await _record(b, job.id) == (0.0, {"step": 0, "of": 4})
        monkeypatch.setattr(jobsmod, "PROGRESS_WRITE_S", 0.0)
        await until(lambda: _is(b, job.id, (0.25, {"step": 1, "of": 4})))
        await a.cancel(job.id)

    run(settings, body)


async def _is(jobs: JobService, job_id: str, want: tuple[float, object]) -> bool:
    return await _record(jobs, job_id) == want


@pytest.mark.redis
@pytest.mark.slow
def test_progress_detail_of_a_job_on_a_worker_process(settings, redis_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    env = worker_env(settings, redis_url)
    log = tmp_path / "w.log"
    worker = start_worker(env, log)
    work = tmp_path / "work"
    work.mkdir()

    async def scenario() -> None:
        async with enqueuer(settings, redis_url) as service:
            job = await service.submit("jt", "steps", {"steps": 3, "dir": str(work)})
            for i in range(2):
                end = time.monotonic() + 60
                while await _record(service, job.id) != (i / 3, {"step": i, "of": 3}):
                    assert time.monotonic() < end, await _record(service, job.id)
                    await asyncio.sleep(0.05)
                rec = await service.get(job.id)
                assert rec is not None and rec.status == JobStatus.RUNNING and rec.owner != service.owner
                (work / f"{job.id}.go{i}").touch()
            (work / f"{job.id}.go2").touch()
            done = await service.wait(job.id, limit_s=40)
            assert done is not None and done.status == JobStatus.SUCCEEDED

    try:
        wait_ready(worker, log)
        asyncio.run(scenario())
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
