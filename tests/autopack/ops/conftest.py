"""Fixtures for autopack's operations tests: the autopack family app (settings from the contract's
variables, set per test with ``monkeypatch``), a bootstrap API key, users and tokens from the
platform auth service, and fake external servers (Telegram Bot API, an OAuth token endpoint) on
loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ridgeline.platform.auth import Role
from ridgeline.platform.auth.settings import AuthSettings, SecretStr

API_KEY = "ops-test-bootstrap-key-0123456789"
KEY = {"X-API-Key": API_KEY}


@pytest.fixture
def ops_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``ops_env(AUTO_APPROVE_BUILD113="false", ...)``: set contract variables before the app starts."""
    import msgspec

    from ridgeline.autopack.ops_settings import OpsSettings

    for field in msgspec.structs.fields(OpsSettings):  # each test starts from the defaults
        monkeypatch.delenv(field.name.upper(), raising=False)

    def set_env(**values: str) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k, v)

    return set_env


@pytest.fixture
def make_ops_client(settings, ops_env) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    import msgspec
    from litestar.testing import TestClient

    from ridgeline.app import create_app

    opened: list[Any] = []

    def make(**auth_overrides: Any) -> Any:
        auth = AuthSettings(password_profile="test", bootstrap_api_key=SecretStr(API_KEY), **auth_overrides)
        s = msgspec.structs.replace(settings, only="autopack")
        client = TestClient(create_app(s, auth_settings=auth))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in reversed(opened):
        c.__exit__(None, None, None)


def close(client: Any) -> None:
    client.__exit__(None, None, None)


def ops_of(client: Any) -> Any:
    from ridgeline.autopack.api.ops_service import OpsService

    return client.app.state["ctx"].services[OpsService]


def call(client: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    async def run() -> Any:
        return await fn(*args, **kwargs)

    return client.blocking_portal.call(run)


def make_user(client: Any, username: str, role: Role = Role.USER, password: str = "pass-word-123") -> Any:
    auth = client.app.state["auth"]
    return call(client, auth.create_user, username, password, actor="test", role=role)


def token_for(client: Any, username: str, role: Role = Role.USER) -> dict[str, str]:
    make_user(client, username, role)
    r = client.post("/auth/login", json={"username": username, "password": "pass-word-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class FakeServer:
    """A real HTTP server on 127.0.0.1 that records JSON/form requests and answers from ``reply``."""

    def __init__(self, reply: Callable[[str, dict[str, str], bytes], tuple[int, dict[str, Any]]]) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply = reply
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append({"path": self.path, "headers": headers, "body": body})
                status, payload = outer.reply(self.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeServer]]:
    started: list[FakeServer] = []

    def start(reply: Callable[[str, dict[str, str], bytes], tuple[int, dict[str, Any]]]) -> FakeServer:
        srv = FakeServer(reply)
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()
