"""Job endpoints ``/api/sim/{job_id}/...``: every one takes a run's job id (the run id) or a
batch's job id (the batch id)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.params import PathParameter

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.sim.api import batches, evaluation, runs, schemas
from ridgeline.sim.api.service import SimService
from ridgeline.sim.api.versioning import deprecated

JobId = Annotated[str, PathParameter(description="Job id (the run id, or a batch id)")]


async def _batch_or_404(svc: SimService, job_id: str) -> schemas.Batch:
    batch = await batches.get_batch(svc, job_id)
    if batch is None:
        raise NotFound("job", job_id, job_id=job_id)
    return batch


@get(
    "/api/sim/{job_id:str}/status",
    summary="Job status",
    description="For a run's job (the run id) or a batch's job (the batch id).",
    tags=["sim"],
)
async def job_status(svc: Service[SimService], job_id: JobId) -> Response[schemas.JobStatusOut]:
    run = await runs.get_run(svc, job_id)
    if run is not None:
        job = await svc.ctx.jobs.get(run.job_id)
        out = schemas.JobStatusOut(
            job_id=run.job_id,
            run_id=run.run_id,
            batch_id=run.batch_id,
            status=run.status,
            progress=run.progress,
            created_at=run.created_at if job is None else min(run.created_at, job.created_at),
            queued_at=None if job is None else job.queued_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
        )
        return Response(out, headers=deprecated(f"/v1/runs/{job_id}"))
    batch = await _batch_or_404(svc, job_id)
    job = await svc.ctx.jobs.get_for("sim", batch.job_id)
    out = schemas.JobStatusOut(
        job_id=job.id,
        run_id=None,
        batch_id=batch.batch_id,
        kind="batch",
        status=batch.status,
        progress=batch.progress,
        created_at=min(batch.created_at, job.created_at),
        queued_at=job.queued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=batch.error,
    )
    return Response(out)


@get("/api/sim/{job_id:str}/metrics", summary="Metrics for job/run", tags=["sim"])
async def job_metrics(
    svc: Service[SimService], job_id: JobId
) -> Response[schemas.MetricsOut | schemas.BatchMetrics]:
    if await runs.get_run(svc, job_id) is not None:
        return Response(await runs.metrics(svc, job_id), headers=deprecated(f"/v1/runs/{job_id}/metrics"))
    batch = await _batch_or_404(svc, job_id)
    return Response(
        schemas.BatchMetrics(
            batch_id=batch.batch_id, job_id=batch.job_id, status=batch.status, profiles=batch.profiles
        )
    )


@get("/api/sim/{job_id:str}/report", summary="Full report for job/run", tags=["sim"])
async def job_report(svc: Service[SimService], job_id: JobId) -> schemas.Report | schemas.BatchReport:
    if await runs.get_run(svc, job_id) is not None:
        return await runs.report(svc, job_id)
    batch = await _batch_or_404(svc, job_id)
    ev = await evaluation.evaluate(svc, job_id) if batch.status == "SUCCEEDED" else None
    names = {p.profile for p in batch.profiles}
    return schemas.BatchReport(
        batch=batch, evaluation=ev, profiles=[p for p in svc.profiles if p["name"] in names]
    )


@post(
    "/api/sim/{job_id:str}/cancel",
    summary="Cancel a queued or running job",
    description="A run's job answers with the run; a batch's job with the batch (every member stops).",
    tags=["sim"],
    status_code=200,
    opt=raises(405, 409),
)
async def job_cancel(svc: Service[SimService], job_id: JobId) -> Response[schemas.Run | schemas.Batch]:
    if await runs.get_run(svc, job_id) is None and await batches.get_batch(svc, job_id) is not None:
        return Response(await batches.cancel_batch(svc, job_id))
    return Response(await runs.cancel_run(svc, job_id), headers=deprecated(f"/v1/runs/{job_id}/cancel"))


ROUTES = [job_status, job_metrics, job_report, job_cancel]
