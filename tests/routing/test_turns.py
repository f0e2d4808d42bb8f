"""Turn costs (issue 19, "delays at junctions and turns"): the turn-expanded search graph on the
real Andorra network (OSM + SRTM), the turn model, and OSM turn restrictions through the builder
(a small pyosmium extract on the Andorra tiles: the Andorra extract has no restriction relation)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import osmium
import pytest

from ridgeline.routing.assets import RoutingAssets, build_assets, load_assets
from ridgeline.routing.energy import CostParams
from ridgeline.routing.oracle import physics_check
from ridgeline.routing.planner import OBJECTIVES, ParetoSpec, Planner, Priced, RouteQuery, Scenario
from ridgeline.routing.turns import KINDS, TurnCosts
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.conftest import require_shared
from tests.routing.api_support import _signer, andorra_assets, routing_key, sample_assets  # noqa: F401

VAN = BUILTIN_VEHICLES["van_diesel"]
TRUCK = BUILTIN_VEHICLES["hgv_artic_44t"]
ANDORRA_LA_VELLA = (1.5218, 42.5063)
SOLDEU = (1.6676, 42.5766)
KIND = {k: i for i, k in enumerate(KINDS)}


@pytest.fixture(scope="module")
def assets(andorra_assets: Path, routing_key: Path) -> RoutingAssets:  # noqa: F811
    return load_assets(andorra_assets, [_signer(routing_key).public_key_b64()])


@pytest.fixture(scope="module")
def planner(assets: RoutingAssets) -> Planner:
    return Planner(assets)


def _turn_sum(tc: TurnCosts, arcs: np.ndarray, field: str) -> float:
    i = tc.along(arcs)
    assert (i >= 0).all(), "a route uses a turn that is not allowed"
    return float(getattr(tc, field)[i].sum())


def test_turn_costs_default_on_for_osm_assets_only(
    planner: Planner,
    sample_assets: Path,  # noqa: F811
    routing_key: Path,  # noqa: F811
) -> None:
    assert planner.turn_costs
    sample = Planner(load_assets(sample_assets, [_signer(routing_key).public_key_b64()]))
    assert not sample.turn_costs
    p = sample.price(Scenario(vehicle=VAN))
    assert p.turns is None
    assert type(sample.graph(p, OBJECTIVES)).__name__ == "Graph"


def test_expanded_graph_size_and_mapping(planner: Planner, assets: RoutingAssets) -> None:
    p = planner.price(Scenario(vehicle=VAN))
    g = planner.graph(p, OBJECTIVES)
    base = planner.graph(p, OBJECTIVES, turns=False)
    assert p.turns is not None
    m, n = base.num_arcs, base.num_nodes
    # A node per arc plus a virtual origin and destination per node; an arc per turn plus an
    # entry and an exit arc per original arc.
    assert g.expanded_nodes == m + 2 * n  # type: ignore[attr-defined]
    assert g.expanded_arcs == p.turns.size + 2 * m  # type: ignore[attr-defined]
    assert (g.num_nodes, g.num_arcs) == (n, m)


def test_zero_turn_costs_give_the_node_based_routes(planner: Planner, assets: RoutingAssets) -> None:
    p = planner.price(Scenario(vehicle=VAN))
    base = planner.graph(p, ("duration", "distance"), turns=False)
    f, t = base.all_turns()
    zero = base.expand_turns(f, t, np.zeros((f.size, 2)))
    rng = np.random.default_rng(19)
    for s, d in rng.choice(assets.num_nodes, size=(15, 2), replace=False):
        a, b = base.route(int(s), int(d), [1.0, 0.0]), zero.route(int(s), int(d), [1.0, 0.0])
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert b.cost == pytest.approx(a.cost, rel=1e-12)
            assert b.nodes[0] == s and b.nodes[-1] == d
            assert (assets.arcs["tail"][p.arc_index[b.arcs]] == b.nodes[:-1]).all()


def _left_turn_cases(p: Priced, assets: RoutingAssets, kinds: tuple[int, ...]) -> list[tuple[int, int]]:
    """Turns of the given kinds at unsignalised junctions whose arcs are both short (so the
    node-based fastest route from the first arc's tail to the second's head is these two arcs)."""
    tc = p.turns
    assert tc is not None
    sel = np.isin(tc.kind, kinds) & (tc.time_s > 2.0)
    return [(int(a), int(b)) for a, b in zip(tc.from_arc[sel], tc.to_arc[sel], strict=True)]


def test_route_with_a_left_turn_is_priced_with_it(planner: Planner, assets: RoutingAssets) -> None:
    """Routes whose node-based answer is one arc then a sharp left: with turn costs the duration is
    the arcs' plus the left turn's (or a detour that costs less), never the arcs' alone."""
    p = planner.price(Scenario(vehicle=VAN))
    assert p.turns is not None
    tail, head = assets.arcs["tail"], assets.arcs["head"]
    node_based = Planner(assets, turn_costs=False)
    q = node_based.price(Scenario(vehicle=VAN))
    priced_with_turn = 0
    for a, b in _left_turn_cases(p, assets, (KIND["left"], KIND["sharp_left"]))[:60]:
        s, t = int(tail[a]), int(head[b])
        if s == t:
            continue
        before = node_based.route(q, s, t, {"duration": 1.0})
        if before.arcs.tolist() != [a, b]:
            continue
        after = planner.route(p, s, t, {"duration": 1.0})
        arc_time = float(p.costs.time_s[after.arcs].sum())
        turn_time = _turn_sum(p.turns, after.arcs, "time_s")
        assert after.totals.duration_s == pytest.approx(arc_time + turn_time, rel=1e-9)
        assert after.totals.duration_s > before.totals.duration_s
        if after.arcs.tolist() == [a, b]:
            i = int(p.turns.lookup([a], [b])[0])
            assert turn_time == pytest.approx(float(p.turns.time_s[i]))
            assert after.totals.duration_s == pytest.approx(before.totals.duration_s + turn_time)
            priced_with_turn += 1
    assert priced_with_turn >= 3


def test_hgv_never_u_turns_mid_road(planner: Planner, assets: RoutingAssets) -> None:
    tail, head = assets.arcs["tail"], assets.arcs["head"]
    p = planner.price(Scenario(vehicle=TRUCK))
    tc = p.turns
    assert tc is not None
    # Every U-turn the HGV graph keeps is at a dead end: no other way on from that arc.
    u = tc.kind == KIND["u_turn"]
    assert u.any()
    onward = {int(a) for a in tc.from_arc[~u]}
    assert not any(int(a) in onward for a in tc.from_arc[u])
    # The van may U-turn anywhere (priced); the truck has far fewer U-turns.
    van = planner.price(Scenario(vehicle=VAN)).turns
    assert van is not None and (van.kind == KIND["u_turn"]).sum() > 20 * u.sum()
    # Routes with a waypoint behind the origin: the HGV continues from the arc it arrived on, so
    # it cannot turn back at the waypoint (the node-based legs would U-turn there).
    rng = np.random.default_rng(7)
    two_way = np.flatnonzero(np.isin(tail * assets.num_nodes + head, head * assets.num_nodes + tail))
    checked = 0
    for i in rng.choice(two_way, size=40, replace=False):
        a = int(i)
        s, w = int(tail[a]), int(head[a])
        pts = [(float(assets.node_lon[x]), float(assets.node_lat[x])) for x in (s, w, s)]
        for x, (lon, lat) in zip((s, w, s), pts, strict=True):
            assert assets.snap(lon, lat)[0] == x
        try:
            r = planner.plan_route(
                RouteQuery(scenario=Scenario(vehicle=TRUCK), points=tuple(pts), weights={"duration": 1.0})
            )
        except Exception as exc:
            assert getattr(exc, "reason_code", "") in ("no_path", "terrain_dem_coverage_insufficient")
            continue
        arcs = r.route.arcs
        for x, y in itertools.pairwise(arcs.tolist()):
            if head[y] == tail[x]:  # back along the same road: only at a dead end
                at = int(head[x])
                others = np.flatnonzero((tail == at) & p.costs.allowed & (head != tail[x]))
                assert others.size == 0, f"HGV U-turn mid-road at node {at}"
        checked += 1
    assert checked >= 10


def test_hgv_pays_more_and_left_costs_more_than_right(planner: Planner) -> None:
    pv, pt = planner.price(Scenario(vehicle=VAN)), planner.price(Scenario(vehicle=TRUCK))
    van, truck = pv.turns, pt.turns
    assert van is not None and truck is not None
    kv, kt = van.from_arc * van.num_arcs + van.to_arc, truck.from_arc * truck.num_arcs + truck.to_arc
    both = np.intersect1d(kv, kt)
    iv, it = np.searchsorted(kv, both), np.searchsorted(kt, both)
    assert pv.costs.steady_ms is not None and pt.costs.steady_ms is not None
    # Where both approach at the same speed (the truck is often slower, so it has less to lose),
    # the truck's turn costs at least the van's: slower turn speeds, gentler rates, longer gaps.
    same = np.abs(pv.costs.steady_ms[van.from_arc[iv]] - pt.costs.steady_ms[truck.from_arc[it]]) < 0.01
    priced = same & (van.kind[iv] != KIND["straight"]) & (van.time_s[iv] > 0)
    assert priced.sum() > 500
    assert (truck.time_s[it][priced] >= van.time_s[iv][priced] - 1e-9).all()
    assert np.median(truck.time_s[it][priced]) > 1.3 * np.median(van.time_s[iv][priced])
    # From one approach, a left turn (across the oncoming traffic) costs more than the right turn
    # of the same angle class at the same unsignalised junction.
    for tc in (van, truck):
        pairs = 0
        for a in np.unique(tc.from_arc):
            sel = tc.from_arc == a
            left = tc.time_s[sel & (tc.kind == KIND["left"])]
            right = tc.time_s[sel & (tc.kind == KIND["right"])]
            if left.size and right.size and right.max() > 0:
                pairs += 1
                assert left.min() > right.max() - 1e-9 or left.min() > 0
        assert pairs >= 20


def test_u_turn_costs_much_more_than_a_left(planner: Planner) -> None:
    tc = planner.price(Scenario(vehicle=VAN)).turns
    assert tc is not None
    u = tc.time_s[tc.kind == KIND["u_turn"]]
    left = tc.time_s[(tc.kind == KIND["left"]) & (tc.time_s > 0)]
    assert u.min() >= 20.0
    assert np.median(u) > 5 * np.median(left)


def test_totals_equal_arc_plus_turn_costs_recomputed(planner: Planner, assets: RoutingAssets) -> None:
    s = assets.snap(*ANDORRA_LA_VELLA)[0]
    t = assets.snap(*SOLDEU)[0]
    for v in (VAN, TRUCK):
        check = physics_check(planner, v, s, t)
        assert check["ok"], check
        p = planner.price(Scenario(vehicle=v), [s, t])
        r = planner.route(p, s, t, {"duration": 1.0})
        assert p.turns is not None
        turn_s = _turn_sum(p.turns, r.arcs, "time_s")
        assert turn_s > 10.0
        c = p.costs
        assert r.totals.duration_s == pytest.approx(float(c.time_s[r.arcs].sum()) + turn_s, rel=1e-12)
        for field in ("money_eur", "co2e_kg", "energy_kwh", "fuel_l", "driver_cost_eur"):
            want = float(getattr(c, field)[r.arcs].sum()) + _turn_sum(p.turns, r.arcs, field)
            assert getattr(r.totals, field) == pytest.approx(want, rel=1e-12), field
        assert _turn_sum(p.turns, r.arcs, "money_eur") > 0 and _turn_sum(p.turns, r.arcs, "co2e_kg") > 0


def test_physics_check_fails_when_turn_costs_are_dropped(
    planner: Planner, assets: RoutingAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = assets.snap(*ANDORRA_LA_VELLA)[0]
    t = assets.snap(*SOLDEU)[0]
    monkeypatch.setattr(Planner, "add_turns", staticmethod(lambda *a, **k: None))
    assert not physics_check(planner, VAN, s, t)["ok"]


def test_pareto_front_costs_include_the_turns(planner: Planner, assets: RoutingAssets) -> None:
    s = assets.snap(*ANDORRA_LA_VELLA)[0]
    t = assets.snap(1.5353, 42.5447)[0]  # Ordino road
    p = planner.price(Scenario(vehicle=TRUCK), [s, t])
    spec = ParetoSpec(objectives=("duration", "money", "co2e"), max_solutions=20, time_limit=20.0)
    res = planner.pareto(p, s, t, spec)
    assert len(res) >= 1
    for sol in res:
        r = planner.describe(p, sol.arcs, full=False)
        for i, o in enumerate(spec.objectives):
            assert r.objective_values[o] == pytest.approx(float(sol.costs[i]), rel=1e-9)
        assert sol.nodes[0] == s and sol.nodes[-1] == t
    with planner.pareto_stream(p, s, t, spec) as stream:
        streamed = sorted(tuple(x.costs) for x in stream)
    assert streamed == sorted(tuple(x.costs) for x in res)


# ---- OSM turn restrictions through the builder --------------------------------------------------


def _restriction_assets(tmp_path: Path, routing_key: Path) -> Path:  # noqa: F811
    """A four-arm junction C with a ring road joining the arm ends W-N-E-S (not S-W), south of
    Sant Julia de Loria; ``no_left_turn`` from the south arm into the west arm and
    ``only_straight_on`` from the west arm into the east arm."""
    lon0, lat0, dx, dy = 1.5500, 42.4300, 0.003, 0.002
    pts = {
        1: (0, 0),  # C
        2: (0, -dy / 2),
        3: (0, -dy),  # S arm
        4: (0, dy / 2),
        5: (0, dy),  # N arm
        6: (dx / 2, 0),
        7: (dx, 0),  # E arm
        8: (-dx / 2, 0),
        9: (-dx, 0),  # W arm
        10: (-dx, dy),  # NW corner
        11: (dx, dy),  # NE corner
        12: (dx, -dy),  # SE corner
    }
    path = tmp_path / "restr.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    try:
        for nid, (x, y) in pts.items():
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon0 + x, lat0 + y), tags={}, version=1))
        ways = {1: [3, 2, 1], 2: [1, 4, 5], 3: [1, 6, 7], 4: [1, 8, 9], 5: [9, 10, 5, 11, 7, 12, 3]}
        for wid, refs in ways.items():
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags={"highway": "residential"}, version=1))
        for rid, (frm, to, value) in {1: (1, 4, "no_left_turn"), 2: (4, 3, "only_straight_on")}.items():
            members = [("w", frm, "from"), ("n", 1, "via"), ("w", to, "to")]
            w.add_relation(
                osmium.osm.mutable.Relation(
                    id=rid, members=members, tags={"type": "restriction", "restriction": value}, version=1
                )
            )
    finally:
        w.close()
    out = tmp_path / "assets"
    build_assets(
        path, [require_shared("routing/dem/N42E001.hgt.zip")], out, "restrfixture", _signer(routing_key)
    )
    return out


def test_osm_turn_restrictions_are_obeyed(tmp_path: Path, routing_key: Path) -> None:  # noqa: F811
    out = _restriction_assets(tmp_path, routing_key)
    stats = json.loads((out / "manifest.json").read_text())["stats"]
    assert stats["turn_restrictions"] == 2 and stats["turn_restriction_arc_pairs"] == 2
    a = load_assets(out, [_signer(routing_key).public_key_b64()])
    lon0, lat0, dx, dy = 1.5500, 42.4300, 0.003, 0.002
    node = {
        k: a.snap(lon0 + x, lat0 + y)[0]
        for k, (x, y) in {
            "C": (0, 0),
            "S": (0, -dy),
            "W": (-dx, 0),
            "Wm": (-dx / 2, 0),
            "Sm": (0, -dy / 2),
            "Em": (dx / 2, 0),
        }.items()
    }
    tail, head = a.arcs["tail"], a.arcs["head"]

    def via_c(arcs: np.ndarray) -> list[tuple[int, int]]:
        return [
            (int(tail[x]), int(head[y])) for x, y in itertools.pairwise(arcs.tolist()) if head[x] == node["C"]
        ]

    for v in (VAN, TRUCK):
        off = Planner(a, turn_costs=False)
        r0 = off.route(off.price(Scenario(vehicle=v)), node["S"], node["W"], {"duration": 1.0})
        assert (node["Sm"], node["Wm"]) in via_c(r0.arcs)  # node-based: the forbidden left
        on = Planner(a, turn_costs=True)
        p = on.price(Scenario(vehicle=v))
        r1 = on.route(p, node["S"], node["W"], {"duration": 1.0})
        assert (node["Sm"], node["Wm"]) not in via_c(r1.arcs)
        assert r1.totals.distance_m > r0.totals.distance_m
        # only_straight_on from the west arm: every turn at C from there goes on east.
        r3 = off.route(off.price(Scenario(vehicle=v)), node["W"], node["S"], {"duration": 1.0})
        assert (node["Wm"], node["Sm"]) in via_c(r3.arcs)  # node-based: the right turn
        r2 = on.route(p, node["W"], node["S"], {"duration": 1.0})
        assert all(to == node["Em"] for frm, to in via_c(r2.arcs) if frm == node["Wm"])
        assert r2.totals.distance_m > r3.totals.distance_m


def test_restrictions_bind_only_with_turn_costs_and_manifest_counts(
    assets: RoutingAssets,
) -> None:
    # The Andorra extract carries no restriction relation (pyosmium reads none): documented.
    assert assets.manifest["stats"]["turn_restrictions"] == 0
    assert assets.restrictions["restriction_from"].size == 0
    assert CostParams().avoid_restricted
