"""``/vehicles`` and ``/vehicles/custom``: built-in and custom vehicles."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody

from ridgeline.platform import paging
from ridgeline.platform.context import Service
from ridgeline.platform.paging import Offset
from ridgeline.routing.api import schemas
from ridgeline.routing.api.service import RoutingService
from ridgeline.routing.vehicles import Vehicle

# Lists are bounded (limit/offset); the default returns what the unbounded list returned in practice.
Limit = paging.limit(1000)


def _vehicle_out(v: Vehicle) -> dict[str, Any]:
    d = msgspec.to_builtins(v)
    d["gross_mass_kg"] = v.gross_mass_kg
    return d  # type: ignore[no-any-return]


@get("/vehicles", summary="Built-in and custom vehicles", tags=["routing: vehicles"])
async def vehicles_list(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    await svc.refresh_vehicles()
    vs = svc.all_vehicles()[offset : offset + limit]
    return {"vehicles": [_vehicle_out(v) for v in vs], "count": len(vs)}


@get("/vehicles/custom", summary="Custom vehicles", tags=["routing: vehicles"])
async def vehicles_custom(
    svc: Service[RoutingService], limit: Limit = 1000, offset: Offset = 0
) -> dict[str, Any]:
    await svc.refresh_vehicles()
    vs = sorted(svc.custom.values(), key=lambda v: v.vehicle_id)[offset : offset + limit]
    return {"vehicles": [_vehicle_out(v) for v in vs], "count": len(vs)}


@post("/vehicles/custom", summary="Create a custom vehicle", tags=["routing: vehicles"], status_code=201)
async def vehicles_create(svc: Service[RoutingService], data: JSONBody[schemas.VehicleIn]) -> dict[str, Any]:
    return _vehicle_out(await svc.create_vehicle(data))


@put("/vehicles/custom/{vehicle_id:str}", summary="Replace a custom vehicle", tags=["routing: vehicles"])
async def vehicles_update(
    svc: Service[RoutingService], vehicle_id: FromPath[str], data: JSONBody[schemas.VehicleIn]
) -> dict[str, Any]:
    return _vehicle_out(await svc.update_vehicle(vehicle_id, data))


@delete(
    "/vehicles/custom/{vehicle_id:str}",
    summary="Delete a custom vehicle",
    tags=["routing: vehicles"],
    status_code=200,
)
async def vehicles_delete(svc: Service[RoutingService], vehicle_id: FromPath[str]) -> dict[str, Any]:
    await svc.delete_vehicle(vehicle_id)
    return {"deleted": True, "vehicle_id": vehicle_id}


HANDLERS = [vehicles_list, vehicles_custom, vehicles_create, vehicles_update, vehicles_delete]
