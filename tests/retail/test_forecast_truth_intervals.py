"""Intervals mean what they say: the 80 % and 95 % bands differ, their empirical coverage on
held-back Rossmann data is near the nominal level, and backtests report coverage (issue 22)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest
from ridgeline.retail.models import Forecaster, ModelConfig, pooled_quantiles

from ..conftest import require_shared
from .forecast_realdata import load_rossmann
from .forecast_synth import retail_frame

CUTOFFS = (date(2014, 10, 2), date(2015, 3, 5), date(2015, 6, 4))
STORES = 12


@pytest.fixture(scope="module")
def rossmann() -> pl.DataFrame:
    df, _ = load_rossmann(require_shared("retail/rossmann/train_stores_1_800.csv.gz"), stores=STORES)
    return df.select("series_id", "date", "y", "promo")


def _held_back(df: pl.DataFrame, cfg: ModelConfig) -> pl.DataFrame:
    """One model per store (as the API trains them), 28 days forecast from each cutoff, joined to
    the actuals of those 28 days (never seen by the fit or its calibration)."""
    parts = []
    for cut in CUTOFFS:
        for s in range(1, STORES + 1):
            series = df.filter(pl.col("series_id") == s)
            train = series.filter(pl.col("date") < cut)
            test = series.filter(pl.col("date").is_between(cut, cut + timedelta(days=27)))
            if train.height < 200 or test.height == 0:
                continue  # the stores with the half-year gap
            m = Forecaster(cfg).fit(train, calibrate_horizon=28)
            pred = m.predict(28, test if cfg.exog else None)
            parts.append(pred.join(test.select("series_id", "date", "y"), on=["series_id", "date"]))
    return pl.concat(parts)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="lightgbm", exog=("promo",), params={"n_estimators": 100}),
    ],
    ids=["seasonal_naive", "lightgbm"],
)
def test_bands_differ_and_cover_near_nominal_on_held_back_rossmann(
    rossmann: pl.DataFrame, cfg: ModelConfig
) -> None:
    pred = _held_back(rossmann, cfg)
    y = pred["y"].to_numpy()
    lo80, hi80 = pred["lo_80"].to_numpy(), pred["hi_80"].to_numpy()
    lo95, hi95 = pred["lo_95"].to_numpy(), pred["hi_95"].to_numpy()
    # Today the learned models' two bands were identical on every day (one calibration origin).
    open_days = y > 0
    assert np.mean((hi95 > hi80)[open_days]) > 0.95
    cov80 = float(np.mean((y >= lo80) & (y <= hi80)))
    cov95 = float(np.mean((y >= lo95) & (y <= hi95)))
    assert 0.70 <= cov80 <= 0.92, cov80
    assert 0.88 <= cov95 <= 1.0, cov95
    assert cov95 - cov80 >= 0.04, (cov80, cov95)


def test_one_learned_series_gets_distinct_bands() -> None:
    df = retail_frame(n_series=1, n_days=300, seed=2)
    m = Forecaster(ModelConfig(model_type="regression", exog=("promo", "price"), params={"max_iter": 60}))
    pred = m.fit(df, calibrate_horizon=28).predict(28)
    assert m.interval_method == "scaled_residual_quantile"
    assert (pred["hi_95"] > pred["hi_80"]).all()
    assert m.calibration_errors >= 60


def test_pooled_quantiles_widen_the_window_until_enough_errors() -> None:
    rng = np.random.default_rng(0)
    hs = np.repeat(np.arange(1, 29), 3)  # three origins
    es = np.abs(rng.normal(size=hs.size)) * np.sqrt(hs)
    q = pooled_quantiles(hs, es, 28, (80, 95), min_errors=30)
    # h = 1 pools h = 1..10 (30 errors), computed here independently.
    sel = es[(hs >= 1) & (hs <= 10)]
    assert q[80][0] == pytest.approx(np.quantile(sel, 0.8))
    assert q[95][0] == pytest.approx(np.quantile(sel, 0.95)) and q[95][0] > q[80][0]
    assert np.all(np.diff(q[80]) >= 0)


def test_backtest_reports_interval_coverage() -> None:
    df = retail_frame(n_series=2, n_days=300, seed=9)
    models = [
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="regression", exog=("promo", "price"), params={"max_iter": 50}),
    ]
    res = backtest.run(
        df,
        models,
        backtest.BacktestConfig(horizon=14, n_folds=2, interval_coverage="all"),
        return_predictions=True,
    )
    preds = pl.DataFrame(res.predictions)
    for s in res.summary:
        p = preds.filter(pl.col("model") == s.model)
        y = p["y"].to_numpy()
        for lv in (80, 95):
            inside = (y >= p[f"lo_{lv}"].to_numpy()) & (y <= p[f"hi_{lv}"].to_numpy())
            assert s.pooled[f"coverage_{lv}"] == pytest.approx(float(inside.mean()))
        assert s.pooled["coverage_95"] >= s.pooled["coverage_80"]
        assert all("coverage_80" in f.metrics for f in res.folds if f.model == s.model)
    # "baselines" (the API's default) calibrates only the baselines (cheap); the engine's default none.
    cheap = backtest.run(
        df, models, backtest.BacktestConfig(horizon=14, n_folds=2, interval_coverage="baselines")
    )
    assert "coverage_80" in cheap.summary[0].pooled and "coverage_80" not in cheap.summary[1].pooled
    default = backtest.run(df, models, backtest.BacktestConfig(horizon=14, n_folds=2))
    assert not any("coverage_80" in s.pooled for s in default.summary)
