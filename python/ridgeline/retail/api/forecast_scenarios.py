"""Scenarios slice: stateless simulation, saved plans (assumptions + comparison snapshot), ranking.

Saved plans list newest first; the ``tags`` filter keeps plans carrying every requested tag
(containment): JSONB ``@>`` in SQL on PostgreSQL, the same test over the rows on SQLite. ``compare`` ranks 2-5 plans by
``delta_total`` (default), ``delta_pct`` or ``scenario_total`` (descending) and merges their daily
series (summed over series) into one chart table keyed by date, with the first plan's baseline.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import Meta
from sqlalchemy.dialects.postgresql import JSONB

from ridgeline.platform.context import AppContext
from ridgeline.platform.errors import RidgelineError
from ridgeline.retail import scenarios
from ridgeline.retail.api import forecast_usecases as uc
from ridgeline.retail.api.forecast_store import scenario_plans


class AssumptionsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    price_change_pct: Annotated[float, Meta(gt=-100, le=1000)] = 0.0
    promotion: bool = False
    promotion_days: list[Annotated[int, Meta(ge=1)]] | None = None
    promotion_lift: Annotated[float, Meta(ge=-1, le=10)] = 0.20
    holiday_dates: list[date] = []
    holiday_lift: Annotated[float, Meta(ge=-1, le=10)] = 0.10
    price_elasticity: Annotated[float, Meta(ge=-20, le=20)] = -1.5
    inventory_cap: Annotated[float, Meta(ge=0)] | None = None
    lifecycle: Literal["launch", "growth", "mature", "decline", "end_of_life"] = "mature"


class SimulateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    run_id: str
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    assumptions: AssumptionsIn = msgspec.field(default_factory=AssumptionsIn)


class PlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=2000)] | None = None
    run_id: str
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    assumptions: AssumptionsIn = msgspec.field(default_factory=AssumptionsIn)
    tags: Annotated[list[Annotated[str, Meta(min_length=1, max_length=50)]], Meta(max_length=20)] = []
    cloned_from: str | None = None


class CompareRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    scenario_ids: Annotated[list[str], Meta(min_length=2, max_length=5)]
    rank_by: Literal["delta_total", "delta_pct", "scenario_total"] = "delta_total"


def check_assumptions(origin: date, horizon: int, a: AssumptionsIn) -> None:
    """Guard: promotion days and holiday dates fall inside the horizon (422 ``plan_outside_horizon``;
    before, they were silently ignored)."""
    late = sorted({d for d in a.promotion_days or () if d > horizon})
    if late:
        raise RidgelineError(
            422,
            "plan_outside_horizon",
            f"assumptions.promotion_days: day(s) {', '.join(map(str, late[:5]))} beyond the horizon of {horizon} days",
            field="assumptions.promotion_days",
        )
    uc.check_horizon_dates(origin, horizon, list(a.holiday_dates), "assumptions.holiday_dates")


async def simulate(ctx: AppContext, run_id: str, horizon: int, a: AssumptionsIn) -> dict[str, Any]:
    run, model = await uc.load_model(ctx, run_id)
    assert model.origin is not None
    check_assumptions(model.origin, horizon, a)
    assumptions = scenarios.Assumptions(
        price_change_pct=a.price_change_pct,
        promotion=a.promotion,
        promotion_days=tuple(a.promotion_days) if a.promotion_days else None,
        promotion_lift=a.promotion_lift,
        holiday_dates=tuple(a.holiday_dates),
        holiday_lift=a.holiday_lift,
        price_elasticity=a.price_elasticity,
        inventory_cap=a.inventory_cap,
        lifecycle=a.lifecycle,
    )
    result = await asyncio.to_thread(scenarios.simulate, model, horizon, assumptions)
    out = msgspec.to_builtins(result)
    for p in out["points"]:
        p.pop("series_id", None)
    out.update(run_id=run.run_id, store_id=run.store_id, product_id=run.product_id)
    return out


def _plan(row: Any) -> dict[str, Any]:
    m = row._mapping
    created = m["created_at"]  # UTCDateTime: aware UTC
    return {
        "scenario_id": m["id"],
        "name": m["name"],
        "description": m["description"],
        "run_id": m["run_id"],
        "horizon": m["horizon"],
        "assumptions": m["assumptions"],
        "comparison": m["comparison"],
        "tags": m["tags"],
        "cloned_from": m["cloned_from"],
        "created_at": created.isoformat(),
    }


async def get_plan(ctx: AppContext, scenario_id: str) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(scenario_plans.select().where(scenario_plans.c.id == scenario_id))).first()
    if row is None:
        raise RidgelineError(
            404, "scenario_not_found", f"scenario {scenario_id!r} not found", scenario_id=scenario_id
        )
    return _plan(row)


async def create_plan(ctx: AppContext, body: PlanCreate) -> dict[str, Any]:
    if body.cloned_from is not None:
        await get_plan(ctx, body.cloned_from)  # 404 when the source does not exist
    comparison = await simulate(ctx, body.run_id, body.horizon, body.assumptions)
    values = {
        "id": uuid.uuid4().hex,
        "name": body.name,
        "description": body.description,
        "run_id": body.run_id,
        "horizon": body.horizon,
        "assumptions": msgspec.to_builtins(body.assumptions),
        "comparison": comparison,
        "tags": sorted(set(body.tags)),
        "cloned_from": body.cloned_from,
        "created_at": datetime.now(UTC),
    }
    async with ctx.db.begin() as conn:
        await conn.execute(scenario_plans.insert().values(**values))
    return await get_plan(ctx, values["id"])


async def list_plans(ctx: AppContext, *, limit: int, offset: int, tags: list[str]) -> dict[str, Any]:
    t = scenario_plans
    order = (t.c.created_at.desc(), t.c.id.desc())
    async with ctx.db.engine.connect() as conn:
        if tags and ctx.db.backend == "postgresql":
            # JSONB containment in SQL: the plan's tags contain every requested tag.
            cond = sa.cast(t.c.tags, JSONB).contains(sorted(set(tags)))
            total = (await conn.execute(sa.select(sa.func.count()).select_from(t).where(cond))).scalar_one()
            page = (
                await conn.execute(t.select().where(cond).order_by(*order).limit(limit).offset(offset))
            ).all()
        elif tags:
            rows = (await conn.execute(t.select().order_by(*order))).all()
            wanted = set(tags)
            kept = [r for r in rows if wanted <= set(r._mapping["tags"] or [])]
            total = len(kept)
            page = kept[offset : offset + limit]
        else:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            page = (await conn.execute(t.select().order_by(*order).limit(limit).offset(offset))).all()
    return {"scenarios": [_plan(r) for r in page], "total": int(total), "limit": limit, "offset": offset}


async def delete_plan(ctx: AppContext, scenario_id: str) -> None:
    async with ctx.db.begin() as conn:
        res = await conn.execute(scenario_plans.delete().where(scenario_plans.c.id == scenario_id))
    if not res.rowcount:
        raise RidgelineError(
            404, "scenario_not_found", f"scenario {scenario_id!r} not found", scenario_id=scenario_id
        )


async def compare_plans(ctx: AppContext, body: CompareRequest) -> dict[str, Any]:
    if len(set(body.scenario_ids)) != len(body.scenario_ids):
        raise RidgelineError(400, "duplicate_scenarios", "scenario_ids must be distinct")
    plans = [await get_plan(ctx, sid) for sid in body.scenario_ids]
    rows = []
    for p in plans:
        c = p["comparison"]
        rows.append(
            {
                "scenario_id": p["scenario_id"],
                "name": p["name"],
                "run_id": p["run_id"],
                "method": c["method"],
                "baseline_total": c["baseline_total"],
                "scenario_total": c["scenario_total"],
                "delta_total": c["delta_total"],
                "delta_pct": c["delta_pct"],
            }
        )
    key = body.rank_by
    rows.sort(key=lambda r: (r[key] is None, -(r[key] or 0.0)))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    chart: dict[str, dict[str, Any]] = {}
    for i, p in enumerate(plans):
        for pt in p["comparison"]["points"]:
            day = chart.setdefault(pt["date"], {"date": pt["date"]})
            if i == 0:
                day["baseline"] = day.get("baseline", 0.0) + pt["baseline"]
            day[p["scenario_id"]] = day.get(p["scenario_id"], 0.0) + pt["scenario"]
    shared = len({p["run_id"] for p in plans}) == 1 and len({p["horizon"] for p in plans}) == 1
    return {
        "rank_by": key,
        "shared_baseline": shared,
        "baseline_run_id": plans[0]["run_id"],
        "rows": rows,
        "chart": [chart[d] for d in sorted(chart)],
        "series": [{"key": "baseline", "label": "baseline"}]
        + [{"key": p["scenario_id"], "label": p["name"]} for p in plans],
    }
