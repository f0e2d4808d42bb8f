"""routing: custom vehicles, experiments, runs, oracle quality scores

Revision ID: 0004_routing
Revises: 0001_platform
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_routing"
down_revision = "0001_platform"
branch_labels = ("routing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_vehicles",
        sa.Column("vehicle_id", sa.String(64), primary_key=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "routing_experiments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "routing_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("scenario_manifest", sa.JSON, nullable=False),
        sa.Column("scenario_signature", sa.Text, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_routing_runs_created", "routing_runs", ["created_at"])
    op.create_table(
        "routing_oracle_scores",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asset_name", sa.String(64), nullable=False),
        sa.Column("pairs", sa.Integer, nullable=False),
        sa.Column("extremes_pass_rate", sa.Float, nullable=False),
        sa.Column("epsilon_pass_rate", sa.Float, nullable=False),
        sa.Column("brute_force_pass_rate", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routing_oracle_scores")
    op.drop_index("ix_routing_runs_created", "routing_runs")
    op.drop_table("routing_runs")
    op.drop_table("routing_experiments")
    op.drop_table("routing_vehicles")
