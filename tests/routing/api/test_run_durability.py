"""A run id the service gave out survives SIGKILL of the whole server (both workers, mid-load):
after a restart every acknowledged ``/route`` and ``/pareto`` run is fetched and its stored manifest
verifies. The response is sent only after the group commit holding the run (one transaction for the
concurrent requests' rows, ``synchronous=FULL`` on SQLite) has returned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.db

A = (45.905, 6.105)  # the sample region, built on first start (RIDGELINE_SEED_DEFAULTS)
B = (45.962, 6.160)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(data), "RIDGELINE_LOG_LEVEL": "WARNING"}
    env.pop("RIDGELINE_DATABASE_URL", None)
    env.pop("RIDGELINE_ROUTING_RUNS_SYNC", None)
    if database_url:
        env["RIDGELINE_DATABASE_URL"] = database_url
    log = open(data.parent / "serve.log", "ab")
    cmd = [sys.executable, "-m", "ridgeline.cli", "serve", "--only", "routing", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", "2"], env=env, stdout=log, stderr=log, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((data.parent / "serve.log").read_text(errors="replace")[-3000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("serve did not become ready")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server's own process group: its workers too
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _drive(base: str, acked: list[str], stop: threading.Event, seed: int) -> None:
    i = 0
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            i += 1
            o = {"lat": A[0] + (seed * 1000 + i) * 1e-7, "lon": A[1]}  # a new cache key each time
            body = {"origin": o, "destination": {"lat": B[0], "lon": B[1]}}
            if i % 3 == 0:
                body["objectives"] = ["duration", "money", "co2e"]
            try:
                r = c.post("/pareto" if i % 3 == 0 else "/route", json=body)
            except httpx.HTTPError:
                return  # the server is gone
            if r.status_code == 200:
                acked.append(r.json()["run_id"])


def test_acknowledged_run_ids_survive_sigkill(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "var"
    data.mkdir()
    port = _port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(data, port, database_url)
    acked: list[str] = []
    stop = threading.Event()
    try:
        threads = [threading.Thread(target=_drive, args=(base, acked, stop, k)) for k in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill(proc)  # while the 8 clients still have requests in flight
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        stop.set()
        if proc.poll() is None:
            _kill(proc)
    assert len(acked) >= 40
    proc = _serve(data, port, database_url)
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            for run_id in acked:
                m = c.get(f"/runs/{run_id}/manifest")
                assert m.status_code == 200, (run_id, m.status_code)
                assert m.json()["run_id"] == run_id
                v = c.post("/verify/signature", json={"run_id": run_id})
                assert v.status_code == 200 and v.json()["valid"], v.text
            assert c.get("/runs/0123456789abcdef0123456789abcdef/manifest").status_code == 404
    finally:
        _kill(proc)
