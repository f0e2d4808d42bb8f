"""Explanations inside a data gap: 400 insufficient_history when nothing recent was observed, else
drivers that describe exactly what the rule used (issue 22)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ridgeline.retail.explain import ExplainError, explain_forecast

from .forecast_synth import START, retail_frame


def _gappy() -> pl.DataFrame:
    """200 days with no observation on days 100..159 (2022-04-13 .. 2022-06-11)."""
    df = retail_frame(n_series=1, n_days=200, seed=6)
    return df.with_row_index("i").filter(~pl.col("i").is_between(100, 159)).drop("i")


def day(i: int) -> date:
    return START + timedelta(days=i)


@pytest.mark.parametrize("model_type", ["naive", "seasonal_naive", "moving_average"])
def test_as_of_deep_inside_a_gap_is_insufficient_history(model_type: str) -> None:
    # as_of 40 days after the last observation: today a "28-day mean" over 28 missing days.
    with pytest.raises(ExplainError) as err:
        explain_forecast(_gappy(), model_type, day(139))
    assert err.value.status == 400 and err.value.reason_code == "insufficient_history"
    assert err.value.extra["last_observation"] == day(99).isoformat()
    assert day(99).isoformat() in err.value.message


def test_partly_observed_window_is_described_exactly() -> None:
    df = _gappy()
    # as_of = day 169: the 28 days 142..169 hold 10 observed days (160..169).
    exp = explain_forecast(df, "moving_average", day(169), window=7)
    level = next(d for d in exp.drivers if d.name == "recent_level")
    obs = df.filter(pl.col("date").is_between(day(142), day(169)))["y"].to_numpy()
    assert obs.size == 10
    assert level.value == pytest.approx(float(np.mean(obs)))
    assert "10 observed days" in level.description and "18" in level.description


def test_rule_inputs_inside_a_gap_are_named() -> None:
    df = _gappy()
    # as_of = day 102 (3 days into the gap): the naive rule uses day 99's value, 3 days old.
    naive = explain_forecast(df, "naive", day(102))
    last = next(d for d in naive.drivers if d.name == "last_day_deviation")
    assert day(99).isoformat() in last.description and "4 days before" in last.description
    # seasonal naive for day 103: day 96 is observed (one season back).
    sn = explain_forecast(df, "seasonal_naive", day(102))
    dev = next(d for d in sn.drivers if d.name == "last_season_deviation")
    assert day(96).isoformat() in dev.description
    # for day 108 (as_of 107): day 101 is in the gap, so the rule steps back to day 94.
    sn2 = explain_forecast(df, "seasonal_naive", day(107))
    dev2 = next(d for d in sn2.drivers if d.name == "last_season_deviation")
    assert day(94).isoformat() in dev2.description and "2 seasons" in dev2.description
    assert sn2.forecast == pytest.approx(float(df.filter(pl.col("date") == day(94))["y"][0]))
