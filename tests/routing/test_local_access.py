"""An HGV's access to the ``service``/``living_street`` ways of its stops (issue 20, service pass):
the network is priced once per vehicle and scenario and each request's local-way clusters are
applied to that pricing as a mask (``Planner._with_local_access``, ``turns.restrict_turns``).

The reference here is what the planner did before: price the whole network with the stops'
clusters (arc costs, mask, turn costs of the allowed arcs). The masked networks must be the same
arrays, bit for bit, so the searches give the same routes and fronts; and requests on different
clusters must not price the network again."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from ridgeline.routing.assets import RoutingAssets, load_assets
from ridgeline.routing.energy import arc_costs
from ridgeline.routing.planner import (
    OBJECTIVES,
    ParetoSpec,
    Planner,
    Priced,
    RouteQuery,
    RoutingError,
    Scenario,
)
from ridgeline.routing.turns import PRICE_FIELDS, TurnCosts, turn_costs
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401

TRUCK = BUILTIN_VEHICLES["hgv_rigid_18t"]
TURN_FIELDS = ("from_arc", "to_arc", *PRICE_FIELDS)


@pytest.fixture(scope="module")
def assets(andorra_assets: Path, routing_key: Path) -> RoutingAssets:  # noqa: F811
    return load_assets(andorra_assets, [_signer(routing_key).public_key_b64()])


def _priced_as_before(planner: Planner, scenario: Scenario, stops: list[int]) -> Priced:
    """The pricing of the previous planner for an HGV with stops: the whole network priced, the
    local ways off the stops' clusters masked out, the turns priced between the allowed arcs."""
    a = planner.assets
    seconds, weekend = planner.local_time(scenario.departure)
    params = msgspec.structs.replace(scenario.params, local_seconds_of_day=seconds, weekend=weekend)
    costs = arc_costs(a.arcs, scenario.vehicle, params, None)
    comp, is_local = planner._local_ways
    local = planner._local_components(stops)
    assert local, "the stops should be on local ways"
    keep = np.isin(comp[a.arcs["tail"]], np.asarray(local, dtype=np.int64))
    costs.allowed[is_local & ~keep] = False
    idx = np.flatnonzero(costs.allowed).astype(np.int64)
    length = costs.distance_m[idx].sum()
    refs = {o: float(costs.objective(o)[idx].sum() / length) for o in OBJECTIVES}
    tc = turn_costs(
        a.arcs,
        a.node_lon,
        a.node_lat,
        costs,
        idx,
        scenario.vehicle,
        params,
        a.restrictions,
        planner._turn_geometry,
    )
    return Priced(costs=costs, arc_index=idx, refs=refs, incidents=[], turns=tc)


def _stops(planner: Planner, assets: RoutingAssets, count: int) -> list[tuple[int, int]]:
    """Origin/destination pairs with the origin on a local way, on ``count`` distinct clusters."""
    comp = planner._local_ways[0]
    rng = np.random.default_rng(20)
    on_local = np.flatnonzero(comp >= 0)
    pairs: list[tuple[int, int]] = []
    seen: set[int] = set()
    while len(pairs) < count:
        s = int(rng.choice(on_local))
        if int(comp[s]) in seen:
            continue
        seen.add(int(comp[s]))
        t = int(rng.integers(assets.num_nodes))
        pairs.append((s, t))
    return pairs


def test_local_access_is_a_mask_of_one_pricing(assets: RoutingAssets) -> None:
    planner = Planner(assets)
    assert planner.turn_costs
    scenario = Scenario(vehicle=TRUCK)
    pairs = _stops(planner, assets, 5)
    whole = planner.price(scenario)
    added_u_turns = 0
    for s, t in pairs:
        p = planner.price(scenario, [s, t])
        before = _priced_as_before(planner, scenario, [s, t])
        assert np.array_equal(p.costs.allowed, before.costs.allowed)
        assert np.array_equal(p.arc_index, before.arc_index)
        assert p.refs == before.refs
        assert isinstance(p.turns, TurnCosts) and isinstance(before.turns, TurnCosts)
        for f in TURN_FIELDS:
            assert np.array_equal(getattr(p.turns, f), getattr(before.turns, f)), f
        # Arcs whose only way on is a masked local way are dead ends here (an HGV may U-turn on
        # them): turns the whole network does not have, priced by the delta.
        assert whole.turns is not None
        added_u_turns += int(np.setdiff1d(p.turns.keys, whole.turns.keys).size)

        # The same searches: weighted route, and the exact k = 3 front.
        w = {"duration": 1.0, "money": 0.5, "co2e": 0.5}
        try:
            ref = planner.route(before, s, t, w)
        except RoutingError as exc:  # e.g. no path for this truck: the masked network refuses alike
            with pytest.raises(RoutingError) as got_exc:
                planner.route(p, s, t, w)
            assert got_exc.value.reason_code == exc.reason_code
            continue
        got = planner.route(p, s, t, w)
        assert np.array_equal(got.arcs, ref.arcs)
        assert msgspec.to_builtins(got.totals) == msgspec.to_builtins(ref.totals)
        spec = ParetoSpec(objectives=("duration", "money", "co2e"))
        fa, fb = planner.pareto(p, s, t, spec), planner.pareto(before, s, t, spec)
        assert [sol.costs.tolist() for sol in fa] == [sol.costs.tolist() for sol in fb]
        assert [sol.arcs.tolist() for sol in fa] == [sol.arcs.tolist() for sol in fb]
    assert added_u_turns > 0  # the delta priced turns of its own, not only copies
    # One pricing of the network for every cluster set (before: one per set, 5 + the whole one).
    assert planner.pricings == 1


def test_requests_on_different_clusters_price_once_and_plan_the_same(assets: RoutingAssets) -> None:
    planner = Planner(assets)
    (s1, t1), (s2, t2) = _stops(planner, assets, 2)

    def query(s: int, t: int) -> RouteQuery:
        pts = tuple((float(assets.node_lon[n]), float(assets.node_lat[n])) for n in (s, t))
        return RouteQuery(scenario=Scenario(vehicle=TRUCK), points=pts, min_terrain_coverage=0.0)

    first = planner.plan_route(query(s1, t1))
    second = planner.plan_route(query(s2, t2))
    stops = [(int(r.route.nodes[0]), int(r.route.nodes[-1])) for r in (first, second)]
    assert planner._local_components(stops[0]) != planner._local_components(stops[1])
    assert planner.pricings == 1
    assert planner.priced_count == 3  # the pricing and its two masked variants share the LRU
    # What the previous planner answered for each request (its own pricing per cluster set).
    for got in (first, second):
        s, t = int(got.route.nodes[0]), int(got.route.nodes[-1])  # the snapped stops
        before = _priced_as_before(planner, Scenario(vehicle=TRUCK), [s, t])
        ref = planner.route(before, s, t, {"duration": 1.0})
        assert np.array_equal(got.route.arcs, ref.arcs)
        assert got.route.totals.duration_s == ref.totals.duration_s
        assert got.route.totals.money_eur == ref.totals.money_eur
    # The same cluster set again: the masked network is reused, nothing is priced.
    assert planner.price(Scenario(vehicle=TRUCK), list(stops[0])) is first.priced
    assert planner.pricings == 1
