"""The retail AI service: effective AI config (defaults + persisted overrides), the embedding and
chat providers built from it, and the platform vector collection the RAG chunks live in.

Config is read from ``retail_ai_config`` on every use that needs it (a cheap primary-key read), so
a ``PATCH /config/ai`` on one worker is applied on every worker at its next request, with no
restart. API keys are sealed with the platform secret box (AES-GCM, associated data naming the
field) and only ever shown masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import numpy as np
import sqlalchemy as sa

from ridgeline.ai.providers import Provider, ProviderError, create_provider
from ridgeline.platform.auth.secrets import SecretBox, mask
from ridgeline.platform.context import AppContext
from ridgeline.platform.problems import EngineError
from ridgeline.platform.vectors import VectorCollections
from ridgeline.retail.api.ai_store import ai_config

COLLECTION = "retail_rag"
LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_DIM = 384
SECRET_FIELDS = ("openai_api_key", "anthropic_api_key", "google_api_key")

AgentProvider = Literal["extractive", "openai", "anthropic", "gemini", "ollama"]
EmbeddingProvider = Literal["local", "openai", "ollama", "gemini"]


class AIConfig(msgspec.Struct, kw_only=True):
    """The effective AI config. ``*_api_key`` hold the raw keys here; the wire shows them masked."""

    agent_provider: AgentProvider = "extractive"
    agent_model: str = "ridgeline-extractive-1"
    agent_temperature: float = 0.1
    agent_max_tokens: int = 1024
    agent_max_tool_calls: int = 8
    agent_require_approval: list[str] = msgspec.field(default_factory=lambda: ["create_alias"])
    agent_session_ttl_minutes: int = 120
    rag_embedding_provider: EmbeddingProvider = "local"
    rag_embedding_model: str = LOCAL_MODEL
    rag_embedding_dimension: int = LOCAL_DIM
    rag_chunk_size: int = 256
    rag_chunk_overlap: int = 32
    rag_top_k: int = 5
    rag_similarity_threshold: float = 0.2
    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_base_url: str = "https://api.anthropic.com"
    google_base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    ollama_base_url: str = "http://127.0.0.1:11434"
    provider_timeout_s: float = 60.0
    openai_api_key: str | None = None
    anthropic_api_key: str | None = None
    google_api_key: str | None = None

    @property
    def embedding_dim(self) -> int:
        return LOCAL_DIM if self.rag_embedding_provider == "local" else self.rag_embedding_dimension


FIELDS = tuple(f for f in AIConfig.__struct_fields__)


def _now() -> datetime:
    return datetime.now(UTC)


def _aad(field: str) -> str:
    return f"retail:ai_config:{field}"


def secret_box(ctx: AppContext) -> SecretBox:
    auth = getattr(ctx, "auth", None)
    box = getattr(auth, "secrets", None)
    if box is None:  # the platform auth service always exists in a composed app; tests may build bare
        from ridgeline.platform.auth.service import load_secret_box
        from ridgeline.platform.auth.settings import AuthSettings

        box = load_secret_box(AuthSettings.from_env(), ctx.settings.data_dir)
    return box


async def load_config(ctx: AppContext) -> AIConfig:
    async with ctx.db.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ai_config.c.key, ai_config.c.value))).all()
    values: dict[str, Any] = {}
    box = secret_box(ctx)
    for key, value in rows:
        if key not in FIELDS or value is None:
            continue
        if key in SECRET_FIELDS:
            values[key] = box.open(str(value), _aad(key)).decode()
        else:
            values[key] = value
    return msgspec.convert(values, AIConfig)


async def save_config(ctx: AppContext, changes: dict[str, Any]) -> None:
    """Persist the changed fields (a key set to "" or None is cleared)."""
    box = secret_box(ctx)
    now = _now()
    async with ctx.db.begin() as conn:
        for key, value in changes.items():
            stored: Any = value
            if key in SECRET_FIELDS:
                stored = box.seal(value, _aad(key)) if value else None
            await conn.execute(sa.delete(ai_config).where(ai_config.c.key == key))
            await conn.execute(sa.insert(ai_config).values(key=key, value=stored, updated_at=now))


def masked_key(value: str | None) -> str | None:
    return mask(value) if value else None


# ------------------------------------------------------------------------------------ providers
def provider_failed(exc: ProviderError, what: str) -> EngineError:
    """502 ``embedding_provider_error`` / ``llm_provider_error``: the upstream failed (its reason kept)."""
    code = "embedding_provider_error" if what == "embedding" else "llm_provider_error"
    return EngineError(
        502,
        code,
        f"the {what} provider failed ({exc.reason_code}): {exc}",
        provider=getattr(exc, "provider", None),
        provider_reason=exc.reason_code,
    )


def chat_provider(cfg: AIConfig) -> Provider:
    kind = cfg.agent_provider
    timeout = cfg.provider_timeout_s
    if kind == "extractive":
        return create_provider("extractive")
    if kind == "openai":
        return create_provider(
            "openai_compatible",
            base_url=cfg.openai_base_url,
            api_key=cfg.openai_api_key,
            default_model=cfg.agent_model,
            timeout=timeout,
        )
    if kind == "anthropic":
        return create_provider(
            "anthropic",
            base_url=cfg.anthropic_base_url,
            api_key=cfg.anthropic_api_key,
            default_model=cfg.agent_model,
            timeout=timeout,
        )
    if kind == "gemini":
        return create_provider(
            "gemini",
            base_url=cfg.google_base_url,
            api_key=cfg.google_api_key,
            default_model=cfg.agent_model,
            timeout=timeout,
        )
    return create_provider(
        "ollama", base_url=cfg.ollama_base_url, default_model=cfg.agent_model, timeout=timeout
    )


def ollama_provider(cfg: AIConfig, timeout: float = 3.0) -> Provider:
    from ridgeline.ai.providers import RetryPolicy

    return create_provider(
        "ollama", base_url=cfg.ollama_base_url, timeout=timeout, retry=RetryPolicy(max_attempts=1)
    )


class Embedding:
    """Embeds texts with the configured provider: the local MiniLM (offline) or a remote one."""

    def __init__(self, cfg: AIConfig) -> None:
        self.cfg = cfg
        self.provider_name = cfg.rag_embedding_provider
        self.model = LOCAL_MODEL if self.provider_name == "local" else cfg.rag_embedding_model
        self.dim = cfg.embedding_dim

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.provider_name == "local":
            from ridgeline.ai import Embedder

            emb = Embedder.local()
            return await asyncio.to_thread(emb.embed, list(texts))
        cfg = self.cfg
        if self.provider_name == "openai":
            p = create_provider(
                "openai_compatible",
                base_url=cfg.openai_base_url,
                api_key=cfg.openai_api_key,
                default_model=self.model,
                timeout=cfg.provider_timeout_s,
            )
        elif self.provider_name == "gemini":
            p = create_provider(
                "gemini",
                base_url=cfg.google_base_url,
                api_key=cfg.google_api_key,
                default_model=self.model,
                timeout=cfg.provider_timeout_s,
            )
        else:
            p = create_provider(
                "ollama",
                base_url=cfg.ollama_base_url,
                default_model=self.model,
                timeout=cfg.provider_timeout_s,
            )
        try:
            async with p:
                out = []
                for i in range(0, len(texts), 128):
                    out.append((await p.embed(list(texts[i : i + 128]))).array())
        except ProviderError as exc:
            raise provider_failed(exc, "embedding") from exc
        arr = np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise EngineError(
                502,
                "embedding_provider_error",
                f"the embedding provider returned {arr.shape[-1] if arr.ndim == 2 else '?'}-d vectors; "
                f"rag_embedding_dimension is {self.dim}",
                provider=self.provider_name,
                provider_reason="dimension_mismatch",
            )
        return arr


class RetailAIService:
    """Started with the retail family: the vector collections over the app database."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.vectors = VectorCollections(ctx.db, ctx.settings.data_dir / "ai" / "indexes")

    async def config(self) -> AIConfig:
        return await load_config(self.ctx)

    async def collection_dim(self) -> int | None:
        info = await self.vectors.info(COLLECTION)
        return None if info is None else info.dim

    async def ensure_collection(self, dim: int) -> None:
        info = await self.vectors.info(COLLECTION)
        if info is not None and info.dim != dim:
            # Only reachable when the collection is empty of sources (the config guard refuses
            # otherwise): recreate it at the new dimension.
            await self.vectors.drop(COLLECTION)
        await self.vectors.create(COLLECTION, dim, "cosine")


async def start_ai(ctx: AppContext, _settings: Any) -> RetailAIService:
    svc = RetailAIService(ctx)
    await svc.vectors.setup()
    return svc


async def stop_ai(svc: RetailAIService) -> None:
    await svc.vectors.flush()
