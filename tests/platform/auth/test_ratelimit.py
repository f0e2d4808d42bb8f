"""Rate limits: shared counter, RateLimit-* headers, 429 with Retry-After, trusted proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from ridgeline.platform.auth.ratelimit import client_address
from ridgeline.platform.auth.settings import AuthSettings, RateLimitSpec
from ridgeline.platform.settings import SettingsError
from tests.platform.auth.conftest import auth_of

pytestmark = pytest.mark.db


def start(client: Any, **headers: str) -> Any:
    return client.post("/routing/operator/start", headers=headers)


@pytest.fixture
def dev_client(make_auth_client) -> Any:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth import ContractEnvironment

    client = make_auth_client()
    auth_of(client).register_environment("autopack", ContractEnvironment())  # development, no key: public
    return client


def test_limit_headers_and_429_with_retry_after(dev_client) -> None:  # type: ignore[no-untyped-def]
    answers = [start(dev_client) for _ in range(5)]
    assert [r.status_code for r in answers] == [201, 201, 201, 429, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "3" for r in answers)
    assert 1 <= int(answers[0].headers["ratelimit-reset"]) <= 60
    denied = answers[3]
    assert denied.json()["detail"]["reason_code"] == "rate_limited"  # the family's shape
    assert 1 <= int(denied.headers["retry-after"]) <= 60
    assert "retry-after" not in answers[0].headers


def test_counts_are_per_client_and_proxies_are_not_trusted_by_default(dev_client) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert start(dev_client, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 201
    # A forged X-Forwarded-For from an untrusted peer does not buy a fresh bucket.
    assert start(dev_client, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429


def test_the_service_takes_trusted_proxies_from_its_settings(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    def conn(peer: str) -> Any:
        return SimpleNamespace(
            scope={"client": (peer, 5555), "headers": [(b"x-forwarded-for", b"198.51.100.7")]}
        )

    trusting = auth_of(make_auth_client(trusted_proxies=("10.0.0.0/8",)))
    assert trusting.client_of(conn("10.1.2.3")) == "198.51.100.7"
    assert trusting.client_of(conn("192.0.2.1")) == "192.0.2.1"
    assert auth_of(make_auth_client()).client_of(conn("10.1.2.3")) == "10.1.2.3"


def test_trusted_proxies_setting_is_validated() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        AuthSettings.from_env({"RIDGELINE_AUTH_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"})
    s = AuthSettings.from_env({"RIDGELINE_AUTH_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert s.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")


def nets(*cidrs: str) -> list[Any]:
    return [ipaddress.ip_network(c) for c in cidrs]


def test_client_address_rules() -> None:
    xff = [(b"x-forwarded-for", b"198.51.100.7, 10.0.0.5")]
    # No trusted proxies: the socket peer, whatever the headers say.
    assert client_address("10.0.0.9", xff, []) == "10.0.0.9"
    # An untrusted peer's headers are ignored.
    assert client_address("203.0.113.1", xff, nets("10.0.0.0/8")) == "203.0.113.1"
    # A trusted peer: the right-most hop that is not a trusted proxy.
    assert client_address("10.0.0.9", xff, nets("10.0.0.0/8")) == "198.51.100.7"
    # A client cannot prepend a fake hop to escape its bucket.
    spoof = [(b"x-forwarded-for", b"1.2.3.4, 198.51.100.7")]
    assert client_address("10.0.0.9", spoof, nets("10.0.0.0/8")) == "198.51.100.7"
    # RFC 7239 Forwarded, with a quoted v6 address and port.
    fwd = [(b"forwarded", b'for="[2001:db8::1]:4711";proto=https, for=10.0.0.5')]
    assert client_address("10.0.0.9", fwd, nets("10.0.0.0/8")) == "2001:db8::1"
    assert (
        client_address("10.0.0.9", [(b"forwarded", b"for=198.51.100.8:555")], nets("10.0.0.0/8"))
        == "198.51.100.8"
    )
    # A malformed hop: stop guessing, use the peer.
    assert client_address("10.0.0.9", [(b"x-forwarded-for", b"garbage")], nets("10.0.0.0/8")) == "10.0.0.9"


def test_login_and_register_are_limited(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(login_rate_limit=RateLimitSpec(2, 60), register_rate_limit=RateLimitSpec(1, 60))
    logins = [
        client.post("/auth/login", json={"username": "x", "password": "y"}).status_code for _ in range(3)
    ]
    assert logins == [401, 401, 429]
    r = client.post("/auth/login", json={"username": "x", "password": "y"})
    assert r.json()["reason_code"] == "rate_limited" and "retry-after" in r.headers
    body = {"username": "newbie", "email": "n@example.com", "password": "pass-word-123"}
    assert client.post("/auth/register", json=body).status_code == 201
    assert client.post("/auth/register", json={**body, "username": "newbie2"}).status_code == 429


def test_rate_limit_setting_is_parsed_and_validated() -> None:
    assert AuthSettings.from_env(
        {"RIDGELINE_AUTH_LOGIN_RATE_LIMIT": "10/60"}
    ).login_rate_limit == RateLimitSpec(10, 60)
    with pytest.raises(SettingsError, match="LOGIN_RATE_LIMIT"):
        AuthSettings.from_env({"RIDGELINE_AUTH_LOGIN_RATE_LIMIT": "ten"})
