"""``/explain``: rule-based explanations of a baseline model's h=1 forecast (series, run or job)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np
import polars as pl
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.retail import dates, models
from ridgeline.retail.api import jobs, registry, store
from ridgeline.retail.api.forecasting import finite_json
from ridgeline.retail.api.schemas.forecasting import ExplainRequest
from ridgeline.retail.explain import explain_forecast


class ExplainController(Controller):
    path = "/explain"
    tags = ["retail: explainability"]

    @post(
        "/forecast",
        summary="Explain a baseline model's h=1 forecast on the series ending at as_of_date",
        description="Baseline models only; reason codes are advisory (correlation, not causation).",
        status_code=200,
        opt=raises(400, 404),
    )
    async def forecast(self, ctx: Ctx, data: JSONBody[ExplainRequest]) -> dict[str, Any]:
        return await explain_series(
            ctx,
            data.store_id,
            data.product_id,
            data.as_of_date,
            data.model_type,
            season_length=data.season_length,
            window=data.window,
            level=data.level,
        )

    @get(
        "/runs/{run_id:str}", summary="Explain a registry run (cutoff = its data_window_end)", opt=raises(400)
    )
    async def run(self, ctx: Ctx, run_id: FromPath[str]) -> dict[str, Any]:
        run = await registry.require_run(ctx, run_id)
        if run.model_type not in models.BASELINE_TYPES:
            raise RidgelineError(
                400,
                "model_not_explainable",
                f"run {run_id} is a {run.model_type} run; only baselines are explained",
            )
        if run.store_id is None or run.product_id is None or run.data_window_end is None:
            raise RidgelineError(400, "run_not_explainable", f"run {run_id} has no series or data window")
        cfg = run.model_config
        return await explain_series(
            ctx,
            run.store_id,
            run.product_id,
            run.data_window_end,
            run.model_type,
            season_length=int(cfg.get("season_length", 7)),
            window=int(cfg.get("window", 7)),
        )

    @get("/jobs/{job_id:str}", summary="Explain a completed predict job", opt=raises(400))
    async def explain_job(self, ctx: Ctx, job_id: FromPath[str]) -> dict[str, Any]:
        """Store, product and model come from the job's result; cutoff = the day before the first forecast."""
        job = await jobs.get(ctx, job_id)
        if job.kind != "predict" or job.status != JobStatus.SUCCEEDED or not isinstance(job.result, dict):
            raise RidgelineError(
                400, "job_not_explainable", f"job {job_id} is not a completed predict job", job_id=job_id
            )
        res = job.result
        first = date.fromisoformat(res["forecasts"][0]["date"])
        run = await registry.get_run(ctx, res["run_id"])
        cfg = run.model_config if run else {}
        return await explain_series(
            ctx,
            int(res["store_id"]),
            int(res["product_id"]),
            first - timedelta(days=1),
            res["model_type"],
            season_length=int(cfg.get("season_length", 7)),
            window=int(cfg.get("window", 7)),
        )


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
    start = dates.shift(as_of, -400)
    frame, holidays = await store.load_history(ctx, [store_id], [product_id], start, as_of)
    exp = explain_forecast(  # ExplainError: 400 insufficient_history
        frame,
        model_type,
        as_of,
        series_id=store.series_key(store_id, product_id),
        season_length=season_length,
        window=window,
        level=level,
        promo_col="promo",
        holidays=np.asarray(holidays.cast(pl.Int32).to_numpy(), dtype=np.int64),
    )
    out = msgspec.to_builtins(exp)
    out.pop("series_id", None)
    out["store_id"], out["product_id"] = store_id, product_id
    return finite_json(out)
