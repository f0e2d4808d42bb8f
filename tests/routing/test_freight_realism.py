"""Issue 19 on the real Andorra network (OSM + SRTM): heavy vehicles slower than vans, the climb
and descent limits, EV regeneration in the reported totals, the region's time zone with DST and
weekend profiles, and stop-and-go emissions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import load_assets
from ridgeline.routing.energy import (
    POWER_AVAILABLE,
    RHO_AIR,
    CostParams,
    G,
    arc_costs,
    climb_speed_ms,
    descent_speed_ms,
    stop_and_go_factor,
)
from ridgeline.routing.planner import Planner, RouteQuery, RoutingError, Scenario
from ridgeline.routing.vehicles import BUILTIN_VEHICLES, Vehicle
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401

SOLDEU = (1.6675, 42.5766)
ENVALIRA_SUMMIT = (1.7196, 42.5406)  # Port d'Envalira, 2,408 m, on the CG-2 over the pass
ANDORRA_LA_VELLA = (1.5218, 42.5063)
VAN = BUILTIN_VEHICLES["van_diesel"]
TRUCK = BUILTIN_VEHICLES["hgv_artic_44t"]
EV_TRUCK = BUILTIN_VEHICLES["hgv_electric_40t"]
SHORTEST = {"distance": 1.0}


@pytest.fixture(scope="module")
def planner(andorra_assets: Path, routing_key: Path) -> Planner:  # noqa: F811
    return Planner(load_assets(andorra_assets, [_signer(routing_key).public_key_b64()]))


def _totals(planner: Planner, vehicle: Vehicle, a: tuple[float, float], b: tuple[float, float], dep=None):
    q = RouteQuery(scenario=Scenario(vehicle=vehicle, departure=dep), points=(a, b))
    return planner.plan_route(q).route.totals


def test_climb_speed_matches_hand_computation() -> None:
    # 40 t at 400 kW at the wheels on 7 %: P = (m g (C_rr + s) + 0.5 rho CdA v^2) v.
    m, p, crr, cda = 40_000.0, 400_000.0, 0.0055, 0.58 * 9.5
    v = float(climb_speed_ms(p, m, np.array([0.07]), crr, cda)[0])
    assert (m * G * (crr + 0.07) + 0.5 * RHO_AIR * cda * v**2) * v == pytest.approx(p, rel=1e-9)
    # Without drag the speed would be P / (m g (C_rr + s)) = 13.51 m/s; drag takes a little off.
    assert 13.2 < v < 13.51 and v * 3.6 < 60.0
    # Flat road: the power limit is far above any speed limit.
    assert float(climb_speed_ms(p, m, np.array([0.0]), crr, cda)[0]) * 3.6 > 120
    # Descent: 450 kW of continuous braking holds 35 t on 8 % at P / (m g (s - C_rr)).
    d = float(descent_speed_ms(450_000.0, 35_000.0, np.array([-0.08]), crr)[0])
    assert d == pytest.approx(450_000.0 / (35_000.0 * G * (0.08 - crr)))
    assert np.isinf(descent_speed_ms(450_000.0, 35_000.0, np.array([0.01]), crr)[0])


def test_truck_limits_on_a_synthetic_climb() -> None:
    n = 3
    arcs = {
        "length_m": np.full(n, 1000.0),
        "road_class": np.array([2, 2, 2]),  # trunk, posted 100
        "speed_kmh": np.full(n, 100.0),
        "ascent_m": np.array([0.0, 70.0, 0.0]),
        "descent_m": np.array([0.0, 0.0, 80.0]),
        "toll": np.zeros(n, dtype=np.int8),
        "maxweight_t": np.full(n, np.nan),
        "maxheight_m": np.full(n, np.nan),
        "hgv_no": np.zeros(n, dtype=bool),
        "speed_hgv_kmh": np.array([np.nan, np.nan, np.nan]),
    }
    van = arc_costs(arcs, VAN, CostParams())
    truck = arc_costs(arcs, TRUCK, CostParams())
    kmh = 3600.0 / truck.time_s  # 1 km arcs
    assert kmh[0] == pytest.approx(80.0)  # HGV trunk default limit
    climb = climb_speed_ms(
        POWER_AVAILABLE * TRUCK.power_kw * 1000,
        TRUCK.gross_mass_kg,
        np.array([0.07]),
        TRUCK.rolling_resistance,
        TRUCK.drag_coefficient * TRUCK.frontal_area_m2,
    )[0]
    assert kmh[1] == pytest.approx(climb * 3.6) and kmh[1] < 60
    assert kmh[2] < 80 and (3600.0 / van.time_s[:2]).tolist() == pytest.approx([100.0, 100.0])
    arcs["speed_hgv_kmh"] = np.array([60.0, np.nan, np.nan])  # maxspeed:hgv wins where tagged
    assert 3600.0 / arc_costs(arcs, TRUCK, CostParams()).time_s[0] == pytest.approx(60.0)


def test_truck_slower_than_van_on_envalira_and_random_pairs(planner: Planner) -> None:
    van = _totals(planner, VAN, SOLDEU, ENVALIRA_SUMMIT)
    truck = _totals(planner, TRUCK, SOLDEU, ENVALIRA_SUMMIT)
    assert truck.ascent_m - truck.descent_m > 400
    assert truck.duration_s > 1.3 * van.duration_s
    assert truck.distance_m / truck.duration_s * 3.6 < 60  # a loaded 35 t truck crawls up the pass
    rng = np.random.default_rng(19)
    a = planner.assets
    slower = total = 0
    while total < 60:
        i, j = rng.integers(0, a.num_nodes, 2)
        pa = (float(a.node_lon[i]), float(a.node_lat[i]))
        pb = (float(a.node_lon[j]), float(a.node_lat[j]))
        try:
            tv, tt = _totals(planner, VAN, pa, pb), _totals(planner, TRUCK, pa, pb)
        except RoutingError:
            continue
        total += 1
        slower += tt.duration_s > tv.duration_s * 1.001
    assert slower >= 45, f"truck slower than the van on only {slower} of 60 pairs"


def test_ev_downhill_energy_is_negative(planner: Planner) -> None:
    down = _totals(planner, EV_TRUCK, SOLDEU, ANDORRA_LA_VELLA)
    assert down.descent_m - down.ascent_m > 700
    assert down.energy_kwh < 0 and down.co2e_kg < 0 and down.energy_cost_eur < 0
    # The search still sees non-negative arc costs.
    p = planner.price(Scenario(vehicle=EV_TRUCK))
    assert (p.costs.objective("co2e") >= 0).all() and (p.costs.objective("money") >= 0).all()
    assert (p.costs.energy_kwh < 0).any()
    up = _totals(planner, EV_TRUCK, ANDORRA_LA_VELLA, SOLDEU)
    assert up.energy_kwh > 0


def test_andorra_time_zone_peaks_in_winter_and_summer(planner: Planner) -> None:
    assert str(planner.timezone) == "Europe/Andorra"
    # 08:00 local is the weekday peak: 07:00 UTC in winter (CET), 06:00 UTC in summer (CEST).
    winter = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)  # a Wednesday
    summer = datetime(2026, 7, 15, 6, 0, tzinfo=UTC)  # a Wednesday
    assert planner.local_time(winter) == (8 * 3600.0, False)
    assert planner.local_time(summer) == (8 * 3600.0, False)
    night = _totals(planner, VAN, ANDORRA_LA_VELLA, SOLDEU, datetime(2026, 1, 14, 2, 0, tzinfo=UTC))
    for dep in (winter, summer):
        assert _totals(planner, VAN, ANDORRA_LA_VELLA, SOLDEU, dep).duration_s > 1.1 * night.duration_s
    # round(lon / 15) = UTC+0 would put 08:00 UTC (09:00 CET, shoulder) at the peak instead.
    assert planner.local_time(datetime(2026, 1, 14, 8, 0, tzinfo=UTC))[0] == 9 * 3600.0
    # Weekend: no commuter peak at 08:00 local.
    saturday = datetime(2026, 1, 17, 7, 0, tzinfo=UTC)
    assert planner.local_time(saturday) == (8 * 3600.0, True)
    sat = _totals(planner, VAN, ANDORRA_LA_VELLA, SOLDEU, saturday)
    weekday = _totals(planner, VAN, ANDORRA_LA_VELLA, SOLDEU, winter)
    assert night.duration_s <= sat.duration_s < weekday.duration_s


def test_co2_at_peak_above_free_flow(planner: Planner) -> None:
    assert stop_and_go_factor(np.array([10.0, 30.0, 60.0, 90.0])).tolist() == pytest.approx(
        [1.9, 1.18, 1.0, 1.0]
    )
    peak = datetime(2026, 1, 14, 7, 30, tzinfo=UTC)
    for v in (VAN, TRUCK, EV_TRUCK):
        free = _totals(planner, v, ANDORRA_LA_VELLA, SOLDEU)
        busy = _totals(planner, v, ANDORRA_LA_VELLA, SOLDEU, peak)
        assert busy.duration_s > free.duration_s
        assert busy.co2e_kg > free.co2e_kg and busy.energy_kwh > free.energy_kwh
    # Per arc too: congestion never lowers any arc's energy.
    free_p = planner.price(Scenario(vehicle=TRUCK))
    busy_p = planner.price(Scenario(vehicle=TRUCK, departure=peak))
    assert (busy_p.costs.co2e_kg >= free_p.costs.co2e_kg - 1e-12).all()


def test_hgv_kept_off_service_and_living_street_ways(planner: Planner) -> None:
    from ridgeline.routing.energy import CLASS_CODE

    a = planner.assets
    cls = a.arcs["road_class"].astype(np.int64)
    local_arc = np.isin(cls, [CLASS_CODE["service"], CLASS_CODE["living_street"]])
    comp, _ = planner._local_ways
    rng = np.random.default_rng(5)
    van_local = []
    checked = 0
    while checked < 300 and len(van_local) < 3:
        i, j = rng.integers(0, a.num_nodes, 2)
        if comp[i] >= 0 or comp[j] >= 0:
            continue
        pa = (float(a.node_lon[i]), float(a.node_lat[i]))
        pb = (float(a.node_lon[j]), float(a.node_lat[j]))
        try:
            qv = planner.plan_route(
                RouteQuery(scenario=Scenario(vehicle=VAN), points=(pa, pb), weights=SHORTEST)
            )
        except RoutingError:
            continue
        checked += 1
        if local_arc[qv.route.arcs].any():
            van_local.append((pa, pb))
    # Shortest van routes do cut through service ways (3 of 200 pairs), so the test can fail.
    assert len(van_local) >= 2
    for pa, pb in van_local:
        qt = planner.plan_route(
            RouteQuery(scenario=Scenario(vehicle=TRUCK), points=(pa, pb), weights=SHORTEST)
        )
        assert not local_arc[qt.route.arcs].any()
    # A stop on a service way: the truck may use that cluster of service ways to get out.
    # (a node inside a service way: every arc leaving it is a service arc)
    nonlocal_touch = np.zeros(a.num_nodes, dtype=bool)
    nonlocal_touch[a.arcs["tail"][~local_arc]] = True
    nonlocal_touch[a.arcs["head"][~local_arc]] = True
    inner = np.flatnonzero((comp >= 0) & ~nonlocal_touch)
    s = int(inner[0])
    pa = (float(a.node_lon[s]), float(a.node_lat[s]))
    out = planner.plan_route(RouteQuery(scenario=Scenario(vehicle=TRUCK), points=(pa, ANDORRA_LA_VELLA)))
    assert local_arc[out.route.arcs].any()


def test_departure_optimiser_does_not_pick_the_peak_for_co2(planner: Planner) -> None:
    from datetime import timedelta

    from ridgeline.routing.departure import scan_departures

    # 05:00-11:00 CET on a winter Wednesday, every 30 min: the peak (07-09 local) is the worst CO2.
    start = datetime(2026, 1, 14, 4, 0, tzinfo=UTC)
    scan = scan_departures(
        planner,
        Scenario(vehicle=TRUCK),
        ANDORRA_LA_VELLA,
        SOLDEU,
        {"co2e": 1.0},
        start,
        start + timedelta(hours=6),
        timedelta(minutes=30),
    )
    co2 = [o.route.totals.co2e_kg for o in scan.options]
    local_hour = [planner.local_time(o.departure)[0] / 3600 for o in scan.options]
    best = scan.options[scan.best["co2e"]]
    assert not 7 <= planner.local_time(best.departure)[0] / 3600 <= 9
    peak = max(c for c, h in zip(co2, local_hour, strict=True) if h == 8.0)
    night = min(c for c, h in zip(co2, local_hour, strict=True) if h == 5.0)
    assert peak > night
