"""retail ingest speed: retail_store_holiday loses its FOREIGN KEY to retail_store, like the other
fact tables (retail_sales_daily, retail_inventory_daily). The per-row referential check cost more
than the insert itself when an ingest writes the holidays its rows state (152,447 rows for the
Rossmann file: about 2 s of PostgreSQL server time out of 3). Store ids only ever come from the
dimension lookup in the same transaction, stores are never deleted one by one, and
``DELETE /seeder/data`` removes the facts (holidays included) before the stores.

SQLite cannot drop a constraint, so the table is rebuilt there (same columns, primary key and
index, no FOREIGN KEY).

Revision ID: 0025_retail_ingest_speed
Revises: 0019_retail_batches
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_retail_ingest_speed"
down_revision = "0019_retail_batches"
branch_labels = None
depends_on = None

TABLE = "retail_store_holiday"
FK = "fk_retail_store_holiday_store_id_retail_store"
COLUMNS = "store_id, date, kind, name"


def _rebuild_sqlite(with_fk: bool) -> None:
    extra: list[sa.SchemaItem] = []
    if with_fk:
        extra.append(sa.ForeignKeyConstraint(["store_id"], ["retail_store.id"], ondelete="CASCADE", name=FK))
    op.create_table(
        f"_new_{TABLE}",
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "date", "kind", name=f"pk_{TABLE}"),
        *extra,
    )
    op.execute(f"INSERT INTO _new_{TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}")
    op.drop_index("ix_retail_store_holiday_date", table_name=TABLE)
    op.drop_table(TABLE)
    op.rename_table(f"_new_{TABLE}", TABLE)
    op.create_index("ix_retail_store_holiday_date", TABLE, ["date"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_fk=False)
    else:
        op.drop_constraint(FK, TABLE, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_fk=True)
    else:
        op.create_foreign_key(FK, TABLE, "retail_store", ["store_id"], ["id"], ondelete="CASCADE")
