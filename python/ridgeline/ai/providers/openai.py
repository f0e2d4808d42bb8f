"""OpenAI-compatible chat completions, embeddings and models (OpenAI, vLLM, llama.cpp server, Ollama's
``/v1`` endpoint, ...). ``base_url`` includes the version prefix: ``https://api.openai.com/v1``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ridgeline.ai.providers.base import (
    ChatChunk,
    ChatResponse,
    Embeddings,
    HTTPProvider,
    Message,
    ModelInfo,
    Tool,
    ToolCall,
    Usage,
)

_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls"}


def to_wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        d: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            d["content"] = m.content or None
            d["tool_calls"] = [
                {
                    "id": tc.id,
                    "type": "function",
                    "function": {"name": tc.name, "arguments": json.dumps(tc.arguments)},
                }
                for tc in m.tool_calls
            ]
        if m.role == "tool":
            d["tool_call_id"] = m.tool_call_id
        elif m.name:
            d["name"] = m.name
        out.append(d)
    return out


def to_wire_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


class OpenAICompatibleProvider(HTTPProvider):
    kind = "openai_compatible"

    def _auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._key.reveal()}"} if self._key else {}

    def _body(self, messages, model, tools, temperature, max_tokens, stream) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._model(model), "messages": to_wire_messages(messages)}
        if tools:
            body["tools"] = to_wire_tools(tools)
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    @staticmethod
    def _usage(u: Any) -> Usage | None:
        if not isinstance(u, dict):
            return None
        return Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))

    async def chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> ChatResponse:
        data = await self._json(
            "POST",
            "chat/completions",
            json_body=self._body(messages, model, tools, temperature, max_tokens, False),
        )
        try:
            choice = data["choices"][0]
            msg = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise self._error("protocol_error", "chat completion without choices[0].message") from None
        calls = [
            ToolCall(tc["id"], tc["function"]["name"], self._tool_args(tc["function"].get("arguments")))
            for tc in msg.get("tool_calls") or []
        ]
        fr = choice.get("finish_reason")
        return ChatResponse(
            model=data.get("model") or self._model(model),
            content=msg.get("content") or "",
            tool_calls=calls,
            finish_reason=_FINISH.get(fr, fr),
            usage=self._usage(data.get("usage")),
        )

    async def stream_chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> AsyncIterator[ChatChunk]:
        resp = await self._send(
            "POST",
            "chat/completions",
            json_body=self._body(messages, model, tools, temperature, max_tokens, True),
            stream=True,
        )
        # Tool calls stream as fragments keyed by index: id and name first, then argument pieces.
        pending: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        model_name: str | None = None
        async with contextlib.aclosing(self._sse(resp)) as stream:  # closed on break, return or error
            async for _event, data in stream:
                if data.strip() == "[DONE]":
                    break
                obj = self._loads(data, "stream chunk")
                if isinstance(obj, dict) and "error" in obj:
                    err = obj["error"]
                    msg = err.get("message") if isinstance(err, dict) else str(err)
                    raise self._error("upstream_error", f"stream error: {msg}")
                model_name = obj.get("model") or model_name
                usage = self._usage(obj.get("usage"))
                for choice in obj.get("choices") or []:
                    delta = choice.get("delta") or {}
                    for frag in delta.get("tool_calls") or []:
                        slot = pending.setdefault(
                            int(frag.get("index", 0)), {"id": "", "name": "", "args": []}
                        )
                        if frag.get("id"):
                            slot["id"] = frag["id"]
                        fn = frag.get("function") or {}
                        if fn.get("name"):
                            slot["name"] += fn["name"]
                        if fn.get("arguments"):
                            slot["args"].append(fn["arguments"])
                    if choice.get("finish_reason"):
                        finish = _FINISH.get(choice["finish_reason"], choice["finish_reason"])
                    if delta.get("content"):
                        yield ChatChunk(delta=delta["content"], model=model_name)
                if usage is not None:  # with include_usage, the last chunk before [DONE] has no choices
                    yield ChatChunk(usage=usage, model=model_name)
        calls = [
            ToolCall(s["id"], s["name"], self._tool_args("".join(s["args"])))
            for _, s in sorted(pending.items())
        ]
        yield ChatChunk(
            tool_calls=calls, finish_reason=finish or ("tool_calls" if calls else "stop"), model=model_name
        )

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        m = self._model(model)
        data = await self._json("POST", "embeddings", json_body={"model": m, "input": list(texts)})
        rows = sorted(data.get("data") or [], key=lambda r: r.get("index", 0))
        if len(rows) != len(texts):
            raise self._error("protocol_error", f"{len(rows)} embeddings for {len(texts)} inputs")
        usage = data.get("usage") or {}
        return Embeddings(
            model=data.get("model") or m,
            vectors=[r["embedding"] for r in rows],
            usage=Usage(int(usage.get("prompt_tokens") or 0), 0) if usage else None,
        )

    async def list_models(self) -> list[ModelInfo]:
        data = await self._json("GET", "models")
        return [
            ModelInfo(m["id"], self.kind, {k: v for k, v in m.items() if k not in ("id", "object")})
            for m in data.get("data") or []
        ]
