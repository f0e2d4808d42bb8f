"""Scenario comparison: a baseline trip and variants of it, with the deltas of their totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ridgeline.routing.planner import PlannedRoute, Planner, RouteQuery, route_key

__all__ = ["DELTA_KEYS", "ScenarioComparison", "Variant", "compare_scenarios", "deltas"]

DELTA_KEYS = ("duration_s", "distance_m", "money_eur", "co2e_kg", "energy_kwh", "toll_eur")


def _totals(planned: PlannedRoute) -> dict[str, float]:
    # compared at the 6 decimals the totals are reported with
    return {k: round(float(v), 6) for k, v in msgspec.to_builtins(planned.route.totals).items()}


def deltas(base: dict[str, float], other: dict[str, float]) -> dict[str, dict[str, Any]]:
    """``other - base`` per key of :data:`DELTA_KEYS`, absolute and in percent of ``base`` (None when 0)."""
    out = {}
    for k in DELTA_KEYS:
        b, x = base[k], other[k]
        out[k] = {"absolute": round(x - b, 6), "percent": round((x - b) / b * 100.0, 4) if b else None}
    return out


@dataclass
class Variant:
    name: str
    planned: PlannedRoute
    deltas: dict[str, dict[str, Any]]
    same_path_as_baseline: bool


@dataclass
class ScenarioComparison:
    baseline: PlannedRoute
    variants: list[Variant]


def compare_scenarios(
    planner: Planner, baseline: RouteQuery, variants: Sequence[tuple[str, RouteQuery]]
) -> ScenarioComparison:
    """Plans the baseline and every named variant (each refused as ``Planner.plan_route`` refuses)."""
    base = planner.plan_route(baseline)
    base_totals, base_key = _totals(base), route_key(base.route.arcs)
    out = []
    for name, query in variants:
        planned = planner.plan_route(query)
        out.append(
            Variant(
                name=name,
                planned=planned,
                deltas=deltas(base_totals, _totals(planned)),
                same_path_as_baseline=route_key(planned.route.arcs) == base_key,
            )
        )
    return ScenarioComparison(baseline=base, variants=out)
