"""Runs, tiers and phases: the queries and writes behind contract 003 sections 1, 3, 4, 5 and 10.

Token accounting (no double counting): every builder and auditor result adds one row to the token
ledger (``autopack_token_usage``); ``update_status`` may also carry the executor's *cumulative* count
for the phase, which covers those same calls. A phase's spend is therefore
``max(ledger sum, reported cumulative)``, never their sum, and a run's spend is the sum over its
phases. Savings (artifact substitution), counterfactual estimates (Doctor calls skipped) and A/B
deltas are kept in their own tables and never added to the spend.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.autopack import lifecycle, patching
from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.store import (
    ab_results,
    auditor_results,
    builder_results,
    error_reports,
    issues,
    model_overrides,
    phase6_metrics,
    phases,
    runs,
    tiers,
    token_efficiency,
    token_usage,
)
from ridgeline.autopack.models import DEFAULT_MAPPINGS, GENERAL
from ridgeline.autopack.settings import AutopackSettings
from ridgeline.platform.db import Database
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.problems import EngineError, NotFound

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}


def _now() -> datetime:
    return datetime.now(UTC)


def _dict(row: Any) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}


class RunService:
    def __init__(
        self,
        db: Database,
        settings: AutopackSettings,
        data_dir: Path,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.runs_dir = (settings.runs_dir or data_dir / "autopack" / "runs").resolve()
        self.notes_file = settings.notes_file or data_dir / "autopack" / "human_notes.md"
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- paths ------------------------------------------------------------------------------

    def run_dir(self, run_id: str) -> Path:
        # run ids are validated at creation (RunId pattern), so this is one plain segment
        return self.runs_dir / run_id

    def workspace(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "workspace"

    # ---- section 1 --------------------------------------------------------------------------

    async def start_run(self, req: S.RunStartRequest) -> S.RunResponse:
        run = req.run
        tier_ids = [t.tier_id for t in req.tiers]
        if len(set(tier_ids)) != len(tier_ids):
            dup = next(t for t, n in Counter(tier_ids).items() if n > 1)
            raise EngineError(422, "invalid_run_plan", f"Tier id {dup} appears twice.", tier_id=dup)
        phase_ids = [p.phase_id for p in req.phases]
        if len(set(phase_ids)) != len(phase_ids):
            dup = next(p for p, n in Counter(phase_ids).items() if n > 1)
            raise EngineError(422, "invalid_run_plan", f"Phase id {dup} appears twice.", phase_id=dup)
        known = set(tier_ids)
        for p in req.phases:
            if p.tier_id not in known:
                raise EngineError(
                    422,
                    "invalid_run_plan",
                    f"Phase {p.phase_id} names tier {p.tier_id}, which the run does not have.",
                    phase_id=p.phase_id,
                    tier_id=p.tier_id,
                )
        if len(req.phases) > run.max_phases:
            raise EngineError(
                422,
                "invalid_run_plan",
                f"The run has {len(req.phases)} phases, more than its max_phases ({run.max_phases}).",
            )
        now = self.clock()
        async with self.db.begin() as conn:
            exists = (await conn.execute(sa.select(runs.c.id).where(runs.c.id == run.run_id))).first()
            if exists is not None:
                raise EngineError(409, "run_exists", f"Run {run.run_id} already exists.", run_id=run.run_id)
            await conn.execute(
                runs.insert().values(
                    id=run.run_id,
                    state="RUN_CREATED",
                    goal=run.goal,
                    safety_profile=run.safety_profile,
                    run_scope=run.run_scope,
                    token_cap=run.token_cap,
                    max_phases=run.max_phases,
                    max_duration_minutes=run.max_duration_minutes,
                    max_minor_issues_total=run.max_minor_issues_total,
                    metadata=run.metadata,
                    created_at=now,
                    started_at=now,
                    updated_at=now,
                )
            )
            if req.tiers:
                await conn.execute(
                    tiers.insert(),
                    [
                        {
                            "run_id": run.run_id,
                            "tier_id": t.tier_id,
                            "tier_index": t.tier_index,
                            "name": t.name,
                            "description": t.description,
                            "state": "QUEUED",
                            "created_at": now,
                        }
                        for t in req.tiers
                    ],
                )
            if req.phases:
                await conn.execute(
                    phases.insert(),
                    [
                        {
                            "run_id": run.run_id,
                            "phase_id": p.phase_id,
                            "tier_id": p.tier_id,
                            "phase_index": p.phase_index,
                            "name": p.name,
                            "description": p.description,
                            "task_category": p.task_category,
                            "complexity": p.complexity,
                            "builder_mode": p.builder_mode,
                            "scope": msgspec.to_builtins(p.scope or S.PhaseScope()),
                            "state": "QUEUED",
                            "max_builder_attempts": p.max_builder_attempts,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for p in req.phases
                    ],
                )
        await asyncio.to_thread(self.workspace(run.run_id).mkdir, parents=True, exist_ok=True)
        return await self.get_run(run.run_id)

    async def _run_row(self, conn: AsyncConnection, run_id: str) -> dict[str, Any]:
        row = (await conn.execute(sa.select(runs).where(runs.c.id == run_id))).first()
        if row is None:
            raise NotFound("run", run_id, run_id=run_id)
        return _dict(row)

    async def _phase_row(self, conn: AsyncConnection, run_id: str, phase_id: str) -> dict[str, Any]:
        row = (
            await conn.execute(
                sa.select(phases).where(phases.c.run_id == run_id, phases.c.phase_id == phase_id)
            )
        ).first()
        if row is None:
            await self._run_row(conn, run_id)  # 404 run_not_found first
            raise NotFound("phase", phase_id, run_id=run_id, phase_id=phase_id)
        return _dict(row)

    async def ensure_run(self, run_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return await self._run_row(conn, run_id)

    @staticmethod
    def _phase_out(p: dict[str, Any]) -> S.PhaseResponse:
        return S.PhaseResponse(
            phase_id=p["phase_id"],
            tier_id=p["tier_id"],
            phase_index=p["phase_index"],
            name=p["name"],
            description=p["description"],
            task_category=p["task_category"],
            complexity=p["complexity"],
            builder_mode=p["builder_mode"],
            scope=msgspec.convert(p["scope"] or {}, S.PhaseScope),
            state=p["state"],
            builder_attempts=p["builder_attempts"],
            auditor_attempts=p["auditor_attempts"],
            max_builder_attempts=p["max_builder_attempts"],
            tokens_used=p["tokens_used"],
            minor_issues_count=p["minor_issues_count"],
            major_issues_count=p["major_issues_count"],
            quality_level=p["quality_level"],
            quality_blocked=bool(p["quality_blocked"]),
            last_failure_reason=p["last_failure_reason"],
            created_at=p["created_at"],
            started_at=p["started_at"],
            completed_at=p["completed_at"],
            updated_at=p["updated_at"],
        )

    async def _run_parts(
        self, conn: AsyncConnection, run_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        run = await self._run_row(conn, run_id)
        tier_rows = [
            _dict(r)
            for r in await conn.execute(
                sa.select(tiers).where(tiers.c.run_id == run_id).order_by(tiers.c.tier_index, tiers.c.tier_id)
            )
        ]
        order = {t["tier_id"]: i for i, t in enumerate(tier_rows)}
        phase_rows = [
            _dict(r) for r in await conn.execute(sa.select(phases).where(phases.c.run_id == run_id))
        ]
        phase_rows.sort(key=lambda p: (order.get(p["tier_id"], 1 << 30), p["phase_index"], p["phase_id"]))
        return run, tier_rows, phase_rows

    @staticmethod
    def _tier_state(states: list[str]) -> str:
        if not states or all(s == "QUEUED" for s in states):
            return "QUEUED"
        if all(s in lifecycle.FINAL_PHASE_STATES for s in states):
            return "COMPLETE"
        if any(s == "FAILED" for s in states) and all(
            s in lifecycle.FINAL_PHASE_STATES or s == "FAILED" for s in states
        ):
            return "FAILED"
        return "IN_PROGRESS"

    async def get_run(self, run_id: str) -> S.RunResponse:
        async with self.db.engine.connect() as conn:
            run, tier_rows, phase_rows = await self._run_parts(conn, run_id)
        by_tier: dict[str, list[S.PhaseResponse]] = defaultdict(list)
        out_phases = [self._phase_out(p) for p in phase_rows]
        for p in out_phases:
            by_tier[p.tier_id].append(p)
        tier_out = [
            S.TierResponse(
                tier_id=t["tier_id"],
                tier_index=t["tier_index"],
                name=t["name"],
                description=t["description"],
                state=self._tier_state([p.state for p in by_tier[t["tier_id"]]]),
                phases=by_tier[t["tier_id"]],
            )
            for t in tier_rows
        ]
        return S.RunResponse(
            id=run["id"],
            state=run["state"],
            goal=run["goal"],
            safety_profile=run["safety_profile"],
            run_scope=run["run_scope"],
            token_cap=run["token_cap"],
            max_phases=run["max_phases"],
            max_duration_minutes=run["max_duration_minutes"],
            max_minor_issues_total=run["max_minor_issues_total"],
            tokens_used=run["tokens_used"],
            ci_runs_used=run["ci_runs_used"],
            minor_issues_count=run["minor_issues_count"],
            major_issues_count=run["major_issues_count"],
            failure_reason=run["failure_reason"],
            metadata=run["metadata"] or {},
            created_at=run["created_at"],
            started_at=run["started_at"],
            completed_at=run["completed_at"],
            updated_at=run["updated_at"],
            tiers=tier_out,
            phases=out_phases,
        )

    async def _refresh_tokens(self, conn: AsyncConnection, run_id: str, phase_id: str | None) -> None:
        """phase.tokens_used = max(ledger, reported); run.tokens_used = sum over phases."""
        if phase_id is not None:
            ledger = (
                sa.select(
                    sa.func.coalesce(
                        sa.func.sum(token_usage.c.prompt_tokens + token_usage.c.completion_tokens), 0
                    )
                )
                .where(token_usage.c.run_id == run_id, token_usage.c.phase_id == phase_id)
                .scalar_subquery()
            )
            await conn.execute(
                phases.update()
                .where(phases.c.run_id == run_id, phases.c.phase_id == phase_id)
                .values(
                    tokens_used=sa.case(
                        (ledger > phases.c.reported_tokens, ledger), else_=phases.c.reported_tokens
                    )
                )
            )
        total = (
            sa.select(sa.func.coalesce(sa.func.sum(phases.c.tokens_used), 0))
            .where(phases.c.run_id == run_id)
            .scalar_subquery()
        )
        await conn.execute(runs.update().where(runs.c.id == run_id).values(tokens_used=total))

    async def _refresh_run_state(self, conn: AsyncConnection, run_id: str, now: datetime) -> str:
        states = [
            r[0] for r in await conn.execute(sa.select(phases.c.state).where(phases.c.run_id == run_id))
        ]
        state = lifecycle.run_state_for(states)
        done = state.startswith("DONE_")
        failure = None
        if state == "DONE_FAILED_REQUIRES_HUMAN_REVIEW":
            failure = "one or more phases failed"
        await conn.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(
                state=state,
                updated_at=now,
                completed_at=sa.case((runs.c.completed_at.is_(None), now), else_=runs.c.completed_at)
                if done
                else None,
                failure_reason=failure,
            )
        )
        return state

    def _phase6_on(self) -> bool:
        return self.settings.enable_phase6_metrics

    async def _record_telemetry(
        self,
        conn: AsyncConnection,
        run_id: str,
        phase_id: str,
        eff: S.TokenEfficiency | None,
        p6: S.Phase6Telemetry | None,
        now: datetime,
    ) -> bool:
        if eff is not None:
            await conn.execute(
                token_efficiency.delete().where(
                    token_efficiency.c.run_id == run_id, token_efficiency.c.phase_id == phase_id
                )
            )
            await conn.execute(
                token_efficiency.insert().values(
                    run_id=run_id, phase_id=phase_id, created_at=now, **msgspec.structs.asdict(eff)
                )
            )
        if p6 is None or not self._phase6_on():
            return False
        await conn.execute(
            phase6_metrics.delete().where(
                phase6_metrics.c.run_id == run_id, phase6_metrics.c.phase_id == phase_id
            )
        )
        await conn.execute(
            phase6_metrics.insert().values(
                run_id=run_id, phase_id=phase_id, created_at=now, **msgspec.structs.asdict(p6)
            )
        )
        return True

    async def update_status(
        self, run_id: str, phase_id: str, upd: S.PhaseStatusUpdate
    ) -> S.PhaseStatusResponse:
        now = self.clock()
        async with self.db.begin() as conn:
            phase = await self._phase_row(conn, run_id, phase_id)
            current = phase["state"]
            lifecycle.check_transition(phase_id, current, upd.state)
            values: dict[str, Any] = {"state": upd.state, "updated_at": now}
            if upd.state == "EXECUTING" and phase["started_at"] is None:
                values["started_at"] = now
            if upd.state in lifecycle.FINAL_PHASE_STATES or upd.state == "FAILED":
                values["completed_at"] = now
            elif current == "FAILED":
                values["completed_at"] = None
            if upd.builder_attempts is not None:
                values["builder_attempts"] = max(upd.builder_attempts, phase["builder_attempts"])
            if upd.tokens_used is not None:
                values["reported_tokens"] = max(upd.tokens_used, phase["reported_tokens"])
            if upd.quality_level is not None:
                values["quality_level"] = upd.quality_level
            if upd.quality_blocked is not None:
                values["quality_blocked"] = upd.quality_blocked
            if upd.failure_reason is not None:
                values["last_failure_reason"] = upd.failure_reason
            # Conditional on the state read: a concurrent transition makes this one re-validate.
            res = await conn.execute(
                phases.update()
                .where(phases.c.run_id == run_id, phases.c.phase_id == phase_id, phases.c.state == current)
                .values(**values)
            )
            if res.rowcount != 1:
                fresh = await self._phase_row(conn, run_id, phase_id)
                raise lifecycle.IllegalTransition(phase_id, fresh["state"], upd.state)
            if upd.state == "CI_RUNNING" and current != "CI_RUNNING":
                await conn.execute(
                    runs.update().where(runs.c.id == run_id).values(ci_runs_used=runs.c.ci_runs_used + 1)
                )
            if upd.error is not None:
                await self._error(
                    conn,
                    run_id,
                    phase_id,
                    upd.error.component,
                    upd.error.error_type,
                    upd.error.message,
                    upd.error.context,
                    now,
                )
            recorded6 = await self._record_telemetry(
                conn, run_id, phase_id, upd.token_efficiency, upd.phase6, now
            )
            await self._refresh_tokens(conn, run_id, phase_id)
            run_state = await self._refresh_run_state(conn, run_id, now)
            tokens = (
                await conn.execute(
                    sa.select(phases.c.tokens_used).where(
                        phases.c.run_id == run_id, phases.c.phase_id == phase_id
                    )
                )
            ).scalar_one()
        return S.PhaseStatusResponse(
            message=f"Phase {phase_id} updated to {upd.state}",
            run_id=run_id,
            phase_id=phase_id,
            previous_state=current,
            state=upd.state,
            run_state=run_state,
            tokens_used=tokens,
            phase6_recorded=recorded6,
            updated_at=now,
        )

    async def _error(
        self,
        conn: AsyncConnection,
        run_id: str,
        phase_id: str | None,
        component: str,
        error_type: str,
        message: str,
        context: dict[str, Any],
        now: datetime,
    ) -> None:
        await conn.execute(
            error_reports.insert().values(
                run_id=run_id,
                phase_id=phase_id,
                component=component,
                error_type=error_type,
                message=message,
                context=context,
                created_at=now,
            )
        )

    @staticmethod
    def _usage_row(
        run_id: str, phase_id: str, role: str, tokens: int, usage: S.LlmUsage | None, now: datetime
    ) -> dict[str, Any] | None:
        u = usage or S.LlmUsage()
        if u.prompt_tokens is not None or u.completion_tokens is not None:
            prompt, completion = u.prompt_tokens or 0, u.completion_tokens or 0
        else:
            prompt, completion = tokens, 0
        if prompt + completion == 0:
            return None
        return {
            "run_id": run_id,
            "phase_id": phase_id,
            "role": role,
            "provider": u.provider,
            "model": u.model,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "created_at": now,
        }

    def _lock(self, run_id: str) -> asyncio.Lock:
        return self._locks.setdefault(run_id, asyncio.Lock())

    @contextmanager
    def _file_lock(self, run_id: str) -> Iterator[None]:
        # Across worker processes: one patch at a time per run (the lock file lives outside the run
        # directory, so the artifact index does not list it).
        path = self.runs_dir / ".locks" / f"{run_id}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _apply_locked(self, run_id: str, diff: str) -> patching.PatchOutcome:
        with self._file_lock(run_id):
            return patching.apply(self.workspace(run_id), diff)

    async def builder_result(
        self, run_id: str, phase_id: str, res: S.BuilderResult
    ) -> S.BuilderResultResponse:
        now = self.clock()
        async with self.db.engine.connect() as conn:
            phase = await self._phase_row(conn, run_id, phase_id)
        if phase["state"] in lifecycle.FINAL_PHASE_STATES:
            raise EngineError(
                409,
                "phase_final",
                f"Phase {phase_id} is {phase['state']}; it takes no more results.",
                phase_id=phase_id,
                state=phase["state"],
            )
        attempt = phase["builder_attempts"] + 1
        diff = res.patch_content or ""
        outcome = patching.PatchOutcome()
        sha = None
        if diff.strip():
            if len(diff.encode()) > self.settings.max_patch_bytes:
                raise EngineError(
                    413,
                    "patch_too_large",
                    f"The patch is larger than AUTOPACK_MAX_PATCH_BYTES ({self.settings.max_patch_bytes}).",
                )
            sha = sha256_hex(diff)
            if res.status == "success":
                async with self._lock(run_id):
                    try:
                        outcome = await asyncio.to_thread(self._apply_locked, run_id, diff)
                    except patching.PatchError as exc:
                        async with self.db.begin() as conn:
                            await self._error(
                                conn,
                                run_id,
                                phase_id,
                                "builder",
                                exc.reason_code,
                                exc.message,
                                {"attempt": attempt, "patch_sha256": sha, **exc.extra},
                                now,
                            )
                        raise
        applied = bool(outcome.files)
        files = [
            S.FileChangeOut(
                path=f.path,
                kind=f.kind,
                lines_added=f.lines_added,
                lines_removed=f.lines_removed,
                source_path=f.source_path,
            )
            for f in outcome.files
        ]
        usage = self._usage_row(run_id, phase_id, "builder", res.tokens_used, res.usage, now)
        async with self.db.begin() as conn:
            await conn.execute(
                builder_results.insert().values(
                    run_id=run_id,
                    phase_id=phase_id,
                    attempt=attempt,
                    status=res.status,
                    patch_sha256=sha,
                    patch_applied=applied,
                    files_changed=[msgspec.to_builtins(f) for f in files],
                    lines_added=outcome.lines_added,
                    lines_removed=outcome.lines_removed,
                    tokens_used=(usage["prompt_tokens"] + usage["completion_tokens"]) if usage else 0,
                    provider=res.usage.provider if res.usage else None,
                    model=res.usage.model if res.usage else None,
                    notes=res.notes,
                    messages=res.builder_messages,
                    created_at=now,
                )
            )
            await conn.execute(
                phases.update()
                .where(phases.c.run_id == run_id, phases.c.phase_id == phase_id)
                .values(builder_attempts=phases.c.builder_attempts + 1, updated_at=now)
            )
            if usage is not None:
                await conn.execute(token_usage.insert().values(**usage))
            await self._record_telemetry(conn, run_id, phase_id, res.token_efficiency, res.phase6, now)
            await self._refresh_tokens(conn, run_id, phase_id)
            phase_tokens = (
                await conn.execute(
                    sa.select(phases.c.tokens_used).where(
                        phases.c.run_id == run_id, phases.c.phase_id == phase_id
                    )
                )
            ).scalar_one()
        n = len(files)
        return S.BuilderResultResponse(
            message=(
                f"Builder result recorded; patch applied to {n} file{'s' if n != 1 else ''}"
                if applied
                else "Builder result recorded; no patch applied"
            ),
            run_id=run_id,
            phase_id=phase_id,
            attempt=attempt,
            patch_applied=applied,
            patch_sha256=sha,
            files=files,
            lines_added=outcome.lines_added,
            lines_removed=outcome.lines_removed,
            tokens_recorded=(usage["prompt_tokens"] + usage["completion_tokens"]) if usage else 0,
            phase_tokens_used=phase_tokens,
        )

    async def auditor_result(
        self, run_id: str, phase_id: str, res: S.AuditorResult
    ) -> S.AuditorResultResponse:
        now = self.clock()
        usage = self._usage_row(run_id, phase_id, "auditor", res.tokens_used, res.usage, now)
        async with self.db.begin() as conn:
            phase = await self._phase_row(conn, run_id, phase_id)
            if phase["state"] in lifecycle.FINAL_PHASE_STATES:
                raise EngineError(
                    409,
                    "phase_final",
                    f"Phase {phase_id} is {phase['state']}; it takes no more results.",
                    phase_id=phase_id,
                    state=phase["state"],
                )
            attempt = phase["auditor_attempts"] + 1
            await conn.execute(
                auditor_results.insert().values(
                    run_id=run_id,
                    phase_id=phase_id,
                    attempt=attempt,
                    recommendation=res.recommendation,
                    confidence=res.confidence,
                    issues_found=[msgspec.to_builtins(i) for i in res.issues_found],
                    suggested_patches=res.suggested_patches,
                    tokens_used=(usage["prompt_tokens"] + usage["completion_tokens"]) if usage else 0,
                    provider=res.usage.provider if res.usage else None,
                    model=res.usage.model if res.usage else None,
                    messages=res.auditor_messages,
                    created_at=now,
                )
            )
            await conn.execute(
                phases.update()
                .where(phases.c.run_id == run_id, phases.c.phase_id == phase_id)
                .values(auditor_attempts=phases.c.auditor_attempts + 1, updated_at=now)
            )
            for issue in res.issues_found:
                key = issue.issue_key or (
                    f"{issue.category}:" + hashlib.sha256(issue.description.encode()).hexdigest()[:12]
                )
                await self._record_issue(
                    conn,
                    phase,
                    S.IssueRecordRequest(
                        issue_key=key,
                        severity=issue.severity,
                        source="auditor",
                        category=issue.category,
                        description=issue.description,
                        evidence_refs=[issue.location] if issue.location else [],
                    ),
                    now,
                )
            if usage is not None:
                await conn.execute(token_usage.insert().values(**usage))
            await self._refresh_tokens(conn, run_id, phase_id)
        return S.AuditorResultResponse(
            message="Auditor result recorded",
            run_id=run_id,
            phase_id=phase_id,
            attempt=attempt,
            recommendation=res.recommendation,
            issues_recorded=len(res.issues_found),
            tokens_recorded=(usage["prompt_tokens"] + usage["completion_tokens"]) if usage else 0,
        )

    async def _record_issue(
        self, conn: AsyncConnection, phase: dict[str, Any], req: S.IssueRecordRequest, now: datetime
    ) -> tuple[int, bool]:
        run_id, phase_id = phase["run_id"], phase["phase_id"]
        existing = (
            await conn.execute(
                sa.select(issues.c.id, issues.c.occurrences, issues.c.severity).where(
                    issues.c.run_id == run_id,
                    issues.c.phase_id == phase_id,
                    issues.c.issue_key == req.issue_key,
                )
            )
        ).first()
        if existing is not None:
            await conn.execute(
                issues.update()
                .where(issues.c.id == existing.id)
                .values(
                    occurrences=issues.c.occurrences + 1,
                    last_seen_at=now,
                    description=req.description or issues.c.description,
                    evidence_refs=req.evidence_refs,
                )
            )
            return existing.occurrences + 1, False
        await conn.execute(
            issues.insert().values(
                run_id=run_id,
                phase_id=phase_id,
                tier_id=phase["tier_id"],
                issue_key=req.issue_key,
                severity=req.severity,
                source=req.source,
                category=req.category,
                description=req.description,
                evidence_refs=req.evidence_refs,
                occurrences=1,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        column = "minor_issues_count" if req.severity == "minor" else "major_issues_count"
        await conn.execute(
            phases.update()
            .where(phases.c.run_id == run_id, phases.c.phase_id == phase_id)
            .values({column: phases.c[column] + 1, "updated_at": now})
        )
        await conn.execute(runs.update().where(runs.c.id == run_id).values({column: runs.c[column] + 1}))
        return 1, True

    async def record_issue(
        self, run_id: str, phase_id: str, req: S.IssueRecordRequest
    ) -> S.IssueRecordResponse:
        now = self.clock()
        async with self.db.begin() as conn:
            phase = await self._phase_row(conn, run_id, phase_id)
            occurrences, new = await self._record_issue(conn, phase, req, now)
            counts = (
                await conn.execute(
                    sa.select(phases.c.minor_issues_count, phases.c.major_issues_count).where(
                        phases.c.run_id == run_id, phases.c.phase_id == phase_id
                    )
                )
            ).one()
        return S.IssueRecordResponse(
            message=f"Issue {req.issue_key} recorded (occurrence {occurrences})",
            run_id=run_id,
            phase_id=phase_id,
            issue_key=req.issue_key,
            occurrences=occurrences,
            new_issue=new,
            phase_minor_issues=counts.minor_issues_count,
            phase_major_issues=counts.major_issues_count,
        )

    # ---- section 4 --------------------------------------------------------------------------

    async def issue_index(self, run_id: str) -> S.RunIssueIndex:
        async with self.db.engine.connect() as conn:
            await self._run_row(conn, run_id)
            rows = [
                _dict(r)
                for r in await conn.execute(
                    sa.select(issues)
                    .where(issues.c.run_id == run_id)
                    .order_by(issues.c.first_seen_at, issues.c.id)
                )
            ]
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            grouped[r["issue_key"]].append(r)
        out: list[S.IssueOut] = []
        for key, group in grouped.items():
            latest = max(group, key=lambda r: r["last_seen_at"])
            out.append(
                S.IssueOut(
                    issue_key=key,
                    severity="major" if any(r["severity"] == "major" for r in group) else "minor",
                    source=latest["source"],
                    category=latest["category"],
                    description=latest["description"],
                    evidence_refs=sorted({e for r in group for e in r["evidence_refs"] or []}),
                    occurrences=sum(r["occurrences"] for r in group),
                    phase_ids=sorted({r["phase_id"] for r in group}),
                    tier_ids=sorted({r["tier_id"] for r in group}),
                    first_seen_at=min(r["first_seen_at"] for r in group),
                    last_seen_at=latest["last_seen_at"],
                )
            )
        out.sort(key=lambda i: (-i.occurrences, i.issue_key))
        return S.RunIssueIndex(
            run_id=run_id,
            total_issues=len(out),
            minor_issues=sum(1 for i in out if i.severity == "minor"),
            major_issues=sum(1 for i in out if i.severity == "major"),
            total_occurrences=sum(i.occurrences for i in out),
            by_phase=dict(Counter(r["phase_id"] for r in rows)),
            issues=out,
        )

    async def backlog(self, limit: int, offset: int) -> S.ProjectBacklog:
        agg = (
            sa.select(
                issues.c.issue_key,
                sa.func.sum(issues.c.occurrences).label("occurrences"),
                sa.func.count(sa.distinct(issues.c.run_id)).label("runs_affected"),
                sa.func.max(sa.case((issues.c.severity == "major", 1), else_=0)).label("major"),
                sa.func.min(issues.c.first_seen_at).label("first_seen_at"),
                sa.func.max(issues.c.last_seen_at).label("last_seen_at"),
            )
            .group_by(issues.c.issue_key)
            .subquery()
        )
        async with self.db.engine.connect() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(agg))).scalar_one()
            page = [
                _dict(r)
                for r in await conn.execute(
                    sa.select(agg)
                    .order_by(agg.c.runs_affected.desc(), agg.c.occurrences.desc(), agg.c.issue_key)
                    .limit(limit)
                    .offset(offset)
                )
            ]
            keys = [p["issue_key"] for p in page]
            detail: dict[str, list[dict[str, Any]]] = defaultdict(list)
            if keys:
                for r in await conn.execute(
                    sa.select(
                        issues.c.issue_key,
                        issues.c.run_id,
                        issues.c.category,
                        issues.c.description,
                        issues.c.last_seen_at,
                    )
                    .where(issues.c.issue_key.in_(keys))
                    .order_by(issues.c.last_seen_at.desc(), issues.c.id.desc())
                ):
                    detail[r.issue_key].append(_dict(r))
        items = []
        for p in page:
            rows = detail[p["issue_key"]]
            run_ids: list[str] = []
            for r in rows:
                if r["run_id"] not in run_ids:
                    run_ids.append(r["run_id"])
            items.append(
                S.BacklogItem(
                    issue_key=p["issue_key"],
                    severity="major" if p["major"] else "minor",
                    category=rows[0]["category"] if rows else "",
                    description=rows[0]["description"] if rows else "",
                    occurrences=int(p["occurrences"]),
                    runs_affected=int(p["runs_affected"]),
                    run_ids=run_ids[:20],
                    first_seen_at=_aware(p["first_seen_at"]),
                    last_seen_at=_aware(p["last_seen_at"]),
                )
            )
        return S.ProjectBacklog(total_issues=total, limit=limit, offset=offset, issues=items)

    # ---- section 5 --------------------------------------------------------------------------

    async def _errors(self, run_id: str) -> list[S.ErrorReportOut]:
        async with self.db.engine.connect() as conn:
            await self._run_row(conn, run_id)
            rows = await conn.execute(
                sa.select(error_reports)
                .where(error_reports.c.run_id == run_id)
                .order_by(error_reports.c.created_at, error_reports.c.id)
            )
            return [S.ErrorReportOut(**{**_dict(r), "context": r.context or {}}) for r in rows]

    async def errors(self, run_id: str) -> S.ErrorReportList:
        reports = await self._errors(run_id)
        return S.ErrorReportList(run_id=run_id, total=len(reports), errors=reports)

    async def error_summary(self, run_id: str) -> S.ErrorSummary:
        reports = await self._errors(run_id)
        return S.ErrorSummary(
            run_id=run_id,
            total_errors=len(reports),
            by_type=dict(Counter(r.error_type for r in reports)),
            by_component=dict(Counter(r.component for r in reports)),
            by_phase=dict(Counter(r.phase_id or "" for r in reports)),
            first_error_at=reports[0].created_at if reports else None,
            last_error_at=reports[-1].created_at if reports else None,
            latest=reports[-1] if reports else None,
        )

    # ---- section 10: inbox and progress -----------------------------------------------------

    async def list_runs(self, limit: int, offset: int) -> S.RunList:
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(INBOX, {"limit": limit, "offset": offset})).all()
            if rows:
                total = int(rows[0].total)
            else:  # past the end (or no runs): the page carried no total
                total = (await conn.execute(sa.select(sa.func.count()).select_from(runs))).scalar_one()
        out = [
            S.RunSummary(
                run_id=r.id,
                state=r.state,
                goal=r.goal,
                created_at=r.created_at,
                updated_at=r.updated_at,
                tokens_used=r.tokens_used,
                token_cap=r.token_cap,
                phases_total=int(r.phases_total),
                phases_completed=int(r.phases_completed),
                phases_in_progress=int(r.phases_in_progress),
                phases_pending=int(r.phases_pending),
                phases_failed=int(r.phases_failed),
            )
            for r in rows
        ]
        return S.RunList(runs=out, total=total, limit=limit, offset=offset)

    async def progress(self, run_id: str) -> S.RunProgress:
        async with self.db.engine.connect() as conn:
            run, _, phase_rows = await self._run_parts(conn, run_id)
        states = Counter(p["state"] for p in phase_rows)
        started = run["started_at"]
        end = run["completed_at"] or self.clock()
        return S.RunProgress(
            run_id=run_id,
            state=run["state"],
            phases_total=len(phase_rows),
            phases_completed=sum(states[s] for s in lifecycle.FINAL_PHASE_STATES),
            phases_in_progress=sum(states[s] for s in lifecycle.IN_PROGRESS_STATES),
            phases_pending=states["QUEUED"],
            phases_failed=states["FAILED"],
            phases=[
                S.ProgressPhase(
                    phase_id=p["phase_id"],
                    tier_id=p["tier_id"],
                    name=p["name"],
                    state=p["state"],
                    builder_attempts=p["builder_attempts"],
                    max_builder_attempts=p["max_builder_attempts"],
                    tokens_used=p["tokens_used"],
                    started_at=p["started_at"],
                    completed_at=p["completed_at"],
                )
                for p in phase_rows
            ],
            tokens_used=run["tokens_used"],
            token_cap=run["token_cap"],
            token_utilization=round(100.0 * run["tokens_used"] / run["token_cap"], 4)
            if run["token_cap"]
            else 0.0,
            started_at=started,
            elapsed_seconds=max(0.0, (end - started).total_seconds()) if started else 0.0,
        )

    # ---- section 3: dashboard ---------------------------------------------------------------

    async def dashboard_status(self, run_id: str) -> S.DashboardRunStatus:
        async with self.db.engine.connect() as conn:
            run, tier_rows, phase_rows = await self._run_parts(conn, run_id)
        current = next((p for p in phase_rows if p["state"] not in lifecycle.FINAL_PHASE_STATES), None)
        tier_index = {t["tier_id"]: t["tier_index"] for t in tier_rows}
        by_tier: dict[str, list[str]] = defaultdict(list)
        for p in phase_rows:
            by_tier[p["tier_id"]].append(p["state"])
        completed = sum(1 for p in phase_rows if p["state"] in lifecycle.FINAL_PHASE_STATES)
        total = len(phase_rows)
        return S.DashboardRunStatus(
            run_id=run_id,
            state=run["state"],
            current_tier_id=current["tier_id"] if current else None,
            current_tier_index=tier_index.get(current["tier_id"]) if current else None,
            current_phase_id=current["phase_id"] if current else None,
            current_phase_name=current["name"] if current else None,
            current_phase_state=current["state"] if current else None,
            total_tiers=len(tier_rows),
            completed_tiers=sum(
                1
                for t in tier_rows
                if by_tier[t["tier_id"]]
                and all(s in lifecycle.FINAL_PHASE_STATES for s in by_tier[t["tier_id"]])
            ),
            total_phases=total,
            completed_phases=completed,
            failed_phases=sum(1 for p in phase_rows if p["state"] == "FAILED"),
            percent_complete=round(100.0 * completed / total, 2) if total else 0.0,
            tokens_used=run["tokens_used"],
            token_cap=run["token_cap"],
            token_utilization=round(100.0 * run["tokens_used"] / run["token_cap"], 4)
            if run["token_cap"]
            else 0.0,
            minor_issues_count=run["minor_issues_count"],
            major_issues_count=run["major_issues_count"],
            quality_blocked=any(bool(p["quality_blocked"]) for p in phase_rows),
            created_at=run["created_at"],
            updated_at=run["updated_at"],
        )

    async def usage(self, period: str) -> S.UsageResponse:
        until = self.clock()
        since = until - timedelta(days=PERIOD_DAYS[period])
        t = token_usage
        cols = (
            sa.func.sum(t.c.prompt_tokens).label("p"),
            sa.func.sum(t.c.completion_tokens).label("c"),
            sa.func.count().label("n"),
        )
        window = (t.c.created_at >= since, t.c.created_at <= until)
        async with self.db.engine.connect() as conn:
            by_model = (
                await conn.execute(
                    sa.select(t.c.provider, t.c.model, *cols).where(*window).group_by(t.c.provider, t.c.model)
                )
            ).all()
        providers: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        models = []
        for r in by_model:
            p, c, n = int(r.p), int(r.c), int(r.n)
            acc = providers[r.provider]
            acc[0] += p
            acc[1] += c
            acc[2] += n
            models.append(
                S.ModelUsage(
                    provider=r.provider,
                    model=r.model,
                    prompt_tokens=p,
                    completion_tokens=c,
                    total_tokens=p + c,
                    calls=n,
                )
            )
        models.sort(key=lambda m: (-m.total_tokens, m.provider, m.model))
        prov = sorted(
            (
                S.ProviderUsage(
                    provider=k,
                    prompt_tokens=v[0],
                    completion_tokens=v[1],
                    total_tokens=v[0] + v[1],
                    calls=v[2],
                )
                for k, v in providers.items()
            ),
            key=lambda x: (-x.total_tokens, x.provider),
        )
        return S.UsageResponse(
            period=period,  # type: ignore[arg-type]
            since=since,
            until=until,
            total_tokens=sum(p.total_tokens for p in prov),
            providers=prov,
            models=models,
        )

    async def models(self, run_id: str | None) -> list[S.ModelMapping]:
        async with self.db.engine.connect() as conn:
            if run_id is not None:
                await self._run_row(conn, run_id)
            q = sa.select(model_overrides).order_by(model_overrides.c.created_at, model_overrides.c.id)
            q = q.where(
                sa.or_(model_overrides.c.scope == "global", model_overrides.c.run_id == run_id)
                if run_id
                else model_overrides.c.scope == "global"
            )
            overrides = [_dict(r) for r in await conn.execute(q)]
        table: dict[tuple[str, str, str], S.ModelMapping] = {
            k: S.ModelMapping(role=k[0], category=k[1], complexity=k[2], model=m, source="default")
            for k, m in DEFAULT_MAPPINGS.items()
        }
        # global first, then run overrides: the more specific wins; later rows win within a scope
        for o in sorted(overrides, key=lambda o: o["scope"] == "run"):
            key = (o["role"], o["category"], o["complexity"])
            table[key] = S.ModelMapping(
                role=o["role"],
                category=o["category"],
                complexity=o["complexity"],
                model=o["model"],
                source="run_override" if o["scope"] == "run" else "global_override",
                run_id=o["run_id"],
            )
        return [table[k] for k in sorted(table)]

    async def add_override(self, req: S.ModelOverrideRequest) -> S.ModelOverrideResponse:
        if req.scope == "run" and not req.run_id:
            raise EngineError(422, "invalid_override", "A run override needs run_id.")
        if req.scope == "global" and req.run_id:
            raise EngineError(422, "invalid_override", "A global override takes no run_id.")
        now = self.clock()
        async with self.db.begin() as conn:
            if req.run_id:
                await self._run_row(conn, req.run_id)
            await conn.execute(
                model_overrides.insert().values(
                    scope=req.scope,
                    run_id=req.run_id,
                    role=req.role,
                    category=req.category or GENERAL,
                    complexity=req.complexity,
                    model=req.model,
                    created_at=now,
                )
            )
        mapping = S.ModelMapping(
            role=req.role,
            category=req.category,
            complexity=req.complexity,
            model=req.model,
            source="run_override" if req.scope == "run" else "global_override",
            run_id=req.run_id,
        )
        where = f"run {req.run_id}" if req.scope == "run" else "Global"
        return S.ModelOverrideResponse(
            message=f"{where} override recorded: {req.role}/{req.category}/{req.complexity} -> {req.model}",
            override=mapping,
            created_at=now,
        )

    async def token_efficiency(self, run_id: str) -> S.TokenEfficiencyStats:
        async with self.db.engine.connect() as conn:
            await self._run_row(conn, run_id)
            rows = [
                _dict(r)
                for r in await conn.execute(
                    sa.select(token_efficiency).where(token_efficiency.c.run_id == run_id)
                )
            ]
        return S.TokenEfficiencyStats(
            run_id=run_id,
            total_phases=len(rows),
            total_artifact_substitutions=sum(r["artifact_substitutions"] for r in rows),
            total_tokens_saved_artifacts=sum(r["tokens_saved_artifacts"] for r in rows),
            total_budget_used=sum(r["budget_used"] for r in rows),
            total_budget_cap=sum(r["budget_cap"] for r in rows),
            total_files_kept=sum(r["files_kept"] for r in rows),
            total_files_omitted=sum(r["files_omitted"] for r in rows),
            semantic_mode_count=sum(1 for r in rows if r["budget_mode"] == "semantic"),
            lexical_mode_count=sum(1 for r in rows if r["budget_mode"] == "lexical"),
        )

    async def phase6_stats(self, run_id: str) -> S.Phase6Stats:
        async with self.db.engine.connect() as conn:
            await self._run_row(conn, run_id)
            rows = [
                _dict(r)
                for r in await conn.execute(
                    sa.select(phase6_metrics).where(phase6_metrics.c.run_id == run_id)
                )
            ]
        return S.Phase6Stats(
            run_id=run_id,
            total_phases=len(rows),
            failure_hardening_triggered_count=sum(1 for r in rows if r["failure_hardening_triggered"]),
            failure_patterns_detected=dict(
                Counter(r["failure_pattern_detected"] for r in rows if r["failure_pattern_detected"])
            ),
            doctor_calls_skipped_count=sum(1 for r in rows if r["doctor_call_skipped"]),
            total_doctor_tokens_avoided_estimate=sum(
                r["doctor_tokens_avoided_estimate"] for r in rows if r["doctor_call_skipped"]
            ),
            intention_context_injected_count=sum(1 for r in rows if r["intention_context_injected"]),
            total_intention_context_chars=sum(r["intention_context_chars"] for r in rows),
            plan_normalization_used=any(r["plan_normalization_used"] for r in rows),
        )

    async def consolidated(self, run_id: str, limit: int, offset: int) -> S.ConsolidatedTokenMetrics:
        t = token_usage
        async with self.db.engine.connect() as conn:
            await self._run_row(conn, run_id)
            phase_rows = (
                await conn.execute(
                    sa.select(
                        phases.c.phase_id, phases.c.tier_id, phases.c.phase_index, phases.c.reported_tokens
                    ).where(phases.c.run_id == run_id)
                )
            ).all()
            tier_order = {
                r.tier_id: (r.tier_index, r.tier_id)
                for r in await conn.execute(
                    sa.select(tiers.c.tier_id, tiers.c.tier_index).where(tiers.c.run_id == run_id)
                )
            }
            ledger = {
                r.phase_id: (int(r.p), int(r.c))
                for r in await conn.execute(
                    sa.select(
                        t.c.phase_id,
                        sa.func.sum(t.c.prompt_tokens).label("p"),
                        sa.func.sum(t.c.completion_tokens).label("c"),
                    )
                    .where(t.c.run_id == run_id)
                    .group_by(t.c.phase_id)
                )
            }
            eff = {
                r.phase_id: int(r.tokens_saved_artifacts)
                for r in await conn.execute(
                    sa.select(token_efficiency.c.phase_id, token_efficiency.c.tokens_saved_artifacts).where(
                        token_efficiency.c.run_id == run_id
                    )
                )
            }
            p6 = {
                r.phase_id: (
                    int(r.doctor_tokens_avoided_estimate) if r.doctor_call_skipped else 0,
                    r.estimate_coverage_n or 0,
                )
                for r in await conn.execute(
                    sa.select(
                        phase6_metrics.c.phase_id,
                        phase6_metrics.c.doctor_call_skipped,
                        phase6_metrics.c.doctor_tokens_avoided_estimate,
                        phase6_metrics.c.estimate_coverage_n,
                    ).where(phase6_metrics.c.run_id == run_id)
                )
            }
            ab = (
                await conn.execute(
                    sa.select(ab_results.c.test_id, ab_results.c.token_delta)
                    .where(ab_results.c.treatment_run_id == run_id, ab_results.c.is_valid.is_(True))
                    .order_by(ab_results.c.created_at.desc(), ab_results.c.id.desc())
                    .limit(1)
                )
            ).first()
        ordered = sorted(
            phase_rows, key=lambda r: (tier_order.get(r.tier_id, (1 << 30, "")), r.phase_index, r.phase_id)
        )
        per_phase = []
        for r in ordered:
            p, c = ledger.get(r.phase_id, (0, 0))
            per_phase.append(
                S.PhaseTokenMetrics(
                    phase_id=r.phase_id,
                    tokens_spent=max(p + c, int(r.reported_tokens)),
                    ledger_tokens=p + c,
                    reported_tokens=int(r.reported_tokens),
                    artifact_tokens_avoided=eff.get(r.phase_id, 0),
                    doctor_tokens_avoided_estimate=p6.get(r.phase_id, (0, 0))[0],
                )
            )
        run_level = ledger.get(None, (0, 0))  # type: ignore[call-overload]
        return S.ConsolidatedTokenMetrics(
            run_id=run_id,
            total_tokens_spent=sum(x.tokens_spent for x in per_phase) + sum(run_level),
            total_prompt_tokens=sum(v[0] for v in ledger.values()),
            total_completion_tokens=sum(v[1] for v in ledger.values()),
            artifact_tokens_avoided=sum(eff.values()),
            doctor_tokens_avoided_estimate=sum(v[0] for v in p6.values()),
            estimate_coverage_n=sum(v[1] for v in p6.values()),
            # The latest valid measurement only: two tests of the same run measure the same saving.
            ab_delta_tokens_saved=int(ab.token_delta) if ab else 0,
            ab_test_ids=[ab.test_id] if ab else [],
            phases_total=len(per_phase),
            limit=limit,
            offset=offset,
            phases=per_phase[offset : offset + limit],
        )

    async def record_ab_result(
        self,
        test_id: str,
        control_run_id: str,
        treatment_run_id: str,
        *,
        control_commit_sha: str,
        treatment_commit_sha: str,
        control_model_hash: str,
        treatment_model_hash: str,
    ) -> S.ABTestResult:
        """Record an A/B comparison of two finished runs (the A/B harness calls this): spend and
        success rates come from the runs themselves; the pair is valid only when both ran the same
        commit with the same model configuration and both finished."""
        now = self.clock()
        async with self.db.begin() as conn:
            sides = {}
            for rid in (control_run_id, treatment_run_id):
                run = await self._run_row(conn, rid)
                states = [
                    r[0] for r in await conn.execute(sa.select(phases.c.state).where(phases.c.run_id == rid))
                ]
                rate = (sum(1 for s in states if s == "COMPLETE") / len(states)) if states else 0.0
                sides[rid] = (run, rate)
            errors = []
            if control_commit_sha != treatment_commit_sha:
                errors.append("commit_sha differs")
            if control_model_hash != treatment_model_hash:
                errors.append("model_hash differs")
            for label, rid in (("control", control_run_id), ("treatment", treatment_run_id)):
                if not sides[rid][0]["state"].startswith("DONE_"):
                    errors.append(f"{label} run {rid} has not finished")
            if control_run_id == treatment_run_id:
                errors.append("control and treatment are the same run")
            c_tokens = int(sides[control_run_id][0]["tokens_used"])
            t_tokens = int(sides[treatment_run_id][0]["tokens_used"])
            values = {
                "test_id": test_id,
                "control_run_id": control_run_id,
                "treatment_run_id": treatment_run_id,
                "control_commit_sha": control_commit_sha,
                "treatment_commit_sha": treatment_commit_sha,
                "control_model_hash": control_model_hash,
                "treatment_model_hash": treatment_model_hash,
                "is_valid": not errors,
                "validity_errors": errors,
                "control_total_tokens": c_tokens,
                "treatment_total_tokens": t_tokens,
                "token_delta": c_tokens - t_tokens,
                "control_success_rate": sides[control_run_id][1],
                "treatment_success_rate": sides[treatment_run_id][1],
                "created_at": now,
            }
            new_id = (
                await conn.execute(ab_results.insert().values(**values).returning(ab_results.c.id))
            ).scalar_one()
        return S.ABTestResult(id=new_id, **values)

    async def ab_results(self, test_id: str | None, valid_only: bool, limit: int) -> list[S.ABTestResult]:
        q = (
            sa.select(ab_results)
            .order_by(ab_results.c.created_at.desc(), ab_results.c.id.desc())
            .limit(limit)
        )
        if test_id is not None:
            q = q.where(ab_results.c.test_id == test_id)
        if valid_only:
            q = q.where(ab_results.c.is_valid.is_(True))
        async with self.db.engine.connect() as conn:
            return [msgspec.convert(_dict(r), S.ABTestResult) for r in await conn.execute(q)]


def _inbox_query() -> Any:
    """The runs inbox in one statement: the page of runs (newest first) joined to its phases and
    grouped, so the counts touch only the page's phases (through their primary key), with the total
    as a scalar subquery. Built once (SQLAlchemy then reuses its cache key and compiled form); the
    state lists are literals, not expanding parameters."""
    page = (
        sa.select(
            runs.c.id,
            runs.c.state,
            runs.c.goal,
            runs.c.created_at,
            runs.c.updated_at,
            runs.c.tokens_used,
            runs.c.token_cap,
        )
        .order_by(runs.c.created_at.desc(), runs.c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .subquery("page")
    )
    st = phases.c.state
    one, zero = sa.literal_column("1"), sa.literal_column("0")

    def count_in(states: frozenset[str] | set[str]) -> Any:
        match = sa.or_(*(st == sa.literal_column(f"'{name}'") for name in sorted(states)))
        return sa.func.coalesce(sa.func.sum(sa.case((match, one), else_=zero)), zero)

    total = sa.select(sa.func.count()).select_from(runs).scalar_subquery()
    return (
        sa.select(
            *page.c,
            sa.func.count(phases.c.phase_id).label("phases_total"),
            count_in(lifecycle.FINAL_PHASE_STATES).label("phases_completed"),
            count_in(lifecycle.IN_PROGRESS_STATES).label("phases_in_progress"),
            count_in({"QUEUED"}).label("phases_pending"),
            count_in({"FAILED"}).label("phases_failed"),
            total.label("total"),
        )
        .select_from(page.outerjoin(phases, phases.c.run_id == page.c.id))
        .group_by(*page.c)
        .order_by(page.c.created_at.desc(), page.c.id.desc())
    )


INBOX = _inbox_query()


def _aware(value: datetime) -> datetime:
    # min()/max() over a UTCDateTime column come back without the column's type on SQLite
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
