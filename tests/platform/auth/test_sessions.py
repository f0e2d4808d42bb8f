"""Logout (V7.4.1) and password change (V6.2.2, V6.2.3): the revocation list keyed by jti, the
per-user session generation, and both seen by every worker (two apps on one database)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.platform.auth.conftest import auth_of, bearer, call, login, make_user

pytestmark = pytest.mark.db


def me(client: Any, token: str) -> Any:
    return client.get("/auth/me", headers=bearer(token))


def reason(r: Any) -> str:
    return r.json()["reason_code"]


def test_logout_revokes_this_token_only(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "lou")
    a, b = login(client, "lou"), login(client, "lou")
    assert client.post("/auth/logout", headers=bearer(a)).status_code == 204
    r = me(client, a)
    assert r.status_code == 401 and reason(r) == "token_revoked"
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert me(client, b).status_code == 200  # the user's other session is untouched
    r = client.post("/auth/logout")
    assert r.status_code == 401 and reason(r) == "not_authenticated"


def test_a_logout_on_one_worker_is_refused_on_another(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    # Two apps on one database: two workers, each with its own cached revocation snapshot.
    a = make_auth_client(revocation_recheck_s=0.0)
    b = make_auth_client(revocation_recheck_s=0.0)
    make_user(a, "wendy")
    token = login(a, "wendy")
    assert me(b, token).status_code == 200  # b has loaded its snapshot
    assert a.post("/auth/logout", headers=bearer(token)).status_code == 204
    r = me(b, token)
    assert r.status_code == 401 and reason(r) == "token_revoked"


def test_other_workers_recheck_only_every_interval(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    a = make_auth_client()
    b = make_auth_client(revocation_recheck_s=60.0)
    make_user(a, "vera")
    token = login(a, "vera")
    assert me(b, token).status_code == 200
    assert a.post("/auth/logout", headers=bearer(token)).status_code == 204
    assert me(b, token).status_code == 200  # b's snapshot is younger than its recheck interval
    auth_of(b).revocations.recheck_s = 0.0
    assert reason(me(b, token)) == "token_revoked"


def test_revocation_entries_expire_with_the_token(client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth.revocation import DatabaseRevocationStore

    store = DatabaseRevocationStore(auth_of(client).db)
    before = call(client, store.version)
    call(client, store.revoke, "old-jti", "u1", 1000.0, 900.0)
    call(client, store.revoke, "live-jti", "u1", 5000.0, 900.0)
    snap = call(client, store.load, 2000.0)
    assert "live-jti" in snap.jtis and "old-jti" not in snap.jtis
    assert snap.version == before + 2  # every revocation moves the counter


@pytest.mark.db
def test_logout_with_the_redis_store(settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.platform.auth.revocation import RedisRevocationStore
    from ridgeline.platform.auth.settings import AuthSettings
    from tests.platform.auth.conftest import probe_family

    auth = AuthSettings(password_profile="test", revocation_recheck_s=0.0)
    s = msgspec.structs.replace(settings, redis_url=redis_url)
    with (
        TestClient(create_app(s, families=[probe_family], auth_settings=auth)) as a,
        TestClient(create_app(s, families=[probe_family], auth_settings=auth)) as b,
    ):
        assert isinstance(auth_of(a).revocations.store, RedisRevocationStore)
        make_user(a, "rhea")
        token = login(a, "rhea")
        assert me(b, token).status_code == 200
        assert a.post("/auth/logout", headers=bearer(token)).status_code == 204
        assert reason(me(b, token)) == "token_revoked"
        # A password change on a revokes every token of the user on b as well.
        other = login(b, "rhea")
        r = a.post(
            "/auth/password",
            json={"current_password": "pass-word-123", "new_password": "a-new-pass-phrase"},
            headers=bearer(other),
        )
        assert r.status_code == 200, r.text
        assert reason(me(b, other)) == "token_revoked"
        assert me(b, r.json()["access_token"]).status_code == 200


def change(client: Any, token: str, current: str, new: str) -> Any:
    return client.post(
        "/auth/password", json={"current_password": current, "new_password": new}, headers=bearer(token)
    )


def test_password_change_needs_the_current_password(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "carla")
    token = login(client, "carla")
    r = change(client, token, "not-my-password", "a-new-pass-phrase")
    assert r.status_code == 403 and reason(r) == "invalid_current_password"
    r = client.post("/auth/password", json={"current_password": "pass-word-123", "new_password": "x" * 12})
    assert r.status_code == 401 and reason(r) == "not_authenticated"
    assert me(client, token).status_code == 200  # nothing changed
    assert (
        client.post("/auth/login", json={"username": "carla", "password": "pass-word-123"}).status_code == 200
    )


def test_password_change_ends_every_other_session(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    a = make_auth_client(revocation_recheck_s=0.0)
    b = make_auth_client(revocation_recheck_s=0.0)
    make_user(a, "pablo")
    here, there = login(a, "pablo"), login(b, "pablo")
    r = change(a, here, "pass-word-123", "a-new-pass-phrase")
    assert r.status_code == 200, r.text
    fresh = r.json()["access_token"]
    for client, token in ((a, here), (b, there), (b, here)):
        r = me(client, token)
        assert r.status_code == 401 and reason(r) == "token_revoked"
    assert me(a, fresh).status_code == 200 and me(b, fresh).status_code == 200
    old = a.post("/auth/login", json={"username": "pablo", "password": "pass-word-123"})
    assert old.status_code == 401 and reason(old) == "invalid_credentials"
    assert me(b, login(b, "pablo", "a-new-pass-phrase")).status_code == 200  # a new login is fine
    actions = [e.action for e in call(a, auth_of(a).audit.events)]
    assert "password.change" in actions and "sessions.revoke" in actions


def test_password_change_applies_the_password_checks(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "ingrid")
    token = login(client, "ingrid")
    r = change(client, token, "pass-word-123", "iloveyou")
    assert r.status_code == 422 and reason(r) == "password_common"
    r = change(client, token, "pass-word-123", "ingrid-forever-1")
    assert r.status_code == 422 and reason(r) == "password_contextual"
    r = change(client, token, "pass-word-123", "short")
    assert r.status_code == 422 and reason(r) == "weak_password"
    assert me(client, token).status_code == 200  # a refused change ends nothing


def test_the_routes_are_in_openapi_at_both_prefixes(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.app import load_family

    # autopack mounts the same handlers at contract 003's /api/auth (ridgeline.autopack.api.auth).
    c = make_auth_client(families=[load_family("autopack")])
    paths = c.get("/openapi.json").json()["paths"]
    api = "/api/auth" if "/api/auth/login" in paths else "/autopack/api/auth"  # root only with --only
    for prefix in ("/auth", api):
        for path in ("/logout", "/password", "/password/forgot", "/password/reset"):
            assert prefix + path in paths, prefix + path
        for path in ("/mfa/totp", "/mfa/totp/confirm", "/mfa/totp/disable"):
            assert prefix + path in paths, prefix + path
        declared = paths[prefix + "/password"]["post"]["responses"]
        assert {"401", "403", "422", "429"} <= set(declared)
    make_user(c, "april")
    token = login(c, "april")
    r = c.post(
        f"{api}/password",
        json={"current_password": "pass-word-123", "new_password": "a-new-pass-phrase"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    r = c.get(f"{api}/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["reason_code"] == "token_revoked"
