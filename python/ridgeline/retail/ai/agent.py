"""The agents' tool-calling loop (engine: no database, no HTTP; the tools are callables).

Two ways to choose tools, always labelled in the result:

- ``model``: a configured chat provider (OpenAI-compatible, Anthropic, Gemini, Ollama) gets the
  tools' JSON schemas and decides which to call, round after round, until it answers in text or the
  tool-call budget is spent. Text deltas are forwarded as the provider streams them.
- ``deterministic``: the offline provider is extractive, not a language model, and never calls
  tools; the agent's ``selector`` picks the calls from the request instead (keywords and ids in the
  message), runs them, and the answer is written from their results by ``summarize``.

A tool named in ``require_approval`` is not run: the turn stops with ``pending`` (the call, and
any calls after it in the same round) and an ``approval_required`` event; :meth:`Agent.resume`
continues once a human approved or rejected it. Events go to ``emit(event_type, data)``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from ridgeline.ai import count_tokens
from ridgeline.ai.providers import Message, Provider, Tool, ToolCall

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]
OFFLINE_LABEL = (
    "[offline: no language model is configured, so the tools were chosen deterministically from "
    "your message and this answer is assembled from their results]"
)


@dataclass
class AgentTool:
    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[[dict[str, Any]], Awaitable[Any]]
    # What the model (or the extractive responder) reads back; default: the result as JSON.
    render: Callable[[Any], str] | None = None

    def spec(self) -> Tool:
        return Tool(self.name, self.description, self.parameters)


@dataclass
class CallRecord:
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    result: Any = None
    duration_ms: float | None = None
    status: str = "ok"


@dataclass
class TurnResult:
    text: str
    calls: list[CallRecord]
    tokens_used: int
    pending: dict[str, Any] | None
    tool_selection: str
    messages: list[Message] = field(default_factory=list)  # the full history after the turn


def _now() -> str:
    return datetime.now(UTC).isoformat()


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def _chunks(text: str, size: int = 24) -> list[str]:
    """Text split into small pieces at spaces, for streaming a finished answer."""
    out, buf = [], ""
    for word in text.split(" "):
        buf = f"{buf} {word}" if buf else word
        if len(buf) >= size:
            out.append(buf + " ")
            buf = ""
    if buf:
        out.append(buf)
    if out:
        out[-1] = out[-1].rstrip(" ") if not text.endswith(" ") else out[-1]
    return out


class Agent:
    def __init__(
        self,
        provider: Provider,
        *,
        model: str,
        system_prompt: str,
        tools: Sequence[AgentTool],
        require_approval: Sequence[str] = (),
        max_tool_calls: int = 8,
        deterministic: bool,
        selector: Callable[[str], list[ToolCall]] | None = None,
        summarize: Callable[[str, list[CallRecord]], Awaitable[str]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.system_prompt = system_prompt
        self.tools = {t.name: t for t in tools}
        self.require_approval = set(require_approval)
        self.max_tool_calls = max_tool_calls
        self.deterministic = deterministic
        self.selector = selector
        self.summarize = summarize
        self.temperature = temperature
        self.max_tokens = max_tokens

    @property
    def tool_selection(self) -> str:
        return "deterministic" if self.deterministic else "model"

    # ------------------------------------------------------------------------------- public
    async def run(self, history: list[Message], user_message: str, emit: Emit) -> TurnResult:
        messages = [*history, Message("user", user_message)]
        state = _Turn(messages=messages, question=user_message)
        if self.deterministic:
            assert self.selector is not None
            calls = self.selector(user_message)[: max(self.max_tool_calls, 0)]
            return await self._deterministic(state, calls, emit)
        return await self._model_loop(state, emit)

    async def resume(
        self, history: list[Message], pending: dict[str, Any], approved: bool, reason: str | None, emit: Emit
    ) -> TurnResult:
        state = _Turn(messages=list(history), question=str(pending.get("question", "")))
        call = ToolCall(pending["tool_call_id"], pending["tool_name"], dict(pending.get("arguments") or {}))
        if approved:
            await self._execute(state, call, emit, approved=True)
        else:
            note = f"rejected by the user: {reason}" if reason else "rejected by the user"
            state.records.append(
                CallRecord(
                    call.id, call.name, call.arguments, {"rejected": True, "reason": reason}, 0.0, "rejected"
                )
            )
            state.messages.append(
                Message("tool", f"The call was not run: {note}.", tool_call_id=call.id, name=call.name)
            )
        remaining = [
            ToolCall(c["id"], c["name"], dict(c.get("arguments") or {}))
            for c in pending.get("remaining") or []
        ]
        if self.deterministic:
            return await self._deterministic(state, remaining, emit, appended=True)
        for c in remaining:
            if await self._execute(state, c, emit, remaining=remaining[remaining.index(c) + 1 :]):
                return self._paused(state)
        return await self._model_loop(state, emit)

    # ------------------------------------------------------------------------------- internals
    async def _execute(
        self,
        state: _Turn,
        call: ToolCall,
        emit: Emit,
        *,
        approved: bool = False,
        remaining: Sequence[ToolCall] = (),
    ) -> bool:
        """Run one call (events, history). True when it paused for approval instead."""
        if call.name in self.require_approval and not approved:
            state.pending = {
                "tool_call_id": call.id,
                "tool_name": call.name,
                "arguments": call.arguments,
                "requested_at": _now(),
                "question": state.question,
                "remaining": [msgspec.to_builtins(c) for c in remaining],
            }
            await emit(
                "approval_required",
                {
                    "tool_call_id": call.id,
                    "tool_name": call.name,
                    "arguments": call.arguments,
                    "message": f"{call.name} needs approval: POST .../approve with this tool_call_id",
                },
            )
            return True
        tool = self.tools.get(call.name)
        await emit(
            "tool_call_start", {"tool_name": call.name, "tool_call_id": call.id, "arguments": call.arguments}
        )
        t0 = time.perf_counter()
        status = "ok"
        try:
            if tool is None:
                raise LookupError(f"unknown tool {call.name!r}")
            result = await tool.fn(dict(call.arguments))
        except Exception as exc:  # a failed tool is reported to the model, not raised to the client
            status = "error"
            result = {"error": str(exc), "error_type": getattr(exc, "reason_code", type(exc).__name__)}
        duration = (time.perf_counter() - t0) * 1000
        state.records.append(CallRecord(call.id, call.name, call.arguments, result, duration, status))
        await emit(
            "tool_call_end",
            {"tool_name": call.name, "tool_call_id": call.id, "result": result, "duration_ms": duration},
        )
        rendered = (
            tool.render(result)
            if (tool is not None and tool.render and status == "ok")
            else json.dumps(result, default=str)
        )
        state.messages.append(Message("tool", rendered, tool_call_id=call.id, name=call.name))
        return False

    def _paused(self, state: _Turn) -> TurnResult:
        return TurnResult(
            text="",
            calls=state.records,
            tokens_used=state.tokens,
            pending=state.pending,
            tool_selection=self.tool_selection,
            messages=state.messages,
        )

    async def _deterministic(
        self, state: _Turn, calls: list[ToolCall], emit: Emit, *, appended: bool = False
    ) -> TurnResult:
        if calls and not appended:
            state.messages.append(Message("assistant", "", tool_calls=list(calls)))
        for i, call in enumerate(calls):
            if await self._execute(state, call, emit, remaining=calls[i + 1 :]):
                return self._paused(state)
        assert self.summarize is not None
        body = await self.summarize(state.question, state.records)
        text = f"{OFFLINE_LABEL}\n\n{body}"
        for piece in _chunks(text):
            await emit("text_delta", {"delta": piece})
        state.messages.append(Message("assistant", text))
        # No model ran: tokens are counted (cl100k_base) over what was read and written.
        state.tokens += count_tokens(state.question, encoding="cl100k_base") + count_tokens(
            text, encoding="cl100k_base"
        )
        return TurnResult(text, state.records, state.tokens, None, self.tool_selection, state.messages)

    async def _model_loop(self, state: _Turn, emit: Emit) -> TurnResult:
        tools = [t.spec() for t in self.tools.values()]
        system = Message("system", self.system_prompt)
        while True:
            budget_left = self.max_tool_calls - len(state.records)
            offered = tools if budget_left > 0 else None
            text_parts: list[str] = []
            calls: list[ToolCall] = []
            usage_seen = False
            async with aclosing(
                self.provider.stream_chat(
                    [system, *state.messages],
                    model=self.model,
                    tools=offered,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                )
            ) as stream:
                async for chunk in stream:
                    if chunk.delta:
                        text_parts.append(chunk.delta)
                        await emit("text_delta", {"delta": chunk.delta})
                    if chunk.tool_calls:
                        calls.extend(chunk.tool_calls)
                    if chunk.usage is not None:
                        usage_seen = True
                        state.tokens += chunk.usage.input_tokens + chunk.usage.output_tokens
            text = "".join(text_parts)
            if not usage_seen:  # the provider reported no usage: count what went each way
                prompt = "\n".join(m.content for m in [system, *state.messages])
                state.tokens += count_tokens(prompt, model=self.model) + count_tokens(text, model=self.model)
            if not calls:
                state.messages.append(Message("assistant", text))
                return TurnResult(
                    text, state.records, state.tokens, None, self.tool_selection, state.messages
                )
            calls = calls[: max(budget_left, 0)]
            state.messages.append(Message("assistant", text, tool_calls=calls))
            for i, call in enumerate(calls):
                if await self._execute(state, call, emit, remaining=calls[i + 1 :]):
                    return self._paused(state)


@dataclass
class _Turn:
    messages: list[Message]
    question: str
    records: list[CallRecord] = field(default_factory=list)
    pending: dict[str, Any] | None = None
    tokens: int = 0
