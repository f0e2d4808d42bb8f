"""Fixtures for the genai catalog tests: the genai family app with the platform's auth, one signed-in
user per role (and a second plain user), and helpers."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.platform.auth import Role
from tests.platform.auth.conftest import auth_settings, bearer, login, make_auth_client, make_user  # noqa: F401

P = "/genai"


class Tokens(dict[str, dict[str, str]]):
    """role name -> Authorization headers; ``none`` is anonymous; ``ids`` the user ids."""

    ids: dict[str, str]


@pytest.fixture
def app(make_auth_client) -> Any:  # type: ignore[no-untyped-def]  # noqa: F811
    from ridgeline.genai.api import family

    return make_auth_client(families=[family])


@pytest.fixture
def tokens(app) -> Tokens:  # type: ignore[no-untyped-def]
    out = Tokens()
    out.ids = {}
    for name, role in (
        ("user", Role.USER),
        ("user2", Role.USER),
        ("admin", Role.ADMIN),
        ("super", Role.SUPERADMIN),
    ):
        u = make_user(app, f"genai-{name}", role)
        out.ids[name] = u.id
        out[name] = bearer(login(app, f"genai-{name}"))
    out["none"] = {}
    return out


def reason(r: Any) -> str:
    return r.json()["reason_code"]


def refused(app: Any, tokens: Tokens, method: str, path: str, roles: dict[str, int], **kwargs: Any) -> None:
    """Each role in ``roles`` gets the status given (401 anonymous, 403 a lower role) with the
    platform's reason code."""
    for role, status in roles.items():
        r = app.request(method, P + path, headers=tokens[role], **kwargs)
        assert r.status_code == status, (role, method, path, r.status_code, r.text)
        expected = {401: "not_authenticated", 403: ("insufficient_role", "not_owner")}[status]
        assert reason(r) in (expected if isinstance(expected, tuple) else (expected,)), (role, r.text)


ANON = {"none": 401}
ADMIN_ONLY = {"none": 401, "user": 403}
SUPER_ONLY = {"none": 401, "user": 403, "admin": 403}
