"""Two real granian workers (``ridgeline serve --workers 2``) share one rate-limit count (in the
database, or in Redis when RIDGELINE_REDIS_URL is set): together they allow exactly the limit, per client, with the client taken from X-Forwarded-For only because
the loopback peer is configured as a trusted proxy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.netutil import children, free_port, wait_serving

pytestmark = [pytest.mark.db, pytest.mark.slow]

LIMIT = 7
PER_CLIENT = 20


@pytest.fixture(params=["database", "redis"])
def two_workers(request, tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "RIDGELINE_DATA_DIR": str(tmp_path / "var"),
        "RIDGELINE_SEED_DEFAULTS": "0",
        "RIDGELINE_LOG_LEVEL": "WARNING",
        "RIDGELINE_AUTH_PASSWORD_PROFILE": "test",
        "RIDGELINE_AUTH_LOGIN_RATE_LIMIT": f"{LIMIT}/3600",
        "RIDGELINE_AUTH_TRUSTED_PROXIES": "127.0.0.1",
        # Every request re-reads the revocation counter, so a logout is seen by the other worker at once.
        "RIDGELINE_AUTH_REVOCATION_RECHECK_S": "0",
    }
    env.pop("RIDGELINE_DATABASE_URL", None)
    if settings.database_url:
        env["RIDGELINE_DATABASE_URL"] = settings.database_url
    env.pop("RIDGELINE_REDIS_URL", None)
    if request.param == "redis":
        env["RIDGELINE_REDIS_URL"] = request.getfixturevalue("redis_url")
    log = (tmp_path / "server.log").open("wb")
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
        env=env,
        stdout=log,  # granian logs its workers' exits on stdout
        stderr=subprocess.STDOUT,
    )
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


def test_two_workers_together_allow_exactly_the_limit(two_workers) -> None:  # type: ignore[no-untyped-def]
    base, proc = two_workers
    assert len(children(proc.pid)) >= 2

    def attempt(client_ip: str) -> int:
        # A fresh connection per request, so the kernel spreads them over both workers' accepts.
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post(
                "/auth/login",
                json={"username": "nobody", "password": "wrong-password"},
                headers={"X-Forwarded-For": client_ip},
            )
            if r.status_code == 429:
                assert int(r.headers["retry-after"]) >= 1 and r.headers["ratelimit-remaining"] == "0"
            return r.status_code

    clients = ["198.51.100.1"] * PER_CLIENT + ["198.51.100.2"] * PER_CLIENT
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda ip: (ip, attempt(ip)), clients))
    for ip in ("198.51.100.1", "198.51.100.2"):
        counts = Counter(status for who, status in statuses if who == ip)
        assert counts == {401: LIMIT, 429: PER_CLIENT - LIMIT}, (ip, counts)


def test_a_token_from_one_worker_verifies_on_every_worker(two_workers) -> None:  # type: ignore[no-untyped-def]
    base, _ = two_workers
    client_ip = {"X-Forwarded-For": "198.51.100.77"}
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post(
            "/auth/register",
            json={"username": "wanda", "email": "w@example.com", "password": "pass-word-123"},
            headers=client_ip,
        )
        assert r.status_code == 201, r.text
        r = c.post("/auth/login", json={"username": "wanda", "password": "pass-word-123"}, headers=client_ip)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]

    def me(_: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as c:  # fresh connection: either worker
            return c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(me, range(24))) == {200}


def test_a_logged_out_token_is_refused_by_every_worker(two_workers) -> None:  # type: ignore[no-untyped-def]
    base, _ = two_workers
    client_ip = {"X-Forwarded-For": "198.51.100.78"}
    with httpx.Client(base_url=base, timeout=30) as c:
        body = {"username": "lenny", "email": "l@example.com", "password": "pass-word-123"}
        assert c.post("/auth/register", json=body, headers=client_ip).status_code == 201
        r = c.post("/auth/login", json={"username": "lenny", "password": "pass-word-123"}, headers=client_ip)
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/auth/me", headers=auth).status_code == 200
        assert c.post("/auth/logout", headers=auth).status_code == 204

    def me(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=base, timeout=30) as c:  # fresh connection: either worker
            r = c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
            return r.status_code, r.json().get("reason_code", "")

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(me, range(24))) == {(401, "token_revoked")}
