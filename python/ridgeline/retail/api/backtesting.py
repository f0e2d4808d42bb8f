"""``/backtesting``: rolling or expanding time-series cross-validation of one or more models."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, post
from litestar.params import JSONBody

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.retail import backtest, dates
from ridgeline.retail.api import store
from ridgeline.retail.api.forecasting import finite_json, model_config, run_isolated
from ridgeline.retail.api.schemas.forecasting import BacktestRequest
from ridgeline.retail.models import ModelError
from ridgeline.retail.settings import retail_settings


class BacktestingController(Controller):
    path = "/backtesting"
    tags = ["retail: backtesting"]

    @post(
        "/run",
        summary="Rolling or expanding time-series cross-validation",
        description=(
            "Metrics per model and fold: MAE; sMAPE on the 0-200 scale; WAPE as a fraction; bias = "
            "mean(forecast - actual), positive means over-forecasting; stability = standard deviation of "
            "the per-fold WAPE."
        ),
        status_code=200,
        opt=raises(400, 404),
    )
    async def run(self, ctx: Ctx, data: JSONBody[BacktestRequest]) -> dict[str, Any]:
        return await run_backtest(ctx, data)


async def run_backtest(
    ctx: AppContext, req: BacktestRequest, *, on_step: Any = None, cancelled: Any = None
) -> dict[str, Any]:
    """Run the backtest; ``on_step(done, total, detail)`` follows its (fold, model) fits."""
    if (req.store_id is None) == (req.store_ids is None):
        raise RidgelineError(400, "invalid_series", "give exactly one of store_id and store_ids")
    if req.store_id is not None and req.product_id is None:
        raise RidgelineError(400, "invalid_series", "store_id needs a product_id (or use store_ids)")
    dates.check_range(req.start_date, req.end_date, max_days=dates.HISTORY_MAX_DAYS, window=True)
    stores = [req.store_id] if req.store_id is not None else list(req.store_ids or [])
    frame, holidays = await store.load_history(
        ctx, stores, [req.product_id] if req.product_id else None, req.start_date, req.end_date
    )
    if frame.height == 0:
        raise NotFound("series", stores, message="no sales for the requested stores, products and dates")
    configs = [model_config(m) for m in req.models]
    cfg = backtest.BacktestConfig(  # ModelError (400 insufficient_data) on a bad fold layout
        horizon=req.horizon,
        n_folds=req.n_folds,
        step=req.step,
        strategy=req.strategy,
        train_days=req.train_days,
        gap=req.gap,
        exog_plan=req.exog_plan,
        interval_coverage=req.interval_coverage,
    )
    try:
        result = await run_isolated(
            retail_settings(ctx),
            backtest.run,
            frame,
            configs,
            cfg,
            holidays=holidays,
            on_progress=on_step,
            cancelled=cancelled,
        )
    except ValueError as exc:
        if isinstance(exc, EngineError):
            raise
        # Not an engine error: a library's ValueError from one fold's fit (a fold too small for the
        # estimator). To the client that is the same as the engine's own "not enough data".
        raise ModelError(str(exc)) from exc
    out = msgspec.to_builtins(result)
    out["store_id"], out["product_id"], out["store_ids"] = req.store_id, req.product_id, req.store_ids
    out["n_series"] = int(frame["series_id"].n_unique())
    out["metric_definitions"] = METRIC_DEFINITIONS
    return finite_json(out)


METRIC_DEFINITIONS = {
    "mae": "mean |actual - forecast| (units)",
    "rmse": "sqrt(mean (actual - forecast)^2) (units)",
    "smape": "100/n * sum 2|a - f| / (|a| + |f|), scale 0-200; a 0/0 pair counts 0",
    "wape": "sum |a - f| / sum |a|, a fraction (0.12 = 12%)",
    "bias": "mean (forecast - actual): positive = over-forecast",
    "bias_pct": "sum (forecast - actual) / sum |actual|: positive = over-forecast",
    "stability": "standard deviation of the per-fold WAPE (lower is more stable)",
    "coverage": "coverage_<level>: share of test points inside that prediction band, the band "
    "calibrated on the fold's training rows only (reported for the models interval_coverage names)",
    "exog_plan": "known: learned models were given the test window's actual price and promotion (the "
    "scores assume that plan is known in advance; without a plan, predict repeats the last week and "
    "scores worse); repeat_last_week: they were given the last training week's values instead",
}
