"""What-if scenarios: genuine re-forecasts for regression baselines, documented multipliers otherwise."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ridgeline.retail import scenarios
from ridgeline.retail.models import Forecaster, ModelConfig
from ridgeline.retail.scenarios import Assumptions

from .forecast_synth import retail_frame


@pytest.fixture(scope="module")
def regression_model() -> Forecaster:
    df = retail_frame(n_series=3, n_days=300, seed=8)
    cfg = ModelConfig(model_type="regression", exog=("promo", "price"), params={"max_iter": 120})
    return Forecaster(cfg).fit(df, calibrate_horizon=0)


def test_regression_baseline_reforecasts_through_exogenous_features(regression_model: Forecaster) -> None:
    none = scenarios.simulate(regression_model, 14, Assumptions())
    assert none.method == "model_exogenous"
    assert none.delta_total == pytest.approx(0.0)
    pricier = scenarios.simulate(regression_model, 14, Assumptions(price_change_pct=25.0))
    assert pricier.scenario_total < pricier.baseline_total  # elastic demand in the data
    assert "price" not in pricier.multipliers  # learned, not a fixed factor
    promo = scenarios.simulate(regression_model, 14, Assumptions(promotion=True))
    assert promo.scenario_total > promo.baseline_total
    # The re-forecast is not a constant multiple of the baseline (it went through the model).
    ratios = np.array([p.scenario / p.baseline for p in pricier.points])
    assert ratios.std() > 1e-6


def test_heuristic_multiplier_is_exact_for_other_baselines() -> None:
    df = retail_frame(n_series=2, n_days=120)
    model = Forecaster(ModelConfig(model_type="seasonal_naive")).fit(df, calibrate_horizon=0)
    origin = model.origin
    assert origin is not None
    a = Assumptions(
        price_change_pct=10.0,
        promotion=True,
        promotion_days=(1, 2),
        holiday_dates=(origin + timedelta(days=3),),
        lifecycle="decline",
    )
    res = scenarios.simulate(model, 7, a)
    assert res.method == "heuristic"
    f_price = 1.1**-1.5
    for p in res.points:
        h = (p.date - origin).days + 1
        expected = p.baseline * f_price * (1.2 if h <= 2 else 1.0) * (1.1 if h == 4 else 1.0) * 0.9
        assert p.scenario == pytest.approx(expected)
    assert res.multipliers["lifecycle"] == 0.9


def test_inventory_cap_and_series_filter(regression_model: Forecaster) -> None:
    res = scenarios.simulate(regression_model, 7, Assumptions(inventory_cap=60.0), series=["S0"])
    assert {p.series_id for p in res.points} == {"S0"}
    assert max(p.scenario for p in res.points) <= 60.0
    assert res.capped_days == sum(p.baseline > 60.0 for p in res.points)
    with pytest.raises(ValueError):
        Assumptions(price_change_pct=-100)
