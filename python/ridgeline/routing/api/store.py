"""Tables of the routing family and their queries (SQLAlchemy Core, async)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from ridgeline.platform.db import Database, UTCDateTime, metadata


def _plain(obj: Any) -> Any:
    """numpy scalars as their Python value (json.dumps accepts numpy floats, which subclass float)."""
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class _SQLiteJSON(TypeDecorator[Any]):
    """``sa.JSON`` written with msgspec: a run's results (~13 KB of coordinates and totals) encode
    in ~0.15 ms instead of json.dumps' ~1.2 ms, which ran on the event loop for every recorded run."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        encode = msgspec.json.Encoder(enc_hook=_plain).encode

        def process(value: Any) -> str:
            return encode(value).decode()  # None -> JSON null, as sa.JSON writes it

        return process


def json_column() -> Any:
    """The routing tables' JSON type: msgspec-encoded on SQLite (JSON is text there); plain
    ``sa.JSON`` elsewhere (PostgreSQL's drivers encode it themselves). Reading is ``sa.JSON``'s."""
    return sa.JSON().with_variant(_SQLiteJSON(), "sqlite")


vehicles_table = sa.Table(
    "routing_vehicles",
    metadata,
    sa.Column("vehicle_id", sa.String(64), primary_key=True),
    sa.Column("spec", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

experiments_table = sa.Table(
    "routing_experiments",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("items", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

runs_table = sa.Table(
    "routing_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("request", json_column(), nullable=False),
    sa.Column("results", json_column(), nullable=False),
    sa.Column("manifest", json_column(), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("scenario_manifest", json_column(), nullable=False),
    sa.Column("scenario_signature", sa.Text, nullable=False),
    sa.Column("provenance", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_routing_runs_created", "created_at"),
)

oracle_table = sa.Table(
    "routing_oracle_scores",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("asset_name", sa.String(64), nullable=False),
    sa.Column("pairs", sa.Integer, nullable=False),
    sa.Column("extremes_pass_rate", sa.Float, nullable=False),
    sa.Column("epsilon_pass_rate", sa.Float, nullable=False),
    sa.Column("brute_force_pass_rate", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("details", json_column(), nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


class RoutingStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _all(self, query: Any) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [{str(k): v for k, v in r._mapping.items()} for r in rows]  # UTCDateTime: aware UTC

    async def _one(self, query: Any) -> dict[str, Any] | None:
        rows = await self._all(query)
        return rows[0] if rows else None

    async def _exec(self, *stmts: Any) -> int:
        count = 0
        async with self.db.begin() as conn:
            for s in stmts:
                res = await conn.execute(s)
                count += res.rowcount or 0
        return count

    # vehicles
    async def list_vehicles(self) -> list[dict[str, Any]]:
        return await self._all(vehicles_table.select().order_by(vehicles_table.c.vehicle_id))

    async def get_vehicle(self, vehicle_id: str) -> dict[str, Any] | None:
        return await self._one(vehicles_table.select().where(vehicles_table.c.vehicle_id == vehicle_id))

    async def insert_vehicle(self, vehicle_id: str, spec: dict[str, Any]) -> None:
        t = now()
        await self._exec(
            vehicles_table.insert().values(vehicle_id=vehicle_id, spec=spec, created_at=t, updated_at=t)
        )

    async def update_vehicle(self, vehicle_id: str, spec: dict[str, Any]) -> int:
        t = vehicles_table
        return await self._exec(
            t.update().where(t.c.vehicle_id == vehicle_id).values(spec=spec, updated_at=now())
        )

    async def delete_vehicle(self, vehicle_id: str) -> int:
        t = vehicles_table
        return await self._exec(t.delete().where(t.c.vehicle_id == vehicle_id))

    # experiments
    async def list_experiments(self, *, limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
        t = experiments_table
        return await self._all(t.select().order_by(t.c.created_at, t.c.id).limit(limit).offset(offset))

    async def get_experiment(self, exp_id: str) -> dict[str, Any] | None:
        t = experiments_table
        return await self._one(t.select().where(t.c.id == exp_id))

    async def insert_experiment(self, row: dict[str, Any]) -> None:
        await self._exec(experiments_table.insert().values(**row))

    async def update_experiment(self, exp_id: str, values: dict[str, Any]) -> int:
        t = experiments_table
        return await self._exec(t.update().where(t.c.id == exp_id).values(**values, updated_at=now()))

    async def delete_experiment(self, exp_id: str) -> int:
        t = experiments_table
        return await self._exec(t.delete().where(t.c.id == exp_id))

    # runs
    async def insert_runs(self, rows: list[dict[str, Any]], *, fsync: bool = True) -> None:
        """Inserts run rows in one transaction. On SQLite with ``fsync`` the commit runs with
        ``synchronous=FULL`` (the WAL is fsynced before the commit returns, so a run survives power
        loss, not only a process crash as under the platform's ``NORMAL``); the connection goes back
        to the pool with ``NORMAL``. PostgreSQL's commit is durable by itself (synchronous_commit)."""
        if not (fsync and self.db.backend == "sqlite"):
            async with self.db.begin() as conn:
                await conn.execute(runs_table.insert(), rows)
            return
        async with self.db.engine.connect() as conn:
            # Before the INSERT: the driver opens the SQLite transaction at the first DML statement.
            await conn.exec_driver_sql("PRAGMA synchronous=FULL")
            try:
                await conn.execute(runs_table.insert(), rows)
                await conn.commit()
            finally:
                await conn.rollback()  # no-op after the commit; ends a failed insert's transaction
                await conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                await conn.commit()

    async def get_run(self, run_id: str) -> dict[str, Any] | None:
        t = runs_table
        return await self._one(t.select().where(t.c.id == run_id))

    async def count_runs(self) -> int:
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(runs_table))).scalar_one())

    # oracle
    async def insert_oracle(self, row: dict[str, Any]) -> None:
        await self._exec(oracle_table.insert().values(**row))

    async def list_oracle(self, limit: int = 500) -> list[dict[str, Any]]:
        t = oracle_table
        return await self._all(t.select().order_by(t.c.created_at, t.c.id).limit(limit))
