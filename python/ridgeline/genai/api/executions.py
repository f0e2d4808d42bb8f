"""Agent executions: ``POST /v1/agent-executions`` and ``GET /v1/agent-executions/{id}`` (contract
004; the seed names no role, so any signed-in user; an execution is visible to whoever requested it
and to superadmins, 404 to anyone else).

The backend never runs an agent itself. It resolves the agent and its tools from the registry
(current versions), takes the execution-scoped ``platform_runtime`` snapshot of the active bindings,
and forwards the lot to the agent engine at ``AGENT_ENGINE_URL`` (``POST
/v1/internal/agent-executions``, ``GET /v1/internal/agent-executions/{id}``) with ``X-Service-Token``
= ``AGENT_ENGINE_SERVICE_TOKEN`` and ``X-Request-Id`` = this request's id.

- ``AGENT_EXECUTION_VIA_ENGINE=false``: 503 ``EXEC_ENGINE_DISABLED`` (there is no local execution).
- Engine transport failures (refused, reset, timed out): with ``AGENT_EXECUTION_FALLBACK=true`` (the
  default) a deterministic 503 ``EXEC_UPSTREAM_UNAVAILABLE`` with ``Retry-After``; with ``false`` a
  503 ``EXEC_UPSTREAM_ERROR`` naming the failure.
- Engine answers: 201/200 relayed; 404 -> ``execution_not_found``; 409 relayed with its reason code
  (``agent_inactive``, ``offline_provider_blocked``); anything else (a wrong token, a 5xx, a body that is
  not JSON) -> 503 ``EXEC_UPSTREAM_ERROR`` with ``upstream_status``.

The snapshot comes from ``ctx.state["genai.platform_runtime_snapshot"]`` when set (an
``async (svc) -> dict``, for tests and for the integrator), else from
``ridgeline.genai.runtime.platform_runtime_snapshot`` when that module exists, else an empty snapshot
(the engine then answers with its offline extractive provider).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody, PathParameter

from ridgeline.genai.api.catalog_store import caller, catalog_of
from ridgeline.genai.api.policy import enforce
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.observability import current_request_id
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.platform.settings import load_env_struct

SNAPSHOT_KEY = "genai.platform_runtime_snapshot"
SETTINGS_KEY = "genai.execution_settings"
SnapshotFn = Callable[[Any], Awaitable[dict[str, Any]]]


class ExecutionSettings(msgspec.Struct, frozen=True):
    """Read from the unprefixed variables the contract names (``AGENT_ENGINE_URL``, ...)."""

    agent_engine_url: str = "http://127.0.0.1:8100"
    agent_engine_service_token: str = ""
    agent_execution_via_engine: bool = True
    agent_execution_fallback: bool = True
    agent_engine_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 120.0


class HistoryTurn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(pattern="^(user|assistant)$")]
    content: Annotated[str, msgspec.Meta(max_length=20000)]


class ExecutionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    context: Annotated[list[Annotated[str, msgspec.Meta(max_length=20000)]], msgspec.Meta(max_length=50)] = []
    history: Annotated[list[HistoryTurn], msgspec.Meta(max_length=50)] = []


class ExecutionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    input: ExecutionInput


class Execution(msgspec.Struct, kw_only=True):
    id: str
    agent_id: str
    agent_version: int
    status: str
    requested_by: str | None = None
    request_id: str | None = None
    input: dict[str, Any] = {}
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = []
    runtime: dict[str, Any] = {}
    duration_ms: float | None = None
    created_at: str
    completed_at: str | None = None


def execution_settings(svc: GenaiService) -> ExecutionSettings:
    state = svc.ctx.state
    got = state.get(SETTINGS_KEY)
    if got is None:
        got = state[SETTINGS_KEY] = load_env_struct(ExecutionSettings, "")
    return got


async def _control_plane_snapshot(svc: Any) -> dict[str, Any]:
    """The active bindings' snapshot, with the providers' secrets opened: this goes only to the agent
    engine over the service-token call (dispatch is one of the three places secrets are resolved)."""
    from ridgeline.genai.runtime import platform_runtime_snapshot

    return await platform_runtime_snapshot(svc, include_secrets=True)


def snapshot_function(svc: GenaiService) -> SnapshotFn:
    override = svc.ctx.state.get(SNAPSHOT_KEY)
    return override if override is not None else _control_plane_snapshot


def _unavailable(settings: ExecutionSettings, exc: Exception) -> RidgelineError:
    if settings.agent_execution_fallback:
        return RidgelineError(
            503,
            "EXEC_UPSTREAM_UNAVAILABLE",
            "The agent engine is unavailable; the backend does not run agents itself.",
            headers={"Retry-After": "5"},
        )
    return RidgelineError(
        503,
        "EXEC_UPSTREAM_ERROR",
        f"The agent engine could not be reached: {type(exc).__name__}",
        cause=type(exc).__name__,
    )


async def _engine(
    svc: GenaiService, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    import httpx

    settings = execution_settings(svc)
    if not settings.agent_execution_via_engine:
        raise RidgelineError(
            503,
            "EXEC_ENGINE_DISABLED",
            "Agent execution through the engine is disabled (AGENT_EXECUTION_VIA_ENGINE).",
        )
    headers = {
        "X-Service-Token": settings.agent_engine_service_token,
        "X-Request-Id": current_request_id() or "",
    }
    url = settings.agent_engine_url.rstrip("/") + path
    try:
        async with httpx.AsyncClient(timeout=settings.agent_engine_timeout_s, trust_env=False) as client:
            resp = await client.request(method, url, json=body, headers=headers)
    except httpx.TransportError as exc:
        raise _unavailable(settings, exc) from None
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise RidgelineError(
            503,
            "EXEC_UPSTREAM_ERROR",
            "The agent engine answered with a body that is not a JSON object.",
            upstream_status=resp.status_code,
        )
    return resp.status_code, payload


def _relay_error(status: int, payload: dict[str, Any], execution_id: str | None = None) -> RidgelineError:
    code = str(payload.get("reason_code") or "")
    if status == 404 and execution_id is not None:
        return NotFound(
            "execution", execution_id, message=f"No agent execution {execution_id!r}.", id=execution_id
        )
    if status == 409 and code:
        return RidgelineError(409, code, str(payload.get("detail") or code))
    return RidgelineError(
        503,
        "EXEC_UPSTREAM_ERROR",
        f"The agent engine refused or failed the request (HTTP {status}{', ' + code if code else ''}).",
        upstream_status=status,
        upstream_reason_code=code or None,
    )


@post(
    "/v1/agent-executions",
    status_code=201,
    opt={**raises(403, 404, 409), **Policy.bearer().opt()},
    tags=["executions"],
)
async def create_execution(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[ExecutionCreate]
) -> Execution:
    user_id, _ = caller(request)
    settings = execution_settings(svc)
    if not settings.agent_execution_via_engine:
        raise RidgelineError(
            503,
            "EXEC_ENGINE_DISABLED",
            "Agent execution through the engine is disabled (AGENT_EXECUTION_VIA_ENGINE).",
        )
    store = await catalog_of(svc)
    agent = await store.get("agent", data.agent_id)
    if agent is None:
        raise NotFound(
            "catalog_agent", data.agent_id, message=f"No agent {data.agent_id!r}.", id=data.agent_id
        )
    if agent.spec.get("status", "active") != "active":
        raise RidgelineError(
            409, "agent_inactive", f"Agent {data.agent_id!r} is not active.", id=data.agent_id
        )
    # policy rules: agent.execute on the agent, then tool.use on each tool it may call
    await enforce(svc.ctx, request, "agent.execute", data.agent_id,
                  {"agent_classification": agent.spec.get("classification"), "agent_version": agent.version})  # fmt: skip
    tools = []
    for ref in agent.spec.get("tool_refs") or []:
        tool = await store.get("tool", ref)
        if tool is not None:
            await enforce(svc.ctx, request, "tool.use", ref,
                          {"agent_id": data.agent_id, "transport": tool.spec.get("transport")})  # fmt: skip
            tools.append(tool.typed())
    snapshot = await snapshot_function(svc)(svc)
    body = {
        "agent": agent.typed(),
        "tools": tools,
        "input": msgspec.to_builtins(data.input),
        "requested_by": user_id,
        "platform_runtime": snapshot,
    }
    status, payload = await _engine(svc, "POST", "/v1/internal/agent-executions", body)
    if status not in (200, 201):
        raise _relay_error(status, payload)
    try:
        return msgspec.convert(payload, Execution)
    except msgspec.ValidationError as exc:
        raise RidgelineError(
            503,
            "EXEC_UPSTREAM_ERROR",
            f"The agent engine answered with an invalid record: {exc}",
            upstream_status=status,
        ) from None


@get("/v1/agent-executions/{execution_id:str}", opt=Policy.bearer().opt(), tags=["executions"])
async def get_execution(
    svc: Service[GenaiService],
    request: Request[Any, Any, Any],
    execution_id: Annotated[str, PathParameter(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")],
) -> Execution:
    user_id, is_super = caller(request)
    status, payload = await _engine(svc, "GET", f"/v1/internal/agent-executions/{execution_id}")
    if status != 200:
        raise _relay_error(status, payload, execution_id)
    if not is_super and payload.get("requested_by") != user_id:  # others' executions do not exist for you
        raise NotFound(
            "execution", execution_id, message=f"No agent execution {execution_id!r}.", id=execution_id
        )
    try:
        return msgspec.convert(payload, Execution)
    except msgspec.ValidationError as exc:
        raise RidgelineError(
            503,
            "EXEC_UPSTREAM_ERROR",
            f"The agent engine answered with an invalid record: {exc}",
            upstream_status=status,
        ) from None


ROUTES = [create_execution, get_execution]
