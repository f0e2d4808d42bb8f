"""Helpers shared by the retail tests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

import polars as pl


def csv_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_csv(buf)
    return buf.getvalue()


def post_csv(client: Any, body: bytes, **params: Any) -> Any:
    query = "&".join(f"{k}={str(v).lower()}" for k, v in params.items())
    return client.post(
        f"/retail/ingest/sales-daily{'?' + query if query else ''}",
        content=body,
        headers={"content-type": "text/csv"},
    )


def run_db(client: Any, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``fn(conn)`` on the app's database, on the client's event loop."""
    ctx = client.app.state["ctx"]

    async def call() -> Any:
        async with ctx.db.engine.connect() as conn:
            return await fn(conn)

    return client.blocking_portal.call(call)


def on_database(settings: Any, fn: Callable[[Any], Any]) -> Any:
    """Run the synchronous ``fn(conn)`` (an inspector's, a seed's) in one transaction on a fresh
    engine for ``settings``: for migration tests, which have no app."""
    from ridgeline.platform import db as dbmod

    async def call() -> Any:
        database = dbmod.Database(settings)
        try:
            async with database.engine.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await database.dispose()

    return asyncio.run(call())


def sales_rows(
    n_days: int = 5, stores: tuple[str, ...] = ("S1", "S2"), skus: tuple[str, ...] = ("A", "B")
) -> pl.DataFrame:
    """A tiny dense sales batch with known values."""
    dates = pl.date_range(pl.date(2024, 3, 1), pl.date(2024, 3, n_days), "1d", eager=True)
    frame = (
        pl.DataFrame({"store_code": list(stores)})
        .join(pl.DataFrame({"sku": list(skus)}), how="cross")
        .join(pl.DataFrame({"date": dates}), how="cross")
    )
    return frame.with_row_index("i").select(
        pl.col("date").cast(pl.String),
        "store_code",
        "sku",
        (pl.col("i") % 7 + 1).cast(pl.Int64).alias("quantity"),
        (pl.lit(2.5) + (pl.col("i") % 3).cast(pl.Float64)).alias("unit_price"),
        (pl.col("i") % 5 == 0).alias("on_promotion"),
        (pl.col("i") % 4 + 1).cast(pl.Int64).alias("transactions"),
    )
