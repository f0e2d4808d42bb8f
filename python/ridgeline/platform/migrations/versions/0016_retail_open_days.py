"""retail open days and returns: an optional open/closed flag on daily sales; negative quantities
(returns) allowed in the table (the ingest still refuses them unless asked to take returns)

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

_DROPPED = ("ck_retail_sales_daily_quantity_nonneg", "ck_retail_sales_daily_total_amount_nonneg")


def _sales(with_returns: bool) -> sa.Table:
    """The table as 0002 created it plus is_open; SQLite rebuilds it from this (a reflected copy
    would lose WITHOUT ROWID and the check constraints' names)."""
    checks = [
        sa.CheckConstraint("unit_price >= 0", name="ck_retail_sales_daily_unit_price_nonneg"),
        sa.CheckConstraint(
            "transactions IS NULL OR transactions >= 0", name="ck_retail_sales_daily_transactions_nonneg"
        ),
    ]
    if not with_returns:
        checks += [
            sa.CheckConstraint("quantity >= 0", name=_DROPPED[0]),
            sa.CheckConstraint("total_amount >= 0", name=_DROPPED[1]),
        ]
    return sa.Table(
        "retail_sales_daily",
        sa.MetaData(),
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Float, nullable=False),
        sa.Column("total_amount", sa.Float, nullable=False),
        sa.Column("on_promotion", sa.Boolean, nullable=False),
        sa.Column("transactions", sa.Integer, nullable=True),
        sa.Column("is_open", sa.Boolean, nullable=True),
        sa.PrimaryKeyConstraint("date", "store_id", "product_id", name="pk_retail_sales_daily"),
        *checks,
        sa.Index("ix_retail_sales_daily_series", "store_id", "product_id", "date"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    # Nullable: rows ingested before (and rows that do not state it) are read as open.
    op.add_column("retail_sales_daily", sa.Column("is_open", sa.Boolean, nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("retail_sales_daily", recreate="always", copy_from=_sales(False)) as batch:
            for name in _DROPPED:
                batch.drop_constraint(name, type_="check")
    else:
        for name in _DROPPED:
            op.drop_constraint(name, "retail_sales_daily", type_="check")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("retail_sales_daily", recreate="always", copy_from=_sales(True)) as batch:
            batch.create_check_constraint(_DROPPED[0], "quantity >= 0")
            batch.create_check_constraint(_DROPPED[1], "total_amount >= 0")
            batch.drop_column("is_open")
    else:
        op.create_check_constraint(_DROPPED[0], "retail_sales_daily", "quantity >= 0")
        op.create_check_constraint(_DROPPED[1], "retail_sales_daily", "total_amount >= 0")
        op.drop_column("retail_sales_daily", "is_open")
