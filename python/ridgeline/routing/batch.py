"""Batches of Pareto searches: pairs grouped by vehicle, each group solved with the native
``pareto_many`` (parallel in the core) in chunks, so a caller can cancel between chunks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ridgeline.routing.planner import ParetoSpec, Planner, RouteResult, RoutingError, Scenario, select_diverse

__all__ = ["BATCH_CHUNK", "BatchEntry", "BatchPair", "BatchResult", "solve_batch"]

BATCH_CHUNK = 64  # pairs per native pareto_many call

# search status -> reason code of a pair that found nothing
_STATUS_CODES = {"no_path": "no_path", "empty_within_bounds": "epsilon_infeasible"}


@dataclass(frozen=True)
class BatchPair:
    origin: tuple[float, float]  # (lon, lat)
    destination: tuple[float, float]
    vehicle_id: str


@dataclass
class BatchEntry:
    """One pair's outcome: ``status`` "ok" with its front size and the routes chosen for diversity
    (``choices[j]`` is the position in the sorted front of ``routes[j]``), or "error" with a reason code."""

    index: int
    status: str = "pending"
    vehicle_id: str | None = None
    reason_code: str | None = None
    message: str | None = None
    front_size: int = 0
    truncated: bool = False
    routes: list[RouteResult] = field(default_factory=list)
    choices: list[int] = field(default_factory=list)


@dataclass
class BatchResult:
    entries: list[BatchEntry]
    order: list[int]  # pair indices in the order they were solved (grouped by vehicle)
    expansions: int = 0
    pairs_solved: int = 0


def solve_batch(
    planner: Planner,
    pairs: Sequence[BatchPair],
    scenario_of: Callable[[str], Scenario],
    spec: ParetoSpec,
    max_alternatives: int,
    *,
    max_snap_m: float | None = None,
    before_chunk: Callable[[float], None] | None = None,
) -> BatchResult:
    """Fronts for every pair. A pair that cannot be snapped, or whose search finds nothing, is an
    "error" entry; the others are solved per vehicle (``scenario_of(vehicle_id)`` prices it).
    ``before_chunk(fraction_done)`` runs before each native call (progress, cancellation)."""
    spec.check()
    entries = [BatchEntry(index=i) for i in range(len(pairs))]
    groups: dict[str, list[int]] = {}
    snapped: dict[int, tuple[int, int]] = {}
    for i, pair in enumerate(pairs):
        try:
            s = planner.snap(*pair.origin, "origin", max_snap_m)
            t = planner.snap(*pair.destination, "destination", max_snap_m)
            if s == t:
                raise RoutingError(
                    422, "origin_destination_identical", "Origin and destination snap to the same road node."
                )
        except RoutingError as exc:
            entries[i].status, entries[i].reason_code, entries[i].message = (
                "error",
                exc.reason_code,
                exc.message,
            )
            continue
        snapped[i] = (s, t)
        groups.setdefault(pair.vehicle_id, []).append(i)
    out = BatchResult(entries=entries, order=[])
    done = 0
    options = spec.search_options()
    for vehicle_id, idx in groups.items():
        p = planner.price(scenario_of(vehicle_id))
        g = planner.graph(p, spec.objectives)
        results = []
        for start in range(0, len(idx), BATCH_CHUNK):
            if before_chunk is not None:
                before_chunk(done / max(1, len(pairs)))
            chunk = idx[start : start + BATCH_CHUNK]
            results += g.pareto_many(np.array([snapped[i] for i in chunk], dtype=np.int64), **options)
            done += len(chunk)
        for i, res in zip(idx, results, strict=True):
            e = entries[i]
            e.vehicle_id = vehicle_id
            out.order.append(i)
            out.expansions += int(res.expansions)
            if res.status != "found" or len(res) == 0:
                e.status = "error"
                e.reason_code = _STATUS_CODES.get(res.status, "search_budget_exhausted")
                e.message = f"search status {res.status}"
                continue
            out.pairs_solved += 1
            sols = sorted(res, key=lambda sol: tuple(float(c) for c in sol.costs))
            e.choices = select_diverse(np.array([sol.costs for sol in sols]), max_alternatives)
            e.routes = [planner.describe(p, sols[j].arcs) for j in e.choices]
            e.status, e.front_size, e.truncated = "ok", len(sols), bool(res.truncated)
    return out
