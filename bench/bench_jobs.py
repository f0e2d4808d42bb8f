"""Job throughput and cancel latency: the in-process executor against the Redis queue (SAQ) with one
``ridgeline worker`` process, on SQLite in a temporary data dir and a private redis-server on a free
loopback port (skipped when redis-server is not installed).

Figures (printed, and in pytest-benchmark's extra_info):
* ``jobs/s``: N trivial jobs (``jt/add``) submitted back to back, until the last is SUCCEEDED; this is
  the per-job overhead of the job service (record, claim, finish) plus the executor's delivery.
* ``cancel-to-stop``: a running job that polls its token every 10 ms is cancelled; the time from
  ``cancel()`` to its record being CANCELLED. In-process the token is set at once; through the queue
  the worker sees the request on the record within RIDGELINE_JOBS_CANCEL_POLL_S (0.2 s by default).

``RIDGELINE_BENCH_DATABASE_URL=postgresql://...`` runs it on that (empty) PostgreSQL database instead of
SQLite; the figures are labelled with the backend.

Run: ``scripts/bench.sh bench/bench_jobs.py`` (or ``.venv/bin/python -m pytest -s bench/bench_jobs.py``).
Timings are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds, known to the worker too)

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobqueue import QueueExecutor
from ridgeline.platform.jobs import InProcessExecutor, JobService, JobStatus, load_job_settings
from ridgeline.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
N_JOBS = 200
DATABASE_URL = os.environ.get("RIDGELINE_BENCH_DATABASE_URL", "")
BACKEND = "postgresql" if DATABASE_URL else "sqlite"
results: dict[str, float] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data() -> Iterator[Settings]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    settings = Settings(
        data_dir=tmp / "var", database_url=DATABASE_URL, seed_defaults=False, log_level="WARNING"
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # SQLite's upgrade makes it; PostgreSQL's does not
    dbmod.upgrade(settings)
    yield settings
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url(data: Settings) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/redis.sh)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def worker(data: Settings, redis_url: str) -> Iterator[None]:
    log = data.data_dir / "worker.log"
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(data.data_dir),
        "RIDGELINE_DATABASE_URL": data.resolved_database_url,
        "RIDGELINE_REDIS_URL": redis_url,
        "RIDGELINE_MIGRATED": "1",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    code = (
        "import sys; import tests.platform.jobs.kinds; from ridgeline.cli import main; "
        "sys.exit(main(['worker', '--families', 'jt', '--concurrency', '4']))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    end = time.monotonic() + 120
    while "running jt jobs" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    yield
    proc.terminate()
    proc.wait(timeout=30)


def _service(settings: Settings, executor: object) -> tuple[dbmod.Database, JobService]:
    database = dbmod.Database(settings)
    return database, JobService(database, executor, app=None, settings=load_job_settings({}))  # type: ignore[arg-type]


async def _throughput(settings: Settings, executor: object) -> float:
    database, jobs = _service(settings, executor)
    await jobs.start()
    try:
        t0 = time.perf_counter()
        submitted = [await jobs.submit("jt", "add", {"a": i, "b": 1}) for i in range(N_JOBS)]
        for job in submitted:
            done = await jobs.wait(job.id, limit_s=120)
            assert done is not None and done.status == JobStatus.SUCCEEDED
        return N_JOBS / (time.perf_counter() - t0)
    finally:
        await jobs.shutdown()
        await database.dispose()


async def _cancel_to_stop(settings: Settings, executor: object) -> float:
    database, jobs = _service(settings, executor)
    await jobs.start()
    try:
        job = await jobs.submit("jt", "spin", {"seconds": 60})
        for _ in range(3000):  # bounded: up to 30 s for a worker to pick it up
            if (await jobs.get(job.id)).status == JobStatus.RUNNING:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        t0 = time.perf_counter()
        done = await jobs.cancel(job.id, wait_s=30)
        took = time.perf_counter() - t0
        assert done is not None and done.status == JobStatus.CANCELLED
        return took
    finally:
        await jobs.shutdown()
        await database.dispose()


def _record(benchmark, name: str, fn) -> None:  # type: ignore[no-untyped-def]
    values: list[float] = []
    benchmark.pedantic(lambda: values.append(asyncio.run(fn())), rounds=3, iterations=1)
    values.sort()
    name = f"{BACKEND} {name}"
    results[name] = values[len(values) // 2]
    benchmark.extra_info[name] = results[name]


def test_in_process_jobs_per_second(benchmark, data: Settings) -> None:  # type: ignore[no-untyped-def]
    _record(benchmark, "in-process jobs/s", lambda: _throughput(data, InProcessExecutor(2)))


def test_queue_jobs_per_second(benchmark, data: Settings, redis_url: str, worker: None) -> None:  # type: ignore[no-untyped-def]
    _record(benchmark, "queue jobs/s", lambda: _throughput(data, QueueExecutor(redis_url, run_jobs=False)))


def test_in_process_cancel_to_stop(benchmark, data: Settings) -> None:  # type: ignore[no-untyped-def]
    _record(benchmark, "in-process cancel-to-stop s", lambda: _cancel_to_stop(data, InProcessExecutor(2)))


def test_queue_cancel_to_stop(benchmark, data: Settings, redis_url: str, worker: None) -> None:  # type: ignore[no-untyped-def]
    _record(
        benchmark,
        "queue cancel-to-stop s",
        lambda: _cancel_to_stop(data, QueueExecutor(redis_url, run_jobs=False)),
    )


def test_print_figures() -> None:
    print()
    for name, value in results.items():
        print(f"{name:32s} {value:10.3f}")
    q, i = results.get(f"{BACKEND} queue jobs/s"), results.get(f"{BACKEND} in-process jobs/s")
    if q and i:
        print(f"{BACKEND + ' queue / in-process':32s} {q / i:10.3f}")
