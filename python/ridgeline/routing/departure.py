"""Departure scans: the weighted route for every departure in a window, priced at that time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from ridgeline.routing.planner import OBJECTIVES, Planner, Priced, RouteResult, RoutingError, Scenario

__all__ = ["MAX_DEPARTURES", "DepartureOption", "DepartureScan", "scan_departures"]

MAX_DEPARTURES = 97


@dataclass
class DepartureOption:
    departure: datetime
    route: RouteResult  # totals only; describe it fully with ``Planner.describe_asset_arcs``
    priced: Priced


@dataclass
class DepartureScan:
    options: list[DepartureOption]
    best: dict[str, int]  # objective -> index of the departure minimising it (first on ties)


def scan_departures(
    planner: Planner,
    scenario: Scenario,
    origin: tuple[float, float],
    destination: tuple[float, float],
    weights: dict[str, float],
    start: datetime,
    end: datetime,
    step: timedelta,
    *,
    max_snap_m: float | None = None,
) -> DepartureScan:
    """Routes (lon, lat) ``origin`` -> ``destination`` departing every ``step`` from ``start`` to
    ``end`` (at most :data:`MAX_DEPARTURES`), each departure priced at its own time of day."""
    if end <= start:
        raise RoutingError(
            422, "invalid_request", "window_end_utc must be after window_start_utc.", field="window_end_utc"
        )
    n = int((end - start) / step) + 1
    if n > MAX_DEPARTURES:
        raise RoutingError(
            422,
            "invalid_request",
            f"The window has {n} departures; at most {MAX_DEPARTURES} (raise step_minutes).",
            field="step_minutes",
        )
    s = planner.snap(*origin, "origin", max_snap_m)
    t = planner.snap(*destination, "destination", max_snap_m)
    options = []
    for i in range(n):
        dep = start + i * step
        p = planner.price(scenario.at(dep), [s, t])
        options.append(DepartureOption(departure=dep, route=planner.route(p, s, t, weights), priced=p))
    best = {obj: int(np.argmin([o.route.objective_values[obj] for o in options])) for obj in OBJECTIVES}
    return DepartureScan(options=options, best=best)
