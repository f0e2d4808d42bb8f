"""The auth handlers mount under another prefix (autopack's ``/api/auth/*``) on the same service."""

from __future__ import annotations

import pytest

from ridgeline.platform.auth.routes import auth_route_handlers
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.context import Family
from ridgeline.platform.errors import render_problem_json
from tests.platform.auth.conftest import bearer, login, make_user

pytestmark = pytest.mark.db


def test_same_service_under_a_family_prefix_with_its_error_shape(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    s = AuthSettings(password_profile="test")
    fam = Family(
        name="autopack",
        route_handlers=auth_route_handlers(
            s, "/api/auth", "/api/auth/.well-known/jwks.json", render_problem_json
        ),
    )
    client = make_auth_client(families=[fam])
    make_user(client, "ann")
    root_token = login(client, "ann")
    me = client.get("/autopack/api/auth/me", headers=bearer(root_token))
    assert me.status_code == 200 and me.json()["username"] == "ann"
    r = client.post("/autopack/api/auth/login", json={"username": "ann", "password": "pass-word-123"})
    assert r.status_code == 200
    # Two layers attach the guard (the family's router and the auth router); it counts once.
    assert int(r.headers["ratelimit-remaining"]) == s.login_rate_limit.limit - 1
    assert client.get("/auth/me", headers=bearer(r.json()["access_token"])).status_code == 200
    assert (
        client.get("/autopack/api/auth/.well-known/jwks.json").json()
        == client.get("/.well-known/jwks.json").json()
    )
    bad = client.post("/autopack/api/auth/login", json={"username": "ann", "password": "nope-nope-nope"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")
    assert (
        bad.json()["reason_code"] == "invalid_credentials"
        and bad.json()["type"] == "/problems/invalid-credentials"
    )
    denied = client.get("/autopack/api/auth/me")
    assert denied.status_code == 401 and denied.headers["content-type"].startswith("application/problem+json")
