"""The retail migration creates exactly the tables declared in ``store.py`` (both databases)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db


def test_migration_matches_declared_tables(make_client) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ridgeline.platform.db import metadata

    client = make_client()
    ctx = client.app.state["ctx"]

    def diff(sync_conn):  # type: ignore[no-untyped-def]
        mc = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(mc, metadata)
            if "retail_" in repr(d) and not (isinstance(d, tuple) and d[0] == "remove_table")
        ]

    async def run():  # type: ignore[no-untyped-def]
        async with ctx.db.engine.connect() as conn:
            return await conn.run_sync(diff)

    assert client.blocking_portal.call(run) == []


def test_openapi_lists_the_retail_paths(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/retail/health",
        "/retail/ingest/sales-daily",
        "/retail/dimensions/stores",
        "/retail/dimensions/stores/{store_id}",
        "/retail/dimensions/products/{product_id}",
        "/retail/analytics/kpis",
        "/retail/analytics/drilldowns",
        "/retail/analytics/timeseries",
        "/retail/analytics/inventory-status",
        "/retail/seeder/status",
        "/retail/seeder/scenarios",
        "/retail/seeder/generate",
        "/retail/seeder/append",
        "/retail/seeder/data",
        "/retail/seeder/verify",
    ):
        assert p in paths, p
