"""API keys: entropy and format, hash-only storage, constant-time comparison, revocation, rotation,
expiry, scopes and the bootstrap key from a setting."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.platform.auth import apikeys as apikeys_mod
from ridgeline.platform.auth.apikeys import KEY_PATTERN
from ridgeline.platform.auth.settings import AuthSettings, SecretStr
from ridgeline.platform.auth.store import api_keys_table
from tests.platform.auth.conftest import auth_of, call

pytestmark = pytest.mark.db


def create(client: Any, **kw: Any) -> Any:
    kw.setdefault("scopes", ["*"])
    return call(client, auth_of(client).create_api_key, actor="test", **kw)


def rows(client: Any) -> list[Any]:
    async def q() -> list[Any]:
        async with auth_of(client).db.begin() as conn:
            return (await conn.execute(sa.select(api_keys_table))).all()

    return call(client, q)


def test_keys_are_long_random_and_shown_once(client) -> None:  # type: ignore[no-untyped-def]
    keys = [create(client).key for _ in range(5)]
    assert len(set(keys)) == 5
    for key in keys:
        match = KEY_PATTERN.match(key)
        assert match is not None
        assert len(match.group(2)) == 43  # 32 bytes = 256 bits from secrets.token_urlsafe
    listed = call(client, auth_of(client).api_keys.list)
    assert all(not hasattr(info, "key") for info in listed)


def test_the_database_holds_no_plaintext_key(client) -> None:  # type: ignore[no-untyped-def]
    new = create(client, name="ci")
    secret_part = KEY_PATTERN.match(new.key).group(2)  # type: ignore[union-attr]
    (row,) = rows(client)
    for value in row._mapping.values():
        text = str(value)
        assert new.key not in text and secret_part not in text
    assert len(row.key_hash) == 64 and row.key_hash != new.key
    assert new.key.startswith(row.prefix) and len(row.prefix) < len(new.key) - 32


def test_the_stored_digest_is_keyed_by_the_pepper(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    new = create(client)
    (row,) = rows(client)
    assert row.key_hash != hashlib.sha256(new.key.encode()).hexdigest()
    pepper_file = auth_of(client).settings.pepper_path(auth_of(client).db.settings.data_dir)
    assert pepper_file.stat().st_mode & 0o777 == 0o600


def test_verification_uses_constant_time_comparison(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    new = create(client)
    calls: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(apikeys_mod.hmac, "compare_digest", spy)
    assert call(client, auth_of(client).api_keys.verify, new.key) is not None
    assert calls, "the digest comparison must go through hmac.compare_digest"


def test_a_revoked_key_is_refused_at_once(client) -> None:  # type: ignore[no-untyped-def]
    new = create(client, scopes=["runs:write"])
    assert client.get("/routing/keyed", headers={"X-API-Key": new.key}).status_code == 200
    assert call(client, auth_of(client).revoke_api_key, new.info.id, actor="test")
    r = client.get("/routing/keyed", headers={"X-API-Key": new.key})
    assert r.status_code == 401 and r.json()["detail"]["reason_code"] == "invalid_api_key"


def test_an_expired_key_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    new = create(client, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get("/routing/any-key", headers={"X-API-Key": new.key}).status_code == 401


def test_rotation_keeps_the_old_key_for_the_overlap_only(client) -> None:  # type: ignore[no-untyped-def]
    auth = auth_of(client)
    old = create(client, name="deploy", scopes=["runs:write"])
    new = call(client, auth.rotate_api_key, old.info.id, actor="test", overlap_s=3600)
    assert new.info.scopes == ["runs:write"] and new.info.name == "deploy"
    for key in (old.key, new.key):
        assert client.get("/routing/keyed", headers={"X-API-Key": key}).status_code == 200
    info = call(client, auth.api_keys.get, old.info.id)
    assert info.rotated_to == new.info.id
    assert timedelta(minutes=59) < info.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    # With no overlap the old key stops at once and the new one carries on.
    newer = call(client, auth.rotate_api_key, new.info.id, actor="test", overlap_s=0)
    assert client.get("/routing/keyed", headers={"X-API-Key": new.key}).status_code == 401
    assert client.get("/routing/keyed", headers={"X-API-Key": newer.key}).status_code == 200


def test_last_used_is_recorded(client) -> None:  # type: ignore[no-untyped-def]
    new = create(client)
    assert call(client, auth_of(client).api_keys.get, new.info.id).last_used_at is None
    client.get("/routing/any-key", headers={"X-API-Key": new.key})
    assert call(client, auth_of(client).api_keys.get, new.info.id).last_used_at is not None


def test_bootstrap_key_from_the_contract_variable(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    settings = AuthSettings.from_env(
        {"AUTOPACK_API_KEY": "the-bootstrap-key-123456", "RIDGELINE_AUTH_PASSWORD_PROFILE": "test"}
    )
    assert "the-bootstrap-key" not in repr(settings) and "the-bootstrap-key" not in str(settings)
    client = make_auth_client(bootstrap_api_key=settings.bootstrap_api_key)
    r = client.get("/routing/keyed", headers={"X-API-Key": "the-bootstrap-key-123456"})
    assert r.status_code == 200 and r.json()["subject"] == "bootstrap:setting"
    assert client.get("/routing/keyed", headers={"X-API-Key": "the-bootstrap-key-12345X"}).status_code == 401
    assert rows(client) == []  # never stored


def test_ridgeline_variable_wins_over_the_contract_alias() -> None:
    s = AuthSettings.from_env({"AUTOPACK_API_KEY": "a" * 20, "RIDGELINE_AUTH_BOOTSTRAP_API_KEY": "b" * 20})
    assert s.bootstrap_api_key == SecretStr("b" * 20)
