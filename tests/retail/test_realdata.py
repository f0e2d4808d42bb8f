"""Real data: Rossmann (gappy stores, 42-day rolling backtest) and the M5 subset (price as exogenous)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest, features, scenarios
from ridgeline.retail.backtest import BacktestConfig
from ridgeline.retail.models import Forecaster, ModelConfig
from ridgeline.retail.scenarios import Assumptions

from ..conftest import require_shared
from .forecast_realdata import ROSSMANN_EXOG, load_m5, load_rossmann


@pytest.fixture(scope="module")
def rossmann() -> tuple[pl.DataFrame, pl.Series]:
    return load_rossmann(require_shared("retail/rossmann/train_stores_1_800.csv.gz"))


def test_rossmann_gap_stores_get_calendar_lags(rossmann: tuple[pl.DataFrame, pl.Series]) -> None:
    df, _ = rossmann
    spec = features.FeatureSpec(lags=(1, 7, 28), windows=(7,), window_stats=("mean",), calendar=False)
    ours = features.compute(df, spec)
    ref = ours.select("series_id", "date").join(
        df.select(
            "series_id", (pl.col("date") + pl.duration(days=7)).alias("date"), pl.col("y").alias("ref7")
        ),
        on=["series_id", "date"],
        how="left",
    )
    got = ours["lag_7"].to_numpy()
    want = ref["ref7"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    np.testing.assert_array_equal(got, want)
    # Row-position shifting would disagree on the gap stores (13, 20, 22, ...).
    positional = df.sort("series_id", "date").select(pl.col("y").shift(7).over("series_id"))["y"].to_numpy()
    differs = ours.with_columns(pl.Series("pos", positional)).filter(
        (pl.col("pos").fill_nan(None) != pl.col("lag_7").fill_nan(None)) | pl.col("lag_7").is_nan()
    )
    gap_stores = set(differs.filter(pl.col("date") > pl.date(2013, 2, 1))["series_id"].unique().to_list())
    assert {13, 20, 22} <= gap_stores


def test_rossmann_42_day_rolling_backtest_learned_models_beat_seasonal_naive(
    rossmann: tuple[pl.DataFrame, pl.Series],
) -> None:
    df, holidays = rossmann
    # A focused subset (30 stores, including gap stores 13, 20 and 22) keeps the suite fast;
    # bench/rossmann_backtest.py runs all 800 stores.
    sub = df.filter(pl.col("series_id") <= 30)
    configs = [
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="regression", exog=ROSSMANN_EXOG),
        ModelConfig(model_type="lightgbm", exog=ROSSMANN_EXOG, params={"n_estimators": 200}),
    ]
    res = backtest.run(
        sub,
        configs,
        BacktestConfig(horizon=42, n_folds=2, strategy="rolling", train_days=365),
        holidays=holidays,
    )
    wape = {s.model: s.metrics["wape"] for s in res.summary}
    assert wape["regression"] < wape["seasonal_naive"]
    assert wape["lightgbm"] < wape["seasonal_naive"]
    # Every store trades in the 2015 test windows; closed days (open = 0) are scored apart (issue 22).
    assert all(f.n_points + f.metrics["closed_points"] == 30 * 42 for f in res.folds)
    assert all(0 < f.metrics["closed_points"] < 30 * 42 / 2 for f in res.folds)


def test_m5_price_is_an_exogenous_feature_the_scenario_moves() -> None:
    df, events = load_m5(require_shared("retail/m5_subset/calendar.csv").parent)
    assert df["price"].null_count() == 0 and df["series_id"].n_unique() == 10
    origin = df["date"].max() - timedelta(days=27)
    train = df.filter(pl.col("date") < origin)
    future = df.filter(pl.col("date") >= origin).drop("y")
    cfg = ModelConfig(model_type="regression", exog=("price", "snap"), params={"max_iter": 150})
    model = Forecaster(cfg).fit(train, events, calibrate_horizon=0)
    assert "price" in model.used_features
    base = model.point_forecast(28, future)
    assert base.height == 10 * 28 and (base["forecast"] >= 0).all()
    res = scenarios.simulate(model, 28, Assumptions(price_change_pct=30.0), future=future)
    assert res.method == "model_exogenous"
    assert res.scenario_total != pytest.approx(res.baseline_total)
    assert res.baseline_total == pytest.approx(float(base["forecast"].sum()))
