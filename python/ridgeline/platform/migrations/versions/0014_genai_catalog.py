"""genai catalog: the registry (entities and versions), policy rules, quotes and voice wake events

Revision ID: 0014_genai_catalog
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_genai_catalog"
down_revision = "0008_genai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "genai_registry_entities",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_registry_versions",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["genai_registry_entities.kind", "genai_registry_entities.id"],
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "genai_policy_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("effect", sa.String(8), nullable=False),
        sa.Column("subjects", sa.JSON, nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("conditions", sa.JSON, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_quotes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("language", sa.String(16), nullable=False, server_default="en"),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_voice_wake_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("wake_word", sa.String(100), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("genai_voice_wake_events")
    op.drop_table("genai_quotes")
    op.drop_table("genai_policy_rules")
    op.drop_table("genai_registry_versions")
    op.drop_table("genai_registry_entities")
