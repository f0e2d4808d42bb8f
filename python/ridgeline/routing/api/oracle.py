"""``/oracle/quality/*``: the engine checked against independent oracles, and the stored scores."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from litestar import Response, get, post
from litestar.params import JSONBody

from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises
from ridgeline.routing.api import schemas
from ridgeline.routing.api.service import RoutingService, off_loop
from ridgeline.routing.api.store import now
from ridgeline.routing.oracle import quality_check

DASHBOARD_COLUMNS = [
    "check_id",
    "created_at",
    "asset_name",
    "pairs",
    "extremes_pass_rate",
    "epsilon_pass_rate",
    "brute_force_pass_rate",
    "score",
]


def compute_oracle(svc: RoutingService, req: schemas.OracleRequest) -> dict[str, Any]:
    return quality_check(
        svc.require_planner(),
        svc.vehicle(req.vehicle_id),
        tuple(req.objectives),
        pairs=req.pairs,
        seed=req.seed,
        epsilon=req.epsilon,
        brute_force_nodes=req.brute_force_nodes,
    )


def _oracle_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "check_id": row["id"],
        "created_at": row["created_at"].isoformat(),
        "asset_name": row["asset_name"],
        "pairs": row["pairs"],
        "extremes_pass_rate": row["extremes_pass_rate"],
        "epsilon_pass_rate": row["epsilon_pass_rate"],
        "brute_force_pass_rate": row["brute_force_pass_rate"],
        "score": row["score"],
    }


@post(
    "/oracle/quality/check",
    summary="Check the engine against independent oracles and store the scores",
    tags=["routing: oracle"],
    status_code=200,
    opt=raises(404),
)
async def oracle_check(svc: Service[RoutingService], data: JSONBody[schemas.OracleRequest]) -> dict[str, Any]:
    await svc.refresh_vehicles(data.vehicle_id)
    svc.vehicle(data.vehicle_id)
    res = await off_loop(lambda: compute_oracle(svc, data))
    row = {"id": uuid.uuid4().hex, "created_at": now(), **res}
    await svc.store.insert_oracle(row)
    return {**_oracle_out(row), "details": res["details"]}


@get("/oracle/quality/dashboard", summary="Oracle quality scores over time", tags=["routing: oracle"])
async def oracle_dashboard(svc: Service[RoutingService]) -> dict[str, Any]:
    rows = [_oracle_out(r) for r in await svc.store.list_oracle()]
    latest = rows[-1] if rows else None
    mean = round(sum(r["score"] for r in rows) / len(rows), 6) if rows else None
    return {"checks": rows, "count": len(rows), "latest": latest, "mean_score": mean}


@get(
    "/oracle/quality/dashboard.csv",
    summary="Oracle quality scores as CSV",
    tags=["routing: oracle"],
    media_type="text/csv",
)
async def oracle_dashboard_csv(svc: Service[RoutingService]) -> Response[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DASHBOARD_COLUMNS)
    for r in await svc.store.list_oracle():
        out = _oracle_out(r)
        w.writerow([out[c] for c in DASHBOARD_COLUMNS])
    return Response(buf.getvalue().encode(), media_type="text/csv")


HANDLERS = [oracle_check, oracle_dashboard, oracle_dashboard_csv]
