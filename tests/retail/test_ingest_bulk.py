"""The bulk write paths of the sales ingest (ridgeline.retail.ingest_write): fresh rows by plain
INSERT / COPY, staged classification for dates already stored, first loads that drop and rebuild the
secondary indexes, and PostgreSQL's fallback when a COPY meets a key stored after all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.retail.api import ingest, store
from ridgeline.retail.ingest_write import FreshWriter
from ridgeline.retail.settings import RetailSettings

from .retail_testlib import csv_bytes, post_csv, run_db, sales_rows

pytestmark = pytest.mark.db


def _ingest(client: Any, body: bytes, *, block_bytes: int, **kw: Any) -> ingest.IngestTally:
    """The ingest engine with tiny blocks, so that one body spans many blocks and dates straddle them."""
    ctx = client.app.state["ctx"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 97):
            yield body[start : start + 97]

    async def call() -> ingest.IngestTally:
        tally, _ = await ingest.ingest_sales(
            ctx.db, chunks(), "csv", block_bytes=block_bytes, limits=RetailSettings(), **kw
        )
        return tally

    return client.blocking_portal.call(call)


def _indexes(client: Any) -> set[str]:
    async def read(conn: Any) -> set[str]:
        def names(sync: Any) -> set[str]:
            insp = sa.inspect(sync)
            tables = (store.sales.name, store.store_holidays.name)
            keys = {str(insp.get_pk_constraint(table)["name"]) for table in tables}
            return keys | {str(ix["name"]) for table in tables for ix in insp.get_indexes(table)}

        return await conn.run_sync(names)

    return run_db(client, read)


def _stored(client: Any) -> pl.DataFrame:
    async def read(conn: Any) -> pl.DataFrame:
        s, st, p = store.sales, store.stores, store.products
        q = (
            sa.select(st.c.code, p.c.sku, s.c.date, s.c.quantity, s.c.unit_price, s.c.batch_id)
            .select_from(s.join(st, st.c.id == s.c.store_id).join(p, p.c.id == s.c.product_id))
            .order_by(s.c.date, st.c.code, p.c.sku)
        )
        rows = (await conn.execute(q)).all()
        return pl.DataFrame(
            [(a, b, str(store.as_date(c)), d, e, f) for a, b, c, d, e, f in rows],
            schema=["store_code", "sku", "date", "quantity", "unit_price", "batch_id"],
            orient="row",
        )

    return run_db(client, read)


def _holidays(client: Any) -> list[tuple[str, str, str | None]]:
    frame = run_db(client, lambda conn: store.load_store_holidays_frame(conn))
    return sorted((str(d), k, n) for d, k, n in frame.select("date", "kind", "name").iter_rows())


# Primary keys too: PostgreSQL drops both tables' for a first load.
EXPECTED_INDEXES = {
    str(ix.name) for t in (store.sales, store.store_holidays) for ix in [t.primary_key, *t.indexes]
}


def test_first_load_over_many_blocks_rebuilds_indexes_and_classifies_straddling_dates(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    assert EXPECTED_INDEXES <= _indexes(client)
    rows = sales_rows(n_days=10, stores=("S1", "S2"), skus=("A", "B")).sort("date", "store_code", "sku")
    rows = rows.with_columns(
        pl.when(pl.col("date") == "2024-03-01")
        .then(pl.lit("Old Day"))
        .when(pl.col("date") == "2024-03-04")
        .then(pl.lit("Founders Day"))
        .alias("store_holiday"),
        (pl.col("date") <= "2024-03-02").alias("school_holiday"),
    )
    # The first three records sent again at the end (a later block): they update the stored rows,
    # and one of them renames its store's holiday.
    again = rows.head(3).with_columns(
        pl.col("quantity") + 100,
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("Renamed")).alias("store_holiday"),
    )
    body = csv_bytes(pl.concat([rows, again]))
    tally = _ingest(client, body, block_bytes=300, create_missing=True)
    assert (tally.total_received, tally.inserted, tally.updated, tally.unchanged, tally.rejected) == (
        43,
        40,
        3,
        0,
        0,
    )
    # Dropped for the first load and rebuilt before commit.
    assert EXPECTED_INDEXES <= _indexes(client)

    stored = _stored(client)
    assert stored.height == 40
    expected = pl.concat([again, rows.slice(3)]).sort("date", "store_code", "sku")
    assert (
        stored.select("store_code", "sku", "date", "quantity").to_dicts()
        == expected.select("store_code", "sku", "date", "quantity").to_dicts()
    )
    assert set(stored["batch_id"].to_list()) == {tally.batch_id}
    # Store S1's holiday of 2024-03-01 was renamed by the last block; S2's was not.
    assert _holidays(client) == sorted(
        [("2024-03-01", "public", "Renamed"), ("2024-03-01", "public", "Old Day")]
        + [("2024-03-04", "public", "Founders Day")] * 2
        + [(d, "school", "school holiday") for d in ("2024-03-01", "2024-03-02") for _ in range(2)]
    )

    # The same body over HTTP (one block): the three repeats are now in-block duplicates (the last
    # record wins) and every kept row is stored already.
    j = post_csv(client, body).json()
    assert (j["inserted_count"], j["updated_count"], j["unchanged_count"], j["rejected_count"]) == (
        0,
        0,
        40,
        3,
    )
    # New dates beside stored ones, many blocks again: new rows are inserted, stored ones kept.
    more = sales_rows(n_days=14, stores=("S1", "S2"), skus=("A", "B")).sort("date", "store_code", "sku")
    more = more.filter(pl.col("date") > "2024-03-08")
    tally = _ingest(client, csv_bytes(more), block_bytes=200)
    assert (tally.inserted, tally.updated + tally.unchanged) == (16, 8)
    assert _stored(client).height == 56


def test_a_rejected_first_load_leaves_indexes_and_no_rows(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    rows = sales_rows(n_days=10).sort("date", "store_code", "sku")
    bad = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 37)
        .then(pl.lit("-1"))
        .otherwise(pl.col("quantity").cast(pl.String))
        .alias("quantity")
    )
    from ridgeline.platform.errors import RidgelineError

    with pytest.raises(RidgelineError) as err:
        _ingest(client, csv_bytes(bad), block_bytes=250, create_missing=True, all_or_nothing=True)
    assert err.value.status == 422 and err.value.reason_code == "rows_rejected"
    assert EXPECTED_INDEXES <= _indexes(client)
    assert _stored(client).height == 0


def test_a_first_load_with_dates_split_across_blocks_is_all_fresh_and_keeps_its_keys(
    make_client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Blocks of about 250 bytes split most dates between two blocks. No key is sent twice, so every
    # row is fresh (nothing is upserted, on PostgreSQL also while the primary key is dropped), and
    # the keys and indexes are all back after commit.
    client = make_client()
    rows = sales_rows(n_days=12, stores=("S1", "S2", "S3"), skus=("A", "B")).sort("date", "store_code", "sku")
    upserted: list[int] = []
    upsert = ingest.upsert_sales

    async def counted(writer: FreshWriter, batch: pl.DataFrame) -> tuple[int, int]:
        upserted.append(batch.height)
        return await upsert(writer, batch)

    monkeypatch.setattr(ingest, "upsert_sales", counted)
    tally = _ingest(client, csv_bytes(rows), block_bytes=250, create_missing=True)
    assert (tally.inserted, tally.updated, tally.unchanged, tally.rejected) == (rows.height, 0, 0, 0)
    if client.app.state["ctx"].db.engine.dialect.name == "postgresql":
        assert upserted == []  # the rows on a split date were told apart by key, in memory
    assert EXPECTED_INDEXES <= _indexes(client)
    stored = _stored(client)
    assert (
        stored.select("store_code", "sku", "date").to_dicts()
        == rows.select("store_code", "sku", "date").to_dicts()
    )


def test_a_school_holiday_cleared_and_stated_again_within_a_first_load_is_stored(make_client) -> None:  # type: ignore[no-untyped-def]
    # Three later blocks of one first load: S1's school holiday of 2024-03-01 is cleared, other days
    # are added, then it is stated again. On PostgreSQL the holidays written so far are known in
    # memory while the table's primary key is dropped; the clearing must end that, or the holiday
    # stated again would be taken for one still stored and not written.
    client = make_client()
    first = pl.col("date") == "2024-03-01"
    rows = sales_rows(n_days=10, stores=("S1", "S2"), skus=("A",)).sort("date", "store_code", "sku")
    rows = rows.with_columns(first.alias("school_holiday"))
    s1_first = rows.filter(first & (pl.col("store_code") == "S1"))
    cleared = s1_first.with_columns(pl.lit(False).alias("school_holiday"))
    later = sales_rows(n_days=16, stores=("S1", "S2"), skus=("A",)).sort("date", "store_code", "sku")
    later = later.filter(pl.col("date") > "2024-03-10").with_columns(
        pl.lit(None, pl.Boolean).alias("school_holiday")
    )
    body = csv_bytes(pl.concat([rows, cleared, later, s1_first]))
    tally = _ingest(client, body, block_bytes=250, create_missing=True)
    assert (tally.inserted, tally.rejected) == (rows.height + later.height, 0)
    assert _holidays(client) == [("2024-03-01", "school", "school holiday")] * 2
    assert EXPECTED_INDEXES <= _indexes(client)


def test_postgres_copy_meeting_a_stored_key_rolls_back_to_its_savepoint(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    ctx = client.app.state["ctx"]
    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("the COPY fallback is PostgreSQL's; SQLite's write lock excludes the race")
    assert post_csv(client, csv_bytes(sales_rows(n_days=2)), create_missing=True).status_code == 200
    ids = run_db(
        client,
        lambda conn: conn.execute(sa.select(store.sales.c.store_id, store.sales.c.product_id).limit(1)),
    ).one()

    def frame(day: str) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "store_id": [ids[0]],
                "product_id": [ids[1]],
                "date": [day],
                "quantity": [5],
                "unit_price": [1.0],
                "total_amount": [5.0],
                "on_promotion": [False],
                "transactions": [None],
                "is_open": [None],
                "batch_id": [None],
            },
            schema_overrides={
                "date": pl.Date,
                "transactions": pl.Int64,
                "is_open": pl.Boolean,
                "batch_id": pl.Int64,
            },
        )

    async def call() -> tuple[bool, bool, int]:
        async with ctx.db.begin() as conn:
            writer = FreshWriter(conn)
            clash = await writer.write(frame("2024-03-01"))  # stored by the POST above
            fresh = await writer.write(frame("2024-04-01"))  # the transaction is still usable
            n = (await conn.execute(sa.select(sa.func.count()).select_from(store.sales))).scalar_one()
            return clash, fresh, int(n)

    clash, fresh, n = client.blocking_portal.call(call)
    assert (clash, fresh) == (False, True)
    assert n == 8 + 1


def test_postgres_first_load_beside_an_open_reader_keeps_the_indexes(make_client) -> None:  # type: ignore[no-untyped-def]
    """A reader holding the empty table: the first load does not queue behind it for the index
    drop (it would wait until the reader ends), it keeps the indexes and loads row by row."""
    import asyncio

    client = make_client()
    ctx = client.app.state["ctx"]
    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite readers do not block DDL of the writer (WAL)")
    rows = sales_rows(n_days=6).sort("date", "store_code", "sku")
    body = csv_bytes(rows)

    async def call() -> ingest.IngestTally:
        async with ctx.db.engine.connect() as reader:
            await reader.execute(sa.select(store.sales.c.date).limit(1))  # holds ACCESS SHARE
            tally, _ = await asyncio.wait_for(
                ingest.ingest_sales(
                    ctx.db, _one(body), "csv", block_bytes=200, limits=RetailSettings(), create_missing=True
                ),
                timeout=60,
            )
            await reader.rollback()
            return tally

    tally = client.blocking_portal.call(call)
    assert tally.inserted == rows.height
    assert EXPECTED_INDEXES <= _indexes(client)
    assert _stored(client).height == rows.height


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body
