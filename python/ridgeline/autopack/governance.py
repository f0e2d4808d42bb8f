"""Governance requests (contract 003 section 7, BUILD-127): a phase asks to touch paths outside its
allowed scope; a human approves or denies with ``approved`` and ``user_id``. The risk level comes
from the same server-side path rules as approvals (:func:`ridgeline.autopack.approvals.assess`).
Every creation and decision is an ``autopack_ops_audit`` row (kind ``governance``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_store import audit_trail, governance_requests, record_audit
from ridgeline.autopack.approvals import assess
from ridgeline.platform.db import Database
from ridgeline.platform.problems import NotFound


def _view(row: Any) -> dict[str, Any]:
    r = dict(row._mapping)
    return {
        "request_id": r["id"],
        "run_id": r["run_id"],
        "phase_id": r["phase_id"],
        "requested_paths": r["requested_paths"],
        "justification": r["justification"],
        "risk_level": r["risk_level"],
        "status": r["status"],
        "created_at": r["created_at"],
        "decided_at": r["decided_at"],
        "decided_by": r["decided_by"],
    }


class GovernanceService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock

    async def create(
        self, *, run_id: str | None, phase_id: str | None, requested_paths: list[str], justification: str
    ) -> dict[str, Any]:
        a = assess({"files_affected": requested_paths}, None)
        now = self.clock()
        request_id = uuid.uuid4().hex
        async with self.db.begin() as conn:
            await conn.execute(
                governance_requests.insert().values(
                    id=request_id,
                    run_id=run_id,
                    phase_id=phase_id,
                    requested_paths=requested_paths,
                    justification=justification,
                    risk_level=a.risk_class,
                    status="pending",
                    created_at=now,
                )
            )
            await record_audit(
                conn,
                kind="governance",
                subject_id=request_id,
                at=now,
                actor="executor",
                action="requested",
                outcome="pending",
                detail={"risk_level": a.risk_class, "reasons": a.reasons},
            )
        return await self.get(request_id)

    async def get(self, request_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(governance_requests.select().where(governance_requests.c.id == request_id))
            ).first()
            if row is None:
                raise NotFound("governance_request", request_id, request_id=request_id)
            out = _view(row)
            out["audit"] = [
                {k: e[k] for k in ("at", "actor", "action", "outcome", "detail")}
                for e in await audit_trail(conn, "governance", request_id)
            ]
        return out

    async def pending(self) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                governance_requests.select()
                .where(governance_requests.c.status == "pending")
                .order_by(governance_requests.c.created_at, governance_requests.c.id)
            )
            return [_view(r) for r in rows]

    async def decide(self, request_id: str, *, approved: bool, user_id: str) -> dict[str, Any]:
        now = self.clock()
        outcome = "approved" if approved else "denied"
        async with self.db.begin() as conn:
            res = await conn.execute(
                governance_requests.update()
                .where(governance_requests.c.id == request_id, governance_requests.c.status == "pending")
                .values(status=outcome, decided_at=now, decided_by=user_id[:200])
            )
            if res.rowcount:
                await record_audit(
                    conn,
                    kind="governance",
                    subject_id=request_id,
                    at=now,
                    actor=user_id,
                    action="decided",
                    outcome=outcome,
                    detail={},
                )
        if not res.rowcount:
            current = await self.get(request_id)  # 404 when unknown
            raise OPS.error("governance_already_decided", request_id=request_id, state=current["status"])
        return await self.get(request_id)
