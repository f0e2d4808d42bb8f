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
    # every table the declared families (and the platform) have in code has a migration
    declared = {name for md in _declared_metadata() for name in md.tables}
    assert declared <= tables
    assert {"routing_runs", "sim_runs"} <= declared


def _declared_metadata() -> list[sa.MetaData]:
    from ridgeline.app import available_families, load_family
    from ridgeline.platform.family import metadata_of

    return metadata_of([load_family(n) for n in available_families()])


def test_migrations_match_the_declared_column_types(settings) -> None:  # type: ignore[no-untyped-def]
    """UTCDateTime and the other column types add no schema change over the migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    dbmod.upgrade(settings)
    metadata = _declared_metadata()

    async def main() -> list[object]:
        database = dbmod.Database(settings)
        async with database.engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), metadata
                )
            )
        await database.dispose()
        return diffs

    type_changes = [d for d in asyncio.run(main()) if _is_type_change(d)]
    assert type_changes == []


def _is_type_change(diff: object) -> bool:
    ops = diff if isinstance(diff, list) else [diff]
    return any(isinstance(op, tuple) and op and op[0] == "modify_type" for op in ops)


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
