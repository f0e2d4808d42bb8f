"""Retail jobs (train, predict, backtest) on the platform job API, and their HTTP view.

Statuses map from the platform's: CREATED/QUEUED -> ``pending``, RUNNING -> ``running``,
SUCCEEDED -> ``completed``, FAILED -> ``failed``, CANCELLED -> ``cancelled``. A job's ``params`` are
the body of the matching endpoint (``/forecasting/train``, ``/forecasting/predict``,
``/backtesting/run``); its ``result`` is that endpoint's response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.jobs import Job, JobContext, JobStatus, job_view
from ridgeline.platform.paging import resolve_sort
from ridgeline.retail import isolation
from ridgeline.retail.api import forecast_schemas as fs
from ridgeline.retail.api import forecast_usecases as uc

JobType = Literal["train", "predict", "backtest"]
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
    "train": fs.TrainRequest,
    "predict": fs.PredictRequest,
    "backtest": fs.BacktestRequest,
}


class JobCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    job_type: JobType
    params: dict[str, Any]


class JobOut(msgspec.Struct, kw_only=True):
    job_id: str
    job_type: str
    status: str
    params: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    progress: float = 0.0
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class JobList(msgspec.Struct, kw_only=True):
    jobs: list[JobOut]
    limit: int
    offset: int


def _job_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    """The job's error with the retail reason code of a limit hit (``memory_limit_exceeded`` ...),
    which the platform record keeps only as the message prefix."""
    if not error or "reason_code" in error:
        return error
    code = str(error.get("message", "")).split(":", 1)[0]
    if code in uc.LIMIT_CODES or code in ("cancelled",):
        return {**error, "reason_code": code}
    return error


def job_out(job: Job) -> JobOut:
    view = job_view(job, STATUS_OUT)  # the platform's job in the contract's lowercase words
    return JobOut(
        job_id=view.id,
        job_type=view.kind,
        status=view.state,
        params=view.params,
        result=view.result,
        error=_job_error(view.error),
        progress=view.progress,
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
    if isinstance(parsed, fs.TrainRequest):
        uc.check_hyperparameters(parsed.config)
    elif isinstance(parsed, fs.BacktestRequest):
        for m in parsed.models:
            uc.check_hyperparameters(m)
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


async def _train_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, fs.TrainRequest)
    jc.check_cancelled()
    res = await uc.train(jc.app, req, job_check=jc.check_cancelled, cancelled=lambda: jc.token.cancelled)
    return msgspec.to_builtins(res)


async def _predict_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, fs.PredictRequest)
    jc.check_cancelled()
    res = await uc.predict(jc.app, req)
    out = msgspec.to_builtins(res)
    return out


async def _backtest_job(jc: JobContext) -> Any:
    req = msgspec.convert(jc.params, fs.BacktestRequest)

    def progress(done: int, total: int) -> None:
        jc.report_progress(done / total)
        jc.check_cancelled()  # stops the backtest between folds

    try:
        return await uc.run_backtest(jc.app, req, on_fold=progress, cancelled=lambda: jc.token.cancelled)
    except isolation.FitLimitExceeded:  # cancelled: the child process is already stopped
        jc.check_cancelled()
        raise


JOB_KINDS = {"train": _train_job, "predict": _predict_job, "backtest": _backtest_job}
