"""Contract 003 sections 4 (issue tracking) and 5 (error reporting)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.runs import RunIdPath
from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.context import Service
from ridgeline.platform.paging import Offset


@get("/runs/{run_id:str}/issues/index", tags=["autopack issues"], summary="The run's issues, per issue key")
async def run_issue_index(svc: Service[AutopackService], run_id: RunIdPath) -> S.RunIssueIndex:
    return await svc.runs.issue_index(run_id)


@get(
    "/project/issues/backlog",
    tags=["autopack issues"],
    summary="Issues over every run, most widespread first",
)
async def project_backlog(
    svc: Service[AutopackService],
    limit: Annotated[int, Parameter(ge=1, le=1000, description="Items (1-1000).")] = 100,
    offset: Offset = 0,
) -> S.ProjectBacklog:
    return await svc.runs.backlog(limit, offset)


@get("/runs/{run_id:str}/errors", tags=["autopack errors"], summary="Every error report of a run")
async def run_errors(svc: Service[AutopackService], run_id: RunIdPath) -> S.ErrorReportList:
    return await svc.runs.errors(run_id)


@get("/runs/{run_id:str}/errors/summary", tags=["autopack errors"], summary="Error counts of a run")
async def run_error_summary(svc: Service[AutopackService], run_id: RunIdPath) -> S.ErrorSummary:
    return await svc.runs.error_summary(run_id)


ROUTES = [run_issue_index, project_backlog, run_errors, run_error_summary]
