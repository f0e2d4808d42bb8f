"""``ridgeline worker --concurrency N`` runs at most N jobs at once in all, across the family queues
it serves (not N per family): with two families and one slot, a job of the second family waits in
Redis while a job of the first runs, and starts once the slot is free."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import JobStatus
from tests.platform.jobs.test_lease import until
from tests.platform.jobs.test_queue import enqueuer, start_worker, worker_env

pytestmark = [pytest.mark.redis, pytest.mark.db, pytest.mark.slow]

WORKER = (
    "import sys; import tests.platform.jobs.kinds; from ridgeline.cli import main; "
    "sys.exit(main(['worker', '--families', 'jt,jt2', '--concurrency', '1']))"
)


def _ticks(path: Path) -> int:
    return int(path.read_text()) if path.exists() else -1


def test_concurrency_counts_slots_for_the_process_across_families(
    settings, redis_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    env = worker_env(settings, redis_url)
    log = tmp_path / "w.log"
    worker = start_worker(env, log, WORKER)
    work = tmp_path / "work"
    work.mkdir()

    async def scenario() -> None:
        async with enqueuer(settings, redis_url) as service:
            first = await service.submit("jt", "spin", {"seconds": 120, "dir": str(work)})
            ticks = work / f"{first.id}.ticks"
            await until(lambda: asyncio.sleep(0, _ticks(ticks) >= 0), what="the first job running")
            second = await service.submit("jt2", "spin", {"seconds": 120, "dir": str(work)})
            # While the first job does 2 s more of its own work, the second never starts: the
            # worker's one slot is taken (with a slot per family queue it would start at once).
            start = _ticks(ticks)
            await until(lambda: asyncio.sleep(0, _ticks(ticks) >= start + 200), what="the first job's work")
            waiting = await service.get(second.id)
            assert waiting is not None and waiting.status == JobStatus.QUEUED, waiting
            assert not (work / f"{second.id}.pid").exists()
            (work / f"{first.id}.stop").touch()
            done = await service.wait(first.id, limit_s=60)
            assert done is not None and done.status == JobStatus.SUCCEEDED
            # the slot is free: the second job runs now
            await until(lambda: asyncio.sleep(0, (work / f"{second.id}.pid").exists()), what="the second job")
            (work / f"{second.id}.stop").touch()
            done = await service.wait(second.id, limit_s=60)
            assert done is not None and done.status == JobStatus.SUCCEEDED

    try:
        end = time.monotonic() + 120
        while "running jt, jt2 jobs" not in log.read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < end, log.read_text()[-2000:]
            time.sleep(0.1)
        assert "(job slots: 1 in all)" in log.read_text()
        asyncio.run(scenario())
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
