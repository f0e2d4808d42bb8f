"""The benchmark peer of autopack's ``GET /runs`` and ``POST /runs/{id}/phases/{pid}/update_status``:
a minimal FastAPI + SQLAlchemy (async, aiosqlite) app on the same database tables, issuing the same
statements as Ridgeline's implementation (the page of runs joined to its phases and grouped; read the
phase, check the transition, conditional update, refresh the phase's and the run's tokens, recompute
the run state). Pydantic models for the bodies, as a FastAPI service would have. ``PEER_DB`` names
the SQLite file."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['PEER_DB']}")
app = FastAPI()

FINAL = {"COMPLETE", "SKIPPED"}
TRANSITIONS = {
    "QUEUED": {"EXECUTING", "SKIPPED", "FAILED"},
    "EXECUTING": {"GATE", "CI_RUNNING", "COMPLETE", "FAILED", "QUEUED"},
    "GATE": {"EXECUTING", "CI_RUNNING", "COMPLETE", "FAILED"},
    "CI_RUNNING": {"EXECUTING", "COMPLETE", "FAILED"},
    "FAILED": {"QUEUED"},
    "COMPLETE": set(),
    "SKIPPED": set(),
}

INBOX = text(
    """
    SELECT page.id, page.state, page.goal, page.created_at, page.updated_at, page.tokens_used, page.token_cap,
      count(p.phase_id) AS phases_total,
      coalesce(sum(CASE WHEN p.state IN ('COMPLETE', 'SKIPPED') THEN 1 ELSE 0 END), 0) AS phases_completed,
      coalesce(sum(CASE WHEN p.state IN ('CI_RUNNING', 'EXECUTING', 'GATE') THEN 1 ELSE 0 END), 0)
        AS phases_in_progress,
      coalesce(sum(CASE WHEN p.state = 'QUEUED' THEN 1 ELSE 0 END), 0) AS phases_pending,
      coalesce(sum(CASE WHEN p.state = 'FAILED' THEN 1 ELSE 0 END), 0) AS phases_failed
    FROM (SELECT id, state, goal, created_at, updated_at, tokens_used, token_cap FROM autopack_runs
          ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset) AS page
    LEFT OUTER JOIN autopack_phases AS p ON p.run_id = page.id
    GROUP BY page.id, page.state, page.goal, page.created_at, page.updated_at, page.tokens_used, page.token_cap
    ORDER BY page.created_at DESC, page.id DESC
    """
)


class RunSummary(BaseModel):
    run_id: str
    state: str
    goal: str
    created_at: datetime
    updated_at: datetime
    tokens_used: int
    token_cap: int
    phases_total: int
    phases_completed: int
    phases_in_progress: int
    phases_pending: int
    phases_failed: int


class RunList(BaseModel):
    runs: list[RunSummary]
    total: int
    limit: int
    offset: int


class PhaseStatusUpdate(BaseModel):
    state: str
    tokens_used: int | None = None


class PhaseStatusResponse(BaseModel):
    message: str
    run_id: str
    phase_id: str
    previous_state: str
    state: str
    run_state: str
    tokens_used: int
    updated_at: datetime


@app.get("/runs", response_model=RunList)
async def list_runs(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0)) -> RunList:
    async with engine.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM autopack_runs"))).scalar_one()
        rows = (await conn.execute(INBOX, {"limit": limit, "offset": offset})).all()
    runs = [RunSummary(run_id=r.id, **{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows]
    return RunList(runs=runs, total=total, limit=limit, offset=offset)


def _run_state(states: list[str]) -> str:
    if not states or all(s == "QUEUED" for s in states):
        return "RUN_CREATED"
    if all(s in FINAL for s in states):
        return "DONE_SUCCESS"
    if all(s in FINAL or s == "FAILED" for s in states):
        return "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    return "PHASE_EXECUTION"


@app.post("/runs/{run_id}/phases/{phase_id}/update_status", response_model=PhaseStatusResponse)
async def update_status(run_id: str, phase_id: str, body: PhaseStatusUpdate) -> PhaseStatusResponse:
    now = datetime.now(UTC)
    key = {"r": run_id, "p": phase_id}
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT state, reported_tokens FROM autopack_phases WHERE run_id = :r AND phase_id = :p"
                ),
                key,
            )
        ).first()
        if row is None:
            raise HTTPException(404, "phase not found")
        current = row.state
        if not (body.state == current and current not in FINAL) and body.state not in TRANSITIONS[current]:
            raise HTTPException(409, f"Phase {phase_id} cannot move from {current} to {body.state}")
        reported = max(body.tokens_used or 0, row.reported_tokens)
        res = await conn.execute(
            text(
                "UPDATE autopack_phases SET state = :s, updated_at = :now, reported_tokens = :t "
                "WHERE run_id = :r AND phase_id = :p AND state = :cur"
            ),
            {**key, "s": body.state, "now": now, "t": reported, "cur": current},
        )
        if res.rowcount != 1:
            raise HTTPException(409, "concurrent transition")
        await conn.execute(
            text(
                "UPDATE autopack_phases SET tokens_used = max(reported_tokens, (SELECT coalesce(sum("
                "prompt_tokens + completion_tokens), 0) FROM autopack_token_usage WHERE run_id = :r AND phase_id = :p)) "
                "WHERE run_id = :r AND phase_id = :p"
            ),
            key,
        )
        await conn.execute(
            text(
                "UPDATE autopack_runs SET tokens_used = (SELECT coalesce(sum(tokens_used), 0) FROM autopack_phases "
                "WHERE run_id = :r) WHERE id = :r"
            ),
            key,
        )
        states = [
            r[0] for r in await conn.execute(text("SELECT state FROM autopack_phases WHERE run_id = :r"), key)
        ]
        run_state = _run_state(states)
        await conn.execute(
            text("UPDATE autopack_runs SET state = :s, updated_at = :now WHERE id = :r"),
            {**key, "s": run_state, "now": now},
        )
        tokens = (
            await conn.execute(
                text("SELECT tokens_used FROM autopack_phases WHERE run_id = :r AND phase_id = :p"), key
            )
        ).scalar_one()
    return PhaseStatusResponse(
        message=f"Phase {phase_id} updated to {body.state}",
        run_id=run_id,
        phase_id=phase_id,
        previous_state=current,
        state=body.state,
        run_state=run_state,
        tokens_used=tokens,
        updated_at=now,
    )
