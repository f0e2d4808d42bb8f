"""Fixtures for the control-plane tests: a genai app with users of each role, ModelOps model rows
written the way ModelOps writes them, and fake providers on 127.0.0.1 (an OpenAI-compatible runtime
with a loaded-model controller, Weaviate/Qdrant readiness, a sandbox, an MCP server on the official
SDK)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from ridgeline.platform.auth import Role
from ridgeline.platform.auth.settings import AuthSettings
from tests.ai.fakes import FakeServer, Reply, Req, serve
from tests.netutil import free_port

PLATFORM_ENV = (
    "LLM_URL", "LLM_INFERENCE_RUNTIME_URL", "LLM_EMBEDDINGS_RUNTIME_URL", "WEAVIATE_URL", "LLAMA_CPP_URL",
    "QDRANT_URL", "SANDBOX_URL", "MCP_GATEWAY_URL",
)  # fmt: skip


class App:
    """An entered TestClient plus a bearer header per role (``h["user"]`` ...; ``None`` = anonymous)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.h: dict[str, dict[str, str]] = {}
        auth = client.app.state["auth"]
        for role in (Role.USER, Role.ADMIN, Role.SUPERADMIN):
            name = f"{role.value}-1"
            try:
                self.call(auth.create_user, name, "pass-word-123", actor="test", role=role)
            except Exception as exc:  # a restarted app on the same database: the users exist
                if getattr(exc, "reason", None) != "username_taken":
                    raise
            r = client.post("/auth/login", json={"username": name, "password": "pass-word-123"})
            assert r.status_code == 200, r.text
            self.h[role.value] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    @property
    def ctx(self) -> Any:
        return self.client.app.state["ctx"]

    @property
    def platform(self) -> Any:
        from ridgeline.genai.runtime import PlatformService

        return self.ctx.service(PlatformService)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            return await fn(*args, **kwargs)

        return self.client.blocking_portal.call(run)

    def req(self, method: str, path: str, role: str | None = "superadmin", **kw: Any) -> Any:
        headers = {**(self.h[role] if role else {}), **kw.pop("headers", {})}
        return self.client.request(method, "/genai" + path, headers=headers, **kw)

    def ok(
        self, method: str, path: str, role: str | None = "superadmin", status: int = 200, **kw: Any
    ) -> Any:
        r = self.req(method, path, role, **kw)
        assert r.status_code == status, (r.status_code, r.text)
        return r.json()

    def refused(
        self, method: str, path: str, status: int, code: str, role: str | None = "superadmin", **kw: Any
    ) -> Any:
        r = self.req(method, path, role, **kw)
        assert r.status_code == status, (r.status_code, r.text)
        assert r.json()["reason_code"] == code, r.text
        return r.json()

    # -- data the other genai modules own, written as they write it --------------------------------
    def add_model(self, model_id: str, task: str = "llm_inference", *, bindable: bool = True, origin: str = "local",
                  name: str | None = None, provider_model_id: str | None = None, runtime_model_id: str | None = None) -> None:  # fmt: skip
        from ridgeline.genai.api.store import models

        now = datetime.now(UTC)

        async def write() -> None:
            async with self.ctx.db.begin() as conn:
                await conn.execute(models.insert().values(
                    id=model_id, name=name or model_id, task=task, origin=origin, provider_model_id=provider_model_id,
                    source="manual", lifecycle_state="active" if bindable else "registered",
                    is_validation_current=bindable, last_validation_status="success" if bindable else None,
                    metadata={"runtime_model_id": runtime_model_id} if runtime_model_id else {},
                    created_at=now, updated_at=now))  # fmt: skip

        self.client.blocking_portal.call(write)

    def add_credential(self, cred_id: str, secret: str) -> None:
        from ridgeline.genai.api.store import credentials

        box = self.ctx.auth.secrets
        sealed = box.seal(secret, f"genai:credential:{cred_id}").encode()

        async def write() -> None:
            async with self.ctx.db.begin() as conn:
                await conn.execute(credentials.insert().values(
                    id=cred_id, name=cred_id, provider="openai", secret_sealed=sealed, secret_hint=secret[-4:],
                    created_at=datetime.now(UTC)))  # fmt: skip

        self.client.blocking_portal.call(write)

    def provider(self, slug: str) -> dict[str, Any]:
        return next(p for p in self.ok("GET", "/v1/platform/providers")["providers"] if p["slug"] == slug)

    def deployment(self, slug: str) -> dict[str, Any]:
        return next(d for d in self.ok("GET", "/v1/platform/deployments")["deployments"] if d["slug"] == slug)

    def set_mode_unchecked(self, mode: str) -> None:
        """The stored profile as another process (or an operator) left it."""

        from ridgeline.genai.api import platform_store as T

        async def write() -> None:
            async with self.ctx.db.begin() as conn:
                await self.platform._write_mode(conn, mode, "test")
                # as another worker's PlatformService.write() does
                v = T.platform_version
                await conn.execute(v.update().values(version=v.c.version + 1))

        self.client.blocking_portal.call(write)


@pytest.fixture
def make_app(settings, monkeypatch) -> Iterator[Callable[..., App]]:  # type: ignore[no-untyped-def]
    """``make_app(**env)``: the genai app (bootstrap runs with those environment variables)."""
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.genai.api import family

    opened: list[Any] = []
    for name in PLATFORM_ENV:
        monkeypatch.delenv(name, raising=False)

    def make(**env: str) -> App:
        # every dispatch re-checks the version counter, so a write by "another worker" is seen at once
        env = {"GENAI_RESOLUTION_RECHECK_S": "0", **env}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        client = TestClient(
            create_app(settings, families=[family], auth_settings=AuthSettings(password_profile="test"))
        )
        client.__enter__()
        opened.append(client)
        return App(client)

    yield make
    for c in reversed(opened):
        if not getattr(c, "_closed_by_test", False):
            c.__exit__(None, None, None)


@pytest.fixture
def app(make_app) -> App:  # type: ignore[no-untyped-def]
    return make_app()


# ---- fake providers ------------------------------------------------------------------------------


def fake_vector(text: str, dim: int = 8) -> list[float]:
    d = hashlib.sha256(text.encode()).digest()
    return [(b - 127.5) / 127.5 for b in d[:dim]]


class FakeRuntime(FakeServer):
    """An OpenAI-compatible runtime whose ``/v1/models`` advertises what is loaded; ``/models/load``
    and ``/models/unload`` (llama.cpp router mode) change it."""

    def __init__(self, loaded: list[str] | None = None, api_key: str | None = None) -> None:
        super().__init__(self.handle)
        self.loaded: list[str] = list(loaded or [])
        self.api_key = api_key

    async def handle(self, req: Req) -> Reply:
        if self.api_key and req.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
        if req.method == "GET" and req.path == "/v1/models":
            return Reply(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.loaded]})
        if req.method == "POST" and req.path == "/models/load":
            name = req.json()["model"]
            if name not in self.loaded:
                self.loaded.append(name)
            return Reply(200, {"success": True})
        if req.method == "POST" and req.path == "/models/unload":
            name = req.json()["model"]
            self.loaded = [m for m in self.loaded if m != name]
            return Reply(200, {"success": True})
        if req.method == "POST" and req.path == "/v1/chat/completions":
            body = req.json()
            if body["model"] not in self.loaded:
                return Reply(404, {"error": {"message": f"model {body['model']} not loaded"}})
            last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
            return Reply(200, {"id": "c1", "object": "chat.completion", "model": body["model"],
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": f"Hello {last}"},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})  # fmt: skip
        if req.method == "POST" and req.path == "/v1/embeddings":
            body = req.json()
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return Reply(200, {"object": "list", "model": body["model"],
                               "data": [{"object": "embedding", "index": i, "embedding": fake_vector(t)}
                                        for i, t in enumerate(inputs)],
                               "usage": {"prompt_tokens": 1, "total_tokens": 1}})  # fmt: skip
        return Reply(404, {"error": {"message": "no route"}})


@pytest.fixture
def runtime() -> Iterator[FakeRuntime]:
    with serve(FakeRuntime()) as srv:
        yield srv


def ready_server(path: str, status: int = 200) -> FakeServer:
    async def handle(req: Req) -> Reply:
        return Reply(status if req.path == path else 404, {})

    return FakeServer(handle)


class FakeSandbox(FakeServer):
    """A sandbox that accepts dry runs only (it never executes anything) and records them."""

    def __init__(self) -> None:
        super().__init__(self.handle)

    async def handle(self, req: Req) -> Reply:
        if req.method == "POST" and req.path == "/v1/executions":
            body = req.json()
            if body.get("dry_run") is not True:
                return Reply(400, {"error": "this fake only plans"})
            return Reply(200, {"status": "ok", "dry_run": True, "language": body["language"]})
        return Reply(404, {})


@pytest.fixture
def mcp_server() -> Iterator[str]:
    """A real MCP server (the official SDK, streamable HTTP) on loopback, offering one tool."""
    import threading

    import uvicorn
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("fake-gateway")

    @server.tool()
    def web_search(query: str) -> str:
        """Search the web (fake)."""
        return json.dumps({"query": query, "results": []})

    app = server.streamable_http_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if srv.started:
            break
        threading.Event().wait(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        srv.should_exit = True
        thread.join(10)


def unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


__all__ = ["App", "FakeRuntime", "FakeSandbox", "msgspec", "ready_server", "serve", "unused_url"]
