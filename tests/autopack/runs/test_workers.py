"""POST /runs/start's 10/minute per client IP holds across two real granian workers
(``ridgeline serve --only autopack --workers 2``): the count lives in the shared store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.autopack.runs.conftest import API_KEY, away_from_window_edge, plan
from tests.netutil import children, free_port, wait_serving

pytestmark = [pytest.mark.db, pytest.mark.slow]
PER_CLIENT = 14


@pytest.fixture
def two_workers(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(tmp_path / "var"),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "RIDGELINE_AUTH_PASSWORD_PROFILE": "test",
        "RIDGELINE_AUTH_TRUSTED_PROXIES": "127.0.0.1",
        "AUTOPACK_API_KEY": API_KEY,
    }
    for name in ("RIDGELINE_DATABASE_URL", "RIDGELINE_REDIS_URL", "AUTOPACK_ENV", "AUTOPACK_PUBLIC_READ"):
        env.pop(name, None)
    if settings.database_url:
        env["RIDGELINE_DATABASE_URL"] = settings.database_url
    log = (tmp_path / "server.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "ridgeline.cli",
        "serve",
        "--only",
        "autopack",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_serving(proc, base, tmp_path / "server.log")
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_two_workers_together_allow_ten_starts_a_minute_per_client(two_workers) -> None:  # type: ignore[no-untyped-def]
    base, proc = two_workers
    assert len(children(proc.pid)) >= 2
    assert httpx.get(base + "/health", timeout=10).json()[
        "database_identity"
    ]  # autopack's /health at the root

    def attempt(job: tuple[str, int]) -> tuple[str, int]:
        ip, i = job
        with httpx.Client(base_url=base, timeout=60) as c:  # a fresh connection: either worker
            r = c.post(
                "/runs/start",
                json=plan(f"w-{ip.rsplit('.', 1)[1]}-{i}"),
                headers={"X-API-Key": API_KEY, "X-Forwarded-For": ip},
            )
            return ip, r.status_code

    away_from_window_edge()
    jobs = [(ip, i) for i in range(PER_CLIENT) for ip in ("198.51.100.1", "198.51.100.2")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, jobs))
    for ip in ("198.51.100.1", "198.51.100.2"):
        counts = Counter(status for who, status in results if who == ip)
        assert counts == {201: 10, 429: PER_CLIENT - 10}, (ip, counts)
