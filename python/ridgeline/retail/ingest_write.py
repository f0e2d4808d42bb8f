"""Bulk write paths of the daily-sales ingest (``POST /ingest/sales-daily``), per backend.

The ingest classifies each validated block by the dates it touches: rows on a date where the
block's store x product box holds no stored row yet are *fresh* (they cannot conflict with anything
stored) and go in by the fastest durable path; the others are staged and classified in SQL (new,
changed, identical) by :mod:`ridgeline.retail.api.ingest`.

Fresh rows:

- SQLite: one plain ``INSERT`` prepared once and executed over the block's column buffers (an
  ``executemany`` fed by ``zip`` of the column lists, in the driver's thread, inside the request's
  transaction). Python's ``sqlite3`` binds about 0.5 M rows per CPU-second this way; building tuples
  with ``DataFrame.rows()`` first cost a third more.
- PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` straight into the fact table, the CSV written by
  polars (Rust, no Python objects per value), under a savepoint: a concurrent writer that inserted
  the same key since the occupancy check makes the COPY fail with a unique violation, the savepoint
  is rolled back and the caller sends those rows through the staged ``INSERT ... ON CONFLICT``.

When the fact table is empty at the start of a request (a first load), its secondary indexes are
dropped before the first fresh row and rebuilt once before commit, in the same transaction (DDL is
transactional on both backends, so a rolled-back batch leaves them as they were): one sort per index
instead of 729,128 random B-tree inserts. On PostgreSQL the ``DROP INDEX`` holds an exclusive lock on
the (empty) table until commit, so readers of the first load wait for it rather than see it half done.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.retail.api import store

#: Columns of ``retail_sales_daily`` in the order the fresh-row writers send them.
SALES_WRITE_COLUMNS = ["store_id", "product_id", "date", *store.SALES_COLUMNS, "batch_id"]


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
    """Per-request writer of fresh sales rows (see the module docstring)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.is_pg = conn.dialect.name == "postgresql"
        self._checked = False
        self._dropped: list[sa.Index] = []
        self._savepoints = 0

    async def _maybe_drop_indexes(self) -> None:
        if self._checked:
            return
        self._checked = True
        s = store.sales
        if (await self.conn.execute(sa.select(s.c.date).limit(1))).first() is not None:
            return
        for index in sorted(s.indexes, key=lambda i: str(i.name)):
            await self.conn.execute(sa.schema.DropIndex(index, if_exists=True))
            self._dropped.append(index)

    async def finish(self) -> None:
        """Rebuild the indexes dropped for a first load (call inside the transaction, before commit)."""
        for index in self._dropped:
            await self.conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        self._dropped = []

    async def write(self, batch: pl.DataFrame) -> bool:
        """Insert ``batch`` (columns :data:`SALES_WRITE_COLUMNS`, keys not stored). False when
        PostgreSQL found a key stored after all (nothing was written; stage the rows instead)."""
        if batch.height == 0:
            return True
        await self._maybe_drop_indexes()
        frame = batch.select(SALES_WRITE_COLUMNS)
        if self.is_pg:
            return await self._copy_pg(frame)
        await self._insert_sqlite(frame)
        return True

    async def _insert_sqlite(self, frame: pl.DataFrame) -> None:
        cols = list(frame.columns)
        sql = f"INSERT INTO {store.sales.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        buffers = _sqlite_buffers(frame)
        raw = await self.conn.get_raw_connection()
        driver: Any = raw.driver_connection  # aiosqlite: runs on its own thread, same transaction
        await driver.executemany(sql, zip(*buffers, strict=True))

    async def _copy_pg(self, frame: pl.DataFrame) -> bool:
        import asyncpg

        data = io.BytesIO()
        frame.write_csv(data, include_header=False, null_value="", float_precision=None)
        data.seek(0)
        raw = await self.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        self._savepoints += 1
        name = f"ridgeline_fresh_{self._savepoints}"
        await driver.execute(f"SAVEPOINT {name}")
        try:
            await driver.copy_to_table(
                store.sales.name, source=data, columns=list(frame.columns), format="csv"
            )
        except asyncpg.UniqueViolationError:
            await driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await driver.execute(f"RELEASE SAVEPOINT {name}")
            return False
        await driver.execute(f"RELEASE SAVEPOINT {name}")
        return True


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
