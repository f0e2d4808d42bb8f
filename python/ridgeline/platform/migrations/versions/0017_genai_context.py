"""genai context management: schema profiles, knowledge bases, sources, documents, chunks, sync runs

Revision ID: 0017_genai_context
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_genai_context"
down_revision = "0008_genai"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _kb_fk() -> sa.Column:
    return sa.Column(
        "knowledge_base_id",
        sa.String(64),
        sa.ForeignKey("genai_knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "genai_context_schema_profiles",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("provider_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("provider_key", "name", name="uq_genai_context_profile_name"),
    )
    op.create_table(
        "genai_knowledge_bases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("provider_instance_id", sa.String(64), nullable=False),
        sa.Column("index_name", sa.String(128), nullable=False, unique=True),
        sa.Column("schema_profile_id", sa.String(64), nullable=True),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("vectorization", sa.JSON, nullable=False),
        sa.Column("chunking", sa.JSON, nullable=False),
        sa.Column("lifecycle_state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("sync_state", sa.String(16), nullable=False, server_default="ready"),
        sa.Column("content_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("document_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_sync_at", TS, nullable=True),
        sa.Column("last_sync_error", sa.Text, nullable=True),
        sa.Column("last_sync_summary", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "genai_context_sources",
        sa.Column("id", sa.String(64), primary_key=True),
        _kb_fk(),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("include_globs", sa.JSON, nullable=False),
        sa.Column("exclude_globs", sa.JSON, nullable=False),
        sa.Column("lifecycle_state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("last_sync_at", TS, nullable=True),
        sa.Column("last_sync_status", sa.String(16), nullable=True),
        sa.Column("last_sync_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "genai_context_documents",
        sa.Column("id", sa.String(64), primary_key=True),
        _kb_fk(),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=True, index=True),
        sa.Column("source_path", sa.String(2048), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=False, server_default="text/plain"),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "genai_context_chunks",
        sa.Column("id", sa.String(80), primary_key=True),
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
    op.create_table(
        "genai_context_sync_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        _kb_fk(),
        sa.Column("source_id", sa.String(64), nullable=True),
        sa.Column("operation_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("counters", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("errors", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("error_summary", sa.Text, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
    )


def downgrade() -> None:
    for name in ("genai_context_sync_runs", "genai_context_chunks", "genai_context_documents",
                 "genai_context_sources", "genai_knowledge_bases", "genai_context_schema_profiles"):  # fmt: skip
        op.drop_table(name)
