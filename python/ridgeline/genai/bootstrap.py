"""Bootstrap of the control plane (idempotent; runs at every start-up).

- Embedded providers are always seeded: local embeddings, the embedded vector index and the offline
  extractive chat provider.
- An external provider is seeded for each URL that is set (``LLM_INFERENCE_RUNTIME_URL`` or
  ``LLM_URL``, ``LLM_EMBEDDINGS_RUNTIME_URL``, ``WEAVIATE_URL``, ``LLAMA_CPP_URL``, ``QDRANT_URL``,
  ``SANDBOX_URL``, ``MCP_GATEWAY_URL``).
- ``local-default`` is always seeded, each capability from its URL when set, else from the embedded
  family; ``local-llama-cpp`` only with ``LLAMA_CPP_URL``; ``local-qdrant`` only with ``QDRANT_URL``.
  The sandbox and MCP gateway providers are bound as optional ``sandbox_execution`` / ``mcp_runtime``
  into every local deployment when their URL is set.
- The OpenAI-compatible cloud families are code (:data:`ridgeline.genai.providers.FAMILIES`), so a
  superadmin can create cloud providers through the API with no change here.
- When no deployment is active, ``local-default`` is activated (without provider preflight: an
  external runtime may still be starting; the activation audit records ``bootstrap``).

Existing rows are never changed: a slug that exists is left as the operators made it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ridgeline.genai import providers as P
from ridgeline.genai.api import platform_store as T
from ridgeline.genai.runtime import BUILTIN_MODELS, PlatformService, _id
from ridgeline.platform.problems import EngineError

DEFAULT_INDEX = "default"


async def _provider_id(svc: PlatformService, slug: str) -> str | None:
    async with svc.db.engine.connect() as conn:
        return (await conn.execute(sa.select(T.providers.c.id).where(T.providers.c.slug == slug))).scalar()


async def _ensure_provider(svc: PlatformService, slug: str, key: str, endpoint: str | None, name: str) -> str:
    pid = await _provider_id(svc, slug)
    if pid is not None:
        return pid
    try:
        made = await svc.create_provider({"slug": slug, "provider_key": key, "endpoint_url": endpoint,
                                          "display_name": name, "description": "seeded at bootstrap"})  # fmt: skip
    except (EngineError, IntegrityError):  # another worker seeded it first
        pid = await _provider_id(svc, slug)
        if pid is None:
            raise
        return pid
    return made["id"]


def _builtin(pid: str, key: str) -> dict[str, Any]:
    model = BUILTIN_MODELS[key]
    return {"provider_id": pid, "resources": [{"id": model, "ref_type": "builtin_model", "name": model,
            "origin": "local", "provider_model_id": model, "metadata": {}}], "default_resource_id": model}  # fmt: skip


def _index(pid: str) -> dict[str, Any]:
    kb = {"id": DEFAULT_INDEX, "ref_type": "knowledge_base", "knowledge_base_id": DEFAULT_INDEX,
          "provider_resource_id": DEFAULT_INDEX, "provider_instance_id": pid, "metadata": {"seeded": True}}  # fmt: skip
    return {"provider_id": pid, "resources": [kb], "default_resource_id": DEFAULT_INDEX}


def _bare(pid: str) -> dict[str, Any]:
    # an external model runtime: which managed models it may serve is chosen by a superadmin later
    return {"provider_id": pid, "resources": [], "default_resource_id": None}


async def _ensure_deployment(
    svc: PlatformService, slug: str, name: str, bindings: dict[str, dict[str, Any]]
) -> str:
    try:
        return await _insert_deployment(svc, slug, name, bindings)
    except IntegrityError:  # another worker seeded it between our read and our insert
        async with svc.db.engine.connect() as conn:
            did = await _deployment_id(conn, slug)
        if did is None:
            raise
        return did


async def _deployment_id(conn: Any, slug: str) -> str | None:
    return (await conn.execute(sa.select(T.deployments.c.id).where(T.deployments.c.slug == slug))).scalar()


async def _insert_deployment(
    svc: PlatformService, slug: str, name: str, bindings: dict[str, dict[str, Any]]
) -> str:
    async with svc.write() as conn:
        did = await _deployment_id(conn, slug)
        if did is not None:
            return did
        did = _id()
        now = P.now()
        await conn.execute(T.deployments.insert().values(
            id=did, slug=slug, display_name=name, description="seeded at bootstrap", is_active=False,
            created_at=now, updated_at=now))  # fmt: skip
        for cap, b in bindings.items():
            await conn.execute(T.bindings.insert().values(deployment_id=did, capability=cap, config={},
                                                          updated_at=now, **b))  # fmt: skip
    return did


async def bootstrap(svc: PlatformService) -> None:
    s = svc.settings
    await svc.ensure_version_row()
    chat = await _ensure_provider(svc, "ridgeline-extractive-chat", "ridgeline_extractive_chat", None,
                                  "Offline extractive chat")  # fmt: skip
    emb = await _ensure_provider(svc, "ridgeline-local-embeddings", "ridgeline_local_embeddings", None,
                                 "Local embeddings (all-MiniLM-L6-v2)")  # fmt: skip
    vec = await _ensure_provider(svc, "ridgeline-embedded-vector-index", "ridgeline_embedded_vector_index", None,
                                 "Embedded vector index")  # fmt: skip
    common: dict[str, dict[str, Any]] = {}
    if s.mcp_gateway_url:
        pid = await _ensure_provider(
            svc, "mcp-gateway-local", "mcp_gateway_local", s.mcp_gateway_url, "MCP gateway"
        )
        common["mcp_runtime"] = {"provider_id": pid, "resources": [], "default_resource_id": None}
    if s.sandbox_url:
        pid = await _ensure_provider(svc, "sandbox-local", "sandbox_local", s.sandbox_url, "Sandbox")
        common["sandbox_execution"] = {"provider_id": pid, "resources": [], "default_resource_id": None}

    llm = _builtin(chat, "ridgeline_extractive_chat")
    if s.inference_url:
        llm = _bare(
            await _ensure_provider(svc, "vllm-local", "vllm_local", s.inference_url, "Local LLM runtime")
        )
    embeddings = _builtin(emb, "ridgeline_local_embeddings")
    if s.llm_embeddings_runtime_url:
        embeddings = _bare(await _ensure_provider(svc, "vllm-embeddings-local", "vllm_embeddings_local",
                                                  s.llm_embeddings_runtime_url, "Local embeddings runtime"))  # fmt: skip
    vector = _index(vec)
    if s.weaviate_url:
        vector = _index(
            await _ensure_provider(svc, "weaviate-local", "weaviate_local", s.weaviate_url, "Weaviate")
        )
    default = await _ensure_deployment(svc, "local-default", "Local default",
                                       {"llm_inference": llm, "embeddings": embeddings, "vector_store": vector, **common})  # fmt: skip
    if s.llama_cpp_url:
        pid = await _ensure_provider(
            svc, "llama-cpp-local", "llama_cpp_local", s.llama_cpp_url, "llama.cpp server"
        )
        await _ensure_deployment(svc, "local-llama-cpp", "Local llama.cpp",
                                 {"llm_inference": _bare(pid), "embeddings": embeddings, "vector_store": vector, **common})  # fmt: skip
    if s.qdrant_url:
        pid = await _ensure_provider(svc, "qdrant-local", "qdrant_local", s.qdrant_url, "Qdrant")
        await _ensure_deployment(svc, "local-qdrant", "Local Qdrant",
                                 {"llm_inference": llm, "embeddings": embeddings, "vector_store": _index(pid), **common})  # fmt: skip
    try:
        async with svc.write() as conn:
            if (await conn.execute(sa.select(T.runtime_profile.c.key))).first() is None:
                await svc._write_mode(conn, "online", "bootstrap")
    except IntegrityError:  # another worker wrote it first
        pass
    async with svc.write() as conn:
        now = P.now()
        d = T.deployments
        others = (
            sa.select(sa.literal(1)).select_from(d.alias("other")).where(sa.literal_column("other.is_active"))
        )
        # activate only if nothing is active, in one statement (several workers start at once)
        done = await conn.execute(
            d.update().where(d.c.id == default, ~sa.exists(others)).values(is_active=True, updated_at=now)
        )
        if done.rowcount:
            await conn.execute(T.activation_audit.insert().values(
                id=_id(), deployment_id=default, deployment_slug="local-default", previous_deployment_id=None,
                activated_by="bootstrap", runtime_mode=await svc.mode(conn),
                preflight={"skipped": "bootstrap activation"}, configuration_status={}, activated_at=now))  # fmt: skip
