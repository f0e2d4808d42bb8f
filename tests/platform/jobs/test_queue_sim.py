"""Real sim runs through the Redis queue: ``ridgeline serve --workers 2`` records and enqueues them,
a separate ``ridgeline worker --families sim`` process runs them; live progress shows through the
service, and a cancel taken by the service stops the rollout running in the worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.netutil import free_port, wait_serving

pytestmark = [pytest.mark.redis, pytest.mark.slow]

SHORT = {"steps": 60, "dt": 0.005}
LONG = {"steps": 200_000, "episodes": 64, "dt": 0.001, "record": False}


def _wait(cond, limit_s: float, what: str):  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached")


def test_sim_runs_go_through_a_separate_worker(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(tmp_path / "var"),
        "RIDGELINE_REDIS_URL": redis_url,
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "RIDGELINE_JOBS_HEARTBEAT_S": "0.2",
        "RIDGELINE_JOBS_STALE_S": "5",
    }
    env.pop("RIDGELINE_DATABASE_URL", None)
    serve_log, worker_log = tmp_path / "serve.log", tmp_path / "worker.log"
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ridgeline.cli",
            "serve",
            "--only",
            "sim",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=serve_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    procs = [serve]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_serving(serve, base, serve_log)
        with httpx.Client(base_url=base, timeout=60) as c:
            # no worker yet: the service runs no jobs itself
            queued = c.post(
                "/v1/runs", json={"scenario": "pendulum_swing", "config": SHORT, "options": {"wait": False}}
            )
            assert queued.status_code == 202, queued.text
            time.sleep(1.0)
            assert c.get(f"/v1/runs/{queued.json()['run_id']}").json()["status"] == "QUEUED"

            worker = subprocess.Popen(
                [sys.executable, "-m", "ridgeline.cli", "worker", "--families", "sim", "--concurrency", "2"],
                env=env,
                stdout=worker_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            procs.append(worker)
            ids = [queued.json()["run_id"]]
            for _ in range(3):
                r = c.post(
                    "/v1/runs",
                    json={"scenario": "pendulum_swing", "config": SHORT, "options": {"wait": False}},
                )
                assert r.status_code == 202, r.text
                ids.append(r.json()["run_id"])
            for run_id in ids:
                done = _wait(lambda i=run_id: _terminal(c, i), 300, f"run {run_id} terminal")
                assert done["status"] == "SUCCEEDED" and done["metrics"] is not None, done

            r = c.post("/v1/runs", json={"config": LONG, "options": {"wait": False}})
            assert r.status_code == 202, r.text
            long_id = r.json()["run_id"]
            _wait(lambda: _progressing(c, long_id), 120, "live progress of the worker's rollout")
            cancelled = c.post(f"/v1/runs/{long_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            body = cancelled.json()
            assert body["status"] == "CANCELLED" and body["cancelled"] is True, body
            assert sum(body["steps_completed"]) < LONG["steps"] * LONG["episodes"]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _terminal(c: httpx.Client, run_id: str) -> dict | None:  # type: ignore[type-arg]
    run = c.get(f"/v1/runs/{run_id}").json()
    return run if run["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None


def _progressing(c: httpx.Client, run_id: str) -> bool:
    run = c.get(f"/v1/runs/{run_id}").json()
    assert run["status"] in ("QUEUED", "RUNNING"), run
    return run["status"] == "RUNNING" and run["progress"] > 0
