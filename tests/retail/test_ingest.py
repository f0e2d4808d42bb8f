"""POST /ingest/sales-daily: formats, idempotency, bad-row policy, holidays."""

from __future__ import annotations

import gzip
from datetime import date

import polars as pl
import pytest

from ridgeline.retail.api import store

from .retail_testlib import csv_bytes, post_csv, run_db, sales_rows

pytestmark = pytest.mark.db


def kpi(client, start: str = "2024-03-01", end: str = "2024-03-31") -> dict:  # type: ignore[no-untyped-def]
    r = client.get(f"/retail/analytics/kpis?start_date={start}&end_date={end}")
    assert r.status_code == 200
    return r.json()["metrics"]


def test_upsert_is_idempotent_and_counts_changes(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    batch = sales_rows()
    body = csv_bytes(batch)
    r = post_csv(client, body, create_missing=True)
    assert r.status_code == 200, r.text
    j = r.json()
    assert (j["inserted_count"], j["updated_count"], j["unchanged_count"], j["rejected_count"]) == (
        20,
        0,
        0,
        0,
    )
    assert j["created_stores"] == 2 and j["created_products"] == 2
    first = kpi(client)
    expected_revenue = round(float((batch["quantity"] * batch["unit_price"]).sum()), 2)
    assert first["total_revenue"] == pytest.approx(expected_revenue)
    assert first["total_units"] == batch["quantity"].sum()
    assert first["total_transactions"] == batch["transactions"].sum()

    again = post_csv(client, body, create_missing=True).json()
    assert (again["inserted_count"], again["updated_count"], again["unchanged_count"]) == (0, 0, 20)
    assert again["created_stores"] == 0 and kpi(client) == first

    changed = batch.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col("quantity") + 10)
        .otherwise(pl.col("quantity"))
        .alias("quantity")
    )
    third = post_csv(client, csv_bytes(changed)).json()
    assert (third["inserted_count"], third["updated_count"], third["unchanged_count"]) == (0, 1, 19)
    assert kpi(client)["total_units"] == first["total_units"] + 10


def test_bad_rows_are_reported_and_good_rows_stored(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    post_csv(client, csv_bytes(sales_rows(stores=("S1",), skus=("A",))), create_missing=True)
    body = (
        b"date,store_code,sku,quantity,unit_price\n"
        b"2024-03-10,S1,A,5,2.0\n"
        b"2024-03-11,S9,A,5,2.0\n"
        b"2024-03-12,S1,ZZ,5,2.0\n"
        b"2024-03-13,S1,A,-1,2.0\n"
        b"2024-03-14,S1,A,4,2.0\n"
        b"2024-03-14,S1,A,6,2.0\n"
    )
    j = post_csv(client, body).json()
    assert j["total_received"] == 6 and j["inserted_count"] == 2 and j["rejected_count"] == 4
    codes = {e["row_index"]: e["error_code"] for e in j["errors"]}
    assert codes == {1: "unknown_store", 2: "unknown_product", 3: "invalid_quantity", 4: "duplicate_in_batch"}
    err = next(e for e in j["errors"] if e["row_index"] == 1)
    assert err["store_code"] == "S9" and err["date"] == "2024-03-11" and "S9" in err["error_message"]
    daily = client.get(
        "/retail/analytics/drilldowns?dimension=date&start_date=2024-03-10&end_date=2024-03-14"
    ).json()["items"]
    assert {i["dimension_value"]: i["metrics"]["total_units"] for i in daily} == {
        "2024-03-10": 5,
        "2024-03-14": 6,
    }
    stores = client.get("/retail/dimensions/stores").json()
    assert [s["code"] for s in stores["stores"]] == ["S1"]


def test_all_or_nothing_stores_nothing(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    body = csv_bytes(sales_rows()) + b"2024-03-09,S1,A,oops,1\n"
    r = post_csv(client, body, create_missing=True, all_or_nothing=True)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["reason_code"] == "rows_rejected" and problem["rejected_count"] == 1
    assert (
        problem["errors"][0]["error_code"] == "invalid_quantity" and problem["errors"][0]["row_index"] == 20
    )
    assert client.get("/retail/dimensions/stores").json()["total"] == 0
    assert kpi(client)["row_count"] == 0


@pytest.mark.parametrize(
    ("body", "ctype", "status", "reason"),
    [
        (b"date,store_code,sku\n2024-01-01,S1,A\n", "text/csv", 400, "invalid_body"),
        (b"", "text/csv", 400, "invalid_body"),
        (b"date,store_code,sku,quantity,unit_price\n", "text/csv", 400, "empty_batch"),
        (b"{not json", "application/json", 400, "invalid_body"),
        (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_are_problems_and_change_nothing(make_client, body, ctype, status, reason) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    r = client.post(
        "/retail/ingest/sales-daily?create_missing=true", content=body, headers={"content-type": ctype}
    )
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason_code"] == reason and r.json()["status"] == status
    assert client.get("/retail/seeder/status").json()["sales"] == 0


def test_ndjson_gzip_and_json_bodies(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    batch = sales_rows(n_days=3)
    nd = batch.write_ndjson().encode()
    r = client.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=gzip.compress(nd),
        headers={"content-type": "application/x-ndjson", "content-encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["inserted_count"] == batch.height
    doc = {"records": batch.with_columns(pl.col("quantity") + 1).to_dicts()}
    r = client.post("/retail/ingest/sales-daily", json=doc)
    assert r.status_code == 200 and r.json()["updated_count"] == batch.height
    assert kpi(client)["total_units"] == batch["quantity"].sum() + batch.height


def test_dimension_attributes_and_holidays(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    body = (
        b"date,store_code,sku,quantity,unit_price,store_name,region,store_type,category,brand,store_holiday,school_holiday\n"
        b"2024-03-01,S1,A,1,1,Main St,North,express,Dairy,Acme,,true\n"
        b"2024-03-02,S1,A,1,1,,,,,,Founders Day,true\n"
    )
    assert post_csv(client, body, create_missing=True).json()["inserted_count"] == 2
    first = client.get("/retail/dimensions/stores").json()["stores"][0]
    assert (first["name"], first["region"], first["store_type"]) == ("Main St", "North", "express")
    product = client.get("/retail/dimensions/products").json()["products"][0]
    assert (product["name"], product["category"], product["brand"]) == ("A", "Dairy", "Acme")

    def holidays() -> list[tuple[str, str, str | None]]:
        frame = run_db(client, lambda conn: store.load_store_holidays_frame(conn))
        return sorted((str(d), k, n) for d, k, n in frame.select("date", "kind", "name").iter_rows())

    assert holidays() == [
        ("2024-03-01", "school", "school holiday"),
        ("2024-03-02", "public", "Founders Day"),
        ("2024-03-02", "school", "school holiday"),
    ]
    # Re-stating day 1 as no school holiday clears it; an empty cell leaves day 2 alone.
    update = b"date,store_code,sku,quantity,unit_price,region,school_holiday\n2024-03-01,S1,A,1,1,South,false\n2024-03-02,S1,A,1,1,,\n"
    j = post_csv(client, update).json()
    assert j["unchanged_count"] == 2
    assert holidays() == [
        ("2024-03-02", "public", "Founders Day"),
        ("2024-03-02", "school", "school holiday"),
    ]
    assert client.get("/retail/dimensions/stores").json()["stores"][0]["region"] == "South"


def test_sales_frame_for_other_retail_code(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    batch = sales_rows()
    post_csv(client, csv_bytes(batch), create_missing=True)
    frame = run_db(client, lambda conn: store.load_sales_frame(conn, store_ids=[1], product_ids=[2]))
    assert frame.schema == pl.Schema(store.SALES_SCHEMA)
    assert frame.height == 5 and frame["date"].is_sorted()
    sent = batch.filter((pl.col("store_code") == "S1") & (pl.col("sku") == "B"))
    assert frame["quantity"].to_list() == sent["quantity"].to_list()
    assert frame["unit_price"].to_list() == sent["unit_price"].to_list()
    assert frame["on_promotion"].to_list() == sent["on_promotion"].to_list()
    assert frame["transactions"].to_list() == sent["transactions"].to_list()
    everything = run_db(client, lambda conn: store.load_sales_frame(conn))
    assert everything.height == 20 and everything.select("store_id", "product_id", "date").is_unique().all()
    window = run_db(
        client,
        lambda conn: store.load_sales_frame(
            conn, start_date=date(2024, 3, 2), end_date=date(2024, 3, 3), product_ids=[1]
        ),
    )
    assert window.height == 4 and set(window["date"].to_list()) == {date(2024, 3, 2), date(2024, 3, 3)}
    cal = run_db(client, lambda conn: store.load_calendar_frame(conn))
    assert cal.height == 5 and cal["day_of_week"].to_list() == [4, 5, 6, 0, 1]


def test_locked_sqlite_gives_503_and_stores_nothing(make_client) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    client = make_client()
    settings = client.app.state["ctx"].settings
    if not settings.is_sqlite:
        pytest.skip("SQLite write-lock behaviour")
    other = sqlite3.connect(settings.resolved_database_url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the 10 s busy timeout
        r = post_csv(client, csv_bytes(sales_rows()), create_missing=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.status_code == 503 and r.json()["reason_code"] == "database_busy"
    assert r.headers["retry-after"] == "5"
    assert client.get("/retail/seeder/status").json()["sales"] == 0
    assert post_csv(client, csv_bytes(sales_rows()), create_missing=True).json()["inserted_count"] == 20
