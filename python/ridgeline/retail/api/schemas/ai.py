"""Wire types of the rag, agents, demo and config slices (contract 002)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

SourceType = Literal["markdown", "openapi"]
Path500 = Annotated[str, Meta(min_length=1, max_length=500)]


# --------------------------------------------------------------------------------------------- rag
class IndexRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    source_type: SourceType
    source_path: Annotated[
        Path500,
        Meta(
            description="The source's identity. Without content it names a bundled document: docs/<name>.md, "
            "README.md or openapi.json (the served OpenAPI)."
        ),
    ]
    content: Annotated[str, Meta(max_length=20_000_000)] | None = None
    metadata: dict[str, Any] = {}


class IndexResponse(msgspec.Struct, kw_only=True):
    source_id: str
    source_type: str
    source_path: str
    status: Annotated[
        str, Meta(description="indexed (new), updated (content changed) or unchanged (same hash)")
    ]
    content_hash: str
    chunks_created: int
    token_count: int
    duration_ms: float


class ProjectDocsFile(msgspec.Struct, kw_only=True):
    source_path: str
    source_type: str
    status: str
    source_id: str | None = None
    chunks_created: int = 0
    token_count: int = 0
    error: str | None = None


class ProjectDocsResponse(msgspec.Struct, kw_only=True):
    files: list[ProjectDocsFile]
    total_files: int
    indexed: int
    updated: int
    unchanged: int
    failed: int
    total_chunks: int
    duration_ms: float


class RetrieveRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[str, Meta(min_length=1, max_length=8000)]
    top_k: Annotated[int, Meta(ge=1, le=100)] | None = None
    similarity_threshold: Annotated[float, Meta(ge=-1.0, le=1.0)] | None = None
    filters: (
        Annotated[dict[str, str], Meta(description="Equality filters on source_type and/or source_path")]
        | None
    ) = None


class RetrievedChunk(msgspec.Struct, kw_only=True):
    chunk_id: str
    source_id: str
    source_path: str
    source_type: str
    content: str
    relevance_score: float
    chunk_index: int
    metadata: dict[str, Any]


class RetrieveResponse(msgspec.Struct, kw_only=True):
    query: str
    results: list[RetrievedChunk]
    top_k: int
    similarity_threshold: float
    total_chunks_searched: int
    embedding_provider: str
    duration_ms: float


class SourceOut(msgspec.Struct, kw_only=True):
    source_id: str
    source_type: str
    source_path: str
    content_hash: str
    chunk_count: int
    token_count: int
    embedding_provider: str
    embedding_model: str
    embedding_dimension: int
    metadata: dict[str, Any]
    created_at: datetime
    indexed_at: datetime


class SourceList(msgspec.Struct, kw_only=True):
    sources: list[SourceOut]
    total_sources: int
    total_chunks: int


class DeleteSourceResponse(msgspec.Struct, kw_only=True):
    source_id: str
    source_path: str
    chunks_deleted: int
    deleted: bool = True


# ------------------------------------------------------------------------------------------ config
class AIConfigOut(msgspec.Struct, kw_only=True):
    agent_provider: str
    agent_model: str
    agent_temperature: float
    agent_max_tokens: int
    agent_max_tool_calls: int
    agent_require_approval: list[str]
    agent_session_ttl_minutes: int
    rag_embedding_provider: str
    rag_embedding_model: str
    rag_embedding_dimension: int
    rag_chunk_size: int
    rag_chunk_overlap: int
    rag_top_k: int
    rag_similarity_threshold: float
    openai_base_url: str
    anthropic_base_url: str
    google_base_url: str
    ollama_base_url: str
    provider_timeout_s: float
    openai_api_key: Annotated[str | None, Meta(description="Masked: a short prefix and a SHA-256 tag")]
    anthropic_api_key: str | None
    google_api_key: str | None
    openai_api_key_set: bool
    anthropic_api_key_set: bool
    google_api_key_set: bool
    indexed_chunks: int
    index_dimension: int | None


Url = Annotated[str, Meta(min_length=8, max_length=500, pattern=r"^https?://[^/\s?#@]+(/\S*)?$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Key = Annotated[str, Meta(max_length=500)]


class AIConfigPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_provider: Literal["extractive", "openai", "anthropic", "gemini", "ollama"] | None = None
    agent_model: Name | None = None
    agent_temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    agent_max_tokens: Annotated[int, Meta(ge=1, le=200_000)] | None = None
    agent_max_tool_calls: Annotated[int, Meta(ge=0, le=50)] | None = None
    agent_require_approval: (
        Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=32)] | None
    ) = None
    agent_session_ttl_minutes: Annotated[int, Meta(ge=1, le=43_200)] | None = None
    rag_embedding_provider: Literal["local", "openai", "ollama", "gemini"] | None = None
    rag_embedding_model: Name | None = None
    rag_embedding_dimension: Annotated[int, Meta(ge=1, le=8192)] | None = None
    rag_chunk_size: Annotated[int, Meta(ge=16, le=8192)] | None = None
    rag_chunk_overlap: Annotated[int, Meta(ge=0, le=4096)] | None = None
    rag_top_k: Annotated[int, Meta(ge=1, le=100)] | None = None
    rag_similarity_threshold: Annotated[float, Meta(ge=-1, le=1)] | None = None
    openai_base_url: Url | None = None
    anthropic_base_url: Url | None = None
    google_base_url: Url | None = None
    ollama_base_url: Url | None = None
    provider_timeout_s: Annotated[float, Meta(gt=0, le=600)] | None = None
    openai_api_key: Annotated[Key, Meta(description="Empty string clears the key")] | None = None
    anthropic_api_key: Key | None = None
    google_api_key: Key | None = None
    force: Annotated[
        bool,
        Meta(
            description="Apply an embedding-dimension change that would orphan indexed chunks, and re-index them"
        ),
    ] = False


class ProviderHealth(msgspec.Struct, kw_only=True):
    provider: str
    role: Annotated[str, Meta(description="agent, embeddings, or available")]
    status: Annotated[str, Meta(description="ok, unreachable, configured, not_configured")]
    checked: Annotated[str, Meta(description="live (probed) or key_presence")]
    detail: str
    latency_ms: float | None = None


class ProvidersHealth(msgspec.Struct, kw_only=True):
    providers: list[ProviderHealth]
    checked_at: datetime


class OllamaModel(msgspec.Struct, kw_only=True):
    name: str
    size: int | None = None
    modified_at: str | None = None
    family: str | None = None
    parameter_size: str | None = None


class OllamaModels(msgspec.Struct, kw_only=True):
    base_url: str
    models: list[OllamaModel]
    total: int


# ------------------------------------------------------------------------------------------ agents
AgentType = Literal["experiment", "rag_assistant"]


class SessionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_type: AgentType
    initial_context: dict[str, Any] | None = None


class ChatMessageOut(msgspec.Struct, kw_only=True):
    role: str
    content: str
    tool_calls: list[dict[str, Any]] = []
    tool_call_id: str | None = None
    name: str | None = None
    timestamp: str | None = None


class PendingApproval(msgspec.Struct, kw_only=True):
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    requested_at: str


class SessionOut(msgspec.Struct, kw_only=True):
    session_id: str
    agent_type: str
    status: Annotated[str, Meta(description="active, closed or expired")]
    total_tokens_used: int
    tool_calls_count: int
    created_at: datetime
    last_activity: datetime
    expires_at: datetime
    pending_approval: PendingApproval | None = None


class SessionDetail(SessionOut, kw_only=True):
    messages: list[ChatMessageOut] = []


class ChatRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message: Annotated[str, Meta(min_length=1, max_length=20_000)]


class ToolCallOut(msgspec.Struct, kw_only=True):
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    result: Any = None
    duration_ms: float | None = None
    status: Annotated[str, Meta(description="ok, error, rejected or pending_approval")] = "ok"


class ChatResponseOut(msgspec.Struct, kw_only=True):
    session_id: str
    message: str
    tool_calls: list[ToolCallOut]
    tokens_used: int
    pending_approval: PendingApproval | None
    provider: str
    model: str
    tool_selection: Annotated[
        str,
        Meta(
            description="model (the LLM chose the tools) or deterministic (offline: chosen from the request)"
        ),
    ]


class ApproveRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tool_call_id: Annotated[str, Meta(min_length=1, max_length=100)]
    approved: bool
    reason: Annotated[str, Meta(max_length=2000)] | None = None


# -------------------------------------------------------------------------------------------- demo
class DemoRunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    seed: Annotated[int, Meta(ge=0, le=2**31 - 1)] = 42
    reset: bool = False
    skip_seed: bool = True


class StepResult(msgspec.Struct, kw_only=True):
    step_name: str
    step_index: int
    status: Annotated[str, Meta(description="pass, fail, skip or warn")]
    detail: str
    duration_ms: float
    data: dict[str, Any] = {}


class DemoRunResult(msgspec.Struct, kw_only=True):
    success: bool
    steps: list[StepResult]
    total_steps: int
    winner_model_type: str | None
    winner_wape: float | None
    winning_run_id: str | None
    alias: str | None
    wall_clock_s: float
    seed: int
