"""Litestar controllers of the forecasting slices (registry so far)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ridgeline.platform import paging
from ridgeline.platform.context import Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset, Page
from ridgeline.retail.api import forecast_jobs as jobs
from ridgeline.retail.api import forecast_scenarios as sx
from ridgeline.retail.api import forecast_schemas as fs
from ridgeline.retail.api import forecast_service as svc
from ridgeline.retail.api import forecast_usecases as uc

PageSize = paging.page_size(100)
OptionalId = Annotated[int | None, QueryParameter(ge=paging.INT64_MIN, le=paging.INT64_MAX)]
SortBy = Annotated[
    str | None,
    QueryParameter(
        description="created_at, model_type, status, store_id or product_id; anything else falls back to created_at desc"
    ),
]
SortOrder = Annotated[str | None, QueryParameter(description="asc or desc (default desc)")]


class RegistryController(Controller):
    path = "/registry"
    tags = ["retail: registry"]

    @post("/runs", summary="Create a model run (pending)", status_code=201, opt=raises(400))
    async def create_run(self, ctx: Ctx, data: JSONBody[fs.ModelRunCreate]) -> fs.ModelRun:
        return await svc.create_run(ctx, data)

    @get(
        "/runs", summary="List model runs with filters, pagination and allow-listed sorting", opt=raises(400)
    )
    async def list_runs(
        self,
        ctx: Ctx,
        model_type: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        store_id: OptionalId = None,
        product_id: OptionalId = None,
        page: Page = 1,
        page_size: PageSize = 20,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
    ) -> fs.ModelRunList:
        return await svc.list_runs(
            ctx,
            model_type=model_type,
            status=status,
            store_id=store_id,
            product_id=product_id,
            page=page,
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    @get("/runs/{run_id:str}", summary="Run details with metrics and runtime info")
    async def get_run(self, ctx: Ctx, run_id: FromPath[str]) -> fs.ModelRun:
        return await svc.require_run(ctx, run_id)

    @patch(
        "/runs/{run_id:str}",
        summary="Update status, metrics, artifact URI/hash or error message",
        opt=raises(400),
    )
    async def update_run(
        self, ctx: Ctx, run_id: FromPath[str], data: JSONBody[fs.ModelRunUpdate]
    ) -> fs.ModelRun:
        return await svc.update_run(ctx, run_id, data)

    @get(
        "/runs/{run_id:str}/verify",
        summary="Recompute the artifact's SHA-256 and compare with the record",
        opt=raises(400, 409),
    )
    async def verify_run(self, ctx: Ctx, run_id: FromPath[str]) -> fs.VerifyResult:
        return await svc.verify_run(ctx, run_id)

    @post(
        "/aliases",
        summary="Create or move an alias (successful runs only)",
        status_code=200,
        opt=raises(400, 404),
    )
    async def upsert_alias(self, ctx: Ctx, data: JSONBody[fs.AliasCreate]) -> Response[fs.Alias]:
        alias, created = await svc.upsert_alias(ctx, data)
        return Response(alias, status_code=201 if created else 200)

    @get("/aliases", summary="List aliases")
    async def list_aliases(self, ctx: Ctx) -> fs.AliasList:
        return await svc.list_aliases(ctx)

    @get("/aliases/{alias_name:str}", summary="Get an alias")
    async def get_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> fs.Alias:
        alias = await svc.get_alias(ctx, alias_name)
        if alias is None:
            raise RidgelineError(404, "alias_not_found", f"alias {alias_name!r} not found")
        return alias

    @delete("/aliases/{alias_name:str}", summary="Delete an alias", status_code=204)
    async def delete_alias(self, ctx: Ctx, alias_name: FromPath[str]) -> None:
        if not await svc.delete_alias(ctx, alias_name):
            raise RidgelineError(404, "alias_not_found", f"alias {alias_name!r} not found")

    @get(
        "/compare/{run_id_a:str}/{run_id_b:str}",
        summary="Diff two runs (config and metrics)",
        opt=raises(400),
    )
    async def compare(self, ctx: Ctx, run_id_a: FromPath[str], run_id_b: FromPath[str]) -> fs.RunComparison:
        return await svc.compare_runs(ctx, run_id_a, run_id_b)


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
    async def compute(self, ctx: Ctx, data: JSONBody[fs.FeatureRequest]) -> fs.FeatureSetResponse:
        return await uc.compute_features(ctx, data, preview=False)

    @post(
        "/preview",
        summary="Preview features: the first sample_rows rows and null counts",
        status_code=200,
        opt=raises(400, 404),
    )
    async def preview(self, ctx: Ctx, data: JSONBody[fs.FeatureRequest]) -> fs.FeatureSetResponse:
        return await uc.compute_features(ctx, data, preview=True)


class ForecastingController(Controller):
    path = "/forecasting"
    tags = ["retail: forecasting"]

    @post(
        "/train",
        summary="Train a model and register it (artifact with SHA-256 in the registry)",
        status_code=201,
        opt=raises(400, 404),
    )
    async def train(self, ctx: Ctx, data: JSONBody[fs.TrainRequest]) -> fs.TrainResponse:
        return await uc.train(ctx, data)

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
    async def predict(self, ctx: Ctx, data: JSONBody[fs.PredictRequest]) -> fs.PredictResponse:
        return await uc.predict(ctx, data)


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
    async def run(self, ctx: Ctx, data: JSONBody[fs.BacktestRequest]) -> dict[str, Any]:
        return await uc.run_backtest(ctx, data)


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
    async def forecast(self, ctx: Ctx, data: JSONBody[fs.ExplainRequest]) -> dict[str, Any]:
        return await uc.explain_series(
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
        run = await svc.require_run(ctx, run_id)
        if run.model_type not in ("naive", "seasonal_naive", "moving_average"):
            raise RidgelineError(
                400,
                "model_not_explainable",
                f"run {run_id} is a {run.model_type} run; only baselines are explained",
            )
        if run.store_id is None or run.product_id is None or run.data_window_end is None:
            raise RidgelineError(400, "run_not_explainable", f"run {run_id} has no series or data window")
        cfg = run.model_config
        return await uc.explain_series(
            ctx,
            run.store_id,
            run.product_id,
            run.data_window_end,
            run.model_type,
            season_length=int(cfg.get("season_length", 7)),
            window=int(cfg.get("window", 7)),
        )


class JobsController(Controller):
    path = "/jobs"
    tags = ["retail: jobs"]

    @post(
        "/",
        summary="Submit a train, predict or backtest job (returns its job_id at once)",
        status_code=202,
        opt=raises(400, 404),
    )
    async def submit(self, ctx: Ctx, data: JSONBody[jobs.JobCreate]) -> jobs.JobOut:
        return await jobs.submit(ctx, data)

    @get("/", summary="List jobs with filters and allow-listed sorting", opt=raises(400))
    async def list_jobs(
        self,
        ctx: Ctx,
        job_type: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        sort_by: Annotated[
            str | None,
            QueryParameter(
                description="created_at, completed_at, job_type or status; anything else: created_at desc"
            ),
        ] = None,
        sort_order: SortOrder = None,
        limit: paging.limit(100) = 50,  # type: ignore[valid-type]
        offset: Offset = 0,
    ) -> jobs.JobList:
        return await jobs.listing(
            ctx,
            job_type=job_type,
            status=status,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            offset=offset,
        )

    @get("/{job_id:str}", summary="Job status and result")
    async def get_job(self, ctx: Ctx, job_id: FromPath[str]) -> jobs.JobOut:
        return jobs.job_out(await jobs.get(ctx, job_id))

    @delete("/{job_id:str}", summary="Cancel a pending (or running) job", status_code=200, opt=raises(400))
    async def cancel(self, ctx: Ctx, job_id: FromPath[str]) -> jobs.JobOut:
        return await jobs.cancel(ctx, job_id)


@get(
    "/explain/jobs/{job_id:str}",
    summary="Explain a completed predict job",
    tags=["retail: explainability"],
    opt=raises(400),
)
async def explain_job(ctx: Ctx, job_id: FromPath[str]) -> dict[str, Any]:
    """Store, product and model come from the job's result; cutoff = the day before the first forecast."""
    job = await jobs.get(ctx, job_id)
    if job.kind != "predict" or job.status != JobStatus.SUCCEEDED or not isinstance(job.result, dict):
        raise RidgelineError(
            400, "job_not_explainable", f"job {job_id} is not a completed predict job", job_id=job_id
        )
    res = job.result
    first = date.fromisoformat(res["forecasts"][0]["date"])
    run = await svc.get_run(ctx, res["run_id"])
    cfg = run.model_config if run else {}
    return await uc.explain_series(
        ctx,
        int(res["store_id"]),
        int(res["product_id"]),
        first - timedelta(days=1),
        res["model_type"],
        season_length=int(cfg.get("season_length", 7)),
        window=int(cfg.get("window", 7)),
    )


class ScenariosController(Controller):
    path = "/scenarios"
    tags = ["retail: scenarios"]

    @post(
        "/simulate",
        summary="Stateless what-if against a trained run",
        description=(
            "A regression baseline re-forecasts through a leakage-safe future feature frame "
            "(method model_exogenous); other baselines apply a deterministic multiplier (method heuristic)."
        ),
        status_code=200,
        opt=raises(400, 404),
    )
    async def simulate(self, ctx: Ctx, data: JSONBody[sx.SimulateRequest]) -> dict[str, Any]:
        return await sx.simulate(ctx, data.run_id, data.horizon, data.assumptions)

    @post("/", summary="Simulate and save a named scenario plan", status_code=201, opt=raises(400, 404))
    async def create(self, ctx: Ctx, data: JSONBody[sx.PlanCreate]) -> dict[str, Any]:
        return await sx.create_plan(ctx, data)

    @get("/", summary="Saved plans, newest first; repeated tags filter by containment")
    async def list_plans(
        self,
        ctx: Ctx,
        limit: paging.limit(100) = 20,  # type: ignore[valid-type]
        offset: Offset = 0,
        tags: Annotated[
            list[str] | None, QueryParameter(description="repeat to require several tags")
        ] = None,
    ) -> dict[str, Any]:
        return await sx.list_plans(ctx, limit=limit, offset=offset, tags=tags or [])

    @post(
        "/compare",
        summary="Rank 2-5 saved plans with merged chart series",
        status_code=200,
        opt=raises(400, 404),
    )
    async def compare(self, ctx: Ctx, data: JSONBody[sx.CompareRequest]) -> dict[str, Any]:
        return await sx.compare_plans(ctx, data)

    @get("/{scenario_id:str}", summary="A saved plan with its comparison snapshot")
    async def get_plan(self, ctx: Ctx, scenario_id: FromPath[str]) -> dict[str, Any]:
        return await sx.get_plan(ctx, scenario_id)

    @delete("/{scenario_id:str}", summary="Delete a saved plan", status_code=204)
    async def delete_plan(self, ctx: Ctx, scenario_id: FromPath[str]) -> None:
        await sx.delete_plan(ctx, scenario_id)


FORECAST_ROUTE_HANDLERS = [
    ScenariosController,
    explain_job,
    JobsController,
    FeaturesetsController,
    ForecastingController,
    BacktestingController,
    ExplainController,
    RegistryController,
]
