"""GET /analytics/*: KPIs, drilldowns, time series and inventory status against polars computations."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from ridgeline.retail import synth

pytestmark = pytest.mark.db

GEN = {
    "scenario": "retail_standard",
    "seed": 11,
    "stores": 3,
    "products": 5,
    "start_date": "2024-01-01",
    "end_date": "2024-04-30",
    "safety_stock_days": 1.0,
    "disruption_prob": 0.2,
}


@pytest.fixture
def seeded(make_client):  # type: ignore[no-untyped-def]
    client = make_client()
    r = client.post("/retail/seeder/generate", json=GEN)
    assert r.status_code == 201, r.text
    params = synth.scenario_params(
        "retail_standard",
        seed=11,
        stores=3,
        products=5,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 4, 30),
        safety_stock_days=1.0,
        disruption_prob=0.2,
    )
    data = synth.generate(params)
    sales = (
        data["sales"]
        .join(data["products"], on="sku")
        .join(data["stores"].rename({"code": "store_code"}), on="store_code")
    )
    return client, sales, data


def expected(frame: pl.DataFrame) -> dict:  # type: ignore[type-arg]
    rev = float(frame["total_amount"].sum())
    units = int(frame["quantity"].sum())
    tx = int(frame["transactions"].sum())
    return {
        "total_revenue": pytest.approx(round(rev, 2), abs=0.011),
        "total_units": units,
        "total_transactions": tx,
        "avg_unit_price": pytest.approx(rev / units, abs=1e-4),
        "avg_basket_value": pytest.approx(rev / tx, abs=1e-4),
        "row_count": frame.height,
    }


def test_kpis_match_polars_with_filters(seeded) -> None:  # type: ignore[no-untyped-def]
    client, sales, _ = seeded
    window = sales.filter(pl.col("date").is_between(date(2024, 2, 1), date(2024, 3, 15)))
    r = client.get("/retail/analytics/kpis?start_date=2024-02-01&end_date=2024-03-15")
    assert r.json()["metrics"] == expected(window)
    category = window["category"][0]
    r = client.get(f"/retail/analytics/kpis?start_date=2024-02-01&end_date=2024-03-15&category={category}")
    assert r.json()["metrics"] == expected(window.filter(pl.col("category") == category))
    assert r.json()["category"] == category
    stores = client.get("/retail/dimensions/stores").json()["stores"]
    s0 = stores[0]
    r = client.get(
        f"/retail/analytics/kpis?start_date=2024-02-01&end_date=2024-03-15&store_id={s0['id']}&region={s0['region']}"
    )
    assert r.json()["metrics"] == expected(window.filter(pl.col("store_code") == s0["code"]))


def test_kpis_of_an_empty_range_are_zero(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = seeded
    m = client.get("/retail/analytics/kpis?start_date=2020-01-01&end_date=2020-01-31").json()["metrics"]
    assert m == {
        "total_revenue": 0.0,
        "total_units": 0,
        "total_transactions": 0,
        "avg_unit_price": None,
        "avg_basket_value": None,
        "row_count": 0,
    }


@pytest.mark.parametrize("path", ["kpis", "drilldowns", "timeseries"])
def test_date_range_rules(seeded, path) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = seeded
    extra = "&dimension=store" if path == "drilldowns" else ""
    base = f"/retail/analytics/{path}?"
    inverted = client.get(base + "start_date=2024-03-02&end_date=2024-03-01" + extra)
    assert inverted.status_code == 400 and inverted.json()["reason_code"] == "invalid_date_range"
    assert inverted.headers["content-type"].startswith("application/problem+json")
    too_long = client.get(base + "start_date=2022-01-01&end_date=2024-01-02" + extra)  # 731 days
    assert too_long.status_code == 400 and too_long.json()["reason_code"] == "date_range_too_long"
    assert (
        client.get(base + "start_date=2022-01-01&end_date=2024-01-01" + extra).status_code == 200
    )  # 730 days
    assert client.get(base + "start_date=2024-03-01" + extra).status_code == 422
    assert client.get(base + "start_date=2024-03-01&end_date=not-a-date" + extra).status_code == 422


@pytest.mark.parametrize("dimension", ["store", "product", "category", "region", "date"])
def test_drilldowns_rank_and_share(seeded, dimension) -> None:  # type: ignore[no-untyped-def]
    client, sales, _ = seeded
    col = {
        "store": "store_code",
        "product": "sku",
        "category": "category",
        "region": "region",
        "date": "date",
    }[dimension]
    r = client.get(
        f"/retail/analytics/drilldowns?dimension={dimension}&start_date=2024-02-01&end_date=2024-04-30&max_items=100"
    )
    body = r.json()
    sales = sales.filter(pl.col("date") >= date(2024, 2, 1))
    groups = sales.group_by(col).agg(
        pl.col("total_amount").sum().alias("rev"), pl.col("quantity").sum().alias("units")
    )
    assert body["total_items"] == groups.height == len(body["items"])
    revenues = [i["metrics"]["total_revenue"] for i in body["items"]]
    assert revenues == sorted(revenues, reverse=True)
    assert [i["rank"] for i in body["items"]] == list(range(1, groups.height + 1))
    assert sum(i["revenue_share_pct"] for i in body["items"]) == pytest.approx(100.0, abs=1e-3)
    by_value = {str(k): u for k, u in groups.select(col, "units").iter_rows()}
    assert {i["dimension_value"]: i["metrics"]["total_units"] for i in body["items"]} == by_value
    if dimension in ("store", "product"):
        assert all(isinstance(i["dimension_id"], int) for i in body["items"])
    top = client.get(
        f"/retail/analytics/drilldowns?dimension={dimension}&start_date=2024-02-01&end_date=2024-04-30&max_items=2"
    ).json()
    assert top["items"] == body["items"][:2] and top["total_items"] == groups.height


def test_drilldown_rejects_unknown_dimension(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = seeded
    r = client.get("/retail/analytics/drilldowns?dimension=planet&start_date=2024-01-01&end_date=2024-01-02")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("granularity", "every"), [("day", "1d"), ("week", "1w"), ("month", "1mo"), ("quarter", "1q")]
)
def test_timeseries_buckets(seeded, granularity, every) -> None:  # type: ignore[no-untyped-def]
    client, sales, _ = seeded
    start, end = date(2023, 12, 20), date(2024, 4, 10)
    r = client.get(
        f"/retail/analytics/timeseries?granularity={granularity}&start_date={start}&end_date={end}"
    )
    assert r.status_code == 200
    points = r.json()["points"]
    window = sales.filter(pl.col("date").is_between(start, end))
    truth = window.group_by(pl.col("date").dt.truncate(every).alias("p")).agg(
        pl.col("quantity").sum(), pl.col("total_amount").sum()
    )
    got = {p["period_start"]: p["total_units"] for p in points if p["total_units"]}
    want = {str(max(p, start)): q for p, q in truth.select("p", "quantity").iter_rows() if q}
    assert got == want
    assert points[0]["period_start"] == str(start) and points[-1]["period_end"] == str(end)
    assert sum(p["total_revenue"] for p in points) == pytest.approx(
        float(window["total_amount"].sum()), abs=0.05
    )
    days = [
        (date.fromisoformat(p["period_end"]) - date.fromisoformat(p["period_start"])).days + 1 for p in points
    ]
    assert sum(days) == (end - start).days + 1  # contiguous, empty buckets included as zeros


def test_inventory_status_is_latest_snapshot(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _, data = seeded
    inv = data["inventory"]
    r = client.get("/retail/analytics/inventory-status?page_size=1000").json()
    assert r["total"] == 15 and len(r["items"]) == 15
    latest = inv.filter(pl.col("date") == pl.col("date").max())
    assert r["stockout_count"] == int(latest["is_stockout"].sum())
    want = {(s, k): q for s, k, q in latest.select("store_code", "sku", "on_hand_qty").iter_rows()}
    assert {(i["store_code"], i["sku"]): i["on_hand_qty"] for i in r["items"]} == want
    assert {i["date"] for i in r["items"]} == {"2024-04-30"}
    ranged = client.get(
        "/retail/analytics/inventory-status?start_date=2024-02-01&end_date=2024-02-29&page_size=1000"
    ).json()
    feb = inv.filter(pl.col("date") == date(2024, 2, 29))
    assert {(i["store_code"], i["sku"]): i["on_hand_qty"] for i in ranged["items"]} == {
        (s, k): q for s, k, q in feb.select("store_code", "sku", "on_hand_qty").iter_rows()
    }
    one = client.get(f"/retail/analytics/inventory-status?store_id={r['items'][0]['store_id']}").json()
    assert one["total"] == 5
    outs = client.get("/retail/analytics/inventory-status?stockout_only=true").json()
    assert outs["total"] == r["stockout_count"] and all(i["is_stockout"] for i in outs["items"])
    page2 = client.get("/retail/analytics/inventory-status?page=2&page_size=10").json()
    assert len(page2["items"]) == 5 and page2["page"] == 2
    assert client.get("/retail/analytics/inventory-status?start_date=2024-02-01").status_code == 400
    assert (
        client.get("/retail/analytics/inventory-status?start_date=2024-03-01&end_date=2024-02-01").status_code
        == 400
    )


def test_inventory_status_empty_table_is_200(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    r = client.get("/retail/analytics/inventory-status?store_id=12345")
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0
