"""Ingest write layout (issue 22, ingest rate): PostgreSQL's binary COPY of the fresh rows (every
null pattern of the nullable columns round-trips), the date range each batch records, which
``DELETE /ingest/batches/{id}`` reads instead of an index on batch_id, and migration
``0026_retail_ingest_layout``."""

from __future__ import annotations

import gzip
import struct
from datetime import date
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.retail.api import store
from ridgeline.retail.ingest_write import SALES_WRITE_COLUMNS, pg_binary_copy

from .retail_testlib import csv_bytes, on_database, post_csv, run_db, sales_rows


def _stored(client: Any) -> list[tuple[Any, ...]]:
    async def read(conn: Any) -> list[Any]:
        s = store.sales
        cols = [s.c.date, s.c.store_id, *[s.c[c] for c in store.SALES_COLUMNS]]
        return list((await conn.execute(sa.select(*cols).order_by(s.c.date, s.c.store_id))).all())

    return [(store.as_date(r[0]), *r[1:]) for r in run_db(client, read)]


@pytest.mark.db
def test_every_null_pattern_of_the_fresh_and_upserted_rows_is_stored_as_sent(make_client) -> None:  # type: ignore[no-untyped-def]
    # transactions and is_open each stated or empty, in all four combinations, with returns,
    # a price with 4 decimals and both booleans: on PostgreSQL these go in by binary COPY.
    c = make_client(seed_defaults=False)
    body = (
        b"date,store_code,sku,quantity,unit_price,total_amount,on_promotion,transactions,is_open\n"
        b"2024-03-01,S1,A,5,2.1234,10.62,true,7,true\n"
        b"2024-03-01,S2,A,-2,1.5,-3.0,false,,false\n"
        b"2024-03-02,S1,A,0,0,0,false,3,\n"
        b"2024-03-02,S2,A,2147483647,1,99.99,true,,\n"
    )
    r = post_csv(c, body, create_missing=True, allow_returns=True)
    assert r.status_code == 200, r.text
    assert r.json()["inserted_count"] == 4
    s1, s2 = sorted({row[1] for row in _stored(c)})
    assert _stored(c) == [
        (date(2024, 3, 1), s1, 5, 2.1234, 10.62, True, 7, True),
        (date(2024, 3, 1), s2, -2, 1.5, -3.0, False, None, False),
        (date(2024, 3, 2), s1, 0, 0.0, 0.0, False, 3, None),
        (date(2024, 3, 2), s2, 2147483647, 1.0, 99.99, True, None, None),
    ]
    # A correction on the same dates goes through the upsert (on PostgreSQL its stage is filled by
    # binary COPY too): every row moves to another null pattern, and S3 is new on a stored date.
    fix = (
        b"date,store_code,sku,quantity,unit_price,total_amount,on_promotion,transactions,is_open\n"
        b"2024-03-01,S1,A,6,2.1234,10.62,true,,\n"
        b"2024-03-01,S2,A,-2,1.5,-3.0,false,4,true\n"
        b"2024-03-02,S1,A,0,0,0,false,,false\n"
        b"2024-03-02,S2,A,2147483647,1,99.99,true,0,\n"
        b"2024-03-02,S3,A,1,0.5,0.5,false,,true\n"
    )
    r = post_csv(c, fix, create_missing=True, allow_returns=True)
    assert r.status_code == 200, r.text
    assert (r.json()["inserted_count"], r.json()["updated_count"]) == (1, 4)
    s3 = max({row[1] for row in _stored(c)})
    assert _stored(c) == [
        (date(2024, 3, 1), s1, 6, 2.1234, 10.62, True, None, None),
        (date(2024, 3, 1), s2, -2, 1.5, -3.0, False, 4, True),
        (date(2024, 3, 2), s1, 0, 0.0, 0.0, False, None, False),
        (date(2024, 3, 2), s2, 2147483647, 1.0, 99.99, True, 0, None),
        (date(2024, 3, 2), s3, 1, 0.5, 0.5, False, None, True),
    ]


def _decode(buf: bytes, layouts: list[str]) -> list[tuple[Any, ...]]:
    """Read PostgreSQL's binary COPY format back (the fields of each tuple, None for a null)."""
    assert buf[:11] == b"PGCOPY\n\xff\r\n\x00" and buf[11:19] == bytes(8)
    pos, out = 19, []
    while True:
        (n,) = struct.unpack_from(">h", buf, pos)
        pos += 2
        if n == -1:
            assert pos == len(buf)
            return out
        row: list[Any] = []
        for layout in layouts[:n]:
            (size,) = struct.unpack_from(">i", buf, pos)
            pos += 4
            if size == -1:
                row.append(None)
                continue
            (value,) = struct.unpack_from({">i4": ">i", ">f8": ">d", "u1": ">B"}[layout], buf, pos)
            pos += size
            row.append(value)
        out.append(tuple(row))


def test_binary_copy_encodes_values_dates_and_nulls() -> None:
    frame = pl.DataFrame(
        {
            "store_id": [1, 2, 3],
            "product_id": [4, 5, 6],
            "date": [date(2000, 1, 1), date(1999, 12, 31), date(2024, 3, 1)],
            "quantity": [-7, 0, 2**31 - 1],
            "unit_price": [1.25, 0.0, 3.5],
            "total_amount": [-8.75, 0.0, 1e9],
            "on_promotion": [True, False, True],
            "transactions": [None, 4, None],
            "is_open": [None, None, False],
            "batch_id": [9, 9, 9],
        },
        schema_overrides={"is_open": pl.Boolean, "transactions": pl.Int64},
    ).select(SALES_WRITE_COLUMNS)
    buf = pg_binary_copy(store.sales, frame)
    assert buf is not None
    layouts = [">i4", ">i4", ">i4", ">i4", ">f8", ">f8", "u1", ">i4", "u1", ">i4"]
    rows = sorted(_decode(buf, layouts))  # rows are grouped by null pattern
    # Dates are days since 2000-01-01.
    assert rows == [
        (1, 4, 0, -7, 1.25, -8.75, 1, None, None, 9),
        (2, 5, -1, 0, 0.0, 0.0, 0, 4, None, 9),
        (3, 6, 8826, 2**31 - 1, 3.5, 1e9, 1, None, 0, 9),
    ]


def test_binary_copy_leaves_text_and_out_of_range_integers_to_csv() -> None:
    holidays = pl.DataFrame({"store_id": [1], "date": [date(2024, 1, 1)], "kind": ["public"], "name": ["x"]})
    assert pg_binary_copy(store.store_holidays, holidays) is None
    frame = pl.DataFrame(
        {"store_id": [1], "product_id": [1], "date": [date(2024, 1, 1)], "quantity": [2**31]}
    )
    assert pg_binary_copy(store.sales, frame) is None


def _batch(client: Any, batch_id: int) -> tuple[Any, Any]:
    async def read(conn: Any) -> Any:
        b = store.ingest_batches
        return (await conn.execute(sa.select(b.c.first_date, b.c.last_date).where(b.c.id == batch_id))).one()

    first, last = run_db(client, read)
    return store.as_date(first), store.as_date(last)


@pytest.mark.db
def test_batches_record_the_dates_they_wrote_and_delete_within_them(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    first = sales_rows(n_days=10)  # 2 stores x 2 skus, 2024-03-01..10
    a = post_csv(c, csv_bytes(first), create_missing=True).json()
    assert _batch(c, a["batch_id"]) == (date(2024, 3, 1), date(2024, 3, 10))
    # Batch B rewrites S1/A on 03-04 and 03-05 and adds 03-20 for S2/B.
    s1a = first.filter((pl.col("store_code") == "S1") & (pl.col("sku") == "A"))
    changed = s1a.filter(pl.col("date").is_in(["2024-03-04", "2024-03-05"])).with_columns(
        pl.col("quantity") + 50
    )
    added = first.filter((pl.col("store_code") == "S2") & (pl.col("sku") == "B")).head(1)
    added = added.with_columns(pl.lit("2024-03-20").alias("date"))
    b = post_csv(c, csv_bytes(pl.concat([changed, added]))).json()
    assert (b["inserted_count"], b["updated_count"]) == (1, 2)
    assert _batch(c, b["batch_id"]) == (date(2024, 3, 4), date(2024, 3, 20))

    dry = c.delete(f"/retail/ingest/batches/{b['batch_id']}").json()
    assert (dry["matched_count"], dry["deleted_count"]) == (3, 0)
    gone = c.delete(f"/retail/ingest/batches/{b['batch_id']}?dry_run=false").json()
    assert gone["deleted_count"] == 3
    assert (gone["first_date"], gone["last_date"]) == ("2024-03-04", "2024-03-20")
    rest = c.delete(f"/retail/ingest/batches/{a['batch_id']}?dry_run=false").json()
    assert rest["deleted_count"] == 38  # 40 rows, less the two B overwrote (and B deleted)
    assert _stored(c) == []


@pytest.mark.db
def test_migration_0026_drops_the_batch_index_and_adds_the_batch_range(settings) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from ridgeline.platform import db as dbmod

    def shape(c: Any) -> tuple[set[str], set[str]]:
        insp = sa.inspect(c)
        indexes = {i["name"] for i in insp.get_indexes("retail_sales_daily")}
        columns = {col["name"] for col in insp.get_columns("retail_ingest_batch")}
        return indexes, columns

    dbmod.upgrade(settings, "0025_retail_ingest_speed")
    indexes, columns = on_database(settings, shape)
    assert "ix_retail_sales_daily_batch" in indexes and "first_date" not in columns
    dbmod.upgrade(settings)
    indexes, columns = on_database(settings, shape)
    assert "ix_retail_sales_daily_batch" not in indexes and "ix_retail_sales_daily_series" in indexes
    assert {"first_date", "last_date"} <= columns
    command.downgrade(dbmod.alembic_config(settings), "0025_retail_ingest_speed")
    indexes, columns = on_database(settings, shape)
    assert "ix_retail_sales_daily_batch" in indexes and not {"first_date", "last_date"} & columns


def test_a_body_sent_as_one_chunk_is_written_block_by_block(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # An in-process client hands the whole body over as one chunk: its blocks must still be parsed,
    # validated and written one by one (the first written while later ones are still unparsed), not
    # all parsed first.
    from ridgeline.retail import records
    from ridgeline.retail.api import ingest
    from ridgeline.retail.settings import retail_settings

    c = make_client(seed_defaults=False)
    body = csv_bytes(sales_rows(n_days=31, stores=tuple(f"S{i}" for i in range(1, 9))))  # 496 rows, 24 KB
    events: list[str] = []
    parse, apply = records.RecordParser._block, ingest._BlockWriter.apply

    def logged_parse(self: Any, block: bytes) -> Any:
        events.append("parse")
        yield from parse(self, block)

    async def logged_apply(self: Any, good: pl.DataFrame) -> None:
        events.append("write")
        await apply(self, good)

    monkeypatch.setattr(records, "INFLATE_PIECE", 2048)  # blocks of about 2 KB
    monkeypatch.setattr(records.RecordParser, "_block", logged_parse)
    monkeypatch.setattr(ingest._BlockWriter, "apply", logged_apply)
    ctx = c.app.state["ctx"]

    async def one_chunk() -> Any:
        yield gzip.compress(body)

    async def run() -> Any:
        return await ingest.ingest_sales(
            ctx.db,
            one_chunk(),
            "csv",
            gzip=True,
            create_missing=True,
            block_bytes=1024,
            limits=retail_settings(ctx),
        )

    tally, _ = c.blocking_portal.call(run)
    assert tally.inserted == 496 and tally.rejected == 0
    assert events.count("parse") >= 6
    # At most the two queued blocks and the one being prepared are parsed before the first write.
    assert events[: events.index("write")].count("parse") <= 3


def test_only_single_valued_integer_boolean_and_text_columns_become_literals() -> None:
    from ridgeline.retail.ingest_write import _constant_literals

    frame = pl.DataFrame(
        {
            "batch_id": [7, 7, 7],
            "store_id": [1, 2, 1],
            "on_promotion": [True, True, True],
            "is_open": [True, False, True],
            "kind": ["school", "school", "school"],
            "name": ["St. Mary's", "St. Mary's", "St. Mary's"],
            "other": ["a", "b", "a"],
            "unit_price": [2.5, 2.5, 2.5],  # floats are always bound (exact text of a double)
            "date": [date(2024, 3, 1)] * 3,  # dates too
            "transactions": [None, None, None],
            "quantity": [4, None, 4],  # a null among equal values: bound
        },
        schema_overrides={"transactions": pl.Int64},
    )
    assert _constant_literals(frame) == {
        "batch_id": "7",
        "on_promotion": "1",
        "kind": "'school'",
        "name": "'St. Mary''s'",
        "transactions": "NULL",
    }
