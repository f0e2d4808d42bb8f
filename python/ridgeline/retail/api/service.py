"""Use cases of the retail family: dimensions, analytics and the seeder (ingest is in ``ingest.py``).

All aggregation runs in SQL (GROUP BY over the indexed fact table) and, for time buckets, in
polars over per-day aggregates; no Python loop walks fact rows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.platform.db import Database
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.paging import page_window, resolve_sort
from ridgeline.platform.problems import NotFound
from ridgeline.retail import synth
from ridgeline.retail.api import schemas as sc
from ridgeline.retail.api import store as st

MAX_RANGE_DAYS = 730


# ---- shared rules ------------------------------------------------------------------------------


def validate_date_range(start_date: date, end_date: date) -> None:
    """Inverted ranges and ranges longer than 730 days are rejected with 400."""
    if end_date < start_date:
        raise RidgelineError(
            400,
            "invalid_date_range",
            f"end_date {end_date} is before start_date {start_date}",
            start_date=start_date.isoformat(),
            end_date=end_date.isoformat(),
        )
    span = (end_date - start_date).days
    if span > MAX_RANGE_DAYS:
        raise RidgelineError(
            400,
            "date_range_too_long",
            f"the date range spans {span} days; the maximum is {MAX_RANGE_DAYS}",
            start_date=start_date.isoformat(),
            end_date=end_date.isoformat(),
            max_days=MAX_RANGE_DAYS,
        )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---- dimensions --------------------------------------------------------------------------------

STORE_SORT = {"id", "code", "name", "region", "city", "store_type", "created_at", "updated_at"}
PRODUCT_SORT = {
    "id",
    "sku",
    "name",
    "category",
    "brand",
    "base_price",
    "base_cost",
    "created_at",
    "updated_at",
}


def _order(
    table: sa.Table, allowed: set[str], default: str, sort_by: str | None, sort_order: str | None
) -> list[Any]:
    """Allow-listed ordering; an unknown column or direction falls back to the default (ascending)."""
    sort = resolve_sort(sort_by, sort_order, {c: table.c[c] for c in allowed}, default)
    return [sort.target.desc() if sort.descending else sort.target.asc(), table.c.id.asc()]


def _store(row: Any) -> sc.StoreResponse:
    m = row._mapping
    return sc.StoreResponse(
        id=m["id"],
        code=m["code"],
        name=m["name"],
        region=m["region"],
        city=m["city"],
        store_type=m["store_type"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _product(row: Any) -> sc.ProductResponse:
    m = row._mapping
    return sc.ProductResponse(
        id=m["id"],
        sku=m["sku"],
        name=m["name"],
        category=m["category"],
        brand=m["brand"],
        base_price=m["base_price"],
        base_cost=m["base_cost"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


async def _page(
    db: Database,
    table: sa.Table,
    *,
    equals: dict[str, str | None],
    search: str | None,
    search_columns: tuple[str, str],
    sort: set[str],
    default_sort: str,
    sort_by: str | None,
    sort_order: str | None,
    page: int,
    page_size: int,
) -> tuple[list[sa.Row[Any]], int]:
    """One page of a dimension table: exact filters, case-insensitive search, allow-listed sort."""
    window = page_window(page, page_size)
    conds: list[Any] = [table.c[col] == value for col, value in equals.items() if value is not None]
    if search:
        pattern = _like(search)
        conds.append(
            sa.or_(*(sa.func.lower(table.c[col]).like(pattern, escape="\\") for col in search_columns))
        )
    async with db.engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(table).where(*conds))).scalar_one()
        q = (
            sa.select(table)
            .where(*conds)
            .order_by(*_order(table, sort, default_sort, sort_by, sort_order))
            .limit(window.limit)
            .offset(window.offset)
        )
        rows = list((await conn.execute(q)).all())
    return rows, int(total)


async def _by_id(db: Database, table: sa.Table, row_id: int, what: str, list_path: str) -> sa.Row[Any]:
    async with db.engine.connect() as conn:
        row = (await conn.execute(sa.select(table).where(table.c.id == row_id))).first()
    if row is None:
        raise NotFound(
            what,
            row_id,
            message=f"{what.capitalize()} not found: {row_id}. Use GET {list_path} to list available {what}s.",
            **{f"{what}_id": row_id},
        )
    return row


async def list_stores(
    db: Database,
    *,
    page: int,
    page_size: int,
    region: str | None,
    store_type: str | None,
    search: str | None,
    sort_by: str | None,
    sort_order: str | None,
) -> sc.StoreListResponse:
    rows, total = await _page(
        db,
        st.stores,
        equals={"region": region, "store_type": store_type},
        search=search,
        search_columns=("code", "name"),
        sort=STORE_SORT,
        default_sort="code",
        sort_by=sort_by,
        sort_order=sort_order,
        page=page,
        page_size=page_size,
    )
    return sc.StoreListResponse(stores=[_store(r) for r in rows], total=total, page=page, page_size=page_size)


async def get_store(db: Database, store_id: int) -> sc.StoreResponse:
    return _store(await _by_id(db, st.stores, store_id, "store", "/dimensions/stores"))


async def list_products(
    db: Database,
    *,
    page: int,
    page_size: int,
    category: str | None,
    brand: str | None,
    search: str | None,
    sort_by: str | None,
    sort_order: str | None,
) -> sc.ProductListResponse:
    rows, total = await _page(
        db,
        st.products,
        equals={"category": category, "brand": brand},
        search=search,
        search_columns=("sku", "name"),
        sort=PRODUCT_SORT,
        default_sort="sku",
        sort_by=sort_by,
        sort_order=sort_order,
        page=page,
        page_size=page_size,
    )
    return sc.ProductListResponse(
        products=[_product(r) for r in rows], total=total, page=page, page_size=page_size
    )


async def get_product(db: Database, product_id: int) -> sc.ProductResponse:
    return _product(await _by_id(db, st.products, product_id, "product", "/dimensions/products"))


# ---- analytics ---------------------------------------------------------------------------------


class SalesFilter:
    """Date range plus optional store/product/category/region filters over ``retail_sales_daily``."""

    def __init__(
        self,
        start_date: date,
        end_date: date,
        store_id: int | None = None,
        product_id: int | None = None,
        category: str | None = None,
        region: str | None = None,
    ) -> None:
        validate_date_range(start_date, end_date)
        self.start_date, self.end_date = start_date, end_date
        self.store_id, self.product_id = store_id, product_id
        self.category, self.region = category, region

    def apply(
        self, q: sa.Select[Any], *, join_store: bool = False, join_product: bool = False
    ) -> sa.Select[Any]:
        s = st.sales
        if join_store or self.region is not None:
            q = q.join(st.stores, st.stores.c.id == s.c.store_id)
        if join_product or self.category is not None:
            q = q.join(st.products, st.products.c.id == s.c.product_id)
        q = q.where(s.c.date >= self.start_date, s.c.date <= self.end_date)
        if self.store_id is not None:
            q = q.where(s.c.store_id == self.store_id)
        if self.product_id is not None:
            q = q.where(s.c.product_id == self.product_id)
        if self.category is not None:
            q = q.where(st.products.c.category == self.category)
        if self.region is not None:
            q = q.where(st.stores.c.region == self.region)
        return q


def _measures() -> list[Any]:
    s = st.sales
    return [
        sa.func.coalesce(sa.func.sum(s.c.total_amount), 0.0).label("revenue"),
        sa.func.coalesce(sa.func.sum(s.c.quantity), 0).label("units"),
        sa.func.coalesce(sa.func.sum(s.c.transactions), 0).label("transactions"),
        sa.func.count().label("rows"),
    ]


def _metrics(revenue: float, units: int, transactions: int, rows: int) -> sc.KPIMetrics:
    revenue, units, transactions = float(revenue or 0.0), int(units or 0), int(transactions or 0)
    return sc.KPIMetrics(
        total_revenue=round(revenue, 2),
        total_units=units,
        total_transactions=transactions,
        avg_unit_price=round(revenue / units, 4) if units else None,
        avg_basket_value=round(revenue / transactions, 4) if transactions else None,
        row_count=int(rows or 0),
    )


async def kpis(db: Database, f: SalesFilter) -> sc.KPIResponse:
    async with db.engine.connect() as conn:
        row = (await conn.execute(f.apply(sa.select(*_measures()).select_from(st.sales)))).one()
    return sc.KPIResponse(
        metrics=_metrics(*row),
        start_date=f.start_date,
        end_date=f.end_date,
        store_id=f.store_id,
        product_id=f.product_id,
        category=f.category,
        region=f.region,
    )


async def drilldown(db: Database, f: SalesFilter, dimension: str, max_items: int) -> sc.DrilldownResponse:
    s = st.sales
    # Aggregate the facts by id (a scan of the date range, no join per row), then label and, for
    # category/region, re-aggregate the (few) per-id groups through the dimension table.
    key = {
        "store": s.c.store_id,
        "region": s.c.store_id,
        "product": s.c.product_id,
        "category": s.c.product_id,
    }
    inner_key = key.get(dimension, s.c.date)
    inner = (
        f.apply(sa.select(inner_key.label("k"), *_measures()).select_from(s)).group_by(inner_key).subquery()
    )
    sums = [
        sa.func.sum(inner.c.revenue).label("revenue"),
        sa.func.sum(inner.c.units).label("units"),
        sa.func.sum(inner.c.transactions).label("transactions"),
        sa.func.sum(inner.c.rows).label("rows"),
    ]
    plain = [inner.c.revenue, inner.c.units, inner.c.transactions, inner.c.rows]
    if dimension == "store":
        q = sa.select(st.stores.c.code.label("value"), inner.c.k.label("id"), *plain).join(
            st.stores, st.stores.c.id == inner.c.k
        )
    elif dimension == "product":
        q = sa.select(st.products.c.sku.label("value"), inner.c.k.label("id"), *plain).join(
            st.products, st.products.c.id == inner.c.k
        )
    elif dimension in ("category", "region"):
        dim, col = (st.products, "category") if dimension == "category" else (st.stores, "region")
        label = sa.func.coalesce(dim.c[col], "unknown")
        q = (
            sa.select(label.label("value"), sa.null().label("id"), *sums)
            .select_from(inner.join(dim, dim.c.id == inner.c.k))
            .group_by(label)
        )
    else:
        q = sa.select(inner.c.k.label("value"), sa.null().label("id"), *plain)
    async with db.engine.connect() as conn:
        groups = (await conn.execute(q)).all()
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
            sc.DrilldownItem(
                dimension_value=value.isoformat() if isinstance(value, date) else str(value),
                dimension_id=m["id"],
                metrics=_metrics(m["revenue"], m["units"], m["transactions"], m["rows"]),
                rank=rank,
                revenue_share_pct=round(100.0 * float(m["revenue"]) / grand, 4) if grand else 0.0,
            )
        )
    return sc.DrilldownResponse(
        dimension=dimension,  # type: ignore[arg-type]
        items=items,
        total_items=int(total_items),
        start_date=f.start_date,
        end_date=f.end_date,
        store_id=f.store_id,
        product_id=f.product_id,
    )


_TRUNCATE = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}


async def timeseries(db: Database, f: SalesFilter, granularity: str) -> sc.TimeseriesResponse:
    s = st.sales
    q = f.apply(sa.select(s.c.date, *_measures()).select_from(s)).group_by(s.c.date)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    daily = st.rows_frame(
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
        sc.TimeseriesPoint(
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
    return sc.TimeseriesResponse(
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
) -> sc.InventoryStatusResponse:
    """Latest snapshot per (store, product), optionally within a date range."""
    if (start_date is None) != (end_date is None):
        raise RidgelineError(
            400,
            "invalid_date_range",
            "give both start_date and end_date, or neither (latest snapshot overall)",
        )
    if start_date is not None and end_date is not None:
        validate_date_range(start_date, end_date)
    inv = st.inventory
    conds = []
    if store_id is not None:
        conds.append(inv.c.store_id == store_id)
    if product_id is not None:
        conds.append(inv.c.product_id == product_id)
    if start_date is not None:
        conds.append(inv.c.date >= start_date)
    if end_date is not None:
        conds.append(inv.c.date <= end_date)
    cols = [
        inv.c.store_id,
        inv.c.product_id,
        inv.c.date,
        inv.c.on_hand_qty,
        inv.c.on_order_qty,
        inv.c.is_stockout,
    ]
    async with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            latest = (
                sa.select(*cols)
                .where(*conds)
                .distinct(inv.c.store_id, inv.c.product_id)
                .order_by(inv.c.store_id, inv.c.product_id, inv.c.date.desc())
                .subquery()
            )
        else:
            last = (
                sa.select(inv.c.store_id, inv.c.product_id, sa.func.max(inv.c.date).label("date"))
                .where(*conds)
                .group_by(inv.c.store_id, inv.c.product_id)
                .subquery()
            )
            latest = (
                sa.select(*cols)
                .join(
                    last,
                    sa.and_(
                        inv.c.store_id == last.c.store_id,
                        inv.c.product_id == last.c.product_id,
                        inv.c.date == last.c.date,
                    ),
                )
                .subquery()
            )
        where = [latest.c.is_stockout.is_(True)] if stockout_only else []
        window = page_window(page, page_size)
        counts = (
            await conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(sa.case((latest.c.is_stockout.is_(True), 1), else_=0)), 0),
                )
                .select_from(latest)
                .where(*where)
            )
        ).one()
        q = (
            sa.select(latest, st.stores.c.code, st.products.c.sku)
            .join(st.stores, st.stores.c.id == latest.c.store_id)
            .join(st.products, st.products.c.id == latest.c.product_id)
            .where(*where)
            .order_by(latest.c.store_id, latest.c.product_id)
            .limit(window.limit)
            .offset(window.offset)
        )
        rows = (await conn.execute(q)).all()
    items = [
        sc.InventoryStatusItem(
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
    return sc.InventoryStatusResponse(
        items=items, total=int(counts[0]), stockout_count=int(counts[1]), page=page, page_size=page_size
    )


# ---- seeder ------------------------------------------------------------------------------------


def list_scenarios() -> list[sc.ScenarioInfo]:
    return [
        sc.ScenarioInfo(
            name=s.name,
            description=s.description,
            stores=s.params.stores,
            products=s.params.products,
            start_date=s.params.start_date,
            end_date=s.params.end_date,
            params=s.params.as_dict(),
        )
        for s in synth.SCENARIOS.values()
    ]


def params_from_request(req: sc.GenerateParams) -> synth.SynthParams:
    if req.scenario not in synth.SCENARIOS:
        raise RidgelineError(
            400,
            "unknown_scenario",
            f"unknown scenario {req.scenario!r}; available: {', '.join(synth.SCENARIOS)}",
            available=list(synth.SCENARIOS),
        )
    overrides = {
        name: getattr(req, name)
        for name in (
            "stores",
            "products",
            "start_date",
            "end_date",
            "base_units",
            "trend_per_year",
            "weekly_strength",
            "yearly_amplitude",
            "promo_probability",
            "promo_min_days",
            "promo_max_days",
            "promo_discount_min",
            "promo_discount_max",
            "promo_display_uplift",
            "price_elasticity",
            "price_change_prob",
            "holiday_eve_uplift",
            "regional_holiday_factor",
            "dispersion",
            "sparsity",
            "launch_fraction",
            "safety_stock_days",
            "review_days",
            "lead_time_days",
            "disruption_prob",
        )
    }
    params = synth.scenario_params(req.scenario, seed=req.seed, **overrides)
    errors = params.validate()
    if errors:
        raise RidgelineError(400, "invalid_seeder_params", "; ".join(errors), errors=errors)
    return params


async def write_generated(conn: AsyncConnection, data: dict[str, pl.DataFrame]) -> None:
    """Upsert a generated history (dimensions by natural key, facts by (store, product, date))."""
    now = st.now_utc()
    store_rows = data["stores"].with_columns(pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"))
    await conn.execute(
        st.upsert_statement(
            conn,
            st.stores,
            ["code"],
            ["name", "region", "city", "store_type", "updated_at"],
            only_if_changed=["name", "region", "city", "store_type"],
        ),
        store_rows.to_dicts(),
    )
    product_rows = data["products"].with_columns(
        pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at")
    )
    await conn.execute(
        st.upsert_statement(
            conn,
            st.products,
            ["sku"],
            ["name", "category", "brand", "base_price", "base_cost", "updated_at"],
            only_if_changed=["name", "category", "brand", "base_price", "base_cost"],
        ),
        product_rows.to_dicts(),
    )
    codes = data["stores"]["code"].to_list()
    skus = data["products"]["sku"].to_list()
    store_map = pl.DataFrame(
        [
            tuple(r)
            for r in (
                await conn.execute(
                    sa.select(st.stores.c.code, st.stores.c.id).where(st.stores.c.code.in_(codes))
                )
            ).all()
        ],
        schema={"store_code": pl.String, "store_id": pl.Int64},
        orient="row",
    )
    product_map = pl.DataFrame(
        [
            tuple(r)
            for r in (
                await conn.execute(
                    sa.select(st.products.c.sku, st.products.c.id).where(st.products.c.sku.in_(skus))
                )
            ).all()
        ],
        schema={"sku": pl.String, "product_id": pl.Int64},
        orient="row",
    )
    await st.upsert_calendar(conn, data["calendar"])
    if data["store_holidays"].height:
        hol = (
            data["store_holidays"].join(store_map, on="store_code").select("store_id", "date", "kind", "name")
        )
        await st.bulk_upsert(conn, st.store_holidays, hol, ["store_id", "date", "kind"], ["name"])
    sales_cols = ["store_id", "product_id", "date", *st.SALES_COLUMNS]
    sales = data["sales"].join(store_map, on="store_code").join(product_map, on="sku").select(sales_cols)
    keys = ["date", "store_id", "product_id"]
    await st.bulk_upsert(conn, st.sales, sales.sort(keys), keys, list(st.SALES_COLUMNS))
    inv_cols = ["store_id", "product_id", "date", "on_hand_qty", "on_order_qty", "is_stockout"]
    inv = data["inventory"].join(store_map, on="store_code").join(product_map, on="sku").select(inv_cols)
    await st.bulk_upsert(conn, st.inventory, inv.sort(keys), keys, inv_cols[3:])


async def generate(db: Database, req: sc.GenerateParams) -> sc.GenerateResult:
    params = params_from_request(req)
    started = time.perf_counter()
    data = await asyncio.to_thread(synth.generate, params)
    records = {name: frame.height for name, frame in data.items()}
    if not req.dry_run:
        async with db.begin() as conn:
            if req.replace:
                await _delete(conn, st.ALL_TABLES)
            await write_generated(conn, data)
            duration = time.perf_counter() - started
            await conn.execute(
                st.seed_runs.insert().values(
                    scenario=req.scenario,
                    seed=params.seed,
                    params=params.as_dict(),
                    records=records,
                    duration_s=round(duration, 4),
                    created_at=st.now_utc(),
                )
            )
    duration = time.perf_counter() - started
    verb = "Would generate" if req.dry_run else "Generated"
    return sc.GenerateResult(
        success=True,
        scenario=req.scenario,
        seed=params.seed,
        dry_run=req.dry_run,
        records_created=records,
        duration_seconds=round(duration, 4),
        message=f"{verb} {records['sales']:,} sales rows for {records['stores']} stores x "
        f"{records['products']} products ({params.start_date}..{params.end_date}) from scenario "
        f"{req.scenario!r} with seed {params.seed}",
        params=params.as_dict(),
    )


async def append(db: Database, req: sc.AppendParams) -> sc.GenerateResult:
    """Generate another period with the parameters of the last seeder run (new dates only)."""
    async with db.engine.connect() as conn:
        run = (
            await conn.execute(sa.select(st.seed_runs).order_by(st.seed_runs.c.id.desc()).limit(1))
        ).first()
    if run is None:
        raise RidgelineError(
            400, "nothing_to_append_to", "no seeder run recorded yet; call POST /seeder/generate first"
        )
    base = synth.params_from_dict(run._mapping["params"])
    params = replace(base, start_date=req.start_date, end_date=req.end_date)
    errors = params.validate()
    if errors:
        raise RidgelineError(400, "invalid_seeder_params", "; ".join(errors), errors=errors)
    scenario = str(run._mapping["scenario"])
    started = time.perf_counter()
    data = await asyncio.to_thread(synth.generate, params)
    records = {name: frame.height for name, frame in data.items()}
    if not req.dry_run:
        async with db.begin() as conn:
            await write_generated(conn, data)
            await conn.execute(
                st.seed_runs.insert().values(
                    scenario=scenario,
                    seed=params.seed,
                    params=params.as_dict(),
                    records=records,
                    duration_s=round(time.perf_counter() - started, 4),
                    created_at=st.now_utc(),
                )
            )
    verb = "Would append" if req.dry_run else "Appended"
    return sc.GenerateResult(
        success=True,
        scenario=scenario,
        seed=params.seed,
        dry_run=req.dry_run,
        records_created=records,
        duration_seconds=round(time.perf_counter() - started, 4),
        message=f"{verb} {records['sales']:,} sales rows for {params.start_date}..{params.end_date} "
        f"(scenario {scenario!r}, seed {params.seed})",
        params=params.as_dict(),
    )


async def seed_embedded_default(db: Database) -> bool:
    """Seed the small embedded history when the retail tables are empty; True when it seeded."""
    async with db.begin() as conn:
        # Take the write lock before looking, so concurrent workers seed once: the others wait, then
        # find the rows. (SQLite: a no-op UPDATE starts the write transaction.)
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7270002)"))
        else:
            await conn.execute(
                st.seed_runs.update().where(sa.false()).values(scenario=st.seed_runs.c.scenario)
            )
        has_any = (await conn.execute(sa.select(st.stores.c.id).limit(1))).first() is not None
        has_sales = (await conn.execute(sa.select(st.sales.c.store_id).limit(1))).first() is not None
        if has_any or has_sales:
            return False
        params = synth.SCENARIOS["embedded_default"].params
        data = await asyncio.to_thread(synth.generate, params)
        started = time.perf_counter()
        await write_generated(conn, data)
        await conn.execute(
            st.seed_runs.insert().values(
                scenario="embedded_default",
                seed=params.seed,
                params=params.as_dict(),
                records={k: v.height for k, v in data.items()},
                duration_s=round(time.perf_counter() - started, 4),
                created_at=st.now_utc(),
            )
        )
    return True


async def status(db: Database) -> sc.SeederStatus:
    async with db.engine.connect() as conn:
        counts = await st.table_counts(conn)
        lo, hi = (
            await conn.execute(sa.select(sa.func.min(st.sales.c.date), sa.func.max(st.sales.c.date)))
        ).one()
        run = (
            await conn.execute(sa.select(st.seed_runs).order_by(st.seed_runs.c.id.desc()).limit(1))
        ).first()
    last = None
    if run is not None:
        m = run._mapping
        last = sc.SeedRunInfo(
            id=m["id"],
            scenario=m["scenario"],
            seed=m["seed"],
            records=m["records"],
            duration_s=m["duration_s"],
            created_at=m["created_at"],
        )
    return sc.SeederStatus(
        stores=counts["retail_store"],
        products=counts["retail_product"],
        calendar=counts["retail_calendar"],
        store_holidays=counts["retail_store_holiday"],
        sales=counts["retail_sales_daily"],
        inventory=counts["retail_inventory_daily"],
        date_range_start=_as_date(lo),
        date_range_end=_as_date(hi),
        last_run=last,
    )


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def _delete(conn: AsyncConnection, tables: tuple[sa.Table, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in tables:
        result = await conn.execute(table.delete())
        out[table.name] = int(result.rowcount or 0)
    return out


async def delete_data(db: Database, req: sc.DeleteParams) -> sc.DeleteResult:
    tables = st.ALL_TABLES if req.scope == "all" else st.FACT_TABLES
    if req.dry_run:
        async with db.engine.connect() as conn:
            counts = await st.table_counts(conn)
        deleted = {t.name: counts[t.name] for t in tables}
    else:
        async with db.begin() as conn:
            deleted = await _delete(conn, tables)
            if req.scope == "all":
                await conn.execute(st.seed_runs.delete())
    verb = "Would delete" if req.dry_run else "Deleted"
    return sc.DeleteResult(
        success=True,
        records_deleted=deleted,
        message=f"{verb} {sum(deleted.values()):,} rows ({req.scope})",
        dry_run=req.dry_run,
    )


async def verify(db: Database) -> sc.VerifyResult:
    s, inv, cal = st.sales, st.inventory, st.calendar
    checks: list[sc.VerifyCheck] = []
    async with db.engine.connect() as conn:

        async def scalar(q: Any) -> int:
            return int((await conn.execute(q)).scalar_one() or 0)

        n_sales = await scalar(sa.select(sa.func.count()).select_from(s))
        n_stores = await scalar(sa.select(sa.func.count()).select_from(st.stores))
        n_products = await scalar(sa.select(sa.func.count()).select_from(st.products))
        checks.append(
            sc.VerifyCheck(
                name="data_presence",
                status="passed" if n_sales else "warning",
                message=f"{n_sales:,} sales rows, {n_stores} stores, {n_products} products",
            )
        )
        orphans = await scalar(
            sa.select(sa.func.count())
            .select_from(
                s.outerjoin(st.stores, st.stores.c.id == s.c.store_id).outerjoin(
                    st.products, st.products.c.id == s.c.product_id
                )
            )
            .where(sa.or_(st.stores.c.id.is_(None), st.products.c.id.is_(None)))
        )
        checks.append(
            sc.VerifyCheck(
                name="foreign_keys",
                status="passed" if orphans == 0 else "failed",
                message=f"{orphans} sales rows reference a missing store or product",
            )
        )
        negative = await scalar(
            sa.select(sa.func.count())
            .select_from(s)
            .where(sa.or_(s.c.quantity < 0, s.c.unit_price < 0, s.c.total_amount < 0, s.c.transactions < 0))
        )
        checks.append(
            sc.VerifyCheck(
                name="non_negative",
                status="passed" if negative == 0 else "failed",
                message=f"{negative} sales rows with negative values",
            )
        )
        uncovered = await scalar(
            sa.select(sa.func.count(sa.distinct(s.c.date)))
            .select_from(s.outerjoin(cal, cal.c.date == s.c.date))
            .where(cal.c.date.is_(None))
        )
        checks.append(
            sc.VerifyCheck(
                name="calendar_coverage",
                status="passed" if uncovered == 0 else "failed",
                message=f"{uncovered} sales dates missing from the calendar",
            )
        )
        lo, hi = (await conn.execute(sa.select(sa.func.min(cal.c.date), sa.func.max(cal.c.date)))).one()
        n_cal = await scalar(sa.select(sa.func.count()).select_from(cal))
        lo, hi = _as_date(lo), _as_date(hi)
        expected = (hi - lo).days + 1 if lo and hi else 0
        checks.append(
            sc.VerifyCheck(
                name="calendar_gaps",
                status="passed" if n_cal == expected else "warning",
                message=f"calendar has {n_cal} of {expected} days between {lo} and {hi}",
            )
        )
        bad_stockout = await scalar(
            sa.select(sa.func.count())
            .select_from(inv)
            .where(
                sa.or_(
                    sa.and_(inv.c.is_stockout.is_(True), inv.c.on_hand_qty > 0),
                    sa.and_(inv.c.is_stockout.is_(False), inv.c.on_hand_qty == 0),
                )
            )
        )
        checks.append(
            sc.VerifyCheck(
                name="inventory_consistency",
                status="passed" if bad_stockout == 0 else "failed",
                message=f"{bad_stockout} inventory rows whose stock-out flag disagrees with on_hand_qty",
            )
        )
    passed = sum(c.status == "passed" for c in checks)
    warnings = sum(c.status == "warning" for c in checks)
    failed = sum(c.status == "failed" for c in checks)
    return sc.VerifyResult(
        passed=failed == 0,
        checks=checks,
        total_checks=len(checks),
        passed_count=passed,
        warning_count=warnings,
        failed_count=failed,
    )
