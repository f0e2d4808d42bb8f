"""Runs: ``/v1/runs...`` (stable), ``/api/runs`` and the run endpoints under ``/api/sim/`` (QERS).

A run is a platform job of kind ``sim/run`` (its id is the job id); its status and live progress
come from the job service, its spec, metrics and replay from ``sim_runs``. Means are over the
episodes that started: an episode a cancel stopped before its first step is counted as not run.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from typing import Annotated, Any

import msgspec
import numpy as np
from litestar import Request, Response, get, post, route
from litestar.params import Parameter, PathParameter

from ridgeline.platform.artifacts import Artifact
from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.downloads import artifact_response
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.jobs import SHUTDOWN, Job, JobCancelled, JobContext, JobStatus
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import INT64_MAX, Offset
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.sim import replay as replay_format
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.errors import REASON_CODES
from ridgeline.sim.api.service import (
    PARAMS_NS,
    REPLAY_NS,
    Live,
    SimService,
    now,
)
from ridgeline.sim.api.validation import convert, strict_body
from ridgeline.sim.api.versioning import deprecated, v1_headers
from ridgeline.sim.api.webhooks import deliveries, notify_when_done, webhook_row
from ridgeline.sim.examples import SCENARIOS
from ridgeline.sim.model import Model
from ridgeline.sim.rollout import RolloutResult
from ridgeline.sim.runspec import RunSpec

STATUSES = tuple(s.value for s in JobStatus)


# ---------------------------------------------------------------- metrics of a rollout


def json_floats(values: Any) -> Any:
    """numpy arrays/scalars -> JSON-safe Python (NaN and inf -> None)."""
    arr = np.asarray(values)
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return arr.tolist()
    out = np.where(np.isfinite(arr), arr, np.nan).astype(np.float64).tolist()

    def clean(x: Any) -> Any:
        if isinstance(x, list):
            return [clean(y) for y in x]
        return None if x != x else x

    return clean(out)


def started_mask(result: RolloutResult) -> np.ndarray:
    """Episodes that ran: the engine's ``started`` flag when it gives one, else derived from the
    steps recorded per episode (at least one step, or diverged at once): a never-started episode
    otherwise looks like a finished one with zero errors."""
    flag = getattr(result, "started", None)
    if flag is not None:
        return np.asarray(flag, dtype=bool)
    return (np.asarray(result.steps_completed) > 0) | np.asarray(result.metrics["diverged"], dtype=bool)


def summarize(result: RolloutResult, wall_time_ms: float) -> dict[str, Any]:
    """Means over the episodes that started (diverged ones count in the rates, not in error means);
    non-finite values become null so JSON stays valid."""
    m = result.metrics
    started = started_mask(result)
    ok = started & ~np.asarray(m["diverged"], dtype=bool)

    def mean(key: str, mask: np.ndarray) -> float | None:
        if not mask.any():
            return None
        x = float(np.mean(np.asarray(m[key])[mask]))
        return x if np.isfinite(x) else None

    return {
        "avg_step_time_ms": None if (t := mean("time_per_step", started)) is None else t * 1e3,
        "tracking_rmse": mean("tracking_rmse", ok),
        "max_tracking_error": mean("max_tracking_error", ok),
        "energy": mean("energy", started),
        "success_rate": mean("success", started) or 0.0,
        "divergence_rate": mean("diverged", started) or 0.0,
        "episodes": int(started.sum()),
        "episodes_not_run": int((~started).sum()),
        "mean_slip_speed": mean("mean_slip_speed", started),
        "base_distance": mean("base_distance", ok),
        "wall_time_ms": wall_time_ms,
    }


def episode_table(result: RolloutResult) -> list[dict[str, Any]]:
    started = started_mask(result)
    rows = []
    for e in range(result.episodes):
        row: dict[str, Any] = {
            "episode": e,
            "steps_completed": int(result.steps_completed[e]),
            "started": bool(started[e]),
        }
        for k, v in result.metrics.items():
            x = v[e]
            row[k] = bool(x) if isinstance(x, np.bool_ | bool) else json_floats(x)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- reading runs


INTERRUPTED = "run_interrupted"


def interrupted(job: Job | None) -> bool:
    """The job ended because the process running it stopped (not a user cancel)."""
    return job is not None and (job.error or {}).get("reason_code") == INTERRUPTED


def run_progress(row: Any, job: Job | None, live: Live | None) -> float:
    """0..1, only moving forward: live while running, then the larger of what was last seen and
    what the recorded steps say."""
    if job is not None and job.status == JobStatus.SUCCEEDED:
        return 1.0
    p = 0.0
    if row.steps_completed is not None:
        if not row.cancelled:  # the rollout ran to its end (an interrupted one is `cancelled` here)
            p = 1.0
        else:
            total = int(row.spec.get("steps", 0)) * int(row.spec.get("episodes", 1)) or 1
            p = min(1.0, sum(int(x) for x in row.steps_completed) / total)
    if live is not None:  # a batch's job progresses over every member: a member shows its own
        p = max(p, live.members.get(row.id, 0.0) if row.batch_id is not None else live.progress)
    elif row.batch_id is None and job is not None:
        p = max(p, float(job.progress))
    return p


def run_from_row(svc: SimService, r: Any, job: Job | None) -> schemas.Run:
    status = job.status.value if job is not None else JobStatus.FAILED.value
    replay = None
    if r.replay_sha256 is not None:
        replay = schemas.ReplayInfo(
            format=replay_format.FORMAT,
            media_type=replay_format.MEDIA_TYPE,
            sha256=r.replay_sha256,
            size=int(r.replay_size),
            url=f"/v1/runs/{r.id}/replay",
        )
    return schemas.Run(
        run_id=r.id,
        job_id=r.job_id,
        status=status,
        api=r.api,
        scenario=r.scenario,
        robot=r.robot,
        robot_sha256=r.robot_sha256,
        profile=r.profile,
        project_id=r.project_id,
        batch_id=r.batch_id,
        config=msgspec.convert(r.spec, RunSpec),
        progress=run_progress(r, job, svc.progress_of(r.job_id)),
        steps_completed=r.steps_completed,
        # the row's flag is the engine's "stopped early"; a stop by shutdown is not a cancel
        cancelled=bool(r.cancelled) and not interrupted(job),
        interrupted=interrupted(job),
        metrics=None if r.metrics is None else msgspec.convert(r.metrics, schemas.RunMetrics),
        error=job.error if job is not None and status in ("FAILED", "CANCELLED") else None,
        replay=replay,
        webhook_url=r.webhook_url,
        created_at=r.created_at,
        started_at=None if job is None else job.started_at,
        finished_at=r.finished_at or (None if job is None else job.finished_at),
    )


async def _fresh(svc: SimService, row: Any, job: Any) -> Any:
    """The row again when its job ended after the row was read: a run's results are stored before
    its job is marked ended, so the job's terminal state must not be shown beside a row read before
    them (a SUCCEEDED run without metrics)."""
    if job is not None and job.status.terminal and row.finished_at is None:
        return await store.run(svc.ctx.db, row.id) or row
    return row


async def get_run(svc: SimService, run_id: str) -> schemas.Run | None:
    row = await store.run(svc.ctx.db, run_id)
    if row is None:
        return None
    job = (await svc.ctx.jobs.get_many([row.job_id])).get(row.job_id)
    return run_from_row(svc, await _fresh(svc, row, job), job)


async def require_run(svc: SimService, run_id: str) -> schemas.Run:
    run = await get_run(svc, run_id)
    if run is None:
        raise NotFound("run", run_id, run_id=run_id)
    return run


async def list_runs(
    svc: SimService, *, limit: int, offset: int = 0, status: str | None = None, scenario: str | None = None
) -> list[schemas.Run]:
    job_ids = None if status is None else svc.ctx.jobs.ids_where(family="sim", status=status)
    rows = await store.list_runs(svc.ctx.db, limit=limit, offset=offset, job_ids=job_ids, scenario=scenario)
    jobs = await svc.ctx.jobs.get_many(r.job_id for r in rows)
    return [run_from_row(svc, await _fresh(svc, r, jobs.get(r.job_id)), jobs.get(r.job_id)) for r in rows]


def status_filter(status: str | None) -> str | None:
    if status is None:
        return None
    up = status.upper()
    if up not in STATUSES:
        raise RidgelineError(422, "invalid_request", f"status must be one of {', '.join(STATUSES)}")
    return up


# ---------------------------------------------------------------- creating, executing, cancelling


async def insert_run(
    svc: SimService,
    *,
    run_id: str,
    job: Job,
    batch_id: str | None,
    project_id: str | None,
    api: str,
    scenario: str | None,
    robot: str,
    robot_sha256: str,
    spec: RunSpec,
    webhook_url: str | None,
) -> None:
    await store.insert(
        svc.ctx.db,
        store.runs,
        {
            "id": run_id,
            "job_id": job.id,
            "batch_id": batch_id,
            "project_id": project_id,
            "api": api,
            "scenario": scenario,
            "robot": robot,
            "robot_sha256": robot_sha256,
            "profile": spec.profile,
            "spec": msgspec.to_builtins(spec),
            "cancelled": False,
            "webhook_url": webhook_url,
            # the job's own creation time, so queued_at (set by the job service) is never before it
            "created_at": job.created_at,
        },
    )


async def create_run(
    svc: SimService,
    *,
    robot: str,
    spec: RunSpec,
    floating_base: bool | None,
    api: str,
    scenario: str | None,
    project_id: str | None,
    webhook_url: str | None,
    webhook_secret: str | None,
    wait: bool | None,
) -> tuple[schemas.Run, str | None, bool]:
    """Create and start a run; returns (run, generated webhook secret, waited). ``floating_base``
    None = as the robot's asset was imported."""
    await svc.check_project(project_id)
    resolved = await svc.resolve_robot(robot)
    fb = resolved.floating_base if floating_base is None else floating_base
    spec = msgspec.structs.replace(spec, floating_base=fb)
    svc.prepare(resolved.urdf, spec)
    generated = None
    if webhook_url is not None and webhook_secret is None:
        webhook_secret = generated = secrets.token_hex(32)

    async def write_records(job: Job) -> None:  # before any worker (in any process) can start it
        await insert_run(
            svc,
            run_id=job.id,
            job=job,
            batch_id=None,
            project_id=project_id,
            api=api,
            scenario=scenario,
            robot=resolved.label,
            robot_sha256=sha256_hex(resolved.urdf),
            spec=spec,
            webhook_url=webhook_url,
        )
        if hook is not None:  # persisted with the run: sent even if this process stops first
            await store.insert(svc.ctx.db, store.webhooks, {**hook, "run_id": job.id})

    hook = None
    if webhook_url is not None:
        assert webhook_secret is not None
        hook = webhook_row(svc, "", webhook_url, webhook_secret)
    job = await svc.ctx.jobs.submit("sim", "run", {"robot": resolved.label}, prepare=write_records)
    if hook is not None:
        assert webhook_url is not None and webhook_secret is not None
        svc.spawn(notify_when_done(svc, hook["id"], job.id, webhook_url, webhook_secret, get_run))
    should_wait = (not svc.queued_mode) if wait is None else wait
    if should_wait:
        await svc.ctx.jobs.wait(job.id)
    return await require_run(svc, job.id), generated, should_wait


def advance(jctx: JobContext, live: Live, fraction: float) -> None:
    """Report progress that never moves backwards."""
    live.progress = max(live.progress, min(max(fraction, 0.0), 1.0))
    jctx.report_progress(live.progress)


async def record_result(
    svc: SimService,
    run_id: str,
    result: RolloutResult,
    wall_ms: float,
    model: Model,
    spec: RunSpec,
    urdf: str,
) -> None:
    """Store the run's metrics and replay bundle. A stopped run (cancelled or interrupted) gets its
    metrics now and its bundle from a task started here: its terminal state is written first, so a
    cancel never waits for the compression (the replay answers 409 replay_not_ready meanwhile)."""
    arts = svc.ctx.artifacts
    params = {k: json_floats(v) for k, v in result.params.items()}
    await arts.put(PARAMS_NS, run_id, "params.json", msgspec.json.encode(params), "application/json")
    sha = size = None
    if result.q is not None and not result.cancelled:
        sha, size = await store_replay(svc, run_id, result, model, spec, urdf)
    elif result.q is not None:
        task = asyncio.get_running_loop().create_task(
            write_replay_later(svc, run_id, result, model, spec, urdf)
        )
        svc.replay_tasks[run_id] = task
        task.add_done_callback(lambda _t: svc.replay_tasks.pop(run_id, None))
    await store.record_result(
        svc.ctx.db,
        run_id,
        {
            "metrics": summarize(result, wall_ms),
            "episode_metrics": episode_table(result),
            "steps_completed": [int(x) for x in result.steps_completed],
            "cancelled": result.cancelled,
            "replay_sha256": sha,
            "replay_size": size,
            "finished_at": now(),
        },
    )


async def store_replay(
    svc: SimService, run_id: str, result: RolloutResult, model: Model, spec: RunSpec, urdf: str
) -> tuple[str, int]:
    bundle = await asyncio.to_thread(replay_format.encode, result, model, spec, urdf)
    art = await svc.ctx.artifacts.put(REPLAY_NS, run_id, "replay.npz", bundle, replay_format.MEDIA_TYPE)
    return art.sha256, art.size


async def write_replay_later(
    svc: SimService, run_id: str, result: RolloutResult, model: Model, spec: RunSpec, urdf: str
) -> None:
    sha, size = await store_replay(svc, run_id, result, model, spec, urdf)
    await store.record_result(svc.ctx.db, run_id, {"replay_sha256": sha, "replay_size": size})


def stopped_error(jctx: JobContext, live: Live, result: RolloutResult) -> Exception:
    """Why a rollout stopped early: the process stopping (``run_interrupted``, FAILED) unless a user
    cancelled it (JobCancelled, CANCELLED). Both the sim's shutdown hook and the job service's own
    shutdown (its token's SHUTDOWN reason, e.g. in ``ridgeline worker``) count as interruptions."""
    by_shutdown = jctx.token.cancelled and jctx.token.reason == SHUTDOWN
    if live.cancel_requested or not (live.interrupted or by_shutdown):
        return JobCancelled(jctx.job_id)
    done = int(np.sum(result.steps_completed))
    return EngineError(
        503,
        INTERRUPTED,
        f"interrupted by shutdown: the process running this job stopped after {done} steps; "
        "its partial metrics (and replay, if recorded) are kept",
    )


async def run_job(jctx: JobContext) -> dict[str, Any]:
    svc = jctx.app.service(SimService)
    await svc.await_records(jctx.job_id)
    row = await store.run(svc.ctx.db, jctx.job_id)
    if row is None:
        raise RuntimeError(f"run record {jctx.job_id} missing")
    spec = msgspec.convert(row.spec, RunSpec)
    robot = await svc.resolve_robot(row.robot)
    live = svc.begin_live(jctx.job_id)
    try:
        result, wall_ms, model = await svc.rollout(
            jctx, live, robot.urdf, spec, on_progress=lambda f: advance(jctx, live, f)
        )
        await record_result(svc, row.id, result, wall_ms, model, spec, robot.urdf)
    finally:
        svc.end_live(jctx.job_id)
    if result.cancelled:
        raise stopped_error(jctx, live, result)
    return {"run_id": row.id, "metrics": summarize(result, wall_ms)}


async def cancel_job(svc: SimService, job_id: str) -> bool:
    """Cancel a run's or a batch's job: a pending one through the job service, a running one by
    stopping its rollout. False when every step already completed: the job is finishing (recording
    its replay) and will succeed, so it is not cancelled."""
    stopped = svc.cancel_live(job_id)
    if stopped is None:  # not running here (queued, or held by another process)
        job = await svc.ctx.jobs.cancel(job_id)
        # the work had completed: it kept its outcome (a cancel never relabels a finished run)
        return job is None or job.status != JobStatus.SUCCEEDED
    if stopped:
        await svc.ctx.jobs.wait(job_id, limit_s=30)
    return stopped is not False


async def cancel_run(svc: SimService, run_id: str) -> schemas.Run:
    run = await require_run(svc, run_id)
    if run.batch_id is not None:
        raise REASON_CODES.error("batch_member", run_id=run_id, batch_id=run.batch_id)
    if JobStatus(run.status).terminal or not await cancel_job(svc, run.job_id):
        raise RidgelineError(
            409,
            "run_finished",
            f"run {run_id!r} already finished with status {run.status}"
            if JobStatus(run.status).terminal
            else f"run {run_id!r} completed every step; it is recording its results and will succeed",
            run_id=run_id,
        )
    return await require_run(svc, run_id)


# ---------------------------------------------------------------- replays, metrics, reports


async def replay_artifact(svc: SimService, run_id: str) -> tuple[schemas.Run, Artifact]:
    """The run and its stored replay bundle (409 while it has none)."""
    run = await require_run(svc, run_id)
    art = await svc.ctx.artifacts.get(REPLAY_NS, run_id, "replay.npz")
    if art is None and not run.config.record:
        raise RidgelineError(
            409,
            "replay_not_recorded",
            f"run {run_id!r} ran with record=false: it has metrics but no replay",
            run_id=run_id,
        )
    if art is None:
        raise RidgelineError(
            409,
            "replay_not_ready",
            f"run {run_id!r} has no replay bundle (status {run.status})",
            run_status=run.status,
        )
    return run, art


async def replay(svc: SimService, run_id: str) -> tuple[schemas.Run, replay_format.Replay]:
    run, art = await replay_artifact(svc, run_id)
    rp = svc.replays.get(art.sha256)
    if rp is None:
        data = await asyncio.to_thread(svc.ctx.artifacts.read_verified, art)
        rp = await asyncio.to_thread(replay_format.decode, data)
        svc.replays[art.sha256] = rp
        while len(svc.replays) > 16:
            svc.replays.popitem(last=False)
    return run, rp


async def parameters(svc: SimService, run: schemas.Run) -> dict[str, Any] | None:
    """The reality parameters each episode sampled, without decoding the replay's trajectories."""
    arts = svc.ctx.artifacts
    art = await arts.get(PARAMS_NS, run.run_id, "params.json")
    if art is not None:
        return msgspec.json.decode(await asyncio.to_thread(arts.read_verified, art))
    if run.replay is None:
        return None
    _, bundle = await replay_artifact(svc, run.run_id)  # runs recorded before params.json existed
    data = await asyncio.to_thread(arts.read_verified, bundle)

    def params_only() -> dict[str, Any]:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:  # lazy: only param_* entries inflate
            return {k[len("param_") :]: json_floats(z[k]) for k in z.files if k.startswith("param_")}

    return await asyncio.to_thread(params_only)


async def metrics(svc: SimService, run_id: str) -> schemas.MetricsOut:
    run = await require_run(svc, run_id)
    row = await store.run(svc.ctx.db, run_id)
    return schemas.MetricsOut(
        run_id=run.run_id,
        status=run.status,
        profile=run.profile,
        metrics=run.metrics,
        episodes=row.episode_metrics,
    )


async def report(svc: SimService, run_id: str) -> schemas.Report:
    run = await require_run(svc, run_id)
    row = await store.run(svc.ctx.db, run_id)
    return schemas.Report(
        run=run,
        episodes=row.episode_metrics,
        parameters=await parameters(svc, run),
        profile=next((p for p in svc.profiles if p["name"] == run.profile), None),
        webhook_deliveries=await deliveries(svc, run_id),
    )


# ---------------------------------------------------------------- /v1/runs


@post(
    "/v1/runs",
    summary="Create run (scenario, config, options) -> run_id",
    tags=["sim v1"],
    status_code=201,
    opt=raises(404),
)
async def v1_create_run(
    request: Request[Any, Any, Any], svc: Service[SimService], data: Annotated[schemas.V1RunCreate, JSONBody]
) -> Response[schemas.RunCreated]:
    data = await strict_body(request, schemas.V1RunCreate)
    base: dict[str, Any] = {}
    robot = "examples/simple_robot.urdf"
    if data.scenario is not None:
        sc = SCENARIOS.get(data.scenario)
        if sc is None:
            raise NotFound(
                "scenario",
                data.scenario,
                message=f"scenario {data.scenario!r} not found (GET /v1/scenarios)",
                scenario=data.scenario,
            )
        base, robot = msgspec.to_builtins(sc.spec), sc.robot
    config = msgspec.to_builtins(data.config)  # UNSET fields are left out
    robot = str(config.pop("robot", robot))
    floating_base = config.pop("floating_base", None)
    spec = convert({**base, **config}, RunSpec, prefix="config")
    o = data.options
    run, secret, waited = await create_run(
        svc,
        robot=robot,
        spec=spec,
        floating_base=floating_base,
        api="v1",
        scenario=data.scenario,
        project_id=o.project_id,
        webhook_url=o.webhook_url,
        webhook_secret=o.webhook_secret,
        wait=o.wait,
    )
    body = schemas.RunCreated(
        run_id=run.run_id, job_id=run.job_id, status=run.status, run=run, webhook_secret=secret
    )
    headers = {**v1_headers(), "Location": f"/v1/runs/{run.run_id}"}
    return Response(body, status_code=201 if waited else 202, headers=headers)


@get("/v1/runs", summary="List runs (limit, status, scenario)", tags=["sim v1"])
async def v1_list_runs(
    svc: Service[SimService],
    limit: Annotated[int, Parameter(ge=1, le=1000, description="At most this many, newest first")] = 50,
    status: Annotated[
        str | None, Parameter(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED")
    ] = None,
    scenario: Annotated[str | None, Parameter(description="Scenario name")] = None,
) -> Response[schemas.RunList]:
    runs = await list_runs(svc, limit=limit, status=status_filter(status), scenario=scenario)
    return Response(schemas.RunList(runs=runs, count=len(runs)), headers=v1_headers())


@get("/v1/runs/{run_id:str}", summary="Run detail (metadata, config summary, metrics)", tags=["sim v1"])
async def v1_run(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[schemas.Run]:
    return Response(await require_run(svc, run_id), headers=v1_headers())


@get("/v1/runs/{run_id:str}/metrics", summary="Metrics for run", tags=["sim v1"])
async def v1_metrics(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[schemas.MetricsOut]:
    return Response(await metrics(svc, run_id), headers=v1_headers())


@route(
    "/v1/runs/{run_id:str}/replay",
    http_method=["GET", "HEAD"],
    summary="Replay bundle (for re-run or analysis)",
    description=f"`{replay_format.FORMAT}`: a NumPy .npz archive (`numpy.load`), media type "
    f"{replay_format.MEDIA_TYPE}; entries are listed in docs/sim.md. 409 while the run has no bundle yet, "
    "409 `artifact_integrity` when the stored file no longer matches its SHA-256; ETag / If-None-Match (304) "
    "and HEAD supported.",
    tags=["sim v1"],
    media_type=replay_format.MEDIA_TYPE,
    opt=raises(409),
)
async def v1_replay(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    svc: Service[SimService],
    run_id: Annotated[str, PathParameter(description="Run id")],
) -> Response[bytes]:
    _run, art = await replay_artifact(svc, run_id)
    return await artifact_response(
        request,
        ctx.artifacts,
        art,
        filename=f"replay-{run_id}.npz",
        media_type=replay_format.MEDIA_TYPE,
        headers={**v1_headers(), "X-Replay-Format": replay_format.FORMAT},
    )


@post(
    "/v1/runs/{run_id:str}/cancel",
    summary="Cancel running job",
    tags=["sim v1"],
    status_code=200,
    opt=raises(409),
)
async def v1_cancel(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[schemas.Run]:
    return Response(await cancel_run(svc, run_id), headers=v1_headers())


# ---------------------------------------------------------------- /api/runs, /api/sim/ (QERS)


@get("/api/runs", summary="List sim runs (unified for dashboard)", tags=["sim"])
async def api_runs(
    svc: Service[SimService],
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    offset: Offset = 0,
    status: Annotated[str | None, Parameter(description="Filter by status")] = None,
) -> Response[schemas.RunList]:
    runs = await list_runs(svc, limit=limit, offset=offset, status=status_filter(status))
    return Response(schemas.RunList(runs=runs, count=len(runs)), headers=deprecated("/v1/runs"))


@post(
    "/api/sim/run",
    summary="Start sim run (sync if no Redis; else returns job_id queued)",
    description="Synchronous by default (200 with the finished run); with a Redis queue configured, or "
    "`sync: false`, answers 202 with the queued job id. The run id is the job id.",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def api_run(
    request: Request[Any, Any, Any],
    svc: Service[SimService],
    data: Annotated[schemas.SimRunRequest, JSONBody],
) -> Response[schemas.RunCreated]:
    data = await strict_body(request, schemas.SimRunRequest)
    fields = {f.name for f in msgspec.structs.fields(RunSpec)} - {"floating_base"}
    spec = RunSpec(**{k: v for k, v in msgspec.structs.asdict(data).items() if k in fields})
    run, secret, waited = await create_run(
        svc,
        robot=data.urdf_path,
        spec=spec,
        floating_base=data.floating_base,
        api="api",
        scenario=data.scenario,
        project_id=data.project_id,
        webhook_url=data.webhook_url,
        webhook_secret=data.webhook_secret,
        wait=data.sync,
    )
    body = schemas.RunCreated(
        run_id=run.run_id, job_id=run.job_id, status=run.status, run=run, webhook_secret=secret
    )
    return Response(body, status_code=200 if waited else 202)


@get("/api/sim/step", summary="Get one step of a run from its replay", tags=["sim"], opt=raises(404, 409))
async def sim_step(
    svc: Service[SimService],
    run_id: Annotated[str, Parameter(description="Run id")],
    step_index: Annotated[int, Parameter(ge=0, le=INT64_MAX, description="Step, 0-based")],
    episode: Annotated[
        int, Parameter(ge=0, le=INT64_MAX, description="Domain-randomisation episode, 0-based")
    ] = 0,
) -> schemas.StepOut:
    run, rp = await replay(svc, run_id)
    if episode >= rp.episodes:
        raise RidgelineError(
            404,
            "step_out_of_range",
            f"episode {episode} out of range (0..{rp.episodes - 1})",
            step=step_index,
        )
    if step_index >= rp.steps:
        raise RidgelineError(
            404,
            "step_out_of_range",
            f"step_index {step_index} out of range (0..{rp.steps - 1})",
            step=step_index,
        )
    return schemas.StepOut(
        run_id=run.run_id, joint_names=rp.meta["joint_names"], **rp.step(step_index, episode)
    )


@get("/api/sim/metrics/{run_id:str}", summary="Metrics for run", tags=["sim"])
async def run_metrics(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[schemas.MetricsOut]:
    return Response(await metrics(svc, run_id), headers=deprecated(f"/v1/runs/{run_id}/metrics"))


@get("/api/sim/report/{run_id:str}", summary="Full report", tags=["sim"])
async def run_report(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> schemas.Report:
    return await report(svc, run_id)


ROUTES = [
    v1_create_run,
    v1_list_runs,
    v1_run,
    v1_metrics,
    v1_replay,
    v1_cancel,
    api_runs,
    api_run,
    sim_step,
    run_metrics,
    run_report,
]
