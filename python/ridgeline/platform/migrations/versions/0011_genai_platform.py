"""genai: the control plane's tables (runtime profile, providers, deployments, bindings, activation audit)

Revision ID: 0011_genai_platform
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_genai_platform"
down_revision = "0008_genai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "genai_runtime_profile",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_platform_providers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("slug", sa.String(128), nullable=False, unique=True),
        sa.Column("provider_key", sa.String(64), nullable=False),
        sa.Column("capability", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("endpoint_url", sa.String(1024), nullable=True),
        sa.Column("healthcheck_url", sa.String(1024), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("config", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("secret_refs_sealed", sa.Text, nullable=True),
        sa.Column("secret_ref_names", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("loaded_model_id", sa.String(64), nullable=True),
        sa.Column("loaded_runtime_model_id", sa.String(255), nullable=True),
        sa.Column("loaded_state", sa.String(16), nullable=False, server_default="empty"),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_validation", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_platform_deployments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("slug", sa.String(128), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_platform_bindings",
        sa.Column(
            "deployment_id",
            sa.String(64),
            sa.ForeignKey("genai_platform_deployments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("capability", sa.String(32), primary_key=True),
        sa.Column("provider_id", sa.String(64), sa.ForeignKey("genai_platform_providers.id"), nullable=False),
        sa.Column("resources", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("default_resource_id", sa.String(255), nullable=True),
        sa.Column("config", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_platform_activation_audit",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("deployment_id", sa.String(64), nullable=False),
        sa.Column("deployment_slug", sa.String(128), nullable=False),
        sa.Column("previous_deployment_id", sa.String(64), nullable=True),
        sa.Column("activated_by", sa.String(64), nullable=True),
        sa.Column("runtime_mode", sa.String(16), nullable=False),
        sa.Column("preflight", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("configuration_status", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("genai_platform_activation_audit")
    op.drop_table("genai_platform_bindings")
    op.drop_table("genai_platform_deployments")
    op.drop_table("genai_platform_providers")
    op.drop_table("genai_runtime_profile")
