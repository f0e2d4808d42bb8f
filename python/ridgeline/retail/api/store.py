"""Retail tables and the queries over them.

Star schema: two dimensions (``retail_store``, ``retail_product``), a calendar with chain-wide
holidays, store-local holidays, and two daily facts keyed by (store, product, date):
``retail_sales_daily`` and ``retail_inventory_daily``. Every aggregation here runs in SQL
(GROUP BY) or in polars; nothing loops over fact rows in Python.

The read functions (:func:`load_sales_frame`, :func:`load_calendar_frame`) return polars
DataFrames; :func:`load_history` turns them into the forecasting engine's frame: one series per
(store, product), ``series_id = store_id * 1_000_000 + product_id``, target ``y`` = units sold
(``quantity``), exogenous ``price`` (``unit_price``) and ``promo`` (``on_promotion``). A missing day
is a gap, not a zero. Holidays are the chain calendar's plus the store's public holidays.

The forecasting tables (model runs, aliases, saved scenario plans) are declared here as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.platform.db import UTCDateTime, metadata
from ridgeline.platform.problems import NotFound
from ridgeline.retail.dates import shift

if TYPE_CHECKING:
    from ridgeline.platform.context import AppContext
    from ridgeline.platform.db import Database

stores = sa.Table(
    "retail_store",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("region", sa.String(64), nullable=True),
    sa.Column("city", sa.String(100), nullable=True),
    sa.Column("store_type", sa.String(32), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_retail_store_region", "region"),
    sa.Index("ix_retail_store_store_type", "store_type"),
)

products = sa.Table(
    "retail_product",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("category", sa.String(100), nullable=True),
    sa.Column("brand", sa.String(100), nullable=True),
    sa.Column("base_price", sa.Float, nullable=True),
    sa.Column("base_cost", sa.Float, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_retail_product_category", "category"),
    sa.Index("ix_retail_product_brand", "brand"),
)

calendar = sa.Table(
    "retail_calendar",
    metadata,
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("day_of_week", sa.SmallInteger, nullable=False),  # 0 = Monday .. 6 = Sunday
    sa.Column("iso_week", sa.SmallInteger, nullable=False),
    sa.Column("month", sa.SmallInteger, nullable=False),
    sa.Column("quarter", sa.SmallInteger, nullable=False),
    sa.Column("year", sa.SmallInteger, nullable=False),
    sa.Column("is_holiday", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("holiday_name", sa.String(100), nullable=True),
)

store_holidays = sa.Table(
    "retail_store_holiday",
    metadata,
    # No FOREIGN KEY, like the other facts (migration 0025): the per-row check cost more than the
    # insert when an ingest writes the holidays its rows state.
    sa.Column("store_id", sa.Integer, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "public" | "school"
    sa.Column("name", sa.String(100), nullable=True),
    sa.PrimaryKeyConstraint("store_id", "date", "kind"),
    sa.Index("ix_retail_store_holiday_date", "date"),
)

sales = sa.Table(
    "retail_sales_daily",
    metadata,
    # No FOREIGN KEY on the facts: the per-row RI checks doubled bulk-load time on PostgreSQL. Ids
    # only ever come from the dimension lookup in the same transaction, deletes remove facts first,
    # and POST /seeder/verify checks for orphans.
    sa.Column("store_id", sa.Integer, nullable=False),
    sa.Column("product_id", sa.Integer, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Float, nullable=False),
    sa.Column("total_amount", sa.Float, nullable=False),
    sa.Column("on_promotion", sa.Boolean, nullable=False),
    sa.Column("transactions", sa.Integer, nullable=True),
    # Optional open/closed flag (migration 0016): NULL = not stated, read as open.
    sa.Column("is_open", sa.Boolean, nullable=True),
    # The ingest batch whose values the row holds (migration 0019; retail_ingest_batch.id, no FOREIGN
    # KEY like the rest of the facts). NULL: written before batches were recorded, or by the seeder.
    sa.Column("batch_id", sa.Integer, nullable=True),
    # Date-leading primary key: on SQLite (WITHOUT ROWID) the table is clustered by date, so date-range
    # analytics scan contiguous pages; the series index serves per (store, product) history reads.
    sa.PrimaryKeyConstraint("date", "store_id", "product_id"),
    # quantity and total_amount may be negative (returns, migration 0016); the ingest refuses negative
    # values unless the batch is sent with allow_returns=true.
    sa.CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
    sa.CheckConstraint("transactions IS NULL OR transactions >= 0", name="transactions_nonneg"),
    sa.Index("ix_retail_sales_daily_series", "store_id", "product_id", "date"),
    # No index on batch_id (migration 0026): a batch's rows lie in its recorded date range
    # (retail_ingest_batch.first_date..last_date), which the primary key reads.
    # SQLite: the primary key is the table (no separate rowid B-tree); ignored by PostgreSQL.
    sqlite_with_rowid=False,
)

inventory = sa.Table(
    "retail_inventory_daily",
    metadata,
    # No FOREIGN KEY on the facts: the per-row RI checks doubled bulk-load time on PostgreSQL. Ids
    # only ever come from the dimension lookup in the same transaction, deletes remove facts first,
    # and POST /seeder/verify checks for orphans.
    sa.Column("store_id", sa.Integer, nullable=False),
    sa.Column("product_id", sa.Integer, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("on_hand_qty", sa.Integer, nullable=False),
    sa.Column("on_order_qty", sa.Integer, nullable=False),
    sa.Column("is_stockout", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("date", "store_id", "product_id"),
    sa.CheckConstraint("on_hand_qty >= 0", name="on_hand_nonneg"),
    sa.CheckConstraint("on_order_qty >= 0", name="on_order_nonneg"),
    sa.Index("ix_retail_inventory_daily_series", "store_id", "product_id", "date"),
    sqlite_with_rowid=False,
)

#: One row per ``POST /ingest/sales-daily`` that committed (migration 0019): what it wrote, so that
#: ``DELETE /ingest/batches/{batch_id}`` can remove exactly the rows still holding its values.
ingest_batches = sa.Table(
    "retail_ingest_batch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("total_received", sa.Integer, nullable=False, server_default="0"),
    sa.Column("inserted_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    # The dates of the rows the batch inserted or updated lie in first_date..last_date (migration
    # 0026; NULL for batches recorded before it, or that wrote nothing).
    sa.Column("first_date", sa.Date, nullable=True),
    sa.Column("last_date", sa.Date, nullable=True),
)

seed_runs = sa.Table(
    "retail_seed_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scenario", sa.String(64), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("records", sa.JSON, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

#: Fact and dimension tables in dependency order (children first, for deletes).
ALL_TABLES = (sales, inventory, store_holidays, calendar, products, stores)
FACT_TABLES = (sales, inventory, store_holidays)

SALES_COLUMNS = ("quantity", "unit_price", "total_amount", "on_promotion", "transactions", "is_open")


def now_utc() -> datetime:
    return datetime.now(UTC)


async def tune_for_bulk(conn: AsyncConnection) -> None:
    """SQLite: a 256 MiB page cache on this connection so large upserts stay in memory,
    temporary (stage) tables and sorts in memory, and up to two sorter threads, so rebuilding an
    index after a first load can use the second core."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("PRAGMA cache_size=-262144")
        await conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        await conn.exec_driver_sql("PRAGMA threads=2")


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert_statement(
    conn: AsyncConnection,
    table: sa.Table,
    keys: Sequence[str],
    update: Sequence[str],
    *,
    only_if_changed: Sequence[str] = (),
) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET update`` (``DO NOTHING`` without ``update``).

    With ``only_if_changed`` the update happens only when one of those columns differs, so an
    identical row keeps its ``updated_at``.
    """
    stmt = dialect_insert(conn, table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    where = None
    if only_if_changed:
        where = sa.or_(*[table.c[c].is_distinct_from(getattr(stmt.excluded, c)) for c in only_if_changed])
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in update}, where=where
    )


class BulkWriter:
    """Executemany of one compiled statement with positional tuples: the fast path for large batches.

    The statement is built with SQLAlchemy's dialect ``insert`` (``ON CONFLICT``) and compiled once;
    rows go to the driver as tuples in chunks, skipping per-row dict processing.
    """

    def __init__(self, conn: AsyncConnection, stmt: Any, columns: Sequence[str]) -> None:
        compiled = stmt.compile(dialect=conn.dialect)
        self.sql = str(compiled)
        order = list(compiled.positiontup or [])
        # Bind names are the column names for an INSERT ... VALUES built from table columns.
        self.index = [list(columns).index(name) for name in order]
        self.conn = conn
        self.is_pg = conn.dialect.name == "postgresql"

    async def write(self, df: pl.DataFrame, chunk_rows: int = 50_000) -> None:
        if df.height == 0:
            return
        df = _driver_frame(df, self.is_pg)
        cols = df.columns
        picked = df.select([cols[i] for i in self.index])
        for start in range(0, picked.height, chunk_rows):
            part = await asyncio.to_thread(picked.slice(start, chunk_rows).rows)
            await self.conn.exec_driver_sql(self.sql, part)  # type: ignore[arg-type]


class Stage:
    """A temporary table shaped like ``table`` for set-based upserts.

    PostgreSQL: ``CREATE TEMP TABLE ... (LIKE table) ON COMMIT DROP`` filled with ``COPY`` (asyncpg
    ``copy_records_to_table``). SQLite: ``CREATE TEMP TABLE ... AS SELECT * FROM table WHERE 0``
    filled with one executemany. Either way the rows then reach the real table through one
    ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` (or classification queries) inside the database.
    """

    def __init__(self, conn: AsyncConnection, table: sa.Table, columns: Sequence[str]) -> None:
        self.conn = conn
        self.table = table
        self.columns = list(columns)
        self.name = f"_stage_{table.name}"
        self.ref = sa.table(self.name, *[sa.column(c) for c in self.columns])
        self.is_pg = conn.dialect.name == "postgresql"

    async def __aenter__(self) -> Stage:
        if self.is_pg:
            await self.conn.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.name} (LIKE {self.table.name}) ON COMMIT DROP"
            )
        else:
            await self.conn.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.name} AS SELECT * FROM main.{self.table.name} WHERE 0"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.exec_driver_sql(f"DELETE FROM {self.name}")

    async def load(self, df: pl.DataFrame) -> None:
        df = df.select(self.columns)
        if self.is_pg:
            raw = await self.conn.get_raw_connection()
            driver: Any = raw.driver_connection
            records = await asyncio.to_thread(df.rows)
            await driver.copy_records_to_table(self.name, records=records, columns=self.columns)
            return
        stmt = sa.insert(self.ref)
        await BulkWriter(self.conn, stmt, self.columns).write(df)

    def upsert_from_stage(self, keys: Sequence[str], update: Sequence[str], where: Any = None) -> Any:
        select = sa.select(*[self.ref.c[c] for c in self.columns])
        if where is not None:
            select = select.where(where)
        elif self.conn.dialect.name == "sqlite":
            select = select.where(sa.true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
        stmt = dialect_insert(self.conn, self.table).from_select(self.columns, select)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in update}
        )


async def bulk_upsert(
    conn: AsyncConnection, table: sa.Table, df: pl.DataFrame, keys: Sequence[str], update: Sequence[str]
) -> None:
    """Upsert a frame by ``keys`` (``ON CONFLICT DO UPDATE`` of ``update``; nothing when empty).

    SQLite: executemany of the compiled upsert. PostgreSQL: COPY into a stage, one INSERT ... SELECT.
    """
    if df.height == 0:
        return
    if conn.dialect.name == "postgresql":
        async with Stage(conn, table, df.columns) as stage:
            await stage.load(df)
            await conn.execute(stage.upsert_from_stage(keys, update))
        return
    await BulkWriter(conn, upsert_statement(conn, table, keys, update), df.columns).write(df)


def _driver_frame(df: pl.DataFrame, is_pg: bool) -> pl.DataFrame:
    """Convert columns to what the raw driver expects (SQLite: ISO date strings and 0/1 booleans)."""
    if is_pg:
        return df
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            exprs.append(pl.col(name).cast(pl.Int8))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs)


# --------------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------------


def calendar_frame(dates: pl.Series) -> pl.DataFrame:
    """Calendar rows for the given dates (no holidays flagged)."""
    d = pl.DataFrame({"date": dates.unique().sort()})
    return d.with_columns(
        (pl.col("date").dt.weekday() - 1).cast(pl.Int16).alias("day_of_week"),
        pl.col("date").dt.week().cast(pl.Int16).alias("iso_week"),
        pl.col("date").dt.month().cast(pl.Int16).alias("month"),
        pl.col("date").dt.quarter().cast(pl.Int16).alias("quarter"),
        pl.col("date").dt.year().cast(pl.Int16).alias("year"),
        pl.lit(False).alias("is_holiday"),
        pl.lit(None, dtype=pl.String).alias("holiday_name"),
    )


async def ensure_calendar(conn: AsyncConnection, dates: pl.Series) -> None:
    """Add calendar rows for unseen dates (existing rows, and their holiday flags, are kept)."""
    frame = calendar_frame(dates)
    if frame.height == 0:
        return
    await bulk_upsert(conn, calendar, frame, ["date"], [])


async def upsert_calendar(conn: AsyncConnection, frame: pl.DataFrame) -> None:
    """Insert or replace calendar rows, holiday flags included."""
    cols = [c.name for c in calendar.columns if c.name != "date"]
    await bulk_upsert(conn, calendar, frame, ["date"], cols)


# --------------------------------------------------------------------------------------------------
# Reads shared with the rest of the retail family
# --------------------------------------------------------------------------------------------------

SALES_SCHEMA = {
    "store_id": pl.Int64,
    "product_id": pl.Int64,
    "date": pl.Date,
    "quantity": pl.Int64,
    "unit_price": pl.Float64,
    "total_amount": pl.Float64,
    "on_promotion": pl.Boolean,
    "transactions": pl.Int64,
    "is_open": pl.Boolean,
}


def rows_frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """Result rows as a polars DataFrame with the given schema (dates and booleans normalised)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    raw = pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)
    return raw.with_columns([_cast(name, dtype) for name, dtype in schema.items()])


def _cast(name: str, dtype: Any) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        # asyncpg yields dates, SQLite ISO strings: normalise through the string form.
        return col.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d")
    if dtype == pl.Boolean:
        return col.cast(pl.Int8).cast(pl.Boolean)
    return col.cast(dtype)


async def fetch_frame(conn: AsyncConnection, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """Run a SELECT through the raw driver (no per-value SQLAlchemy processing) into a polars frame.

    The columns of ``query`` must be in the order of ``schema``.
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    values = [params[name] for name in (compiled.positiontup or [])]
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if conn.dialect.name == "postgresql":
        records = await driver.fetch(str(compiled), *values)
        rows: Any = await asyncio.to_thread(lambda: [tuple(r) for r in records])
    else:
        values = [v.isoformat() if isinstance(v, date) else v for v in values]
        async with driver.execute(str(compiled), values) as cursor:
            rows = await cursor.fetchall()
    return await asyncio.to_thread(rows_frame, rows, schema)


async def load_sales_frame(
    conn: AsyncConnection,
    *,
    store_ids: Sequence[int] | None = None,
    product_ids: Sequence[int] | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> pl.DataFrame:
    """Daily sales as a polars DataFrame (schema :data:`SALES_SCHEMA`), sorted by store, product, date.

    Only the days that have a sales row are returned; a missing day is a gap, not a zero (callers
    that need a dense calendar reindex by date).
    """
    q = sa.select(*[sales.c[name] for name in SALES_SCHEMA])
    if store_ids is not None:
        q = q.where(sales.c.store_id.in_(list(store_ids)))
    if product_ids is not None:
        q = q.where(sales.c.product_id.in_(list(product_ids)))
    if start_date is not None:
        q = q.where(sales.c.date >= start_date)
    if end_date is not None:
        q = q.where(sales.c.date <= end_date)
    # Sorted in polars: on SQLite the table is clustered by date, and reading it in series order
    # would cost an index lookup per row.
    frame = await fetch_frame(conn, q, SALES_SCHEMA)
    return frame.sort("store_id", "product_id", "date")


CALENDAR_SCHEMA = {
    "date": pl.Date,
    "day_of_week": pl.Int16,
    "iso_week": pl.Int16,
    "month": pl.Int16,
    "quarter": pl.Int16,
    "year": pl.Int16,
    "is_holiday": pl.Boolean,
    "holiday_name": pl.String,
}


async def load_calendar_frame(
    conn: AsyncConnection, *, start_date: date | None = None, end_date: date | None = None
) -> pl.DataFrame:
    """The calendar (chain-wide holidays included) as a polars DataFrame sorted by date."""
    q = sa.select(*[calendar.c[name] for name in CALENDAR_SCHEMA])
    if start_date is not None:
        q = q.where(calendar.c.date >= start_date)
    if end_date is not None:
        q = q.where(calendar.c.date <= end_date)
    return await fetch_frame(conn, q.order_by(calendar.c.date), CALENDAR_SCHEMA)


STORE_HOLIDAY_SCHEMA = {"store_id": pl.Int64, "date": pl.Date, "kind": pl.String, "name": pl.String}


async def load_store_holidays_frame(
    conn: AsyncConnection,
    *,
    store_ids: Sequence[int] | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> pl.DataFrame:
    """Store-local holidays (kind ``public`` or ``school``) as a polars DataFrame."""
    q = sa.select(*[store_holidays.c[name] for name in STORE_HOLIDAY_SCHEMA])
    if store_ids is not None:
        q = q.where(store_holidays.c.store_id.in_(list(store_ids)))
    if start_date is not None:
        q = q.where(store_holidays.c.date >= start_date)
    if end_date is not None:
        q = q.where(store_holidays.c.date <= end_date)
    return await fetch_frame(
        conn, q.order_by(store_holidays.c.store_id, store_holidays.c.date), STORE_HOLIDAY_SCHEMA
    )


async def table_counts(conn: AsyncConnection) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in (stores, products, calendar, store_holidays, sales, inventory):
        out[table.name] = int(
            (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )
    return out


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


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# One series per (store, product): an integer key, so the engine's radix sort applies.
SERIES_FACTOR = 1_000_000


def series_key(store_id: int, product_id: int) -> int:
    return store_id * SERIES_FACTOR + product_id


def split_key(key: int) -> tuple[int, int]:
    return key // SERIES_FACTOR, key % SERIES_FACTOR


async def load_history(
    ctx: AppContext,
    store_ids: Sequence[int],
    product_ids: Sequence[int] | None,
    start: date | None,
    end: date | None,
) -> tuple[pl.DataFrame, pl.Series]:
    """(frame: series_id, date, y, price, promo; holiday dates) for the stores/products and dates."""
    async with ctx.db.engine.connect() as conn:
        history = await load_sales_frame(
            conn, store_ids=list(store_ids), product_ids=product_ids, start_date=start, end_date=end
        )
        # The calendar reaches 400 days either side (yearly features, holiday distances).
        cal_start = shift(start, -400) if start else None
        cal_end = shift(end, 400) if end else None
        cal = await load_calendar_frame(conn, start_date=cal_start, end_date=cal_end)
        local = await load_store_holidays_frame(
            conn, store_ids=list(store_ids), start_date=cal_start, end_date=cal_end
        )
    frame = history.select(
        (pl.col("store_id") * SERIES_FACTOR + pl.col("product_id")).alias("series_id"),
        "date",
        pl.col("quantity").cast(pl.Float64).alias("y"),
        pl.col("unit_price").cast(pl.Float64).alias("price"),
        pl.col("on_promotion").cast(pl.Float64).alias("promo"),
        pl.col("is_open").fill_null(True).cast(pl.Float64).alias("open"),
    )
    holidays = pl.concat(
        [
            cal.filter(pl.col("is_holiday"))["date"],
            local.filter(pl.col("kind") == "public")["date"],
        ]
    ).unique()
    return frame, holidays


async def load_series(
    ctx: AppContext, store_id: int, product_id: int, start: date | None, end: date | None
) -> tuple[pl.DataFrame, pl.Series]:
    """One (store, product) series; 404 ``series_not_found`` when it has no sales in the range."""
    frame, holidays = await load_history(ctx, [store_id], [product_id], start, end)
    if frame.height == 0:
        raise NotFound(
            "series",
            (store_id, product_id),
            message=f"no sales for store {store_id} and product {product_id} in the requested range",
            store_id=store_id,
            product_id=product_id,
        )
    return frame, holidays


# ---- registry queries (model runs, aliases) --------------------------------------------------


async def insert_run(db: Database, values: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(model_runs.insert().values(**values))


async def run_row(db: Database, run_id: str) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(model_runs.select().where(model_runs.c.id == run_id))).first()


async def run_rows(
    db: Database, conds: Sequence[Any], order: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of model runs and the total matching ``conds``."""
    t = model_runs
    async with db.engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds))).scalar_one()
        rows = (
            await conn.execute(t.select().where(*conds).order_by(*order).limit(limit).offset(offset))
        ).all()
    return list(rows), int(total)


async def update_run(db: Database, run_id: str, values: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(model_runs.update().where(model_runs.c.id == run_id).values(**values))


def _alias_query() -> sa.Select[Any]:
    a, r = model_aliases, model_runs
    return sa.select(
        a.c.alias_name,
        a.c.run_id,
        a.c.description,
        a.c.created_at,
        a.c.updated_at,
        r.c.status,
        r.c.model_type,
    ).join(r, r.c.id == a.c.run_id)


async def alias_row(db: Database, name: str) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(_alias_query().where(model_aliases.c.alias_name == name))).first()


async def alias_rows(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(_alias_query().order_by(model_aliases.c.alias_name))).all())


async def put_alias(db: Database, name: str, run_id: str, description: str | None, now: datetime) -> bool:
    """Create the alias or move it to ``run_id``; True when it was created."""
    a = model_aliases
    async with db.begin() as conn:
        exists = (await conn.execute(sa.select(a.c.alias_name).where(a.c.alias_name == name))).first()
        if exists:
            await conn.execute(
                a.update()
                .where(a.c.alias_name == name)
                .values(run_id=run_id, description=description, updated_at=now)
            )
        else:
            await conn.execute(
                a.insert().values(
                    alias_name=name, run_id=run_id, description=description, created_at=now, updated_at=now
                )
            )
    return exists is None


async def delete_alias(db: Database, name: str) -> bool:
    async with db.begin() as conn:
        res = await conn.execute(model_aliases.delete().where(model_aliases.c.alias_name == name))
    return bool(res.rowcount)


# ---- saved scenario plans ----------------------------------------------------------------------


async def plan_row(db: Database, scenario_id: str) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(scenario_plans.select().where(scenario_plans.c.id == scenario_id))).first()


async def insert_plan(db: Database, values: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(scenario_plans.insert().values(**values))


async def plan_rows(db: Database, *, tags: Sequence[str], limit: int, offset: int) -> tuple[list[Any], int]:
    """Plans newest first carrying every tag in ``tags`` (JSONB containment in SQL on PostgreSQL,
    the same test over the rows on SQLite), and their total."""
    t = scenario_plans
    order = (t.c.created_at.desc(), t.c.id.desc())
    async with db.engine.connect() as conn:
        if tags and db.backend == "postgresql":
            cond = sa.cast(t.c.tags, JSONB).contains(sorted(set(tags)))
            total = (await conn.execute(sa.select(sa.func.count()).select_from(t).where(cond))).scalar_one()
            page = (
                await conn.execute(t.select().where(cond).order_by(*order).limit(limit).offset(offset))
            ).all()
        elif tags:
            rows = (await conn.execute(t.select().order_by(*order))).all()
            wanted = set(tags)
            kept = [r for r in rows if wanted <= set(r._mapping["tags"] or [])]
            total = len(kept)
            page = kept[offset : offset + limit]
        else:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            page = (await conn.execute(t.select().order_by(*order).limit(limit).offset(offset))).all()
    return list(page), int(total)


async def delete_plan(db: Database, scenario_id: str) -> bool:
    async with db.begin() as conn:
        res = await conn.execute(scenario_plans.delete().where(scenario_plans.c.id == scenario_id))
    return bool(res.rowcount)


# ---- dimensions ------------------------------------------------------------------------------


async def dimension_page(
    db: Database, table: sa.Table, conds: Sequence[Any], order: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    async with db.engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(table).where(*conds))).scalar_one()
        q = sa.select(table).where(*conds).order_by(*order).limit(limit).offset(offset)
        rows = list((await conn.execute(q)).all())
    return rows, int(total)


async def dimension_row(db: Database, table: sa.Table, row_id: int) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == row_id))).first()


# ---- analytics queries -------------------------------------------------------------------------


class SalesFilter:
    """Date range plus optional store/product/category/region filters over ``retail_sales_daily``
    (the range is checked by the caller, :mod:`ridgeline.retail.dates`)."""

    def __init__(
        self,
        start_date: date,
        end_date: date,
        store_id: int | None = None,
        product_id: int | None = None,
        category: str | None = None,
        region: str | None = None,
    ) -> None:
        self.start_date, self.end_date = start_date, end_date
        self.store_id, self.product_id = store_id, product_id
        self.category, self.region = category, region

    def apply(
        self, q: sa.Select[Any], *, join_store: bool = False, join_product: bool = False
    ) -> sa.Select[Any]:
        s = sales
        if join_store or self.region is not None:
            q = q.join(stores, stores.c.id == s.c.store_id)
        if join_product or self.category is not None:
            q = q.join(products, products.c.id == s.c.product_id)
        q = q.where(s.c.date >= self.start_date, s.c.date <= self.end_date)
        if self.store_id is not None:
            q = q.where(s.c.store_id == self.store_id)
        if self.product_id is not None:
            q = q.where(s.c.product_id == self.product_id)
        if self.category is not None:
            q = q.where(products.c.category == self.category)
        if self.region is not None:
            q = q.where(stores.c.region == self.region)
        return q


def sales_measures() -> list[Any]:
    s = sales
    return [
        sa.func.coalesce(sa.func.sum(s.c.total_amount), 0.0).label("revenue"),
        sa.func.coalesce(sa.func.sum(s.c.quantity), 0).label("units"),
        sa.func.coalesce(sa.func.sum(s.c.transactions), 0).label("transactions"),
        sa.func.count().label("rows"),
    ]


async def sales_totals(db: Database, f: SalesFilter) -> Any:
    """(revenue, units, transactions, rows) over the filter."""
    async with db.engine.connect() as conn:
        return (await conn.execute(f.apply(sa.select(*sales_measures()).select_from(sales)))).one()


async def drilldown_groups(db: Database, f: SalesFilter, dimension: str) -> list[Any]:
    """(value, id, revenue, units, transactions, rows) per group of ``dimension``."""
    s = sales
    # Aggregate the facts by id (a scan of the date range, no join per row), then label and, for
    # category/region, re-aggregate the (few) per-id groups through the dimension table.
    key = {
        "store": s.c.store_id,
        "region": s.c.store_id,
        "product": s.c.product_id,
        "category": s.c.product_id,
    }
    inner_key = key.get(dimension, s.c.date)
    inner = (
        f.apply(sa.select(inner_key.label("k"), *sales_measures()).select_from(s))
        .group_by(inner_key)
        .subquery()
    )
    sums = [
        sa.func.sum(inner.c.revenue).label("revenue"),
        sa.func.sum(inner.c.units).label("units"),
        sa.func.sum(inner.c.transactions).label("transactions"),
        sa.func.sum(inner.c.rows).label("rows"),
    ]
    plain = [inner.c.revenue, inner.c.units, inner.c.transactions, inner.c.rows]
    if dimension == "store":
        q = sa.select(stores.c.code.label("value"), inner.c.k.label("id"), *plain).join(
            stores, stores.c.id == inner.c.k
        )
    elif dimension == "product":
        q = sa.select(products.c.sku.label("value"), inner.c.k.label("id"), *plain).join(
            products, products.c.id == inner.c.k
        )
    elif dimension in ("category", "region"):
        dim, col = (products, "category") if dimension == "category" else (stores, "region")
        label = sa.func.coalesce(dim.c[col], "unknown")
        q = (
            sa.select(label.label("value"), sa.null().label("id"), *sums)
            .select_from(inner.join(dim, dim.c.id == inner.c.k))
            .group_by(label)
        )
    else:
        q = sa.select(inner.c.k.label("value"), sa.null().label("id"), *plain)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def daily_totals(db: Database, f: SalesFilter) -> list[Any]:
    """(date, revenue, units, transactions, rows) per day with sales."""
    q = f.apply(sa.select(sales.c.date, *sales_measures()).select_from(sales)).group_by(sales.c.date)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def latest_inventory(
    db: Database,
    *,
    store_id: int | None,
    product_id: int | None,
    start_date: date | None,
    end_date: date | None,
    stockout_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[Any], int, int]:
    """One page of the latest snapshot per (store, product) (within the dates when given), the total
    and the stock-out count. PostgreSQL: DISTINCT ON; SQLite: a max(date) join."""
    inv = inventory
    conds = []
    if store_id is not None:
        conds.append(inv.c.store_id == store_id)
    if product_id is not None:
        conds.append(inv.c.product_id == product_id)
    if start_date is not None:
        conds.append(inv.c.date >= start_date)
    if end_date is not None:
        conds.append(inv.c.date <= end_date)
    cols = [
        inv.c.store_id,
        inv.c.product_id,
        inv.c.date,
        inv.c.on_hand_qty,
        inv.c.on_order_qty,
        inv.c.is_stockout,
    ]
    async with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            latest = (
                sa.select(*cols)
                .where(*conds)
                .distinct(inv.c.store_id, inv.c.product_id)
                .order_by(inv.c.store_id, inv.c.product_id, inv.c.date.desc())
                .subquery()
            )
        else:
            last = (
                sa.select(inv.c.store_id, inv.c.product_id, sa.func.max(inv.c.date).label("date"))
                .where(*conds)
                .group_by(inv.c.store_id, inv.c.product_id)
                .subquery()
            )
            latest = (
                sa.select(*cols)
                .join(
                    last,
                    sa.and_(
                        inv.c.store_id == last.c.store_id,
                        inv.c.product_id == last.c.product_id,
                        inv.c.date == last.c.date,
                    ),
                )
                .subquery()
            )
        where = [latest.c.is_stockout.is_(True)] if stockout_only else []
        counts = (
            await conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(sa.case((latest.c.is_stockout.is_(True), 1), else_=0)), 0),
                )
                .select_from(latest)
                .where(*where)
            )
        ).one()
        q = (
            sa.select(latest, stores.c.code, products.c.sku)
            .join(stores, stores.c.id == latest.c.store_id)
            .join(products, products.c.id == latest.c.product_id)
            .where(*where)
            .order_by(latest.c.store_id, latest.c.product_id)
            .limit(limit)
            .offset(offset)
        )
        rows = (await conn.execute(q)).all()
    return list(rows), int(counts[0]), int(counts[1])


# ---- seeder ------------------------------------------------------------------------------------


async def write_generated(conn: AsyncConnection, data: dict[str, pl.DataFrame]) -> None:
    """Upsert a generated history (dimensions by natural key, facts by (store, product, date))."""
    now = now_utc()
    store_rows = data["stores"].with_columns(pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"))
    await conn.execute(
        upsert_statement(
            conn,
            stores,
            ["code"],
            ["name", "region", "city", "store_type", "updated_at"],
            only_if_changed=["name", "region", "city", "store_type"],
        ),
        store_rows.to_dicts(),
    )
    product_rows = data["products"].with_columns(
        pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at")
    )
    await conn.execute(
        upsert_statement(
            conn,
            products,
            ["sku"],
            ["name", "category", "brand", "base_price", "base_cost", "updated_at"],
            only_if_changed=["name", "category", "brand", "base_price", "base_cost"],
        ),
        product_rows.to_dicts(),
    )
    codes = data["stores"]["code"].to_list()
    skus = data["products"]["sku"].to_list()
    store_map = pl.DataFrame(
        [
            tuple(r)
            for r in (
                await conn.execute(sa.select(stores.c.code, stores.c.id).where(stores.c.code.in_(codes)))
            ).all()
        ],
        schema={"store_code": pl.String, "store_id": pl.Int64},
        orient="row",
    )
    product_map = pl.DataFrame(
        [
            tuple(r)
            for r in (
                await conn.execute(sa.select(products.c.sku, products.c.id).where(products.c.sku.in_(skus)))
            ).all()
        ],
        schema={"sku": pl.String, "product_id": pl.Int64},
        orient="row",
    )
    await upsert_calendar(conn, data["calendar"])
    if data["store_holidays"].height:
        hol = (
            data["store_holidays"].join(store_map, on="store_code").select("store_id", "date", "kind", "name")
        )
        await bulk_upsert(conn, store_holidays, hol, ["store_id", "date", "kind"], ["name"])
    sales_cols = ["store_id", "product_id", "date", *SALES_COLUMNS]
    generated = data["sales"]
    if "is_open" not in generated.columns:  # the seeder states no open flag
        generated = generated.with_columns(pl.lit(None, dtype=pl.Boolean).alias("is_open"))
    # Seeded rows belong to no ingest batch; a row the seeder overwrites leaves its batch, so deleting
    # that batch later does not remove seeded values.
    sales_frame = (
        generated.join(store_map, on="store_code")
        .join(product_map, on="sku")
        .select(sales_cols)
        .with_columns(pl.lit(None, dtype=pl.Int64).alias("batch_id"))
    )
    keys = ["date", "store_id", "product_id"]
    await bulk_upsert(conn, sales, sales_frame.sort(keys), keys, [*SALES_COLUMNS, "batch_id"])
    inv_cols = ["store_id", "product_id", "date", "on_hand_qty", "on_order_qty", "is_stockout"]
    inv = data["inventory"].join(store_map, on="store_code").join(product_map, on="sku").select(inv_cols)
    await bulk_upsert(conn, inventory, inv.sort(keys), keys, inv_cols[3:])


async def delete_rows(conn: AsyncConnection, tables: tuple[sa.Table, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in tables:
        result = await conn.execute(table.delete())
        out[table.name] = int(result.rowcount or 0)
    return out


async def record_seed_run(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(seed_runs.insert().values(**values))


async def last_seed_run(conn: AsyncConnection) -> Any:
    return (await conn.execute(sa.select(seed_runs).order_by(seed_runs.c.id.desc()).limit(1))).first()
