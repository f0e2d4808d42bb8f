"""Models: baseline rules against hand computations, learned models, intervals, leakage, bytes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import metrics, models
from ridgeline.retail.models import Forecaster, ModelConfig, ModelError

from .forecast_synth import retail_frame


def _split(df: pl.DataFrame, origin: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    return df.filter(pl.col("date") < origin), df.filter(pl.col("date") >= origin)


def test_baselines_match_hand_computation() -> None:
    df = retail_frame(n_series=2, n_days=120)
    origin = date(2022, 4, 20)
    train, _ = _split(df, origin)
    s0 = train.filter(pl.col("series_id") == "S0").sort("date")
    y = s0["y"].to_numpy()
    naive = Forecaster(ModelConfig(model_type="naive")).fit(train, calibrate_horizon=0).point_forecast(10)
    assert np.allclose(naive.filter(pl.col("series_id") == "S0")["forecast"].to_numpy(), y[-1])
    sn = (
        Forecaster(ModelConfig(model_type="seasonal_naive"))
        .fit(train, calibrate_horizon=0)
        .point_forecast(10)
    )
    expected = np.array([y[-7 + (h % 7)] for h in range(10)])
    assert np.allclose(sn.filter(pl.col("series_id") == "S0")["forecast"].to_numpy(), expected)
    ma = Forecaster(ModelConfig(model_type="moving_average", window=5)).fit(train, calibrate_horizon=0)
    assert np.allclose(
        ma.point_forecast(3).filter(pl.col("series_id") == "S0")["forecast"].to_numpy(), y[-5:].mean()
    )
    assert naive["date"].min() == origin and naive["date"].max() == origin + timedelta(days=9)


def test_seasonal_naive_steps_back_over_gaps() -> None:
    df = retail_frame(n_series=1, n_days=60)
    origin = df["date"].max() + timedelta(days=1)
    week_ago = origin - timedelta(days=7)
    two_weeks = origin - timedelta(days=14)
    gappy = df.filter(pl.col("date") != week_ago)
    fc = (
        Forecaster(ModelConfig(model_type="seasonal_naive")).fit(gappy, calibrate_horizon=0).point_forecast(1)
    )
    assert fc["forecast"][0] == df.filter(pl.col("date") == two_weeks)["y"][0]


@pytest.mark.parametrize("model_type", ["lightgbm", "regression"])
def test_learned_models_beat_seasonal_naive_with_promotions(model_type: str) -> None:
    df = retail_frame(n_series=4, n_days=330, seed=3)
    origin = df["date"].max() - timedelta(days=27)
    train, test = _split(df, origin)
    cfg = ModelConfig(
        model_type=model_type,
        exog=("promo", "price"),
        params={"n_estimators": 150} if model_type == "lightgbm" else {"max_iter": 150},
    )
    learned = Forecaster(cfg).fit(train, calibrate_horizon=0).point_forecast(28, test.drop("y"))
    sn = (
        Forecaster(ModelConfig(model_type="seasonal_naive"))
        .fit(train, calibrate_horizon=0)
        .point_forecast(28)
    )

    def wape(fc: pl.DataFrame) -> float:
        j = fc.join(test, on=["series_id", "date"])
        return metrics.wape(j["y"].to_numpy(), j["forecast"].to_numpy())

    assert wape(learned) < 0.8 * wape(sn)


def test_recursive_forecast_never_reads_future_targets() -> None:
    df = retail_frame(n_series=3, n_days=200, seed=1)
    origin = date(2022, 6, 15)
    train, test = _split(df, origin)
    model = Forecaster(ModelConfig(model_type="regression", exog=("promo",), params={"max_iter": 60})).fit(
        train, calibrate_horizon=0
    )
    a = model.point_forecast(14, test)
    poisoned = test.with_columns(pl.col("y") * 100 + 7)
    b = model.point_forecast(14, poisoned)
    assert a.equals(b)
    # Fitting on the full frame truncated at the origin equals fitting on the training rows.
    c = (
        Forecaster(model.config)
        .fit(df.filter(pl.col("date") < origin), calibrate_horizon=0)
        .point_forecast(14, test)
    )
    assert a.equals(c)


def test_future_plan_defaults_to_same_weekday_last_week() -> None:
    df = retail_frame(n_series=1, n_days=100)
    model = Forecaster(ModelConfig(model_type="regression", exog=("promo",), params={"max_iter": 20})).fit(
        df, calibrate_horizon=0
    )
    plan = model.future_plan(10).sort("date")
    last_week = df.sort("date").tail(7)["promo"].to_list()
    assert plan["promo"].to_list() == (last_week + last_week)[:10]


def test_intervals_cover_and_bracket_the_forecast() -> None:
    df = retail_frame(n_series=6, n_days=260, seed=5, noise=0.15)
    origin = df["date"].max() - timedelta(days=13)
    train, test = _split(df, origin)
    model = Forecaster(ModelConfig(model_type="seasonal_naive", levels=(80, 95))).fit(
        train, calibrate_horizon=14
    )
    assert model.interval_method == "scaled_residual_quantile"
    pred = model.predict(14)
    assert (pred["lo_80"] <= pred["forecast"]).all() and (pred["forecast"] <= pred["hi_80"]).all()
    assert (pred["lo_95"] <= pred["lo_80"]).all() and (pred["hi_95"] >= pred["hi_80"]).all()
    j = pred.join(test, on=["series_id", "date"])
    inside = ((j["y"] >= j["lo_80"]) & (j["y"] <= j["hi_80"])).mean()
    assert 0.55 <= inside <= 1.0


def test_intervals_unavailable_on_short_history() -> None:
    df = retail_frame(n_series=1, n_days=40)
    model = Forecaster(ModelConfig(model_type="naive")).fit(df, calibrate_horizon=28)
    assert model.interval_method == "unavailable"
    assert model.predict(3)["lo_80"].is_nan().all()


@pytest.mark.parametrize("model_type", models.MODEL_TYPES)
def test_serialisation_round_trip(model_type: str) -> None:
    df = retail_frame(n_series=2, n_days=150)
    cfg = ModelConfig(
        model_type=model_type,
        exog=("promo",),
        params={"n_estimators": 30}
        if model_type == "lightgbm"
        else ({"max_iter": 30} if model_type == "regression" else {}),
    )
    model = models.fit(df, cfg, calibrate_horizon=7)
    blob = model.to_bytes()
    again = Forecaster.from_bytes(blob)
    assert again.predict(7).equals(model.predict(7))
    assert again.summary() == model.summary()
    with pytest.raises(ModelError):
        Forecaster.from_bytes(b"not a model")


def test_configuration_errors() -> None:
    with pytest.raises(ModelError):
        ModelConfig(model_type="prophet")
    with pytest.raises(ModelError):
        ModelConfig(model_type="naive", levels=(100,))
    model = Forecaster(ModelConfig(model_type="naive")).fit(
        retail_frame(n_series=1, n_days=30), calibrate_horizon=0
    )
    with pytest.raises(ModelError):
        model.point_forecast(0)
    with pytest.raises(ModelError):
        Forecaster(ModelConfig(model_type="naive")).point_forecast(3)
    with pytest.raises(ModelError, match="too little history"):
        Forecaster(ModelConfig(model_type="regression")).fit(
            retail_frame(n_series=1, n_days=20), calibrate_horizon=0
        )
