"""``/analytics``: KPIs, drill-downs, time series and inventory status over a date range.

All aggregation runs in SQL (GROUP BY over the indexed fact table) and, for time buckets, in
polars over per-day aggregates; no Python loop walks fact rows. Date ranges follow
:mod:`ridgeline.retail.dates` (at most 730 days, contract 002).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import polars as pl
from litestar import Controller, get
from litestar.params import Parameter

from ridgeline.platform import paging
from ridgeline.platform.context import Ctx
from ridgeline.platform.db import Database
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Page, page_window
from ridgeline.retail import dates
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.sales import (
    Dimension,
    DrilldownItem,
    DrilldownResponse,
    Granularity,
    InventoryStatusItem,
    InventoryStatusResponse,
    KPIMetrics,
    KPIResponse,
    TimeseriesPoint,
    TimeseriesResponse,
)

StartDate = Annotated[date, Parameter(description="Start of the period (inclusive), YYYY-MM-DD")]


EndDate = Annotated[
    date, Parameter(description="End of the period (inclusive); at most 730 days after start")
]


StoreId = Annotated[
    int | None,
    Parameter(
        ge=paging.INT64_MIN, le=paging.INT64_MAX, description="Filter by store id (GET /dimensions/stores)"
    ),
]


ProductId = Annotated[
    int | None,
    Parameter(
        ge=paging.INT64_MIN,
        le=paging.INT64_MAX,
        description="Filter by product id (GET /dimensions/products)",
    ),
]


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["retail: analytics"]

    @get(
        "/kpis",
        summary="Revenue, units, transactions, average unit price and basket over a date range",
        opt=raises(400),
    )
    async def kpis(
        self,
        ctx: Ctx,
        start_date: StartDate,
        end_date: EndDate,
        store_id: StoreId = None,
        product_id: ProductId = None,
        category: Annotated[str | None, Parameter(description="Exact product category")] = None,
        region: Annotated[str | None, Parameter(description="Exact store region")] = None,
    ) -> KPIResponse:
        f = _sales_filter(start_date, end_date, store_id, product_id, category, region)
        return await kpis(ctx.db, f)

    @get(
        "/drilldowns",
        summary="KPIs grouped by store, product, category, region or date, ranked by revenue",
        opt=raises(400),
    )
    async def drilldowns(
        self,
        ctx: Ctx,
        dimension: Annotated[Dimension, Parameter(description="store, product, category, region or date")],
        start_date: StartDate,
        end_date: EndDate,
        store_id: StoreId = None,
        product_id: ProductId = None,
        max_items: Annotated[int, Parameter(ge=1, le=100, description="Top items to return (1..100)")] = 20,
    ) -> DrilldownResponse:
        f = _sales_filter(start_date, end_date, store_id, product_id)
        return await drilldown(ctx.db, f, dimension, max_items)

    @get(
        "/timeseries", summary="Sales bucketed by day, week (ISO, Monday), month or quarter", opt=raises(400)
    )
    async def timeseries(
        self,
        ctx: Ctx,
        start_date: StartDate,
        end_date: EndDate,
        granularity: Annotated[Granularity, Parameter(description="day, week, month or quarter")] = "day",
        store_id: StoreId = None,
        product_id: ProductId = None,
        category: Annotated[str | None, Parameter(description="Exact product category")] = None,
        region: Annotated[str | None, Parameter(description="Exact store region")] = None,
    ) -> TimeseriesResponse:
        f = _sales_filter(start_date, end_date, store_id, product_id, category, region)
        return await timeseries(ctx.db, f, granularity)

    @get("/inventory-status", summary="Latest inventory snapshot per (store, product)", opt=raises(400))
    async def inventory_status(
        self,
        ctx: Ctx,
        store_id: StoreId = None,
        product_id: ProductId = None,
        start_date: Annotated[
            date | None, Parameter(description="With end_date: latest snapshot within the range")
        ] = None,
        end_date: Annotated[
            date | None, Parameter(description="With start_date; at most 730 days after it")
        ] = None,
        stockout_only: Annotated[
            bool, Parameter(description="Only pairs whose latest snapshot is a stock-out")
        ] = False,
        page: Page = 1,
        page_size: paging.page_size(1000) = 100,  # type: ignore[valid-type]
    ) -> InventoryStatusResponse:
        return await inventory_status(
            ctx.db,
            store_id=store_id,
            product_id=product_id,
            start_date=start_date,
            end_date=end_date,
            stockout_only=stockout_only,
            page=page,
            page_size=page_size,
        )


def _sales_filter(
    start_date: date,
    end_date: date,
    store_id: int | None = None,
    product_id: int | None = None,
    category: str | None = None,
    region: str | None = None,
) -> store.SalesFilter:
    """The filter of a KPI, drill-down or time-series request; at most 730 days (contract 002)."""
    dates.check_range(start_date, end_date, max_days=dates.ANALYTICS_MAX_DAYS)
    return store.SalesFilter(start_date, end_date, store_id, product_id, category, region)


def _metrics(revenue: float, units: int, transactions: int, rows: int) -> KPIMetrics:
    revenue, units, transactions = float(revenue or 0.0), int(units or 0), int(transactions or 0)
    return KPIMetrics(
        total_revenue=round(revenue, 2),
        total_units=units,
        total_transactions=transactions,
        avg_unit_price=round(revenue / units, 4) if units else None,
        avg_basket_value=round(revenue / transactions, 4) if transactions else None,
        row_count=int(rows or 0),
    )


async def kpis(db: Database, f: store.SalesFilter) -> KPIResponse:
    row = await store.sales_totals(db, f)
    return KPIResponse(
        metrics=_metrics(*row),
        start_date=f.start_date,
        end_date=f.end_date,
        store_id=f.store_id,
        product_id=f.product_id,
        category=f.category,
        region=f.region,
    )


async def drilldown(db: Database, f: store.SalesFilter, dimension: str, max_items: int) -> DrilldownResponse:
    groups = await store.drilldown_groups(db, f, dimension)
    rows = sorted(
        groups,
        key=lambda r: (
            -float(r.revenue or 0.0),
            r.value.isoformat() if isinstance(r.value, date) else str(r.value),
        ),
    )
    total_items = len(rows)
    grand = sum(float(r.revenue or 0.0) for r in rows)
    rows = rows[:max_items]
    items = []
    for rank, r in enumerate(rows, start=1):
        m = r._mapping
        value = m["value"]
        items.append(
            DrilldownItem(
                dimension_value=value.isoformat() if isinstance(value, date) else str(value),
                dimension_id=m["id"],
                metrics=_metrics(m["revenue"], m["units"], m["transactions"], m["rows"]),
                rank=rank,
                revenue_share_pct=round(100.0 * float(m["revenue"]) / grand, 4) if grand else 0.0,
            )
        )
    return DrilldownResponse(
        dimension=dimension,  # type: ignore[arg-type]
        items=items,
        total_items=int(total_items),
        start_date=f.start_date,
        end_date=f.end_date,
        store_id=f.store_id,
        product_id=f.product_id,
    )


_TRUNCATE = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}


async def timeseries(db: Database, f: store.SalesFilter, granularity: str) -> TimeseriesResponse:
    rows = await store.daily_totals(db, f)
    daily = store.rows_frame(
        rows,
        {
            "date": pl.Date,
            "revenue": pl.Float64,
            "units": pl.Int64,
            "transactions": pl.Int64,
            "rows": pl.Int64,
        },
    )
    every = _TRUNCATE[granularity]
    buckets = (
        pl.DataFrame({"date": pl.date_range(f.start_date, f.end_date, "1d", eager=True)})
        .with_columns(pl.col("date").dt.truncate(every).alias("period_start"))
        .group_by("period_start")
        .agg(pl.col("date").max().alias("period_end"))
    )
    agg = (
        daily.with_columns(pl.col("date").dt.truncate(every).alias("period_start"))
        .group_by("period_start")
        .agg(pl.col("revenue").sum(), pl.col("units").sum(), pl.col("transactions").sum())
    )
    out = (
        buckets.join(agg, on="period_start", how="left")
        .with_columns(
            pl.col("revenue").fill_null(0.0).round(2),
            pl.col("units").fill_null(0),
            pl.col("transactions").fill_null(0),
        )
        .with_columns(
            pl.when(pl.col("units") > 0)
            .then((pl.col("revenue") / pl.col("units")).round(4))
            .alias("avg_unit_price"),
            pl.when(pl.col("transactions") > 0)
            .then((pl.col("revenue") / pl.col("transactions")).round(4))
            .alias("avg_basket_value"),
        )
        .sort("period_start")
    )
    points = [
        TimeseriesPoint(
            period_start=max(r["period_start"], f.start_date),
            period_end=r["period_end"],
            total_revenue=r["revenue"],
            total_units=r["units"],
            total_transactions=r["transactions"],
            avg_unit_price=r["avg_unit_price"],
            avg_basket_value=r["avg_basket_value"],
        )
        for r in out.iter_rows(named=True)
    ]
    return TimeseriesResponse(
        granularity=granularity,  # type: ignore[arg-type]
        start_date=f.start_date,
        end_date=f.end_date,
        points=points,
        store_id=f.store_id,
        product_id=f.product_id,
        category=f.category,
        region=f.region,
    )


async def inventory_status(
    db: Database,
    *,
    store_id: int | None,
    product_id: int | None,
    start_date: date | None,
    end_date: date | None,
    stockout_only: bool,
    page: int,
    page_size: int,
) -> InventoryStatusResponse:
    """Latest snapshot per (store, product), optionally within a date range."""
    # Both ends or neither (latest snapshot overall); at most 730 days, like the other analytics.
    dates.check_range(start_date, end_date, max_days=dates.ANALYTICS_MAX_DAYS, both=True)
    window = page_window(page, page_size)
    rows, total, stockouts = await store.latest_inventory(
        db,
        store_id=store_id,
        product_id=product_id,
        start_date=start_date,
        end_date=end_date,
        stockout_only=stockout_only,
        limit=window.limit,
        offset=window.offset,
    )
    items = [
        InventoryStatusItem(
            store_id=r.store_id,
            store_code=r.code,
            product_id=r.product_id,
            sku=r.sku,
            date=r.date if isinstance(r.date, date) else date.fromisoformat(str(r.date)[:10]),
            on_hand_qty=r.on_hand_qty,
            on_order_qty=r.on_order_qty,
            is_stockout=bool(r.is_stockout),
        )
        for r in rows
    ]
    return InventoryStatusResponse(
        items=items, total=total, stockout_count=stockouts, page=page, page_size=page_size
    )
