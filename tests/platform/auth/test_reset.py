"""V6.4.3: self-service password reset through a real SMTP server (aiosmtpd on 127.0.0.1): the same
202 for every address, a single-use, short-lived token stored hashed, sessions ended on use."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
import sqlalchemy as sa

from ridgeline.platform.auth.store import password_resets_table
from tests.netutil import free_port
from tests.platform.auth.conftest import auth_of, bearer, call, login, make_user

pytestmark = pytest.mark.db

TOKEN = re.compile(r"token=([A-Za-z0-9_-]{43})")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def mail_client(make_auth_client, smtp) -> Any:  # type: ignore[no-untyped-def]
    port, _ = smtp
    return make_auth_client(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="ridgeline@example.org",
        password_reset_url="https://app.example.org/reset?token={token}",
    )


def audit_outcomes(client: Any) -> list[tuple[str, str]]:
    events = call(client, auth_of(client).audit.events, 100, "password.reset_request")
    return [(e.outcome, e.actor or "") for e in events]


def wait_for(predicate: Any) -> None:
    deadline = time.monotonic() + 20  # bounded: the background task and the SMTP round trip
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def forgot(client: Any, login_: str) -> Any:
    return client.post("/auth/password/forgot", json={"login": login_})


def mailed_token(client: Any, inbox: Inbox, email: str, login_: str | None = None) -> str:
    before = len(inbox.messages)
    r = forgot(client, login_ or email)
    assert r.status_code == 202, r.text
    wait_for(lambda: len(inbox.messages) > before)
    rcpt, message = inbox.messages[-1]
    assert rcpt == [email] and message["From"] == "ridgeline@example.org"
    match = TOKEN.search(message.get_content())
    assert match is not None
    return match.group(1)


def test_the_answer_does_not_tell_whether_the_account_exists(mail_client, smtp) -> None:  # type: ignore[no-untyped-def]
    _, inbox = smtp
    make_user(mail_client, "olga", email="olga@example.org")
    # A forged Host header must not reach the mail (the link comes from the setting only).
    known = mail_client.post(
        "/auth/password/forgot", json={"login": "olga@example.org"}, headers={"Host": "evil.example"}
    )
    unknown = forgot(mail_client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    wait_for(lambda: len(audit_outcomes(mail_client)) == 2)
    assert sorted(o for o, _ in audit_outcomes(mail_client)) == ["ignored", "ok"]
    assert [m[0] for m in inbox.messages] == [["olga@example.org"]]
    text = inbox.messages[0][1].get_content()
    assert "https://app.example.org/reset?token=" in text and "evil.example" not in text


def test_a_token_resets_once_and_ends_every_session(mail_client, smtp) -> None:  # type: ignore[no-untyped-def]
    _, inbox = smtp
    make_user(mail_client, "ivan", email="ivan@example.org")
    session = login(mail_client, "ivan")
    token = mailed_token(mail_client, inbox, "ivan@example.org", "ivan")  # by username works too

    async def rows() -> list[Any]:
        async with auth_of(mail_client).db.begin() as conn:
            return (await conn.execute(sa.select(password_resets_table))).all()

    (row,) = call(mail_client, rows)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(tuple(row))

    body = {"token": token, "new_password": "iloveyou"}
    r = mail_client.post("/auth/password/reset", json=body)
    assert r.status_code == 422 and r.json()["reason_code"] == "password_common"  # not spent by that
    body["new_password"] = "brand-new-secret-7"
    assert mail_client.post("/auth/password/reset", json=body).status_code == 200
    r = mail_client.get("/auth/me", headers=bearer(session))
    assert r.status_code == 401 and r.json()["reason_code"] == "token_revoked"
    assert login(mail_client, "ivan", "brand-new-secret-7")
    r = mail_client.post("/auth/password/reset", json={**body, "new_password": "another-secret-8"})
    assert r.status_code == 400 and r.json()["reason_code"] == "reset_token_invalid"


def test_tokens_expire_and_a_newer_one_voids_the_older(mail_client, smtp) -> None:  # type: ignore[no-untyped-def]
    _, inbox = smtp
    make_user(mail_client, "zoe", email="zoe@example.org")
    first = mailed_token(mail_client, inbox, "zoe@example.org")
    second = mailed_token(mail_client, inbox, "zoe@example.org")
    r = mail_client.post("/auth/password/reset", json={"token": first, "new_password": "brand-new-secret-7"})
    assert r.status_code == 400 and r.json()["reason_code"] == "reset_token_invalid"
    resets = auth_of(mail_client).resets
    real = resets.clock
    resets.clock = lambda: real() + 1801  # past the 30 min default
    r = mail_client.post("/auth/password/reset", json={"token": second, "new_password": "brand-new-secret-7"})
    assert r.status_code == 400 and r.json()["reason_code"] == "reset_token_invalid"
    resets.clock = real
    r = mail_client.post(
        "/auth/password/reset", json={"token": "x" * 43, "new_password": "brand-new-secret-7"}
    )
    assert r.status_code == 400 and r.json()["reason_code"] == "reset_token_invalid"


def test_a_reset_does_not_step_around_mfa(mail_client, smtp) -> None:  # type: ignore[no-untyped-def]
    import pyotp

    _, inbox = smtp
    make_user(mail_client, "max", email="max@example.org")
    session = login(mail_client, "max")
    secret = mail_client.post("/auth/mfa/totp", headers=bearer(session)).json()["secret"]
    totp = pyotp.TOTP(secret)
    now = time.time()
    auth_of(mail_client).mfa.clock = lambda: now
    r = mail_client.post("/auth/mfa/totp/confirm", json={"otp": totp.at(now)}, headers=bearer(session))
    assert r.status_code == 200
    token = mailed_token(mail_client, inbox, "max@example.org")
    body = {"token": token, "new_password": "brand-new-secret-7"}
    r = mail_client.post("/auth/password/reset", json=body)
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_required"
    r = mail_client.post("/auth/password/reset", json={**body, "otp": totp.at(now + 30)})
    assert r.status_code == 200, r.text


def test_without_a_mail_setting_reset_is_unavailable(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "uma")
    r = forgot(client, "uma")
    assert r.status_code == 503 and r.json()["reason_code"] == "password_reset_unavailable"


def test_mail_settings_are_validated() -> None:
    from ridgeline.platform.auth.settings import AuthSettings
    from ridgeline.platform.settings import SettingsError

    with pytest.raises(SettingsError, match="SMTP_FROM"):
        AuthSettings.from_env({"RIDGELINE_AUTH_SMTP_HOST": "127.0.0.1"})
    with pytest.raises(SettingsError, match="RESET_URL"):
        AuthSettings.from_env({"RIDGELINE_AUTH_PASSWORD_RESET_URL": "https://x/reset"})
    s = AuthSettings.from_env(
        {
            "RIDGELINE_AUTH_SMTP_HOST": "mail.internal",
            "RIDGELINE_AUTH_SMTP_FROM": "r@example.org",
            "RIDGELINE_AUTH_SMTP_PASSWORD": "hunter2-secret",
        }
    )
    assert "hunter2" not in repr(s)
