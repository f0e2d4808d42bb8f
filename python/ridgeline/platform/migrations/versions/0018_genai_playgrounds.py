"""genai playgrounds and agent projects: playground sessions and their messages, agent projects

Revision ID: 0018_genai_playgrounds
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_genai_playgrounds"
down_revision = "0008_genai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "genai_playground_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("playground_kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("assistant_ref", sa.String(128), nullable=True),
        sa.Column("model_selection", sa.JSON, nullable=False),
        sa.Column("knowledge_binding", sa.JSON, nullable=True),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_genai_playground_sessions_owner_id", "genai_playground_sessions", ["owner_id"])
    op.create_table(
        "genai_playground_messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(64),
            sa.ForeignKey("genai_playground_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "seq", name="uq_genai_playground_messages_seq"),
    )
    op.create_table(
        "genai_agent_projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("workflow_definition", sa.JSON, nullable=False),
        sa.Column("tool_policy", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_validation", sa.JSON, nullable=True),
        sa.Column("published_agent_id", sa.String(128), nullable=True),
        sa.Column("published_version", sa.Integer, nullable=True),
        sa.Column("published_revision", sa.Integer, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_genai_agent_projects_owner_id", "genai_agent_projects", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_genai_agent_projects_owner_id", table_name="genai_agent_projects")
    op.drop_table("genai_agent_projects")
    op.drop_table("genai_playground_messages")
    op.drop_index("ix_genai_playground_sessions_owner_id", table_name="genai_playground_sessions")
    op.drop_table("genai_playground_sessions")
