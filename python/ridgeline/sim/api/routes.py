"""HTTP handlers of the sim family: the ``/v1/`` API and the QERS ``/api/`` API (contract 001)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, route
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, KwargDefinition, Parameter, PathParameter

import ridgeline
from ridgeline.platform.context import AppContext, Ctx, Service
from ridgeline.platform.downloads import artifact_response
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import INT64_MAX, Offset
from ridgeline.sim.api import schemas as S
from ridgeline.sim.api.service import SimService
from ridgeline.sim.examples import EXAMPLE_ROBOTS, SCENARIOS
from ridgeline.sim.planner import HorizonError, Plan, TaskSpec, make_plan
from ridgeline.sim.replay import FORMAT as REPLAY_FORMAT
from ridgeline.sim.replay import MEDIA_TYPE as REPLAY_MEDIA_TYPE
from ridgeline.sim.runspec import RunSpec

JSONBody = Body(media_type=RequestEncodingType.JSON)

API_VERSION = "1"
# The unversioned /api/ endpoints that duplicate a /v1/ endpoint are deprecated in favour of it
# (announced in docs/sim.md's changelog); they stay served for at least six months after this date.
DEPRECATED_ON = datetime(2026, 11, 22, tzinfo=UTC)
SUNSET_ON = datetime(2027, 5, 31, tzinfo=UTC)


def _http_date(d: datetime) -> str:
    return d.strftime("%a, %d %b %Y %H:%M:%S GMT")


def v1_headers() -> dict[str, str]:
    return {"API-Version": API_VERSION}


def deprecated(successor: str) -> dict[str, str]:
    """RFC 9745 Deprecation, RFC 8594 Sunset and a successor link."""
    return {
        "Deprecation": f"@{int(DEPRECATED_ON.timestamp())}",
        "Sunset": _http_date(SUNSET_ON),
        "Link": f'<{successor}>; rel="successor-version"',
    }


# ---------------------------------------------------------------- health, profiles, scenarios


async def _health(ctx: AppContext, svc: SimService) -> Response[S.Health]:
    ok = await ctx.db.reachable()
    body = S.Health(
        status="ok" if ok else "degraded",
        service="ridgeline-sim",
        version=ridgeline.__version__,
        api_version=API_VERSION,
        database="reachable" if ok else "unreachable",
        profiles=svc.profile_names,
        timestamp=datetime.now(UTC),
    )
    return Response(body, status_code=200 if ok else 503, headers=v1_headers())


@get("/v1/health", summary="Health check", tags=["sim v1"])
async def v1_health(ctx: Ctx, svc: Service[SimService]) -> Response[S.Health]:
    return await _health(ctx, svc)


@get("/api/health", summary="Health check", tags=["sim"])
async def api_health(ctx: Ctx, svc: Service[SimService]) -> Response[S.Health]:
    return await _health(ctx, svc)


@get("/api/reality-profiles", summary="Reality profiles with their parameter distributions", tags=["sim"])
async def list_profiles(svc: Service[SimService]) -> S.ProfileList:
    profiles = svc.profiles
    return S.ProfileList(profiles=profiles, count=len(profiles))


@get("/v1/scenarios", summary="List available scenarios", tags=["sim v1"])
async def list_scenarios() -> Response[S.ScenarioList]:
    items = [
        S.Scenario(name=s.name, description=s.description, robot=s.robot, config=s.spec)
        for s in SCENARIOS.values()
    ]
    return Response(S.ScenarioList(scenarios=items, count=len(items)), headers=v1_headers())


# ---------------------------------------------------------------- projects and assets


@post("/api/projects", summary="Create project", tags=["sim"], status_code=201)
async def create_project(svc: Service[SimService], data: Annotated[S.ProjectCreate, JSONBody]) -> S.Project:
    return await svc.create_project(data)


@get("/api/projects", summary="List projects", tags=["sim"])
async def list_projects(svc: Service[SimService]) -> S.ProjectList:
    items = await svc.list_projects()
    return S.ProjectList(projects=items, count=len(items))


@dataclass
class ImportForm:
    """multipart/form-data for POST /api/assets/import."""

    file: Annotated[
        UploadFile, KwargDefinition(description="URDF, mesh or USD file; the extension selects the reader")
    ]
    name: Annotated[str | None, KwargDefinition(description="Display name (default: the file name)")] = None
    project_id: Annotated[str | None, KwargDefinition(description="Project to file the asset under")] = None
    density: Annotated[
        float, KwargDefinition(description="Uniform density for mesh mass properties (kg/m^3)")
    ] = 1000.0
    scale: Annotated[float, KwargDefinition(description="Mesh units to metres (0.001 for millimetres)")] = 1.0
    floating_base: Annotated[
        bool, KwargDefinition(description="Validate the URDF with a free-flyer root")
    ] = False


MAX_UPLOAD = 64 * 1024 * 1024


@post(
    "/api/assets/import",
    summary="Import URDF/USD/mesh",
    description="multipart/form-data: `file` (URDF .urdf/.xml, mesh .stl/.obj/.ply/.glb/.off, USD .usd/.usda/"
    ".usdc); optional `name`, `project_id`, `density` (kg/m^3, default 1000), `scale` (mesh units to metres, "
    "default 1) and `floating_base` (URDF check with a free-flyer). URDF is validated by the simulation core's "
    "parser; meshes get mass properties. A file that fails validation stores nothing.",
    tags=["sim"],
    status_code=201,
    request_max_body_size=MAX_UPLOAD,
    opt=raises(404, 413, 415),
)
async def import_asset(
    svc: Service[SimService], data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> S.Asset:
    content = await data.file.read()
    filename = (data.file.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if not filename:
        raise RidgelineError(422, "invalid_request", "the uploaded file needs a file name with an extension")
    return await svc.import_asset(
        filename,
        content,
        name=data.name,
        project_id=data.project_id,
        density=data.density,
        scale=data.scale,
        floating_base=data.floating_base,
    )


@get("/api/assets", summary="List assets", tags=["sim"])
async def list_assets(
    svc: Service[SimService],
    project_id: Annotated[str | None, Parameter(description="Only this project's assets")] = None,
    kind: Annotated[str | None, Parameter(description="urdf or mesh")] = None,
) -> S.AssetList:
    items = await svc.list_assets(project_id, kind)
    return S.AssetList(assets=items, count=len(items))


@post(
    "/api/design/segment", summary="Segment asset into parts", tags=["sim"], status_code=200, opt=raises(404)
)
async def segment(svc: Service[SimService], data: Annotated[S.SegmentRequest, JSONBody]) -> S.SegmentResponse:
    return await svc.segment(data)


@post(
    "/api/design/linkage",
    summary="Build linkage; optional export URDF",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def linkage(svc: Service[SimService], data: Annotated[S.LinkageRequest, JSONBody]) -> S.LinkageResponse:
    return await svc.linkage(data)


# ---------------------------------------------------------------- runs (/api/)


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
    svc: Service[SimService], data: Annotated[S.SimRunRequest, JSONBody]
) -> Response[S.RunCreated]:
    spec_fields = {f.name for f in msgspec.structs.fields(RunSpec)}
    spec = RunSpec(**{k: v for k, v in msgspec.structs.asdict(data).items() if k in spec_fields})
    run, secret, waited = await svc.create_run(
        robot=data.urdf_path,
        spec=spec,
        api="api",
        scenario=data.scenario,
        project_id=data.project_id,
        webhook_url=data.webhook_url,
        webhook_secret=data.webhook_secret,
        wait=data.sync,
    )
    body = S.RunCreated(
        run_id=run.run_id, job_id=run.job_id, status=run.status, run=run, webhook_secret=secret
    )
    return Response(body, status_code=200 if waited else 202)


def _status(run: S.Run) -> S.JobStatusOut:
    return S.JobStatusOut(
        job_id=run.job_id,
        run_id=run.run_id,
        status=run.status,
        progress=run.progress,
        created_at=run.created_at,
        queued_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
    )


@get(
    "/api/sim/{job_id:str}/status",
    summary="Job status",
    description="For a run's job (the run id) or a batch's job (the batch id).",
    tags=["sim"],
)
async def job_status(
    ctx: Ctx,
    svc: Service[SimService],
    job_id: Annotated[str, PathParameter(description="Job id (the run id, or a batch id)")],
) -> Response[S.JobStatusOut]:
    run = await svc.get_run(job_id)
    job = await ctx.jobs.get(job_id)
    if run is not None:
        out = _status(run)
        if job is not None:
            out.queued_at = job.queued_at
        return Response(out, headers=deprecated(f"/v1/runs/{job_id}"))
    batch = await svc.get_batch(job_id)
    if batch is None or job is None:
        raise RidgelineError(404, "job_not_found", f"Job {job_id!r} not found")
    out = S.JobStatusOut(
        job_id=job.id,
        run_id=None,
        batch_id=batch.batch_id,
        kind="batch",
        status=job.status,
        progress=job.progress,
        created_at=job.created_at,
        queued_at=job.queued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error if job.status in ("FAILED", "CANCELLED") else None,
    )
    return Response(out)


@get("/api/sim/{job_id:str}/metrics", summary="Metrics for job/run", tags=["sim"])
async def job_metrics(
    svc: Service[SimService],
    job_id: Annotated[str, PathParameter(description="Job id (the same as the run id)")],
) -> Response[S.MetricsOut]:
    return Response(await svc.metrics(job_id), headers=deprecated(f"/v1/runs/{job_id}/metrics"))


@get("/api/sim/{job_id:str}/report", summary="Full report for job/run", tags=["sim"])
async def job_report(
    svc: Service[SimService],
    job_id: Annotated[str, PathParameter(description="Job id (the same as the run id)")],
) -> S.Report:
    return await svc.report(job_id)


@post(
    "/api/sim/{job_id:str}/cancel",
    summary="Cancel a queued or running job",
    description="A run's job answers with the run; a batch's job with the batch (every member stops).",
    tags=["sim"],
    status_code=200,
    opt=raises(405, 409),
)
async def job_cancel(
    svc: Service[SimService],
    job_id: Annotated[str, PathParameter(description="Job id (the run id, or a batch id)")],
) -> Response[S.Run | S.Batch]:
    if await svc.get_run(job_id) is None and await svc.get_batch(job_id) is not None:
        return Response(await svc.cancel_batch(job_id))
    return Response(await svc.cancel_run(job_id), headers=deprecated(f"/v1/runs/{job_id}/cancel"))


@get("/api/sim/metrics/{run_id:str}", summary="Metrics for run", tags=["sim"])
async def run_metrics(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[S.MetricsOut]:
    return Response(await svc.metrics(run_id), headers=deprecated(f"/v1/runs/{run_id}/metrics"))


@get("/api/sim/report/{run_id:str}", summary="Full report", tags=["sim"])
async def run_report(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> S.Report:
    return await svc.report(run_id)


@get("/api/sim/step", summary="Get one step of a run from its replay", tags=["sim"], opt=raises(404, 409))
async def sim_step(
    svc: Service[SimService],
    run_id: Annotated[str, Parameter(description="Run id")],
    step_index: Annotated[int, Parameter(ge=0, le=INT64_MAX, description="Step, 0-based")],
    episode: Annotated[
        int, Parameter(ge=0, le=INT64_MAX, description="Domain-randomisation episode, 0-based")
    ] = 0,
) -> S.StepOut:
    run, rp = await svc.replay(run_id)
    try:
        step = rp.step(step_index, episode)
    except IndexError as exc:
        raise RidgelineError(404, "step_out_of_range", str(exc)) from None
    return S.StepOut(run_id=run.run_id, joint_names=rp.meta["joint_names"], **step)


@get("/api/runs", summary="List sim runs (unified for dashboard)", tags=["sim"])
async def api_runs(
    svc: Service[SimService],
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    offset: Offset = 0,
    status: Annotated[str | None, Parameter(description="Filter by status")] = None,
) -> Response[S.RunList]:
    runs = await svc.list_runs(limit=limit, offset=offset, status=_status_filter(status))
    return Response(S.RunList(runs=runs, count=len(runs)), headers=deprecated("/v1/runs"))


def _status_filter(status: str | None) -> str | None:
    if status is None:
        return None
    up = status.upper()
    allowed = ("CREATED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
    if up not in allowed:
        raise RidgelineError(422, "invalid_request", f"status must be one of {', '.join(allowed)}")
    return up


# ---------------------------------------------------------------- batch, compare, benchmarks, plan


@post(
    "/api/sim/batch",
    summary="Run sim across N reality profiles",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def batch_create(
    svc: Service[SimService], data: Annotated[S.BatchRequest, JSONBody]
) -> Response[S.Batch]:
    batch, waited = await svc.create_batch(data)
    return Response(batch, status_code=200 if waited else 202)


@get("/api/sim/batch/{batch_id:str}", summary="Retrieve batch report", tags=["sim"])
async def batch_get(
    svc: Service[SimService], batch_id: Annotated[str, PathParameter(description="Batch id")]
) -> S.Batch:
    return await svc.require_batch(batch_id)


@get(
    "/api/sim/batch/{batch_id:str}/evaluate",
    summary="Cross-profile evaluation (drops, gap widths)",
    tags=["sim"],
    opt=raises(409),
)
async def batch_evaluate(
    svc: Service[SimService], batch_id: Annotated[str, PathParameter(description="Batch id")]
) -> S.Evaluation:
    return await svc.evaluate(batch_id)


@post(
    "/api/sim/compare",
    summary="Compare metrics across runs; pairwise drops",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def compare(svc: Service[SimService], data: Annotated[S.CompareRequest, JSONBody]) -> S.CompareResponse:
    return await svc.compare(data)


@get(
    "/api/benchmarks/latest",
    summary="Latest benchmark report (G_dyn, G_perc, G_perf)",
    tags=["sim"],
    opt=raises(404),
)
async def benchmarks_latest(svc: Service[SimService]) -> S.BenchmarkReport:
    return await svc.latest_benchmark()


@post(
    "/api/ai/plan",
    summary="Generate plan from task spec (review only)",
    description="Deterministic rules (docs/sim.md); the plan is never executed by this call.",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def ai_plan(svc: Service[SimService], data: Annotated[TaskSpec, JSONBody]) -> Plan:
    try:
        plan = make_plan(data, svc.profile_names)
    except HorizonError as exc:
        raise RidgelineError(422, "invalid_request", str(exc)) from None
    except ValueError as exc:
        raise RidgelineError(422, "unknown_profile", str(exc)) from None
    if data.robot not in EXAMPLE_ROBOTS:
        await svc.resolve_robot(data.robot)  # 404 when the robot does not exist
    return plan


# ---------------------------------------------------------------- /v1/ runs


@post(
    "/v1/runs",
    summary="Create run (scenario, config, options) -> run_id",
    tags=["sim v1"],
    status_code=201,
    opt=raises(404),
)
async def v1_create_run(
    svc: Service[SimService], data: Annotated[S.V1RunCreate, JSONBody]
) -> Response[S.RunCreated]:
    base: dict[str, Any] = {}
    robot = "examples/simple_robot.urdf"
    if data.scenario is not None:
        sc = SCENARIOS.get(data.scenario)
        if sc is None:
            raise RidgelineError(
                404, "scenario_not_found", f"scenario {data.scenario!r} not found (GET /v1/scenarios)"
            )
        base, robot = msgspec.to_builtins(sc.spec), sc.robot
    config = msgspec.to_builtins(data.config)  # UNSET fields are left out
    robot = str(config.pop("robot", robot))
    merged = {**base, **config}
    try:
        spec = msgspec.convert(merged, RunSpec)
    except msgspec.ValidationError as exc:
        raise RidgelineError(422, "invalid_request", f"Invalid config: {exc}") from None
    o = data.options
    run, secret, waited = await svc.create_run(
        robot=robot,
        spec=spec,
        api="v1",
        scenario=data.scenario,
        project_id=o.project_id,
        webhook_url=o.webhook_url,
        webhook_secret=o.webhook_secret,
        wait=o.wait,
    )
    body = S.RunCreated(
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
) -> Response[S.RunList]:
    runs = await svc.list_runs(limit=limit, status=_status_filter(status), scenario=scenario)
    return Response(S.RunList(runs=runs, count=len(runs)), headers=v1_headers())


@get("/v1/runs/{run_id:str}", summary="Run detail (metadata, config summary, metrics)", tags=["sim v1"])
async def v1_run(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[S.Run]:
    return Response(await svc.require_run(run_id), headers=v1_headers())


@get("/v1/runs/{run_id:str}/metrics", summary="Metrics for run", tags=["sim v1"])
async def v1_metrics(
    svc: Service[SimService], run_id: Annotated[str, PathParameter(description="Run id")]
) -> Response[S.MetricsOut]:
    return Response(await svc.metrics(run_id), headers=v1_headers())


@route(
    "/v1/runs/{run_id:str}/replay",
    http_method=["GET", "HEAD"],
    summary="Replay bundle (for re-run or analysis)",
    description=f"`{REPLAY_FORMAT}`: a NumPy .npz archive (`numpy.load`), media type {REPLAY_MEDIA_TYPE}; "
    "entries are listed in docs/sim.md. 409 while the run has no bundle yet, 409 `artifact_integrity` "
    "when the stored file no longer matches its SHA-256; ETag / If-None-Match (304) and HEAD supported.",
    tags=["sim v1"],
    media_type=REPLAY_MEDIA_TYPE,
    opt=raises(409),
)
async def v1_replay(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    svc: Service[SimService],
    run_id: Annotated[str, PathParameter(description="Run id")],
) -> Response[bytes]:
    _run, art = await svc.replay_artifact(run_id)
    return await artifact_response(
        request,
        ctx.artifacts,
        art,
        filename=f"replay-{run_id}.npz",
        media_type=REPLAY_MEDIA_TYPE,
        headers={**v1_headers(), "X-Replay-Format": REPLAY_FORMAT},
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
) -> Response[S.Run]:
    return Response(await svc.cancel_run(run_id), headers=v1_headers())


ROUTES = [
    v1_health,
    list_scenarios,
    v1_create_run,
    v1_list_runs,
    v1_run,
    v1_metrics,
    v1_replay,
    v1_cancel,
    api_health,
    api_runs,
    create_project,
    list_projects,
    import_asset,
    list_assets,
    segment,
    linkage,
    api_run,
    job_status,
    job_metrics,
    job_report,
    job_cancel,
    sim_step,
    run_metrics,
    run_report,
    benchmarks_latest,
    ai_plan,
    list_profiles,
    batch_create,
    batch_get,
    batch_evaluate,
    compare,
]
