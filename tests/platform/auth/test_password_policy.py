"""V6.2.4, V6.1.2, V6.2.11: new passwords are checked against zxcvbn's common-password list and the
context-specific words (service name, the user's username and email parts)."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.platform.auth.password_policy import PasswordPolicy, common_passwords, context_words
from ridgeline.platform.auth.users import UserError

pytestmark = pytest.mark.db


def register(client: Any, username: str, password: str, email: str | None = None) -> Any:
    body = {"username": username, "email": email or f"{username}@example.org", "password": password}
    return client.post("/auth/register", json=body)


def test_the_shipped_list_is_a_real_top_list() -> None:
    common = common_passwords()
    assert len(common) >= 3000
    for word in ("password", "12345678", "iloveyou", "sunshine", "qwertyuiop", "football"):
        assert word in common


@pytest.mark.parametrize("password", ["password", "PassWord", "12345678", "iloveyou", "qwertyuiop"])
def test_common_passwords_are_refused_at_registration(client, password: str) -> None:  # type: ignore[no-untyped-def]
    r = register(client, "newcomer", password)
    assert r.status_code == 422 and r.json()["reason_code"] == "password_common"


@pytest.mark.parametrize(
    ("username", "email", "password"),
    [
        ("marguerite", None, "Marguerite-2024!"),  # the username
        ("someone", "jlaforge@example.org", "jlaforge-is-me"),  # the email's local part
        ("someone", "s@starfleet.example", "starfleet-rules"),  # a name of the email's domain
        ("someone", None, "my-ridgeline-pass"),  # the service name
    ],
)
def test_context_words_are_refused(client, username: str, email: str | None, password: str) -> None:  # type: ignore[no-untyped-def]
    r = register(client, username, password, email)
    assert r.status_code == 422 and r.json()["reason_code"] == "password_contextual"


def test_a_password_of_none_of_these_is_accepted(client) -> None:  # type: ignore[no-untyped-def]
    assert register(client, "marguerite", "tall-cactus-drums-9").status_code == 201


def test_extra_context_words_come_from_the_setting(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth.settings import AuthSettings

    s = AuthSettings.from_env({"RIDGELINE_AUTH_PASSWORD_CONTEXT_WORDS": "Acme, widgets"})
    assert s.password_context_words == ("Acme", "widgets")
    client = make_auth_client(password_context_words=s.password_context_words)
    r = register(client, "worker", "blue-widgets-forever")
    assert r.status_code == 422 and r.json()["reason_code"] == "password_contextual"


def test_the_policy_alone() -> None:
    policy = PasswordPolicy(8)
    with pytest.raises(UserError) as err:
        policy.check("abc", username="x")
    assert err.value.reason == "weak_password"
    # Short words (under 4 characters) and top-level domains are not context words.
    assert context_words("bob", "bob@ex.com") == {"ridgeline"}
    policy.check("bob-at-ex-dot-com", username="bob", email="bob@ex.com")
