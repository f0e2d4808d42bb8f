"""The composite use cases as an embedding program calls them: engine types in, engine results out,
no server, no database (``ridgeline.routing.{planner,departure,duty,scenarios,batch}``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import load_assets
from ridgeline.routing.batch import BATCH_CHUNK, BatchPair, solve_batch
from ridgeline.routing.departure import MAX_DEPARTURES, scan_departures
from ridgeline.routing.duty import DutyRules, plan_duty_chain
from ridgeline.routing.energy import CostParams
from ridgeline.routing.oracle import quality_check
from ridgeline.routing.planner import (
    OBJECTIVES,
    ParetoSpec,
    Planner,
    RouteQuery,
    RoutingError,
    Scenario,
    route_key,
    select_diverse,
)
from ridgeline.routing.scenarios import DELTA_KEYS, compare_scenarios
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.routing.api_support import SAMPLE_A, SAMPLE_B, SAMPLE_C, _signer, routing_key, sample_assets  # noqa: F401

A = (SAMPLE_A["lon"], SAMPLE_A["lat"])
B = (SAMPLE_B["lon"], SAMPLE_B["lat"])
C = (SAMPLE_C["lon"], SAMPLE_C["lat"])
VAN = Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"])


@pytest.fixture(scope="module")
def planner(sample_assets: Path, routing_key: Path) -> Planner:  # noqa: F811
    return Planner(load_assets(sample_assets, [_signer(routing_key).public_key_b64()]))


def test_plan_route_through_a_waypoint(planner: Planner) -> None:
    planned = planner.plan_route(RouteQuery(scenario=VAN, points=(A, C, B)))
    assert planned.legs == 2
    assert [leg["to_stop"] for leg in planned.route.legs] == ["waypoint_1", "destination"]
    assert sum(leg["totals"]["distance_m"] for leg in planned.route.legs) == pytest.approx(
        planned.route.totals.distance_m
    )


def test_plan_route_refusals(planner: Planner) -> None:
    with pytest.raises(RoutingError) as exc:
        planner.plan_route(RouteQuery(scenario=VAN, points=(A, B), weights={"duration": 0.0}))
    assert (exc.value.status, exc.value.reason_code) == (422, "invalid_request")
    # The sample DEM covers everything, so only a requirement above 1 can refuse here.
    with pytest.raises(RoutingError) as exc:
        planner.plan_route(RouteQuery(scenario=VAN, points=(A, B), min_terrain_coverage=1.01))
    assert exc.value.reason_code == "terrain_dem_coverage_insufficient"
    assert exc.value.extra["terrain_coverage_required"] == 1.01
    with pytest.raises(RoutingError) as exc:
        planner.plan_route(RouteQuery(scenario=VAN, points=((0.0, 0.0), B)))
    assert exc.value.reason_code == "origin_out_of_coverage"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ParetoSpec(objectives=("duration", "duration")), "objectives"),
        (ParetoSpec(objectives=("duration", "weight")), "objectives"),
        (ParetoSpec(method="fastest"), "pareto_method"),
        (ParetoSpec(bounds={"weight": 1.0}), "epsilon"),
        (ParetoSpec(bounds={"duration": -1.0}), "epsilon"),
        (ParetoSpec(bounds={"duration": float("nan")}), "epsilon"),
        (ParetoSpec(objectives=("duration", "co2e"), bounds={"money": 5.0}), "epsilon"),
    ],
)
def test_pareto_spec_refuses_what_no_search_can_honour(
    planner: Planner, spec: ParetoSpec, field: str
) -> None:
    p = planner.price(VAN)
    s, t = planner.snap(*A, "origin"), planner.snap(*B, "destination")
    for call in (lambda: planner.pareto(p, s, t, spec), lambda: planner.pareto_stream(p, s, t, spec)):
        with pytest.raises(RoutingError) as exc:
            call()
        assert (exc.value.status, exc.value.reason_code, exc.value.extra["field"]) == (
            422,
            "invalid_request",
            field,
        )


def test_front_keeps_the_extremes_and_is_canonical(planner: Planner) -> None:
    p = planner.price(VAN)
    s, t = planner.snap(*A, "origin"), planner.snap(*B, "destination")
    res = planner.pareto(p, s, t, ParetoSpec(objectives=("duration", "co2e")))
    front = planner.front(p, list(res), min_terrain_coverage=0.9, max_alternatives=2)
    costs = [c for c, _, _ in front.members]
    assert costs == sorted(costs) and front.dropped == 0 and len(costs) == len(res)
    assert sorted(front.chosen) == [0, int(np.argmin([c[1] for c in costs]))]
    none = planner.front(p, list(res), min_terrain_coverage=0.0, max_alternatives=50)
    assert len(none.chosen) == min(50, len(res))
    with pytest.raises(RoutingError) as exc:
        planner.front(p, list(res), min_terrain_coverage=1.01, max_alternatives=2)
    assert exc.value.reason_code == "terrain_dem_coverage_insufficient"


def test_select_diverse_takes_extremes_then_farthest() -> None:
    costs = np.array([[0.0, 10.0], [1.0, 8.0], [5.0, 5.0], [9.0, 1.0], [10.0, 0.0]])
    assert select_diverse(costs, 2) == [0, 4]
    assert select_diverse(costs, 3) == [0, 2, 4]
    assert select_diverse(costs, 9) == [0, 1, 2, 3, 4]


def test_departure_scan_prices_each_departure(planner: Planner) -> None:
    start = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    scan = scan_departures(
        planner, VAN, A, B, {"duration": 1.0}, start, start + timedelta(hours=4), timedelta(hours=1)
    )
    assert [o.departure for o in scan.options] == [start + timedelta(hours=h) for h in range(5)]
    durations = [o.route.totals.duration_s for o in scan.options]
    assert max(durations) > min(durations)  # the morning peak
    assert set(scan.best) == set(OBJECTIVES)
    assert scan.best["duration"] == int(
        np.argmin([o.route.objective_values["duration"] for o in scan.options])
    )
    for start_, end_, step, field in (
        (start, start, timedelta(hours=1), "window_end_utc"),
        (start, start + timedelta(days=2), timedelta(minutes=5), "step_minutes"),
    ):
        with pytest.raises(RoutingError) as exc:
            scan_departures(planner, VAN, A, B, {"duration": 1.0}, start_, end_, step)
        assert exc.value.reason_code == "invalid_request" and exc.value.extra["field"] == field
    assert MAX_DEPARTURES == 97


def test_duty_chain_prices_legs_when_they_start(planner: Planner) -> None:
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    rules = DutyRules(max_continuous_driving_s=360.0)
    chain = plan_duty_chain(
        planner, VAN, [A, B, C], [1800.0, 600.0, 0.0], ["depot", "b", "c"], {"duration": 1.0}, start, rules
    )
    assert len(chain.legs) == 2 and [leg["to_stop"] for leg in chain.whole.legs] == ["b", "c"]
    totals = chain.schedule["totals"]
    assert totals["breaks"] >= 1 and totals["service_s"] == pytest.approx(2400.0)
    assert totals["driving_s"] == pytest.approx(sum(r.totals.duration_s for r in chain.legs))
    # The second leg is priced at its own (later) departure, not the duty's start.
    second_depart = datetime.fromisoformat(chain.schedule["legs"][1]["depart_utc"])
    assert second_depart > start + timedelta(seconds=2400)
    with pytest.raises(ValueError):
        plan_duty_chain(planner, VAN, [A], [0.0], ["a"], {"duration": 1.0}, start, rules)


def test_scenario_comparison_deltas_are_variant_minus_baseline(planner: Planner) -> None:
    base = RouteQuery(scenario=VAN, points=(A, B))
    snow = RouteQuery(
        scenario=Scenario(vehicle=VAN.vehicle, params=CostParams(weather="snow")), points=(A, B)
    )
    ev = RouteQuery(scenario=Scenario(vehicle=BUILTIN_VEHICLES["van_electric"]), points=(A, B))
    cmp = compare_scenarios(planner, base, [("snow", snow), ("ev", ev), ("same", base)])
    by = {v.name: v for v in cmp.variants}
    assert set(by["snow"].deltas) == set(DELTA_KEYS)
    assert by["snow"].deltas["duration_s"]["absolute"] > 0
    assert by["ev"].deltas["co2e_kg"]["absolute"] < 0
    assert by["same"].same_path_as_baseline and by["same"].deltas["duration_s"] == {
        "absolute": 0.0,
        "percent": 0.0,
    }
    d = cmp.baseline.route.totals.duration_s
    assert by["snow"].deltas["duration_s"]["percent"] == pytest.approx(
        (by["snow"].planned.route.totals.duration_s - d) / d * 100.0, abs=1e-3
    )


def test_batch_groups_pairs_by_vehicle_and_reports_each(planner: Planner) -> None:
    pairs = [
        BatchPair(origin=A, destination=B, vehicle_id="van_diesel"),
        BatchPair(origin=B, destination=C, vehicle_id="hgv_rigid_18t"),
        BatchPair(origin=(0.0, 0.0), destination=C, vehicle_id="van_diesel"),
        BatchPair(origin=C, destination=A, vehicle_id="van_diesel"),
        BatchPair(origin=A, destination=A, vehicle_id="van_diesel"),
    ]
    progress: list[float] = []
    res = solve_batch(
        planner,
        pairs,
        lambda vid: Scenario(vehicle=BUILTIN_VEHICLES[vid]),
        ParetoSpec(objectives=("duration", "co2e")),
        2,
        before_chunk=progress.append,
    )
    assert [e.status for e in res.entries] == ["ok", "ok", "error", "ok", "error"]
    assert res.entries[2].reason_code == "origin_out_of_coverage"
    assert res.entries[4].reason_code == "origin_destination_identical"
    assert res.order == [0, 3, 1]  # grouped by vehicle, in order of first appearance
    assert progress == [0.0, 0.4]  # one chunk per vehicle (BATCH_CHUNK pairs at most)
    assert BATCH_CHUNK >= 3 and res.pairs_solved == 3
    for e in res.entries:
        if e.status == "ok":
            assert (
                1 <= len(e.routes) <= 2 and len(e.choices) == len(e.routes) and e.front_size >= len(e.routes)
            )
            assert e.vehicle_id == pairs[e.index].vehicle_id
    # The pair's routes are the ones /pareto would choose from the same front.
    p = planner.price(Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"]))
    single = planner.pareto(
        p,
        planner.snap(*A, "origin"),
        planner.snap(*B, "destination"),
        ParetoSpec(objectives=("duration", "co2e")),
    )
    front = planner.front(p, list(single), min_terrain_coverage=0.0, max_alternatives=2)
    assert {route_key(r.arcs) for r in res.entries[0].routes} == {front.members[i][1] for i in front.chosen}
    with pytest.raises(RoutingError):
        solve_batch(planner, pairs, lambda vid: VAN, ParetoSpec(objectives=("co2e", "co2e")), 2)


def test_quality_check_scores_the_engine_against_the_oracles(planner: Planner) -> None:
    res = quality_check(
        planner, VAN.vehicle, ("duration", "co2e"), pairs=2, seed=5, epsilon=0.05, brute_force_nodes=8
    )
    assert res["score"] == 1.0 and res["pairs"] == 2 and len(res["details"]["pairs"]) == 2
    with pytest.raises(RoutingError) as exc:
        quality_check(
            planner, VAN.vehicle, ("co2e", "co2e"), pairs=1, seed=5, epsilon=0.05, brute_force_nodes=8
        )
    assert exc.value.reason_code == "invalid_request"


def test_the_use_cases_load_no_server_code() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ridgeline.routing.planner, ridgeline.routing.departure, ridgeline.routing.duty
        import ridgeline.routing.scenarios, ridgeline.routing.batch, ridgeline.routing.oracle
        print(",".join(m for m in ("litestar", "sqlalchemy") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
