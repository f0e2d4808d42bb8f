"""The Redis-backed executor with a real redis-server and two real ``ridgeline worker`` processes:
jobs run in the workers; one worker is killed with SIGKILL mid-job and a job on the other is
cancelled; every job ends in exactly one terminal state, with its result stored once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobqueue import QueueExecutor
from ridgeline.platform.jobs import JobService, JobStatus, load_job_settings
from tests.conftest import PROJECT_ROOT
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds, known to both sides)
from tests.platform.jobs.test_lease import until

pytestmark = [pytest.mark.redis, pytest.mark.db, pytest.mark.slow]

HEARTBEAT = {
    "RIDGELINE_JOBS_HEARTBEAT_S": "0.2",
    "RIDGELINE_JOBS_STALE_S": "2",
    "RIDGELINE_JOBS_CANCEL_POLL_S": "0.1",
}
WORKER = (
    "import sys; import tests.platform.jobs.kinds; from ridgeline.cli import main; "
    "sys.exit(main(['worker', '--families', 'jt', '--concurrency', '2']))"
)


def worker_env(settings, redis_url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a ``ridgeline worker`` on the test's database and Redis."""
    return {
        **os.environ,
        **HEARTBEAT,
        "RIDGELINE_DATA_DIR": str(settings.data_dir),
        "RIDGELINE_DATABASE_URL": settings.resolved_database_url,
        "RIDGELINE_REDIS_URL": redis_url,
        "RIDGELINE_MIGRATED": "1",
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(PROJECT_ROOT)])),
    }


def start_worker(env: dict[str, str], log: Path, script: str = WORKER) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@contextlib.asynccontextmanager
async def enqueuer(settings, redis_url: str) -> AsyncIterator[JobService]:  # type: ignore[no-untyped-def]
    """A started JobService that only enqueues to Redis (like ``serve`` with Redis): the workers run
    the jobs. Shut down, and its database closed, on exit."""
    db = dbmod.Database(settings)
    service = JobService(
        db, QueueExecutor(redis_url, run_jobs=False), app=None, settings=load_job_settings(HEARTBEAT)
    )
    await service.start()
    try:
        yield service
    finally:
        await service.shutdown()
        await db.dispose()


def wait_ready(proc: subprocess.Popen[bytes], log: Path, limit_s: float = 120) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if "running jt jobs" in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    text = log.read_text(errors="replace")
    shown = text if len(text) <= 6000 else f"{text[:3000]}\n[...]\n{text[-3000:]}"  # where it began, too
    raise AssertionError(f"worker not ready (exit {proc.poll()}): {shown}")


def test_two_workers_kill_one_cancel_on_the_other(settings, redis_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    env = worker_env(settings, redis_url)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [start_worker(env, log) for log in logs]
    work = tmp_path / "work"
    work.mkdir()
    try:
        for w, log in zip(workers, logs, strict=True):
            wait_ready(w, log)
        asyncio.run(_scenario(settings, redis_url, work, workers))
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()


async def _scenario(settings, redis_url: str, work: Path, workers: list[subprocess.Popen[bytes]]) -> None:  # type: ignore[no-untyped-def]
    async with enqueuer(settings, redis_url) as service:
        # short jobs all run in the workers (this process runs none)
        quick = [await service.submit("jt", "add", {"a": i, "b": 1}) for i in range(10)]
        for job in quick:
            done = await service.wait(job.id, limit_s=40)
            assert (
                done is not None
                and done.status == JobStatus.SUCCEEDED
                and done.result == {"sum": job.params["a"] + 1}
            )
            assert done.owner != service.owner
        # four long jobs fill the four slots (two per worker)
        long = []
        for kind in ("spin_idempotent", "spin", "spin_idempotent", "spin"):
            long.append(await service.submit("jt", kind, {"seconds": 120, "dir": str(work)}))
        pid = {}
        for job in long:
            pid_file = work / f"{job.id}.pid"
            await until(lambda f=pid_file: asyncio.sleep(0, f.exists()))
            pid[job.id] = int(pid_file.read_text())
        pids = {w.pid for w in workers}
        assert set(pid.values()) == pids  # two on each worker
        victim = next(w for w in workers if w.pid == pid[long[0].id])
        killed = [j for j in long if pid[j.id] == victim.pid]
        other = [j for j in long if pid[j.id] != victim.pid]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        # cancel one job of the surviving worker: it stops, and stays stopped
        cancelled = other[0]
        done = await service.cancel(cancelled.id, wait_s=20)
        assert done is not None and done.status == JobStatus.CANCELLED
        ticks = (work / f"{cancelled.id}.ticks").read_text()
        await asyncio.sleep(0.5)
        assert (work / f"{cancelled.id}.ticks").read_text() == ticks
        assert not (work / f"{cancelled.id}.done").exists()

        # the killed worker's jobs: an idempotent one is re-queued (it runs again on the survivor when
        # a slot frees), the other fails with the reason
        for job in killed:
            if job.kind == "spin_idempotent":
                await until(lambda j=job: _requeued(service, j.id))
            else:
                failed = await service.wait(job.id, limit_s=40)
                assert failed is not None and failed.status == JobStatus.FAILED
                assert failed.error["reason_code"] == "job_worker_lost"  # type: ignore[index]
        # let everything still running finish its work
        for job in long:
            (work / f"{job.id}.stop").touch()
        final = {j.id: await service.wait(j.id, limit_s=40) for j in long}
        for job in long:
            rec = final[job.id]
            assert rec is not None and rec.status.terminal, (job.kind, rec)
            done_file = work / f"{job.id}.done"
            lines = done_file.read_text().split() if done_file.exists() else []
            if rec.status == JobStatus.SUCCEEDED:
                assert len(lines) == 1 and rec.result is not None  # completed and stored once
            else:
                assert lines == [] and rec.result is None
        requeued = [j for j in killed if j.kind == "spin_idempotent"]
        assert requeued
        for job in requeued:
            rec = final[job.id]
            assert rec is not None and rec.status == JobStatus.SUCCEEDED and rec.attempts == 2
            assert int((work / f"{job.id}.pid").read_text()) != victim.pid  # ran again on the survivor
        assert final[cancelled.id].status == JobStatus.CANCELLED  # type: ignore[union-attr]
        assert final[other[1].id].status == JobStatus.SUCCEEDED  # type: ignore[union-attr]


async def _requeued(service: JobService, job_id: str) -> bool:
    job = await service.get(job_id)
    return (
        job is not None
        and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        and (job.error or {}).get("reason_code") == "job_worker_lost"
    )
