"""Featuresets, forecasting, backtesting and explainability over HTTP, on data ingested through the API."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from .forecast_synth import retail_frame

pytestmark = pytest.mark.db


def _ingest(c: Any, n_days: int = 200, gap: tuple[int, int] | None = None) -> tuple[int, int, pl.DataFrame]:
    df = retail_frame(n_series=1, n_days=n_days, seed=12)
    if gap is not None:
        lo, hi = gap
        df = df.with_row_index("i").filter(~pl.col("i").is_between(lo, hi)).drop("i")
    rows = df.select(
        pl.col("date").cast(pl.String),
        pl.lit("S1").alias("store_code"),
        pl.lit("A").alias("sku"),
        pl.col("y").round(0).cast(pl.Int64).alias("quantity"),
        pl.col("price").round(2).alias("unit_price"),
        (pl.col("promo") > 0).alias("on_promotion"),
        pl.lit(10).alias("transactions"),
    )
    buf = io.BytesIO()
    rows.write_csv(buf)
    r = c.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=buf.getvalue(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    store_id = c.get("/retail/dimensions/stores").json()["stores"][0]["id"]
    product_id = c.get("/retail/dimensions/products").json()["products"][0]["id"]
    return store_id, product_id, rows


def test_featuresets_are_time_safe_and_calendar_correct(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p, rows = _ingest(c, gap=(60, 80))  # no sales 2022-03-04 .. 2022-03-24
    body = {"store_id": s, "product_id": p, "start_date": "2022-03-01", "end_date": "2022-06-30"}
    r = c.post("/retail/featuresets/compute", json={**body, "cutoff_date": "2022-05-01"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["cutoff_date"] == "2022-05-01" and out["leakage_safe"] is True
    assert max(row["date"] for row in out["rows"]) < "2022-05-01"
    by_day = {row["date"]: row for row in out["rows"]}
    day = date(2022, 4, 10)
    expected = rows.filter(pl.col("date") == str(day - timedelta(days=7)))["quantity"][0]
    assert by_day[str(day)]["lag_7"] == expected
    # The same features with sales after the cutoff removed from the request window.
    r2 = c.post("/retail/featuresets/compute", json={**body, "end_date": "2022-04-30"})
    assert r2.json()["rows"] == out["rows"]
    # Right after the gap, the calendar lag is null (a row-position lag would not be).
    first_after = min(d for d in by_day if d > "2022-03-24")
    assert by_day[first_after]["lag_1"] is None
    prev = c.post("/retail/featuresets/preview", json={**body, "sample_rows": 3}).json()
    assert (
        len(prev["rows"]) == 3
        and prev["row_count"] == c.post("/retail/featuresets/compute", json=body).json()["row_count"]
    )
    bad = c.post("/retail/featuresets/compute", json={**body, "start_date": "2022-07-01"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert c.post("/retail/featuresets/compute", json={**body, "config": {"lags": [0]}}).status_code in (
        400,
        422,
    )


def test_train_predict_registry_and_explain(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    r = c.post(
        "/retail/forecasting/train",
        json={
            "store_id": s,
            "product_id": p,
            "config": {"model_type": "regression", "params": {"max_iter": 50}},
        },
    )
    assert r.status_code == 201, r.text
    trained = r.json()
    run = c.get(f"/retail/registry/runs/{trained['run_id']}").json()
    assert run["status"] == "success" and run["artifact_hash"] == trained["artifact_hash"]
    assert run["runtime_info"]["train_rows"] == trained["train_rows"]
    assert c.get(f"/retail/registry/runs/{trained['run_id']}/verify").json()["verified"] is True
    pred = c.post("/retail/forecasting/predict", json={"run_id": trained["run_id"], "horizon": 7}).json()
    assert len(pred["forecasts"]) == 7 and pred["origin"] == "2022-07-22"
    for f in pred["forecasts"]:
        assert f["lower"]["80"] <= f["forecast"] <= f["upper"]["80"]
    assert c.post("/retail/forecasting/predict", json={"run_id": "nope"}).status_code == 404
    # Explain: baselines only; a regression run is a 400, a missing run a 404.
    assert c.get(f"/retail/explain/runs/{trained['run_id']}").status_code == 400
    assert c.get("/retail/explain/runs/nope").status_code == 404
    sn = c.post(
        "/retail/forecasting/train",
        json={"store_id": s, "product_id": p, "config": {"model_type": "seasonal_naive"}},
    ).json()
    exp = c.get(f"/retail/explain/runs/{sn['run_id']}").json()
    assert exp["as_of_date"] == "2022-07-21" and exp["target_date"] == "2022-07-22"
    assert sum(d["contribution"] for d in exp["drivers"]) == pytest.approx(exp["forecast"])
    direct = c.post(
        "/retail/explain/forecast",
        json={"store_id": s, "product_id": p, "as_of_date": "2022-07-21", "model_type": "seasonal_naive"},
    ).json()
    assert direct["forecast"] == exp["forecast"]
    assert (
        c.post(
            "/retail/explain/forecast",
            json={"store_id": s, "product_id": p, "as_of_date": "2022-07-20", "model_type": "lightgbm"},
        ).status_code
        == 400
    )
    short = c.post(
        "/retail/explain/forecast",
        json={"store_id": s, "product_id": p, "as_of_date": "2022-01-05", "model_type": "naive"},
    )
    assert short.status_code == 400


def test_backtest_endpoint(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    r = c.post(
        "/retail/backtesting/run",
        json={
            "store_id": s,
            "product_id": p,
            "horizon": 14,
            "n_folds": 2,
            "strategy": "rolling",
            "train_days": 90,
        },
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert {m["model"] for m in out["summary"]} == {"naive", "seasonal_naive", "moving_average"}
    assert len(out["folds"]) == 6 and "smape" in out["metric_definitions"]
    assert out["winner"] in {"naive", "seasonal_naive", "moving_average"}
    too_long = c.post("/retail/backtesting/run", json={"store_id": s, "product_id": p, "horizon": 300})
    assert too_long.status_code == 400
    assert c.post("/retail/backtesting/run", json={"store_id": 999, "product_id": p}).status_code == 404


@pytest.mark.slow
def test_rossmann_through_the_api_learned_models_beat_seasonal_naive(make_client) -> None:  # type: ignore[no-untyped-def]
    """Rossmann stores 1..20 ingested through POST /ingest/sales-daily, then a 42-day rolling
    backtest over all their series through POST /backtesting/run."""
    from ridgeline.retail.datasets import rossmann_records

    from ..conftest import require_shared

    train = require_shared("retail/rossmann/train_stores_1_800.csv.gz")
    records = rossmann_records(train).filter(pl.col("store_code") <= "R0020")
    buf = io.BytesIO()
    records.write_csv(buf)
    r = c_post = make_client(seed_defaults=False)
    resp = c_post.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=buf.getvalue(),
        headers={"content-type": "text/csv"},
    )
    assert resp.status_code == 200, resp.text
    store_ids = [
        s["id"] for s in r.get("/retail/dimensions/stores", params={"page_size": 100}).json()["stores"]
    ]
    assert len(store_ids) == 20
    out = r.post(
        "/retail/backtesting/run",
        json={
            "store_ids": store_ids,
            "horizon": 42,
            "n_folds": 2,
            "strategy": "rolling",
            "train_days": 365,
            "models": [
                {"model_type": "seasonal_naive"},
                {"model_type": "regression", "params": {"max_iter": 150}},
                {"model_type": "lightgbm", "params": {"n_estimators": 150}},
            ],
        },
    )
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["n_series"] == 20
    wape = {s["model"]: s["metrics"]["wape"] for s in body["summary"]}
    assert wape["regression"] < wape["seasonal_naive"]
    assert wape["lightgbm"] < wape["seasonal_naive"]
