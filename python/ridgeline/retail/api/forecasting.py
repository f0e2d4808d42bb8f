"""``/forecasting``: train a model (artifact with SHA-256 in the registry) and predict with intervals.

Fits and backtests run under the retail limits (``RIDGELINE_RETAIL_FIT_*``, :mod:`ridgeline.retail.settings`)
in a child process (:func:`run_isolated`), so a fit that runs out of memory or time fails alone.
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
import polars as pl
from litestar import Controller, post
from litestar.params import JSONBody

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.retail import dates, isolation, models
from ridgeline.retail.api import registry, store
from ridgeline.retail.api.featuresets import feature_spec
from ridgeline.retail.api.schemas.forecasting import (
    AssumedPlanDay,
    ForecastPoint,
    ModelConfigIn,
    ModelRun,
    ModelRunCreate,
    ModelRunUpdate,
    PlanDay,
    PredictRequest,
    PredictResponse,
    TrainRequest,
    TrainResponse,
)
from ridgeline.retail.settings import RetailSettings, retail_settings


class ForecastingController(Controller):
    path = "/forecasting"
    tags = ["retail: forecasting"]

    @post(
        "/train",
        summary="Train a model and register it (artifact with SHA-256 in the registry)",
        status_code=201,
        opt=raises(400, 404),
    )
    async def train(self, ctx: Ctx, data: JSONBody[TrainRequest]) -> TrainResponse:
        return await train(ctx, data)

    @post(
        "/predict",
        summary="Horizon predictions with intervals from a trained run",
        description=(
            "Intervals: per-horizon empirical quantiles of scaled errors at earlier origins "
            "(interval_method scaled_residual_quantile); null when the history was too short."
        ),
        status_code=200,
        opt=raises(400, 404),
    )
    async def predict(self, ctx: Ctx, data: JSONBody[PredictRequest]) -> PredictResponse:
        return await predict(ctx, data)


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def check_hyperparameters(cfg: ModelConfigIn) -> None:
    """Guard: only allow-listed hyperparameters within bounds (422 ``ParamError`` naming the key)."""
    models.validate_params(cfg.model_type, dict(cfg.params))


def model_config(cfg: ModelConfigIn) -> models.ModelConfig:
    """The engine's config (400 ``invalid_model_config`` / ``invalid_feature_config`` from the engine)."""
    check_hyperparameters(cfg)
    return models.ModelConfig(
        model_type=cfg.model_type,
        season_length=cfg.season_length,
        window=cfg.window,
        features=feature_spec(cfg.features) if cfg.features else None,
        exog=tuple(cfg.exog),
        params=dict(cfg.params),
        levels=tuple(cfg.levels),
    )


async def run_isolated(
    limits: RetailSettings,
    fn: Any,
    *args: Any,
    cancelled: Any = None,
    on_progress: Any = None,
    **kwargs: Any,
) -> Any:
    """Guard: ``fn`` (a fit or a backtest) in a child process under the retail memory cap and time
    budget; a limit hit is :class:`~ridgeline.retail.isolation.FitLimitExceeded` (422 with its reason
    code); a cancel raises it with ``cancelled`` for the job handler to turn into its cancellation."""
    if not limits.fit_isolated:
        if on_progress is not None:
            kwargs["on_step"] = on_progress
        return await asyncio.to_thread(fn, *args, **kwargs)
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


async def train(
    ctx: AppContext,
    req: TrainRequest,
    *,
    job_check: Any = None,
    cancelled: Any = None,
    on_step: Any = None,
) -> TrainResponse:
    """Fit, register and store a model; ``on_step(done, total, detail)`` follows the fit's steps
    (the fit, the calibration refit, each calibration origin's forecast)."""
    dates.check_range(
        req.train_start_date,
        req.train_end_date,
        max_days=dates.HISTORY_MAX_DAYS,
        what="training window",
        window=True,
    )
    cfg = model_config(req.config)
    frame, holidays = await store.load_series(
        ctx, req.store_id, req.product_id, req.train_start_date, req.train_end_date
    )
    start, end = frame["date"].min(), frame["date"].max()
    assert isinstance(start, date) and isinstance(end, date)
    run = await registry.create_run(
        ctx,
        ModelRunCreate(
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
                retail_settings(ctx),
                models.fit,
                frame,
                cfg,
                holidays=holidays,
                calibrate_horizon=req.calibrate_horizon,
                cancelled=cancelled,
                on_progress=on_step,
            )
        except isolation.FitLimitExceeded:  # cancelled: the child is already stopped
            if job_check is not None:
                job_check()
            raise
        if job_check is not None:
            job_check()  # a job cancelled during the fit stops here: no artifact, run marked failed
        blob = model.to_bytes()
        uri, sha = await registry.store_artifact(ctx, run.run_id, "model.bin", blob)
    except models.ModelError as exc:  # 400 insufficient_data, rendered as raised, naming the failed run
        await registry.update_run(ctx, run.run_id, ModelRunUpdate(status="failed", error_message=str(exc)))
        exc.extra.setdefault("run_id", run.run_id)
        raise
    except BaseException as exc:
        await registry.update_run(
            ctx, run.run_id, ModelRunUpdate(status="failed", error_message=f"{type(exc).__name__}: {exc}")
        )
        raise
    duration = (time.perf_counter() - t0) * 1000
    summary = model.summary()
    await registry.update_run(
        ctx,
        run.run_id,
        ModelRunUpdate(
            status="success",
            metrics={
                "train_rows": model.train_rows,
                "interval_method": model.interval_method,
                **holdout_metrics(model),
            },
        ),
    )
    await registry.set_runtime_info(
        ctx, run.run_id, {**summary, "duration_ms": duration, "python": platform.python_version()}
    )
    return TrainResponse(
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


def holdout_metrics(model: models.Forecaster) -> dict[str, Any]:
    """``holdout_wape``, ``holdout_mae`` (the last ``calibrate_horizon`` days held back and forecast
    from the rest), ``holdout_days``, ``holdout_start``, ``holdout_train_end``; nothing without
    calibration."""
    h = model.holdout
    if not h:
        return {}
    return {
        "holdout_wape": h["wape"],
        "holdout_mae": h["mae"],
        "holdout_days": h["days"],
        "holdout_start": h["start"],
        "holdout_points": h["points"],
        # The scoring model's last training day: learned models are refitted once for calibration,
        # on the rows before the oldest calibration origin, so it lies before holdout_start.
        **({"holdout_train_end": h["train_end"]} if h.get("train_end") else {}),
    }


async def load_model(ctx: AppContext, run_id: str) -> tuple[ModelRun, models.Forecaster]:
    run = await registry.require_run(ctx, run_id)
    if run.status != "success":
        raise RidgelineError(400, "run_not_successful", f"model run {run_id} is {run.status}, not success")
    blob = await registry.read_artifact(ctx, run)
    return run, models.Forecaster.from_bytes(blob)


def plan_frame(model: models.Forecaster, plan: list[PlanDay]) -> pl.DataFrame | None:
    if not plan or model.tail is None:
        return None
    key = model.tail["series_id"][0]
    return pl.DataFrame(
        {
            "series_id": [key] * len(plan),
            "date": [p.date for p in plan],
            "price": [p.unit_price for p in plan],
            "promo": [None if p.on_promotion is None else float(p.on_promotion) for p in plan],
            "open": [None if p.is_open is None else float(p.is_open) for p in plan],
        },
        schema={
            "series_id": pl.Int64,
            "date": pl.Date,
            "price": pl.Float64,
            "promo": pl.Float64,
            "open": pl.Float64,
        },
    )


def check_horizon_dates(origin: date, horizon: int, days: list[date], field: str) -> None:
    """Guard: every date lies in the forecast window [origin, origin + horizon - 1] (else 422
    ``plan_outside_horizon``: such a day would be silently ignored)."""
    last = origin + timedelta(days=horizon - 1)
    outside = sorted({d for d in days if d < origin or d > last})
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


def check_plan(model: models.Forecaster, plan: list[PlanDay], horizon: int) -> None:
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


async def predict(ctx: AppContext, req: PredictRequest) -> PredictResponse:
    run, model = await load_model(ctx, req.run_id)
    check_plan(model, req.plan, req.horizon)
    future = plan_frame(model, req.plan)
    pred = await asyncio.to_thread(model.predict, req.horizon, future)
    plan, caveats, codes = assumed_plan(model, req.horizon, future)
    levels = model.config.levels
    points = [
        ForecastPoint(
            date=r["date"],
            forecast=float(r["forecast"]),
            lower={str(lv): _finite(r[f"lo_{lv}"]) for lv in levels},
            upper={str(lv): _finite(r[f"hi_{lv}"]) for lv in levels},
        )
        for r in pred.iter_rows(named=True)
    ]
    assert model.origin is not None
    return PredictResponse(
        run_id=run.run_id,
        model_type=run.model_type,
        store_id=run.store_id or 0,
        product_id=run.product_id or 0,
        origin=model.origin,
        horizon=req.horizon,
        interval_method=model.interval_method,
        forecasts=points,
        plan=plan,
        caveats=caveats,
        caveat_codes=codes,
    )


#: Engine exogenous column -> the plan field it comes from (see :func:`plan_frame`).
PLAN_FIELDS = {"price": "unit_price", "promo": "on_promotion", "open": "is_open"}


def assumed_plan(
    model: models.Forecaster, horizon: int, future: pl.DataFrame | None
) -> tuple[list[AssumedPlanDay], list[str], list[str]]:
    """The plan the model assumed per day, and caveats when it had to repeat the last week."""
    if not model.exog:
        return [], [], []
    frame = model.assumed_plan(horizon, future).sort("date")
    days: list[AssumedPlanDay] = []
    repeated: dict[str, int] = {}
    missing: dict[str, int] = {}
    for r in frame.iter_rows(named=True):
        day = AssumedPlanDay(date=r["date"])
        for col in model.exog:
            name = PLAN_FIELDS.get(col, col)
            v = r[col]
            if name == "unit_price":
                day.unit_price = _finite(v)
            elif name == "on_promotion":
                day.on_promotion = None if v is None else bool(v)
            elif name == "is_open":
                day.is_open = None if v is None else bool(v)
            src = r[f"{col}_source"]
            if src == "repeated_last_week":
                day.repeated.append(name)
                repeated[name] = repeated.get(name, 0) + 1
            elif src == "missing":
                missing[name] = missing.get(name, 0) + 1
        days.append(day)
    caveats: list[str] = []
    codes: list[str] = []
    if repeated:
        codes.append("plan_repeated_last_week")
        what = ", ".join(f"{k} on {n} of {horizon} days" for k, n in repeated.items())
        caveats.append(
            f"No plan value was given for {what}: the forecast repeats the same weekday of the last "
            "observed week. Give a plan for a forecast that reflects planned prices and promotions."
        )
    if missing:
        codes.append("plan_value_missing")
        what = ", ".join(f"{k} on {n} days" for k, n in missing.items())
        caveats.append(f"Neither a plan nor last week had a value for {what}: the model saw it as missing.")
    return days, caveats, codes


def finite_json(v: Any) -> Any:
    """``v`` (built-ins) with every non-finite float as null (JSON has no NaN)."""
    if isinstance(v, dict):
        return {k: finite_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite_json(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
