"""Sales history for the forecasting slices, read from the retail data tables (issue 7's store).

One series per (store, product): ``series_id = store_id * 1_000_000 + product_id`` (an integer key,
so the engine's radix sort applies), target ``y`` = units sold (``quantity``), exogenous ``price``
(``unit_price``) and ``promo`` (``on_promotion``). A missing day is a gap, not a zero: the engine's
features are calendar-correct across gaps. Holidays are the chain calendar's holidays plus the
store's public holidays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.retail.api import store as data_store

SERIES_FACTOR = 1_000_000
EXOG = ("price", "promo")
MAX_RANGE_DAYS = 730 * 4


def series_key(store_id: int, product_id: int) -> int:
    return store_id * SERIES_FACTOR + product_id


def split_key(key: int) -> tuple[int, int]:
    return key // SERIES_FACTOR, key % SERIES_FACTOR


#: Requested dates must leave room for the calendar reach (+-400 days) and a forecast horizon.
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(9000, 12, 31)


def shift(day: date, days: int) -> date:
    """``day + days``, clamped to the representable dates (0001-01-01 and 9999-12-31 are valid
    inputs, and reaching back or ahead from them was an OverflowError 500)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def check_range(start: date | None, end: date | None, what: str = "date range") -> None:
    for d in (start, end):
        if d is not None and not EARLIEST_DATE <= d <= LATEST_DATE:
            raise RidgelineError(
                400, "invalid_date_range", f"{what}: {d} is outside {EARLIEST_DATE} to {LATEST_DATE}"
            )
    if start is not None and end is not None:
        if start > end:
            raise RidgelineError(400, "invalid_date_range", f"{what}: start {start} is after end {end}")
        if (end - start).days > MAX_RANGE_DAYS:
            raise RidgelineError(400, "invalid_date_range", f"{what} spans more than {MAX_RANGE_DAYS} days")


async def load_history(
    ctx: AppContext,
    store_ids: Sequence[int],
    product_ids: Sequence[int] | None,
    start: date | None,
    end: date | None,
) -> tuple[pl.DataFrame, pl.Series]:
    """(frame: series_id, date, y, price, promo; holiday dates) for the stores/products and dates."""
    async with ctx.db.engine.connect() as conn:
        sales = await data_store.load_sales_frame(
            conn, store_ids=list(store_ids), product_ids=product_ids, start_date=start, end_date=end
        )
        cal_start = shift(start, -400) if start else None
        cal_end = shift(end, 400) if end else None
        cal = await data_store.load_calendar_frame(conn, start_date=cal_start, end_date=cal_end)
        local = await data_store.load_store_holidays_frame(
            conn, store_ids=list(store_ids), start_date=cal_start, end_date=cal_end
        )
    frame = sales.select(
        (pl.col("store_id") * SERIES_FACTOR + pl.col("product_id")).alias("series_id"),
        "date",
        pl.col("quantity").cast(pl.Float64).alias("y"),
        pl.col("unit_price").cast(pl.Float64).alias("price"),
        pl.col("on_promotion").cast(pl.Float64).alias("promo"),
    )
    holidays = pl.concat(
        [
            cal.filter(pl.col("is_holiday"))["date"],
            local.filter(pl.col("kind") == "public")["date"],
        ]
    ).unique()
    return frame, holidays


async def load_series(
    ctx: AppContext, store_id: int, product_id: int, start: date | None, end: date | None
) -> tuple[pl.DataFrame, pl.Series]:
    """One (store, product) series; 404 when it has no sales at all in the range."""
    check_range(start, end)
    frame, holidays = await load_history(ctx, [store_id], [product_id], start, end)
    if frame.height == 0:
        raise RidgelineError(
            404,
            "series_not_found",
            f"no sales for store {store_id} and product {product_id} in the requested range",
            store_id=store_id,
            product_id=product_id,
        )
    return frame, holidays
