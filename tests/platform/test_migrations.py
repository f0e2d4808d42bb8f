import asyncio

import pytest
import sqlalchemy as sa

from ridgeline.platform import db as dbmod

pytestmark = pytest.mark.db


def _tables(settings) -> set[str]:  # type: ignore[no-untyped-def]
    async def main() -> set[str]:
        database = dbmod.Database(settings)
        async with database.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        await database.dispose()
        return names

    return asyncio.run(main())


def test_upgrade_creates_every_table_on_an_empty_database(settings) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    tables = _tables(settings)
    assert {"alembic_version", "platform_jobs", "platform_artifacts"} <= tables
    dbmod._import_family_tables()
    # every table declared in code has a migration
    assert set(dbmod.metadata.tables) <= tables


def test_upgrade_is_idempotent_and_reversible(settings) -> None:  # type: ignore[no-untyped-def]
    dbmod.upgrade(settings)
    dbmod.upgrade(settings)
    from alembic import command

    command.downgrade(dbmod.alembic_config(settings), "base")
    assert _tables(settings) <= {"alembic_version"}
    dbmod.upgrade(settings)
    assert "platform_jobs" in _tables(settings)


def test_sqlite_runs_in_wal_mode(settings) -> None:  # type: ignore[no-untyped-def]
    if not settings.is_sqlite:
        pytest.skip("SQLite only")

    async def main() -> str:
        database = dbmod.Database(settings)
        async with database.engine.connect() as conn:
            mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar_one()
        await database.dispose()
        return str(mode)

    assert asyncio.run(main()).lower() == "wal"
