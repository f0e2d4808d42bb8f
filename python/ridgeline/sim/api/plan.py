"""The AI planner: ``/api/ai/plan``. The plan is for review and never executed; the batch request
it emits is put through the same checks ``POST /api/sim/batch`` applies, so a plan only ever asks
for what the server accepts (422 with that check's reason code otherwise)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import msgspec
from litestar import Request, post

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.sim.api import schemas
from ridgeline.sim.api.batches import preflight
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.service import SimService
from ridgeline.sim.api.validation import convert, strict_body
from ridgeline.sim.planner import Plan, TaskSpec, make_plan

_EXTRAS = ("floating_base", "initial_q", "initial_v")


class PlanRequest(TaskSpec, kw_only=True, forbid_unknown_fields=True):
    """POST /api/ai/plan: the task spec plus the robot's initial state, carried into the batch."""

    floating_base: Annotated[bool | None, msgspec.Meta(description=schemas.FLOATING_BASE)] = None
    initial_q: schemas.InitialQ = None
    initial_v: schemas.InitialV = None


async def plan(svc: SimService, body: PlanRequest) -> Plan:
    raw = msgspec.to_builtins(body)
    extras = {k: raw.pop(k) for k in _EXTRAS if raw.get(k) is not None}
    for k in _EXTRAS:
        raw.pop(k, None)
    out = make_plan(msgspec.convert(raw, TaskSpec), svc.profile_names)  # PlanError renders as raised
    if extras:  # the plan id covers everything that shapes the emitted requests
        canonical = json.dumps({**raw, **extras}, sort_keys=True, separators=(",", ":"))
        out.plan_id = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    batch_step = out.steps_to_run[0]
    batch_step.body = {**batch_step.body, **extras}
    await preflight(svc, convert(batch_step.body, schemas.BatchRequest, prefix="steps_to_run[0].body"))
    return out


@post(
    "/api/ai/plan",
    summary="Generate plan from task spec (review only)",
    description="Deterministic rules (docs/sim.md); the plan is never executed by this call. The emitted "
    "batch request passes the checks POST /api/sim/batch applies (422 with their reason code otherwise).",
    tags=["sim"],
    status_code=200,
    opt=raises(404),
)
async def ai_plan(
    request: Request[Any, Any, Any], svc: Service[SimService], data: Annotated[PlanRequest, JSONBody]
) -> Plan:
    return await plan(svc, await strict_body(request, PlanRequest))


ROUTES = [ai_plan]
