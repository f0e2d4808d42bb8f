"""Fixtures for the security audit tests (docs/security.md, "ASVS 5.0 level 2"): one app per family
with a superadmin signed in, so a guarded route is reached and its body limit is what answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ridgeline.platform.auth import Role
from ridgeline.platform.auth.settings import AuthSettings, SecretStr

BOOTSTRAP_KEY = "audit-bootstrap-key-0123456789"


@pytest.fixture
def family_client(settings) -> Iterator[Callable[[str], tuple[Any, dict[str, str]]]]:  # type: ignore[no-untyped-def]
    """``family_client(name)`` -> (entered TestClient of that family alone, credential headers): a
    superadmin bearer token and the bootstrap API key, so key-only routes are reached as well."""
    from litestar.testing import TestClient

    from ridgeline.app import create_app, load_family

    opened: list[Any] = []

    def make(name: str) -> tuple[Any, dict[str, str]]:
        app = create_app(
            settings,
            families=[load_family(name)],
            auth_settings=AuthSettings(password_profile="test", bootstrap_api_key=SecretStr(BOOTSTRAP_KEY)),
        )
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        auth = app.state["auth"]

        async def create() -> None:
            await auth.create_user("audit-super", "pass-word-123", actor="test", role=Role.SUPERADMIN)

        client.blocking_portal.call(create)
        r = client.post("/auth/login", json={"username": "audit-super", "password": "pass-word-123"})
        assert r.status_code == 200, r.text
        return client, {"Authorization": f"Bearer {r.json()['access_token']}", "X-API-Key": BOOTSTRAP_KEY}

    yield make
    for c in reversed(opened):
        c.__exit__(None, None, None)


@pytest.fixture
def auth_client(family_client):  # type: ignore[no-untyped-def]
    """The routing app (any family serves the root auth endpoints) with the cheap password profile."""
    client, _ = family_client("routing")
    return client
