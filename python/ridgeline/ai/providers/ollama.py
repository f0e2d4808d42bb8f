"""Ollama's native API: ``GET /api/tags``, ``POST /api/embed``, ``POST /api/chat`` (one JSON object, or
an NDJSON stream). ``base_url`` is the server root: ``http://127.0.0.1:11434``. (Ollama's OpenAI
endpoint is served by :class:`~ridgeline.ai.providers.openai.OpenAICompatibleProvider` at ``/v1``.)"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ridgeline.ai.providers.base import (
    ChatChunk,
    ChatResponse,
    Embeddings,
    HTTPProvider,
    Message,
    ModelInfo,
    ToolCall,
    Usage,
)
from ridgeline.ai.providers.openai import to_wire_tools

_FINISH = {"stop": "stop", "length": "length"}


def to_wire(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Ollama's tool calls have no id, and arguments are a JSON object (not a string)."""
    names = {tc.id: tc.name for m in messages for tc in m.tool_calls}
    out: list[dict[str, Any]] = []
    for m in messages:
        d: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            d["tool_calls"] = [
                {"function": {"name": tc.name, "arguments": tc.arguments}} for tc in m.tool_calls
            ]
        if m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "")
            if name:
                d["tool_name"] = name
        out.append(d)
    return out


class OllamaProvider(HTTPProvider):
    kind = "ollama"

    def __init__(
        self, base_url: str = "http://127.0.0.1:11434", api_key: str | None = None, **kw: Any
    ) -> None:
        super().__init__(base_url, api_key, **kw)

    def _auth_headers(self) -> dict[str, str]:  # behind an authenticating proxy
        return {"authorization": f"Bearer {self._key.reveal()}"} if self._key else {}

    def _body(self, messages, model, tools, temperature, max_tokens, stream) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._model(model), "messages": to_wire(messages), "stream": stream}
        if tools:
            body["tools"] = to_wire_tools(tools)
        opts: dict[str, Any] = {}
        if temperature is not None:
            opts["temperature"] = temperature
        if max_tokens is not None:
            opts["num_predict"] = max_tokens
        if opts:
            body["options"] = opts
        return body

    def _calls(self, msg: dict[str, Any], n: int) -> list[ToolCall]:
        out = []
        for i, tc in enumerate(msg.get("tool_calls") or []):
            fn = tc.get("function") or {}
            out.append(
                ToolCall(
                    tc.get("id") or f"call_{n + i}", fn.get("name", ""), self._tool_args(fn.get("arguments"))
                )
            )
        return out

    @staticmethod
    def _usage(obj: dict[str, Any]) -> Usage | None:
        if "prompt_eval_count" not in obj and "eval_count" not in obj:
            return None
        return Usage(int(obj.get("prompt_eval_count") or 0), int(obj.get("eval_count") or 0))

    async def chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> ChatResponse:
        data = await self._json(
            "POST", "api/chat", json_body=self._body(messages, model, tools, temperature, max_tokens, False)
        )
        if "error" in data:
            raise self._error("upstream_error", str(data["error"]))
        msg = data.get("message") or {}
        calls = self._calls(msg, 0)
        dr = data.get("done_reason")
        finish = "tool_calls" if calls else _FINISH.get(dr, dr)
        return ChatResponse(
            data.get("model") or self._model(model),
            msg.get("content") or "",
            calls,
            finish,
            self._usage(data),
        )

    async def stream_chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> AsyncIterator[ChatChunk]:
        resp = await self._send(
            "POST",
            "api/chat",
            json_body=self._body(messages, model, tools, temperature, max_tokens, True),
            stream=True,
        )
        calls: list[ToolCall] = []
        async with contextlib.aclosing(self._lines(resp)) as stream:  # closed on break, return or error
            async for line in stream:
                if not line.strip():
                    continue
                obj = self._loads(line, "stream line")
                if "error" in obj:
                    raise self._error("upstream_error", f"stream error: {obj['error']}")
                msg = obj.get("message") or {}
                calls += self._calls(msg, len(calls))
                if msg.get("content"):
                    yield ChatChunk(delta=msg["content"], model=obj.get("model"))
                if obj.get("done"):
                    dr = obj.get("done_reason")
                    yield ChatChunk(
                        tool_calls=calls,
                        finish_reason="tool_calls" if calls else _FINISH.get(dr, dr),
                        usage=self._usage(obj),
                        model=obj.get("model"),
                    )
                    return
        raise self._error("stream_interrupted", "stream ended without a done message")

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        m = self._model(model)
        data = await self._json("POST", "api/embed", json_body={"model": m, "input": list(texts)})
        vectors = data.get("embeddings") or []
        if len(vectors) != len(texts):
            raise self._error("protocol_error", f"{len(vectors)} embeddings for {len(texts)} inputs")
        pe = data.get("prompt_eval_count")
        return Embeddings(data.get("model") or m, vectors, Usage(int(pe), 0) if pe is not None else None)

    async def list_models(self) -> list[ModelInfo]:
        data = await self._json("GET", "api/tags")
        return [
            ModelInfo(m.get("model") or m["name"], self.kind, {k: v for k, v in m.items() if k != "model"})
            for m in data.get("models") or []
        ]
