"""``/config``: the effective AI config (keys masked), live PATCH, provider health, Ollama models."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, get, patch
from litestar.params import JSONBody

from ridgeline.ai.providers import ProviderError
from ridgeline.platform.context import AppContext, Ctx, Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError
from ridgeline.retail.api import rag
from ridgeline.retail.api.ai_service import (
    SECRET_FIELDS,
    AIConfig,
    RetailAIService,
    masked_key,
    ollama_provider,
    save_config,
)
from ridgeline.retail.api.schemas.ai import (
    AIConfigOut,
    AIConfigPatch,
    OllamaModel,
    OllamaModels,
    ProviderHealth,
    ProvidersHealth,
)


class ConfigController(Controller):
    path = "/config"
    tags = ["retail: config"]

    @get("/ai", summary="Effective AI-model config (agent LLM + RAG embeddings); API keys masked")
    async def get_ai(self, ctx: Ctx, ai: Service[RetailAIService]) -> AIConfigOut:
        return await config_out(ctx, ai, await ai.config())

    @patch(
        "/ai",
        summary="Persist and apply AI-model changes live (no restart)",
        description=(
            "409 embedding_dimension_conflict when the change would give embeddings of another dimension "
            "while chunks are indexed; resend with force=true to apply it and re-index every chunk "
            "(502 if the new embedding provider fails: then nothing changes)."
        ),
        opt=raises(409, 502),
    )
    async def patch_ai(
        self, ctx: Ctx, ai: Service[RetailAIService], data: JSONBody[AIConfigPatch]
    ) -> AIConfigOut:
        return await config_out(ctx, ai, await apply_patch(ctx, ai, data))

    @get(
        "/providers/health",
        summary="Per-provider connectivity: Ollama probed live, cloud providers by API-key presence",
    )
    async def health(self, ai: Service[RetailAIService]) -> ProvidersHealth:
        return await providers_health(await ai.config())

    @get("/ollama/models", summary="Models pulled on the configured Ollama host", opt=raises(502))
    async def ollama_models(self, ai: Service[RetailAIService]) -> OllamaModels:
        return await ollama_models(await ai.config())


async def config_out(ctx: AppContext, ai: RetailAIService, cfg: AIConfig) -> AIConfigOut:
    values = msgspec.to_builtins(cfg)
    for key in SECRET_FIELDS:
        values[f"{key}_set"] = bool(values.get(key))
        values[key] = masked_key(values.get(key))
    values["indexed_chunks"] = await rag.chunk_count(ctx)
    values["index_dimension"] = await ai.collection_dim()
    return msgspec.convert(values, AIConfigOut)


async def apply_patch(ctx: AppContext, ai: RetailAIService, body: AIConfigPatch) -> AIConfig:
    current = await ai.config()
    changes: dict[str, Any] = {
        k: v for k, v in msgspec.structs.asdict(body).items() if k != "force" and v is not None
    }
    new = msgspec.structs.replace(
        current, **{k: (v or None) if k in SECRET_FIELDS else v for k, v in changes.items()}
    )
    if new.rag_chunk_overlap >= new.rag_chunk_size:
        raise EngineError(
            422,
            "invalid_request",
            "Invalid request: rag_chunk_overlap must be smaller than rag_chunk_size",
            errors=[{"field": "rag_chunk_overlap", "message": "must be smaller than rag_chunk_size"}],
        )
    indexed = await rag.chunk_count(ctx)
    index_dim = await ai.collection_dim()
    if indexed and index_dim is not None and new.embedding_dim != index_dim:
        if not body.force:
            raise EngineError(
                409,
                "embedding_dimension_conflict",
                f"the change gives {new.embedding_dim}-d embeddings but {indexed} indexed chunks are "
                f"{index_dim}-d; resend with force=true to re-index them",
                current_dimension=index_dim,
                new_dimension=new.embedding_dim,
                indexed_chunks=indexed,
            )
        await rag.reindex_all(ctx, ai, new)  # 502 here leaves the config as it was
    await save_config(ctx, changes)
    return await ai.config()


async def providers_health(cfg: AIConfig) -> ProvidersHealth:
    out: list[ProviderHealth] = []

    def role(name: str) -> str:
        roles = []
        if cfg.agent_provider == name:
            roles.append("agent")
        if cfg.rag_embedding_provider == name:
            roles.append("embeddings")
        return "+".join(roles) or "available"

    from ridgeline.ai.embeddings import EmbeddingModelError, load_model_files

    try:
        load_model_files()
        out.append(
            ProviderHealth(
                provider="local",
                role=role("local"),
                status="ok",
                checked="live",
                detail="all-MiniLM-L6-v2 installed, hash verified",
            )
        )
    except EmbeddingModelError as exc:
        out.append(
            ProviderHealth(
                provider="local", role=role("local"), status="unreachable", checked="live", detail=str(exc)
            )
        )
    out.append(
        ProviderHealth(
            provider="extractive",
            role=role("extractive"),
            status="ok",
            checked="live",
            detail="offline extractive responder (not a language model)",
        )
    )
    for name, key in (
        ("openai", cfg.openai_api_key),
        ("anthropic", cfg.anthropic_api_key),
        ("gemini", cfg.google_api_key),
    ):
        out.append(
            ProviderHealth(
                provider=name,
                role=role(name),
                status="configured" if key else "not_configured",
                checked="key_presence",
                detail="API key set" if key else "no API key",
            )
        )
    t0 = time.perf_counter()
    try:
        async with ollama_provider(cfg) as p:
            models = await p.list_models()
        out.append(
            ProviderHealth(
                provider="ollama",
                role=role("ollama"),
                status="ok",
                checked="live",
                detail=f"{len(models)} model(s) at {cfg.ollama_base_url}",
                latency_ms=(time.perf_counter() - t0) * 1000,
            )
        )
    except ProviderError as exc:
        out.append(
            ProviderHealth(
                provider="ollama",
                role=role("ollama"),
                status="unreachable",
                checked="live",
                detail=f"{exc.reason_code}: {exc}",
                latency_ms=(time.perf_counter() - t0) * 1000,
            )
        )
    return ProvidersHealth(providers=out, checked_at=datetime.now(UTC))


async def ollama_models(cfg: AIConfig) -> OllamaModels:
    try:
        async with ollama_provider(cfg) as p:
            models = await p.list_models()
    except ProviderError as exc:
        raise EngineError(
            502,
            "ollama_unreachable",
            f"the Ollama host {cfg.ollama_base_url} did not answer ({exc.reason_code}): {exc}",
            base_url=cfg.ollama_base_url,
            provider_reason=exc.reason_code,
        ) from exc
    items = []
    for m in models:
        md = m.metadata or {}
        details = md.get("details") or {}
        items.append(
            OllamaModel(
                name=m.id,
                size=md.get("size"),
                modified_at=md.get("modified_at"),
                family=details.get("family"),
                parameter_size=details.get("parameter_size"),
            )
        )
    return OllamaModels(base_url=cfg.ollama_base_url, models=items, total=len(items))
