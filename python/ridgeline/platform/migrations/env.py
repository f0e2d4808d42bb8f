"""Alembic environment: async engine, every family's branch.

``target_metadata`` is what the composer passes in ``config.attributes`` (the declared families'
MetaData, see ``ridgeline.platform.db.upgrade``); this module imports no family.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from ridgeline.platform.db import metadata as platform_metadata
from ridgeline.platform.db import sqlite_wal

config = context.config
metadata = config.attributes.get("target_metadata") or [platform_metadata]


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "sqlite":  # WAL from the start: no later connection switches it
        # (foreign keys stay off here: batch migrations rebuild tables)
        event.listen(engine.sync_engine, "connect", sqlite_wal)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
