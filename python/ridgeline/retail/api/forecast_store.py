"""Tables of the forecasting slices: model runs (the registry), aliases and saved scenario plans."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

model_runs = sa.Table(
    "retail_model_run",
    metadata,
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
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Index("ix_retail_model_run_created", "created_at"),
    sa.Index("ix_retail_model_run_type_status", "model_type", "status"),
    sa.Index("ix_retail_model_run_series", "store_id", "product_id"),
)

model_aliases = sa.Table(
    "retail_model_alias",
    metadata,
    sa.Column("alias_name", sa.String(100), primary_key=True),
    sa.Column(
        "run_id", sa.String(32), sa.ForeignKey("retail_model_run.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("description", sa.String(500), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_retail_model_alias_run", "run_id"),
)

scenario_plans = sa.Table(
    "retail_scenario_plan",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.String(2000), nullable=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("assumptions", sa.JSON, nullable=False),
    sa.Column("comparison", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("cloned_from", sa.String(32), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_retail_scenario_plan_created", "created_at"),
)

FORECAST_TABLES = (scenario_plans, model_aliases, model_runs)
