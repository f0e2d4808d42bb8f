"""Graceful shutdown: a run executing when the process stops is recorded as interrupted (FAILED,
``run_interrupted``, not a user cancel), its webhook stays pending in ``sim_webhooks`` and the next
process sends it; a run whose steps all completed still ends SUCCEEDED."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ridgeline.sim.api import runs as runs_module
from tests.netutil import free_port
from tests.sim.api_helpers import SIM, wait_status
from tests.sim.test_api_honest import LONG, Gate, wait_progress
from tests.sim.test_api_webhooks import SECRET, _verify, receiver  # noqa: F401  (fixture)

pytestmark = pytest.mark.db


def _check_interrupted(run: dict[str, Any]) -> None:
    assert run["status"] == "FAILED", run
    assert run["error"]["reason_code"] == "run_interrupted", run["error"]
    assert run["interrupted"] is True and run["cancelled"] is False
    assert 0 < sum(run["steps_completed"]) < 200_000 * 64
    assert run["metrics"] is not None  # the partial rollout's metrics are kept
    assert 0 < run["progress"] < 1


def _check_delivery(req: dict[str, Any], run_id: str) -> None:
    assert _verify(req, SECRET)
    body = json.loads(req["body"])
    assert body["event"] == "run.failed" and body["run_id"] == run_id
    assert body["payload"]["status"] == "FAILED" and body["payload"]["interrupted"] is True
    assert body["payload"]["error"]["reason_code"] == "run_interrupted"


def test_on_shutdown_records_an_interrupted_run_and_the_next_process_sends_its_webhook(
    make_client,  # type: ignore[no-untyped-def]
    receiver,  # noqa: F811
) -> None:
    rcv = receiver(fail_first=0)
    c = make_client()
    r = c.post(
        f"{SIM}/v1/runs",
        json={"config": LONG, "options": {"wait": False, "webhook_url": rcv.url, "webhook_secret": SECRET}},
    )
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    wait_progress(c, run_id)
    c.__exit__(None, None, None)  # the app's shutdown: the family's on_shutdown, then the job service
    assert rcv.requests == []  # left pending for the next process, not sent while stopping
    again = make_client()
    _check_interrupted(again.get(f"{SIM}/v1/runs/{run_id}").json())
    (req,) = rcv.wait_for(1)
    _check_delivery(req, run_id)
    time.sleep(0.5)
    assert len(rcv.requests) == 1  # sent once
    report = again.get(f"{SIM}/api/sim/report/{run_id}").json()
    assert [d["succeeded"] for d in report["webhook_deliveries"]] == [True]


def test_on_shutdown_records_a_running_batch_as_interrupted(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = {
        "profiles": ["default", "slippery_warehouse"],
        "steps": 200_000,
        "dt": 0.001,
        "dr_episodes_per_profile": 8,
        "sync": False,
    }
    r = c.post(f"{SIM}/api/sim/batch", json=body)
    assert r.status_code == 202, r.text
    bid = r.json()["batch_id"]
    deadline = time.monotonic() + 60
    while c.get(f"{SIM}/api/sim/{bid}/status").json()["progress"] <= 0:
        assert time.monotonic() < deadline, "the batch never progressed"
        time.sleep(0.02)
    c.__exit__(None, None, None)
    again = make_client()
    st = again.get(f"{SIM}/api/sim/{bid}/status").json()
    assert st["status"] == "FAILED" and st["error"]["reason_code"] == "run_interrupted", st
    members = again.get(f"{SIM}/api/sim/batch/{bid}").json()["profiles"]
    runs = [again.get(f"{SIM}/v1/runs/{m['run_id']}").json() for m in members]
    assert all(x["interrupted"] is True and x["cancelled"] is False for x in runs)


def test_shutdown_never_relabels_a_run_whose_steps_all_completed(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate = Gate(monkeypatch, runs_module, hold={0})
    c = make_client()
    run_id = c.post(f"{SIM}/api/sim/run", json={"steps": 50, "sync": False}).json()["run_id"]
    gate.wait()  # every step ran; the job is recording its results
    # a shutdown-path cancel reaches the job's token (outside the sim service's handle) ...
    assert c.app.state["ctx"].jobs.cancel_local(run_id, "the process holding this job stopped")
    gate.release.set()
    done = wait_status(c, run_id, {"SUCCEEDED", "CANCELLED", "FAILED"})
    # ... and the finished run keeps its outcome
    assert done["status"] == "SUCCEEDED" and done["cancelled"] is False and done["interrupted"] is False


def test_a_cancelled_run_answers_before_its_replay_is_compressed(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ridgeline.sim import replay as replay_format

    entered, release = threading.Event(), threading.Event()
    real = replay_format.encode

    def slow_encode(*args: Any, **kwargs: Any) -> bytes:
        entered.set()
        release.wait(40)
        return real(*args, **kwargs)

    monkeypatch.setattr(replay_format, "encode", slow_encode)
    c = make_client()
    config = {"steps": 200_000, "episodes": 2, "dt": 0.001}  # recorded
    run_id = c.post(f"{SIM}/v1/runs", json={"config": config, "options": {"wait": False}}).json()["run_id"]
    wait_progress(c, run_id)
    out = c.post(f"{SIM}/v1/runs/{run_id}/cancel").json()
    try:
        # the terminal state is written before the bundle: the cancel did not wait for it
        assert out["status"] == "CANCELLED" and out["cancelled"] is True
        assert entered.is_set() and not release.is_set()
        assert out["replay"] is None
    finally:
        release.set()
    deadline = time.monotonic() + 30
    while c.get(f"{SIM}/v1/runs/{run_id}").json()["replay"] is None:
        assert time.monotonic() < deadline, "the stopped run's replay was never written"
        time.sleep(0.05)
    got = c.get(f"{SIM}/v1/runs/{run_id}/replay")
    assert got.status_code == 200 and got.content[:2] == b"PK"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(tmp_path / "var"),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
    }
    for name in ("RIDGELINE_DATABASE_URL", "RIDGELINE_REDIS_URL"):
        env.pop(name, None)
    return env


def _serve(tmp_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ridgeline.cli", "serve", "--only", "sim", "--port", str(port)],
        env=_env(tmp_path),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300  # start-up is slow on a loaded 2-core box
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server not ready: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.mark.slow
def test_sigterm_to_serve_interrupts_the_run_and_the_restarted_server_sends_the_webhook(
    tmp_path: Path,
    receiver,  # noqa: F811
) -> None:
    rcv = receiver(fail_first=0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    proc = _serve(tmp_path, port, log)
    try:
        r = httpx.post(
            f"{base}/v1/runs",
            json={
                "config": LONG,
                "options": {"wait": False, "webhook_url": rcv.url, "webhook_secret": SECRET},
            },
            timeout=30,
        )
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/v1/runs/{run_id}", timeout=10).json()["progress"] <= 0:
            assert time.monotonic() < deadline, "the run never progressed"
            time.sleep(0.05)
        _stop(proc)
        assert rcv.requests == []  # the stopping process left it pending
        proc = _serve(tmp_path, port, log)
        (req,) = rcv.wait_for(1, limit_s=60)
        _check_delivery(req, run_id)
        _check_interrupted(httpx.get(f"{base}/v1/runs/{run_id}", timeout=10).json())
    finally:
        if proc.poll() is None:
            _stop(proc)
