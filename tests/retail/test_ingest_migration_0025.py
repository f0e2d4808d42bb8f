"""Migration 0025_retail_ingest_speed: retail_store_holiday loses its FOREIGN KEY (a per-row check on
every ingested holiday) and keeps its rows, primary key and date index; the downgrade restores it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from .retail_testlib import on_database

pytestmark = pytest.mark.db


def test_holiday_foreign_key_dropped_and_restored(settings) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from ridgeline.platform import db as dbmod

    dbmod.upgrade(settings, "0019_retail_batches")

    def seed(c: Any) -> None:
        c.execute(
            sa.text(
                "INSERT INTO retail_store (id, code, name, created_at, updated_at) "
                "VALUES (7, 'S7', 'S7', '2024-01-01', '2024-01-01')"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO retail_store_holiday (store_id, date, kind, name) "
                "VALUES (7, '2024-01-02', 'public', 'New Year')"
            )
        )

    def shape(c: Any) -> tuple[list[Any], list[Any], set[str], list[Any]]:
        insp = sa.inspect(c)
        rows = [tuple(r) for r in c.execute(sa.text("SELECT store_id, kind, name FROM retail_store_holiday"))]
        fks = [fk["referred_table"] for fk in insp.get_foreign_keys("retail_store_holiday")]
        indexes = {i["name"] for i in insp.get_indexes("retail_store_holiday")}
        pk = insp.get_pk_constraint("retail_store_holiday")["constrained_columns"]
        return rows, fks, indexes, pk

    on_database(settings, seed)
    assert on_database(settings, shape)[1] == ["retail_store"]
    dbmod.upgrade(settings)
    rows, fks, indexes, pk = on_database(settings, shape)
    assert rows == [(7, "public", "New Year")]
    assert fks == []
    assert "ix_retail_store_holiday_date" in indexes and pk == ["store_id", "date", "kind"]
    command.downgrade(dbmod.alembic_config(settings), "0019_retail_batches")
    rows, fks, indexes, pk = on_database(settings, shape)
    assert rows == [(7, "public", "New Year")] and fks == ["retail_store"]
    assert "ix_retail_store_holiday_date" in indexes and pk == ["store_id", "date", "kind"]
