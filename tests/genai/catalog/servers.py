"""Loopback servers for the agent-execution tests: the real ``ridgeline agent-engine`` as a
subprocess, a local MCP server (the official SDK's MCPServer over Streamable HTTP), a fake sandbox
runtime and a scripted OpenAI-compatible model (tests/ai/fakes.py's FakeServer)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from tests.ai.fakes import FakeServer, Reply, Req
from tests.netutil import free_port


@contextlib.contextmanager
def serve_asgi(app: Any, *, lifespan: str = "off") -> Iterator[str]:
    """``app`` on an ephemeral loopback port in a thread; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    else:
        raise RuntimeError("server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def agent_engine(token: str, db_path: str | None = None) -> Iterator[str]:
    """The real engine process (``python -m ridgeline.cli agent-engine``) on a free loopback port;
    its records database is ``db_path`` (a fresh temporary file when None)."""
    port = free_port()
    tmp = None
    if db_path is None:
        import tempfile

        tmp = tempfile.TemporaryDirectory(prefix="agent-engine-")
        db_path = os.path.join(tmp.name, "agent-engine.db")
    env = {**os.environ, "AGENT_ENGINE_SERVICE_TOKEN": token, "AGENT_ENGINE_PORT": str(port),
           "AGENT_ENGINE_DB_PATH": db_path}  # fmt: skip
    env.pop("AGENT_ENGINE_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ridgeline.cli", "agent-engine", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded: ~30 s on a loaded machine
            if proc.poll() is not None:
                raise RuntimeError(f"agent engine exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("agent engine did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if tmp is not None:
            tmp.cleanup()


class McpCalls(list[tuple[str, dict[str, Any]]]):
    pass


def mcp_app(calls: McpCalls) -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("ridgeline-test-gateway")

    @server.tool()
    def web_search(query: str) -> str:
        """Search the (fake) web."""
        calls.append(("web_search", {"query": query}))
        return f"Top result for {query}: Ridgeline ships an agent engine."

    return server.streamable_http_app(stateless_http=True, json_response=True)


def sandbox_app() -> FakeServer:
    async def handle(req: Req) -> Reply:
        if req.method == "POST" and req.path == "/v1/executions":
            body = req.json()
            if body.get("dry_run") is not False:
                return Reply(400, {"error": "this fake only takes executions"})
            # The fake does not run code either: it answers a fixed line naming what it was sent.
            return Reply(
                200,
                {
                    "status": "succeeded",
                    "stdout": f"ran {len(body['code'])} characters of {body['language']}",
                    "stderr": "",
                    "exit_code": 0,
                },
            )
        return Reply(404, {"error": "not found"})

    return FakeServer(handle)


def scripted_llm() -> FakeServer:
    """An OpenAI-compatible chat model: offered tools and no tool result yet, it calls web_search and
    python_exec; given the results, it answers with them."""

    async def handle(req: Req) -> Reply:
        if req.path != "/v1/chat/completions":
            return Reply(404, {"error": {"message": "not found"}})
        body = req.json()
        msgs = body["messages"]
        results = [m["content"] for m in msgs if m["role"] == "tool"]
        if body.get("tools") and not results:
            calls = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "web_search", "arguments": '{"query": "ridgeline"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "python_exec", "arguments": '{"code": "print(1+1)"}'},
                },
            ]
            message = {"role": "assistant", "content": None, "tool_calls": calls}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": "Answer: " + " | ".join(results)}
            finish = "stop"
        return Reply(
            200,
            {
                "id": "cmpl-1",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            },
        )

    return FakeServer(handle)
