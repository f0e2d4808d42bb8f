"""retail: stores, products, calendar, store holidays, daily sales, daily inventory, seed runs

Revision ID: 0002_retail_data
Revises: 0001_platform
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_retail_data"
down_revision = "0001_platform"
branch_labels = ("retail",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retail_store",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("store_type", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_retail_store_code"),
    )
    op.create_index("ix_retail_store_region", "retail_store", ["region"])
    op.create_index("ix_retail_store_store_type", "retail_store", ["store_type"])

    op.create_table(
        "retail_product",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("base_price", sa.Float, nullable=True),
        sa.Column("base_cost", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sku", name="uq_retail_product_sku"),
    )
    op.create_index("ix_retail_product_category", "retail_product", ["category"])
    op.create_index("ix_retail_product_brand", "retail_product", ["brand"])

    op.create_table(
        "retail_calendar",
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("day_of_week", sa.SmallInteger, nullable=False),
        sa.Column("iso_week", sa.SmallInteger, nullable=False),
        sa.Column("month", sa.SmallInteger, nullable=False),
        sa.Column("quarter", sa.SmallInteger, nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("is_holiday", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("holiday_name", sa.String(100), nullable=True),
    )

    op.create_table(
        "retail_store_holiday",
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "date", "kind", name="pk_retail_store_holiday"),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["retail_store.id"],
            ondelete="CASCADE",
            name="fk_retail_store_holiday_store_id_retail_store",
        ),
    )
    op.create_index("ix_retail_store_holiday_date", "retail_store_holiday", ["date"])

    op.create_table(
        "retail_sales_daily",
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Float, nullable=False),
        sa.Column("total_amount", sa.Float, nullable=False),
        sa.Column("on_promotion", sa.Boolean, nullable=False),
        sa.Column("transactions", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("date", "store_id", "product_id", name="pk_retail_sales_daily"),
        sa.CheckConstraint("quantity >= 0", name="ck_retail_sales_daily_quantity_nonneg"),
        sa.CheckConstraint("unit_price >= 0", name="ck_retail_sales_daily_unit_price_nonneg"),
        sa.CheckConstraint("total_amount >= 0", name="ck_retail_sales_daily_total_amount_nonneg"),
        sa.CheckConstraint(
            "transactions IS NULL OR transactions >= 0", name="ck_retail_sales_daily_transactions_nonneg"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_retail_sales_daily_series", "retail_sales_daily", ["store_id", "product_id", "date"])

    op.create_table(
        "retail_inventory_daily",
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("on_hand_qty", sa.Integer, nullable=False),
        sa.Column("on_order_qty", sa.Integer, nullable=False),
        sa.Column("is_stockout", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("date", "store_id", "product_id", name="pk_retail_inventory_daily"),
        sa.CheckConstraint("on_hand_qty >= 0", name="ck_retail_inventory_daily_on_hand_nonneg"),
        sa.CheckConstraint("on_order_qty >= 0", name="ck_retail_inventory_daily_on_order_nonneg"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_retail_inventory_daily_series", "retail_inventory_daily", ["store_id", "product_id", "date"]
    )

    op.create_table(
        "retail_seed_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("records", sa.JSON, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retail_seed_run")
    op.drop_index("ix_retail_inventory_daily_series", "retail_inventory_daily")
    op.drop_table("retail_inventory_daily")
    op.drop_index("ix_retail_sales_daily_series", "retail_sales_daily")
    op.drop_table("retail_sales_daily")
    op.drop_index("ix_retail_store_holiday_date", "retail_store_holiday")
    op.drop_table("retail_store_holiday")
    op.drop_table("retail_calendar")
    op.drop_index("ix_retail_product_brand", "retail_product")
    op.drop_index("ix_retail_product_category", "retail_product")
    op.drop_table("retail_product")
    op.drop_index("ix_retail_store_store_type", "retail_store")
    op.drop_index("ix_retail_store_region", "retail_store")
    op.drop_table("retail_store")
