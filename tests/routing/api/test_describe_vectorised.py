"""``Planner.describe_asset_arcs`` sums one gathered table per path: its totals must be the exact
floats of summing each per-arc array on its own (the sums the service answered before), and the
geometry/profile the same as computed point by point."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.routing.api_support import routing_key, sample_assets  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def planner(sample_assets: Path, routing_key: Path):  # noqa: F811
    from ridgeline.platform.signing import Signer
    from ridgeline.routing.assets import load_assets
    from ridgeline.routing.planner import Planner

    signer = Signer.load_or_create(routing_key.parent.parent, routing_key)
    return Planner(load_assets(sample_assets, [signer.public_key_b64()]))


def _paths(planner, p, count: int, seed: int) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    from ridgeline.routing.planner import OBJECTIVES

    g = planner.graph(p, OBJECTIVES)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        s, t = (int(x) for x in rng.integers(planner.assets.num_nodes, size=2))
        r = g.route(s, t, [1.0, 0.4, 0.3, 0.1]) if s != t else None
        if r is not None and len(r.arcs) > 1:
            out.append(planner.graph_arcs_to_assets(p, r.arcs))
    return out


@pytest.mark.parametrize("vehicle_id", ["van_diesel", "hgv_artic_44t", "van_electric"])
def test_totals_are_the_per_array_sums(planner, vehicle_id: str) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.routing.planner import OBJECTIVES, Scenario
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    p = planner.price(Scenario(vehicle=BUILTIN_VEHICLES[vehicle_id]))
    c, a = p.costs, planner.assets.arcs
    for arcs in _paths(planner, p, 25, seed=len(vehicle_id)):
        r = planner.describe_asset_arcs(p, arcs, full=False)
        length = c.distance_m[arcs]
        expected = {
            "duration_s": float(c.time_s[arcs].sum()),
            "risk_adjusted_duration_s": float(c.duration_obj[arcs].sum()),
            "duration_stddev_s": float(c.sigma_s[arcs].sum()),
            "distance_m": float(length.sum()),
            "money_eur": float(c.money_eur[arcs].sum()),
            "co2e_kg": float(c.co2e_kg[arcs].sum()),
            "energy_kwh": float(c.energy_kwh[arcs].sum()),
            "fuel_l": float(c.fuel_l[arcs].sum()),
            "energy_cost_eur": float(c.energy_cost_eur[arcs].sum()),
            "driver_cost_eur": float(c.driver_cost_eur[arcs].sum()),
            "toll_eur": float(c.toll_eur[arcs].sum()),
            "carbon_cost_eur": float(c.carbon_cost_eur[arcs].sum()),
            "ascent_m": float(a["ascent_m"][arcs].sum()),
            "descent_m": float(a["descent_m"][arcs].sum()),
            "terrain_coverage": round(float((a["coverage"][arcs] * length).sum() / length.sum()), 6),
        }
        got = {f: getattr(r.totals, f) for f in expected}
        assert got == expected  # exact floats, not approximately
        assert r.objective_values == {o: float(c.objective(o)[arcs].sum()) for o in OBJECTIVES}
        assert r.nodes.tolist() == [int(a["tail"][arcs[0]]), *a["head"][arcs].tolist()]


def test_geometry_and_profile(planner) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.routing.planner import Scenario
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    p = planner.price(Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"]))
    assets = planner.assets
    arcs = max(_paths(planner, p, 20, seed=7), key=len)
    points = 5  # fewer than the path's nodes: the profile is subsampled
    r = planner.describe_asset_arcs(p, arcs, profile_points=points)
    nodes = r.nodes
    assert r.coordinates == [
        [round(float(assets.node_lon[n]), 6), round(float(assets.node_lat[n]), 6)] for n in nodes
    ]
    dist = np.concatenate([[0.0], np.cumsum(p.costs.distance_m[arcs])])
    pick = sorted({round(float(x)) for x in np.linspace(0, nodes.size - 1, points)})
    expected = []
    for i in pick:
        e = round(float(assets.node_elevation_m[nodes[i]]), 1)
        expected.append([round(float(dist[i]), 1), None if math.isnan(e) else e])
    assert r.profile == expected
    assert sum(r.road_class_km.values()) == pytest.approx(r.totals.distance_m / 1000, abs=0.01)
    # the geometry added to a totals-only description keeps its totals
    bare = planner.describe_asset_arcs(p, arcs, full=False)
    assert planner.with_geometry(p, bare, points).totals is bare.totals
    assert planner.with_geometry(p, bare, points).coordinates == r.coordinates


def test_profile_without_dem_value_is_null(planner, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.routing.planner import Scenario
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    p = planner.price(Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"]))
    arcs = max(_paths(planner, p, 10, seed=3), key=len)
    bare = planner.describe_asset_arcs(p, arcs, full=False)
    elev = planner.assets.node_elevation_m.copy()
    elev[bare.nodes[1]] = np.nan
    monkeypatch.setattr(planner.assets, "node_elevation_m", elev)
    profile = planner.with_geometry(p, bare).profile
    assert [i for i, (_, e) in enumerate(profile) if e is None] == [1]
    assert profile[2][1] == round(float(elev[bare.nodes[2]]), 1)


@pytest.mark.parametrize("per_node", [True, False])
def test_coordinates_json_is_the_lists_encoding(
    planner,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    per_node: bool,
) -> None:
    import msgspec

    from ridgeline.routing import planner as planner_mod
    from ridgeline.routing.planner import Planner, Scenario
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    if not per_node:  # a network too large for the per-node cache: encoded from the lists
        monkeypatch.setattr(planner_mod, "_NODE_JSON_MAX_NODES", 0)
    fresh = Planner(planner.assets)
    p = fresh.price(Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"]))
    for arcs in _paths(fresh, p, 10, seed=11):
        bare = fresh.describe_asset_arcs(p, arcs, full=False)
        lists, enc = fresh.with_geometry(p, bare), fresh.with_geometry(p, bare, encoded=True)
        assert enc.coordinates == [] and lists.coordinates_json is None
        assert enc.coordinates_json == msgspec.json.encode(lists.coordinates)
        assert enc.profile == lists.profile and enc.road_class_km == lists.road_class_km
    assert (fresh._node_json is None) is not per_node
