"""Provider families of the genai control plane and the checks behind provider validation.

A *family* is code: its capability, its fixed ``provider_origin`` (local or cloud; an instance cannot
change it, changing locality means choosing another family) and the adapter that talks to it. The
seed's families (contract 004) come first; the embedded families make the default deployment work
with no external service (the AI layer's local embeddings, its embedded vector index and its offline
extractive chat provider).

The checks talk to the provider for real: OpenAI-compatible ``GET /v1/models``, Weaviate
``/v1/.well-known/ready``, Qdrant ``/readyz``, an MCP gateway through the official ``mcp`` client
(initialize + ``tools/list``), a sandbox through a dry-run execution. The service never executes
user code itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

CAPABILITIES: dict[str, dict[str, Any]] = {
    "llm_inference": {"display_name": "LLM inference", "required": True, "model_bearing": True},
    "embeddings": {"display_name": "Embeddings", "required": True, "model_bearing": True},
    "vector_store": {"display_name": "Vector store", "required": True, "model_bearing": False},
    "mcp_runtime": {"display_name": "MCP runtime", "required": False, "model_bearing": False},
    "sandbox_execution": {"display_name": "Sandbox execution", "required": False, "model_bearing": False},
}
REQUIRED_CAPABILITIES = tuple(c for c, v in CAPABILITIES.items() if v["required"])

Adapter = Literal[
    "openai_compatible", "weaviate", "qdrant", "mcp", "sandbox_http", "local_embeddings",
    "embedded_vector_index", "extractive_chat",
]  # fmt: skip


class ProviderFamily(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    capability: str
    provider_origin: Literal["local", "cloud"]
    display_name: str
    description: str
    adapter: Adapter
    embedded: bool = False  # runs inside this process: no endpoint
    requires_endpoint: bool = True
    loaded_model_slot: bool = False  # a local runtime with one backend-owned loaded-model slot


_F = ProviderFamily
FAMILIES: dict[str, ProviderFamily] = {
    f.key: f
    for f in (
        _F(key="vllm_local", capability="llm_inference", provider_origin="local", adapter="openai_compatible",
           display_name="vLLM (local)", description="A local OpenAI-compatible LLM runtime (vLLM or the "
           "in-stack LLM gateway).", loaded_model_slot=True),
        _F(key="llama_cpp_local", capability="llm_inference", provider_origin="local",
           adapter="openai_compatible", display_name="llama.cpp server (local)",
           description="A local llama.cpp server (OpenAI chat-completions endpoints).", loaded_model_slot=True),
        _F(key="vllm_embeddings_local", capability="embeddings", provider_origin="local",
           adapter="openai_compatible", display_name="Embeddings runtime (local)",
           description="A local OpenAI-compatible embeddings runtime.", loaded_model_slot=True),
        _F(key="openai_compatible_cloud_llm", capability="llm_inference", provider_origin="cloud",
           adapter="openai_compatible", display_name="OpenAI-compatible cloud LLM",
           description="A shared cloud LLM behind the OpenAI API; endpoint and key on the instance."),
        _F(key="openai_compatible_cloud_embeddings", capability="embeddings", provider_origin="cloud",
           adapter="openai_compatible", display_name="OpenAI-compatible cloud embeddings",
           description="A shared cloud embeddings API behind the OpenAI API."),
        _F(key="weaviate_local", capability="vector_store", provider_origin="local", adapter="weaviate",
           display_name="Weaviate (local)", description="A Weaviate server (vectors supplied by us)."),
        _F(key="qdrant_local", capability="vector_store", provider_origin="local", adapter="qdrant",
           display_name="Qdrant (local)", description="A Qdrant server."),
        _F(key="mcp_gateway_local", capability="mcp_runtime", provider_origin="local", adapter="mcp",
           display_name="MCP gateway (local)", description="An MCP gateway (streamable HTTP) for agent tools."),
        _F(key="sandbox_local", capability="sandbox_execution", provider_origin="local", adapter="sandbox_http",
           display_name="Sandbox (local)", description="A code-execution sandbox service; code runs there, "
           "never in this service."),
        _F(key="ridgeline_local_embeddings", capability="embeddings", provider_origin="local",
           adapter="local_embeddings", embedded=True, requires_endpoint=False,
           display_name="Ridgeline local embeddings (all-MiniLM-L6-v2, in process)",
           description="The AI layer's bundled 384-d sentence embedder (ridgeline.ai.Embedder.local)."),
        _F(key="ridgeline_embedded_vector_index", capability="vector_store", provider_origin="local",
           adapter="embedded_vector_index", embedded=True, requires_endpoint=False,
           display_name="Ridgeline embedded vector index (HNSW over SQL)",
           description="The AI layer's embedded HNSW index with the database as source of truth "
           "(ridgeline.platform.vectors)."),
        _F(key="ridgeline_extractive_chat", capability="llm_inference", provider_origin="local",
           adapter="extractive_chat", embedded=True, requires_endpoint=False,
           display_name="Ridgeline offline extractive chat",
           description="The AI layer's offline responder: quotes the most relevant context sentences "
           "verbatim; not a generative model (ridgeline.ai.ExtractiveProvider)."),
    )
}  # fmt: skip

EXTRACTIVE_MODEL_ID = "ridgeline-extractive-1"
LOCAL_EMBEDDINGS_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
SANDBOX_EXECUTE_PATH = "/v1/executions"


def family_payload(f: ProviderFamily) -> dict[str, Any]:
    out = msgspec.to_builtins(f)
    out["provider_key"] = out.pop("key")
    return out


def now() -> datetime:
    return datetime.now(UTC)


def openai_base(endpoint: str) -> str:
    """The OpenAI base URL (with ``/v1``) of an endpoint given with or without it."""
    e = endpoint.rstrip("/")
    return e if e.endswith("/v1") else e + "/v1"


def server_root(endpoint: str) -> str:
    e = endpoint.rstrip("/")
    return e[: -len("/v1")] if e.endswith("/v1") else e


def mcp_url(endpoint: str) -> str:
    """An MCP gateway URL given as its origin gets the SDK's default ``/mcp`` path."""
    parts = urlsplit(endpoint)
    return endpoint.rstrip("/") + "/mcp" if parts.path in ("", "/") else endpoint


class CheckResult(msgspec.Struct, kw_only=True):
    status: Literal["success", "failure"]
    reachable: bool
    compatible: bool
    detail: str
    checked_at: datetime
    duration_ms: float
    advertised_models: list[str] | None = None
    tools: list[str] | None = None
    dry_run: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"


def _result(start: float, reachable: bool, compatible: bool, detail: str, **extra: Any) -> CheckResult:
    return CheckResult(
        status="success" if reachable and compatible else "failure",
        reachable=reachable,
        compatible=compatible,
        detail=detail,
        checked_at=now(),
        duration_ms=round((time.perf_counter() - start) * 1000, 3),
        **extra,
    )


def _http(timeout_s: float) -> Any:
    import httpx

    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), trust_env=False)


async def list_openai_models(endpoint: str, api_key: str | None, timeout_s: float) -> list[str]:
    from ridgeline.ai.providers import OpenAICompatibleProvider, RetryPolicy

    async with OpenAICompatibleProvider(
        openai_base(endpoint), api_key=api_key, timeout=timeout_s, retry=RetryPolicy(max_attempts=1)
    ) as p:
        return [m.id for m in await p.list_models()]


async def check_provider(
    family: ProviderFamily,
    endpoint: str | None,
    secrets: Mapping[str, str],
    config: Mapping[str, Any],
    timeout_s: float,
) -> CheckResult:
    """Reachability and compatibility of one provider instance, by talking to it."""
    start = time.perf_counter()
    if family.embedded:
        return await _check_embedded(family, start)
    if not endpoint:
        return _result(start, False, False, "no endpoint_url configured")
    try:
        if family.adapter == "openai_compatible":
            return await _check_openai(endpoint, secrets, config, timeout_s, start)
        if family.adapter == "weaviate":
            return await _check_ready(endpoint.rstrip("/") + "/v1/.well-known/ready", secrets, timeout_s, start,
                                      {"authorization": f"Bearer {secrets['api_key']}"} if "api_key" in secrets
                                      else {})  # fmt: skip
        if family.adapter == "qdrant":
            headers = {"api-key": secrets["api_key"]} if "api_key" in secrets else {}
            return await _check_ready(endpoint.rstrip("/") + "/readyz", secrets, timeout_s, start, headers)
        if family.adapter == "mcp":
            return await _check_mcp(endpoint, secrets, config, timeout_s, start)
        if family.adapter == "sandbox_http":
            return await _check_sandbox(endpoint, secrets, timeout_s, start)
    except Exception as exc:  # a provider that does not answer is a failed check, not our error
        return _result(start, False, False, _describe(exc))
    return _result(start, False, False, f"no check for adapter {family.adapter}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


async def _check_embedded(family: ProviderFamily, start: float) -> CheckResult:
    if family.adapter == "local_embeddings":
        from ridgeline.ai import Embedder

        try:
            emb = await asyncio.to_thread(Embedder.local)
        except Exception as exc:  # EmbeddingModelError: model package missing or damaged
            return _result(start, True, False, _describe(exc))
        return _result(start, True, True, f"in-process embedder ready ({emb.dim} dimensions)",
                       advertised_models=[LOCAL_EMBEDDINGS_MODEL_ID])  # fmt: skip
    if family.adapter == "extractive_chat":
        return _result(
            start, True, True, "in-process extractive responder", advertised_models=[EXTRACTIVE_MODEL_ID]
        )
    return _result(start, True, True, "in-process vector index over the platform database")


async def _check_openai(
    endpoint: str, secrets: Mapping[str, str], config: Mapping[str, Any], timeout_s: float, start: float
) -> CheckResult:
    from ridgeline.ai.providers import ProviderError

    try:
        models = await list_openai_models(endpoint, secrets.get("api_key"), timeout_s)
    except ProviderError as exc:
        reachable = exc.reason_code not in ("connect_failed", "timeout")
        return _result(start, reachable, False, f"GET /v1/models: {exc.reason_code}: {exc}"[:500])
    return _result(
        start, True, True, f"GET /v1/models listed {len(models)} model(s)", advertised_models=models
    )


async def _check_ready(
    url: str, secrets: Mapping[str, str], timeout_s: float, start: float, headers: Mapping[str, str]
) -> CheckResult:
    import httpx

    async with _http(timeout_s) as client:
        try:
            r = await client.get(url, headers=dict(headers))
        except httpx.HTTPError as exc:
            return _result(start, False, False, _describe(exc))
    ok = 200 <= r.status_code < 300
    return _result(start, True, ok, f"GET {urlsplit(url).path}: {r.status_code}")


async def _check_mcp(
    endpoint: str, secrets: Mapping[str, str], config: Mapping[str, Any], timeout_s: float, start: float
) -> CheckResult:
    from mcp import Client

    required = [str(t) for t in config.get("required_tools", [])]

    async def probe() -> list[str]:
        async with Client(mcp_url(endpoint), read_timeout_seconds=timeout_s, cache=None) as client:
            listed = await client.list_tools()
            return [t.name for t in listed.tools]

    try:
        tools = await asyncio.wait_for(probe(), timeout_s)
    except Exception as exc:
        return _result(start, False, False, f"MCP initialize/tools/list failed: {_describe(exc)}")
    missing = [t for t in required if t not in tools]
    if missing:
        return _result(start, True, False, f"MCP gateway lacks required tools {missing}", tools=tools)
    if not tools:
        return _result(start, True, False, "MCP gateway answered but offers no tools to invoke", tools=tools)
    return _result(start, True, True, f"MCP gateway ready to invoke {len(tools)} tool(s)", tools=tools)


async def _check_sandbox(
    endpoint: str, secrets: Mapping[str, str], timeout_s: float, start: float
) -> CheckResult:
    """A dry-run execution: the sandbox parses and plans a trivial program without running it."""
    import httpx

    body = {"language": "python", "code": "print('ridgeline dry run')", "dry_run": True, "timeout_s": 5}
    headers = {"authorization": f"Bearer {secrets['api_key']}"} if "api_key" in secrets else {}
    async with _http(timeout_s) as client:
        try:
            r = await client.post(endpoint.rstrip("/") + SANDBOX_EXECUTE_PATH, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return _result(start, False, False, _describe(exc))
    try:
        data = r.json()
    except ValueError:
        data = None
    if not (200 <= r.status_code < 300) or not isinstance(data, dict):
        return _result(start, True, False, f"POST {SANDBOX_EXECUTE_PATH} dry run: {r.status_code}")
    status = str(data.get("status", ""))
    ok = status in ("ok", "success", "succeeded", "completed", "accepted")
    return _result(start, True, ok, f"dry run status {status or '<none>'}", dry_run=data)
