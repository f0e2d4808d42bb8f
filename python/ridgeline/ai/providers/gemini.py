"""Google Gemini API: ``models/{m}:generateContent``, ``:streamGenerateContent?alt=sse``,
``:embedContent`` / ``:batchEmbedContents`` and ``GET models``. The key goes in the
``x-goog-api-key`` header, never in the URL (URLs end up in logs). ``base_url`` includes the version:
``https://generativelanguage.googleapis.com/v1beta``."""

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

_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter"}


def _model_path(model: str) -> str:
    return model if model.startswith("models/") else f"models/{model}"


def to_wire(messages: Sequence[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``systemInstruction`` and ``contents``. Gemini's function calls carry no id of their own: a
    ``tool`` message answers by name (``Message.name``, else the name of the call it answers)."""
    system = [m.content for m in messages if m.role == "system"]
    names = {tc.id: tc.name for m in messages for tc in m.tool_calls}
    contents: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "", "")
            part = {"functionResponse": {"name": name, "response": {"content": m.content}}}
            if contents and contents[-1]["role"] == "user" and "functionResponse" in contents[-1]["parts"][0]:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
            continue
        parts: list[dict[str, Any]] = [{"text": m.content}] if m.content else []
        parts += [{"functionCall": {"name": tc.name, "args": tc.arguments}} for tc in m.tool_calls]
        contents.append(
            {"role": "model" if m.role == "assistant" else "user", "parts": parts or [{"text": ""}]}
        )
    sys_instr = {"parts": [{"text": "\n\n".join(system)}]} if system else None
    return sys_instr, contents


def to_wire_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [
        {
            "functionDeclarations": [
                {"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools
            ]
        }
    ]


class GeminiProvider(HTTPProvider):
    kind = "gemini"

    def __init__(
        self,
        base_url: str = "https://generativelanguage.googleapis.com/v1beta",
        api_key: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(base_url, api_key, **kw)

    def _auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self._key.reveal()} if self._key else {}

    def _body(self, messages, tools, temperature, max_tokens) -> dict[str, Any]:
        sys_instr, contents = to_wire(messages)
        body: dict[str, Any] = {"contents": contents}
        if sys_instr:
            body["systemInstruction"] = sys_instr
        if tools:
            body["tools"] = to_wire_tools(tools)
        gen: dict[str, Any] = {}
        if temperature is not None:
            gen["temperature"] = temperature
        if max_tokens is not None:
            gen["maxOutputTokens"] = max_tokens
        if gen:
            body["generationConfig"] = gen
        return body

    def _parse(
        self, obj: dict[str, Any], n_calls: int
    ) -> tuple[str, list[ToolCall], str | None, Usage | None]:
        if "error" in obj:
            err = obj["error"]
            raise self._error("upstream_error", f"{err.get('message')} [{err.get('status')}]")
        text, calls = [], []
        finish = None
        for cand in (obj.get("candidates") or [])[:1]:
            for part in (cand.get("content") or {}).get("parts") or []:
                if "text" in part and not part.get("thought"):
                    text.append(part["text"])
                elif "functionCall" in part:
                    fc = part["functionCall"]
                    cid = fc.get("id") or f"call_{n_calls + len(calls)}"
                    calls.append(ToolCall(cid, fc["name"], self._tool_args(fc.get("args"))))
            fr = cand.get("finishReason")
            finish = _FINISH.get(fr, fr.lower() if isinstance(fr, str) else fr)
        um = obj.get("usageMetadata")
        usage = (
            Usage(int(um.get("promptTokenCount") or 0), int(um.get("candidatesTokenCount") or 0))
            if um
            else None
        )
        return "".join(text), calls, finish, usage

    async def chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> ChatResponse:
        m = self._model(model)
        data = await self._json(
            "POST",
            f"{_model_path(m)}:generateContent",
            json_body=self._body(messages, tools, temperature, max_tokens),
        )
        text, calls, finish, usage = self._parse(data, 0)
        if calls and finish == "stop":
            finish = "tool_calls"  # Gemini says STOP after a function call
        return ChatResponse(data.get("modelVersion") or m, text, calls, finish, usage)

    async def stream_chat(
        self, messages, *, model=None, tools=None, temperature=None, max_tokens=None
    ) -> AsyncIterator[ChatChunk]:
        m = self._model(model)
        resp = await self._send(
            "POST",
            f"{_model_path(m)}:streamGenerateContent",
            params={"alt": "sse"},
            json_body=self._body(messages, tools, temperature, max_tokens),
            stream=True,
        )
        calls: list[ToolCall] = []
        finish: str | None = None
        usage: Usage | None = None
        model_name = m
        async with contextlib.aclosing(self._sse(resp)) as stream:  # closed on break, return or error
            async for _event, data in stream:
                obj = self._loads(data, "stream chunk")
                model_name = obj.get("modelVersion") or model_name
                text, new_calls, fr, u = self._parse(obj, len(calls))
                calls += new_calls
                finish = fr or finish
                usage = u or usage
                if text:
                    yield ChatChunk(delta=text, model=model_name)
        if calls and finish == "stop":
            finish = "tool_calls"
        yield ChatChunk(tool_calls=calls, finish_reason=finish, usage=usage, model=model_name)

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        m = _model_path(self._model(model))
        if len(texts) == 1:
            data = await self._json(
                "POST", f"{m}:embedContent", json_body={"content": {"parts": [{"text": texts[0]}]}}
            )
            vectors = [data["embedding"]["values"]]
        else:
            body = {"requests": [{"model": m, "content": {"parts": [{"text": t}]}} for t in texts]}
            data = await self._json("POST", f"{m}:batchEmbedContents", json_body=body)
            vectors = [e["values"] for e in data.get("embeddings") or []]
        if len(vectors) != len(texts):
            raise self._error("protocol_error", f"{len(vectors)} embeddings for {len(texts)} inputs")
        return Embeddings(model=m.removeprefix("models/"), vectors=vectors)

    async def list_models(self) -> list[ModelInfo]:
        out: list[ModelInfo] = []
        params: dict[str, str] = {"pageSize": "1000"}
        for _ in range(50):  # paginated; bounded
            data = await self._json("GET", "models", params=params)
            out += [
                ModelInfo(
                    m["name"].removeprefix("models/"), self.kind, {k: v for k, v in m.items() if k != "name"}
                )
                for m in data.get("models") or []
            ]
            if not data.get("nextPageToken"):
                break
            params = {"pageSize": "1000", "pageToken": data["nextPageToken"]}
        return out
