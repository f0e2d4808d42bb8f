"""``ridgeline users`` and ``ridgeline apikeys`` (how a first superadmin exists)."""

from __future__ import annotations

import io
import json

import pytest

from ridgeline.cli import main

pytestmark = pytest.mark.db


@pytest.fixture
def cli_env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RIDGELINE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("RIDGELINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RIDGELINE_AUTH_PASSWORD_PROFILE", "test")
    return settings


def run(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, list[dict]]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_users_create_list_set_role_disable(cli_env, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, (user,) = run(
        capsys,
        monkeypatch,
        "users",
        "create",
        "Root",
        "--role",
        "superadmin",
        "--password-stdin",
        stdin="ten-green-bottles-1\n",
    )
    assert code == 0 and user["role"] == "superadmin" and user["is_superuser"] is True
    code, _ = run(
        capsys, monkeypatch, "users", "create", "root", "--password-stdin", stdin="another-pass-1\n"
    )
    assert code == 1  # case-insensitive duplicate
    code, listed = run(capsys, monkeypatch, "users", "list")
    assert [u["username"] for u in listed] == ["Root"]
    code, (changed,) = run(capsys, monkeypatch, "users", "set-role", "root", "user")
    assert changed["role"] == "user" and changed["is_superuser"] is False
    code, (disabled,) = run(capsys, monkeypatch, "users", "disable", "root")
    assert disabled["disabled"] is True
    assert "ten-green-bottles-1" not in json.dumps(listed)


def test_users_create_requires_password_stdin(cli_env, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, _ = run(capsys, monkeypatch, "users", "create", "x-user")
    assert code == 2


def test_apikeys_create_is_shown_once_then_listed_without_the_key(cli_env, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, (created,) = run(capsys, monkeypatch, "apikeys", "create", "--name", "ci", "--scope", "runs:write")
    assert code == 0 and created["key"].startswith(created["prefix"])
    code, (listed,) = run(capsys, monkeypatch, "apikeys", "list")
    assert listed["id"] == created["id"] and "key" not in listed and created["key"] not in json.dumps(listed)
    code, _ = run(capsys, monkeypatch, "apikeys", "revoke", created["id"])
    assert code == 0
    code, (after,) = run(capsys, monkeypatch, "apikeys", "list")
    assert after["revoked_at"] is not None


def test_users_reset_mfa_turns_totp_off(cli_env, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from ridgeline.platform import db
    from ridgeline.platform.auth.service import AuthService
    from ridgeline.platform.auth.settings import AuthSettings

    code, (user,) = run(
        capsys, monkeypatch, "users", "create", "lost-phone", "--password-stdin", stdin="tall-cactus-9\n"
    )
    assert code == 0

    async def enrol_and_check(enrol: bool) -> bool:
        import pyotp

        database = db.Database(cli_env)
        try:
            auth = AuthService(database, AuthSettings(password_profile="test"), cli_env.data_dir)
            if enrol:
                secret, _ = await auth.mfa.begin(user["id"], "lost-phone")
                assert await auth.mfa.confirm(user["id"], pyotp.TOTP(secret).now()) is not None
            return await auth.mfa.enabled(user["id"])
        finally:
            await database.dispose()

    assert asyncio.run(enrol_and_check(True)) is True
    code, (out,) = run(capsys, monkeypatch, "users", "reset-mfa", "lost-phone")
    assert code == 0 and out == {"username": "lost-phone", "mfa_was_enabled": True, "mfa_enabled": False}
    assert asyncio.run(enrol_and_check(False)) is False
    code, _ = run(capsys, monkeypatch, "users", "reset-mfa", "nobody-here")
    assert code == 1
