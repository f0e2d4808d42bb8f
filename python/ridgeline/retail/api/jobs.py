"""``/jobs``: train, predict and backtest jobs on the platform job API, in the contract's words.

Statuses map from the platform's: CREATED/QUEUED -> ``pending``, RUNNING -> ``running``,
SUCCEEDED -> ``completed``, FAILED -> ``failed``, CANCELLED -> ``cancelled``. A job's ``params`` are
the body of the matching endpoint (``/forecasting/train``, ``/forecasting/predict``,
``/backtesting/run``); its ``result`` is that endpoint's response; a failed job's ``error`` carries
the ``reason_code`` of the engine error that stopped it (platform job record).

Progress: train and backtest jobs report ``progress`` (0..1, never decreasing) per step (a
backtest's (fold, model) fits; a training's fit, calibration refit and calibration forecasts), and
while running ``progress_detail`` names the step in progress. Both are in the platform's job record
(``report_progress(fraction, detail)``), so every serving process shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ridgeline.platform import paging
from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import Job, JobContext, JobStatus, job_view, with_options
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset, resolve_sort
from ridgeline.retail import isolation
from ridgeline.retail.api import backtesting, forecasting
from ridgeline.retail.api.schemas.forecasting import (
    BacktestRequest,
    JobCreate,
    JobList,
    JobOut,
    PredictRequest,
    TrainRequest,
)

SortOrder = Annotated[str | None, QueryParameter(description="asc or desc (default desc)")]


class JobsController(Controller):
    path = "/jobs"
    tags = ["retail: jobs"]

    @post(
        "/",
        summary="Submit a train, predict or backtest job (returns its job_id at once)",
        status_code=202,
        opt=raises(400, 404),
    )
    async def submit(self, ctx: Ctx, data: JSONBody[JobCreate]) -> JobOut:
        return await submit(ctx, data)

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
    ) -> JobList:
        return await listing(
            ctx,
            job_type=job_type,
            status=status,
            sort_by=sort_by,
            sort_order=sort_order,
            limit=limit,
            offset=offset,
        )

    @get("/{job_id:str}", summary="Job status and result")
    async def get_job(self, ctx: Ctx, job_id: FromPath[str]) -> JobOut:
        return job_out(await get(ctx, job_id))

    @delete("/{job_id:str}", summary="Cancel a pending (or running) job", status_code=200, opt=raises(400))
    async def cancel(self, ctx: Ctx, job_id: FromPath[str]) -> JobOut:
        return await cancel(ctx, job_id)


FAMILY = "retail"


STATUS_OUT = {
    JobStatus.CREATED: "pending",
    JobStatus.QUEUED: "pending",
    JobStatus.RUNNING: "running",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}


STATUS_IN = {
    "pending": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}


JOB_SORT = {"created_at": "created_at", "completed_at": "finished_at", "job_type": "kind", "status": "status"}


PARAM_TYPES: dict[str, type[msgspec.Struct]] = {
    "train": TrainRequest,
    "predict": PredictRequest,
    "backtest": BacktestRequest,
}


def job_out(job: Job) -> JobOut:
    view = job_view(job, STATUS_OUT)  # the platform's job in the contract's lowercase words
    return JobOut(
        job_id=view.id,
        job_type=view.kind,
        status=view.state,
        params=view.params,
        result=view.result,
        error=view.error,  # with the engine error's reason_code (platform job record)
        progress=view.progress,
        # The step in progress, from the job record (whichever process runs it); None once finished.
        progress_detail=view.progress_detail if view.state == "running" else None,
        created_at=view.created_at,
        started_at=view.started_at,
        completed_at=view.finished_at,
    )


def _parse(job_type: str, params: dict[str, Any]) -> msgspec.Struct:
    try:
        parsed = msgspec.convert(params, PARAM_TYPES[job_type])
    except msgspec.ValidationError as exc:
        raise RidgelineError(422, "invalid_request", f"Invalid {job_type} params: {exc}") from exc
    # Refuse bad hyperparameters at submission rather than as a failed job.
    if isinstance(parsed, TrainRequest):
        forecasting.check_hyperparameters(parsed.config)
    elif isinstance(parsed, BacktestRequest):
        for m in parsed.models:
            forecasting.check_hyperparameters(m)
    return parsed


async def submit(ctx: AppContext, body: JobCreate) -> JobOut:
    parsed = _parse(body.job_type, body.params)
    job = await ctx.jobs.submit(FAMILY, body.job_type, msgspec.to_builtins(parsed))
    return job_out(job)


async def get(ctx: AppContext, job_id: str) -> Job:
    return await ctx.jobs.get_for(FAMILY, job_id)


async def listing(
    ctx: AppContext,
    *,
    job_type: str | None,
    status: str | None,
    sort_by: str | None,
    sort_order: str | None,
    limit: int,
    offset: int,
) -> JobList:
    if status is not None and status not in STATUS_IN:
        raise RidgelineError(400, "invalid_status", f"status must be one of {', '.join(STATUS_IN)}")
    sort = resolve_sort(
        sort_by, sort_order, JOB_SORT, "created_at", default_descending=True, keep_order_on_fallback=False
    )
    jobs = await ctx.jobs.list(
        family=FAMILY,
        kind=job_type,
        status=STATUS_IN[status] if status else None,
        limit=limit,
        offset=offset,
        order_by=sort.target,
        descending=sort.descending,
    )
    return JobList(jobs=[job_out(j) for j in jobs], limit=limit, offset=offset)


async def cancel(ctx: AppContext, job_id: str) -> JobOut:
    job = await get(ctx, job_id)
    if job.status.terminal:
        raise RidgelineError(
            400, "job_not_cancellable", f"job {job_id} is already {STATUS_OUT[job.status]}", job_id=job_id
        )
    done = await ctx.jobs.cancel(job_id)
    assert done is not None
    return job_out(done)


def _reporter(jc: JobContext) -> Callable[[int, int, dict[str, Any]], None]:
    """An ``on_step`` for the engine: moves the job's progress (done / total, monotone: the platform
    ignores a smaller value) with the step's detail; checks for a cancel at every step."""

    def on_step(done: int, total: int, detail: dict[str, Any]) -> None:
        jc.report_progress(done / total if total else 1.0, {"done": done, "total": total, **detail})
        jc.check_cancelled()

    return on_step


async def _train_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, TrainRequest)
    jc.check_cancelled()
    res = await forecasting.train(
        jc.app,
        req,
        job_check=jc.check_cancelled,
        cancelled=lambda: jc.token.cancelled,
        on_step=_reporter(jc),
    )
    return msgspec.to_builtins(res)


async def _predict_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, PredictRequest)
    jc.check_cancelled()
    return msgspec.to_builtins(await forecasting.predict(jc.app, req))


async def _backtest_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, BacktestRequest)
    try:
        # The reporter's cancel check stops the backtest between (fold, model) fits.
        return await backtesting.run_backtest(
            jc.app, req, on_step=_reporter(jc), cancelled=lambda: jc.token.cancelled
        )
    except isolation.FitLimitExceeded:  # cancelled: the child process is already stopped
        jc.check_cancelled()
        raise


JOB_KINDS = {
    # not idempotent: each attempt registers a new model run (a re-run would leave two); fits are bounded
    "train": with_options(_train_job, timeout_s=3600),
    # idempotent: both read the history or a model and store nothing but the job's own result
    "predict": with_options(_predict_job, timeout_s=600, idempotent=True),
    "backtest": with_options(_backtest_job, timeout_s=2 * 3600, idempotent=True),
}
