"""Issue 22: deleting the rows of one ingest batch (``DELETE /ingest/batches/{batch_id}``), and the
migration that records batches (``0019_retail_batches``: existing rows get a NULL batch)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.retail.api import store

from .retail_testlib import csv_bytes, post_csv, run_db, sales_rows

pytestmark = pytest.mark.db


def _facts(client: Any) -> pl.DataFrame:
    """Every stored sales row, with its batch, in key order."""

    async def read(conn: Any) -> list[Any]:
        s = store.sales
        cols = [s.c.store_id, s.c.product_id, s.c.date, *[s.c[c] for c in store.SALES_COLUMNS], s.c.batch_id]
        return list(
            (await conn.execute(sa.select(*cols).order_by(s.c.date, s.c.store_id, s.c.product_id))).all()
        )

    rows = run_db(client, read)
    names = ["store_id", "product_id", "date", *store.SALES_COLUMNS, "batch_id"]
    return pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)


def _problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason_code"] == code, r.text


def test_delete_one_batch_removes_exactly_the_rows_it_still_holds(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    first = sales_rows(n_days=10)  # 2 stores x 2 skus x 10 days = 40 rows
    a = post_csv(c, csv_bytes(first), create_missing=True)
    assert a.status_code == 200, a.text
    batch_a = a.json()["batch_id"]
    assert batch_a >= 1 and a.json()["inserted_count"] == 40

    # Batch B: S1/A on days 6..12. Days 6-8 are sent again unchanged, days 9-10 with a new quantity
    # (updated: their values are now B's), days 11-12 are new.
    s1a = first.filter((pl.col("store_code") == "S1") & (pl.col("sku") == "A"))
    same = s1a.filter(pl.col("date").is_between(pl.lit("2024-03-06"), pl.lit("2024-03-08")))
    changed = s1a.filter(pl.col("date").is_between(pl.lit("2024-03-09"), pl.lit("2024-03-10"))).with_columns(
        pl.col("quantity") + 100
    )
    new = pl.concat([s1a.head(2)] * 1).with_columns(
        pl.Series("date", ["2024-03-11", "2024-03-12"]), pl.lit(3).cast(pl.Int64).alias("quantity")
    )
    b = post_csv(c, csv_bytes(pl.concat([same, changed, new])))
    assert b.status_code == 200, b.text
    body_b = b.json()
    batch_b = body_b["batch_id"]
    assert batch_b != batch_a
    assert (body_b["inserted_count"], body_b["updated_count"], body_b["unchanged_count"]) == (2, 2, 3)

    # A legacy row (stored before batches were recorded) and other tables that must not change.
    async def legacy(conn: Any) -> None:
        await conn.execute(
            store.sales.insert().values(
                store_id=1,
                product_id=1,
                date=date(2024, 2, 1),
                quantity=9,
                unit_price=1.0,
                total_amount=9.0,
                on_promotion=False,
                transactions=None,
                is_open=None,
                batch_id=None,
            )
        )
        await conn.commit()

    run_db(c, legacy)
    before = _facts(c)
    stores_before = c.get("/retail/dimensions/stores").json()
    assert before.filter(pl.col("batch_id") == batch_a).height == 38  # 2 of A's rows now hold B's values

    dry = c.delete(f"/retail/ingest/batches/{batch_a}")
    assert dry.status_code == 200, dry.text
    d = dry.json()
    assert d["dry_run"] is True and d["batch_id"] == batch_a
    assert (d["written_count"], d["matched_count"], d["deleted_count"]) == (40, 38, 0)
    assert d["first_date"] == "2024-03-01" and d["last_date"] == "2024-03-10"
    assert _facts(c).equals(before)

    done = c.delete(f"/retail/ingest/batches/{batch_a}", params={"dry_run": "false"})
    assert done.status_code == 200, done.text
    assert done.json()["deleted_count"] == 38 and done.json()["dry_run"] is False
    after = _facts(c)
    # Exactly batch A's rows went; every other row is byte-for-byte as it was.
    assert after.equals(before.filter(pl.col("batch_id").is_null() | (pl.col("batch_id") != batch_a)))
    assert after.filter(pl.col("batch_id") == batch_b).height == 4
    assert after.filter(pl.col("batch_id").is_null()).height == 1
    assert c.get("/retail/dimensions/stores").json() == stores_before

    again = c.delete(f"/retail/ingest/batches/{batch_a}", params={"dry_run": "false"}).json()
    assert again["matched_count"] == 0 and again["deleted_count"] == 0
    _problem(c.delete("/retail/ingest/batches/999999"), 404, "batch_not_found")
    _problem(c.delete(f"/retail/ingest/batches/{2**63}"), 422, "invalid_request")


def test_a_rejected_batch_records_nothing_and_the_seeder_takes_rows_out_of_batches(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    rows = sales_rows(n_days=3).with_columns(pl.col("quantity").cast(pl.String))
    bad = pl.concat([rows, rows.head(1).with_columns(pl.lit("-1").alias("quantity"))])
    r = post_csv(c, csv_bytes(bad), create_missing=True, all_or_nothing=True)
    _problem(r, 422, "rows_rejected")

    async def batches(conn: Any) -> int:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(store.ingest_batches))).scalar_one()
        )

    assert run_db(c, batches) == 0

    # A seeder run over ingested rows: the rows it writes hold seeded values, so they leave the batch.
    gen = c.post(
        "/retail/seeder/generate",
        json={
            "scenario": "embedded_default",
            "stores": 1,
            "products": 1,
            "start_date": "2024-07-01",
            "end_date": "2024-07-31",
        },
    )
    assert gen.status_code == 201, gen.text
    seeded = pl.DataFrame(
        {
            "date": [f"2024-07-0{i}" for i in range(1, 6)],
            "store_code": "S0001",
            "sku": "SKU-00001",
            "quantity": 1,
            "unit_price": 1.0,
        }
    )
    up = post_csv(c, csv_bytes(seeded)).json()
    assert up["updated_count"] + up["inserted_count"] == 5
    again = c.post(
        "/retail/seeder/generate",
        json={
            "scenario": "embedded_default",
            "stores": 1,
            "products": 1,
            "start_date": "2024-07-01",
            "end_date": "2024-07-31",
        },
    )
    assert again.status_code == 201, again.text
    d = c.delete(f"/retail/ingest/batches/{up['batch_id']}").json()
    assert d["written_count"] == 5 and d["matched_count"] == 0


def test_migration_gives_existing_rows_the_legacy_batch(settings) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from alembic import command

    from ridgeline.platform import db as dbmod

    dbmod.upgrade(settings, "0016_retail_open_days")  # the schema before batches were recorded

    async def on_db(sql: str, fetch: bool = False) -> list[Any]:
        database = dbmod.Database(settings)
        try:
            async with database.engine.begin() as conn:
                result = await conn.execute(sa.text(sql))
                return [tuple(r) for r in result.all()] if fetch else []
        finally:
            await database.dispose()

    asyncio.run(
        on_db(
            "INSERT INTO retail_sales_daily (store_id, product_id, date, quantity, unit_price, total_amount,"
            " on_promotion) VALUES (1, 1, '2024-01-02', 5, 1.0, 5.0, false)"
        )
    )
    dbmod.upgrade(settings)
    assert asyncio.run(on_db("SELECT quantity, batch_id FROM retail_sales_daily", fetch=True)) == [(5, None)]
    assert asyncio.run(on_db("SELECT count(*) FROM retail_ingest_batch", fetch=True)) == [(0,)]
    # Undo what was built on 0019 first (0025 drops a holiday FOREIGN KEY), then 0019 itself.
    command.downgrade(dbmod.alembic_config(settings), "0019_retail_batches")
    command.downgrade(dbmod.alembic_config(settings), "0019_retail_batches@-1")
    assert asyncio.run(on_db("SELECT quantity FROM retail_sales_daily", fetch=True)) == [(5,)]

    async def shape() -> tuple[set[str], set[str]]:
        database = dbmod.Database(settings)
        try:
            async with database.engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: (
                        {col["name"] for col in sa.inspect(c).get_columns("retail_sales_daily")},
                        set(sa.inspect(c).get_table_names()),
                    )
                )
        finally:
            await database.dispose()

    columns, tables = asyncio.run(shape())
    assert "batch_id" not in columns and "is_open" in columns  # 0019 undone, 0016 kept
    assert "retail_ingest_batch" not in tables


def test_openapi_marks_the_batch_delete_as_an_addition(make_client) -> None:  # type: ignore[no-untyped-def]
    paths = make_client(seed_defaults=False).get("/openapi.json").json()["paths"]
    op = paths["/retail/ingest/batches/{batch_id}"]["delete"]
    assert "addition to contract 002" in op["description"]
    assert {"200", "404"} <= set(op["responses"])
    ingest = paths["/retail/ingest/sales-daily"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ingest["schema"]  # the ingest answer (with batch_id) is documented
