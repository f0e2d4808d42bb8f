"""Issue 22: job progress per fold and per model (backtests) and per step (trainings), monotone and
visible through the job endpoints while the job runs; and the learned training's calibration, which
now refits once instead of once per calibration origin."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec
import pytest

from ridgeline.retail import backtest, models
from ridgeline.retail.backtest import BacktestConfig
from ridgeline.retail.models import Forecaster, ModelConfig

from .forecast_synth import retail_frame
from .test_forecast_api import _ingest
from .test_scenarios_jobs_api import _wait


def test_backtest_reports_each_fold_and_model_as_it_starts() -> None:
    df = retail_frame(n_series=2, n_days=120)
    seen: list[tuple[int, int, dict[str, Any]]] = []
    configs = [
        ModelConfig(model_type="naive"),
        ModelConfig(model_type="seasonal_naive"),
        ModelConfig(model_type="regression", exog=("promo",), params={"max_iter": 20}),
    ]
    backtest.run(
        df, configs, BacktestConfig(horizon=7, n_folds=2), on_step=lambda d, t, x: seen.append((d, t, x))
    )
    assert [(d, t) for d, t, _ in seen] == [(i, 6) for i in range(6)] + [(6, 6)]
    started = [(x["fold"], x["model"], x["model_index"]) for _, _, x in seen[:-1]]
    assert started == [
        (f, m, i + 1) for f in (1, 2) for i, m in enumerate(["naive", "seasonal_naive", "regression"])
    ]
    assert all(x["n_folds"] == 2 and x["n_models"] == 3 for _, _, x in seen[:-1])
    assert seen[-1][2]["phase"] == "done"


def test_learned_training_refits_once_for_calibration_and_reports_its_steps(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fits: list[int] = []
    real = Forecaster._train_learned

    def counted(self, frame):  # type: ignore[no-untyped-def]
        fits.append(frame.height)
        return real(self, frame)

    monkeypatch.setattr(Forecaster, "_train_learned", counted)
    df = retail_frame(n_series=1, n_days=240, seed=3)
    seen: list[tuple[int, int, dict[str, Any]]] = []
    cfg = ModelConfig(model_type="regression", exog=("promo", "price"), params={"max_iter": 40})
    m = Forecaster(cfg).fit(df, calibrate_horizon=14, on_step=lambda d, t, x: seen.append((d, t, x)))
    # The fit and one calibration refit (before: one refit per origin, 1 + 3 fits).
    assert len(fits) == 2 and fits[1] < fits[0]
    assert m.interval_method == "scaled_residual_quantile" and m.calibration_errors == 3 * 14
    assert [x["phase"] for _, _, x in seen] == [
        "fit",
        "calibration_refit",
        "calibration_forecast",
        "calibration_forecast",
        "calibration_forecast",
        "done",
    ]
    assert [d for d, _, _ in seen] == [0, 1, 2, 3, 4, 5] and {t for _, t, _ in seen} == {5}


def _in_process(c: Any) -> None:
    """Fits in the server's own process (the blocking wrappers below are not seen by a child)."""
    ctx = c.app.state["ctx"]
    ctx.family_settings["retail"] = msgspec.structs.replace(ctx.family_settings["retail"], fit_isolated=False)


def _hold_at(
    done_at: int,
) -> tuple[threading.Event, threading.Event, list[tuple[int, int, dict[str, Any]]], Any]:
    """An ``on_step`` wrapper that stops the engine after reporting step ``done_at`` until released."""
    reached, release = threading.Event(), threading.Event()
    seen: list[tuple[int, int, dict[str, Any]]] = []

    def wrap(on_step: Any) -> Any:
        def step(done: int, total: int, detail: dict[str, Any]) -> None:
            seen.append((done, total, dict(detail)))
            on_step(done, total, detail)
            if done == done_at and not release.is_set():
                reached.set()
                assert release.wait(60)

        return step

    return reached, release, seen, wrap


def _running(c: Any, job_id: str, reached: threading.Event) -> dict[str, Any]:
    assert reached.wait(60)
    for _ in range(200):
        job = c.get(f"/retail/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"] > 0:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job never seen running: {job}")


@pytest.mark.db
def test_backtest_job_progress_is_visible_per_fold_and_model_while_running(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    _in_process(c)
    s, p, _ = _ingest(c)
    reached, release, seen, wrap = _hold_at(4)
    real = backtest.run
    monkeypatch.setattr(backtest, "run", lambda *a, on_step, **kw: real(*a, on_step=wrap(on_step), **kw))
    job_id = c.post(
        "/retail/jobs",
        json={
            "job_type": "backtest",
            "params": {
                "store_id": s,
                "product_id": p,
                "horizon": 7,
                "n_folds": 3,
                "models": [{"model_type": "naive"}, {"model_type": "seasonal_naive"}],
            },
        },
    ).json()["job_id"]
    try:
        job = _running(c, job_id, reached)
        # 4 of 6 (fold, model) fits done; the 5th (fold 3, naive) is the one running.
        assert job["progress"] == pytest.approx(4 / 6)
        d = job["progress_detail"]
        assert (d["done"], d["total"], d["phase"], d["fold"], d["n_folds"]) == (4, 6, "backtest", 3, 3)
        assert (d["model"], d["model_index"], d["n_models"]) == ("naive", 1, 2)
        listed = next(j for j in c.get("/retail/jobs").json()["jobs"] if j["job_id"] == job_id)
        assert listed["progress"] == pytest.approx(4 / 6) and listed["progress_detail"]["fold"] == 3
    finally:
        release.set()
    done = _wait(c, job_id)
    assert done["status"] == "completed", done
    assert done["progress"] == 1.0 and done["progress_detail"] is None
    fractions = [dn / t for dn, t, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.db
def test_train_job_progress_is_visible_per_step_while_running(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = make_client(seed_defaults=False)
    _in_process(c)
    s, p, _ = _ingest(c)
    reached, release, seen, wrap = _hold_at(2)
    real = models.fit
    monkeypatch.setattr(models, "fit", lambda *a, on_step, **kw: real(*a, on_step=wrap(on_step), **kw))
    job_id = c.post(
        "/retail/jobs",
        json={
            "job_type": "train",
            "params": {
                "store_id": s,
                "product_id": p,
                "calibrate_horizon": 14,
                "config": {"model_type": "regression", "exog": ["promo"], "params": {"max_iter": 30}},
            },
        },
    ).json()["job_id"]
    try:
        job = _running(c, job_id, reached)
        # Fit and calibration refit done; the first calibration forecast is running.
        assert job["progress"] == pytest.approx(2 / 5)
        d = job["progress_detail"]
        assert (d["done"], d["total"], d["phase"], d["model"]) == (2, 5, "calibration_forecast", "regression")
        assert (d["origin_index"], d["n_origins"]) == (1, 3)
    finally:
        release.set()
    done = _wait(c, job_id)
    assert done["status"] == "completed", done
    assert done["progress"] == 1.0 and done["progress_detail"] is None
    assert [dn for dn, _, _ in seen] == [0, 1, 2, 3, 4, 5]
