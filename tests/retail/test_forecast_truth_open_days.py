"""Open and closed days: an optional is_open flag on ingest, read as the exogenous `open` column,
used by the learned models (a planned closed day forecasts 0) and by backtest scoring (closed days
are scored separately, not mixed into the WAPE) (issue 22)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest, records
from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame


def _with_closures(n_days: int = 260, seed: int = 7) -> pl.DataFrame:
    """Closed on Sundays and on two full weeks (y = 0 there), as Rossmann stores are."""
    df = retail_frame(n_series=2, n_days=n_days, seed=seed).with_row_index("i")
    closed = (pl.col("date").dt.weekday() == 7) | ((pl.col("i") % n_days) // 7 == 33)
    return df.with_columns(
        pl.when(closed).then(0.0).otherwise(pl.col("y")).alias("y"),
        pl.when(closed).then(0.0).otherwise(1.0).alias("open"),
    ).drop("i")


def test_backtest_scores_open_days_and_reports_closed_ones_apart() -> None:
    df = _with_closures()
    mc = ModelConfig(model_type="seasonal_naive")
    res = backtest.run(df, [mc], backtest.BacktestConfig(horizon=14, n_folds=2), return_predictions=True)
    preds = pl.DataFrame(res.predictions).with_columns(pl.col("date").str.to_date())
    scored = preds.join(df.select("series_id", "date", "open"), on=["series_id", "date"])
    assert (scored["open"] == 1.0).all()  # only open days are scored
    for f in res.folds:
        window = df.filter(pl.col("date").is_between(f.test_start, f.test_end))
        n_closed = int((window["open"] == 0).sum())
        assert f.n_points == window.height - n_closed
        assert f.metrics["closed_points"] == n_closed
        mine = scored.filter(pl.col("fold") == f.fold)
        y, fc = mine["y"].to_numpy(), mine["forecast"].to_numpy()
        assert f.metrics["wape"] == pytest.approx(np.sum(np.abs(y - fc)) / np.sum(np.abs(y)))
    # Scoring closed days too is still available, and gives the mixed number.
    mixed = backtest.run(df, [mc], backtest.BacktestConfig(horizon=14, n_folds=2, closed_days="score"))
    assert mixed.folds[0].n_points == 14 * 2


def test_learned_model_forecasts_zero_on_planned_closed_days() -> None:
    df = _with_closures()
    cfg = ModelConfig(model_type="lightgbm", exog=("promo", "price", "open"), params={"n_estimators": 60})
    m = Forecaster(cfg).fit(
        df.filter(pl.col("date") < df["date"].max() - pl.duration(days=13)), calibrate_horizon=0
    )
    test = df.filter(pl.col("date") > df["date"].max() - pl.duration(days=14))
    pred = m.point_forecast(14, test).join(test.select("series_id", "date", "open"), on=["series_id", "date"])
    assert (pred.filter(pl.col("open") == 0)["forecast"] == 0).all()
    assert (pred.filter(pl.col("open") == 1)["forecast"] > 0).all()


def test_is_open_is_an_optional_boolean_on_ingest() -> None:
    raw = pl.DataFrame(
        {
            "_row": [0, 1, 2],
            **{c: [None] * 3 for c in records.FIELDS},
        },
        schema={"_row": pl.Int64, **records.STRING_SCHEMA},
    ).with_columns(
        pl.Series("date", ["2024-01-01", "2024-01-02", "2024-01-03"]),
        pl.lit("S1").alias("store_code"),
        pl.lit("A").alias("sku"),
        pl.lit("0").alias("quantity"),
        pl.lit("1.0").alias("unit_price"),
        pl.Series("is_open", ["false", "", "maybe"]),
    )
    good, bad = records.validate_block(raw)
    assert good["is_open"].to_list() == [False, None]
    assert bad["error_code"].to_list() == ["invalid_is_open"]


@pytest.mark.db
def test_is_open_over_http_reaches_the_models_and_the_scoring(make_client: Any) -> None:
    c = make_client(seed_defaults=False)
    df = _with_closures(n_days=200).filter(pl.col("series_id") == "S0")
    rows = df.select(
        pl.col("date").cast(pl.String),
        pl.lit("S1").alias("store_code"),
        pl.lit("A").alias("sku"),
        pl.col("y").round(0).cast(pl.Int64).alias("quantity"),
        pl.col("price").round(2).alias("unit_price"),
        (pl.col("promo") > 0).alias("on_promotion"),
        (pl.col("open") > 0).alias("is_open"),
    )
    buf = io.BytesIO()
    rows.write_csv(buf)
    r = c.post(
        "/retail/ingest/sales-daily?create_missing=true",
        content=buf.getvalue(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    s = c.get("/retail/dimensions/stores").json()["stores"][0]["id"]
    p = c.get("/retail/dimensions/products").json()["products"][0]["id"]
    bt = c.post(
        "/retail/backtesting/run",
        json={
            "store_id": s,
            "product_id": p,
            "horizon": 14,
            "n_folds": 2,
            "models": [
                {"model_type": "seasonal_naive"},
                {"model_type": "regression", "exog": ["price", "promo", "open"], "params": {"max_iter": 50}},
            ],
        },
    )
    assert bt.status_code == 200, bt.text
    folds = bt.json()["folds"]
    last = df.filter(pl.col("date") > df["date"].max() - pl.duration(days=14))
    assert folds[-1]["n_points"] == int((last["open"] == 1).sum())
    assert folds[-1]["metrics"]["closed_points"] == int((last["open"] == 0).sum())
    t = c.post(
        "/retail/forecasting/train",
        json={
            "store_id": s,
            "product_id": p,
            "config": {
                "model_type": "regression",
                "exog": ["price", "promo", "open"],
                "params": {"max_iter": 50},
            },
        },
    )
    assert t.status_code == 201, t.text
    origin = c.post("/retail/forecasting/predict", json={"run_id": t.json()["run_id"], "horizon": 3}).json()[
        "origin"
    ]
    plan = [{"date": origin, "is_open": False}]
    pred = c.post(
        "/retail/forecasting/predict", json={"run_id": t.json()["run_id"], "horizon": 3, "plan": plan}
    ).json()
    assert pred["forecasts"][0]["forecast"] == 0.0 and pred["plan"][0]["is_open"] is False
