"""Fixtures for the playground and agent-project tests: the control-plane test app (one user per
role, from tests/genai/platform), a second plain user, and a fake OpenAI-compatible runtime on
loopback that streams its answer word by word with a delay and records when a client goes away."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ai.fakes import FakeServer, Reply, Req, serve
from tests.genai.platform.conftest import App, make_app  # noqa: F401  (fixtures)

__all__ = ["App", "StreamingRuntime", "cloud_deployment", "second_user", "sse_events"]


@pytest.fixture
def app(make_app) -> App:  # type: ignore[no-untyped-def]  # noqa: F811
    a = make_app()
    second_user(a)
    return a


def second_user(app: App) -> None:
    from ridgeline.platform.auth import Role

    auth = app.client.app.state["auth"]
    try:
        app.call(auth.create_user, "user-2", "pass-word-123", actor="test", role=Role.USER)
    except Exception as exc:
        if getattr(exc, "reason", None) != "username_taken":
            raise
    r = app.client.post("/auth/login", json={"username": "user-2", "password": "pass-word-123"})
    app.h["user2"] = {"Authorization": f"Bearer {r.json()['access_token']}"}


class StreamingRuntime(FakeServer):
    """OpenAI-compatible: ``/v1/models`` lists ``models``; chat completions answer ``"Echo: <last
    user message>"``, streamed one word per ``delay`` seconds (the model ``endless`` never stops:
    a word every 20 ms, for at most 100 s). ``disconnected`` (FakeServer's) is set when a client
    goes away mid-response, which ends the stream; ``finished`` when a stream was written to its end."""

    def __init__(self, models: list[str], delay: float = 0.0) -> None:
        super().__init__(self.handle)
        self.models = models
        self.delay = delay
        self.finished = threading.Event()
        self.first_token_at: list[float] = []
        self.bodies: list[dict[str, Any]] = []

    def words(self, body: dict[str, Any]) -> list[str]:
        last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
        parts = f"Echo: {last}".split(" ")
        return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]

    async def handle(self, req: Req) -> Reply:
        if req.method == "GET" and req.path == "/v1/models":
            return Reply(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})
        if req.method != "POST" or req.path != "/v1/chat/completions":
            return Reply(404, {"error": {"message": "no route"}})
        body = req.json()
        self.bodies.append(body)
        if body["model"] == "broken":
            return Reply(503, {"error": {"message": "overloaded", "type": "server_error"}})
        if not body.get("stream"):
            return Reply(200, {"id": "c1", "object": "chat.completion", "model": body["model"],
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(self.words(body))},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}})  # fmt: skip
        return Reply(stream=self._stream(body), content_type="text/event-stream")

    async def _stream(self, body: dict[str, Any]) -> Any:
        def chunk(obj: dict[str, Any]) -> bytes:
            return f"data: {json.dumps(obj)}\n\n".encode()

        base = {"id": "c1", "object": "chat.completion.chunk", "model": body["model"]}
        words = self.words(body) if body["model"] != "endless" else (f"w{i} " for i in range(5000))
        delay = self.delay if body["model"] != "endless" else 0.02
        for i, w in enumerate(words):
            if i == 0:
                self.first_token_at.append(time.perf_counter())
            yield chunk({**base, "choices": [{"index": 0, "delta": {"content": w}}]})
            if delay:
                await asyncio.sleep(delay)
        yield chunk({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        yield chunk({**base, "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 3}})
        yield b"data: [DONE]\n\n"
        self.finished.set()


@pytest.fixture
def streaming_runtime() -> Iterator[StreamingRuntime]:
    with serve(StreamingRuntime(["gpt-a-2026", "gpt-b-2026", "endless", "broken"], delay=0.01)) as srv:
        yield srv


def cloud_deployment(app: App, rt: FakeServer, slug: str = "cloud", activate: bool = True) -> dict[str, Any]:
    """A deployment whose llm_inference is an OpenAI-compatible cloud provider on ``rt``, with the
    managed models gpt-a (default), gpt-b and endless; the other capabilities as local-default's."""
    app.add_model("gpt-a", origin="cloud", provider_model_id="gpt-a-2026")
    app.add_model("gpt-b", origin="cloud", provider_model_id="gpt-b-2026")
    app.add_model("endless", origin="cloud", provider_model_id="endless")
    app.add_model("broken", origin="cloud", provider_model_id="broken")
    p = app.ok("POST", "/v1/platform/providers", status=201,
               json={"provider_key": "openai_compatible_cloud_llm", "slug": f"{slug}-llm",
                     "endpoint_url": rt.base_url + "/v1", "secret_refs": {"api_key": "sk-test-0000000000"}})["provider"]  # fmt: skip
    base = app.deployment("local-default")
    bindings = {b["capability"]: {"provider_id": b["provider_id"], "resources": b["resources"],
                                  "default_resource_id": b["default_resource_id"]} for b in base["bindings"]}  # fmt: skip
    bindings["llm_inference"] = {"provider_id": p["id"], "default_resource_id": "gpt-a",
                                 "resources": [{"id": "gpt-a"}, {"id": "gpt-b"}, {"id": "endless"}, {"id": "broken"}]}  # fmt: skip
    d = app.ok("POST", "/v1/platform/deployments", status=201, json={"slug": slug, "bindings": bindings})[
        "deployment"
    ]
    if activate:
        app.ok("POST", f"/v1/platform/deployments/{d['id']}/activate")
    return d


def sse_events(text: str) -> list[tuple[str, Any]]:
    out = []
    for block in text.strip().split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        out.append((event, json.loads("\n".join(data))))
    return out
