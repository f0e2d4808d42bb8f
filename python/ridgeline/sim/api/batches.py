"""Batches: ``/api/sim/batch...``, one run per reality profile (``default`` always the baseline).

A batch is one platform job of kind ``sim/batch``; its member runs share the job. Each member runs
its profile closed loop (the same controller and reference as the baseline), and every gap compares
those rollouts with the baseline's (``ridgeline.sim.gaps``); progress counts one rollout per member
and never moves backwards.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import numpy as np
from litestar import Request, Response, get, post
from litestar.params import PathParameter

from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.jobs import Job, JobContext, JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.sim import gaps
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.runs import (
    advance,
    cancel_job,
    insert_run,
    json_floats,
    record_result,
    stopped_error,
)
from ridgeline.sim.api.service import BASELINE, Robot, SimService, new_id, now
from ridgeline.sim.api.validation import convert, strict_body
from ridgeline.sim.rollout import RolloutResult
from ridgeline.sim.runspec import RunSpec


def profiles_of(request: dict[str, Any]) -> list[str]:
    profiles = list(request["profiles"])
    return profiles if BASELINE in profiles else [BASELINE, *profiles]


def member_spec(body: schemas.BatchRequest, profile: str, floating_base: bool) -> RunSpec:
    raw: dict[str, Any] = {
        "profile": profile,
        "steps": body.steps,
        "dt": body.dt,
        "seed": body.seed,
        "episodes": body.dr_episodes_per_profile,
        "floating_base": floating_base,
        "initial_q": body.initial_q,
        "initial_v": body.initial_v,
    }
    if body.controller is not None:
        raw["controller"] = msgspec.to_builtins(body.controller)
    if body.reference is not None:
        raw["reference"] = msgspec.to_builtins(body.reference)
    return convert(raw, RunSpec)


async def preflight(svc: SimService, body: schemas.BatchRequest) -> tuple[Robot, bool, list[str]]:
    """Every check a batch request gets before anything is stored: (robot, floating base, profiles).
    The AI planner runs its emitted batch through this too."""
    await svc.check_project(body.project_id)
    for p in body.profiles:
        svc.check_profile(p)
    if len(set(body.profiles)) != len(body.profiles):
        raise RidgelineError(422, "invalid_request", "profiles must be distinct")
    robot = await svc.resolve_robot(body.urdf_path)
    fb = robot.floating_base if body.floating_base is None else body.floating_base
    # the baseline's rollout and a member's in memory at once
    svc.prepare(robot.urdf, member_spec(body, BASELINE, fb), copies=2)
    profiles = body.profiles if BASELINE in body.profiles else [BASELINE, *body.profiles]
    return robot, fb, profiles


async def create_batch(svc: SimService, body: schemas.BatchRequest) -> tuple[schemas.Batch, bool]:
    robot, fb, profiles = await preflight(svc, body)

    async def write_records(job: Job) -> None:  # before any worker (in any process) can start it
        await store.insert(
            svc.ctx.db,
            store.batches,
            {
                "id": job.id,
                "job_id": job.id,
                "request": msgspec.to_builtins(body),
                "report": None,
                "created_at": job.created_at,
            },
        )
        sha = sha256_hex(robot.urdf)
        for p in profiles:
            await insert_run(
                svc,
                run_id=new_id(),
                job=job,
                batch_id=job.id,
                project_id=body.project_id,
                api="batch",
                scenario=None,
                robot=robot.label,
                robot_sha256=sha,
                spec=member_spec(body, p, fb),
                webhook_url=None,
            )

    job = await svc.ctx.jobs.submit("sim", "batch", {"robot": robot.label}, prepare=write_records)
    should_wait = (not svc.queued_mode) if body.sync is None else body.sync
    if should_wait:
        await svc.ctx.jobs.wait(job.id)
    return await require_batch(svc, job.id), should_wait


async def members(svc: SimService, batch_id: str, request: dict[str, Any]) -> list[Any]:
    """The member runs, baseline first then in the order requested (they share one creation time)."""
    order = {p: i for i, p in enumerate(profiles_of(request))}
    rows = await store.batch_members(svc.ctx.db, batch_id)
    return sorted(rows, key=lambda r: order.get(r.profile, len(order)))


async def batch_job(jctx: JobContext) -> dict[str, Any]:
    svc = jctx.app.service(SimService)
    await svc.await_records(jctx.job_id)
    b = await store.batch(svc.ctx.db, jctx.job_id)
    rows = [] if b is None else await members(svc, jctx.job_id, b.request)
    if not rows:
        raise RuntimeError(f"batch record {jctx.job_id} incomplete")
    robot = await svc.resolve_robot(rows[0].robot)
    live = svc.begin_live(jctx.job_id, members={m.id: 0.0 for m in rows})
    total = len(rows)  # one closed-loop rollout per member
    per_episode: dict[str, dict[str, list[Any]]] = {}
    base: RolloutResult | None = None
    try:
        for i, m in enumerate(rows):
            spec = msgspec.convert(m.spec, RunSpec)

            def step(f: float, k: int = i, run_id: str = m.id) -> None:
                live.members[run_id] = max(live.members.get(run_id, 0.0), f)
                advance(jctx, live, (k + f) / total)

            result, wall_ms, model = await svc.rollout(
                jctx, live, robot.urdf, spec, on_progress=step, last=i == len(rows) - 1
            )
            await record_result(svc, m.id, result, wall_ms, model, spec, robot.urdf)
            if result.cancelled:
                raise stopped_error(jctx, live, result)
            if spec.profile == BASELINE:
                base = result
            assert base is not None and base.q is not None  # baseline first
            assert result.q is not None and result.observations is not None
            # every gap compares the closed-loop rollouts: same controller and reference, each profile
            rmse_p = np.asarray(result.metrics["tracking_rmse"], dtype=np.float64)
            rmse_b = np.asarray(base.metrics["tracking_rmse"], dtype=np.float64)
            deviation = (
                gaps.base_deviation_per_episode(result.q, base.q)
                if spec.floating_base
                else np.zeros_like(rmse_p)
            )
            per_episode[spec.profile] = {
                "g_dyn": json_floats(gaps.dyn_per_episode(result.q, base.q)),
                "g_perc": json_floats(gaps.perc_per_episode(result.observations, result.q)),
                "rmse_profile": json_floats(rmse_p),
                "rmse_base": json_floats(rmse_b),
                "base_deviation": json_floats(deviation),
                "cost_profile": json_floats(rmse_p + deviation),
                "cost_base": json_floats(rmse_b),
            }
        await store.finish_batch(svc.ctx.db, jctx.job_id, {"per_episode": per_episode}, now())
    finally:
        svc.end_live(jctx.job_id)
    return {"batch_id": jctx.job_id, "profiles": list(per_episode)}


async def get_batch(svc: SimService, batch_id: str) -> schemas.Batch | None:
    b = await store.batch(svc.ctx.db, batch_id)
    if b is None:
        return None
    job = (await svc.ctx.jobs.get_many([b.job_id])).get(b.job_id)
    rows = await members(svc, batch_id, b.request)
    profiles = [
        schemas.BatchProfile(
            profile=m.profile,
            run_id=m.id,
            is_baseline=m.profile == BASELINE,
            metrics=m.metrics or {},
            episodes=m.episode_metrics or [],
        )
        for m in rows
    ]
    status = job.status if job else JobStatus.FAILED
    live = svc.progress_of(b.job_id)
    if status == JobStatus.SUCCEEDED:
        progress = 1.0
    else:  # members that recorded a whole rollout
        done = sum(1 for m in rows if m.steps_completed is not None and not m.cancelled)
        progress = max(done / max(len(rows), 1), 0.0 if live is None else live.progress)
    return schemas.Batch(
        batch_id=b.id,
        job_id=b.job_id,
        status=status.value,
        request=b.request,
        baseline=BASELINE,
        baseline_added=BASELINE not in b.request["profiles"],
        profiles=profiles,
        progress=progress,
        created_at=b.created_at,
        finished_at=b.finished_at,
        error=job.error if job and job.status in (JobStatus.FAILED, JobStatus.CANCELLED) else None,
    )


async def require_batch(svc: SimService, batch_id: str) -> schemas.Batch:
    b = await get_batch(svc, batch_id)
    if b is None:
        raise NotFound("batch", batch_id, batch_id=batch_id)
    return b


async def cancel_batch(svc: SimService, batch_id: str) -> schemas.Batch:
    batch = await require_batch(svc, batch_id)
    if JobStatus(batch.status).terminal or not await cancel_job(svc, batch.job_id):
        raise RidgelineError(
            409,
            "batch_finished",
            f"batch {batch_id!r} already finished with status {batch.status}"
            if JobStatus(batch.status).terminal
            else f"batch {batch_id!r} completed every rollout; it is recording its results",
            batch_id=batch_id,
        )
    return await require_batch(svc, batch_id)


@post(
    "/api/sim/batch",
    summary="Run sim across N reality profiles",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def batch_create(
    request: Request[Any, Any, Any], svc: Service[SimService], data: Annotated[schemas.BatchRequest, JSONBody]
) -> Response[schemas.Batch]:
    batch, waited = await create_batch(svc, await strict_body(request, schemas.BatchRequest))
    return Response(batch, status_code=200 if waited else 202)


@get("/api/sim/batch/{batch_id:str}", summary="Retrieve batch report", tags=["sim"])
async def batch_get(
    svc: Service[SimService], batch_id: Annotated[str, PathParameter(description="Batch id")]
) -> schemas.Batch:
    return await require_batch(svc, batch_id)


ROUTES = [batch_create, batch_get]
