"""retail AI: RAG sources and chunks, agent sessions, AI config, demo lease

Revision ID: 0015_retail_ai
Revises: 0003_retail_forecast
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_retail_ai"
down_revision = "0003_retail_forecast"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retail_rag_source",
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source_path", name="uq_retail_rag_source_source_path"),
    )
    op.create_table(
        "retail_rag_chunk",
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
    )
    op.create_index("ix_retail_rag_chunk_source_id", "retail_rag_chunk", ["source_id"])
    op.create_table(
        "retail_agent_session",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agent_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("messages", sa.JSON, nullable=False),
        sa.Column("pending_approval", sa.JSON, nullable=True),
        sa.Column("initial_context", sa.JSON, nullable=True),
        sa.Column("total_tokens_used", sa.Integer, nullable=False),
        sa.Column("tool_calls_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "retail_ai_config",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "retail_demo_lease",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retail_demo_lease")
    op.drop_table("retail_ai_config")
    op.drop_table("retail_agent_session")
    op.drop_index("ix_retail_rag_chunk_source_id", table_name="retail_rag_chunk")
    op.drop_table("retail_rag_chunk")
    op.drop_table("retail_rag_source")
