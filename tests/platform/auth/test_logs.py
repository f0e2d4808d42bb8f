"""A request carrying an API key, a bearer token and a password leaves none of them in the logs."""

from __future__ import annotations

import io
import logging

import pytest

from ridgeline.platform.observability import JsonFormatter
from tests.platform.auth.conftest import auth_of, call, login, make_user

pytestmark = pytest.mark.db


def test_logs_hold_no_key_token_or_password(client, caplog) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        password = "very-secret-password-42"
        make_user(client, "logan", password=password)
        key = call(client, auth_of(client).create_api_key, actor="test", scopes=["*"]).key
        token = login(client, "logan", password)
        client.post("/auth/login", json={"username": "logan", "password": password + "-wrong"})
        client.get("/routing/either", headers={"X-API-Key": key, "Authorization": f"Bearer {token}"})
        client.get("/routing/either", headers={"Authorization": f"Bearer {token}x"})
        client.get("/routing/keyed", headers={"X-API-Key": key + "x"})
        client.post("/auth/register", json={"username": "lg", "email": "l@example.com", "password": password})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue() + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "request" in text  # the access log did run
    for secret in (key, key.split("_")[-1], token, token.split(".")[-1], password):
        assert secret not in text
