"""Bulk write paths of the daily-sales ingest (``POST /ingest/sales-daily``), per backend.

The ingest classifies each validated block by the dates it touches: rows on a date where the
block's store x product box holds no stored row yet are *fresh* (they cannot conflict with anything
stored) and go in by the fastest durable path; the others go through :func:`upsert_sales`.

Fresh rows:

- SQLite: a multi-row ``INSERT`` (:data:`SQLITE_ROWS_PER_INSERT` rows of ``VALUES``) prepared
  once and executed over the block's column buffers, flattened row by row (an ``executemany`` of
  one parameter list per statement, in the driver's thread, inside the request's transaction):
  sqlite3 releases and re-takes the GIL around every step, so one row per step handed the GIL to
  the other threads once per row; columns holding one value in the block (the batch id, a flag
  nobody sent, a school holiday's kind and name) are SQL literals, not bound per row. The ``INSERT`` is not awaited where
  it is submitted: the event loop prepares the next rows while the driver's thread inserts these
  (aiosqlite runs one connection's calls in submission order, so every later statement sees them;
  one ``INSERT`` in flight, drained before commit and on failure).
- PostgreSQL: binary ``COPY ... FROM STDIN`` straight into the fact table, the tuples built by
  numpy from the column buffers (:func:`pg_binary_copy`; no Python object per value and no text
  for the server to parse: with CSV the server's date and float parsing was most of its time per
  row; a table with text columns goes as CSV written by polars), under a savepoint: a concurrent writer that inserted
  the same key since the occupancy check makes the COPY fail with a unique violation, the savepoint
  is rolled back and the caller sends those rows through :func:`upsert_sales`.
  Holidays stated by the rows take the same path (``retail_store_holiday``); renamed ones are upserted.

Rows on dates already stored (a re-send, a correction): one ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE <a value differs>`` per block, so identical rows cost one key lookup and are not written
(:func:`upsert_sales`; before, every such row was staged in a temporary table and classified by a
join in SQL first).

When the fact table is empty at the start of a request (a first load), its secondary indexes are
dropped before the first fresh row and rebuilt once before commit, in the same transaction (DDL is
transactional on both backends, so a rolled-back batch leaves them as they were): one sort per index
instead of 729,128 random B-tree inserts. On PostgreSQL the primary keys of the fact table and of the
store holidays go too and are added back the same way (their B-tree inserts were about half the
server's time per fresh row): while a key is gone, the request itself knows what it wrote to that
table (it was empty and is locked; :meth:`FreshWriter.written`), so :meth:`FreshWriter.split` tells
fresh sales rows from repeated keys and the holidays find their stored rows in memory; the first
upsert (``ON CONFLICT`` needs the key) or delete of written rows puts the key back first. What is
kept is bounded by the body (the sales keys are 20 bytes a row: 14.6 MB for the Rossmann file). On
PostgreSQL the ``DROP INDEX`` holds an exclusive lock on the (empty) table until commit, so readers of
the first load wait for it rather than see it half done; the lock is only taken if it is granted
within 300 ms (otherwise the indexes and keys stay and are maintained row by row), so a first load
never queues behind a long reader or deadlocks with a concurrent one.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.retail.api import store

#: Rows per multi-row ``INSERT`` on SQLite, and SQLite's limit of bound parameters per statement
#: (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_ROWS_PER_INSERT = 500
SQLITE_MAX_PARAMS = 32766

#: Columns of ``retail_sales_daily`` in the order the fresh-row writers send them.
SALES_WRITE_COLUMNS = ["store_id", "product_id", "date", *store.SALES_COLUMNS, "batch_id"]
#: ``retail_sales_daily``'s primary key, in its order.
SALES_KEYS = ["date", "store_id", "product_id"]
#: The tables whose primary key a PostgreSQL first load drops, and what it keeps in memory of the
#: rows it wrote while the key is gone: the sales keys, a holiday's whole row (its name is compared).
FIRST_LOAD_KEPT: dict[sa.Table, list[str]] = {
    store.sales: SALES_KEYS,
    store.store_holidays: list(store.STORE_HOLIDAY_SCHEMA),
}


async def occupied_dates(conn: AsyncConnection, batch: pl.DataFrame) -> pl.Series:
    """The dates of ``batch`` on which its store x product box already holds a stored sales row.

    One index range scan on the date-leading primary key; on a first load it returns nothing, and
    across blocks of one body only the dates shared with an earlier block come back.
    """
    b = batch.select(
        pl.col("store_id").min().alias("s0"),
        pl.col("store_id").max().alias("s1"),
        pl.col("product_id").min().alias("p0"),
        pl.col("product_id").max().alias("p1"),
        pl.col("date").min().alias("d0"),
        pl.col("date").max().alias("d1"),
    ).row(0, named=True)
    s = store.sales
    q = (
        sa.select(s.c.date)
        .where(
            s.c.date.between(b["d0"], b["d1"]),
            s.c.store_id.between(b["s0"], b["s1"]),
            s.c.product_id.between(b["p0"], b["p1"]),
        )
        .distinct()
    )
    days = [store.as_date(r[0]) for r in (await conn.execute(q)).all()]
    return pl.Series("date", days, dtype=pl.Date)


class FreshWriter:
    """Per-request writer of fresh rows (keys known not to be stored; see the module docstring)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.is_pg = conn.dialect.name == "postgresql"
        self._checked: set[str] = set()
        self._dropped: list[sa.Index] = []
        self._savepoints = 0
        # SQLite: the plain INSERT last submitted to the driver's thread and not awaited yet.
        self._inflight: asyncio.Future[Any] | None = None
        # PostgreSQL first load: per table whose primary key is dropped, what this request wrote to
        # it (FIRST_LOAD_KEPT), one frame per write with its first and last date.
        self._written: dict[str, list[tuple[Any, Any, pl.DataFrame]]] = {}

    async def _maybe_drop_indexes(self, table: sa.Table) -> None:
        if table.name in self._checked:
            return
        self._checked.add(table.name)
        first = table.primary_key.columns.values()[0]
        if (await self.conn.execute(sa.select(first).select_from(table).limit(1))).first() is not None:
            return
        indexes = sorted(table.indexes, key=lambda i: str(i.name))
        if self.is_pg and indexes and not await self._lock_pg(table):
            return
        for index in indexes:
            await self.conn.execute(sa.schema.DropIndex(index, if_exists=True))
            self._dropped.append(index)
        if self.is_pg and table in FIRST_LOAD_KEPT and indexes:  # the lock is held: ours alone
            await self.conn.execute(sa.schema.DropConstraint(table.primary_key))
            self._written[table.name] = []

    async def _lock_pg(self, table: sa.Table) -> bool:
        """Take the table's exclusive lock (what ``DROP INDEX`` needs) within a short timeout, or give
        up and keep the indexes: waiting behind a reader, or behind a concurrent first load that
        waits for our rows (a deadlock), would cost more than the rebuild saves."""
        import asyncpg

        driver = await self._driver()
        name = self._savepoint()
        await driver.execute(f"SAVEPOINT {name}")
        try:
            # Shorter than deadlock_timeout (1 s), so a lock cycle ends here, not in an abort.
            await driver.execute("SET LOCAL lock_timeout = '300ms'")
            await driver.execute(f"LOCK TABLE {table.name} IN ACCESS EXCLUSIVE MODE")
        except asyncpg.LockNotAvailableError:
            await driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await driver.execute(f"RELEASE SAVEPOINT {name}")
            return False
        await driver.execute(f"RELEASE SAVEPOINT {name}")
        await driver.execute("SET LOCAL lock_timeout TO DEFAULT")
        return True

    async def _driver(self) -> Any:
        raw = await self.conn.get_raw_connection()
        return raw.driver_connection

    def _savepoint(self) -> str:
        self._savepoints += 1
        return f"ridgeline_fresh_{self._savepoints}"

    async def drain(self) -> None:
        """Wait for the INSERT still running on SQLite's driver thread (raising its error)."""
        if self._inflight is not None:
            pending, self._inflight = self._inflight, None
            await pending

    async def abandon(self) -> None:
        """On a failed request: let the running INSERT end (the transaction is rolled back anyway)."""
        with contextlib.suppress(BaseException):
            await self.drain()

    async def split(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``batch`` (sales rows, distinct keys) as ``(fresh, repeated)``: rows no stored row can
        conflict with, and rows on dates where the block's store x product box may hold one, to go
        through :func:`upsert_sales`."""
        near = self.written(store.sales, batch["date"].min(), batch["date"].max())
        if near is not None:  # first load on PostgreSQL without its primary key: the keys it wrote
            if not near:
                return batch, batch.clear()
            seen = pl.concat(near)
            return batch.join(seen, on=SALES_KEYS, how="anti"), batch.join(seen, on=SALES_KEYS, how="semi")
        busy = await occupied_dates(self.conn, batch)
        if not busy.len():
            return batch, batch.clear()
        on_busy = pl.col("date").is_in(busy.implode())
        return batch.filter(~on_busy), batch.filter(on_busy)

    def written(self, table: sa.Table, d0: Any, d1: Any) -> list[pl.DataFrame] | None:
        """What this request wrote to ``table`` dated ``d0`` to ``d1`` (FIRST_LOAD_KEPT), while a
        PostgreSQL first load has its primary key dropped: then the table holds nothing else. None
        when the key is in place (read the table)."""
        kept = self._written.get(table.name)
        if kept is None:
            return None
        near = [w.filter(pl.col("date").is_between(d0, d1)) for w0, w1, w in kept if w0 <= d1 and w1 >= d0]
        return [w for w in near if w.height]

    async def restore_key(self, table: sa.Table) -> None:
        """Put back ``table``'s primary key dropped for a first load (one sort of the rows so far):
        before anything that needs it (``ON CONFLICT``) or changes written rows."""
        if self._written.pop(table.name, None) is not None:
            await self.conn.execute(sa.schema.AddConstraint(table.primary_key))

    async def finish(self) -> None:
        """Wait for the last INSERT and rebuild the keys and indexes dropped for a first load (call
        inside the transaction, before commit)."""
        await self.drain()
        for table in FIRST_LOAD_KEPT:
            await self.restore_key(table)
        for index in self._dropped:
            await self.conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        self._dropped = []

    async def write(self, batch: pl.DataFrame) -> bool:
        """Insert sales rows (columns :data:`SALES_WRITE_COLUMNS`) whose keys are not stored."""
        return await self.insert(store.sales, batch.select(SALES_WRITE_COLUMNS))

    async def insert(self, table: sa.Table, frame: pl.DataFrame) -> bool:
        """Insert ``frame`` (columns of ``table``) into ``table``; False when PostgreSQL found one of
        its keys stored after all (then nothing was written: upsert the rows instead)."""
        if frame.height == 0:
            return True
        await self._maybe_drop_indexes(table)
        if self.is_pg:
            copied = await self._copy_pg(table, frame)
            if copied and table.name in self._written:
                kept = frame.select(FIRST_LOAD_KEPT[table])
                self._written[table.name].append((kept["date"].min(), kept["date"].max(), kept))
            return copied
        await self._insert_sqlite(table, frame)
        return True

    async def insert_by(self, table: sa.Table, frame: pl.DataFrame, part: str) -> bool:
        """:meth:`insert`, on SQLite one statement per value of ``part`` so that the columns constant
        within a part (a school holiday's kind and name) are written as literals, not bound per row."""
        if self.is_pg or frame.height == 0:
            return await self.insert(table, frame)
        for _, piece in frame.group_by(part, maintain_order=True):
            await self.insert(table, piece)
        return True

    async def _insert_sqlite(self, table: sa.Table, frame: pl.DataFrame) -> None:
        # Columns with one value in the whole block (the batch id, a flag nobody sent) are written
        # as SQL literals: every bound parameter costs sqlite3 about 0.15 us per row.
        literals = _constant_literals(frame)
        if len(literals) == frame.width:  # a VALUES row needs one bound column to count rows by
            literals.pop(frame.columns[0])
        bound = [c for c in frame.columns if c not in literals]
        names = ", ".join([*bound, *literals])
        row = "(" + ", ".join(["?"] * len(bound) + list(literals.values())) + ")"
        head = f"INSERT INTO {table.name} ({names}) VALUES "
        # Many rows per statement: sqlite3 releases and re-takes the GIL around every step, so one
        # row per step hands the GIL to the event loop and the parser threads 729,128 times per
        # Rossmann file (and waits to get it back each time); per-statement overhead goes too.
        per = max(1, min(SQLITE_ROWS_PER_INSERT, SQLITE_MAX_PARAMS // len(bound)))
        flat = list(itertools.chain.from_iterable(zip(*_sqlite_buffers(frame.select(bound)), strict=True)))
        width = per * len(bound)
        full = len(flat) // width
        chunks = (flat[i * width : (i + 1) * width] for i in range(full))
        rest = flat[full * width :]
        driver = await self._driver()  # aiosqlite: runs on its own thread, same transaction
        # Not awaited here: the event loop prepares the next rows (holidays, the next block) while
        # the driver's thread inserts these. aiosqlite runs a connection's calls in submission
        # order, so every later statement of the request sees these rows; one INSERT in flight.
        await self.drain()
        steps = []
        if full:
            steps.append(driver.executemany(head + ", ".join([row] * per), chunks))
        if rest:
            steps.append(driver.execute(head + ", ".join([row] * (len(rest) // len(bound))), rest))
        self._inflight = asyncio.ensure_future(_in_order(steps))

    async def _copy_pg(self, table: sa.Table, frame: pl.DataFrame) -> bool:
        import asyncpg

        data, fmt = _copy_data(table, frame)
        driver = await self._driver()
        name = self._savepoint()
        await driver.execute(f"SAVEPOINT {name}")
        try:
            await driver.copy_to_table(
                table.name, source=_source(data), columns=list(frame.columns), format=fmt
            )
        except asyncpg.UniqueViolationError:
            await driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await driver.execute(f"RELEASE SAVEPOINT {name}")
            return False
        await driver.execute(f"RELEASE SAVEPOINT {name}")
        return True


#: PostgreSQL's binary COPY layout of the column types the fact table uses (big-endian).
_PG_BINARY: dict[type, str] = {sa.Integer: ">i4", sa.Float: ">f8", sa.Boolean: "u1", sa.Date: ">i4"}
_PG_EPOCH_DAYS = 10957  # 2000-01-01, day zero of PostgreSQL's binary dates, in days since 1970-01-01
_INT32 = (-(2**31), 2**31 - 1)


def pg_binary_copy(table: sa.Table, frame: pl.DataFrame) -> bytes | None:
    """``frame`` in PostgreSQL's binary ``COPY`` format, or None when a column's type has no layout
    here (text: the caller sends CSV) or an integer does not fit int4 (CSV then lets the server
    refuse it as before).

    Built by numpy from the column buffers, no Python object per value: with the CSV the server
    parsed every date and float from text, most of its CPU time per row. Rows are grouped by which
    nullable columns are null (a null field is a length of -1 and no data, so each group has one
    fixed layout); the groups keep the frame's order within them.
    """
    import numpy as np

    kinds: list[tuple[str, str]] = []
    for name in frame.columns:
        layout = next((v for t, v in _PG_BINARY.items() if isinstance(table.c[name].type, t)), None)
        if layout is None:
            return None
        kinds.append((name, layout))
    values: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    for name, layout in kinds:
        col = frame.get_column(name)
        if col.null_count():
            nulls[name] = col.is_null().to_numpy()
        if layout == ">i4" and col.dtype != pl.Date:
            lo, hi = col.min(), col.max()
            if lo is not None and (lo < _INT32[0] or hi > _INT32[1]):  # type: ignore[operator]
                return None
        if col.dtype == pl.Date:
            col = col.cast(pl.Int32) - _PG_EPOCH_DAYS
        values[name] = col.fill_null(0).to_numpy().astype(layout, copy=False)
    parts = [b"PGCOPY\n\xff\r\n\x00" + bytes(8)]  # signature, flags, no header extension
    # One bit per nullable column that has nulls: the code of a row's null pattern.
    code = np.zeros(frame.height, dtype=np.int64)
    for bit, name in enumerate(nulls):
        code |= nulls[name].astype(np.int64) << bit
    codes = np.unique(code)
    for c in codes.tolist():
        null_now = {name for bit, name in enumerate(nulls) if c >> bit & 1}
        rows = slice(None) if len(codes) == 1 else np.flatnonzero(code == c)
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for name, layout in kinds:
            fields.append((f"l_{name}", ">i4"))
            if name not in null_now:
                fields.append((f"v_{name}", layout))
        out = np.empty(frame.height if len(codes) == 1 else len(rows), dtype=fields)  # type: ignore[arg-type]
        out["n"] = len(kinds)
        for name, layout in kinds:
            if name in null_now:
                out[f"l_{name}"] = -1
            else:
                out[f"l_{name}"] = np.dtype(layout).itemsize
                out[f"v_{name}"] = values[name][rows]
        parts.append(out.tobytes())
    parts.append(b"\xff\xff")  # end of data
    return b"".join(parts)


def _copy_data(table: sa.Table, frame: pl.DataFrame) -> tuple[bytes, str]:
    """``frame`` as COPY data for ``table``'s column types, and its format: binary where
    :func:`pg_binary_copy` has a layout, else CSV written by polars."""
    binary = pg_binary_copy(table, frame)
    if binary is not None:
        return binary, "binary"
    data = io.BytesIO()
    frame.write_csv(data, include_header=False, null_value="")
    return data.getvalue(), "csv"


async def _source(data: bytes) -> AsyncIterator[bytes]:
    """The COPY data as asyncpg's async-iterable source: given a file, asyncpg reads it 512 KiB at a
    time on the default executor, a thread hop per piece while the server waits for data."""
    yield data


async def _in_order(steps: list[Any]) -> None:
    for step in steps:
        await step


def _constant_literals(frame: pl.DataFrame) -> dict[str, str]:
    """SQL literals of the integer, boolean, short text or all-null columns that hold a single value."""
    out: dict[str, str] = {}
    for name, dtype in frame.schema.items():
        col = frame.get_column(name)
        nulls = col.null_count()
        if nulls == frame.height:
            out[name] = "NULL"
        elif nulls or not (dtype.is_integer() or dtype in (pl.Boolean, pl.String)):
            continue  # floats and dates are always bound
        elif col.min() != col.max():  # one value iff min == max: a pass, not n_unique's hashing
            continue
        elif dtype.is_integer() or dtype == pl.Boolean:
            out[name] = str(int(col[0]))
        elif dtype == pl.String and len(col[0]) <= 100 and "\x00" not in col[0]:
            out[name] = "'" + str(col[0]).replace("'", "''") + "'"  # SQL string literal
    return out


def _sqlite_buffers(frame: pl.DataFrame) -> Sequence[list[Any]]:
    """Column lists as sqlite3 binds them: ISO date strings, 0/1 booleans, None for null."""
    out: list[list[Any]] = []
    for name, dtype in frame.schema.items():
        col = frame.get_column(name)
        if dtype == pl.Date:
            col = col.dt.strftime("%Y-%m-%d")
        elif dtype == pl.Boolean:
            col = col.cast(pl.Int8)
        out.append(col.to_list())
    return out


async def upsert_sales(writer: FreshWriter, batch: pl.DataFrame) -> tuple[int, int]:
    """Rows whose keys may be stored (columns :data:`SALES_WRITE_COLUMNS`): insert the new ones,
    update the ones whose values differ, leave identical ones untouched (they keep the batch, or
    the legacy NULL, that wrote their values). Returns ``(inserted, updated)``; the rest of
    ``batch`` is unchanged. Keys must be distinct within ``batch``.

    One statement per backend, no classification pass: ``INSERT ... ON CONFLICT DO UPDATE ...
    WHERE <some value differs>``, so an identical row costs one key lookup and is not written.
    SQLite executes it over the column buffers (like the fresh rows) and tells inserted from updated
    rows by counting the stored rows in the block's key box before and after; PostgreSQL COPYs the
    rows (binary, as the fresh rows) into a temporary table and counts ``RETURNING (xmax = 0)``.
    """
    if batch.height == 0:
        return 0, 0
    if writer.is_pg:
        await writer.restore_key(store.sales)  # ON CONFLICT needs it
        return await _upsert_pg(writer, batch)
    return await _upsert_sqlite(writer, batch)


def _differs(target: str, excluded: str) -> str:
    same = " AND ".join(f"{target}.{c} IS NOT DISTINCT FROM {excluded}.{c}" for c in store.SALES_COLUMNS)
    return f"NOT ({same})"


async def _upsert_sqlite(writer: FreshWriter, batch: pl.DataFrame) -> tuple[int, int]:
    table = store.sales.name
    frame = batch.select(SALES_WRITE_COLUMNS)
    literals = _constant_literals(frame)
    for key in ("store_id", "product_id", "date"):  # keep the key bound (executemany counts rows by it)
        literals.pop(key, None)
    bound = [c for c in frame.columns if c not in literals]
    names = ", ".join([*bound, *literals])
    values = ", ".join(["?"] * len(bound) + list(literals.values()))
    written = [*store.SALES_COLUMNS, "batch_id"]
    sets = ", ".join(f"{c} = excluded.{c}" for c in written)
    # SQLite spells IS NOT DISTINCT FROM as IS.
    same = " AND ".join(f"{table}.{c} IS excluded.{c}" for c in store.SALES_COLUMNS)
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({values}) "
        f"ON CONFLICT (date, store_id, product_id) DO UPDATE SET {sets} WHERE NOT ({same})"
    )
    box = frame.select(
        pl.col("date").min().dt.strftime("%Y-%m-%d").alias("d0"),
        pl.col("date").max().dt.strftime("%Y-%m-%d").alias("d1"),
        pl.col("store_id").min().alias("s0"),
        pl.col("store_id").max().alias("s1"),
        pl.col("product_id").min().alias("p0"),
        pl.col("product_id").max().alias("p1"),
    ).row(0)
    # The unary + keeps SQLite on the date-leading primary key (a range of the block's days)
    # rather than the series index over the store range, which would scan most of the table.
    count = (
        f"SELECT count(*) FROM {table} WHERE date BETWEEN ? AND ? "
        "AND +store_id BETWEEN ? AND ? AND +product_id BETWEEN ? AND ?"
    )
    buffers = _sqlite_buffers(frame.select(bound))
    driver = await writer._driver()
    before = (await (await driver.execute(count, box)).fetchone())[0]
    cursor = await driver.executemany(sql, zip(*buffers, strict=True))
    changed = cursor.rowcount  # inserted + updated (an upsert whose WHERE is false changes nothing)
    after = (await (await driver.execute(count, box)).fetchone())[0]
    inserted = int(after - before)
    return inserted, int(changed) - inserted


async def _upsert_pg(writer: FreshWriter, batch: pl.DataFrame) -> tuple[int, int]:
    table = store.sales.name
    stage = f"_stage_{table}"
    driver = await writer._driver()
    await driver.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DROP")
    data, fmt = _copy_data(store.sales, batch.select(SALES_WRITE_COLUMNS))  # the stage is LIKE the table
    await driver.copy_to_table(stage, source=_source(data), columns=SALES_WRITE_COLUMNS, format=fmt)
    cols = ", ".join(SALES_WRITE_COLUMNS)
    written = [*store.SALES_COLUMNS, "batch_id"]
    sets = ", ".join(f"{c} = excluded.{c}" for c in written)
    row = await driver.fetchrow(
        f"WITH up AS (INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage} "
        f"ON CONFLICT (date, store_id, product_id) DO UPDATE SET {sets} "
        f"WHERE {_differs('t', 'excluded')} RETURNING (t.xmax = 0) AS fresh) "
        "SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM up"
    )
    await driver.execute(f"TRUNCATE {stage}")
    return int(row[0]), int(row[1])
