"""Research sessions (contract 003 section 13, **experimental**): a topic, the queries asked and the
findings collected for them, persisted. Nothing here calls a model or the network: queries are
recorded (the executor or a person runs them), findings are what they bring back, and
:meth:`ResearchService.search` ranks a session's findings with BM25 (:class:`ridgeline.ai.KeywordIndex`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_store import research_findings, research_queries, research_sessions
from ridgeline.platform.db import Database
from ridgeline.platform.problems import NotFound


def _session(row: Any) -> dict[str, Any]:
    r = dict(row._mapping)
    return {
        "session_id": r["id"],
        "topic": r["topic"],
        "description": r["description"],
        "status": r["status"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "closed_at": r["closed_at"],
        "conclusion": r["conclusion"],
    }


def _query(row: Any) -> dict[str, Any]:
    return {"query_id": row.id, "query": row.query, "created_at": row.created_at}


def _finding(row: Any) -> dict[str, Any]:
    return {
        "finding_id": row.id,
        "query_id": row.query_id,
        "title": row.title,
        "content": row.content,
        "source_url": row.source_url,
        "confidence": row.confidence,
        "created_at": row.created_at,
    }


class ResearchService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def create(self, topic: str, description: str | None, queries: list[str]) -> dict[str, Any]:
        now = self.clock()
        sid = uuid.uuid4().hex
        async with self.db.begin() as conn:
            await conn.execute(
                research_sessions.insert().values(
                    id=sid,
                    topic=topic,
                    description=description,
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            )
            for q in queries:
                await conn.execute(
                    research_queries.insert().values(
                        id=uuid.uuid4().hex, session_id=sid, query=q, created_at=now
                    )
                )
        return await self.get(sid)

    async def _require(self, conn: Any, sid: str, *, active: bool = False) -> Any:
        row = (await conn.execute(research_sessions.select().where(research_sessions.c.id == sid))).first()
        if row is None:
            raise NotFound("research_session", sid, session_id=sid)
        if active and row.status != "active":
            raise OPS.error("research_session_closed", session_id=sid)
        return row

    async def get(self, sid: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            out = _session(await self._require(conn, sid))
            qs = await conn.execute(
                research_queries.select()
                .where(research_queries.c.session_id == sid)
                .order_by(research_queries.c.created_at, research_queries.c.id)
            )
            fs = await conn.execute(
                research_findings.select()
                .where(research_findings.c.session_id == sid)
                .order_by(research_findings.c.created_at, research_findings.c.id)
            )
            out["queries"] = [_query(r) for r in qs]
            out["findings"] = [_finding(r) for r in fs]
        return out

    async def list(self, status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        where = [] if status is None else [research_sessions.c.status == status]
        counts = (
            sa.select(research_findings.c.session_id, sa.func.count().label("n"))
            .group_by(research_findings.c.session_id)
            .subquery()
        )
        q = (
            sa.select(research_sessions, sa.func.coalesce(counts.c.n, 0).label("finding_count"))
            .outerjoin(counts, counts.c.session_id == research_sessions.c.id)
            .where(*where)
            .order_by(research_sessions.c.created_at.desc(), research_sessions.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(research_sessions).where(*where))
            ).scalar_one()
            rows = (await conn.execute(q)).all()
        return [{**_session(r), "finding_count": r.finding_count} for r in rows], total

    async def add_query(self, sid: str, query: str) -> dict[str, Any]:
        now = self.clock()
        qid = uuid.uuid4().hex
        async with self.db.begin() as conn:
            await self._require(conn, sid, active=True)
            await conn.execute(
                research_queries.insert().values(id=qid, session_id=sid, query=query, created_at=now)
            )
            await conn.execute(
                research_sessions.update().where(research_sessions.c.id == sid).values(updated_at=now)
            )
        return {"query_id": qid, "query": query, "created_at": now}

    async def add_finding(
        self,
        sid: str,
        *,
        title: str,
        content: str,
        source_url: str | None,
        confidence: float | None,
        query_id: str | None,
    ) -> dict[str, Any]:
        now = self.clock()
        fid = uuid.uuid4().hex
        async with self.db.begin() as conn:
            await self._require(conn, sid, active=True)
            if query_id is not None:
                found = (
                    await conn.execute(
                        sa.select(research_queries.c.id).where(
                            research_queries.c.id == query_id, research_queries.c.session_id == sid
                        )
                    )
                ).first()
                if found is None:
                    raise NotFound(
                        "research_query",
                        query_id,
                        reason_code="research_session_not_found",
                        message=f"No query {query_id} in research session {sid}.",
                        session_id=sid,
                    )
            await conn.execute(
                research_findings.insert().values(
                    id=fid,
                    session_id=sid,
                    query_id=query_id,
                    title=title,
                    content=content,
                    source_url=source_url,
                    confidence=confidence,
                    created_at=now,
                )
            )
            await conn.execute(
                research_sessions.update().where(research_sessions.c.id == sid).values(updated_at=now)
            )
        return {
            "finding_id": fid,
            "query_id": query_id,
            "title": title,
            "content": content,
            "source_url": source_url,
            "confidence": confidence,
            "created_at": now,
        }

    async def close(self, sid: str, conclusion: str | None) -> dict[str, Any]:
        now = self.clock()
        async with self.db.begin() as conn:
            await self._require(conn, sid, active=True)
            await conn.execute(
                research_sessions.update()
                .where(research_sessions.c.id == sid)
                .values(status="closed", closed_at=now, updated_at=now, conclusion=conclusion)
            )
        return await self.get(sid)

    async def search(self, sid: str, query: str, k: int) -> list[dict[str, Any]]:
        from ridgeline.ai.keyword import KeywordIndex

        findings = (await self.get(sid))["findings"]
        if not findings:
            return []
        index = KeywordIndex.build(
            [f["finding_id"] for f in findings], [f"{f['title']}\n{f['content']}" for f in findings]
        )
        by_id = {f["finding_id"]: f for f in findings}
        return [{**by_id[h.id], "score": float(h.score)} for h in index.search(query, k=k)]
