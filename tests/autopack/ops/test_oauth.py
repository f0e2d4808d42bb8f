"""OAuth credential health (section 9): bearer for reads, admin for refresh/reset (403 for users,
401 without a token), sealed secrets at rest, the refresh-token grant against a fake token endpoint
on loopback (queued as a platform job), failure counts and events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from ridgeline.platform.auth import Role
from tests.autopack.ops.conftest import call, ops_of, token_for

pytestmark = pytest.mark.db


def _token_server(fake_server, behaviour: dict):  # type: ignore[no-untyped-def]
    def reply(path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if behaviour.get("fail"):
            return 400, {"error": "invalid_grant", "error_description": "refresh token revoked"}
        assert form["grant_type"] == "refresh_token"
        auth = base64.b64decode(headers["authorization"].split()[1]).decode()
        if auth != "client-1:client-secret-xyz" or form["refresh_token"] != behaviour["expect_refresh"]:
            return 401, {"error": "invalid_client"}
        behaviour["expect_refresh"] = "refresh-2"
        return 200, {
            "access_token": "access-2-fresh-token-value",
            "token_type": "Bearer",
            "expires_in": 7 * 86400,
            "refresh_token": "refresh-2",
            "scope": "repo read:user",
        }

    return fake_server(reply)


def _register(c, admin, url: str, **extra):  # type: ignore[no-untyped-def]
    body = {
        "token_url": f"{url}/oauth/token",
        "client_id": "client-1",
        "client_secret": "client-secret-xyz",
        "access_token": "access-1-old-token-value",
        "refresh_token": "refresh-1",
        "scopes": ["repo"],
        "expires_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
        **extra,
    }
    r = c.put("/api/auth/oauth/credentials/github", json=body, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


def _run(c, job_id: str):  # type: ignore[no-untyped-def]
    return call(c, ops_of(c).ctx.jobs.wait, job_id, 60)


def test_auth_rules(make_ops_client) -> None:
    c = make_ops_client()
    user = token_for(c, "uma")
    admin = token_for(c, "ada", Role.ADMIN)
    for method, path in [
        ("get", "/api/auth/oauth/health"),
        ("get", "/api/auth/oauth/health/github"),
        ("get", "/api/auth/oauth/events"),
        ("post", "/api/auth/oauth/refresh/github"),
        ("post", "/api/auth/oauth/reset/github"),
    ]:
        r = getattr(c, method)(path)
        assert r.status_code == 401, path
    for path in ("/api/auth/oauth/refresh/github", "/api/auth/oauth/reset/github"):
        r = c.post(path, headers=user)
        assert r.status_code == 403 and r.json()["reason_code"] == "insufficient_role", path
        r = c.post(path, headers=admin)
        assert r.status_code == 404 and r.json()["reason_code"] == "oauth_credential_not_found"
    assert c.get("/api/auth/oauth/health", headers=user).status_code == 200
    r = c.get("/api/auth/oauth/health/github", headers=user)
    assert r.status_code == 404 and r.json()["reason_code"] == "oauth_credential_not_found"
    assert c.put("/api/auth/oauth/credentials/github", json={}, headers=user).status_code == 403


def test_refresh_grant_job_and_sealed_at_rest(make_ops_client, fake_server) -> None:
    behaviour = {"expect_refresh": "refresh-1"}
    srv = _token_server(fake_server, behaviour)
    c = make_ops_client()
    admin = token_for(c, "ada", Role.ADMIN)
    user = token_for(c, "uma")
    reg = _register(c, admin, srv.url)
    assert reg["status"] == "expiring" and reg["refreshable"] is True
    assert "access-1-old-token-value" not in json.dumps(reg)

    from ridgeline.autopack.api.ops_store import oauth_credentials

    async def row():  # type: ignore[no-untyped-def]
        async with ops_of(c).db.engine.connect() as conn:
            return (await conn.execute(oauth_credentials.select())).one()

    stored = call(c, row)
    for col in ("client_secret_sealed", "access_token_sealed", "refresh_token_sealed"):
        assert getattr(stored, col).startswith("v1.")
    assert (
        "refresh-1" not in stored.refresh_token_sealed
        and "client-secret-xyz" not in stored.client_secret_sealed
    )

    r = c.post("/api/auth/oauth/refresh/github", headers=admin)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = _run(c, r.json()["job_id"])
    assert job.status == "SUCCEEDED", job.error
    h = c.get("/api/auth/oauth/health/github", headers=user).json()
    assert h["status"] == "healthy" and h["failure_count"] == 0 and h["scopes"] == ["repo", "read:user"]
    assert h["access_token_masked"].startswith("acce****#")
    assert 7 * 86400 - 600 < h["expires_in_seconds"] <= 7 * 86400
    # The rotated refresh token was stored: a second refresh presents refresh-2.
    job = _run(c, c.post("/api/auth/oauth/refresh/github", headers=admin).json()["job_id"])
    assert job.status == "SUCCEEDED", job.error
    assert len(srv.requests) == 2
    events = [e["event_type"] for e in c.get("/api/auth/oauth/events", headers=user).json()]
    assert events[:2] == ["refresh_succeeded", "refresh_queued"] and events[-1] == "registered"
    assert "access-2-fresh-token-value" not in json.dumps(
        c.get("/api/auth/oauth/events", headers=user).json()
    )


def test_failures_count_then_failing_then_reset(make_ops_client, fake_server) -> None:
    behaviour = {"fail": True}
    srv = _token_server(fake_server, behaviour)
    c = make_ops_client()
    admin = token_for(c, "ada", Role.ADMIN)
    _register(c, admin, srv.url, expires_at=(datetime.now(UTC) + timedelta(days=30)).isoformat())
    for _ in range(3):
        job = _run(c, c.post("/api/auth/oauth/refresh/github", headers=admin).json()["job_id"])
        assert job.status == "FAILED" and job.error["reason_code"] == "oauth_refresh_failed"
    h = c.get("/api/auth/oauth/health/github", headers=admin).json()
    assert h["status"] == "failing" and h["failure_count"] == 3 and "invalid_grant" in h["last_error"]
    report = c.get("/api/auth/oauth/health", headers=admin).json()
    assert (
        report["status"] == "failing"
        and report["summary"]["failing"] == 1
        and report["summary"]["total"] == 1
    )
    r = c.post("/api/auth/oauth/reset/github", headers=admin)
    assert r.status_code == 200 and r.json()["failure_count"] == 0 and r.json()["status"] == "healthy"
    evs = c.get("/api/auth/oauth/events", params={"provider": "github", "limit": 1}, headers=admin).json()
    assert [e["event_type"] for e in evs] == ["reset"]
    assert evs[0]["detail"]["previous_failure_count"] == 3


def test_not_refreshable_is_409(make_ops_client) -> None:
    c = make_ops_client()
    admin = token_for(c, "ada", Role.ADMIN)
    c.put("/api/auth/oauth/credentials/slack", json={"access_token": "x"}, headers=admin)
    r = c.post("/api/auth/oauth/refresh/slack", headers=admin)
    assert r.status_code == 409 and r.json()["reason_code"] == "oauth_not_refreshable"
