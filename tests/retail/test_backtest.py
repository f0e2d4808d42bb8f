"""Metrics definitions and backtest splits, folds and summaries."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest, metrics
from ridgeline.retail.backtest import BacktestConfig
from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame


def test_metric_definitions() -> None:
    y = np.array([10.0, 0.0, 5.0, np.nan])
    f = np.array([12.0, 0.0, 4.0, 3.0])
    assert metrics.mae(y, f) == pytest.approx(1.0)
    assert metrics.wape(y, f) == pytest.approx(3.0 / 15.0)
    assert metrics.bias(y, f) == pytest.approx((2.0 + 0.0 - 1.0) / 3)  # positive: over-forecast
    assert metrics.bias_pct(y, f) == pytest.approx(1.0 / 15.0)
    # sMAPE on the 0-200 scale; 0/0 pairs count as 0.
    assert metrics.smape(y, f) == pytest.approx(100.0 / 3 * (4.0 / 22.0 + 0.0 + 2.0 / 9.0))
    assert metrics.smape(np.array([0.0]), np.array([5.0])) == pytest.approx(200.0)
    assert metrics.rmse(y, f) == pytest.approx(math.sqrt(5.0 / 3))
    assert math.isnan(metrics.wape(np.zeros(3), np.ones(3)))
    assert metrics.bias(np.array([5.0]), np.array([3.0])) < 0  # under-forecast is negative


def test_rolling_and_expanding_splits() -> None:
    first, last = date(2020, 1, 1), date(2020, 12, 31)
    roll = backtest.make_splits(
        first, last, BacktestConfig(horizon=30, n_folds=3, strategy="rolling", train_days=100)
    )
    assert [s.test_end for s in roll] == [date(2020, 11, 1), date(2020, 12, 1), date(2020, 12, 31)]
    for s in roll:
        assert (s.test_end - s.test_start).days == 29
        assert (s.train_end - s.train_start).days == 99
        assert (s.test_start - s.train_end).days == 1
    exp = backtest.make_splits(
        first, last, BacktestConfig(horizon=30, n_folds=2, step=10, strategy="expanding", gap=3)
    )
    assert all(s.train_start == first for s in exp)
    assert (exp[1].test_start - exp[0].test_start).days == 10
    assert (exp[0].test_start - exp[0].train_end).days == 4
    with pytest.raises(ValueError):
        backtest.make_splits(first, date(2020, 1, 20), BacktestConfig(horizon=30, n_folds=1))


def test_backtest_folds_are_time_safe_and_summaries_consistent() -> None:
    df = retail_frame(n_series=3, n_days=200, seed=2)
    cfg = BacktestConfig(horizon=14, n_folds=3, strategy="rolling", train_days=90)
    res = backtest.run(
        df,
        [
            ModelConfig(model_type="naive"),
            ModelConfig(model_type="seasonal_naive"),
            ModelConfig(model_type="naive"),
        ],
        cfg,
        return_predictions=True,
    )
    assert [s.model for s in res.summary] == ["naive", "seasonal_naive", "naive_2"]
    assert len(res.folds) == 9
    preds = pl.DataFrame(res.predictions).with_columns(pl.col("date").str.to_date())
    for split in res.splits:
        # naive forecasts the value on the fold's last training day: nothing later was seen.
        last_train = df.filter(pl.col("date") == split.train_end).select(
            "series_id", pl.col("y").alias("last")
        )
        p = preds.filter((pl.col("model") == "naive") & (pl.col("fold") == split.fold)).join(
            last_train, on="series_id"
        )
        assert p.height == 3 * 14
        assert (p["forecast"] == p["last"]).all()
    for fold in res.folds:
        p = preds.filter((pl.col("model") == fold.model) & (pl.col("fold") == fold.fold))
        assert fold.metrics["wape"] == pytest.approx(
            metrics.wape(p["y"].to_numpy(), p["forecast"].to_numpy())
        )
    sn = next(s for s in res.summary if s.model == "seasonal_naive")
    wapes = [f.metrics["wape"] for f in res.folds if f.model == "seasonal_naive"]
    assert sn.metrics["wape"] == pytest.approx(np.mean(wapes))
    assert sn.stability == pytest.approx(np.std(wapes))
    assert res.winner == min(res.summary, key=lambda s: s.metrics["wape"]).model


def test_backtest_reports_progress_and_rejects_empty_model_list() -> None:
    df = retail_frame(n_series=1, n_days=80)
    seen: list[tuple[int, int]] = []
    backtest.run(
        df,
        [ModelConfig(model_type="naive")],
        BacktestConfig(horizon=7, n_folds=2),
        on_fold=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(ValueError):
        backtest.run(df, [], BacktestConfig())


@pytest.mark.parametrize("model_type", ["naive", "seasonal_naive", "moving_average"])
def test_baseline_fast_path_equals_a_fitted_forecaster(model_type: str) -> None:
    df = retail_frame(n_series=3, n_days=160, seed=9)
    # Gaps: a missing fortnight in one series and scattered missing days in another.
    df = df.filter(
        ~((pl.col("series_id") == "S0") & pl.col("date").is_between(date(2022, 5, 20), date(2022, 6, 2)))
        & ~((pl.col("series_id") == "S1") & (pl.col("date").dt.day() % 5 == 0))
    )
    cfg = BacktestConfig(horizon=10, n_folds=3, step=9, strategy="rolling", train_days=60, gap=2)
    mc = ModelConfig(model_type=model_type, window=5)
    res = backtest.run(df, [mc], cfg, return_predictions=True)
    preds = pl.DataFrame(res.predictions).with_columns(pl.col("date").str.to_date())
    for split in res.splits:
        train = df.filter(pl.col("date").is_between(split.train_start, split.train_end))
        test = df.filter(pl.col("date").is_between(split.test_start, split.test_end))
        model = Forecaster(mc).fit(train, calibrate_horizon=0)
        assert model.origin is not None
        fc = model.point_forecast((split.test_end - model.origin).days + 1)
        want = (
            fc.join(test, on=["series_id", "date"])
            .select("series_id", "date", "forecast")
            .sort("series_id", "date")
        )
        got = (
            preds.filter(pl.col("fold") == split.fold)
            .select("series_id", "date", "forecast")
            .sort("series_id", "date")
        )
        assert got.equals(want)


def test_fold_mean_of_a_metric_defined_in_no_fold_is_nan_without_a_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's nanmean warned "Mean of empty slice" here
        assert math.isnan(backtest._nanmean([math.nan, math.nan]))
        assert backtest._nanmean([1.0, math.nan, 3.0]) == 2.0
