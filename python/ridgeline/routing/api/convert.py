"""Wire <-> engine: request Structs to the engine's ``Scenario``/``RouteQuery``/``ParetoSpec``, and
engine results to the response dicts the contract shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from ridgeline.routing.api import schemas
from ridgeline.routing.energy import CostParams, Incident
from ridgeline.routing.grid import grid_intensity
from ridgeline.routing.planner import IncidentSpec, ParetoSpec, RouteQuery, RouteResult, Scenario, route_key
from ridgeline.routing.vehicles import Vehicle


def cost_params(o: schemas.Options) -> CostParams:
    ct = o.cost_toggles
    return CostParams(
        weather=o.weather.condition,
        headwind_ms=o.weather.headwind_ms,
        risk_aversion=o.risk_aversion,
        diesel_eur_per_l=ct.diesel_price_eur_per_l,
        electricity_eur_per_kwh=ct.electricity_price_eur_per_kwh,
        driver_eur_per_h=ct.driver_cost_eur_per_hour,
        include_tolls=ct.use_tolls,
        avoid_tolls=ct.avoid_tolls,
        include_driver_cost=ct.include_driver_cost,
        carbon_eur_per_t=ct.carbon_price_eur_per_t,
        grid_intensity_g_per_kwh=grid_intensity(
            o.emissions_context.region, o.emissions_context.grid_intensity_g_per_kwh
        )[0],
    )


def unused_fields(o: schemas.Options, vehicles: Sequence[Vehicle], *, pareto: bool) -> list[str]:
    """Warnings naming each common request field given but without effect on this answer (the
    contract's common features either change the answer or are reported as unused)."""
    ctx = o.emissions_context
    warnings = list(grid_intensity(ctx.region, ctx.grid_intensity_g_per_kwh)[1])
    given = ctx.region is not None or ctx.grid_intensity_g_per_kwh is not None
    if given and not any(v.energy_carrier == "electric" for v in vehicles):
        names = ", ".join(sorted({repr(v.vehicle_id) for v in vehicles}))
        warnings.append(
            f"emissions_context was not used: no electric vehicle ({names}); grid intensity only "
            "applies to electric vehicles."
        )
    if pareto and o.weights != schemas.Weights():
        warnings.append(
            "weights were not used: a Pareto front does not depend on weights (every trade-off is returned); "
            "use /route for the best route for given weights."
        )
    return warnings


def incident_spec(o: schemas.Options) -> IncidentSpec | None:
    sim = o.incident_simulation
    if sim is None or not sim.enabled or sim.count == 0:
        return None
    return IncidentSpec(seed=sim.seed, count=sim.count, speed_factor=sim.speed_factor)


def scenario(o: schemas.Options, vehicle: Vehicle, departure: datetime | None = None) -> Scenario:
    return Scenario(
        vehicle=vehicle,
        params=cost_params(o),
        departure=departure if departure is not None else o.departure_time_utc,
        incidents=incident_spec(o),
    )


def weights(o: schemas.Options) -> dict[str, float]:
    return msgspec.to_builtins(o.weights)  # type: ignore[no-any-return]


def lon_lat(p: schemas.Point | schemas.DutyStop) -> tuple[float, float]:
    return (p.lon, p.lat)


def route_query(req: schemas.RouteRequest, vehicle: Vehicle) -> RouteQuery:
    return RouteQuery(
        scenario=scenario(req, vehicle),
        points=(lon_lat(req.origin), *(lon_lat(w) for w in req.waypoints), lon_lat(req.destination)),
        weights=weights(req),
        min_terrain_coverage=req.min_terrain_coverage,
        max_snap_m=req.max_snap_distance_m,
    )


def pareto_spec(o: schemas.ParetoOptions) -> ParetoSpec:
    return ParetoSpec(
        objectives=tuple(o.objectives),
        method=o.pareto_method,
        approx_epsilon=o.approx_epsilon,
        bounds=o.epsilon,
    )


def incidents(found: list[Incident]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(i) for i in found]


def detail(r: RouteResult, route_id: int, label: str | None = None) -> dict[str, Any]:
    """One route as the contract's ``RouteDetail`` (totals rounded to 6 decimals)."""
    totals = {k: round(float(v), 6) for k, v in msgspec.to_builtins(r.totals).items()}
    legs = [
        {**leg, "totals": {k: round(float(v), 6) for k, v in leg["totals"].items()}} for leg in r.legs
    ] or [{"leg_index": 0, "from_stop": "origin", "to_stop": "destination", "totals": totals}]
    return {
        "route_id": route_id,
        "route_key": route_key(r.arcs),
        "label": label,
        "objectives": {k: round(v, 6) for k, v in r.objective_values.items()},
        "totals": totals,
        "geometry": {
            "type": "LineString",
            "coordinates": r.coordinates if r.coordinates_json is None else msgspec.Raw(r.coordinates_json),
        },
        "elevation_profile": r.profile,
        "legs": legs,
        "road_class_km": r.road_class_km,
        "node_count": int(r.nodes.size),
    }


_ENCODE = msgspec.json.Encoder().encode


def pre_encoded(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` with its coordinates and elevation profile (most of its bytes) encoded to JSON once,
    as ``msgspec.Raw``: the response, the run's ``results_sha256`` and its stored row embed those
    bytes instead of encoding the lists again each. A list of numbers has no keys, so its compact
    encoding is also its canonical (sorted-keys) one: the hash is that of the plain results."""
    geometry = detail["geometry"]
    coords = geometry["coordinates"]
    return {
        **detail,
        "geometry": {
            **geometry,
            "coordinates": coords if isinstance(coords, msgspec.Raw) else msgspec.Raw(_ENCODE(coords)),
        },
        "elevation_profile": msgspec.Raw(_ENCODE(detail["elevation_profile"])),
    }
