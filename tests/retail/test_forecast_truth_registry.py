"""Registry and comparisons mean what they say: runs store holdout WAPE and MAE at train time,
PATCH merges metrics and checks they are numbers, and comparing scenarios of different baselines
is refused unless asked for (then one baseline per run is charted) (issue 22)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame
from .test_forecast_api import _ingest
from .test_scenarios_jobs_api import _train


def test_holdout_is_the_last_calibration_window_scored_independently() -> None:
    df = retail_frame(n_series=1, n_days=240, seed=3)
    cfg = ModelConfig(model_type="regression", exog=("promo", "price"), params={"max_iter": 60})
    m = Forecaster(cfg).fit(df, calibrate_horizon=14)
    assert m.holdout is not None and m.holdout["days"] == 14
    # Independently: the calibration refit is fitted once, on the rows before the oldest of the
    # three origins (14 days before the holdout); it forecasts the last 14 days from the actual
    # history before them, with the known plan; score that.
    end = df["date"].max()
    cut = end - timedelta(days=13)
    oldest = cut - timedelta(days=14)
    test = df.filter(pl.col("date") >= cut)
    refit = Forecaster(cfg).fit(df.filter(pl.col("date") < oldest), calibrate_horizon=0)
    fc = refit._from_end_of(df.filter(pl.col("date") < cut)).point_forecast(14, test)
    j = fc.join(test, on=["series_id", "date"])
    y, f = j["y"].to_numpy(), j["forecast"].to_numpy()
    assert m.holdout["mae"] == pytest.approx(float(np.mean(np.abs(y - f))))
    assert m.holdout["wape"] == pytest.approx(float(np.sum(np.abs(y - f)) / np.sum(np.abs(y))))
    assert m.holdout["start"] == cut.isoformat()
    assert m.holdout["train_end"] == (oldest - timedelta(days=1)).isoformat()
    assert Forecaster.from_bytes(m.to_bytes()).holdout == m.holdout
    assert Forecaster(cfg).fit(df, calibrate_horizon=0).holdout is None


@pytest.mark.db
def test_runs_store_holdout_and_patch_merges_numeric_metrics(make_client: Any) -> None:
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    run_id = _train(c, s, p, "seasonal_naive")
    m = c.get(f"/retail/registry/runs/{run_id}").json()["metrics"]
    assert isinstance(m["holdout_wape"], float) and isinstance(m["holdout_mae"], float)
    assert m["holdout_days"] == 28 and 0 < m["holdout_wape"] < 1
    r = c.patch(f"/retail/registry/runs/{run_id}", json={"metrics": {"custom_score": 0.5}})
    assert r.status_code == 200, r.text
    merged = r.json()["metrics"]
    assert (
        merged["custom_score"] == 0.5 and merged["holdout_wape"] == m["holdout_wape"]
    )  # merged, not replaced
    for bad in ({"x": "high"}, {"x": True}, {"x": [1]}, {"x": {"y": 1}}):
        r = c.patch(f"/retail/registry/runs/{run_id}", json={"metrics": bad})
        assert r.status_code == 422 and r.json()["reason_code"] == "invalid_metric", r.text
        assert r.json()["metric"] == "x"
    assert c.get(f"/retail/registry/runs/{run_id}").json()["metrics"] == merged


@pytest.mark.db
def test_compare_across_baselines_is_refused_unless_asked(make_client: Any) -> None:
    c = make_client(seed_defaults=False)
    s, p, _ = _ingest(c)
    reg = _train(c, s, p, "regression", params={"max_iter": 40})
    sn = _train(c, s, p, "seasonal_naive")
    a = c.post(
        "/retail/scenarios", json={"name": "a", "run_id": reg, "assumptions": {"promotion": True}}
    ).json()
    b = c.post(
        "/retail/scenarios", json={"name": "b", "run_id": sn, "assumptions": {"promotion": True}}
    ).json()
    ids = [a["scenario_id"], b["scenario_id"]]
    r = c.post("/retail/scenarios/compare", json={"scenario_ids": ids})
    assert r.status_code == 400 and r.json()["reason_code"] == "different_baselines", r.text
    ok = c.post("/retail/scenarios/compare", json={"scenario_ids": ids, "allow_different_baselines": True})
    assert ok.status_code == 200, ok.text
    out = ok.json()
    assert out["shared_baseline"] is False
    keys = {k["key"] for k in out["series"]}
    assert {f"baseline:{reg}", f"baseline:{sn}"} <= keys and "baseline" not in keys
    day0 = out["chart"][0]
    pa = next(pt for pt in a["comparison"]["points"] if pt["date"] == day0["date"])
    pb = next(pt for pt in b["comparison"]["points"] if pt["date"] == day0["date"])
    assert day0[f"baseline:{reg}"] == pytest.approx(pa["baseline"])
    assert day0[f"baseline:{sn}"] == pytest.approx(pb["baseline"])
