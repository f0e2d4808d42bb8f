"""Tables of the retail AI slices (rag, agents, demo, config); migration ``0015_retail_ai``.

- ``retail_rag_source`` / ``retail_rag_chunk``: indexed documents and their chunks (text, tokens,
  metadata). Deleting a source cascades to its chunks in the database (FK ``ON DELETE CASCADE``);
  the vectors live in the platform collection ``retail_rag`` (``ai_vectors``), keyed by chunk id.
- ``retail_agent_session``: agent sessions; the message history is a JSON column.
- ``retail_ai_config``: the persisted AI config overrides (one row per key; API keys sealed).
- ``retail_demo_lease``: one row while a demo pipeline runs, so one runs at a time across every
  worker and machine that shares the database (a lease with an expiry, not a process lock).
"""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

rag_sources = sa.Table(
    "retail_rag_source",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("source_type", sa.String(16), nullable=False),
    sa.Column("source_path", sa.String(500), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("embedding_provider", sa.String(32), nullable=False),
    sa.Column("embedding_model", sa.String(200), nullable=False),
    sa.Column("embedding_dimension", sa.Integer, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("indexed_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("source_path", name="uq_retail_rag_source_source_path"),
)

rag_chunks = sa.Table(
    "retail_rag_chunk",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column(
        "source_id",
        sa.String(32),
        sa.ForeignKey("retail_rag_source.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("token_count", sa.Integer, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Index("ix_retail_rag_chunk_source_id", "source_id"),
)

agent_sessions = sa.Table(
    "retail_agent_session",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("agent_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("messages", sa.JSON, nullable=False),
    sa.Column("pending_approval", sa.JSON, nullable=True),
    sa.Column("initial_context", sa.JSON, nullable=True),
    sa.Column("total_tokens_used", sa.Integer, nullable=False),
    sa.Column("tool_calls_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_activity", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

ai_config = sa.Table(
    "retail_ai_config",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

demo_lease = sa.Table(
    "retail_demo_lease",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("acquired_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
