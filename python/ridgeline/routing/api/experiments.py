"""``/experiments``: saved bundles of route/pareto requests, compared side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody

from ridgeline.platform import paging
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.paging import Offset
from ridgeline.platform.problems import EngineError, NotFound
from ridgeline.routing.api import convert, schemas
from ridgeline.routing.api.routes import compute_pareto, compute_route
from ridgeline.routing.api.service import RoutingService
from ridgeline.routing.api.store import now

# Lists are bounded (limit/offset); the default returns what the unbounded list returned in practice.
Limit = paging.limit(1000)
BEST_KEYS = ("duration_s", "money_eur", "co2e_kg", "distance_m")


def _validate_items(items: list[schemas.ExperimentItem]) -> None:
    for i, item in enumerate(items):
        target = schemas.RouteRequest if item.kind == "route" else schemas.ParetoRequest
        try:
            msgspec.convert(item.request, target, strict=False)
        except msgspec.ValidationError as exc:
            raise RidgelineError(
                422, "invalid_request", f"Invalid request in item {i} ({item.label}): {exc}", item_index=i
            ) from None


def _experiment_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "experiment_id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "items": row["items"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def _experiment(svc: RoutingService, experiment_id: str) -> dict[str, Any]:
    row = await svc.store.get_experiment(experiment_id) if len(experiment_id) <= 32 else None
    if row is None:
        raise NotFound(
            "experiment",
            experiment_id,
            message=f"Experiment {experiment_id!r} does not exist.",
            experiment_id=experiment_id,
        )
    return row


async def _compare_item(svc: RoutingService, item: dict[str, Any]) -> dict[str, Any]:
    """One item run as its endpoint runs it; its failure is reported in the entry, not raised."""
    entry: dict[str, Any] = {"label": item["label"], "kind": item["kind"]}
    try:
        if item["kind"] == "route":
            req: schemas.RouteRequest | schemas.ParetoRequest = msgspec.convert(
                item["request"], schemas.RouteRequest, strict=False
            )
            results, run_id = await svc.answer("route", req, lambda: compute_route(svc, req))
        else:
            preq = msgspec.convert(item["request"], schemas.ParetoRequest, strict=False)
            convert.pareto_spec(preq).check()
            results, run_id = await svc.answer("pareto", preq, lambda: compute_pareto(svc, preq))
    except EngineError as exc:
        entry.update(status="error", reason_code=exc.reason_code, message=exc.message)
        return entry
    routes = results["routes"]
    entry.update(
        status="ok",
        run_id=run_id,
        routes=[{"route_key": r["route_key"], "totals": r["totals"]} for r in routes],
        # lower is better for every metric compared
        best={k: min(r["totals"][k] for r in routes) for k in BEST_KEYS},
    )
    return entry


@get("/experiments", summary="Saved experiments", tags=["routing: experiments"])
async def experiments_list(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    rows = await svc.store.list_experiments(limit=limit, offset=offset)
    return {"experiments": [_experiment_out(r) for r in rows], "count": len(rows)}


@post(
    "/experiments",
    summary="Save an experiment (a bundle of requests)",
    tags=["routing: experiments"],
    status_code=201,
)
async def experiments_create(
    svc: Service[RoutingService], data: JSONBody[schemas.ExperimentIn]
) -> dict[str, Any]:
    _validate_items(data.items)
    t = now()
    row = {
        "id": uuid.uuid4().hex,
        "name": data.name,
        "description": data.description,
        "items": msgspec.to_builtins(data.items),
        "created_at": t,
        "updated_at": t,
    }
    await svc.store.insert_experiment(row)
    return _experiment_out(row)


@get("/experiments/{experiment_id:str}", summary="One experiment", tags=["routing: experiments"])
async def experiments_get(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    return _experiment_out(await _experiment(svc, experiment_id))


@put("/experiments/{experiment_id:str}", summary="Replace an experiment", tags=["routing: experiments"])
async def experiments_update(
    svc: Service[RoutingService], experiment_id: FromPath[str], data: JSONBody[schemas.ExperimentIn]
) -> dict[str, Any]:
    await _experiment(svc, experiment_id)
    _validate_items(data.items)
    await svc.store.update_experiment(
        experiment_id,
        {"name": data.name, "description": data.description, "items": msgspec.to_builtins(data.items)},
    )
    return _experiment_out(await _experiment(svc, experiment_id))


@delete(
    "/experiments/{experiment_id:str}",
    summary="Delete an experiment",
    tags=["routing: experiments"],
    status_code=200,
)
async def experiments_delete(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    await _experiment(svc, experiment_id)
    await svc.store.delete_experiment(experiment_id)
    return {"deleted": True, "experiment_id": experiment_id}


@post(
    "/experiments/{experiment_id:str}/compare",
    summary="Run an experiment's requests side by side",
    tags=["routing: experiments"],
    status_code=200,
)
async def experiments_compare(svc: Service[RoutingService], experiment_id: FromPath[str]) -> dict[str, Any]:
    row = await _experiment(svc, experiment_id)
    return {
        "experiment_id": experiment_id,
        "name": row["name"],
        "results": [await _compare_item(svc, item) for item in row["items"]],
        "compared_at": datetime.now(UTC).isoformat(),
    }


HANDLERS = [
    experiments_list,
    experiments_create,
    experiments_get,
    experiments_update,
    experiments_delete,
    experiments_compare,
]
