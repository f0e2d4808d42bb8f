"""retail ingest layout: retail_sales_daily loses its index on batch_id, and each ingest batch
records the date range of the rows it wrote (retail_ingest_batch.first_date / last_date).

The batch index served only ``DELETE /ingest/batches/{id}``, yet every ingested row paid for it:
a B-tree insert per row on later loads, and on a first load a rebuild (sort of 729,128 entries for
the Rossmann file) and its pages in the commit. A batch's rows now lie in its date range, which
the date-leading primary key reads directly (batches recorded before this migration have no range
and are found by a scan of the fact table).

Revision ID: 0026_retail_ingest_layout
Revises: 0025_retail_ingest_speed
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_retail_ingest_layout"
down_revision = "0025_retail_ingest_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_retail_sales_daily_batch", table_name="retail_sales_daily")
    op.add_column("retail_ingest_batch", sa.Column("first_date", sa.Date, nullable=True))
    op.add_column("retail_ingest_batch", sa.Column("last_date", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("retail_ingest_batch") as batch:
        batch.drop_column("last_date")
        batch.drop_column("first_date")
    op.create_index("ix_retail_sales_daily_batch", "retail_sales_daily", ["batch_id"])
