"""``/approval/*`` (contract 003 section 6, BUILD-117): request, status polling, pending list, and an
operator decision. Public as the contract lists (the executor's trust boundary), except the
operator decision, which needs ``X-API-Key``. The risk class comes from server-side rules
(:mod:`ridgeline.autopack.approvals`), never from the payload."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery, JSONBody

from ridgeline.autopack.api.ops_service import OpsService, actor_of
from ridgeline.autopack.api.ops_types import PathId, UserId, text
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

# Explicit, so a non-public family default (default_policy) never covers the contract's open rows.
PUBLIC = Policy.public().opt()
TAGS = ["autopack: approvals"]


Id = text(200, min_length=1)


class ApprovalRequest(msgspec.Struct, kw_only=True):
    """What the executor asks approval for. ``decision_info.files_affected`` and
    ``deletion_info.files_removed`` / ``net_deletion`` feed the risk rules; any ``risk_level`` sent is
    ignored (audited as ``claimed_risk``)."""

    run_id: Annotated[str, Id] | None = None
    phase_id: Annotated[str, Id] | None = None
    decision_info: dict[str, Any] = {}
    deletion_info: dict[str, Any] | None = None
    context: dict[str, Any] = {}


class AuditEntry(msgspec.Struct, kw_only=True):
    at: datetime
    actor: str
    action: str
    outcome: str
    detail: dict[str, Any]


class ApprovalResponse(msgspec.Struct, kw_only=True):
    approval_id: str
    run_id: str | None
    phase_id: str | None
    status: Literal["pending", "approved", "rejected"]
    risk_class: Literal["low", "medium", "high", "critical"]
    risk_reasons: list[str]
    decision_info: dict[str, Any]
    deletion_info: dict[str, Any] | None
    requested_at: datetime
    deadline_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_source: Literal["auto", "policy", "human", "telegram", "timeout"] | None
    reason: str | None
    telegram_status: Literal["none", "sent", "failed"]
    audit: list[AuditEntry] = []


class PendingApprovals(msgspec.Struct, kw_only=True):
    pending: list[ApprovalResponse]
    count: int


@post(
    "/approval/request",
    status_code=200,
    tags=TAGS,
    summary="Request human approval for a risky decision",
    opt=PUBLIC,
    description="Answers approved, rejected or pending at once (AUTO_APPROVE_BUILD113, risk rules); "
    "a pending request is sent to Telegram when configured and resolves at its deadline.",
)
async def request_approval(ops: Service[OpsService], data: JSONBody[ApprovalRequest]) -> ApprovalResponse:
    view = await ops.approvals.request(
        run_id=data.run_id,
        phase_id=data.phase_id,
        decision_info=data.decision_info,
        deletion_info=data.deletion_info,
        context=data.context,
    )
    return msgspec.convert(view, ApprovalResponse, from_attributes=False)


@get(
    "/approval/status/{approval_id:str}",
    tags=TAGS,
    summary="Approval status with its audit trail (executor polling)",
    opt=PUBLIC,
)
async def approval_status(ops: Service[OpsService], approval_id: PathId) -> ApprovalResponse:
    return msgspec.convert(await ops.approvals.get(approval_id), ApprovalResponse)


@get("/approval/pending", tags=TAGS, summary="Pending approval requests (dashboard)", opt=PUBLIC)
async def approval_pending(ops: Service[OpsService]) -> PendingApprovals:
    rows = await ops.approvals.pending()
    return PendingApprovals(pending=[msgspec.convert(r, ApprovalResponse) for r in rows], count=len(rows))


@post(
    "/approval/decide/{approval_id:str}",
    status_code=200,
    tags=TAGS,
    summary="Approve or reject a pending request as an operator",
    opt={**raises(409), **Policy.api_key().opt()},
)
async def approval_decide(
    request: Request[Any, Any, Any],
    ops: Service[OpsService],
    approval_id: PathId,
    approved: FromQuery[bool],
    user_id: UserId = "operator",
) -> ApprovalResponse:
    # The user id is the operator's word; the audit also names the key that made the call.
    actor = f"user:{user_id} via {actor_of(request)}"
    view = await ops.approvals.decide(approval_id, approved=approved, actor=actor, source="human")
    return msgspec.convert(view, ApprovalResponse)


ROUTES = [request_approval, approval_status, approval_pending, approval_decide]
