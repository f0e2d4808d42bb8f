"""Frequency: the cadence of a series is detected; a weekly or monthly series is refused with a
reason code and an explanation instead of being forecast for every calendar day (issue 22)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest
from ridgeline.retail.features import detect_cadence
from ridgeline.retail.models import Forecaster, ModelConfig, ModelError

from .forecast_synth import retail_frame


def _weekly(n_weeks: int = 120, seed: int = 0) -> pl.DataFrame:
    """Walmart-style weekly totals: one row per Friday."""
    rng = np.random.default_rng(seed)
    start = date(2010, 2, 5)  # a Friday, as Walmart's weeks
    return pl.DataFrame(
        {
            "series_id": ["W1"] * n_weeks,
            "date": [start + timedelta(weeks=i) for i in range(n_weeks)],
            "y": 7000 + 500 * np.sin(np.arange(n_weeks) / 8.3) + rng.normal(0, 100, n_weeks),
        }
    )


def test_detect_cadence() -> None:
    assert (
        detect_cadence(
            retail_frame(n_series=2, n_days=100)["date"], retail_frame(n_series=2, n_days=100)["series_id"]
        )
        == "daily"
    )
    w = _weekly()
    assert detect_cadence(w["date"], w["series_id"]) == "weekly"
    monthly = [date(2020 + i // 12, i % 12 + 1, 1) for i in range(30)]
    assert detect_cadence(pl.Series(monthly), pl.Series(["M"] * 30)) == "monthly"
    # A slow daily item that sells on a few random days is still daily (gaps, not a weekly grid).
    rng = np.random.default_rng(1)
    days = sorted({date(2022, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 400, 60)})
    assert detect_cadence(pl.Series(days), pl.Series(["S"] * len(days))) == "daily"
    # A gappy daily store (Rossmann's half-year hole) is daily.
    gap = retail_frame(n_series=1, n_days=300).with_row_index("i").filter(~pl.col("i").is_between(50, 230))
    assert detect_cadence(gap["date"], gap["series_id"]) == "daily"


@pytest.mark.parametrize("model_type", ["seasonal_naive", "naive", "moving_average", "regression"])
def test_weekly_series_is_refused_with_a_reason(model_type: str) -> None:
    # Today: a forecast for every calendar day, seasonal_naive repeating the weekly total on all seven.
    with pytest.raises(ModelError) as err:
        Forecaster(ModelConfig(model_type=model_type)).fit(_weekly(), calibrate_horizon=0)
    assert err.value.status == 400 and err.value.reason_code == "unsupported_frequency"
    assert err.value.extra["cadence"] == "weekly" and "weekly" in err.value.message
    with pytest.raises(ModelError) as err2:
        backtest.run(_weekly(), [ModelConfig(model_type=model_type)], backtest.BacktestConfig(horizon=4))
    assert err2.value.reason_code == "unsupported_frequency"


@pytest.mark.db
def test_weekly_series_over_http_is_refused(make_client: Any) -> None:
    c = make_client(seed_defaults=False)
    w = _weekly(n_weeks=100)
    rows = w.select(
        pl.col("date").cast(pl.String),
        pl.lit("W1").alias("store_code"),
        pl.lit("DEPT1").alias("sku"),
        pl.col("y").round(0).cast(pl.Int64).alias("quantity"),
        pl.lit(1.0).alias("unit_price"),
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
    t = c.post(
        "/retail/forecasting/train",
        json={"store_id": s, "product_id": p, "config": {"model_type": "seasonal_naive"}},
    )
    assert t.status_code == 400, t.text
    assert t.json()["reason_code"] == "unsupported_frequency" and t.json()["cadence"] == "weekly"
    b = c.post("/retail/backtesting/run", json={"store_id": s, "product_id": p, "horizon": 4, "n_folds": 2})
    assert b.status_code == 400 and b.json()["reason_code"] == "unsupported_frequency"
