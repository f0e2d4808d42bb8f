"""Issue 22: rows on dates already stored go in by one upsert per block
(``ridgeline.retail.ingest_write.upsert_sales``). New keys on a stored date, changed rows and
identical rows of one block are counted apart, stored with the right values, and only the written
rows take the new batch."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.retail.api import store

from .retail_testlib import csv_bytes, post_csv, run_db, sales_rows

pytestmark = pytest.mark.db


def _facts(client: Any) -> dict[tuple[int, str], tuple[int, int | None]]:
    """(store_id, date) -> (quantity, batch_id) of every stored sales row."""

    async def read(conn: Any) -> list[Any]:
        s = store.sales
        return list((await conn.execute(sa.select(s.c.store_id, s.c.date, s.c.quantity, s.c.batch_id))).all())

    return {(int(r[0]), str(r[1])): (int(r[2]), r[3]) for r in run_db(client, read)}


def test_block_mixing_new_changed_and_identical_rows_on_stored_dates(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    first = sales_rows(n_days=3, stores=("S1", "S2"), skus=("A",))  # 6 rows, days 1-3
    a = post_csv(c, csv_bytes(first), create_missing=True)
    assert a.status_code == 200, a.text
    batch_a = a.json()["batch_id"]
    # Store S3 gets its id now, without rows, so the next batch's S3 rows are new keys on dates
    # that already hold rows (the upsert path, not the fresh-row path).
    s3 = sales_rows(n_days=1, stores=("S3",), skus=("A",)).with_columns(pl.lit("2024-04-01").alias("date"))
    assert post_csv(c, csv_bytes(s3), create_missing=True).status_code == 200
    before = _facts(c)

    same = first.filter(pl.col("store_code") == "S1")  # 3 identical rows
    changed = first.filter(pl.col("store_code") == "S2").with_columns(pl.col("quantity") + 50)  # 3
    new = first.filter(pl.col("store_code") == "S2").with_columns(
        pl.lit("S3").alias("store_code"), pl.lit(77).cast(pl.Int64).alias("quantity")
    )  # 3 new keys on the stored days 1-3
    b = post_csv(c, csv_bytes(pl.concat([same, changed, new]).sort("date")))
    assert b.status_code == 200, b.text
    body = b.json()
    assert (body["inserted_count"], body["updated_count"], body["unchanged_count"]) == (3, 3, 3)
    batch_b = body["batch_id"]

    after = _facts(c)
    ids = {code: sid for code, sid in run_db(c, _store_ids)}
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        assert after[(ids["S1"], day)] == before[(ids["S1"], day)]  # not written: keeps batch A
        assert after[(ids["S1"], day)][1] == batch_a
        old_qty = before[(ids["S2"], day)][0]
        assert after[(ids["S2"], day)] == (old_qty + 50, batch_b)
        assert after[(ids["S3"], day)] == (77, batch_b)
    assert len(after) == len(before) + 3

    again = post_csv(c, csv_bytes(pl.concat([same, changed, new]))).json()
    assert (again["inserted_count"], again["updated_count"], again["unchanged_count"]) == (0, 0, 9)


async def _store_ids(conn: Any) -> list[Any]:
    return list((await conn.execute(sa.select(store.stores.c.code, store.stores.c.id))).all())
