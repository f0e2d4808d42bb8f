"""Start the real server (`ridgeline serve` on granian) on a free loopback port and talk HTTP to it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.netutil import free_port


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
    port = free_port()
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


def test_workers_stop_when_the_granian_parent_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the main `serve` process (an OOM kill, a crash) must not leave orphaned workers holding
    the port and answering with the old process's code: they notice they were re-parented and stop."""
    import signal

    port = free_port()
    env = {**os.environ, "RIDGELINE_DATA_DIR": str(tmp_path / "var"), "RIDGELINE_SEED_DEFAULTS": "0"}
    env.pop("RIDGELINE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ridgeline.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so the test can clean up whatever is left
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            except httpx.HTTPError:
                break  # nothing answers any more: the workers have gone
            time.sleep(0.2)
        else:
            raise AssertionError("orphaned workers still answer 30 s after their parent was killed")
        from ridgeline.cli import port_taken

        deadline = time.monotonic() + 30
        while port_taken("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_taken("127.0.0.1", port)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
