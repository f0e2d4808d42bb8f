"""Anthropic Messages API: ``POST /v1/messages`` (JSON or SSE with typed events), ``GET /v1/models``.
Anthropic has no embeddings endpoint: :meth:`AnthropicProvider.embed` raises ``unsupported``.
``base_url`` is the host root: ``https://api.anthropic.com``."""

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
    Tool,
    ToolCall,
    Usage,
)

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024  # Anthropic requires max_tokens on every request
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def to_wire(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """System text (top-level in this API) and the user/assistant turns. Tool results are user turns
    holding ``tool_result`` blocks; consecutive ones are merged into one turn as the API requires."""
    system = [m.content for m in messages if m.role == "system"]
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        if m.role == "assistant" and m.tool_calls:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [
                {"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments}
                for tc in m.tool_calls
            ]
            out.append({"role": "assistant", "content": blocks})
            continue
        out.append({"role": m.role, "content": m.content})
    return ("\n\n".join(system) if system else None), out


def to_wire_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]


class AnthropicProvider(HTTPProvider):
    kind = "anthropic"

    def __init__(
        self, base_url: str = "https://api.anthropic.com", api_key: str | None = None, **kw: Any
    ) -> None:
        super().__init__(base_url, api_key, **kw)

    def _auth_headers(self) -> dict[str, str]:
        h = {"anthropic-version": API_VERSION}
        if self._key:
            h["x-api-key"] = self._key.reveal()
        return h

    def _body(self, messages, model, tools, temperature, max_tokens, stream) -> dict[str, Any]:
        system, wire = to_wire(messages)
        body: dict[str, Any] = {
            "model": self._model(model),
            "messages": wire,
            "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            body["system"] = system
        if tools:
            body["tools"] = to_wire_tools(tools)
        if temperature is not None:
            body["temperature"] = temperature
        if stream:
            body["stream"] = True
        return body

    async def chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> ChatResponse:
        data = await self._json(
            "POST",
            "v1/messages",
            json_body=self._body(messages, model, tools, temperature, max_tokens, False),
        )
        text, calls = [], []
        for block in data.get("content") or []:
            if block.get("type") == "text":
                text.append(block.get("text", ""))
            elif block.get("type") == "tool_use":
                calls.append(ToolCall(block["id"], block["name"], self._tool_args(block.get("input"))))
        u = data.get("usage") or {}
        sr = data.get("stop_reason")
        return ChatResponse(
            model=data.get("model") or self._model(model),
            content="".join(text),
            tool_calls=calls,
            finish_reason=_FINISH.get(sr, sr),
            usage=Usage(int(u.get("input_tokens") or 0), int(u.get("output_tokens") or 0)) if u else None,
        )

    async def stream_chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> AsyncIterator[ChatChunk]:
        resp = await self._send(
            "POST",
            "v1/messages",
            json_body=self._body(messages, model, tools, temperature, max_tokens, True),
            stream=True,
        )
        blocks: dict[int, dict[str, Any]] = {}  # tool_use blocks being assembled, by content index
        calls: list[ToolCall] = []
        model_name: str | None = None
        input_tokens = output_tokens = 0
        finish: str | None = None
        async with contextlib.aclosing(self._sse(resp)) as stream:  # closed on break, return or error
            async for event, data in stream:
                obj = self._loads(data, f"{event} event")
                kind = obj.get("type", event)
                if kind == "message_start":
                    msg = obj.get("message") or {}
                    model_name = msg.get("model")
                    input_tokens = int((msg.get("usage") or {}).get("input_tokens") or 0)
                elif kind == "content_block_start":
                    cb = obj.get("content_block") or {}
                    if cb.get("type") == "tool_use":
                        blocks[obj["index"]] = {"id": cb["id"], "name": cb["name"], "json": []}
                    elif cb.get("type") == "text" and cb.get("text"):
                        yield ChatChunk(delta=cb["text"], model=model_name)
                elif kind == "content_block_delta":
                    d = obj.get("delta") or {}
                    if d.get("type") == "text_delta":
                        yield ChatChunk(delta=d.get("text", ""), model=model_name)
                    elif d.get("type") == "input_json_delta" and obj.get("index") in blocks:
                        blocks[obj["index"]]["json"].append(d.get("partial_json", ""))
                elif kind == "content_block_stop":
                    b = blocks.pop(obj.get("index"), None)
                    if b is not None:
                        calls.append(ToolCall(b["id"], b["name"], self._tool_args("".join(b["json"]))))
                elif kind == "message_delta":
                    sr = (obj.get("delta") or {}).get("stop_reason")
                    finish = _FINISH.get(sr, sr) if sr else finish
                    output_tokens = int((obj.get("usage") or {}).get("output_tokens") or output_tokens)
                elif kind == "message_stop":
                    break
                elif kind == "error":
                    err = obj.get("error") or {}
                    code = "rate_limited" if err.get("type") == "rate_limit_error" else "upstream_error"
                    raise self._error(code, f"stream error: {err.get('message')} [{err.get('type')}]")
                # "ping" and unknown event types are ignored, as the API asks
        yield ChatChunk(
            tool_calls=calls,
            finish_reason=finish,
            usage=Usage(input_tokens, output_tokens),
            model=model_name,
        )

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        raise self._error("unsupported", "the Anthropic API has no embeddings endpoint")

    async def list_models(self) -> list[ModelInfo]:
        out: list[ModelInfo] = []
        params: dict[str, str] = {"limit": "100"}
        for _ in range(50):  # paginated; bounded
            data = await self._json("GET", "v1/models", params=params)
            out += [
                ModelInfo(m["id"], self.kind, {k: v for k, v in m.items() if k not in ("id", "type")})
                for m in data.get("data") or []
            ]
            if not data.get("has_more") or not data.get("last_id"):
                break
            params = {"limit": "100", "after_id": data["last_id"]}
        return out
