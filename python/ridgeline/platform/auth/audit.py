"""Audit events in ``auth_audit``: every denied authorisation and every credential created, rotated
or revoked (who, what, when, request id, outcome). A secret never reaches an event: actors are user
ids, usernames or API key display prefixes, and reasons are short codes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from ridgeline.platform.auth.store import audit_table
from ridgeline.platform.db import Database
from ridgeline.platform.observability import current_request_id

log = logging.getLogger("ridgeline.auth.audit")


class AuditEvent(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    request_id: str | None
    actor: str | None
    action: str
    target: str | None
    outcome: str
    reason: str | None
    method: str | None
    path: str | None
    client: str | None


class AuditLog:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def record(
        self,
        action: str,
        outcome: str,
        *,
        actor: str | None = None,
        target: str | None = None,
        reason: str | None = None,
        method: str | None = None,
        path: str | None = None,
        client: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "at": datetime.fromtimestamp(self.clock(), UTC),
            "request_id": current_request_id(),
            "actor": _clip(actor, 128),
            "action": action,
            "target": _clip(target, 256),
            "outcome": outcome,
            "reason": reason,
            "method": method,
            "path": _clip(path, 512),
            "client": _clip(client, 64),
        }
        try:
            async with self.db.begin() as conn:
                await conn.execute(audit_table.insert().values(**values))
        except Exception:
            # The decision stands whether or not its record could be written; say so in the log.
            log.exception("audit event not recorded", extra={"action": action, "outcome": outcome})

    async def events(self, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
        query = sa.select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)
        if action is not None:
            query = query.where(audit_table.c.action == action)
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
        out = []
        for row in rows:
            data = dict(row._mapping)
            if data["at"].tzinfo is None:
                data["at"] = data["at"].replace(tzinfo=UTC)
            out.append(AuditEvent(**{str(k): v for k, v in data.items()}))
        return out


def _clip(value: str | None, n: int) -> str | None:
    return value if value is None else value[:n]
