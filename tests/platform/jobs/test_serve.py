"""``ridgeline serve`` refuses a port another process listens on; with two granian workers, a worker
killed with SIGKILL is respawned while the other keeps answering."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.netutil import children, free_port, wait_serving


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


def test_serve_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "ridgeline.cli", "serve", "--only", "sim", "--port", str(port)],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == [f"ridgeline: port {port} on 127.0.0.1 is already in use by another process"]


@pytest.mark.slow
def test_a_killed_worker_is_respawned_and_the_service_keeps_answering(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
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
        env=_env(tmp_path),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    try:
        before = wait_serving(proc, base, log)
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        # the surviving worker answers at once
        answered = 0
        for _ in range(20):
            try:
                answered += httpx.get(base + "/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                pass
        assert answered > 0
        # and granian starts a new worker in place of the killed one
        end = time.monotonic() + 300
        while time.monotonic() < end:
            kids = set(children(proc.pid))
            if len(kids) >= 2 and victim not in kids:
                break
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        else:
            raise AssertionError(f"no new worker: {log.read_text()[-3000:]}")
        assert set(wait_serving(proc, base, log)) != set(before)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.parametrize(
    ("args", "redis", "message"),
    [
        ([], None, "ridgeline worker needs RIDGELINE_REDIS_URL"),
        (["--families", "nope"], "redis://127.0.0.1:1/0", "--families: not available in this build: nope"),
        (["--concurrency", "0"], "redis://127.0.0.1:1/0", "--concurrency must be 1..256"),
    ],
)
def test_worker_configuration_errors_exit_2(
    tmp_path: Path, args: list[str], redis: str | None, message: str
) -> None:
    env = _env(tmp_path)
    if redis:
        env["RIDGELINE_REDIS_URL"] = redis
    out = subprocess.run(
        [sys.executable, "-m", "ridgeline.cli", "worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ridgeline: configuration error: {message}")
