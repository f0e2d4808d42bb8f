"""Issue 19 on the Andorra network: junction delays from the OSM node tags (the traffic signals at
La Massana, crossings, mini-roundabouts, the Envalira toll booth) and the road hierarchy, and the
Envalira tunnel's toll priced per vehicle class."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import load_assets
from ridgeline.routing.energy import (
    SIGNAL_CYCLE_S,
    SIGNAL_GREEN,
    CostParams,
    arc_costs,
)
from ridgeline.routing.planner import Planner, RouteQuery, Scenario
from ridgeline.routing.vehicles import BUILTIN_VEHICLES, Vehicle
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401

VAN = BUILTIN_VEHICLES["van_diesel"]
TRUCK = BUILTIN_VEHICLES["hgv_artic_44t"]
SIGNAL = (1.5190758, 42.5822713)  # highway=traffic_signals, node 262464083 (La Massana)
BEFORE_SIGNAL, AFTER_SIGNAL = (1.5150, 42.5760), (1.5260, 42.5880)


@pytest.fixture(scope="module")
def planner(andorra_assets: Path, routing_key: Path) -> Planner:  # noqa: F811
    return Planner(load_assets(andorra_assets, [_signer(routing_key).public_key_b64()]))


def _without_controls(planner: Planner, vehicle: Vehicle, params: CostParams) -> np.ndarray:
    arcs = {k: v for k, v in planner.assets.arcs.items() if k != "head_control"}
    return arc_costs(arcs, vehicle, params).time_s


def test_andorra_junction_controls_in_the_assets(andorra_assets: Path) -> None:  # noqa: F811
    counts = json.loads((andorra_assets / "manifest.json").read_text())["stats"]["junction_control_arcs"]
    # One signalised junction (4 arcs enter it), 42 of the 46 crossings, the mini-roundabouts and
    # the toll booth on the network; give-way and stop signs: none on the routable network.
    assert counts["traffic_signals"] == 4 and counts["toll_booth"] == 2
    assert counts["crossing"] > 40 and counts["mini_roundabout"] > 20 and counts["implied_yield"] > 100
    assert counts["stop"] == 0


def test_signalised_junction_delays_the_route_through_it(planner: Planner) -> None:
    node, _ = planner.assets.snap(*SIGNAL)
    q = RouteQuery(scenario=Scenario(vehicle=VAN), points=(BEFORE_SIGNAL, AFTER_SIGNAL))
    planned = planner.plan_route(q)
    r = planned.route
    assert node in r.nodes.tolist()
    free = _without_controls(planner, VAN, CostParams())
    added = r.totals.duration_s - float(free[r.arcs].sum())
    # Webster's uniform delay off-peak (x = 0.3) is the least the signal adds, plus the stop.
    webster = SIGNAL_CYCLE_S * (1 - SIGNAL_GREEN) ** 2 / (2 * (1 - SIGNAL_GREEN * 0.3))
    entering = int(r.arcs[np.flatnonzero(planner.assets.arcs["head"][r.arcs] == node)[0]])
    signal_delay = planned.priced.costs.time_s[entering] - free[entering]
    assert webster + 2.0 < signal_delay < webster + 15.0
    assert added >= signal_delay
    # At the 08:00 weekday peak (07:00 UTC in winter) the signal costs more; a truck loses more.
    peak = planner.price(Scenario(vehicle=VAN, departure=datetime(2026, 1, 14, 7, 0, tzinfo=UTC)))
    peak_free = _without_controls(planner, VAN, CostParams(local_seconds_of_day=8 * 3600.0))
    assert peak.costs.time_s[entering] - peak_free[entering] > signal_delay + 5.0
    truck = planner.price(Scenario(vehicle=TRUCK))
    truck_free = _without_controls(planner, TRUCK, CostParams())
    assert truck.costs.time_s[entering] - truck_free[entering] > signal_delay
    # Stopping costs energy: the truck's fuel on the signal arc is above the same arc without it.
    arcs = {k: v for k, v in planner.assets.arcs.items() if k != "head_control"}
    assert truck.costs.fuel_l[entering] > arc_costs(arcs, TRUCK, CostParams()).fuel_l[entering]


SOLDEU = (1.6675, 42.5766)
ENVALIRA_EAST_PORTAL = (1.7300, 42.5450)  # the tunnel's Pas de la Casa end (the extract's edge)
PAS_DE_LA_CASA = (1.7327, 42.5424)


def test_envalira_tunnel_toll_per_vehicle_class(planner: Planner, andorra_assets: Path) -> None:  # noqa: F811
    facilities = json.loads((andorra_assets / "manifest.json").read_text())["toll_facilities"]
    # The data: five toll=yes ways (the tunnel, its approach and the plaza's one-way lanes), one
    # facility of 3.9 km (the 2.9 km tunnel and its viaduct) with a barrier=toll_booth.
    assert [(f["name"], f["toll_booth"], len(f["ways"])) for f in facilities] == [
        ("Túnel d'Envalira", True, 5)
    ]
    assert 3.5 < facilities[0]["length_km"] < 4.2
    fees = {}
    for vid in ("van_diesel", "hgv_rigid_18t", "hgv_artic_44t"):
        q = RouteQuery(
            scenario=Scenario(vehicle=BUILTIN_VEHICLES[vid]),
            points=(SOLDEU, ENVALIRA_EAST_PORTAL),
            weights={"money": 1.0},
        )
        t = planner.plan_route(q).route.totals
        fees[vid] = t.toll_eur
        assert t.money_eur >= t.toll_eur + t.energy_cost_eur + t.driver_cost_eur - 1e-6
    # 2025 tariff: a 2.6 m van is "intermediate", the 2-axle rigid class 3, the articulated class 4,
    # charged once per passage (not per km).
    assert fees == pytest.approx({"van_diesel": 13.90, "hgv_rigid_18t": 15.90, "hgv_artic_44t": 19.90})
    # Pas de la Casa is reached over the pass, not through the tunnel: no toll.
    q = RouteQuery(scenario=Scenario(vehicle=VAN), points=(SOLDEU, PAS_DE_LA_CASA))
    assert planner.plan_route(q).route.totals.toll_eur == 0.0


def test_avoid_and_ignore_tolls(planner: Planner) -> None:
    from ridgeline.routing.planner import RoutingError

    avoid = Scenario(vehicle=VAN, params=CostParams(avoid_tolls=True))
    with pytest.raises(RoutingError) as exc:  # the tunnel is the only way to its portal
        planner.plan_route(RouteQuery(scenario=avoid, points=(SOLDEU, ENVALIRA_EAST_PORTAL)))
    assert exc.value.reason_code == "no_path"
    p = planner.price(avoid)
    assert not p.costs.allowed[planner.assets.arcs["toll"] > 0].any()
    free = Scenario(vehicle=VAN, params=CostParams(include_tolls=False))
    t = planner.plan_route(RouteQuery(scenario=free, points=(SOLDEU, ENVALIRA_EAST_PORTAL))).route.totals
    assert t.toll_eur == 0.0
