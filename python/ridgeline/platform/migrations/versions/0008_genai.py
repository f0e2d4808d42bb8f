"""genai: the family's branch (contract 004) and the tables several of its modules share (ModelOps
models and credentials); each module's own tables come in the revisions that follow this one

Revision ID: 0008_genai
Revises: 0001_platform
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_genai"
down_revision = "0001_platform"
branch_labels = ("genai",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "genai_models",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("provider_family", sa.String(64), nullable=True),
        sa.Column("provider_model_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(32), nullable=False, server_default="manual"),
        sa.Column("source_id", sa.String(255), nullable=True),
        sa.Column("local_path", sa.String(1024), nullable=True),
        sa.Column("credential_id", sa.String(64), nullable=True),
        sa.Column("lifecycle_state", sa.String(32), nullable=False, server_default="draft"),
        sa.Column("is_validation_current", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_validation_status", sa.String(32), nullable=True),
        sa.Column("last_validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metadata", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_credentials",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
        sa.Column("secret_hint", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("genai_credentials")
    op.drop_table("genai_models")
