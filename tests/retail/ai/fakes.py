"""Loopback fakes for the retail AI tests: an OpenAI-compatible server (embeddings, and a scripted
streaming chat model that calls the tools it is told to), an Ollama server, and the served app.

All are real HTTP servers on 127.0.0.1 (uvicorn in a thread, ephemeral port), built on the AI
layer's test fakes (tests/ai/fakes.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import uvicorn

from tests.ai.fakes import FakeServer, Reply, Req, serve, sse

__all__ = ["FakeServer", "chat_app", "embedding_app", "hash_embed", "ollama_fake", "serve", "served"]


def hash_embed(text: str, dim: int) -> list[float]:
    """A deterministic bag-of-words embedding: each lower-cased word adds 1 at sha256(word) % dim."""
    v = np.zeros(dim, dtype=np.float64)
    for w in re.findall(r"\w+", text.lower()):
        v[int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "little") % dim] += 1.0
    n = np.linalg.norm(v)
    if n == 0:
        v[0] = 1.0
        n = 1.0
    return (v / n).tolist()


def embedding_app(dim: int = 64, *, fail: bool = False) -> FakeServer:
    """OpenAI-compatible ``POST /v1/embeddings``; ``fail``: every request is a 503 with OpenAI's error body."""

    async def handle(req: Req) -> Reply:
        if fail:
            return Reply(503, {"error": {"message": "embedding backend down", "type": "server_error"}})
        if req.path != "/v1/embeddings":
            return Reply(404, {"error": {"message": f"no route {req.path}", "type": "not_found"}})
        body = req.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": hash_embed(t, dim)} for i, t in enumerate(inputs)
        ]
        return Reply(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    return FakeServer(handle)


def ollama_fake(models: list[str] | None = None, dim: int = 48) -> FakeServer:
    """Ollama's ``GET /api/tags`` and ``POST /api/embed``."""
    names = models if models is not None else ["llama3.2:3b", "nomic-embed-text:latest"]

    async def handle(req: Req) -> Reply:
        if req.method == "GET" and req.path == "/api/tags":
            return Reply(
                200,
                {
                    "models": [
                        {
                            "name": n,
                            "model": n,
                            "modified_at": "2026-11-30T10:00:00Z",
                            "size": 1_000_000 + i,
                            "details": {"family": n.split(":")[0], "parameter_size": "3B"},
                        }
                        for i, n in enumerate(names)
                    ]
                },
            )
        if req.method == "POST" and req.path == "/api/embed":
            body = req.json()
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return Reply(200, {"model": body["model"], "embeddings": [hash_embed(t, dim) for t in inputs]})
        return Reply(404, {"error": f"no route {req.path}"})

    return FakeServer(handle)


class _PerRequestDisconnect(FakeServer):
    """The AI layer's fake keeps one "client went away" flag for the server's whole life (its tests
    make one streamed request each); a chat session makes many, so the flag is cleared per request."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            self.disconnected.clear()
        await super().__call__(scope, receive, send)


def chat_app(plan: list[dict[str, Any]], *, words_delay: float = 0.0) -> FakeServer:
    """A scripted OpenAI-compatible streaming chat model. ``plan`` lists, per request in order, either
    ``{"tool": name, "arguments": {...}}`` (stream a tool call) or ``{"text": "..."}``; with ``"{tool}"``
    in the text replaced by the last tool message's content. Requests are kept in ``.requests``."""
    state = {"i": 0}

    async def handle(req: Req) -> Reply:
        if req.path != "/v1/chat/completions":
            return Reply(404, {"error": {"message": f"no route {req.path}", "type": "not_found"}})
        body = req.json()
        step = plan[min(state["i"], len(plan) - 1)]
        state["i"] += 1
        tool_msgs = [m for m in body.get("messages") or [] if m.get("role") == "tool"]
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": body.get("model")}
        events: list[tuple[str | None, Any]] = [
            (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        ]
        if "tool" in step:
            call = {
                "index": 0,
                "id": f"call_{state['i']}",
                "type": "function",
                "function": {"name": step["tool"], "arguments": json.dumps(step.get("arguments", {}))},
            }
            events.append((None, {**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}))
            finish = "tool_calls"
        else:
            text = step["text"].replace("{tool}", (tool_msgs[-1]["content"][:200] if tool_msgs else ""))
            for w in re.findall(r"\S+\s*", text):
                events.append((None, {**base, "choices": [{"index": 0, "delta": {"content": w}}]}))
            finish = "stop"
        events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        events.append(
            (
                None,
                {
                    **base,
                    "choices": [],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
                },
            )
        )
        events.append((None, "[DONE]"))
        return Reply(stream=sse(events, words_delay), content_type="text/event-stream")

    return _PerRequestDisconnect(handle)


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """The Litestar app on uvicorn (loopback, ephemeral port, WebSockets on); yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(3000):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the app did not start")
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("the app did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
