"""Users: register, login, me; argon2id off the event loop; case-insensitive uniqueness."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.platform.auth.passwords import Passwords
from ridgeline.platform.auth.store import users_table
from tests.platform.auth.conftest import auth_of, bearer, call, login

pytestmark = pytest.mark.db


def register(client: Any, username: str, email: str, password: str = "pass-word-123") -> Any:
    return client.post("/auth/register", json={"username": username, "email": email, "password": password})


def test_register_login_me(client) -> None:  # type: ignore[no-untyped-def]
    r = register(client, "Alice", "Alice@Example.com")
    assert r.status_code == 201
    body = r.json()
    assert body["username"] == "Alice" and body["role"] == "user" and body["is_superuser"] is False
    assert "password" not in r.text and "pass-word-123" not in r.text
    token = login(client, "alice")  # usernames are case-insensitive at login too
    me = client.get("/auth/me", headers=bearer(token)).json()
    assert me["id"] == body["id"] and me["email"] == "Alice@Example.com"


def test_username_and_email_are_unique_case_insensitively(client) -> None:  # type: ignore[no-untyped-def]
    assert register(client, "alice", "a@example.com").status_code == 201
    r = register(client, "ALICE", "other@example.com")
    assert r.status_code == 409 and r.json()["reason_code"] == "username_taken"
    r = register(client, "alice2", "A@EXAMPLE.COM")
    assert r.status_code == 409 and r.json()["reason_code"] == "email_taken"


def test_wrong_password_and_unknown_user_answer_alike(client) -> None:  # type: ignore[no-untyped-def]
    register(client, "bob", "b@example.com")
    a = client.post("/auth/login", json={"username": "bob", "password": "wrong-password"})
    b = client.post("/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert a.status_code == b.status_code == 401
    assert a.json()["reason_code"] == b.json()["reason_code"] == "invalid_credentials"
    assert a.json()["detail"] == b.json()["detail"]
    assert a.headers["www-authenticate"].startswith("Bearer")


def test_weak_or_bad_input_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    r = register(client, "carol", "c@example.com", "short")
    assert r.status_code == 422 and r.json()["reason_code"] == "weak_password"
    r = register(client, "bad name!", "c@example.com")
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_username"
    r = register(client, "carol", "not-an-email")
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_email"
    r = client.post("/auth/login", json={"username": "carol"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"


def test_registration_can_be_closed(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(registration="closed")
    r = register(client, "dan", "d@example.com")
    assert r.status_code == 403 and r.json()["reason_code"] == "registration_closed"


def test_passwords_are_stored_as_argon2id(client) -> None:  # type: ignore[no-untyped-def]
    register(client, "erin", "e@example.com")

    async def q() -> Any:
        async with auth_of(client).db.begin() as conn:
            return (await conn.execute(sa.select(users_table))).one()

    row = call(client, q)
    assert row.password_hash.startswith("$argon2id$")
    assert "pass-word-123" not in str(tuple(row))


def test_hashing_runs_off_the_event_loop(monkeypatch) -> None:
    import threading

    passwords = Passwords("test")
    seen: list[str] = []
    real = passwords._hasher

    class Spy:
        def hash(self, password: str) -> str:
            seen.append(threading.current_thread().name)
            return real.hash(password)

        def verify(self, h: str, password: str) -> bool:
            seen.append(threading.current_thread().name)
            return real.verify(h, password)

    monkeypatch.setattr(passwords, "_hasher", Spy())

    async def main() -> bool:
        loop_thread = threading.current_thread().name
        h = await passwords.hash("pass-word-123")
        ok = await passwords.verify(h, "pass-word-123")
        assert len(seen) == 2 and loop_thread not in seen
        return ok

    assert asyncio.run(main())


def test_default_profile_is_the_strong_one_and_test_profile_is_cheap() -> None:
    strong = Passwords("default")._hasher
    cheap = Passwords("test")._hasher
    assert strong.memory_cost >= 65536 and strong.time_cost >= 2
    assert cheap.memory_cost < strong.memory_cost
