"""``/scenarios``: stateless what-if simulation, saved plans (assumptions + comparison snapshot), ranking.

Saved plans list newest first; the ``tags`` filter keeps plans carrying every requested tag
(containment): JSONB ``@>`` in SQL on PostgreSQL, the same test over the rows on SQLite. ``compare`` ranks 2-5 plans by
``delta_total`` (default), ``delta_pct`` or ``scenario_total`` (descending) and merges their daily
series (summed over series) into one chart table keyed by date, with the first plan's baseline.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from ridgeline.platform import paging
from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Offset
from ridgeline.platform.problems import NotFound
from ridgeline.retail.api import store
from ridgeline.retail.api.forecasting import check_horizon_dates, load_model
from ridgeline.retail.api.schemas.forecasting import (
    AssumptionsIn,
    CompareRequest,
    PlanCreate,
    SimulateRequest,
)
from ridgeline.retail.scenarios import Assumptions
from ridgeline.retail.scenarios import simulate as simulate_scenario


class ScenariosController(Controller):
    path = "/scenarios"
    tags = ["retail: scenarios"]

    @post(
        "/simulate",
        summary="Stateless what-if against a trained run",
        description=(
            "A regression or lightgbm baseline re-forecasts through a leakage-safe future feature frame "
            "(method model_exogenous); other baselines apply a deterministic multiplier (method heuristic)."
        ),
        status_code=200,
        opt=raises(400, 404),
    )
    async def simulate(self, ctx: Ctx, data: JSONBody[SimulateRequest]) -> dict[str, Any]:
        return await simulate(ctx, data.run_id, data.horizon, data.assumptions)

    @post("/", summary="Simulate and save a named scenario plan", status_code=201, opt=raises(400, 404))
    async def create(self, ctx: Ctx, data: JSONBody[PlanCreate]) -> dict[str, Any]:
        return await create_plan(ctx, data)

    @get("/", summary="Saved plans, newest first; repeated tags filter by containment")
    async def list_plans(
        self,
        ctx: Ctx,
        limit: paging.limit(100) = 20,  # type: ignore[valid-type]
        offset: Offset = 0,
        tags: Annotated[
            list[str] | None, QueryParameter(description="repeat to require several tags")
        ] = None,
    ) -> dict[str, Any]:
        return await list_plans(ctx, limit=limit, offset=offset, tags=tags or [])

    @post(
        "/compare",
        summary="Rank 2-5 saved plans with merged chart series",
        status_code=200,
        opt=raises(400, 404),
    )
    async def compare(self, ctx: Ctx, data: JSONBody[CompareRequest]) -> dict[str, Any]:
        return await compare_plans(ctx, data)

    @get("/{scenario_id:str}", summary="A saved plan with its comparison snapshot")
    async def get_plan(self, ctx: Ctx, scenario_id: FromPath[str]) -> dict[str, Any]:
        return await get_plan(ctx, scenario_id)

    @delete("/{scenario_id:str}", summary="Delete a saved plan", status_code=204)
    async def delete_plan(self, ctx: Ctx, scenario_id: FromPath[str]) -> None:
        await delete_plan(ctx, scenario_id)


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
    check_horizon_dates(origin, horizon, list(a.holiday_dates), "assumptions.holiday_dates")


async def simulate(ctx: AppContext, run_id: str, horizon: int, a: AssumptionsIn) -> dict[str, Any]:
    run, model = await load_model(ctx, run_id)
    assert model.origin is not None
    check_assumptions(model.origin, horizon, a)
    assumptions = Assumptions(
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
    result = await asyncio.to_thread(simulate_scenario, model, horizon, assumptions)
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
    row = await store.plan_row(ctx.db, scenario_id)
    if row is None:
        raise NotFound("scenario", scenario_id, scenario_id=scenario_id)
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
    await store.insert_plan(ctx.db, values)
    return await get_plan(ctx, values["id"])


async def list_plans(ctx: AppContext, *, limit: int, offset: int, tags: list[str]) -> dict[str, Any]:
    page, total = await store.plan_rows(ctx.db, tags=tags, limit=limit, offset=offset)
    return {"scenarios": [_plan(r) for r in page], "total": total, "limit": limit, "offset": offset}


async def delete_plan(ctx: AppContext, scenario_id: str) -> None:
    if not await store.delete_plan(ctx.db, scenario_id):
        raise NotFound("scenario", scenario_id, scenario_id=scenario_id)


async def compare_plans(ctx: AppContext, body: CompareRequest) -> dict[str, Any]:
    if len(set(body.scenario_ids)) != len(body.scenario_ids):
        raise RidgelineError(400, "duplicate_scenarios", "scenario_ids must be distinct")
    plans = [await get_plan(ctx, sid) for sid in body.scenario_ids]
    shared = len({p["run_id"] for p in plans}) == 1 and len({p["horizon"] for p in plans}) == 1
    if not shared and not body.allow_different_baselines:
        # Deltas against different baselines are not comparable; this used to be ranked and charted
        # against the first plan's baseline alone.
        raise RidgelineError(
            400,
            "different_baselines",
            "the plans were simulated on different runs or horizons, so their deltas are against "
            "different baselines; send allow_different_baselines=true to compare them anyway",
            run_ids=sorted({p["run_id"] for p in plans}),
            horizons=sorted({p["horizon"] for p in plans}),
        )
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
    # One baseline per run (and horizon): "baseline" when shared, "baseline:<run_id>" otherwise.
    base_key: dict[tuple[str, int], str] = {}
    for p in plans:
        base_key.setdefault((p["run_id"], p["horizon"]), "")
    multi_h = len({h for _, h in base_key}) > 1
    for run_id, h in base_key:
        base_key[(run_id, h)] = "baseline" if shared else f"baseline:{run_id}" + (f":{h}" if multi_h else "")
    charted: set[str] = set()
    for p in plans:
        bk = base_key[(p["run_id"], p["horizon"])]
        first = bk not in charted
        charted.add(bk)
        for pt in p["comparison"]["points"]:
            day = chart.setdefault(pt["date"], {"date": pt["date"]})
            if first:
                day[bk] = day.get(bk, 0.0) + pt["baseline"]
            day[p["scenario_id"]] = day.get(p["scenario_id"], 0.0) + pt["scenario"]
    return {
        "rank_by": key,
        "shared_baseline": shared,
        "baseline_run_id": plans[0]["run_id"],
        "rows": rows,
        "chart": [chart[d] for d in sorted(chart)],
        "series": [{"key": bk, "label": bk} for bk in dict.fromkeys(base_key.values())]
        + [{"key": p["scenario_id"], "label": p["name"]} for p in plans],
    }
