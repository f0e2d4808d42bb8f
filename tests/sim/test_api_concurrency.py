"""Two concurrent runs through the API: both progress while both are RUNNING (each rollout on its own
pool, with its job's thread budget), and cancelling either stops it while the other keeps going."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ridgeline.sim.api import service as service_module
from tests.sim.api_helpers import SIM, wait_status
from tests.sim.test_api_honest import LONG

pytestmark = pytest.mark.db


def _progress(c: Any, run_id: str) -> tuple[str, float]:
    body = c.get(f"{SIM}/v1/runs/{run_id}").json()
    return body["status"], float(body["progress"])


def _moves(c: Any, run_ids: list[str], limit_s: float = 60.0) -> None:
    """Every run's progress, read through the API, moves while all of them are RUNNING."""
    first = {r: _progress(c, r) for r in run_ids}
    assert all(s == "RUNNING" for s, _ in first.values()), first
    deadline = time.monotonic() + limit_s
    moved: set[str] = set()
    while moved != set(run_ids):
        assert time.monotonic() < deadline, f"no progress for {set(run_ids) - moved}: {first}"
        time.sleep(0.1)
        for r in run_ids:
            status, p = _progress(c, r)
            assert status == "RUNNING", (r, status)
            if p > first[r][1]:
                moved.add(r)


def test_two_concurrent_runs_both_progress_and_each_cancels_alone(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    budgets: list[int | None] = []
    real = service_module.execute

    def spy(*args: Any, **kwargs: Any) -> Any:
        budgets.append(kwargs.get("threads"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "execute", spy)
    c = make_client(job_workers=2)
    ids = []
    for _ in range(2):
        r = c.post(f"{SIM}/v1/runs", json={"config": LONG, "options": {"wait": False}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["run_id"])
    for run_id in ids:
        wait_status(c, run_id, {"RUNNING"})
    _moves(c, ids)
    # each rollout got its job's share of the cores (a fair share: never 0 = "all cores" for both)
    assert len(budgets) == 2 and all(isinstance(b, int) and b >= 1 for b in budgets), budgets

    t0 = time.perf_counter()
    out = c.post(f"{SIM}/v1/runs/{ids[0]}/cancel").json()
    first_cancel_s = time.perf_counter() - t0
    assert out["status"] == "CANCELLED" and out["cancelled"] is True
    # the other run is untouched and still moving
    status, p = _progress(c, ids[1])
    assert status == "RUNNING"
    deadline = time.monotonic() + 60
    while _progress(c, ids[1])[1] <= p:
        assert time.monotonic() < deadline, "the second run stopped progressing"
        time.sleep(0.1)
    t0 = time.perf_counter()
    out = c.post(f"{SIM}/v1/runs/{ids[1]}/cancel").json()
    second_cancel_s = time.perf_counter() - t0
    assert out["status"] == "CANCELLED"
    print(
        f"\ncancel-to-stop: {first_cancel_s * 1e3:.0f} ms (2 running), {second_cancel_s * 1e3:.0f} ms (1 running)"
    )
