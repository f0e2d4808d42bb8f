"""Contract 003 section 1 (run lifecycle) and section 10's inbox and progress."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import Body, Parameter

from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.policies import OPERATOR_READ, START
from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset

TAGS = ["autopack runs"]
RunIdPath = Annotated[str, Parameter(description="Run id.", max_length=128)]
PhaseIdPath = Annotated[str, Parameter(description="Phase id.", max_length=128)]


@post(
    "/runs/start",
    status_code=201,
    tags=TAGS,
    summary="Create a run with its tiers and phases",
    description="Requires X-API-Key (see the auth table); 10 requests a minute per client IP.",
    opt={**raises(401, 403, 409, 429), **START.opt()},
)
async def start_run(
    svc: Service[AutopackService], data: Annotated[S.RunStartRequest, Body()]
) -> S.RunResponse:
    return await svc.runs.start_run(data)


@get("/runs/{run_id:str}", tags=TAGS, summary="A run with all its tiers and phases")
async def get_run(svc: Service[AutopackService], run_id: RunIdPath) -> S.RunResponse:
    return await svc.runs.get_run(run_id)


@post(
    "/runs/{run_id:str}/phases/{phase_id:str}/update_status",
    status_code=200,
    tags=TAGS,
    summary="Move a phase to a new state (state machine) and record its metrics",
    opt=raises(409),
)
async def update_status(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    phase_id: PhaseIdPath,
    data: Annotated[S.PhaseStatusUpdate, Body()],
) -> S.PhaseStatusResponse:
    return await svc.runs.update_status(run_id, phase_id, data)


@post(
    "/runs/{run_id:str}/phases/{phase_id:str}/builder_result",
    status_code=200,
    tags=TAGS,
    summary="Record a builder attempt and apply its unified diff to the run's workspace",
    description="All files or none: a patch that does not apply (409) or names a path outside the "
    "workspace (400) changes nothing and is recorded as an error report.",
    opt=raises(400, 409, 413),
)
async def builder_result(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    phase_id: PhaseIdPath,
    data: Annotated[S.BuilderResult, Body()],
) -> S.BuilderResultResponse:
    return await svc.runs.builder_result(run_id, phase_id, data)


@post(
    "/runs/{run_id:str}/phases/{phase_id:str}/auditor_result",
    status_code=200,
    tags=TAGS,
    summary="Record an auditor verdict (its issues are recorded on the phase)",
    opt=raises(409),
)
async def auditor_result(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    phase_id: PhaseIdPath,
    data: Annotated[S.AuditorResult, Body()],
) -> S.AuditorResultResponse:
    return await svc.runs.auditor_result(run_id, phase_id, data)


@post(
    "/runs/{run_id:str}/phases/{phase_id:str}/record_issue",
    status_code=200,
    tags=TAGS,
    summary="Record an issue on a phase (the same key again counts an occurrence)",
)
async def record_issue(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    phase_id: PhaseIdPath,
    data: Annotated[S.IssueRecordRequest, Body()],
) -> S.IssueRecordResponse:
    return await svc.runs.record_issue(run_id, phase_id, data)


@get(
    "/runs",
    tags=["autopack operator"],
    summary="Runs inbox: newest first, with phase counts per run (one query)",
    opt={**raises(401, 403), **OPERATOR_READ.opt()},
)
async def list_runs(
    svc: Service[AutopackService],
    limit: Annotated[int, Parameter(ge=1, le=100, description="Runs per page (1-100).")] = 20,
    offset: Offset = 0,
) -> S.RunList:
    return await svc.runs.list_runs(limit, offset)


@get(
    "/runs/{run_id:str}/progress",
    tags=["autopack operator"],
    summary="Phase-by-phase progress, elapsed time and token use against the cap",
    opt={**raises(401, 403), **OPERATOR_READ.opt()},
)
async def progress(svc: Service[AutopackService], run_id: RunIdPath) -> S.RunProgress:
    return await svc.runs.progress(run_id)


ROUTES = [
    start_run,
    get_run,
    update_status,
    builder_result,
    auditor_result,
    record_issue,
    list_runs,
    progress,
]
