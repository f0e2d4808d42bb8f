"""Tables and queries of the playgrounds (migration ``0018_genai_playgrounds``).

- ``genai_playground_sessions``: one row per session, ``playground_kind`` ``chat`` or ``knowledge``
  (variants of one canonical model), its ``assistant_ref`` (a catalog agent id), ``model_selection``
  and ``knowledge_binding`` (JSON), and its owner. Sessions are private: every query is scoped to the
  owner, so another user's session reads as absent.
- ``genai_playground_messages``: the persisted conversation, numbered per session (``seq``), with the
  sources a knowledge answer used and the run's metadata (model, usage, finish reason).

The agent-project table lives beside them (``agent_projects_store``) and shares the migration.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

sessions = sa.Table(
    "genai_playground_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("playground_kind", sa.String(16), nullable=False),  # chat | knowledge
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("assistant_ref", sa.String(128), nullable=True),
    sa.Column("model_selection", sa.JSON, nullable=False),
    sa.Column("knowledge_binding", sa.JSON, nullable=True),
    sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

messages = sa.Table(
    "genai_playground_messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("genai_playground_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # user | assistant
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("session_id", "seq", name="uq_genai_playground_messages_seq"),
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def message_view(m: Any) -> dict[str, Any]:
    return {
        "id": m["id"],
        "seq": m["seq"],
        "role": m["role"],
        "content": m["content"],
        "sources": list(m["sources"] or []),
        "metadata": dict(m["metadata"] or {}),
        "created_at": iso(m["created_at"]),
    }


def session_view(s: Any, msgs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {
        "id": s["id"],
        "owner_id": s["owner_id"],
        "playground_kind": s["playground_kind"],
        "title": s["title"],
        "assistant_ref": s["assistant_ref"],
        "model_selection": dict(s["model_selection"] or {}),
        "knowledge_binding": dict(s["knowledge_binding"]) if s["knowledge_binding"] else None,
        "message_count": s["message_count"],
        "created_at": iso(s["created_at"]),
        "updated_at": iso(s["updated_at"]),
    }
    if msgs is not None:
        out["messages"] = msgs
    return out


class PlaygroundStore:
    def __init__(self, db: Any) -> None:
        self.db = db

    async def create(self, owner_id: str, values: dict[str, Any]) -> dict[str, Any]:
        at = now()
        row = {"id": new_id("pgs"), "owner_id": owner_id, "message_count": 0, "created_at": at,
               "updated_at": at, **values}  # fmt: skip
        async with self.db.begin() as conn:
            await conn.execute(sessions.insert().values(**row))
        return session_view(row, [])

    async def row(self, owner_id: str, session_id: str) -> dict[str, Any] | None:
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    sa.select(sessions).where(sessions.c.id == session_id, sessions.c.owner_id == owner_id)
                )
            ).first()
        return dict(r._mapping) if r is not None else None

    async def row_and_history(
        self, owner_id: str, session_id: str, limit: int
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The session row and its last ``limit`` messages on one connection (a message's path
        reads both before the first token: one connection checkout instead of two)."""
        async with self.db.engine.connect() as conn:
            r = (
                await conn.execute(
                    sa.select(sessions).where(sessions.c.id == session_id, sessions.c.owner_id == owner_id)
                )
            ).first()
            if r is None:
                return None, []
            q = sa.select(messages).where(messages.c.session_id == session_id)
            rows = await conn.execute(q.order_by(messages.c.seq.desc()).limit(limit))
            return dict(r._mapping), [message_view(m._mapping) for m in reversed(list(rows))]

    async def history(self, session_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The session's messages in order; with ``limit``, the last ``limit`` of them."""
        q = sa.select(messages).where(messages.c.session_id == session_id)
        async with self.db.engine.connect() as conn:
            if limit is None:
                rows = await conn.execute(q.order_by(messages.c.seq))
                return [message_view(r._mapping) for r in rows]
            rows = await conn.execute(q.order_by(messages.c.seq.desc()).limit(limit))
            return [message_view(r._mapping) for r in reversed(list(rows))]

    async def list(self, owner_id: str, kind: str | None, offset: int, limit: int) -> tuple[list[dict], int]:
        where = [sessions.c.owner_id == owner_id]
        if kind is not None:
            where.append(sessions.c.playground_kind == kind)
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(sessions).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(sessions)
                .where(*where)
                .order_by(sessions.c.updated_at.desc(), sessions.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [session_view(r._mapping) for r in rows], int(total)

    async def update(self, owner_id: str, session_id: str, values: dict[str, Any]) -> bool:
        async with self.db.begin() as conn:
            done = await conn.execute(
                sessions.update()
                .where(sessions.c.id == session_id, sessions.c.owner_id == owner_id)
                .values(**values, updated_at=now())
            )
            return done.rowcount > 0

    async def delete(self, owner_id: str, session_id: str) -> bool:
        async with self.db.begin() as conn:
            found = (
                await conn.execute(
                    sa.select(sessions.c.id).where(
                        sessions.c.id == session_id, sessions.c.owner_id == owner_id
                    )
                )
            ).first()
            if found is None:
                return False
            # explicit: SQLite enforces ON DELETE CASCADE only with foreign keys on
            await conn.execute(messages.delete().where(messages.c.session_id == session_id))
            await conn.execute(sessions.delete().where(sessions.c.id == session_id))
            return True

    async def append(self, session_id: str, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append ``turns`` ({role, content, sources?, metadata?}) after the session's last message, in
        one transaction; the session's count and ``updated_at`` move with them. Two messages of one
        session answered at once race for the same ``seq``: the loser retries after the winner."""
        from sqlalchemy.exc import IntegrityError

        for attempt in range(5):
            try:
                return await self._append(session_id, turns)
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    async def _append(self, session_id: str, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        at = now()
        async with self.db.begin() as conn:
            if (
                await conn.execute(sa.select(sessions.c.id).where(sessions.c.id == session_id))
            ).first() is None:
                return []  # deleted while its answer was being made: nothing to attach it to
            last = (
                await conn.execute(
                    sa.select(sa.func.max(messages.c.seq)).where(messages.c.session_id == session_id)
                )
            ).scalar()
            seq = int(last or 0)
            rows = []
            for t in turns:
                seq += 1
                rows.append({"id": new_id("pgm"), "session_id": session_id, "seq": seq, "role": t["role"],
                             "content": t["content"], "sources": t.get("sources") or [],
                             "metadata": t.get("metadata") or {}, "created_at": at})  # fmt: skip
            await conn.execute(messages.insert(), rows)
            await conn.execute(
                sessions.update()
                .where(sessions.c.id == session_id)
                .values(message_count=sessions.c.message_count + len(rows), updated_at=at)
            )
        return [message_view(r) for r in rows]
