"""Auth per endpoint exactly as contract 003 lists it, row by row, in production and development;
the rate limit on POST /runs/start; the /api/auth/* endpoints."""

from __future__ import annotations

import pytest

from tests.autopack.runs.conftest import API_KEY, KEY, away_from_window_edge, create, plan

pytestmark = pytest.mark.db

# (method, path, body): seeded run "seed" with phase P0.0; token-efficiency etc. need a run.
KEYED = [("GET", "/dashboard/runs/seed/token-efficiency"), ("GET", "/dashboard/runs/seed/phase6-stats")]
OPERATOR_READS = [
    ("GET", "/runs"),
    ("GET", "/runs/seed/progress"),
    ("GET", "/runs/seed/artifacts/index"),
    ("GET", "/runs/seed/artifacts/file?path=workspace/readme.txt"),
    ("GET", "/runs/seed/browser/artifacts"),
]
PUBLIC = [
    ("GET", "/health"),
    ("GET", "/runs/seed"),
    ("GET", "/runs/seed/issues/index"),
    ("GET", "/project/issues/backlog"),
    ("GET", "/runs/seed/errors"),
    ("GET", "/runs/seed/errors/summary"),
    ("GET", "/dashboard/runs/seed/status"),
    ("GET", "/dashboard/usage"),
    ("GET", "/dashboard/models"),
    ("GET", "/dashboard/ab-results"),
    ("GET", "/api/auth/.well-known/jwks.json"),
]


def _app(make_ap, env: dict[str, str], api_key: bool):  # type: ignore[no-untyped-def]
    from tests.autopack.runs.conftest import service

    ap = make_ap(env, api_key=api_key)
    create(ap, "seed")
    ws = service(ap).runs.workspace("seed")
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "readme.txt").write_text("hi\n")
    return ap


def _status(ap, method: str, path: str, headers: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    return ap.request(method, path, headers=headers or {}).status_code


def _start(ap, run_id: str, headers: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    return ap.post("/runs/start", json=plan(run_id), headers=headers or {}).status_code


# env, key configured -> (reads need the key?, keyed routes need the key?)
MODES = [
    ({"AUTOPACK_ENV": "production"}, True, True, True),
    ({"AUTOPACK_ENV": "production"}, False, True, True),  # fail closed: no key can be given
    ({"AUTOPACK_ENV": "production", "AUTOPACK_PUBLIC_READ": "1"}, True, True, True),
    ({"AUTOPACK_PUBLIC_READ": "1"}, True, False, True),
    ({}, False, False, False),
    ({}, True, True, True),
]


@pytest.mark.parametrize(("env", "key_configured", "reads_locked", "keyed_locked"), MODES)
def test_auth_table_row_by_row(make_ap, env, key_configured, reads_locked, keyed_locked) -> None:  # type: ignore[no-untyped-def]
    ap = _app(make_ap, env, key_configured)
    for method, path in OPERATOR_READS:
        assert _status(ap, method, path) == (401 if reads_locked else 200), (env, path)
        if key_configured:
            assert _status(ap, method, path, KEY) == 200, (env, path)
    for method, path in KEYED:
        assert _status(ap, method, path) == (401 if keyed_locked else 200), (env, path)
        if key_configured:
            assert _status(ap, method, path, KEY) == 200, (env, path)
    assert _start(ap, "new-1") == (401 if keyed_locked else 201)
    if key_configured:
        assert _start(ap, "new-2", KEY) == 201
    for method, path in PUBLIC:
        assert _status(ap, method, path) == 200, (env, path)
    # the executor's trust boundary: phase updates need no key in any mode
    r = ap.post("/runs/seed/phases/P0.0/update_status", json={"state": "EXECUTING"})
    assert r.status_code == 200


def test_denials_carry_reason_codes_and_a_challenge(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = _app(make_ap, {"AUTOPACK_ENV": "production"}, True)
    r = ap.get("/runs")
    assert r.status_code == 401 and r.json()["reason_code"] == "not_authenticated"
    assert "X-API-Key" in r.headers["www-authenticate"]
    r = ap.get("/runs", headers={"X-API-Key": API_KEY[:-1] + "X"})
    assert r.status_code == 401 and r.json()["reason_code"] == "invalid_api_key"
    assert API_KEY not in r.text


def test_start_is_limited_to_ten_a_minute_per_client(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap(api_key=True)
    away_from_window_edge()
    codes = [_start(ap, f"rl-{i}", KEY) for i in range(12)]
    assert codes == [201] * 10 + [429] * 2
    r = ap.post("/runs/start", json=plan("rl-x"), headers=KEY)
    assert r.status_code == 429 and r.json()["reason_code"] == "rate_limited"
    assert int(r.headers["retry-after"]) >= 1 and r.headers["ratelimit-limit"] == "10"
    assert ap.get("/runs/rl-x").status_code == 404  # nothing created
    assert ap.get("/runs", headers=KEY).status_code == 200  # only the start route is limited


def test_api_auth_endpoints_are_the_platforms(ap) -> None:  # type: ignore[no-untyped-def]
    r = ap.post(
        "/api/auth/register", json={"username": "dana", "email": "d@example.org", "password": "pass-word-123"}
    )
    assert r.status_code == 201 and r.json()["username"] == "dana" and r.json()["is_superuser"] is False
    assert (
        ap.post(
            "/api/auth/register",
            json={"username": "dana", "email": "e@example.org", "password": "pass-word-123"},
        ).json()["reason_code"]
        == "username_taken"
    )
    r = ap.post("/api/auth/login", json={"username": "dana", "password": "pass-word-123"})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    token = r.json()["access_token"]
    me = ap.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "dana"
    assert ap.get("/api/auth/me").status_code == 401
    bad = ap.post("/api/auth/login", json={"username": "dana", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["reason_code"] == "invalid_credentials"
    assert "detail" in bad.json()  # the family's FastAPI-style shape
    jwks = ap.get("/api/auth/.well-known/jwks.json").json()
    assert jwks == ap.get("/.well-known/jwks.json").json() and jwks["keys"]
