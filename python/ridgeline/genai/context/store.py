"""Tables of context management (migration ``0017_genai_context``).

Documents and their chunks live in SQL (the source of truth); the chunk vectors live in the KB's
backing vector store (the embedded index's own SQL tables, Qdrant or Weaviate), keyed by chunk id."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

schema_profiles = sa.Table(
    "genai_context_schema_profiles",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("provider_key", sa.String(64), nullable=False),  # the vector_store family it applies to
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("provider_key", "name", name="uq_genai_context_profile_name"),
)

knowledge_bases = sa.Table(
    "genai_knowledge_bases",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("provider_instance_id", sa.String(64), nullable=False),  # a vector_store provider
    sa.Column("index_name", sa.String(128), nullable=False, unique=True),  # provider_resource_id
    sa.Column("schema_profile_id", sa.String(64), nullable=True),
    sa.Column("schema", sa.JSON, nullable=False),
    # {"mode": "vanessa_embeddings", "embedding_provider_instance_id", "embedding_model_id"} | {"mode": "self_provided"}
    sa.Column("vectorization", sa.JSON, nullable=False),
    # {"strategy": "fixed_length", "chunk_length", "chunk_overlap"}: immutable after creation
    sa.Column("chunking", sa.JSON, nullable=False),
    sa.Column("lifecycle_state", sa.String(16), nullable=False, server_default="active"),  # active|archived
    sa.Column("sync_state", sa.String(16), nullable=False, server_default="ready"),  # ready|syncing|error
    sa.Column("content_version", sa.BigInteger, nullable=False, server_default="0"),  # bumped per write
    sa.Column("document_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_sync_at", UTCDateTime(), nullable=True),
    sa.Column("last_sync_error", sa.Text, nullable=True),
    sa.Column("last_sync_summary", sa.JSON, nullable=True),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

sources = sa.Table(
    "genai_context_sources",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "knowledge_base_id",
        sa.String(64),
        sa.ForeignKey("genai_knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("source_type", sa.String(32), nullable=False),  # local_directory
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),  # resolved, under an allowed root
    sa.Column("include_globs", sa.JSON, nullable=False),
    sa.Column("exclude_globs", sa.JSON, nullable=False),
    sa.Column("lifecycle_state", sa.String(16), nullable=False, server_default="active"),  # active|paused
    sa.Column("last_sync_at", UTCDateTime(), nullable=True),
    sa.Column("last_sync_status", sa.String(16), nullable=True),
    sa.Column("last_sync_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

documents = sa.Table(
    "genai_context_documents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "knowledge_base_id",
        sa.String(64),
        sa.ForeignKey("genai_knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("source_type", sa.String(32), nullable=False),  # manual | upload | local_directory
    sa.Column("source_id", sa.String(64), nullable=True, index=True),
    sa.Column("source_path", sa.String(2048), nullable=True),
    sa.Column("media_type", sa.String(100), nullable=False, server_default="text/plain"),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

chunks = sa.Table(
    "genai_context_chunks",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),  # <document id>:<chunk index>
    sa.Column(
        "document_id",
        sa.String(64),
        sa.ForeignKey("genai_context_documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("knowledge_base_id", sa.String(64), nullable=False, index=True),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("char_start", sa.Integer, nullable=False),
    sa.Column("char_end", sa.Integer, nullable=False),
)

sync_runs = sa.Table(
    "genai_context_sync_runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "knowledge_base_id",
        sa.String(64),
        sa.ForeignKey("genai_knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("source_id", sa.String(64), nullable=True),
    sa.Column("operation_type", sa.String(32), nullable=False),  # source_sync | knowledge_base_resync
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | ready | error
    sa.Column("job_id", sa.String(64), nullable=True),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("counters", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("errors", sa.JSON, nullable=False, server_default="[]"),  # [{path, reason_code, message}]
    sa.Column("error_summary", sa.Text, nullable=True),
    sa.Column("requested_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
)
