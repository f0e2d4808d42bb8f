"""Future plans are stated: predict returns the exogenous plan it assumed (and a caveat when it
repeated the last week), and backtests say their scores assume a known plan, with an option to
score with the repeated plan instead (issue 22)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from ridgeline.retail import backtest
from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame
from .test_forecast_api import _ingest


def test_assumed_plan_marks_each_value_given_or_repeated() -> None:
    df = retail_frame(n_series=1, n_days=200, seed=4)
    m = Forecaster(ModelConfig(model_type="lightgbm", exog=("promo", "price"), params={"n_estimators": 30}))
    m.fit(df, calibrate_horizon=0)
    assert m.origin is not None
    given = pl.DataFrame(
        {"series_id": ["S0"] * 2, "date": [m.origin, m.origin + timedelta(days=1)], "price": [9.0, 9.5]}
    )
    plan = m.assumed_plan(10, given)
    assert plan.height == 10
    assert plan["price"].to_list()[:2] == [9.0, 9.5]
    assert plan["price_source"].to_list() == ["given"] * 2 + ["repeated_last_week"] * 8
    assert set(plan["promo_source"].to_list()) == {"repeated_last_week"}
    # The repeated value is the same weekday of the last observed week.
    last_week = df.filter(pl.col("date") == m.origin - timedelta(days=7 - 2))["price"][0]
    assert plan["price"][2] == pytest.approx(last_week)


def test_backtest_states_its_plan_and_can_score_the_repeated_plan() -> None:
    df = retail_frame(n_series=2, n_days=260, seed=5)  # promotions one week in three
    mc = ModelConfig(model_type="lightgbm", exog=("promo", "price"), params={"n_estimators": 60})
    known = backtest.run(df, [mc], backtest.BacktestConfig(horizon=21, n_folds=2))
    assert known.exog_plan == "known"
    repeated = backtest.run(
        df, [mc], backtest.BacktestConfig(horizon=21, n_folds=2, exog_plan="repeat_last_week")
    )
    assert repeated.exog_plan == "repeat_last_week"
    # Repeating last week's promotion flag is wrong on most promotion weeks: a worse, honest score.
    assert repeated.summary[0].pooled["wape"] > known.summary[0].pooled["wape"]
    # Baselines read no plan: identical either way.
    sn = ModelConfig(model_type="seasonal_naive")
    a = backtest.run(df, [sn], backtest.BacktestConfig(horizon=21, n_folds=2))
    b = backtest.run(df, [sn], backtest.BacktestConfig(horizon=21, n_folds=2, exog_plan="repeat_last_week"))
    assert np.isclose(a.summary[0].pooled["wape"], b.summary[0].pooled["wape"])


@pytest.mark.db
def test_predict_returns_its_plan_and_backtest_its_assumption(make_client: Any) -> None:
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
    run_id = r.json()["run_id"]
    bare = c.post("/retail/forecasting/predict", json={"run_id": run_id, "horizon": 7}).json()
    assert len(bare["plan"]) == 7
    assert all(sorted(d["repeated"]) == ["on_promotion", "unit_price"] for d in bare["plan"])
    assert "plan_repeated_last_week" in bare["caveat_codes"]
    origin = bare["origin"]
    days = [str(np.datetime64(origin) + np.timedelta64(i, "D")) for i in range(7)]
    full = [{"date": d, "unit_price": 9.0, "on_promotion": True} for d in days]
    planned = c.post(
        "/retail/forecasting/predict", json={"run_id": run_id, "horizon": 7, "plan": full}
    ).json()
    assert "plan_repeated_last_week" not in planned["caveat_codes"]
    assert [d["unit_price"] for d in planned["plan"]] == [9.0] * 7
    assert all(d["on_promotion"] is True and d["repeated"] == [] for d in planned["plan"])
    bt = c.post(
        "/retail/backtesting/run",
        json={"store_id": s, "product_id": p, "horizon": 7, "n_folds": 2, "exog_plan": "repeat_last_week"},
    )
    assert bt.status_code == 200, bt.text
    assert bt.json()["exog_plan"] == "repeat_last_week" and "exog_plan" in bt.json()["metric_definitions"]
    assert (
        c.post(
            "/retail/backtesting/run", json={"store_id": s, "product_id": p, "horizon": 7, "n_folds": 2}
        ).json()["exog_plan"]
        == "known"
    )
