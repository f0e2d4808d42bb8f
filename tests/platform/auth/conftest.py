"""Fixtures for the identity and access tests: an app with a probe family whose routes carry each
kind of policy, the auth service behind it, and helpers to sign in and to run service coroutines on
the app's own event loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import msgspec
import pytest
from litestar import Request, get, post
from litestar.params import PathParameter

from ridgeline.platform.auth import Policy, Role, current_principal
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.context import Family
from ridgeline.platform.errors import render_reason_coded
from tests.netutil import free_port

OWNERS = {"doc-1": None}  # resource id -> owner user id (filled by tests)


async def _owner_of(connection: Any) -> str | None:
    return OWNERS.get(connection.path_params["doc_id"])


def _who(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = current_principal(request)
    return {"kind": p.kind, "subject": p.subject} if p else {"kind": "anonymous"}


@get("/open")
async def probe_open(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/keyed", opt=Policy.api_key("runs:write").opt())
async def probe_keyed(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/any-key", opt=Policy.api_key().opt())
async def probe_any_key(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/signed-in", opt=Policy.bearer().opt())
async def probe_signed_in(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/either", opt=Policy.authenticated().opt())
async def probe_either(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/admin", opt=Policy.role(Role.ADMIN).opt())
async def probe_admin(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@get("/super", opt=Policy.role(Role.SUPERADMIN).opt())
async def probe_super(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@post(
    "/docs/{doc_id:str}/delete", status_code=200, opt=Policy.owner_or_role(Role.SUPERADMIN, _owner_of).opt()
)
async def probe_delete(
    request: Request[Any, Any, Any], doc_id: Annotated[str, PathParameter()]
) -> dict[str, Any]:
    return {"deleted": doc_id, **_who(request)}


@get("/operator/runs", opt=Policy.operator("autopack", read=True).opt())
async def probe_operator_read(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


@post(
    "/operator/start",
    status_code=201,
    opt=Policy.operator("autopack", read=False).limited("start", 3, 60).opt(),
)
async def probe_operator_start(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _who(request)


PROBE_HANDLERS = [
    probe_open,
    probe_keyed,
    probe_any_key,
    probe_signed_in,
    probe_either,
    probe_admin,
    probe_super,
    probe_delete,
    probe_operator_read,
    probe_operator_start,
]
# Named like a real family so its error shape (contract 000's reason-coded detail) is exercised.
probe_family = Family(name="routing", route_handlers=PROBE_HANDLERS, render_error=render_reason_coded)


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(password_profile="test")


@pytest.fixture
def make_auth_client(settings, auth_settings) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """``make_auth_client(families=[probe_family], **auth_overrides)`` -> an entered TestClient."""
    from litestar.testing import TestClient

    from ridgeline.app import create_app

    opened: list[TestClient] = []

    def make(families: Any = None, **auth_overrides: Any) -> TestClient:
        s = msgspec.structs.replace(auth_settings, **auth_overrides) if auth_overrides else auth_settings
        fams = [probe_family] if families is None else families
        client = TestClient(create_app(settings, families=fams, auth_settings=s))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in reversed(opened):
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_auth_client) -> Any:  # type: ignore[no-untyped-def]
    return make_auth_client()


def auth_of(client: Any) -> Any:
    return client.app.state["auth"]


def call(client: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a service coroutine on the app's loop (its database engine lives there)."""

    async def run() -> Any:
        return await fn(*args, **kwargs)

    return client.blocking_portal.call(run)


def make_user(
    client: Any, username: str, role: Role = Role.USER, password: str = "pass-word-123", **fields: Any
) -> Any:
    """A user made through the auth service; ``fields`` are more of its fields (``email=...``)."""
    return call(client, auth_of(client).create_user, username, password, actor="test", role=role, **fields)


def login(client: Any, username: str, password: str = "pass-word-123") -> str:
    r = client.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _reset_owners() -> Iterator[None]:
    OWNERS.clear()
    yield
    OWNERS.clear()


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A private redis-server on a free loopback port for this test (skipped when not installed)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    pytest.importorskip("redis")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # bounded: ~10 s
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
