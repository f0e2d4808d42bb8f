"""retail forecasting: model runs (registry), aliases, scenario plans

Revision ID: 0003_retail_forecast
Revises: 0002_retail_data
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_retail_forecast"
down_revision = "0002_retail_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retail_model_run",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("store_id", sa.Integer, nullable=True),
        sa.Column("product_id", sa.Integer, nullable=True),
        sa.Column("model_config", sa.JSON, nullable=False),
        sa.Column("feature_config", sa.JSON, nullable=True),
        sa.Column("data_window_start", sa.Date, nullable=True),
        sa.Column("data_window_end", sa.Date, nullable=True),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("runtime_info", sa.JSON, nullable=True),
        sa.Column("artifact_uri", sa.String(500), nullable=True),
        sa.Column("artifact_sha256", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_retail_model_run_created", "retail_model_run", ["created_at"])
    op.create_index("ix_retail_model_run_type_status", "retail_model_run", ["model_type", "status"])
    op.create_index("ix_retail_model_run_series", "retail_model_run", ["store_id", "product_id"])
    op.create_table(
        "retail_model_alias",
        sa.Column("alias_name", sa.String(100), primary_key=True),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("retail_model_run.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_retail_model_alias_run", "retail_model_alias", ["run_id"])
    op.create_table(
        "retail_scenario_plan",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("horizon", sa.Integer, nullable=False),
        sa.Column("assumptions", sa.JSON, nullable=False),
        sa.Column("comparison", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("cloned_from", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_retail_scenario_plan_created", "retail_scenario_plan", ["created_at"])


def downgrade() -> None:
    op.drop_table("retail_scenario_plan")
    op.drop_table("retail_model_alias")
    op.drop_table("retail_model_run")
