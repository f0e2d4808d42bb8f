"""Start the real server (`ridgeline serve` on granian) on a free loopback port and talk HTTP to it."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(tmp_path / "var"), "RIDGELINE_SEED_DEFAULTS": "0"}
    env.pop("RIDGELINE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ridgeline.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_real_server_answers_health_openapi_and_metrics(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as c:
        r = c.get("/health", headers={"X-Request-Id": "it-1"})
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.headers["x-request-id"] == "it-1"
        assert c.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert "ridgeline_requests_total" in c.get("/metrics").text
        assert c.get("/missing").status_code == 404
