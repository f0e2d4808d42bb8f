"""Audit events: every denial and every credential created, rotated or revoked; never a secret."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.platform.auth import Role
from ridgeline.platform.auth.store import audit_table
from tests.platform.auth.conftest import auth_of, bearer, call, login, make_user

pytestmark = pytest.mark.db


def events(client: Any) -> list[dict[str, Any]]:
    async def q() -> list[Any]:
        async with auth_of(client).db.begin() as conn:
            return (await conn.execute(sa.select(audit_table).order_by(audit_table.c.id))).all()

    return [dict(r._mapping) for r in call(client, q)]


def test_denials_are_audited_with_request_id_and_reason(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get(
        "/routing/keyed", headers={"X-Request-Id": "req-401", "X-API-Key": "rk_0123456789abcdef_" + "x" * 43}
    )
    assert r.status_code == 401
    make_user(client, "uma")
    r = client.get("/routing/admin", headers={**bearer(login(client, "uma")), "X-Request-Id": "req-403"})
    assert r.status_code == 403
    denied = [e for e in events(client) if e["outcome"] == "denied" and e["action"] == "authorize"]
    by_req = {e["request_id"]: e for e in denied}
    assert by_req["req-401"]["reason"] == "invalid_api_key" and by_req["req-401"]["path"] == "/routing/keyed"
    assert by_req["req-401"]["method"] == "GET" and by_req["req-401"]["client"]
    assert by_req["req-401"]["actor"] == "rk_0123456789abcdef_"  # the key's id part, no secret
    assert by_req["req-403"]["reason"] == "insufficient_role" and by_req["req-403"]["actor"] == "uma"
    assert all(e["at"] is not None for e in denied)


def test_failed_logins_are_audited_without_the_password(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/auth/login", json={"username": "mallory", "password": "guess-123456"})
    (event,) = [e for e in events(client) if e["action"] == "login"]
    assert (
        event["outcome"] == "denied"
        and event["reason"] == "invalid_credentials"
        and event["actor"] == "mallory"
    )
    assert "guess-123456" not in str(events(client))


def test_credential_lifecycle_is_audited_and_no_secret_is_recorded(client) -> None:  # type: ignore[no-untyped-def]
    auth = auth_of(client)
    make_user(client, "vic", Role.ADMIN, password="vics-password-1")
    token = login(client, "vic", "vics-password-1")
    new = call(client, auth.create_api_key, actor="vic", scopes=["*"])
    rotated = call(client, auth.rotate_api_key, new.info.id, actor="vic", overlap_s=60)
    call(client, auth.revoke_api_key, rotated.info.id, actor="vic")
    call(client, auth.rotate_jwt_key, actor="vic")
    call(client, auth.update_user, "vic", actor="root", role=Role.SUPERADMIN)
    call(client, auth.update_user, "vic", actor="root", disabled=True)
    actions = [e["action"] for e in events(client)]
    for action in (
        "user.create",
        "token.issue",
        "api_key.create",
        "api_key.rotate",
        "api_key.revoke",
        "jwt_key.rotate",
        "user.set_role",
        "user.disable",
    ):
        assert action in actions, action
    dump = str(events(client))
    for secret in (new.key, rotated.key, token, "vics-password-1"):
        assert secret not in dump
    assert new.info.prefix in dump  # keys are named by their display prefix


def test_audit_events_are_readable_through_the_service(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/routing/signed-in")
    got = call(client, auth_of(client).audit.events, 10, "authorize")
    assert got and got[0].outcome == "denied" and got[0].reason == "not_authenticated"
