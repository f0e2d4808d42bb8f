"""Rule-based explanations: exact driver decomposition, time safety, reason codes, 400 cases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import explain
from ridgeline.retail.explain import ExplainError
from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame


@pytest.mark.parametrize("model_type", ["naive", "seasonal_naive", "moving_average"])
def test_drivers_sum_to_the_model_forecast(model_type: str) -> None:
    df = retail_frame(n_series=2, n_days=150, seed=4)
    as_of = date(2022, 5, 1)
    exp = explain.explain_forecast(df, model_type, as_of, series_id="S1", promo_col="promo")
    assert exp.target_date == as_of + timedelta(days=1)
    assert sum(d.contribution for d in exp.drivers) == pytest.approx(exp.forecast)
    hist = df.filter((pl.col("series_id") == "S1") & (pl.col("date") <= as_of))
    model = Forecaster(ModelConfig(model_type=model_type)).fit(hist, calibrate_horizon=0)
    assert exp.forecast == pytest.approx(model.point_forecast(1)["forecast"][0])
    band = exp.confidence_band
    assert band.lower <= exp.forecast <= band.upper
    assert band.method == "empirical_h1_errors" and band.n_errors >= 10
    assert exp.summary and exp.caveats


def test_time_safe_and_reason_codes() -> None:
    df = retail_frame(n_series=1, n_days=150, seed=6)
    as_of = date(2022, 4, 10)
    a = explain.explain_forecast(
        df, "seasonal_naive", as_of, promo_col="promo", holidays=[as_of + timedelta(days=2)]
    )
    later = df.with_columns(
        pl.when(pl.col("date") > as_of).then(pl.col("y") * 50).otherwise(pl.col("y")).alias("y")
    )
    b = explain.explain_forecast(
        later, "seasonal_naive", as_of, promo_col="promo", holidays=[as_of + timedelta(days=2)]
    )
    assert a == b
    codes = {c.code for c in a.reason_codes}
    assert "PROMO_ASSOCIATED_UPLIFT" in codes  # promotions lift demand by 50% in the synthetic data
    assert "HOLIDAY_PROXIMITY" in codes
    assert all(c.advisory for c in a.reason_codes)


def test_weekly_seasonality_code() -> None:
    days = [date(2023, 1, 2) + timedelta(days=i) for i in range(70)]
    y = [100.0 + 40.0 * (i % 7 == 5) + 0.5 * ((i * 37) % 11) for i in range(70)]
    df = pl.DataFrame({"series_id": ["a"] * 70, "date": days, "y": y})
    exp = explain.explain_forecast(df, "seasonal_naive", days[-1])
    assert "WEEKLY_SEASONALITY" in {c.code for c in exp.reason_codes}


def test_zero_sales_and_gap_codes() -> None:
    df = retail_frame(n_series=1, n_days=100)
    as_of = df["date"].max()
    gappy = df.filter(~pl.col("date").is_between(as_of - timedelta(days=20), as_of - timedelta(days=10)))
    gappy = gappy.with_columns(pl.when(pl.col("date") == as_of).then(0.0).otherwise(pl.col("y")).alias("y"))
    exp = explain.explain_forecast(gappy, "naive", as_of)
    codes = {c.code for c in exp.reason_codes}
    assert {"RECENT_ZERO_SALES", "DATA_GAP"} <= codes
    assert exp.forecast == 0.0


def test_rejects_non_baselines_short_series_and_ambiguous_input() -> None:
    df = retail_frame(n_series=2, n_days=60)
    for model_type in ("lightgbm", "regression", "prophet"):
        with pytest.raises(ExplainError, match="baseline"):
            explain.explain_forecast(df, model_type, date(2022, 2, 1), series_id="S0")
    with pytest.raises(ExplainError, match="at least"):
        explain.explain_forecast(df, "naive", date(2022, 1, 10), series_id="S0")
    with pytest.raises(ExplainError, match="series_id"):
        explain.explain_forecast(df, "naive", date(2022, 2, 1))
    with pytest.raises(ExplainError):
        explain.explain_forecast(df, "naive", date(2022, 2, 1), series_id="nope")
    assert np.isfinite(explain.explain_forecast(df, "naive", date(2022, 2, 1), series_id="S0").forecast)
