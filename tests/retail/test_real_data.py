"""Real data through the public ingest endpoint: Rossmann (stores 1..800, 729k rows) and the M5 subset.

KPIs are checked against polars computations on the raw files (not on what was sent)."""

from __future__ import annotations

import gzip
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa

from ridgeline.retail.api import store
from ridgeline.retail.datasets import m5_records, rossmann_records

from ..conftest import require_shared
from .retail_testlib import csv_bytes, run_db

pytestmark = pytest.mark.db


@pytest.mark.slow
def test_rossmann_full_file(make_client) -> None:  # type: ignore[no-untyped-def]
    train = require_shared("retail/rossmann/train_stores_1_800.csv.gz")
    stores_csv = require_shared("retail/rossmann/store.csv")
    client = make_client()
    body = gzip.compress(csv_bytes(rossmann_records(train, stores_csv)), compresslevel=1)
    r = client.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=body,
        headers={"content-type": "text/csv", "content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text[:500]
    j = r.json()
    assert j["total_received"] == 729_128 and j["inserted_count"] == 729_128 and j["rejected_count"] == 0
    assert j["created_stores"] == 800 and j["created_products"] == 800

    raw = pl.read_csv(train, schema_overrides={"StateHoliday": pl.String}).with_columns(
        pl.col("Date").str.to_date()
    )
    for start, end in ((date(2013, 1, 1), date(2014, 12, 31)), (date(2015, 1, 1), date(2015, 7, 31))):
        window = raw.filter(pl.col("Date").is_between(start, end))
        m = client.get(f"/retail/analytics/kpis?start_date={start}&end_date={end}").json()["metrics"]
        sales, customers = int(window["Sales"].sum()), int(window["Customers"].sum())
        assert m["total_revenue"] == pytest.approx(sales, abs=0.01)
        assert m["total_units"] == sales and m["total_transactions"] == customers
        assert m["avg_basket_value"] == pytest.approx(sales / customers, abs=1e-4)
        assert m["row_count"] == window.height

    # Promotion kept: revenue of promo days for one store, through the store filter + drilldown by date.
    top = client.get(
        "/retail/analytics/drilldowns?dimension=store&start_date=2015-01-01&end_date=2015-07-31&max_items=5"
    ).json()
    truth = (
        raw.filter(pl.col("Date") >= date(2015, 1, 1))
        .group_by("Store")
        .agg(pl.col("Sales").sum())
        .sort("Sales", descending=True)
        .head(5)
    )
    assert [i["dimension_value"] for i in top["items"]] == [f"R{s:04d}" for s in truth["Store"]]
    assert [i["metrics"]["total_units"] for i in top["items"]] == truth["Sales"].to_list()
    assert top["total_items"] == raw.filter(pl.col("Date") >= date(2015, 1, 1))["Store"].n_unique()

    monthly = client.get(
        "/retail/analytics/timeseries?granularity=month&start_date=2014-08-01&end_date=2015-07-31"
    ).json()
    want = (
        raw.filter(pl.col("Date") >= date(2014, 8, 1))
        .group_by(pl.col("Date").dt.truncate("1mo"))
        .agg(pl.col("Sales").sum())
        .sort("Date")
    )
    assert [p["total_units"] for p in monthly["points"]] == want["Sales"].to_list()

    async def counts(conn):  # type: ignore[no-untyped-def]
        h = store.store_holidays
        q = sa.select(h.c.kind, sa.func.count()).group_by(h.c.kind)
        promo = (
            sa.select(sa.func.count()).select_from(store.sales).where(store.sales.c.on_promotion.is_(True))
        )
        return dict((await conn.execute(q)).all()), (await conn.execute(promo)).scalar_one()

    holidays, promo_rows = run_db(client, counts)
    assert holidays["school"] == int(raw["SchoolHoliday"].sum())
    assert holidays["public"] == raw.filter(pl.col("StateHoliday") != "0").height
    assert promo_rows == int(raw["Promo"].sum())
    store_one = client.get("/retail/dimensions/stores?search=R0001").json()["stores"][0]
    assert store_one["store_type"] == "c" and store_one["name"] == "Rossmann 1"


def test_m5_subset_items_as_products_with_prices(make_client) -> None:  # type: ignore[no-untyped-def]
    directory = require_shared("retail/m5_subset/sales_train_validation.csv").parent
    records = m5_records(directory)
    client = make_client()
    r = client.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=records.write_ndjson().encode(),
        headers={"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text[:500]
    assert r.json()["inserted_count"] == records.height and r.json()["rejected_count"] == 0
    products = client.get("/retail/dimensions/products?page_size=100").json()
    assert products["total"] == 10
    assert {p["category"] for p in products["products"]} == {"HOBBIES", "HOUSEHOLD", "FOODS"}
    assert client.get("/retail/dimensions/stores?region=CA").json()["total"] == 3

    # Independent computation from the raw files: units x weekly sell price, for 2015.
    sales = pl.read_csv(directory / "sales_train_validation.csv")
    cal = pl.read_csv(directory / "calendar.csv", schema_overrides={"date": pl.Date})
    prices = pl.read_csv(directory / "sell_prices.tsv", separator="\t")
    long = sales.unpivot(
        index=["item_id", "store_id"], on=[c for c in sales.columns if c.startswith("d_")], variable_name="d"
    )
    priced = (
        long.join(cal.select("d", "date", "wm_yr_wk"), on="d")
        .join(prices, on=["store_id", "item_id", "wm_yr_wk"])
        .filter(pl.col("date").is_between(date(2015, 1, 1), date(2015, 12, 31)))
    )
    m = client.get("/retail/analytics/kpis?start_date=2015-01-01&end_date=2015-12-31").json()["metrics"]
    assert m["total_units"] == int(priced["value"].sum())
    assert m["total_revenue"] == pytest.approx(
        float((priced["value"] * priced["sell_price"]).round(2).sum()), abs=0.05
    )
    foods = client.get(
        "/retail/analytics/kpis?start_date=2015-01-01&end_date=2015-12-31&category=FOODS"
    ).json()
    assert foods["metrics"]["total_units"] == int(
        priced.filter(pl.col("item_id").str.starts_with("FOODS"))["value"].sum()
    )
