"""Approval workflow (contract 003 section 6, BUILD-117): risk rules, decisions, timeouts, audit.

**Risk is decided here, from facts, never taken from the payload.** :func:`assess` reads the paths
and deletion sizes the executor reports (``decision_info.files_affected``, ``deletion_info.files_removed``,
``deletion_info.net_deletion`` / ``lines_removed``) and applies :data:`RULES`; a ``risk_level`` or
``risk_class`` the caller sends is ignored (kept in the audit as ``claimed_risk``).

Outcome of a request:

| risk | AUTO_APPROVE_BUILD113=true | AUTO_APPROVE_BUILD113=false |
|---|---|---|
| blocked (a protected path: ``.git/``, ``.env*``, keys) | rejected (policy) | rejected (policy) |
| critical | pending (a human decides even with auto-approve) | pending |
| high, medium, low | approved (auto) | pending |

A pending request has a deadline (``APPROVAL_TIMEOUT_MINUTES``). Past it, it resolves to
``APPROVAL_DEFAULT_ON_TIMEOUT`` (default ``reject``; a *critical* request always resolves to rejected),
decided by ``timeout``. The deadline is a column, so the resolution survives restarts: every read
(status, pending list, a decision) first resolves the requests whose deadline has passed, in one
conditional UPDATE, and start-up does the same. Every decision writes an audit row in the same
transaction as the status change.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_store import approvals, audit_trail, record_audit
from ridgeline.autopack.ops_settings import OpsSettings
from ridgeline.autopack.telegram_client import APPROVE, TelegramClient, parse_callback_data
from ridgeline.platform.db import Database
from ridgeline.platform.problems import EngineError, NotFound

RISK_ORDER = ("low", "medium", "high", "critical")

#: Paths no autonomous decision may touch: a request naming one is rejected outright.
PROTECTED_PATTERNS = (
    ".git/*",
    ".git",
    "*.env",
    ".env*",
    "*/.env*",
    "*.pem",
    "*.key",
    "*id_rsa*",
    "*secrets*",
)
#: Paths whose change is high risk: schema migrations, CI, dependency manifests, auth code.
SENSITIVE_PATTERNS = (
    "*migrations/*",
    ".github/workflows/*",
    "*/auth/*",
    "auth/*",
    "pyproject.toml",
    "package.json",
    "Cargo.toml",
    "requirements*.txt",
    "*Dockerfile*",
)
CRITICAL_LINES, CRITICAL_FILES = 500, 20
HIGH_LINES, HIGH_FILES = 100, 5
MEDIUM_FILES_AFFECTED = 10


class Assessment(msgspec.Struct, frozen=True):
    risk_class: str
    reasons: list[str]
    blocked: bool


def _norm(path: object) -> str:
    text = str(path).replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def _paths(info: dict[str, Any] | None, *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        value = (info or {}).get(key)
        if isinstance(value, list):
            out.extend(_norm(v) for v in value)
    return out


def _int(info: dict[str, Any] | None, *keys: str) -> int:
    for key in keys:
        value = (info or {}).get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return max(int(value), 0)
    return 0


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    lowered = path.lower()
    return any(fnmatch.fnmatch(lowered, p.lower()) for p in patterns)


def assess(decision_info: dict[str, Any], deletion_info: dict[str, Any] | None) -> Assessment:
    """The server's risk class for a decision (see the module doc for the rules)."""
    affected = _paths(decision_info, "files_affected", "files")
    removed = _paths(deletion_info, "files_removed", "files")
    lines = _int(deletion_info, "net_deletion", "lines_removed", "lines_deleted")
    every = affected + removed
    protected = sorted({p for p in every if _matches(p, PROTECTED_PATTERNS)})
    if protected:
        return Assessment("critical", [f"protected path: {p}" for p in protected[:10]], True)
    reasons: list[str] = []
    level = 0
    if lines > CRITICAL_LINES or len(removed) > CRITICAL_FILES:
        level = 3
        reasons.append(
            f"deletes {lines} lines / {len(removed)} files (critical above {CRITICAL_LINES} / {CRITICAL_FILES})"
        )
    elif lines > HIGH_LINES or len(removed) > HIGH_FILES:
        level = 2
        reasons.append(
            f"deletes {lines} lines / {len(removed)} files (high above {HIGH_LINES} / {HIGH_FILES})"
        )
    elif lines > 0 or removed:
        level = 1
        reasons.append(f"deletes {lines} lines / {len(removed)} files")
    sensitive = sorted({p for p in every if _matches(p, SENSITIVE_PATTERNS)})
    if sensitive:
        level = max(level, 2)
        reasons.extend(f"sensitive path: {p}" for p in sensitive[:10])
    if len(affected) > MEDIUM_FILES_AFFECTED:
        level = max(level, 1)
        reasons.append(f"touches {len(affected)} files")
    if not reasons:
        reasons.append("no deletion, no sensitive path")
    return Assessment(RISK_ORDER[level], reasons, False)


def _now() -> datetime:
    return datetime.now(UTC)


def _view(row: Any) -> dict[str, Any]:
    r = dict(row._mapping)
    return {
        "approval_id": r["id"],
        "run_id": r["run_id"],
        "phase_id": r["phase_id"],
        "status": r["status"],
        "risk_class": r["risk_class"],
        "risk_reasons": r["risk_reasons"],
        "decision_info": r["decision_info"],
        "deletion_info": r["deletion_info"],
        "requested_at": r["created_at"],
        "deadline_at": r["deadline_at"],
        "decided_at": r["decided_at"],
        "decided_by": r["decided_by"],
        "decision_source": r["decision_source"],
        "reason": r["decision_reason"],
        "telegram_status": r["telegram_status"],
    }


class ApprovalService:
    def __init__(
        self,
        db: Database,
        settings: OpsSettings,
        telegram: TelegramClient | None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self.settings = settings
        self.telegram = telegram
        self.clock = clock

    async def request(
        self,
        *,
        run_id: str | None,
        phase_id: str | None,
        decision_info: dict[str, Any],
        deletion_info: dict[str, Any] | None,
        context: dict[str, Any],
    ) -> dict[str, Any]:
        a = assess(decision_info, deletion_info)
        now = self.clock()
        approval_id = uuid.uuid4().hex
        claimed = decision_info.get("risk_level", decision_info.get("risk_class"))
        if a.blocked:
            status, source, reason = "rejected", "policy", "; ".join(a.reasons)
        elif self.settings.auto_approve_build113 and a.risk_class != "critical":
            status, source, reason = "approved", "auto", "AUTO_APPROVE_BUILD113"
        else:
            status, source, reason = "pending", None, None
        deadline = (
            now + timedelta(minutes=self.settings.approval_timeout_minutes) if status == "pending" else None
        )
        async with self.db.begin() as conn:
            await conn.execute(
                approvals.insert().values(
                    id=approval_id,
                    run_id=run_id,
                    phase_id=phase_id,
                    status=status,
                    risk_class=a.risk_class,
                    risk_reasons=a.reasons,
                    decision_info=decision_info,
                    deletion_info=deletion_info,
                    context=context,
                    created_at=now,
                    deadline_at=deadline,
                    decided_at=None if status == "pending" else now,
                    decided_by=None if status == "pending" else f"system:{source}",
                    decision_source=source,
                    decision_reason=reason,
                )
            )
            detail: dict[str, Any] = {"risk_class": a.risk_class, "reasons": a.reasons}
            if claimed is not None:
                detail["claimed_risk"] = str(claimed)[:32]
            await record_audit(
                conn,
                kind="approval",
                subject_id=approval_id,
                at=now,
                actor="executor",
                action="requested",
                outcome=status,
                detail=detail,
            )
            if status != "pending":
                await record_audit(
                    conn,
                    kind="approval",
                    subject_id=approval_id,
                    at=now,
                    actor=f"system:{source}",
                    action="decided",
                    outcome=status,
                    detail={"source": source, "reason": reason},
                )
        if status == "pending" and self.telegram is not None:
            await self._notify(approval_id, run_id, phase_id, a, deadline)
        return await self.get(approval_id, audit=False)

    async def _notify(
        self,
        approval_id: str,
        run_id: str | None,
        phase_id: str | None,
        a: Assessment,
        deadline: datetime | None,
    ) -> None:
        assert self.telegram is not None
        text = (
            f"Approval needed ({a.risk_class} risk)\nrun {run_id or '-'} phase {phase_id or '-'}\n"
            + "\n".join(f"- {r}" for r in a.reasons)
            + f"\nid {approval_id}\nexpires {deadline.isoformat() if deadline else '-'}"
        )
        message_id = await self.telegram.send_approval(approval_id, text)
        now = self.clock()
        async with self.db.begin() as conn:
            await conn.execute(
                approvals.update()
                .where(approvals.c.id == approval_id)
                .values(telegram_status="sent" if message_id else "failed", telegram_message_id=message_id)
            )
            await record_audit(
                conn,
                kind="approval",
                subject_id=approval_id,
                at=now,
                actor="system:telegram",
                action="notified",
                outcome="sent" if message_id else "failed",
                detail={},
            )

    async def expire_due(self) -> int:
        """Resolve every pending request past its deadline (and audit each); the number resolved."""
        now = self.clock()
        on_timeout = "approved" if self.settings.approval_default_on_timeout == "approve" else "rejected"
        async with self.db.begin() as conn:
            due = (
                await conn.execute(
                    sa.select(approvals.c.id, approvals.c.risk_class, approvals.c.telegram_message_id).where(
                        approvals.c.status == "pending", approvals.c.deadline_at <= now
                    )
                )
            ).all()
            done = 0
            edits: list[tuple[str, str, str]] = []
            for approval_id, risk, message_id in due:
                outcome = "rejected" if risk == "critical" else on_timeout
                res = await conn.execute(
                    approvals.update()
                    .where(approvals.c.id == approval_id, approvals.c.status == "pending")
                    .values(
                        status=outcome,
                        decided_at=now,
                        decided_by="system:timeout",
                        decision_source="timeout",
                        decision_reason=f"no decision before the deadline (APPROVAL_DEFAULT_ON_TIMEOUT={self.settings.approval_default_on_timeout})",
                    )
                )
                if res.rowcount:
                    done += 1
                    if message_id:
                        edits.append((approval_id, message_id, outcome))
                    await record_audit(
                        conn,
                        kind="approval",
                        subject_id=approval_id,
                        at=now,
                        actor="system:timeout",
                        action="decided",
                        outcome=outcome,
                        detail={"source": "timeout"},
                    )
        if self.telegram is not None:
            for approval_id, message_id, outcome in edits:  # the buttons no longer decide anything
                await self.telegram.edit_message(message_id, f"Approval {approval_id}: {outcome} (timed out)")
        return done

    async def get(self, approval_id: str, *, audit: bool = True) -> dict[str, Any]:
        await self.expire_due()
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(approvals.select().where(approvals.c.id == approval_id))).first()
            if row is None:
                raise NotFound("approval", approval_id, approval_id=approval_id)
            out = _view(row)
            if audit:
                out["audit"] = [
                    {k: e[k] for k in ("at", "actor", "action", "outcome", "detail")}
                    for e in await audit_trail(conn, "approval", approval_id)
                ]
        return out

    async def pending(self) -> list[dict[str, Any]]:
        await self.expire_due()
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                approvals.select()
                .where(approvals.c.status == "pending")
                .order_by(approvals.c.created_at, approvals.c.id)
            )
            return [_view(r) for r in rows]

    async def decide(self, approval_id: str, *, approved: bool, actor: str, source: str) -> dict[str, Any]:
        await self.expire_due()
        now = self.clock()
        outcome = "approved" if approved else "rejected"
        async with self.db.begin() as conn:
            res = await conn.execute(
                approvals.update()
                .where(approvals.c.id == approval_id, approvals.c.status == "pending")
                .values(
                    status=outcome,
                    decided_at=now,
                    decided_by=actor[:200],
                    decision_source=source,
                    decision_reason=f"{outcome} by {actor}"[:1000],
                )
            )
            if res.rowcount:
                await record_audit(
                    conn,
                    kind="approval",
                    subject_id=approval_id,
                    at=now,
                    actor=actor,
                    action="decided",
                    outcome=outcome,
                    detail={"source": source},
                )
        if not res.rowcount:
            current = await self.get(approval_id, audit=False)  # 404 when unknown
            raise OPS.error("approval_already_decided", approval_id=approval_id, state=current["status"])
        return await self.get(approval_id)

    async def telegram_callback(self, update: dict[str, Any]) -> dict[str, Any]:
        """Act on a callback query from the approval buttons (the caller verified the secret token)."""
        query = update.get("callback_query")
        if not isinstance(query, dict):
            return {"ok": True, "handled": False, "reason": "not a callback query"}
        parsed = parse_callback_data(str(query.get("data", "")))
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        chat_id = str(((message or {}).get("chat") or {}).get("id", ""))
        if parsed is None:
            return {"ok": True, "handled": False, "reason": "unknown callback data"}
        if self.telegram is None or chat_id != str(self.telegram.chat_id):
            # Only the configured chat's buttons decide anything.
            return {"ok": True, "handled": False, "reason": "callback from another chat"}
        action, approval_id = parsed
        user = query.get("from") or {}
        actor = f"telegram:{user.get('username') or user.get('id', 'unknown')}"
        try:
            view = await self.decide(approval_id, approved=action == APPROVE, actor=actor, source="telegram")
            answer = f"{view['status']} by {actor}"
            handled = True
        except EngineError as exc:  # the button must always get an answer
            code = getattr(exc, "reason_code", "error")
            answer, handled, view = f"not applied: {code}", False, None
        cq_id = str(query.get("id", ""))
        if cq_id:
            await self.telegram.answer_callback(cq_id, answer)
        if handled and view is not None and message.get("message_id") is not None:
            await self.telegram.edit_message(str(message["message_id"]), f"Approval {approval_id}: {answer}")
        return {
            "ok": True,
            "handled": handled,
            "approval_id": approval_id,
            "status": view["status"] if view else None,
        }
