"""Database: one async SQLAlchemy engine per process, Alembic migrations, SQLite in WAL mode by default.

Every family declares its tables on :data:`metadata` (in its ``api/store.py``, named by its
``Family(metadata=...)``; the platform imports no family module) and ships an Alembic
migration under ``platform/migrations/versions`` whose ``down_revision`` is the platform's base
revision; families are independent branches and ``upgrade`` applies all heads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

import msgspec
from sqlalchemy import DateTime, MetaData, TypeDecorator, event, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ridgeline.platform.settings import Settings

T = TypeVar("T")

# Constraint naming so Alembic migrations are deterministic on SQLite and PostgreSQL alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_SHARED_METADATA = metadata  # the module-level name, for functions whose parameter shadows it


#: how long a connection keeps trying to switch a rollback-journal database to WAL
WAL_SWITCH_LIMIT_S = 30.0


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """Every SQLite connection of the service: WAL, NORMAL sync, foreign keys, a busy timeout.

    WAL lets readers proceed during writes; NORMAL sync is durable across process crashes in WAL mode.
    """
    sqlite_wal(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_wal(dbapi_connection: Any, _record: Any = None) -> None:
    """A busy timeout, and the file in WAL mode.

    WAL is a property of the file, so it is switched on once (by the migrating process, whose engine
    uses this hook too: ``migrations/env.py``) and later connections only read the mode. The switch
    needs an exclusive lock, and two connections switching at once can get SQLITE_BUSY at once (a
    reader upgrading to a writer is refused without waiting, which avoids a deadlock): it is retried.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: what follows may wait on a lock
    deadline = time.monotonic() + WAL_SWITCH_LIMIT_S
    while _journal_mode(cursor) != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except Exception as exc:  # the driver's OperationalError (sqlite3's, or aiosqlite's wrapper)
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    cursor.close()


def _journal_mode(cursor: Any) -> str:
    cursor.execute("PRAGMA journal_mode")
    return str(cursor.fetchone()[0]).lower()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that is always aware UTC in Python.

    SQLite hands back naive datetimes even for ``DateTime(timezone=True)`` columns; this type makes
    every value read aware UTC and refuses naive values on write (a naive datetime has no defined
    instant). The database type is ``DateTime(timezone=True)``, so no migration is needed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime takes datetime values, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: give a timezone-aware value (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def row_to(struct_type: type[T], row: Any) -> T:
    """Convert a result row into a msgspec Struct.

    Column names come back as ``quoted_name`` (a str subclass msgspec will not take as a key);
    timestamps are aware UTC already when their column is a :class:`UTCDateTime`.
    """
    return msgspec.convert({str(k): v for k, v in row._mapping.items()}, struct_type)


class Database:
    """The engine and a session factory; held on ``app.state.db``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = "sqlite" if settings.is_sqlite else "postgresql"
        self.engine = create_engine(settings)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reachable = False
        self._probed_at = -1e9
        self._probe: asyncio.Task[bool] | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction that commits on success and rolls back on error."""
        async with self.engine.begin() as conn:
            yield conn

    async def reachable(self, max_age_s: float = 1.0) -> bool:
        """Whether ``SELECT 1`` succeeds. A result younger than ``max_age_s`` is reused, and while a probe
        is running every caller awaits that same probe, so a health check polled thousands of times a
        second costs the database one query a second (no stampede when the cached result expires)."""
        if time.monotonic() - self._probed_at < max_age_s:
            return self._reachable
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._run_probe())
        return await asyncio.shield(self._probe)

    async def _run_probe(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            self._reachable = True
        except Exception:
            self._reachable = False
        self._probed_at = time.monotonic()
        return self._reachable

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(settings: Settings, metadata: Sequence[MetaData] | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.attributes["target_metadata"] = list(metadata) if metadata else [_SHARED_METADATA]
    cfg.set_main_option("script_location", str(resources.files("ridgeline.platform") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "heads", metadata: Sequence[MetaData] | None = None) -> None:
    """Apply migrations (all family heads by default). Safe to call from inside a running event loop.

    ``metadata`` is what the composer collected from the declared families
    (:func:`ridgeline.platform.family.metadata_of`); Alembic's env gets it as ``target_metadata``
    (autogenerate and comparisons need it; plain upgrades run the migration scripts only).
    """
    from alembic import command

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config(settings, metadata)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    # Alembic's async env uses asyncio.run, which cannot nest: run it on a helper thread.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(cfg, revision)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="alembic-upgrade")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
