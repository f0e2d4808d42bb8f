"""Guard tests for ASVS 5.0 level 2 rows of docs/security.md that no other test showed.

Each asserts the status and the reason code, so it fails when the guard it names is removed."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

pytestmark = pytest.mark.db


def _register(client: Any, name: str, password: str) -> Any:
    body = {"username": name, "email": f"{name}@example.com", "password": password}
    return client.post("/auth/register", json=body)


def _login(client: Any, name: str, password: str) -> Any:
    return client.post("/auth/login", json={"username": name, "password": password})


def test_v6_2_1_passwords_under_8_characters_are_refused(auth_client) -> None:  # type: ignore[no-untyped-def]
    r = _register(auth_client, "short", "x" * 7)
    assert r.status_code == 422 and r.json()["reason_code"] == "weak_password"
    assert _register(auth_client, "short", "zqxwvtrp").status_code == 201


@pytest.mark.parametrize(
    "password",
    [
        "zqxwvtrp",  # lower case only: no composition rules (V6.2.5)
        "P" * 64,  # at least 64 characters are permitted (V6.2.9)
        "pässwörd with spaces 😀 and\ttabs",  # any character, including spaces and emoji
        "a" * 1024,  # the documented maximum
    ],
)
def test_v6_2_5_and_v6_2_9_long_passwords_of_any_composition_work(auth_client, password: str) -> None:  # type: ignore[no-untyped-def]
    assert _register(auth_client, "anyone", password).status_code == 201
    r = _login(auth_client, "anyone", password)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "presented",
    [
        "Pass-Word-123-Long",  # case changed
        "pass-word-123-lon",  # truncated by one
        "pass-word-123-long ",  # a trailing space is not stripped
        " pass-word-123-long",
    ],
)
def test_v6_2_8_the_password_is_verified_exactly_as_received(auth_client, presented: str) -> None:  # type: ignore[no-untyped-def]
    assert _register(auth_client, "exact", "pass-word-123-long").status_code == 201
    r = _login(auth_client, "exact", presented)
    assert r.status_code == 401 and r.json()["reason_code"] == "invalid_credentials"
    assert _login(auth_client, "exact", "pass-word-123-long").status_code == 200


def test_v7_2_4_each_authentication_issues_a_new_token(auth_client) -> None:  # type: ignore[no-untyped-def]
    import jwt

    assert _register(auth_client, "twice", "pass-word-123").status_code == 201
    a = _login(auth_client, "twice", "pass-word-123").json()["access_token"]
    b = _login(auth_client, "twice", "pass-word-123").json()["access_token"]
    ja = jwt.decode(a, options={"verify_signature": False})["jti"]
    jb = jwt.decode(b, options={"verify_signature": False})["jti"]
    assert a != b and ja != jb


def test_v3_3_no_credential_travels_in_a_cookie(auth_client) -> None:  # type: ignore[no-untyped-def]
    assert _register(auth_client, "nocookie", "pass-word-123").status_code == 201
    r = _login(auth_client, "nocookie", "pass-word-123")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    me = auth_client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200 and "set-cookie" not in me.headers
    # a cookie is never taken as a credential either
    auth_client.cookies.set("Authorization", f"Bearer {r.json()['access_token']}")
    r = auth_client.get("/auth/me")
    assert r.status_code == 401 and r.json()["reason_code"] == "not_authenticated"


@pytest.mark.parametrize("path", ["/health", "/routing/route", "/auth/login"])
def test_v13_4_4_trace_is_not_supported(auth_client, path: str) -> None:  # type: ignore[no-untyped-def]
    r = auth_client.request("TRACE", path)
    assert r.status_code == 405, r.text
    body = r.json()
    reason = body["detail"]["reason_code"] if isinstance(body.get("detail"), dict) else body["reason_code"]
    assert reason == "method_not_allowed"
    assert "TRACE" not in r.headers.get("allow", "")


def test_v16_4_1_log_lines_cannot_be_forged_by_input(auth_client) -> None:  # type: ignore[no-untyped-def]
    """A CR/LF in a logged value is encoded, so one event is always one JSON line."""
    import msgspec

    from ridgeline.platform.observability import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    try:
        forged = '\n{"level": "INFO", "msg": "login ok", "actor": "admin"}\r\n'
        auth_client.get("/routing/nothing-here" + "%0A%7B%22msg%22%3A%22forged%22%7D")
        logging.getLogger("ridgeline.test").warning("user said %s", forged, extra={"who": forged})
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    lines = out.getvalue().splitlines()
    assert lines, "nothing was logged"
    for line in lines:
        msgspec.json.decode(line)  # every line is one whole JSON object
    assert not any(line.startswith('{"level": "INFO", "msg": "login ok"') for line in lines)
    assert not any('"msg":"forged"' in line for line in lines)
