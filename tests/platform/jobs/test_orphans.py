"""A job whose end could not be written (the database refused the final UPDATE: locked past its busy
timeout on a loaded host, a connection lost) must not stay RUNNING for ever. Its process stops
heartbeating it, and since no other process may be there to notice (one ``serve`` worker with the
in-process executor), the process that held it recovers it itself like any lost job: an idempotent
kind runs again, any other is FAILED ``job_worker_lost``. The database refuses for real here: a
trigger aborts the first attempt's move to SUCCEEDED."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ridgeline.platform import db as dbmod
from ridgeline.platform.jobs import InProcessExecutor, JobService, JobStatus, load_job_settings
from tests.platform.jobs import kinds  # noqa: F401  (the jt kinds)

pytestmark = pytest.mark.db

FAST = load_job_settings({}, heartbeat_s=0.1, stale_s=1.0, cancel_poll_s=0.05)

SQLITE_TRIGGER = """
CREATE TRIGGER refuse_first_success BEFORE UPDATE OF status ON platform_jobs
WHEN NEW.status = 'SUCCEEDED' AND OLD.attempts = 1
BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
"""
PG_FUNCTION = """
CREATE FUNCTION refuse_first_success() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'SUCCEEDED' AND OLD.attempts = 1 THEN RAISE EXCEPTION 'refused by the test'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER refuse_first_success BEFORE UPDATE ON platform_jobs
FOR EACH ROW EXECUTE FUNCTION refuse_first_success()
"""


@pytest.fixture
def refusing_db(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)

    async def ddl(statements: list[str]) -> None:
        db = dbmod.Database(settings)
        try:
            async with db.begin() as conn:
                for s in statements:
                    await conn.execute(sa.text(s))
        finally:
            await db.dispose()

    sqlite = dbmod.Database(settings).backend == "sqlite"
    asyncio.run(ddl([SQLITE_TRIGGER] if sqlite else [PG_FUNCTION, PG_TRIGGER]))
    yield
    drop = ["DROP TRIGGER IF EXISTS refuse_first_success"]
    if not sqlite:
        drop = [drop[0] + " ON platform_jobs", "DROP FUNCTION IF EXISTS refuse_first_success()"]
    asyncio.run(ddl(drop))


def run_one(settings, kind: str, params: dict) -> tuple[str, int, dict | None, object]:  # type: ignore[no-untyped-def,type-arg]
    async def main() -> tuple[str, int, dict | None, object]:  # type: ignore[type-arg]
        db = dbmod.Database(settings)
        jobs = JobService(db, InProcessExecutor(2), app="app", settings=FAST)  # the only process
        await jobs.start()
        try:
            job = await jobs.submit("jt", kind, params)
            end = asyncio.get_running_loop().time() + 30
            while True:
                got = await jobs.get(job.id)
                assert got is not None
                if got.status.terminal:
                    return got.status.value, got.attempts, got.error, got.result
                assert asyncio.get_running_loop().time() < end, f"still {got.status} (owner {got.owner})"
                await asyncio.sleep(0.05)
        finally:
            await jobs.shutdown()
            await db.dispose()

    return asyncio.run(main())


def test_an_idempotent_job_whose_end_was_refused_runs_again(settings, refusing_db) -> None:  # type: ignore[no-untyped-def]
    status, attempts, _, result = run_one(settings, "spin_idempotent", {"seconds": 0.05})
    assert (status, attempts, result) == (JobStatus.SUCCEEDED, 2, 4)


def test_any_other_job_whose_end_was_refused_is_failed_as_lost(settings, refusing_db) -> None:  # type: ignore[no-untyped-def]
    status, attempts, error, _ = run_one(settings, "add", {"a": 1, "b": 2})
    assert (status, attempts) == (JobStatus.FAILED, 1)
    assert error is not None and error["reason_code"] == "job_worker_lost"


def test_a_result_that_cannot_be_stored_fails_the_job(settings) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    status, _, error, _ = run_one(settings, "unstorable", {})
    assert status == JobStatus.FAILED
    assert error is not None and error["type"] == "TypeError" and "cannot be stored" in error["message"]
