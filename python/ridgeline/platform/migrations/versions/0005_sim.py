"""sim: projects, assets, batches, runs, webhook deliveries

Revision ID: 0005_sim
Revises: 0001_platform
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_sim"
down_revision = "0001_platform"
branch_labels = ("sim",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sim_projects",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sim_assets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey("sim_projects.id", name="fk_sim_assets_project_id_sim_projects"),
            nullable=True,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sim_assets_name", "sim_assets", ["name"])
    op.create_table(
        "sim_batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "sim_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=True),
        sa.Column("project_id", sa.String(32), nullable=True),
        sa.Column("api", sa.String(8), nullable=False),
        sa.Column("scenario", sa.String(128), nullable=True),
        sa.Column("robot", sa.String(255), nullable=False),
        sa.Column("robot_sha256", sa.String(64), nullable=False),
        sa.Column("profile", sa.String(128), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("episode_metrics", sa.JSON, nullable=True),
        sa.Column("steps_completed", sa.JSON, nullable=True),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("replay_sha256", sa.String(64), nullable=True),
        sa.Column("replay_size", sa.BigInteger, nullable=True),
        sa.Column("webhook_url", sa.String(2048), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sim_runs_created", "sim_runs", ["created_at"])
    op.create_index("ix_sim_runs_job", "sim_runs", ["job_id"])
    op.create_index("ix_sim_runs_batch", "sim_runs", ["batch_id"])
    op.create_table(
        "sim_webhook_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sim_webhook_deliveries_run", "sim_webhook_deliveries", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sim_webhook_deliveries_run", "sim_webhook_deliveries")
    op.drop_table("sim_webhook_deliveries")
    op.drop_index("ix_sim_runs_batch", "sim_runs")
    op.drop_index("ix_sim_runs_job", "sim_runs")
    op.drop_index("ix_sim_runs_created", "sim_runs")
    op.drop_table("sim_runs")
    op.drop_table("sim_batches")
    op.drop_index("ix_sim_assets_name", "sim_assets")
    op.drop_table("sim_assets")
    op.drop_table("sim_projects")
