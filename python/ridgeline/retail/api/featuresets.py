"""``/featuresets``: time-safe features (lags, rolling windows, calendar, exogenous) over stored sales."""

from __future__ import annotations

import asyncio

import polars as pl
from litestar import Controller, post
from litestar.params import JSONBody

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.retail import dates, features
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.forecasting import FeatureConfig, FeatureRequest, FeatureSetResponse


class FeaturesetsController(Controller):
    path = "/featuresets"
    tags = ["retail: featuresets"]

    @post(
        "/compute",
        summary="Compute time-safe features (lags, rolling windows, calendar, exogenous)",
        description=(
            "Per (store, product) series and by date: a lag or window reads only sales dated before the "
            "row's date and before cutoff_date (default: the day after end_date), so features at a cutoff "
            "are identical whether or not later sales exist. Missing values are null."
        ),
        status_code=200,
        opt=raises(400, 404),
    )
    async def compute(self, ctx: Ctx, data: JSONBody[FeatureRequest]) -> FeatureSetResponse:
        return await compute_features(ctx, data, preview=False)

    @post(
        "/preview",
        summary="Preview features: the first sample_rows rows and null counts",
        status_code=200,
        opt=raises(400, 404),
    )
    async def preview(self, ctx: Ctx, data: JSONBody[FeatureRequest]) -> FeatureSetResponse:
        return await compute_features(ctx, data, preview=True)


def feature_spec(cfg: FeatureConfig) -> features.FeatureSpec:
    """The engine's spec; a bad one is the engine's FeatureSpecError (400 ``invalid_feature_config``)."""
    return features.FeatureSpec(
        lags=tuple(cfg.lags),
        windows=tuple(cfg.windows),
        window_stats=tuple(cfg.window_stats),
        min_periods=cfg.min_periods,
        calendar=cfg.calendar,
        exog=tuple(cfg.exog),
    )


async def compute_features(ctx: AppContext, req: FeatureRequest, *, preview: bool) -> FeatureSetResponse:
    dates.check_range(req.start_date, req.end_date, max_days=dates.HISTORY_MAX_DAYS, window=True)
    spec = feature_spec(req.config)
    cutoff = req.cutoff_date or dates.shift(req.end_date, 1)
    if cutoff <= req.start_date:
        raise RidgelineError(400, "invalid_cutoff", "cutoff_date must be after start_date")
    # Reach back far enough for the first day's lags and windows; nothing on or after the cutoff.
    lookback_start = dates.shift(req.start_date, -spec.max_lookback)
    load_end = min(req.end_date, dates.shift(cutoff, -1))
    frame, holidays = await store.load_history(
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
        (pl.col("series_id") // store.SERIES_FACTOR).alias("store_id"),
        (pl.col("series_id") % store.SERIES_FACTOR).alias("product_id"),
    ).drop("series_id")
    shown = shown.with_columns([pl.col(c).fill_nan(None) for c in shown.columns if shown[c].dtype.is_float()])
    products = sorted({store.split_key(int(k))[1] for k in out["series_id"].unique().to_list()})
    return FeatureSetResponse(
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
