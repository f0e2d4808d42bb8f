"""Database: one async SQLAlchemy engine per process, Alembic migrations, SQLite in WAL mode by default.

Every family declares its tables on :data:`metadata` (in its ``api/store.py``) and ships an Alembic
migration under ``platform/migrations/versions`` whose ``down_revision`` is the platform's base
revision; families are independent branches and ``upgrade`` applies all heads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

import msgspec
from sqlalchemy import MetaData, event, text
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during writes; NORMAL sync is durable across process crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def row_to(struct_type: type[T], row: Any) -> T:
    """Convert a result row into a msgspec Struct.

    Column names come back as ``quoted_name`` (a str subclass msgspec will not take as a key), and
    SQLite returns naive datetimes even for ``timezone=True`` columns; every datetime we write is UTC.
    """
    data = {str(k): v for k, v in row._mapping.items()}
    for key, value in data.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            data[key] = value.replace(tzinfo=UTC)
    return msgspec.convert(data, struct_type)


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


def alembic_config(settings: Settings) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("ridgeline.platform") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Apply migrations (all family heads by default). Safe to call from inside a running event loop."""
    from alembic import command

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    _import_family_tables()
    cfg = alembic_config(settings)
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


def _import_family_tables() -> None:
    """Import every family's table module so :data:`metadata` is complete (for tooling)."""
    import importlib

    from ridgeline.platform.settings import FAMILIES

    for family in FAMILIES:
        try:
            importlib.import_module(f"ridgeline.{family}.api.store")
        except ModuleNotFoundError:
            continue
    importlib.import_module("ridgeline.platform.jobs")
