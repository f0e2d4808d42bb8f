"""Concurrent jobs share the cores: two sim runs started one after the other both make progress while
both are running (each rollout runs on its own thread budget, see native/core/src/parallel.rs)."""

from __future__ import annotations

import time

import pytest

from ridgeline.platform.jobs import JobContext, JobService, JobStatus, job_kind
from tests.platform.jobs.test_lease import run, until

pytestmark = pytest.mark.db

LONG = {"steps": 200_000, "episodes": 64, "dt": 0.001, "record": False}


def _run(c, run_id: str) -> dict:  # type: ignore[no-untyped-def]
    return c.get(f"/sim/v1/runs/{run_id}").json()


def test_two_concurrent_sim_runs_both_progress(make_client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.sim.api import family as sim

    c = make_client(families=[sim], job_workers=2)
    ids = []
    for _ in range(2):
        r = c.post("/sim/v1/runs", json={"config": LONG, "options": {"wait": False}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["run_id"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            a, b = (_run(c, i) for i in ids)
            if a["status"] == b["status"] == "RUNNING" and a["progress"] > 0 and b["progress"] > 0:
                break
            assert a["status"] in ("QUEUED", "RUNNING") and b["status"] in ("QUEUED", "RUNNING"), (a, b)
            time.sleep(0.05)
        else:
            raise AssertionError(f"both runs never progressed together: {a['progress']} {b['progress']}")
    finally:
        for i in ids:
            c.post(f"/sim/v1/runs/{i}/cancel")


budgets: dict[str, int] = {}


@job_kind("jt", "budget")
def budget(ctx: JobContext) -> int:
    budgets[ctx.job_id] = ctx.thread_budget
    ctx.token._event.wait(20)  # hold the slot until cancelled
    return ctx.thread_budget


def test_a_job_gets_a_share_of_the_cores(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ridgeline.platform.jobs._cores", lambda: 4)

    async def body(a: JobService) -> None:
        import asyncio

        first = await a.submit("jt", "budget", {})
        await until(lambda: asyncio.sleep(0, first.id in budgets))
        second = await a.submit("jt", "budget", {})
        await until(lambda: asyncio.sleep(0, second.id in budgets))
        assert budgets[first.id] == 4 and budgets[second.id] == 2  # alone: all; then half
        for j in (first, second):
            done = await a.cancel(j.id, wait_s=20)
            assert done is not None and done.status == JobStatus.SUCCEEDED  # it returned: finished work

    run(settings, body, services=1)
