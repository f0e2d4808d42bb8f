"""``/seeder``: deterministic synthetic histories (generate, append, status, delete, verify) and the
embedded default history seeded at start-up."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, delete, get, post
from litestar.params import JSONBody, Parameter, QueryParameter

from ridgeline.platform.context import Ctx
from ridgeline.platform.db import Database
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.retail import synth
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.sales import (
    AppendParams,
    DeleteParams,
    DeleteResult,
    GenerateParams,
    GenerateResult,
    ScenarioInfo,
    SeederStatus,
    SeedRunInfo,
    VerifyCheck,
    VerifyResult,
)


class SeederController(Controller):
    path = "/seeder"
    tags = ["retail: seeder"]

    @get("/status", summary="Row counts, sales date range and the last seeder run")
    async def status(self, ctx: Ctx) -> SeederStatus:
        return await status(ctx.db)

    @get("/scenarios", summary="Scenario presets and their parameters")
    async def scenarios(self) -> list[ScenarioInfo]:
        return list_scenarios()

    @post(
        "/generate",
        summary="Generate a deterministic synthetic history from a scenario and seed",
        status_code=201,
        opt=raises(400),
    )
    async def generate(self, ctx: Ctx, data: JSONBody[GenerateParams]) -> GenerateResult:
        return await generate(ctx.db, data)

    @post(
        "/append",
        summary="Extend the last generated history to another period (same seed, stores, products)",
        status_code=201,
        opt=raises(400),
    )
    async def append(self, ctx: Ctx, data: JSONBody[AppendParams]) -> GenerateResult:
        return await append(ctx.db, data)

    @delete(
        "/data",
        summary="Delete retail data (all, or facts only); dry_run previews",
        status_code=200,
        opt=raises(400),
    )
    async def delete_data(
        self,
        ctx: Ctx,
        delete_scope: Annotated[
            str, QueryParameter(name="scope", description="all, or facts (sales, inventory, store holidays)")
        ] = "all",
        dry_run: Annotated[
            bool, Parameter(description="Count what would be deleted, delete nothing")
        ] = False,
    ) -> DeleteResult:
        if delete_scope not in ("all", "facts"):
            raise RidgelineError(
                400, "invalid_scope", f"scope must be 'all' or 'facts', got {delete_scope!r}"
            )
        params = DeleteParams(scope=delete_scope, dry_run=dry_run)  # type: ignore[arg-type]
        return await delete_data(ctx.db, params)

    @post("/verify", summary="Integrity checks over the stored data", status_code=200)
    async def verify(self, ctx: Ctx) -> VerifyResult:
        return await verify(ctx.db)


def list_scenarios() -> list[ScenarioInfo]:
    return [
        ScenarioInfo(
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


def params_from_request(req: GenerateParams) -> synth.SynthParams:
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


async def generate(db: Database, req: GenerateParams) -> GenerateResult:
    params = params_from_request(req)
    started = time.perf_counter()
    data = await asyncio.to_thread(synth.generate, params)
    records = {name: frame.height for name, frame in data.items()}
    if not req.dry_run:
        async with db.begin() as conn:
            if req.replace:
                await store.delete_rows(conn, store.ALL_TABLES)
            await store.write_generated(conn, data)
            duration = time.perf_counter() - started
            await store.record_seed_run(
                conn,
                scenario=req.scenario,
                seed=params.seed,
                params=params.as_dict(),
                records=records,
                duration_s=round(duration, 4),
                created_at=store.now_utc(),
            )
    duration = time.perf_counter() - started
    verb = "Would generate" if req.dry_run else "Generated"
    return GenerateResult(
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


async def append(db: Database, req: AppendParams) -> GenerateResult:
    """Generate another period with the parameters of the last seeder run (new dates only)."""
    async with db.engine.connect() as conn:
        run = await store.last_seed_run(conn)
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
            await store.write_generated(conn, data)
            await store.record_seed_run(
                conn,
                scenario=scenario,
                seed=params.seed,
                params=params.as_dict(),
                records=records,
                duration_s=round(time.perf_counter() - started, 4),
                created_at=store.now_utc(),
            )
    verb = "Would append" if req.dry_run else "Appended"
    return GenerateResult(
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
                store.seed_runs.update().where(sa.false()).values(scenario=store.seed_runs.c.scenario)
            )
        has_any = (await conn.execute(sa.select(store.stores.c.id).limit(1))).first() is not None
        has_sales = (await conn.execute(sa.select(store.sales.c.store_id).limit(1))).first() is not None
        if has_any or has_sales:
            return False
        params = synth.SCENARIOS["embedded_default"].params
        data = await asyncio.to_thread(synth.generate, params)
        started = time.perf_counter()
        await store.write_generated(conn, data)
        await store.record_seed_run(
            conn,
            scenario="embedded_default",
            seed=params.seed,
            params=params.as_dict(),
            records={k: v.height for k, v in data.items()},
            duration_s=round(time.perf_counter() - started, 4),
            created_at=store.now_utc(),
        )
    return True


async def status(db: Database) -> SeederStatus:
    async with db.engine.connect() as conn:
        counts = await store.table_counts(conn)
        lo, hi = (
            await conn.execute(sa.select(sa.func.min(store.sales.c.date), sa.func.max(store.sales.c.date)))
        ).one()
        run = await store.last_seed_run(conn)
    last = None
    if run is not None:
        m = run._mapping
        last = SeedRunInfo(
            id=m["id"],
            scenario=m["scenario"],
            seed=m["seed"],
            records=m["records"],
            duration_s=m["duration_s"],
            created_at=m["created_at"],
        )
    return SeederStatus(
        stores=counts["retail_store"],
        products=counts["retail_product"],
        calendar=counts["retail_calendar"],
        store_holidays=counts["retail_store_holiday"],
        sales=counts["retail_sales_daily"],
        inventory=counts["retail_inventory_daily"],
        date_range_start=store.as_date(lo),
        date_range_end=store.as_date(hi),
        last_run=last,
    )


async def delete_data(db: Database, req: DeleteParams) -> DeleteResult:
    tables = store.ALL_TABLES if req.scope == "all" else store.FACT_TABLES
    if req.dry_run:
        async with db.engine.connect() as conn:
            counts = await store.table_counts(conn)
        deleted = {t.name: counts[t.name] for t in tables}
    else:
        async with db.begin() as conn:
            deleted = await store.delete_rows(conn, tables)
            if req.scope == "all":
                await conn.execute(store.seed_runs.delete())
    verb = "Would delete" if req.dry_run else "Deleted"
    return DeleteResult(
        success=True,
        records_deleted=deleted,
        message=f"{verb} {sum(deleted.values()):,} rows ({req.scope})",
        dry_run=req.dry_run,
    )


async def verify(db: Database) -> VerifyResult:
    s, inv, cal = store.sales, store.inventory, store.calendar
    checks: list[VerifyCheck] = []
    async with db.engine.connect() as conn:

        async def scalar(q: Any) -> int:
            return int((await conn.execute(q)).scalar_one() or 0)

        n_sales = await scalar(sa.select(sa.func.count()).select_from(s))
        n_stores = await scalar(sa.select(sa.func.count()).select_from(store.stores))
        n_products = await scalar(sa.select(sa.func.count()).select_from(store.products))
        checks.append(
            VerifyCheck(
                name="data_presence",
                status="passed" if n_sales else "warning",
                message=f"{n_sales:,} sales rows, {n_stores} stores, {n_products} products",
            )
        )
        orphans = await scalar(
            sa.select(sa.func.count())
            .select_from(
                s.outerjoin(store.stores, store.stores.c.id == s.c.store_id).outerjoin(
                    store.products, store.products.c.id == s.c.product_id
                )
            )
            .where(sa.or_(store.stores.c.id.is_(None), store.products.c.id.is_(None)))
        )
        checks.append(
            VerifyCheck(
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
            VerifyCheck(
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
            VerifyCheck(
                name="calendar_coverage",
                status="passed" if uncovered == 0 else "failed",
                message=f"{uncovered} sales dates missing from the calendar",
            )
        )
        lo, hi = (await conn.execute(sa.select(sa.func.min(cal.c.date), sa.func.max(cal.c.date)))).one()
        n_cal = await scalar(sa.select(sa.func.count()).select_from(cal))
        lo, hi = store.as_date(lo), store.as_date(hi)
        expected = (hi - lo).days + 1 if lo and hi else 0
        checks.append(
            VerifyCheck(
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
            VerifyCheck(
                name="inventory_consistency",
                status="passed" if bad_stockout == 0 else "failed",
                message=f"{bad_stockout} inventory rows whose stock-out flag disagrees with on_hand_qty",
            )
        )
    passed = sum(c.status == "passed" for c in checks)
    warnings = sum(c.status == "warning" for c in checks)
    failed = sum(c.status == "failed" for c in checks)
    return VerifyResult(
        passed=failed == 0,
        checks=checks,
        total_checks=len(checks),
        passed_count=passed,
        warning_count=warnings,
        failed_count=failed,
    )
