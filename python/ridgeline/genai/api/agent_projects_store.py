"""The agent-project table (migration ``0018_genai_playgrounds``, shared with the playgrounds).

``genai_agent_projects``: the builder's draft of an agent, ``workflow_definition`` and ``tool_policy``
as JSON, a ``revision`` counted up by every update, the last validation's result, and what the last
publish wrote (``published_agent_id`` at registry ``published_version``, from ``published_revision``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ridgeline.genai.api.playgrounds_store import iso, new_id, now
from ridgeline.platform.db import UTCDateTime, metadata

projects = sa.Table(
    "genai_agent_projects",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("agent_id", sa.String(128), nullable=False),  # the catalog agent publish writes
    sa.Column("workflow_definition", sa.JSON, nullable=False),
    sa.Column("tool_policy", sa.JSON, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_validation", sa.JSON, nullable=True),
    sa.Column("published_agent_id", sa.String(128), nullable=True),
    sa.Column("published_version", sa.Integer, nullable=True),
    sa.Column("published_revision", sa.Integer, nullable=True),
    sa.Column("published_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


def project_view(r: Any) -> dict[str, Any]:
    published = None
    if r["published_agent_id"]:
        published = {
            "agent_id": r["published_agent_id"],
            "version": r["published_version"],
            "revision": r["published_revision"],
            "published_at": iso(r["published_at"]),
            "current": r["published_revision"] == r["revision"],
        }
    return {
        "id": r["id"],
        "owner_id": r["owner_id"],
        "name": r["name"],
        "description": r["description"],
        "agent_id": r["agent_id"],
        "workflow_definition": dict(r["workflow_definition"] or {}),
        "tool_policy": dict(r["tool_policy"] or {}),
        "revision": r["revision"],
        "last_validation": r["last_validation"],
        "published": published,
        "created_at": iso(r["created_at"]),
        "updated_at": iso(r["updated_at"]),
    }


class AgentProjectStore:
    def __init__(self, db: Any) -> None:
        self.db = db

    async def create(self, owner_id: str, values: dict[str, Any]) -> dict[str, Any]:
        at = now()
        pid = new_id("agp")
        row = {"id": pid, "owner_id": owner_id, "revision": 1, "last_validation": None,
               "published_agent_id": None, "published_version": None, "published_revision": None,
               "published_at": None, "created_at": at, "updated_at": at, **values}  # fmt: skip
        if not row.get("agent_id"):
            row["agent_id"] = f"agent.project_{pid.split('_', 1)[1]}"
        async with self.db.begin() as conn:
            await conn.execute(projects.insert().values(**row))
        return row

    async def get(self, project_id: str) -> dict[str, Any] | None:
        async with self.db.engine.connect() as conn:
            r = (await conn.execute(sa.select(projects).where(projects.c.id == project_id))).first()
        return dict(r._mapping) if r is not None else None

    async def owner_of(self, project_id: str) -> str | None:
        async with self.db.engine.connect() as conn:
            return (
                await conn.execute(sa.select(projects.c.owner_id).where(projects.c.id == project_id))
            ).scalar()

    async def list(self, owner_id: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        where = [projects.c.owner_id == owner_id] if owner_id is not None else []
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(projects).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(projects)
                .where(*where)
                .order_by(projects.c.updated_at.desc(), projects.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [dict(r._mapping) for r in rows], int(total)

    async def replace(self, project_id: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """A PUT: the new fields, the revision counted up and the last validation cleared (it was of
        the old revision)."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                projects.update()
                .where(projects.c.id == project_id)
                .values(**values, revision=projects.c.revision + 1, last_validation=None, updated_at=now())
            )
            if done.rowcount == 0:
                return None
        return await self.get(project_id)

    async def record(self, project_id: str, revision: int, values: dict[str, Any]) -> bool:
        """Store a validation or publish outcome, only if the project is still at ``revision``."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                projects.update()
                .where(projects.c.id == project_id, projects.c.revision == revision)
                .values(**values)
            )
            return done.rowcount > 0
