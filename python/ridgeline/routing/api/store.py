"""Tables of the routing family and their queries (SQLAlchemy Core, async)."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
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


class SQLiteRunWriter:
    """Run rows into SQLite on one dedicated connection and thread (the stdlib driver, no pool,
    no SQLAlchemy statement compilation, no aiosqlite hop): a profile of ``POST /route`` under
    load put a fifth of the event loop's time in the SQLAlchemy/aiosqlite insert path.

    The values are the columns' own SQLAlchemy bind processors' output (the msgspec JSON of
    :class:`_SQLiteJSON`, :class:`UTCDateTime`'s naive-UTC text), so a row reads back exactly as
    one written through the engine. The connection keeps ``synchronous=FULL`` when ``fsync``
    (the WAL is fsynced before the commit returns: a run id given out survives power loss) and
    is used for nothing else, so it never hands that level to other queries."""

    def __init__(self, path: str, dialect: Any, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        cols = list(runs_table.c)
        self._cols = [(c.name, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in cols]
        self._sql = (
            f"INSERT INTO {runs_table.name} ({', '.join(c.name for c in cols)}) "
            f"VALUES ({', '.join('?' for _ in cols)})"
        )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="routing-runs")
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")  # the other workers write the same file
            conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
            self._conn = conn
        return self._conn

    def _write(self, rows: list[dict[str, Any]]) -> None:
        values = [
            tuple(r[name] if proc is None else proc(r[name]) for name, proc in self._cols) for r in rows
        ]
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(self._sql, values)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # a failed insert or commit: the next batch starts clean
                conn.execute("ROLLBACK")
            raise

    def synchronous(self) -> int:
        """The writer connection's ``PRAGMA synchronous`` (2 = FULL, 1 = NORMAL)."""
        return self._pool.submit(
            lambda: int(self._connection().execute("PRAGMA synchronous").fetchone()[0])
        ).result()

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._write, rows)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._pool.submit(shut).result()
        self._pool.shutdown()


def _sqlite_file(db: Database) -> str | None:
    """The SQLite database file behind ``db``; None for PostgreSQL or an in-memory database."""
    if db.backend != "sqlite":
        return None
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


class RoutingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._run_writer: SQLiteRunWriter | None = None

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
    def run_writer(self, *, fsync: bool) -> SQLiteRunWriter | None:
        """The dedicated SQLite run writer (created on first use); None off SQLite."""
        if self._run_writer is None:
            path = _sqlite_file(self.db)
            if path is None:
                return None
            self._run_writer = SQLiteRunWriter(path, self.db.engine.dialect, fsync=fsync)
        return self._run_writer

    async def insert_runs(self, rows: list[dict[str, Any]], *, fsync: bool = True) -> None:
        """Inserts run rows in one transaction, committed before this returns. On a SQLite file
        through :class:`SQLiteRunWriter` (``synchronous=FULL`` with ``fsync``: the WAL is fsynced
        before the commit returns, so a run survives power loss, not only a process crash as under
        the platform's ``NORMAL``). PostgreSQL's commit is durable by itself (synchronous_commit)."""
        writer = self.run_writer(fsync=fsync)
        if writer is not None:
            await writer.insert(rows)
            return
        async with self.db.begin() as conn:
            await conn.execute(runs_table.insert(), rows)

    def close(self) -> None:
        if self._run_writer is not None:
            self._run_writer.close()
            self._run_writer = None

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
