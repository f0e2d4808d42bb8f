"""The contract's auth column for the operations endpoints, row by row, in production and development
(``AUTOPACK_ENV``): public rows never answer 401/403 without credentials; ``X-API-Key`` rows answer
401 without a key and admit the bootstrap key; ``Bearer`` rows answer 401 without a token and admit
any user; admin rows answer 403 ``insufficient_role`` to a plain user."""

from __future__ import annotations

import pytest

from ridgeline.platform.auth import Role
from tests.autopack.ops.conftest import KEY, token_for

pytestmark = pytest.mark.db

PUBLIC, APIKEY, BEARER, ADMIN = "public", "api_key", "bearer", "admin"
# (method, path, rule, json body)
TABLE = [
    ("post", "/approval/request", PUBLIC, {}),
    ("get", "/approval/status/x", PUBLIC, None),
    ("get", "/approval/pending", PUBLIC, None),
    ("post", "/approval/decide/x?approved=true", APIKEY, None),
    ("post", "/telegram/webhook", PUBLIC, {}),  # verified by its secret header, not by a credential
    ("get", "/governance/pending", PUBLIC, None),
    ("post", "/governance/approve/x?approved=true&user_id=u", PUBLIC, None),
    ("post", "/governance/requests", PUBLIC, {}),
    ("get", "/api/auth/oauth/health", BEARER, None),
    ("get", "/api/auth/oauth/health/github", BEARER, None),
    ("post", "/api/auth/oauth/refresh/github", ADMIN, None),
    ("post", "/api/auth/oauth/reset/github", ADMIN, None),
    ("get", "/api/auth/oauth/events", BEARER, None),
    ("put", "/api/auth/oauth/credentials/github", ADMIN, {}),
    ("get", "/storage/scans", APIKEY, None),
    ("get", "/storage/scans/x", APIKEY, None),
    ("post", "/storage/scans/x/approve", APIKEY, None),
    ("post", "/storage/scan", APIKEY, {}),
    ("get", "/storage/steam/games", PUBLIC, None),
    ("post", "/storage/patterns/analyze", PUBLIC, None),
    ("get", "/storage/learned-rules", PUBLIC, None),
    ("post", "/storage/learned-rules/x/approve", PUBLIC, None),
    ("get", "/storage/recommendations", PUBLIC, None),
    ("post", "/files/upload", APIKEY, None),
    ("post", "/research/sessions", APIKEY, {"topic": "t"}),
    ("get", "/research/sessions", PUBLIC, None),
    ("get", "/research/sessions/x", PUBLIC, None),
    ("post", "/research/sessions/x/queries", APIKEY, {"query": "q"}),
    ("post", "/research/sessions/x/findings", APIKEY, {"title": "t", "content": "c"}),
    ("post", "/research/sessions/x/close", APIKEY, None),
    ("get", "/research/sessions/x/search?q=a", PUBLIC, None),
]


def _call(c, method: str, path: str, body, headers=None):  # type: ignore[no-untyped-def]
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(c, method)(path, **kwargs)


@pytest.mark.parametrize("env", ["production", "development"])
def test_auth_table(make_ops_client, ops_env, env: str) -> None:
    ops_env(AUTOPACK_ENV=env)
    c = make_ops_client()
    user = token_for(c, "uma")
    admin = token_for(c, "ada", Role.ADMIN)
    for method, path, rule, body in TABLE:
        anon = _call(c, method, path, body)
        if rule == PUBLIC:
            assert anon.status_code not in (401, 403) or anon.json()["reason_code"].startswith("telegram"), (
                path
            )
            continue
        assert anon.status_code == 401, (path, anon.status_code)
        if rule == APIKEY:
            assert _call(c, method, path, body, KEY).status_code not in (401, 403), path
            assert _call(c, method, path, body, {"X-API-Key": "wrong-key-wrong-key-1"}).status_code == 401, (
                path
            )
        elif rule == BEARER:
            assert _call(c, method, path, body, user).status_code not in (401, 403), path
            assert _call(c, method, path, body, KEY).status_code == 401, path  # a key is not a bearer token
        else:
            r = _call(c, method, path, body, user)
            assert r.status_code == 403 and r.json()["reason_code"] == "insufficient_role", path
            assert _call(c, method, path, body, admin).status_code not in (401, 403), path


def test_open_rows_stay_open_under_a_keyed_family_default(settings, ops_env) -> None:
    """The contract's open rows declare their policy, so a family default that needs a key (which the
    runs half may set for its operator routes) does not close them."""
    import dataclasses

    import msgspec
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.autopack.api import family
    from ridgeline.platform.auth import Policy
    from ridgeline.platform.auth.settings import AuthSettings, SecretStr
    from tests.autopack.ops.conftest import API_KEY

    keyed = dataclasses.replace(family, default_policy=Policy.api_key())
    auth = AuthSettings(password_profile="test", bootstrap_api_key=SecretStr(API_KEY))
    s = msgspec.structs.replace(settings, only="autopack")
    with TestClient(create_app(s, families=[keyed], auth_settings=auth)) as c:
        for method, path, rule, body in TABLE:
            if rule == PUBLIC and not path.startswith("/telegram"):
                assert _call(c, method, path, body).status_code not in (401, 403), path
