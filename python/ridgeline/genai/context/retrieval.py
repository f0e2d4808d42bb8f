"""Result types shared with the other genai modules (playgrounds' knowledge sessions use them through
``ContextService.retrieve`` and ``ContextService.bindable_knowledge_bases``)."""

from __future__ import annotations

from typing import Literal

import msgspec

Mode = Literal["semantic", "keyword", "hybrid"]


class RetrievedChunk(msgspec.Struct, kw_only=True):
    document_id: str
    chunk_id: str
    chunk_index: int
    text: str
    score: float
    title: str | None = None
    source_path: str | None = None


class KnowledgeBaseSummary(msgspec.Struct, kw_only=True):
    id: str
    name: str
    provider_instance_id: str
    status: str  # the lifecycle state: active | archived
    ready: bool
