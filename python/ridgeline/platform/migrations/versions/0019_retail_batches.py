"""retail ingest batches: every committed POST /ingest/sales-daily is recorded in
retail_ingest_batch, and each sales row names the batch whose values it holds (batch_id), so one
batch can be deleted. Rows stored before this migration (and seeded rows) have a NULL batch.

Revision ID: 0019_retail_batches
Revises: 0003_retail_forecast
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_retail_batches"
down_revision = "0003_retail_forecast"
branch_labels = None
# 0016 rebuilds retail_sales_daily on SQLite from a fixed column list; it must run first or it would
# drop batch_id again.
depends_on = "0016_retail_open_days"


def upgrade() -> None:
    op.create_table(
        "retail_ingest_batch",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("total_received", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Nullable with no default: ADD COLUMN is a catalogue change on both databases (no table rewrite),
    # and every existing row reads as the legacy (NULL) batch.
    op.add_column("retail_sales_daily", sa.Column("batch_id", sa.Integer, nullable=True))
    op.create_index("ix_retail_sales_daily_batch", "retail_sales_daily", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_retail_sales_daily_batch", table_name="retail_sales_daily")
    op.drop_column("retail_sales_daily", "batch_id")
    op.drop_table("retail_ingest_batch")
