"""Runs one catalog agent: the AI layer's chat providers with tool dispatch, from the execution-scoped
``platform_runtime`` snapshot the backend sends (the engine owns no platform table).

- The model: ``platform_runtime.capabilities.llm_inference`` (provider family, endpoint, default
  resource); with no such binding, or an embedded local chat family, the offline
  :class:`~ridgeline.ai.providers.ExtractiveProvider` answers from the context it is given.
- Tools: each of the agent's ``tool_refs`` the backend resolved from the registry; ``mcp`` tools are
  called over the MCP protocol (the official ``mcp`` SDK client, Streamable HTTP) at the
  ``mcp_runtime`` binding's endpoint, ``sandbox_http`` tools are sent to the ``sandbox_execution``
  binding's endpoint. The engine never runs user code itself.
- Offline is fail-closed: with ``runtime_profile == "offline"`` a cloud llm binding is refused
  (``offline_provider_blocked``) and ``online_only`` tools are not called.

The snapshot is read tolerantly: a capability binding may carry its provider as ``provider`` (with
``provider_key`` / ``family`` / ``provider_family``, ``provider_origin``, ``endpoint_url`` /
``base_url`` / ``url`` and, for dispatch only, ``api_key``), or those keys on the binding itself; the
model is ``default_resource.runtime_model_id`` / ``provider_model_id`` / ``id`` or
``default_resource_id``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from ridgeline.ai.providers import (
    ChatResponse,
    ExtractiveProvider,
    Message,
    Provider,
    ProviderError,
    Tool,
    ToolCall,
    create_provider,
)
from ridgeline.platform.problems import EngineError

MAX_OUTPUT_CHARS = 20_000
EMBEDDED_CHAT_FAMILIES = ("extractive", "embedded", "offline_chat", "local_extractive")


class ToolSpec(msgspec.Struct, kw_only=True):
    id: str
    name: str = ""
    description: str = ""
    transport: str
    connection_profile_ref: str = "default"
    tool_name: str | None = None
    input_schema: dict[str, Any] = {}
    online_only: bool = False
    status: str = "active"


class AgentSpec(msgspec.Struct, kw_only=True):
    id: str
    version: int = 1
    name: str = ""
    instructions: str = ""
    model_ref: str | None = None
    tool_refs: list[str] = []
    max_tool_steps: int = msgspec.field(default=4)
    status: str = "active"


class HistoryTurn(msgspec.Struct, kw_only=True):
    role: str
    content: str


class ExecutionInput(msgspec.Struct, kw_only=True):
    message: str
    context: list[str] = []
    history: list[HistoryTurn] = []


class ExecutionRequest(msgspec.Struct, kw_only=True):
    agent: AgentSpec
    input: ExecutionInput
    tools: list[ToolSpec] = []
    platform_runtime: dict[str, Any] = {}
    requested_by: str | None = None


def _first(d: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = d.get(k)
        if v not in (None, ""):
            return v
    return None


class Binding:
    """One capability binding of the snapshot, read tolerantly (see the module doc)."""

    def __init__(self, raw: Mapping[str, Any] | None) -> None:
        raw = raw or {}
        provider = raw.get("provider") if isinstance(raw.get("provider"), Mapping) else {}
        both = {**raw, **provider}
        self.present = bool(raw)
        self.family = str(_first(both, "provider_key", "family", "provider_family", "provider_type") or "")
        self.origin = str(_first(both, "provider_origin", "origin") or "local")
        self.endpoint = _first(both, "endpoint_url", "base_url", "url")
        secrets = provider.get("secrets") if isinstance(provider.get("secrets"), Mapping) else {}
        self.api_key = _first(both, "api_key") or _first(secrets, "api_key")
        self.provider_id = _first(provider, "id") or _first(raw, "provider_id", "provider_instance_id")
        res = raw.get("default_resource") if isinstance(raw.get("default_resource"), Mapping) else {}
        self.model = _first(res, "runtime_model_id", "provider_model_id", "id") or _first(
            raw, "default_resource_id"
        )

    def describe(self) -> dict[str, Any]:
        return {
            "provider_family": self.family or None,
            "provider_origin": self.origin,
            "provider_id": self.provider_id,
        }


def capabilities(snapshot: Mapping[str, Any]) -> Mapping[str, Any]:
    caps = snapshot.get("capabilities")
    return caps if isinstance(caps, Mapping) else {}


def is_offline(snapshot: Mapping[str, Any]) -> bool:
    profile = snapshot.get("runtime_mode") or snapshot.get("runtime_profile")  # the control plane's key first
    if isinstance(profile, Mapping):
        profile = profile.get("mode") or profile.get("profile")
    return str(profile or "").lower() == "offline"


def build_provider(
    snapshot: Mapping[str, Any], context: Sequence[str]
) -> tuple[Provider, str | None, Binding]:
    llm = Binding(capabilities(snapshot).get("llm_inference"))
    if is_offline(snapshot) and llm.origin == "cloud":
        raise EngineError(
            409,
            "offline_provider_blocked",
            "The runtime profile is offline and the llm_inference binding is a cloud provider.",
            capability="llm_inference",
        )
    family = llm.family.lower()
    if not llm.present or not llm.endpoint or any(f in family for f in EMBEDDED_CHAT_FAMILIES):
        return ExtractiveProvider(context), None, llm
    kind = next((k for k in ("anthropic", "gemini", "ollama") if k in family), "openai_compatible")
    endpoint = str(llm.endpoint).rstrip("/")
    if kind == "openai_compatible" and not endpoint.endswith("/v1"):
        endpoint += "/v1"
    options: dict[str, Any] = {"base_url": endpoint, "default_model": llm.model, "timeout": 60.0}
    if llm.api_key:
        options["api_key"] = str(llm.api_key)
    return create_provider(kind, **options), llm.model, llm


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + " [truncated]"


async def call_mcp(
    endpoint: str, tool_name: str, arguments: dict[str, Any], timeout_s: float
) -> dict[str, Any]:
    """One ``tools/call`` over MCP Streamable HTTP (the official SDK's client)."""
    from urllib.parse import urlsplit

    from mcp import Client

    if urlsplit(endpoint).path in ("", "/"):  # a gateway base URL: the SDK's default endpoint path
        endpoint = endpoint.rstrip("/") + "/mcp"
    async with Client(endpoint, read_timeout_seconds=timeout_s) as client:
        result = await client.call_tool(tool_name, arguments)
    texts = [getattr(c, "text", "") for c in result.content if getattr(c, "type", None) == "text"]
    return {
        "ok": not result.is_error,
        "output": _clip("\n".join(texts)),
        "structured": result.structured_content,
    }


async def call_sandbox(endpoint: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """``POST {endpoint}/v1/executions`` on the sandbox runtime (the protocol the control plane's
    dry-run validation speaks: ``ridgeline.genai.providers.SANDBOX_EXECUTE_PATH``); the code runs
    there, never here."""
    import httpx

    from ridgeline.genai.providers import SANDBOX_EXECUTE_PATH

    code = arguments.get("code")
    if not isinstance(code, str):
        return {"ok": False, "error": "python_exec needs a string argument 'code'"}
    async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
        resp = await client.post(
            endpoint.rstrip("/") + SANDBOX_EXECUTE_PATH,
            json={"language": "python", "code": code, "dry_run": False, "timeout_s": timeout_s},
        )
    if resp.status_code >= 400:
        return {"ok": False, "error": f"sandbox answered HTTP {resp.status_code}"}
    body = resp.json()
    exit_code = body.get("exit_code", 0)
    out = str(body.get("stdout", ""))
    err = str(body.get("stderr", ""))
    return {
        "ok": exit_code == 0,
        "output": _clip(out + (f"\n[stderr]\n{err}" if err else "")),
        "exit_code": exit_code,
    }


class Executor:
    def __init__(self, *, tool_timeout_s: float = 30.0) -> None:
        self.tool_timeout_s = tool_timeout_s

    async def dispatch(self, tool: ToolSpec, call: ToolCall, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        trace: dict[str, Any] = {
            "call_id": call.id,
            "tool_id": tool.id,
            "tool_name": call.name,
            "transport": tool.transport,
            "arguments": call.arguments,
        }
        if tool.online_only and is_offline(snapshot):
            return {**trace, "ok": False, "error": "offline_provider_blocked: the tool is online only"}
        capability = "mcp_runtime" if tool.transport == "mcp" else "sandbox_execution"
        binding = Binding(capabilities(snapshot).get(capability))
        if not binding.endpoint:
            return {**trace, "ok": False, "error": f"no {capability} binding in the platform runtime"}
        if is_offline(snapshot) and binding.origin == "cloud":
            return {
                **trace,
                "ok": False,
                "error": f"offline_provider_blocked: the {capability} provider is cloud",
            }
        try:
            if tool.transport == "mcp":
                result = await call_mcp(
                    str(binding.endpoint), tool.tool_name or call.name, call.arguments, self.tool_timeout_s
                )
            else:
                result = await call_sandbox(str(binding.endpoint), call.arguments, self.tool_timeout_s)
        except Exception as exc:  # a tool failure is reported to the model and in the trace, not raised
            result = {"ok": False, "error": f"{capability} call failed: {type(exc).__name__}: {exc}"[:500]}
        return {**trace, **result}

    async def run(self, request: ExecutionRequest) -> dict[str, Any]:
        """The execution's outcome: ``status`` succeeded | failed, ``output``, ``tool_calls`` trace."""
        started = time.perf_counter()
        agent, snapshot = request.agent, request.platform_runtime
        if agent.status != "active":
            raise EngineError(409, "agent_inactive", f"Agent {agent.id!r} is not active.", id=agent.id)
        provider, model, llm = build_provider(snapshot, request.input.context)
        tools_by_name: dict[str, ToolSpec] = {}
        for t in request.tools:
            if t.id in agent.tool_refs and t.status == "active":
                tools_by_name[t.tool_name or t.id.replace(".", "_")] = t
        llm_tools = [
            Tool(
                name=name,
                description=t.description,
                parameters=t.input_schema or {"type": "object", "properties": {}},
            )
            for name, t in tools_by_name.items()
        ]
        system = agent.instructions
        if request.input.context:
            passages = "\n\n".join(f"[{i + 1}] {p}" for i, p in enumerate(request.input.context))
            system = f"{system}\n\nContext:\n{passages}" if system else f"Context:\n{passages}"
        messages: list[Message] = [Message("system", system)] if system else []
        messages += [
            Message(h.role, h.content) for h in request.input.history if h.role in ("user", "assistant")
        ]  # type: ignore[arg-type]
        messages.append(Message("user", request.input.message))
        trace: list[dict[str, Any]] = []
        response: ChatResponse | None = None
        error: dict[str, Any] | None = None
        try:
            for step in range(agent.max_tool_steps + 1):
                can_call = step < agent.max_tool_steps and bool(llm_tools)
                response = await provider.chat(messages, model=model, tools=llm_tools if can_call else None)
                if not (response.tool_calls and can_call):
                    break
                messages.append(Message("assistant", response.content, tool_calls=response.tool_calls))
                for call in response.tool_calls:
                    tool = tools_by_name.get(call.name)
                    if tool is None:
                        entry = {
                            "call_id": call.id,
                            "tool_name": call.name,
                            "ok": False,
                            "error": "unknown tool",
                        }
                    else:
                        entry = await self.dispatch(tool, call, snapshot)
                    entry["step"] = step
                    trace.append(entry)
                    content = (
                        entry.get("output")
                        if entry.get("ok")
                        else f"error: {entry.get('error', 'tool failed')}"
                    )
                    messages.append(Message("tool", str(content or ""), tool_call_id=call.id, name=call.name))
        except ProviderError as exc:
            error = {"reason_code": f"provider_{exc.reason_code}", "message": str(exc)[:500]}
        finally:
            await provider.aclose()
        output = None
        if response is not None and error is None:
            output = {
                "content": response.content,
                "model": response.model,
                "finish_reason": response.finish_reason,
                "usage": msgspec.to_builtins(response.usage) if response.usage else None,
                "metadata": json.loads(json.dumps(response.metadata, default=str)),
            }
        return {
            "status": "failed" if error else "succeeded",
            "output": output,
            "error": error,
            "tool_calls": trace,
            "runtime": {
                "llm_inference": llm.describe(),
                "model": model or (response.model if response else None),
            },
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
