"""Use cases of the featuresets, forecasting, backtesting and explainability slices.

Heavy work (feature kernels, model fitting, backtests) runs on a worker thread so the event loop
stays free; sales history comes from the retail data tables (:mod:`forecast_data`).
"""

from __future__ import annotations

import asyncio
import math
import platform
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np
import polars as pl

from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.retail import backtest, explain, features, isolation, models
from ridgeline.retail.api import forecast_data as data
from ridgeline.retail.api import forecast_schemas as fs
from ridgeline.retail.api import forecast_service as registry
from ridgeline.retail.settings import retail_settings

#: Reason codes of work stopped by its limits (job errors carry them as ``reason_code``).
LIMIT_CODES = ("memory_limit_exceeded", "time_budget_exceeded", "fit_process_crashed")


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _spec(cfg: fs.FeatureConfig) -> features.FeatureSpec:
    try:
        return features.FeatureSpec(
            lags=tuple(cfg.lags),
            windows=tuple(cfg.windows),
            window_stats=tuple(cfg.window_stats),
            min_periods=cfg.min_periods,
            calendar=cfg.calendar,
            exog=tuple(cfg.exog),
        )
    except ValueError as exc:
        raise RidgelineError(400, "invalid_feature_config", str(exc)) from exc


def check_hyperparameters(cfg: fs.ModelConfigIn) -> None:
    """Guard: only allow-listed hyperparameters within bounds (422 naming the key)."""
    try:
        models.validate_params(cfg.model_type, dict(cfg.params))
    except models.ParamError as exc:
        raise RidgelineError(422, exc.code, str(exc), parameter=exc.key, model_type=cfg.model_type) from exc


def model_config(cfg: fs.ModelConfigIn) -> models.ModelConfig:
    check_hyperparameters(cfg)
    try:
        return models.ModelConfig(
            model_type=cfg.model_type,
            season_length=cfg.season_length,
            window=cfg.window,
            features=_spec(cfg.features) if cfg.features else None,
            exog=tuple(cfg.exog),
            params=dict(cfg.params),
            levels=tuple(cfg.levels),
        )
    except models.ModelError as exc:
        raise RidgelineError(400, "invalid_model_config", str(exc)) from exc


async def run_isolated(
    fn: Any,
    *args: Any,
    cancelled: Any = None,
    on_progress: Any = None,
    **kwargs: Any,
) -> Any:
    """Guard: ``fn`` (a fit or a backtest) in a child process under the retail memory cap and time
    budget; a limit hit is 422 with its reason code; a cancel re-raises ``FitLimitExceeded("cancelled")``
    for the job handler to turn into its cancellation."""
    limits = retail_settings()
    if not limits.fit_isolated:
        if on_progress is not None:
            kwargs["on_fold"] = on_progress
        return await asyncio.to_thread(fn, *args, **kwargs)
    try:
        return await asyncio.to_thread(
            isolation.run_limited,
            fn,
            *args,
            memory_mb=limits.fit_memory_mb,
            time_s=limits.fit_time_s,
            cancelled=cancelled,
            on_progress=on_progress,
            **kwargs,
        )
    except isolation.FitLimitExceeded as exc:
        if exc.code == "cancelled":
            raise
        raise RidgelineError(422, exc.code, str(exc)) from None


# ------------------------------------------------------------------------------ featuresets
async def compute_features(
    ctx: AppContext, req: fs.FeatureRequest, *, preview: bool
) -> fs.FeatureSetResponse:
    data.check_range(req.start_date, req.end_date)
    spec = _spec(req.config)
    cutoff = req.cutoff_date or data.shift(req.end_date, 1)
    if cutoff <= req.start_date:
        raise RidgelineError(400, "invalid_cutoff", "cutoff_date must be after start_date")
    # Reach back far enough for the first day's lags and windows; nothing on or after the cutoff.
    lookback_start = data.shift(req.start_date, -spec.max_lookback)
    load_end = min(req.end_date, data.shift(cutoff, -1))
    frame, holidays = await data.load_history(
        ctx, [req.store_id], [req.product_id] if req.product_id else None, lookback_start, load_end
    )

    def work() -> pl.DataFrame:
        out = features.compute(frame, spec, cutoff=cutoff, holidays=holidays)
        return out.filter(pl.col("date") >= req.start_date)

    out = await asyncio.to_thread(work)
    names = spec.feature_names()
    null_counts = {
        n: int(out[n].is_nan().sum() if out[n].dtype.is_float() else 0) + out[n].null_count() for n in names
    }
    shown = out.head(req.sample_rows) if preview else out
    shown = shown.with_columns(
        (pl.col("series_id") // data.SERIES_FACTOR).alias("store_id"),
        (pl.col("series_id") % data.SERIES_FACTOR).alias("product_id"),
    ).drop("series_id")
    shown = shown.with_columns([pl.col(c).fill_nan(None) for c in shown.columns if shown[c].dtype.is_float()])
    products = sorted({data.split_key(int(k))[1] for k in out["series_id"].unique().to_list()})
    return fs.FeatureSetResponse(
        store_id=req.store_id,
        product_ids=products,
        start_date=req.start_date,
        end_date=req.end_date,
        cutoff_date=cutoff,
        feature_names=names,
        row_count=out.height,
        null_counts=null_counts,
        rows=shown.rename({"y": "quantity"}).to_dicts(),
    )


# ------------------------------------------------------------------------------ forecasting
async def train(
    ctx: AppContext, req: fs.TrainRequest, *, job_check: Any = None, cancelled: Any = None
) -> fs.TrainResponse:
    data.check_range(req.train_start_date, req.train_end_date, "training window")
    cfg = model_config(req.config)
    frame, holidays = await data.load_series(
        ctx, req.store_id, req.product_id, req.train_start_date, req.train_end_date
    )
    start, end = frame["date"].min(), frame["date"].max()
    assert isinstance(start, date) and isinstance(end, date)
    run = await registry.create_run(
        ctx,
        fs.ModelRunCreate(
            model_type=req.config.model_type,
            model_config=msgspec.to_builtins(req.config),
            feature_config=msgspec.to_builtins(cfg.feature_spec)
            if cfg.model_type in models.LEARNED_TYPES
            else None,
            store_id=req.store_id,
            product_id=req.product_id,
            data_window_start=start,
            data_window_end=end,
        ),
        status="running",
    )
    t0 = time.perf_counter()
    try:
        if job_check is not None:
            job_check()
        try:
            model = await run_isolated(
                models.fit,
                frame,
                cfg,
                holidays=holidays,
                calibrate_horizon=req.calibrate_horizon,
                cancelled=cancelled,
            )
        except isolation.FitLimitExceeded:  # cancelled: the child is already stopped
            if job_check is not None:
                job_check()
            raise
        if job_check is not None:
            job_check()  # a job cancelled during the fit stops here: no artifact, run marked failed
        blob = model.to_bytes()
        uri, sha = await registry.store_artifact(ctx, run.run_id, "model.bin", blob)
    except models.ModelError as exc:
        await registry.update_run(ctx, run.run_id, fs.ModelRunUpdate(status="failed", error_message=str(exc)))
        raise RidgelineError(400, "insufficient_data", str(exc), run_id=run.run_id) from exc
    except BaseException as exc:
        await registry.update_run(
            ctx, run.run_id, fs.ModelRunUpdate(status="failed", error_message=f"{type(exc).__name__}: {exc}")
        )
        raise
    duration = (time.perf_counter() - t0) * 1000
    summary = model.summary()
    await registry.update_run(
        ctx,
        run.run_id,
        fs.ModelRunUpdate(
            status="success",
            metrics={"train_rows": model.train_rows, "interval_method": model.interval_method},
        ),
    )
    await _set_runtime(
        ctx, run.run_id, {**summary, "duration_ms": duration, "python": platform.python_version()}
    )
    return fs.TrainResponse(
        run_id=run.run_id,
        model_type=cfg.model_type,
        status="success",
        store_id=req.store_id,
        product_id=req.product_id,
        data_window_start=start,
        data_window_end=end,
        train_rows=model.train_rows,
        interval_method=model.interval_method,
        artifact_uri=uri,
        artifact_hash=sha,
        duration_ms=duration,
    )


async def _set_runtime(ctx: AppContext, run_id: str, info: dict[str, Any]) -> None:
    from ridgeline.retail.api.forecast_store import model_runs

    async with ctx.db.begin() as conn:
        await conn.execute(model_runs.update().where(model_runs.c.id == run_id).values(runtime_info=info))


async def load_model(ctx: AppContext, run_id: str) -> tuple[fs.ModelRun, models.Forecaster]:
    run = await registry.require_run(ctx, run_id)
    if run.status != "success":
        raise RidgelineError(400, "run_not_successful", f"model run {run_id} is {run.status}, not success")
    blob = await registry.read_artifact(ctx, run)
    return run, models.Forecaster.from_bytes(blob)


def plan_frame(model: models.Forecaster, plan: list[fs.PlanDay]) -> pl.DataFrame | None:
    if not plan or model.tail is None:
        return None
    key = model.tail["series_id"][0]
    return pl.DataFrame(
        {
            "series_id": [key] * len(plan),
            "date": [p.date for p in plan],
            "price": [p.unit_price for p in plan],
            "promo": [None if p.on_promotion is None else float(p.on_promotion) for p in plan],
        },
        schema={"series_id": pl.Int64, "date": pl.Date, "price": pl.Float64, "promo": pl.Float64},
    )


def check_horizon_dates(origin: date, horizon: int, dates: list[date], field: str) -> None:
    """Guard: every date lies in the forecast window [origin, origin + horizon - 1] (else 422
    ``plan_outside_horizon``: such a day would be silently ignored)."""
    last = origin + timedelta(days=horizon - 1)
    outside = sorted({d for d in dates if d < origin or d > last})
    if outside:
        shown = ", ".join(str(d) for d in outside[:5]) + (" ..." if len(outside) > 5 else "")
        raise RidgelineError(
            422,
            "plan_outside_horizon",
            f"{field}: {len(outside)} date(s) outside the forecast window {origin} to {last}: {shown}",
            field=field,
            window_start=origin.isoformat(),
            window_end=last.isoformat(),
        )


def check_plan(model: models.Forecaster, plan: list[fs.PlanDay], horizon: int) -> None:
    """Guard: plan days are unique, inside the horizon and carry valid values (422 with a reason)."""
    if not plan:
        return
    dupes = sorted(d for d, n in Counter(p.date for p in plan).items() if n > 1)
    if dupes:
        raise RidgelineError(
            422,
            "duplicate_plan_date",
            f"plan repeats date(s) {', '.join(str(d) for d in dupes[:5])}; give each day once",
            field="plan",
        )
    for p in plan:
        if p.unit_price is not None and not (math.isfinite(p.unit_price) and p.unit_price >= 0):
            raise RidgelineError(
                422,
                "invalid_plan_value",
                f"plan day {p.date}: unit_price {p.unit_price} must be a finite number >= 0",
                field="plan.unit_price",
            )
    assert model.origin is not None
    check_horizon_dates(model.origin, horizon, [p.date for p in plan], "plan")


async def predict(ctx: AppContext, req: fs.PredictRequest) -> fs.PredictResponse:
    run, model = await load_model(ctx, req.run_id)
    check_plan(model, req.plan, req.horizon)
    future = plan_frame(model, req.plan)
    pred = await asyncio.to_thread(model.predict, req.horizon, future)
    levels = model.config.levels
    points = [
        fs.ForecastPoint(
            date=r["date"],
            forecast=float(r["forecast"]),
            lower={str(lv): _finite(r[f"lo_{lv}"]) for lv in levels},
            upper={str(lv): _finite(r[f"hi_{lv}"]) for lv in levels},
        )
        for r in pred.iter_rows(named=True)
    ]
    assert model.origin is not None
    return fs.PredictResponse(
        run_id=run.run_id,
        model_type=run.model_type,
        store_id=run.store_id or 0,
        product_id=run.product_id or 0,
        origin=model.origin,
        horizon=req.horizon,
        interval_method=model.interval_method,
        forecasts=points,
    )


# ------------------------------------------------------------------------------ backtesting
async def run_backtest(
    ctx: AppContext, req: fs.BacktestRequest, *, on_fold: Any = None, cancelled: Any = None
) -> dict[str, Any]:
    if (req.store_id is None) == (req.store_ids is None):
        raise RidgelineError(400, "invalid_series", "give exactly one of store_id and store_ids")
    if req.store_id is not None and req.product_id is None:
        raise RidgelineError(400, "invalid_series", "store_id needs a product_id (or use store_ids)")
    data.check_range(req.start_date, req.end_date)
    stores = [req.store_id] if req.store_id is not None else list(req.store_ids or [])
    frame, holidays = await data.load_history(
        ctx, stores, [req.product_id] if req.product_id else None, req.start_date, req.end_date
    )
    if frame.height == 0:
        raise RidgelineError(404, "series_not_found", "no sales for the requested stores, products and dates")
    configs = [model_config(m) for m in req.models]
    try:
        cfg = backtest.BacktestConfig(
            horizon=req.horizon,
            n_folds=req.n_folds,
            step=req.step,
            strategy=req.strategy,
            train_days=req.train_days,
            gap=req.gap,
        )
        result = await run_isolated(
            backtest.run, frame, configs, cfg, holidays=holidays, on_progress=on_fold, cancelled=cancelled
        )
    except (ValueError, models.ModelError) as exc:
        raise RidgelineError(400, "insufficient_data", str(exc)) from exc
    out = msgspec.to_builtins(result)
    out["store_id"], out["product_id"], out["store_ids"] = req.store_id, req.product_id, req.store_ids
    out["n_series"] = int(frame["series_id"].n_unique())
    out["metric_definitions"] = METRIC_DEFINITIONS
    return _clean(out)


METRIC_DEFINITIONS = {
    "mae": "mean |actual - forecast| (units)",
    "rmse": "sqrt(mean (actual - forecast)^2) (units)",
    "smape": "100/n * sum 2|a - f| / (|a| + |f|), scale 0-200; a 0/0 pair counts 0",
    "wape": "sum |a - f| / sum |a|, a fraction (0.12 = 12%)",
    "bias": "mean (forecast - actual): positive = over-forecast",
    "bias_pct": "sum (forecast - actual) / sum |actual|: positive = over-forecast",
    "stability": "standard deviation of the per-fold WAPE (lower is more stable)",
}


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# ------------------------------------------------------------------------------ explain
async def explain_series(
    ctx: AppContext,
    store_id: int,
    product_id: int,
    as_of: date,
    model_type: str,
    *,
    season_length: int = 7,
    window: int = 7,
    level: int = 80,
) -> dict[str, Any]:
    if model_type not in models.BASELINE_TYPES:
        raise RidgelineError(
            400,
            "model_not_explainable",
            f"model_type {model_type!r} has no rule-based explanation; use naive, seasonal_naive or moving_average",
        )
    start = data.shift(as_of, -400)
    frame, holidays = await data.load_history(ctx, [store_id], [product_id], start, as_of)
    try:
        exp = explain.explain_forecast(
            frame,
            model_type,
            as_of,
            series_id=data.series_key(store_id, product_id),
            season_length=season_length,
            window=window,
            level=level,
            promo_col="promo",
            holidays=np.asarray(holidays.cast(pl.Int32).to_numpy(), dtype=np.int64),
        )
    except explain.ExplainError as exc:
        raise RidgelineError(400, "insufficient_history", str(exc)) from exc
    out = msgspec.to_builtins(exp)
    out.pop("series_id", None)
    out["store_id"], out["product_id"] = store_id, product_id
    return _clean(out)
