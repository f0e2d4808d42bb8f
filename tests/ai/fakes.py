"""Fake provider servers on 127.0.0.1 that speak each provider's real wire protocol (JSON bodies,
SSE with the provider's event shapes, Ollama's NDJSON, error bodies, 429 with Retry-After, stalls).

They are plain ASGI apps served by uvicorn in a background thread on an ephemeral loopback port.
Each fake plays a scripted model: asked with tools, it calls the first tool with ``{"city": ...}``;
given the tool's result, it answers ``"Result: <tool output>"``; otherwise it answers
``"Hello <last user message>"``. It checks that requests are in its own wire format (an
OpenAI-shaped message sent to Anthropic is a 400 with Anthropic's error body), so the mapping back to
each wire format is tested too. Behaviour is steered by the model name:

| model | behaviour |
|---|---|
| ``flaky-<n>`` | the first n requests get 429 with ``Retry-After: 7`` (error body in the provider's shape) |
| ``broken`` | always 503 |
| ``stall`` | sleeps 30 s before answering (for timeouts) |
| ``endless`` | streams a chunk every 20 ms until the client goes away (for cancellation) |
| ``stall-stream`` | streams one chunk then goes silent (read timeout mid-stream) |
| ``echo-key`` | 401 whose error message repeats the key it was sent |
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn


class Req:
    def __init__(self, scope: dict[str, Any], body: bytes) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = dict(
            p.split("=", 1) if "=" in p else (p, "") for p in scope["query_string"].decode().split("&") if p
        )
        self.headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Reply:
    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        stream: AsyncIterator[bytes] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.status = status
        self.body = body
        self.headers = {"content-type": content_type, **(headers or {})}
        self.stream = stream


class FakeServer:
    """An ASGI app: ``route(method, path)`` -> handler(Req) -> Reply; records requests and disconnects."""

    def __init__(self, handler: Callable[[Req], Any]) -> None:
        self.handler = handler
        self.requests: list[Req] = []
        self.disconnected = threading.Event()
        self.base_url = ""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        req = Req(scope, body)
        self.requests.append(req)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self.disconnected.set()

        watcher = asyncio.create_task(watch())
        try:
            reply: Reply = await self.handler(req)
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
                }
            )
            if reply.stream is None:
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                await send({"type": "http.response.body", "body": data})
            else:
                async for piece in reply.stream:
                    if self.disconnected.is_set():
                        break
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        finally:
            watcher.cancel()


@contextlib.contextmanager
def serve(app: FakeServer):
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("fake server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    app.base_url = f"http://127.0.0.1:{port}"
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)


# ------------------------------------------------------------------------------------ scripted model
def sse(events: list[tuple[str | None, Any]], delay: float = 0.0) -> AsyncIterator[bytes]:
    async def gen():
        for event, data in events:
            head = f"event: {event}\n" if event else ""
            payload = data if isinstance(data, str) else json.dumps(data)
            yield f"{head}data: {payload}\n\n".encode()
            if delay:
                await asyncio.sleep(delay)

    return gen()


def endless(make: Callable[[int], bytes]) -> AsyncIterator[bytes]:
    async def gen():
        i = 0
        while i < 5000:  # bounded: 100 s at most
            yield make(i)
            i += 1
            await asyncio.sleep(0.02)

    return gen()


def stall_after(first: bytes) -> AsyncIterator[bytes]:
    async def gen():
        yield first
        await asyncio.sleep(30)

    return gen()


class Script:
    """The scripted model's decision for one request, from the wire-neutral facts each fake extracts."""

    def __init__(
        self, last_role: str, last_text: str, tool_names: list[str], tool_result: str | None
    ) -> None:
        if tool_result is not None:
            self.kind, self.text = "text", f"Result: {tool_result}"
        elif tool_names:
            self.kind, self.tool, self.args = "tool", tool_names[0], {"city": "Zürich", "days": 2}
        else:
            self.kind, self.text = "text", f"Hello {last_text}"

    def words(self) -> list[str]:
        parts = self.text.split(" ")
        return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


class Behaviour:
    """Per-server counters for the model-name switches."""

    def __init__(self) -> None:
        self.flaky_seen = 0

    async def pre(self, model: str, req: Req, error: Callable[[int, str, str], Reply]) -> Reply | None:
        if model.startswith("flaky-"):
            if self.flaky_seen < int(model.split("-")[1]):
                self.flaky_seen += 1
                r = error(429, "rate limit reached, slow down", "rate_limit")
                r.headers["retry-after"] = "7"
                return r
        if model == "broken":
            return error(503, "upstream overloaded", "overloaded")
        if model == "stall":
            await asyncio.sleep(30)
        if model == "echo-key":
            key = (
                req.headers.get("x-api-key")
                or req.headers.get("x-goog-api-key")
                or req.headers.get("authorization", "").removeprefix("Bearer ")
            )
            return error(401, f"Incorrect API key provided: {key}", "invalid_api_key")
        return None


def _bad(error: Callable[[int, str, str], Reply], why: str) -> Reply:
    return error(400, f"malformed request: {why}", "invalid_request_error")


# ----------------------------------------------------------------------------------- OpenAI-compatible
def openai_app() -> FakeServer:
    beh = Behaviour()

    def error(status: int, message: str, kind: str) -> Reply:
        return Reply(status, {"error": {"message": message, "type": kind, "param": None, "code": kind}})

    async def handle(req: Req) -> Reply:
        if req.method == "GET" and req.path == "/v1/models":
            return Reply(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"},
                        {
                            "id": "text-embedding-3-small",
                            "object": "model",
                            "created": 2,
                            "owned_by": "openai",
                        },
                    ],
                },
            )
        body = req.json() or {}
        model = body.get("model", "")
        pre = await beh.pre(model, req, error)
        if pre:
            return pre
        if req.path == "/v1/embeddings":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, -1.0]}
                for i, t in enumerate(inputs)
            ]
            data.reverse()  # the API does not promise order; clients sort by index
            return Reply(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": 5, "total_tokens": 5},
                },
            )
        if req.path != "/v1/chat/completions":
            return error(404, f"no route {req.path}", "not_found")
        msgs = body.get("messages") or []
        tool_result = None
        for m in msgs:
            if m.get("role") == "assistant" and m.get("tool_calls"):
                for tc in m["tool_calls"]:
                    if tc.get("type") != "function" or not isinstance(tc["function"].get("arguments"), str):
                        return _bad(error, "tool_calls[].function.arguments must be a JSON string")
            if m.get("role") == "tool":
                if not m.get("tool_call_id"):
                    return _bad(error, "tool message without tool_call_id")
                tool_result = m["content"]
        tools = [t["function"]["name"] for t in body.get("tools") or [] if t.get("type") == "function"]
        last = msgs[-1] if msgs else {"role": "user", "content": ""}
        sc = Script(last["role"], last.get("content") or "", tools, tool_result)
        if model == "endless":
            chunk = lambda i: (  # noqa: E731
                f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': f'w{i} '}}]})}\n\n".encode()
            )
            return Reply(stream=endless(chunk), content_type="text/event-stream")
        if model == "stall-stream":
            first = f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': 'first '}}]})}\n\n".encode()
            return Reply(stream=stall_after(first), content_type="text/event-stream")
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if not body.get("stream"):
            if sc.kind == "tool":
                msg = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_abc",
                            "type": "function",
                            "function": {"name": sc.tool, "arguments": json.dumps(sc.args)},
                        }
                    ],
                }
                finish = "tool_calls"
            else:
                msg, finish = {"role": "assistant", "content": sc.text}, "stop"
            return Reply(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": model,
                    "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                    "usage": usage,
                },
            )
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model}
        events: list[tuple[str | None, Any]] = [
            (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        ]
        if sc.kind == "tool":
            args = json.dumps(sc.args)
            events.append(
                (
                    None,
                    {
                        **base,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {
                                    "tool_calls": [
                                        {
                                            "index": 0,
                                            "id": "call_abc",
                                            "type": "function",
                                            "function": {"name": sc.tool, "arguments": ""},
                                        }
                                    ]
                                },
                            }
                        ],
                    },
                )
            )
            for i in range(0, len(args), 5):  # arguments arrive in fragments
                events.append(
                    (
                        None,
                        {
                            **base,
                            "choices": [
                                {
                                    "index": 0,
                                    "delta": {
                                        "tool_calls": [
                                            {"index": 0, "function": {"arguments": args[i : i + 5]}}
                                        ]
                                    },
                                }
                            ],
                        },
                    )
                )
            finish = "tool_calls"
        else:
            events += [
                (None, {**base, "choices": [{"index": 0, "delta": {"content": w}}]}) for w in sc.words()
            ]
            finish = "stop"
        events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {**base, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        return Reply(stream=sse(events), content_type="text/event-stream")

    return FakeServer(handle)


# ------------------------------------------------------------------------------------------ Anthropic
def anthropic_app() -> FakeServer:
    beh = Behaviour()

    def error(status: int, message: str, kind: str) -> Reply:
        kinds = {
            429: "rate_limit_error",
            401: "authentication_error",
            503: "overloaded_error",
            400: "invalid_request_error",
        }
        return Reply(
            status, {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": message}}
        )

    async def handle(req: Req) -> Reply:
        if req.headers.get("anthropic-version") != "2023-06-01":
            return error(400, "anthropic-version header is required", "invalid_request_error")
        if req.method == "GET" and req.path == "/v1/models":
            if req.query.get("after_id") == "claude-b":
                return Reply(
                    200,
                    {
                        "data": [{"type": "model", "id": "claude-c", "display_name": "C"}],
                        "has_more": False,
                        "first_id": "claude-c",
                        "last_id": "claude-c",
                    },
                )
            return Reply(
                200,
                {
                    "data": [
                        {"type": "model", "id": "claude-a", "display_name": "A"},
                        {"type": "model", "id": "claude-b", "display_name": "B"},
                    ],
                    "has_more": True,
                    "first_id": "claude-a",
                    "last_id": "claude-b",
                },
            )
        if req.path != "/v1/messages":
            return error(404, "not found", "not_found_error")
        body = req.json() or {}
        model = body.get("model", "")
        pre = await beh.pre(model, req, error)
        if pre:
            return pre
        if "max_tokens" not in body:
            return _bad(error, "max_tokens: Field required")
        tool_result = None
        for m in body.get("messages") or []:
            if m["role"] not in ("user", "assistant"):
                return _bad(error, f"messages: unexpected role {m['role']!r}")
            if isinstance(m["content"], list):
                for b in m["content"]:
                    if b["type"] == "tool_result":
                        tool_result = b["content"]
                    if b["type"] == "tool_use" and not isinstance(b.get("input"), dict):
                        return _bad(error, "tool_use.input must be an object")
        tools = [t["name"] for t in body.get("tools") or [] if "input_schema" in t]
        msgs = body.get("messages") or [{"role": "user", "content": ""}]
        last = msgs[-1]
        sc = Script(
            last["role"], last["content"] if isinstance(last["content"], str) else "", tools, tool_result
        )
        if model == "endless":
            chunk = lambda i: (  # noqa: E731
                f"event: content_block_delta\ndata: {json.dumps({'type': 'content_block_delta', 'index': 0, 'delta': {'type': 'text_delta', 'text': f'w{i} '}})}\n\n".encode()
            )
            return Reply(stream=endless(chunk), content_type="text/event-stream")
        if sc.kind == "tool":
            content = [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": sc.tool, "input": sc.args},
            ]
            stop = "tool_use"
        else:
            content, stop = [{"type": "text", "text": sc.text}], "end_turn"
        if not body.get("stream"):
            return Reply(
                200,
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 6},
                },
            )
        ev: list[tuple[str | None, Any]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 12, "output_tokens": 1},
                    },
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        for idx, block in enumerate(content):
            if block["type"] == "text":
                ev.append(
                    (
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": idx,
                            "content_block": {"type": "text", "text": ""},
                        },
                    )
                )
                words = block["text"].split(" ")
                for i, w in enumerate(words):
                    ev.append(
                        (
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": idx,
                                "delta": {
                                    "type": "text_delta",
                                    "text": w + (" " if i < len(words) - 1 else ""),
                                },
                            },
                        )
                    )
            else:
                ev.append(
                    (
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": idx,
                            "content_block": {
                                "type": "tool_use",
                                "id": block["id"],
                                "name": block["name"],
                                "input": {},
                            },
                        },
                    )
                )
                args = json.dumps(block["input"])
                for i in range(0, len(args), 4):
                    ev.append(
                        (
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": idx,
                                "delta": {"type": "input_json_delta", "partial_json": args[i : i + 4]},
                            },
                        )
                    )
            ev.append(("content_block_stop", {"type": "content_block_stop", "index": idx}))
        ev.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 6},
                },
            )
        )
        ev.append(("message_stop", {"type": "message_stop"}))
        return Reply(stream=sse(ev), content_type="text/event-stream")

    return FakeServer(handle)


# --------------------------------------------------------------------------------------------- Gemini
def gemini_app() -> FakeServer:
    beh = Behaviour()

    def error(status: int, message: str, kind: str) -> Reply:
        statuses = {
            429: "RESOURCE_EXHAUSTED",
            401: "UNAUTHENTICATED",
            503: "UNAVAILABLE",
            400: "INVALID_ARGUMENT",
            404: "NOT_FOUND",
        }
        return Reply(
            status,
            {"error": {"code": status, "message": message, "status": statuses.get(status, "INTERNAL")}},
        )

    async def handle(req: Req) -> Reply:
        if "key" in req.query:
            return _bad(error, "the key must not travel in the URL in this test")
        if req.method == "GET" and req.path == "/v1beta/models":
            if req.query.get("pageToken") == "p2":
                return Reply(
                    200,
                    {
                        "models": [
                            {
                                "name": "models/text-embedding-004",
                                "supportedGenerationMethods": ["embedContent"],
                            }
                        ]
                    },
                )
            return Reply(
                200,
                {
                    "models": [
                        {
                            "name": "models/gemini-2.0-flash",
                            "displayName": "Gemini 2.0 Flash",
                            "supportedGenerationMethods": ["generateContent"],
                        }
                    ],
                    "nextPageToken": "p2",
                },
            )
        if not req.path.startswith("/v1beta/models/") or ":" not in req.path:
            return error(404, "not found", "")
        model, method = req.path.removeprefix("/v1beta/models/").split(":", 1)
        body = req.json() or {}
        pre = await beh.pre(model, req, error)
        if pre:
            return pre
        if method == "embedContent":
            t = body["content"]["parts"][0]["text"]
            return Reply(200, {"embedding": {"values": [float(len(t)), 0.5]}})
        if method == "batchEmbedContents":
            return Reply(
                200,
                {
                    "embeddings": [
                        {"values": [float(len(r["content"]["parts"][0]["text"])), 0.5]}
                        for r in body["requests"]
                    ]
                },
            )
        if method not in ("generateContent", "streamGenerateContent"):
            return error(404, f"unknown method {method}", "")
        tool_result = None
        for c in body.get("contents") or []:
            if c.get("role") not in ("user", "model"):
                return _bad(error, f"contents[].role must be user or model, got {c.get('role')!r}")
            for p in c["parts"]:
                if "functionResponse" in p:
                    if not p["functionResponse"].get("name"):
                        return _bad(error, "functionResponse.name is required")
                    tool_result = p["functionResponse"]["response"]["content"]
        tools = [d["name"] for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
        contents = body.get("contents") or [{"role": "user", "parts": [{"text": ""}]}]
        last_text = "".join(p.get("text", "") for p in contents[-1]["parts"])
        sc = Script(contents[-1]["role"], last_text, tools, tool_result)
        usage = {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13}
        if model == "endless":
            chunk = lambda i: (  # noqa: E731
                f"data: {json.dumps({'candidates': [{'content': {'role': 'model', 'parts': [{'text': f'w{i} '}]}}]})}\n\n".encode()
            )
            return Reply(stream=endless(chunk), content_type="text/event-stream")
        if sc.kind == "tool":
            parts_seq = [[{"functionCall": {"name": sc.tool, "args": sc.args}}]]
        else:
            parts_seq = [[{"text": w}] for w in sc.words()]
        if method == "generateContent":
            parts = [p for seq in parts_seq for p in seq]
            if sc.kind == "text":
                parts = [{"text": sc.text}]
            return Reply(
                200,
                {
                    "candidates": [
                        {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
                    ],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
            )
        if req.query.get("alt") != "sse":
            return _bad(error, "this fake streams only with alt=sse")
        ev: list[tuple[str | None, Any]] = []
        for i, parts in enumerate(parts_seq):
            cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            chunk_body: dict[str, Any] = {"candidates": [cand], "modelVersion": model}
            if i == len(parts_seq) - 1:
                cand["finishReason"] = "STOP"
                chunk_body["usageMetadata"] = usage
            ev.append((None, chunk_body))
        return Reply(stream=sse(ev), content_type="text/event-stream")

    return FakeServer(handle)


# --------------------------------------------------------------------------------------------- Ollama
def ollama_app() -> FakeServer:
    beh = Behaviour()

    def error(status: int, message: str, kind: str) -> Reply:
        return Reply(status, {"error": message})

    def ndjson(objs: list[dict[str, Any]]) -> AsyncIterator[bytes]:
        async def gen():
            for o in objs:
                yield (json.dumps(o) + "\n").encode()

        return gen()

    async def handle(req: Req) -> Reply:
        if req.method == "GET" and req.path == "/api/tags":
            return Reply(
                200,
                {
                    "models": [
                        {
                            "name": "llama3.2:latest",
                            "model": "llama3.2:latest",
                            "size": 2019393189,
                            "digest": "a80c4f17acd5",
                            "details": {"family": "llama", "parameter_size": "3.2B"},
                        }
                    ]
                },
            )
        body = req.json() or {}
        model = body.get("model", "")
        pre = await beh.pre(model, req, error)
        if pre:
            return pre
        if req.path == "/api/embed":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return Reply(
                200,
                {
                    "model": model,
                    "embeddings": [[float(len(t)), 0.25] for t in inputs],
                    "prompt_eval_count": 3,
                },
            )
        if req.path != "/api/chat":
            return error(404, "404 page not found", "")
        tool_result = None
        for m in body.get("messages") or []:
            for tc in m.get("tool_calls") or []:
                if not isinstance(tc["function"].get("arguments"), dict):
                    return _bad(error, "tool_calls[].function.arguments must be an object")
            if m.get("role") == "tool":
                tool_result = m["content"]
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        msgs = body.get("messages") or [{"role": "user", "content": ""}]
        sc = Script(msgs[-1]["role"], msgs[-1].get("content", ""), tools, tool_result)
        ts = "2026-12-01T00:00:00Z"
        if model == "endless":
            chunk = lambda i: (  # noqa: E731
                json.dumps(
                    {
                        "model": model,
                        "created_at": ts,
                        "message": {"role": "assistant", "content": f"w{i} "},
                        "done": False,
                    }
                )
                + "\n"
            ).encode()
            return Reply(stream=endless(chunk), content_type="application/x-ndjson")
        final = {
            "model": model,
            "created_at": ts,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 10,
            "eval_count": 5,
        }
        if sc.kind == "tool":
            msg = {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": sc.tool, "arguments": sc.args}}],
            }
        else:
            msg = {"role": "assistant", "content": sc.text}
        if not body.get("stream", True):
            return Reply(200, {**final, "message": msg})
        objs = []
        if sc.kind == "tool":
            objs.append({"model": model, "created_at": ts, "message": msg, "done": False})
        else:
            objs += [
                {
                    "model": model,
                    "created_at": ts,
                    "message": {"role": "assistant", "content": w},
                    "done": False,
                }
                for w in sc.words()
            ]
        objs.append(final)
        return Reply(stream=ndjson(objs), content_type="application/x-ndjson")

    return FakeServer(handle)
