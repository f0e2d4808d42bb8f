"""``/governance/*`` (contract 003 section 7, BUILD-127): pending requests and their decision with
``approved`` and ``user_id``, audited. ``POST /governance/requests`` is how the executor files one
(the contract leaves creation to the executor; it is public like the rest of the section)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import get, post
from litestar.params import FromQuery, JSONBody

from ridgeline.autopack.api.approval import AuditEntry
from ridgeline.autopack.api.ops_service import OpsService
from ridgeline.autopack.api.ops_types import PathId, UserId, text
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

# Explicit, so a non-public family default (default_policy) never covers the contract's open rows.
PUBLIC = Policy.public().opt()
TAGS = ["autopack: governance"]


class GovernanceRequestIn(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, text(200)] | None = None
    phase_id: Annotated[str, text(200)] | None = None
    requested_paths: Annotated[list[Annotated[str, text(1000)]], msgspec.Meta(max_length=500)] = (
        msgspec.field(default_factory=list)
    )
    justification: Annotated[str, text(4000)] = ""


class GovernanceResponse(msgspec.Struct, kw_only=True):
    request_id: str
    run_id: str | None
    phase_id: str | None
    requested_paths: list[str]
    justification: str
    risk_level: Literal["low", "medium", "high", "critical"]
    status: Literal["pending", "approved", "denied"]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    audit: list[AuditEntry] = []


class PendingGovernance(msgspec.Struct, kw_only=True):
    pending: list[GovernanceResponse]
    count: int


@post("/governance/requests", status_code=201, tags=TAGS, summary="File a governance request", opt=PUBLIC)
async def governance_create(
    ops: Service[OpsService], data: JSONBody[GovernanceRequestIn]
) -> GovernanceResponse:
    view = await ops.governance.create(
        run_id=data.run_id,
        phase_id=data.phase_id,
        requested_paths=[p[:1000] for p in data.requested_paths[:500]],
        justification=data.justification[:4000],
    )
    return msgspec.convert(view, GovernanceResponse)


@get("/governance/pending", tags=TAGS, summary="Pending governance requests", opt=PUBLIC)
async def governance_pending(ops: Service[OpsService]) -> PendingGovernance:
    rows = await ops.governance.pending()
    return PendingGovernance(pending=[msgspec.convert(r, GovernanceResponse) for r in rows], count=len(rows))


@post(
    "/governance/approve/{request_id:str}",
    status_code=200,
    tags=TAGS,
    summary="Approve or deny a governance request",
    opt={**raises(409), **PUBLIC},
)
async def governance_approve(
    ops: Service[OpsService],
    request_id: PathId,
    approved: FromQuery[bool],
    user_id: UserId,
) -> GovernanceResponse:
    view: dict[str, Any] = await ops.governance.decide(request_id, approved=approved, user_id=user_id)
    return msgspec.convert(view, GovernanceResponse)


ROUTES = [governance_create, governance_pending, governance_approve]
