"""retail open days: an optional open/closed flag on daily sales

Revision ID: 0016_retail_open_days
Revises: 0003_retail_forecast
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_retail_open_days"
down_revision = "0003_retail_forecast"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows ingested before (and rows that do not state it) are read as open.
    op.add_column("retail_sales_daily", sa.Column("is_open", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("retail_sales_daily") as batch:
        batch.drop_column("is_open")
