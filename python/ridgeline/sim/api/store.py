"""Tables of the sim family (migration ``0005_sim``). A run's status is its job's status
(``platform_jobs``); member runs of a batch share the batch's job."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

projects = sa.Table(
    "sim_projects",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

assets = sa.Table(
    "sim_assets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project_id", sa.String(32), sa.ForeignKey("sim_projects.id"), nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_sim_assets_name", "name"),
)

batches = sa.Table(
    "sim_batches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("job_id", sa.String(32), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
)

runs = sa.Table(
    "sim_runs",
    metadata,
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
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_sim_runs_created", "created_at"),
    sa.Index("ix_sim_runs_job", "job_id"),
    sa.Index("ix_sim_runs_batch", "batch_id"),
)

webhook_deliveries = sa.Table(
    "sim_webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("delivery_id", sa.String(32), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_sim_webhook_deliveries_run", "run_id"),
)
