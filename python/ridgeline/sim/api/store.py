"""Tables of the sim family (migration ``0005_sim``) and every query on them. A run's status is its
job's status, read through the job service (never from ``platform_jobs`` here); member runs of a
batch share the batch's job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ridgeline.platform.db import Database, UTCDateTime, metadata

projects = sa.Table(
    "sim_projects",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

assets = sa.Table(
    "sim_assets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project_id", sa.String(32), sa.ForeignKey("sim_projects.id"), nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_sim_assets_name", "name"),
)

batches = sa.Table(
    "sim_batches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("job_id", sa.String(32), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
)

runs = sa.Table(
    "sim_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("job_id", sa.String(32), nullable=False),
    sa.Column("batch_id", sa.String(32), nullable=True),
    sa.Column("project_id", sa.String(32), nullable=True),
    sa.Column("api", sa.String(8), nullable=False),
    sa.Column("scenario", sa.String(128), nullable=True),
    sa.Column("robot", sa.String(255), nullable=False),
    sa.Column("robot_sha256", sa.String(64), nullable=False),
    sa.Column("profile", sa.String(128), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=True),
    sa.Column("episode_metrics", sa.JSON, nullable=True),
    sa.Column("steps_completed", sa.JSON, nullable=True),
    sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("replay_sha256", sa.String(64), nullable=True),
    sa.Column("replay_size", sa.BigInteger, nullable=True),
    sa.Column("webhook_url", sa.String(2048), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_sim_runs_created", "created_at"),
    sa.Index("ix_sim_runs_job", "job_id"),
    sa.Index("ix_sim_runs_batch", "batch_id"),
)

webhook_deliveries = sa.Table(
    "sim_webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("delivery_id", sa.String(32), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_sim_webhook_deliveries_run", "run_id"),
)

# migration 0020_sim_webhooks: a run's webhook, kept until it is delivered (or has failed every
# attempt), so a process that stops before sending it leaves it to the next one. status: pending
# (not sent yet), sending (``owner`` is delivering it), delivered, failed. The secret is sealed
# with the platform's key ring and erased once the webhook is settled.
webhooks = sa.Table(
    "sim_webhooks",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret_sealed", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_sim_webhooks_status", "status"),
    sa.Index("ix_sim_webhooks_run", "run_id"),
)


# ---------------------------------------------------------------- queries (every SQL statement of the family)

Row = Any


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


async def insert(db: Database, table: sa.Table, values: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(table.insert().values(values))


async def list_projects(db: Database) -> list[Row]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(projects.select().order_by(projects.c.created_at))).all())


async def project_exists(db: Database, project_id: str) -> bool:
    async with db.engine.connect() as conn:
        q = sa.select(projects.c.id).where(projects.c.id == project_id)
        return (await conn.execute(q)).first() is not None


async def asset(db: Database, asset_id: str) -> Row | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(assets.select().where(assets.c.id == asset_id))).first()


async def latest_urdf_named(db: Database, name: str) -> Row | None:
    q = (
        assets.select()
        .where(assets.c.name == name, assets.c.kind == "urdf")
        .order_by(assets.c.created_at.desc())
        .limit(1)
    )
    async with db.engine.connect() as conn:
        return (await conn.execute(q)).first()


async def list_assets(db: Database, project_id: str | None, kind: str | None) -> list[Row]:
    q = assets.select().order_by(assets.c.created_at, assets.c.id)
    if project_id is not None:
        q = q.where(assets.c.project_id == project_id)
    if kind is not None:
        q = q.where(assets.c.kind == kind)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def run(db: Database, run_id: str) -> Row | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(runs.select().where(runs.c.id == run_id))).first()


async def list_runs(
    db: Database, *, limit: int, offset: int, job_ids: sa.Select[Any] | None, scenario: str | None
) -> list[Row]:
    """Newest first; ``job_ids`` is a subquery of the job ids to keep (the job service's ``ids_where``)."""
    q = runs.select().order_by(runs.c.created_at.desc(), runs.c.id)
    if job_ids is not None:
        q = q.where(runs.c.job_id.in_(job_ids))
    if scenario is not None:
        q = q.where(runs.c.scenario == scenario)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q.limit(limit).offset(offset))).all())


async def batch_members(db: Database, batch_id: str) -> list[Row]:
    q = runs.select().where(runs.c.batch_id == batch_id).order_by(runs.c.created_at, runs.c.id)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def record_result(db: Database, run_id: str, values: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(runs.update().where(runs.c.id == run_id).values(values))


async def batch(db: Database, batch_id: str) -> Row | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(batches.select().where(batches.c.id == batch_id))).first()


async def finish_batch(db: Database, batch_id: str, report: dict[str, Any], finished_at: Any) -> None:
    async with db.begin() as conn:
        await conn.execute(
            batches.update().where(batches.c.id == batch_id).values(report=report, finished_at=finished_at)
        )


async def latest_reported_batch(db: Database) -> Row | None:
    q = (
        batches.select()
        .where(batches.c.report.is_not(None))
        .order_by(batches.c.finished_at.desc(), batches.c.id)
        .limit(1)
    )
    async with db.engine.connect() as conn:
        return (await conn.execute(q)).first()


async def deliveries(db: Database, run_id: str) -> list[Row]:
    t = webhook_deliveries
    q = t.select().where(t.c.run_id == run_id).order_by(t.c.created_at, t.c.attempt)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def webhook(db: Database, webhook_id: str) -> Row | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(webhooks.select().where(webhooks.c.id == webhook_id))).first()


async def unsettled_webhooks(db: Database) -> list[Row]:
    """Webhooks not delivered yet (pending, or being sent by some process)."""
    t = webhooks
    q = t.select().where(t.c.status.in_(("pending", "sending"))).order_by(t.c.created_at, t.c.id)
    async with db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def claim_webhook(
    db: Database, webhook_id: str, owner: str, *, from_status: str = "pending", from_owner: str | None = None
) -> bool:
    """Take a webhook for delivery (one process wins)."""
    t = webhooks
    where = [t.c.id == webhook_id, t.c.status == from_status]
    if from_owner is not None:
        where.append(t.c.owner == from_owner)
    async with db.begin() as conn:
        res = await conn.execute(
            t.update().where(*where).values(status="sending", owner=owner, updated_at=now())
        )
    return bool(res.rowcount)


async def settle_webhook(db: Database, webhook_id: str, owner: str, status: str) -> None:
    """``delivered``/``failed`` (the secret is erased) or back to ``pending`` (delivery interrupted)."""
    t = webhooks
    values: dict[str, Any] = {"status": status, "updated_at": now()}
    if status == "pending":
        values["owner"] = None
    else:
        values["secret_sealed"] = None
    async with db.begin() as conn:
        await conn.execute(t.update().where(t.c.id == webhook_id, t.c.owner == owner).values(values))
