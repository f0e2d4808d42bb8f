"""Contract 003 section 3: dashboard endpoints."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from litestar import Request, Response, get, post
from litestar.params import Body, Parameter

from ridgeline.autopack import notes
from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.policies import KEYED
from ridgeline.autopack.api.runs import RunIdPath
from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import EngineError

TAGS = ["autopack dashboard"]
MAX_METRICS_LIMIT = 10_000
# RFC 9745: the moment the legacy endpoints were deprecated (contract 003 of 2026-01-10).
DEPRECATED_AT = "@1768003200"


@get("/dashboard/runs/{run_id:str}/status", tags=TAGS, summary="Run status for dashboard display")
async def run_status(svc: Service[AutopackService], run_id: RunIdPath) -> S.DashboardRunStatus:
    return await svc.runs.dashboard_status(run_id)


@get("/dashboard/usage", tags=TAGS, summary="Token usage per provider and model over a period")
async def usage(
    svc: Service[AutopackService],
    period: Annotated[
        Literal["day", "week", "month"], Parameter(description="Last 1, 7 or 30 days.")
    ] = "week",
) -> S.UsageResponse:
    return await svc.runs.usage(period)


@get(
    "/dashboard/models",
    tags=TAGS,
    summary="Model mappings in force (defaults, then overrides)",
    opt=raises(404),
)
async def models(
    svc: Service[AutopackService],
    run_id: Annotated[
        str | None, Parameter(description="Also apply this run's overrides.", max_length=128)
    ] = None,
) -> list[S.ModelMapping]:
    return await svc.runs.models(run_id)


@post(
    "/dashboard/models/override", status_code=200, tags=TAGS, summary="Add a global or per-run model override"
)
async def add_override(
    svc: Service[AutopackService], data: Annotated[S.ModelOverrideRequest, Body()]
) -> S.ModelOverrideResponse:
    return await svc.runs.add_override(data)


def _deprecated(request: Request[Any, Any, Any], legacy_suffix: str) -> dict[str, str]:
    successor = request.url.path.removesuffix(legacy_suffix) + "/consolidated-metrics"
    return {"Deprecation": DEPRECATED_AT, "Link": f'<{successor}>; rel="successor-version"'}


@get(
    "/dashboard/runs/{run_id:str}/token-efficiency",
    tags=TAGS,
    summary="BUILD-145 token efficiency (legacy: use consolidated-metrics)",
    deprecated=True,
    opt={**raises(401, 403), **KEYED.opt()},
)
async def token_efficiency(
    request: Request[Any, Any, Any], svc: Service[AutopackService], run_id: RunIdPath
) -> Response[S.TokenEfficiencyStats]:
    stats = await svc.runs.token_efficiency(run_id)
    return Response(stats, headers=_deprecated(request, "/token-efficiency"))


@get(
    "/dashboard/runs/{run_id:str}/phase6-stats",
    tags=TAGS,
    summary="BUILD-146 Phase 6 statistics (legacy: use consolidated-metrics)",
    deprecated=True,
    opt={**raises(401, 403), **KEYED.opt()},
)
async def phase6_stats(
    request: Request[Any, Any, Any], svc: Service[AutopackService], run_id: RunIdPath
) -> Response[S.Phase6Stats]:
    stats = await svc.runs.phase6_stats(run_id)
    return Response(stats, headers=_deprecated(request, "/phase6-stats"))


@get(
    "/dashboard/runs/{run_id:str}/consolidated-metrics",
    tags=TAGS,
    summary="Consolidated token metrics: four independent categories, no double counting",
    description="Kill switch AUTOPACK_ENABLE_CONSOLIDATED_METRICS=1 (default off: 503). "
    "limit 1-10000 (default 1000) and offset >= 0 page the per-phase breakdown; out of range: 400.",
    opt=raises(400),
)
async def consolidated_metrics(
    svc: Service[AutopackService],
    run_id: RunIdPath,
    limit: Annotated[int, Parameter(description="Phases per page (1-10000).")] = 1000,
    offset: Annotated[int, Parameter(description="Phases skipped (>= 0).")] = 0,
) -> S.ConsolidatedTokenMetrics:
    if not svc.settings.enable_consolidated_metrics:
        raise EngineError(
            503,
            "consolidated_metrics_disabled",
            "Consolidated metrics are disabled (set AUTOPACK_ENABLE_CONSOLIDATED_METRICS=1).",
        )
    if not 1 <= limit <= MAX_METRICS_LIMIT:
        raise EngineError(400, "invalid_pagination", f"limit must be 1..{MAX_METRICS_LIMIT}.", limit=limit)
    if offset < 0:
        raise EngineError(400, "invalid_pagination", "offset must be >= 0.", offset=offset)
    return await svc.runs.consolidated(run_id, limit, offset)


@get("/dashboard/ab-results", tags=TAGS, summary="A/B test comparisons, newest first")
async def ab_results(
    svc: Service[AutopackService],
    test_id: Annotated[str | None, Parameter(description="Only this A/B test.", max_length=128)] = None,
    valid_only: Annotated[bool, Parameter(description="Only comparable pairs.")] = True,
    limit: Annotated[int, Parameter(ge=1, le=1000, description="Results (1-1000).")] = 100,
) -> list[S.ABTestResult]:
    return await svc.runs.ab_results(test_id, valid_only, limit)


@post(
    "/dashboard/human-notes",
    status_code=200,
    tags=TAGS,
    summary="Append a note to the human-notes file",
    opt=raises(404),
)
async def human_notes(
    svc: Service[AutopackService], data: Annotated[S.HumanNoteRequest, Body()]
) -> S.HumanNoteResponse:
    runs = svc.runs
    if data.run_id is not None:
        await runs.ensure_run(data.run_id)
    at = runs.clock()
    text = notes.entry(data.note, at, data.run_id, data.author)
    written = await asyncio.to_thread(notes.append, runs.notes_file, text)
    return S.HumanNoteResponse(
        message="Note added", timestamp=at, notes_file=runs.notes_file.name, bytes_written=written
    )


ROUTES = [
    run_status,
    usage,
    models,
    add_override,
    token_efficiency,
    phase6_stats,
    consolidated_metrics,
    ab_results,
    human_notes,
]
