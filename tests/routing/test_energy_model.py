"""The physical energy, emissions and cost model, restrictions, and the EU duty rules."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ridgeline.routing.duty import DutyRules, schedule_duty
from ridgeline.routing.energy import (
    CHARGING_EFFICIENCY,
    CLASS_CODE,
    DIESEL_KWH_PER_L,
    DIESEL_WTW_KG_PER_L,
    RHO_AIR,
    CostParams,
    G,
    arc_costs,
)
from ridgeline.routing.vehicles import BUILTIN_VEHICLES, VehicleError, validate_vehicle


def arcs(
    n: int = 1,
    *,
    ascent: float = 0.0,
    descent: float = 0.0,
    length: float = 1000.0,
    cls: str = "primary",
    **kw: object,
) -> dict[str, np.ndarray]:
    base = {
        "length_m": np.full(n, length),
        "road_class": np.full(n, CLASS_CODE[cls], dtype=np.uint8),
        "speed_kmh": np.full(n, 72.0),
        "ascent_m": np.full(n, ascent),
        "descent_m": np.full(n, descent),
        "toll": np.zeros(n, dtype=np.uint8),
        "maxweight_t": np.full(n, np.nan),
        "maxheight_m": np.full(n, np.nan),
        "hgv_no": np.zeros(n, dtype=bool),
    }
    base.update({k: np.asarray(v) for k, v in kw.items()})
    return base


def test_flat_diesel_energy_matches_hand_computation() -> None:
    v = BUILTIN_VEHICLES["hgv_rigid_18t"]
    c = arc_costs(arcs(), v, CostParams())
    speed = 72.0 / 3.6  # under the 90 km/h HGV cap
    m = v.gross_mass_kg
    wheel = (
        m * G * v.rolling_resistance + 0.5 * RHO_AIR * v.drag_coefficient * v.frontal_area_m2 * speed**2
    ) * 1000.0
    tank = wheel / v.drivetrain_efficiency + v.auxiliary_power_kw * 1000 * (1000.0 / speed)
    assert c.time_s[0] == pytest.approx(50.0)
    assert c.energy_kwh[0] == pytest.approx(tank / 3.6e6)
    assert c.fuel_l[0] == pytest.approx(tank / 3.6e6 / DIESEL_KWH_PER_L)
    assert c.co2e_kg[0] == pytest.approx(c.fuel_l[0] * DIESEL_WTW_KG_PER_L)
    p = CostParams()
    assert c.money_eur[0] == pytest.approx(
        c.fuel_l[0] * p.diesel_eur_per_l + 50.0 / 3600 * p.driver_eur_per_h
    )


def test_grade_terms_and_regeneration() -> None:
    ice = BUILTIN_VEHICLES["hgv_artic_44t"]
    ev = BUILTIN_VEHICLES["hgv_electric_40t"]
    flat, up, down = (
        arc_costs(arcs(ascent=a, descent=d), ice, CostParams()) for a, d in ((0, 0), (40, 0), (0, 40))
    )
    assert up.energy_kwh[0] > flat.energy_kwh[0] > down.energy_kwh[0] > 0
    extra = ice.gross_mass_kg * G * 40 / ice.drivetrain_efficiency / 3.6e6
    assert up.energy_kwh[0] - flat.energy_kwh[0] == pytest.approx(extra)
    # Steep descent: the diesel only pays its auxiliary load; the EV recovers energy but its arc
    # cost is floored at the auxiliary load so Pareto costs stay non-negative.
    steep_ice = arc_costs(arcs(descent=120), ice, CostParams())
    aux = ice.auxiliary_power_kw * 1000 * steep_ice.time_s[0] / 3.6e6
    assert steep_ice.energy_kwh[0] == pytest.approx(aux)
    ev_down = arc_costs(arcs(descent=20), ev, CostParams())
    ev_flat = arc_costs(arcs(), ev, CostParams())
    assert ev_down.energy_kwh[0] < ev_flat.energy_kwh[0]
    assert ev_flat.fuel_l[0] == 0
    grid = CostParams(grid_intensity_g_per_kwh=400.0)
    e = arc_costs(arcs(), ev, grid)
    assert e.co2e_kg[0] == pytest.approx(e.energy_kwh[0] / CHARGING_EFFICIENCY * 0.4)


def test_restrictions_tolls_weather_and_time_of_day() -> None:
    a = arcs(
        4,
        maxweight_t=[7.5, np.nan, np.nan, np.nan],
        maxheight_m=[np.nan, 3.5, np.nan, np.nan],
        hgv_no=[0, 0, 1, 0],
        toll=[0, 0, 0, 1],
    )
    van = arc_costs(a, BUILTIN_VEHICLES["van_diesel"], CostParams())
    hgv = arc_costs(a, BUILTIN_VEHICLES["hgv_artic_44t"], CostParams())
    assert van.allowed.tolist() == [True, True, True, True]
    assert hgv.allowed.tolist() == [False, False, False, True]
    assert hgv.toll_eur[3] > van.toll_eur[3] > 0
    assert arc_costs(a, BUILTIN_VEHICLES["van_diesel"], CostParams(avoid_tolls=True)).allowed.tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert arc_costs(a, BUILTIN_VEHICLES["van_diesel"], CostParams(include_tolls=False)).toll_eur.sum() == 0
    clear = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams())
    snow = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams(weather="snow"))
    assert snow.time_s[0] == pytest.approx(clear.time_s[0] / 0.65)
    peak = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams(local_seconds_of_day=8 * 3600))
    night = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams(local_seconds_of_day=3 * 3600))
    assert peak.time_s[0] > night.time_s[0] == pytest.approx(clear.time_s[0])
    risky = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams(risk_aversion=2.0))
    assert risky.duration_obj[0] == pytest.approx(clear.time_s[0] + 2.0 * clear.sigma_s[0])
    carbon = arc_costs(arcs(), BUILTIN_VEHICLES["van_diesel"], CostParams(carbon_eur_per_t=100.0))
    assert carbon.money_eur[0] - clear.money_eur[0] == pytest.approx(clear.co2e_kg[0] / 1000 * 100)


def test_vehicle_validation() -> None:
    import msgspec

    for v in BUILTIN_VEHICLES.values():
        validate_vehicle(v)
    v = BUILTIN_VEHICLES["van_diesel"]
    with pytest.raises(VehicleError, match="payload_kg"):
        validate_vehicle(msgspec.structs.replace(v, payload_kg=5000.0))
    with pytest.raises(VehicleError, match="drag_coefficient"):
        validate_vehicle(msgspec.structs.replace(v, drag_coefficient=float("nan")))
    with pytest.raises(VehicleError, match="regen"):
        validate_vehicle(msgspec.structs.replace(v, regen_efficiency=0.5))
    kinds = {(x.energy_carrier, x.is_hgv) for x in BUILTIN_VEHICLES.values()}
    assert kinds == {("diesel", False), ("diesel", True), ("electric", False), ("electric", True)}


def test_duty_rules_insert_breaks_and_daily_rest() -> None:
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    # Three legs of 4 h driving: a break after 4.5 h, a daily rest after 9 h.
    out = schedule_duty(start, [4 * 3600.0] * 3, [1800.0, 600.0, 600.0, 900.0], DutyRules())
    kinds = [e["type"] for e in out["events"]]
    assert kinds.count("break") == 1 and kinds.count("daily_rest") == 1
    assert out["totals"]["driving_s"] == pytest.approx(12 * 3600)
    drive_since = 0.0
    day = 0.0
    for e in out["events"]:
        if e["type"] == "drive":
            drive_since += e["duration_s"]
            day += e["duration_s"]
            assert drive_since <= 4.5 * 3600 + 1e-6 and day <= 9 * 3600 + 1e-6
        elif e["type"] == "break":
            drive_since = 0.0
        elif e["type"] == "daily_rest":
            drive_since = day = 0.0
    expected = 12 * 3600 + 2700 + 11 * 3600 + 1800 + 600 + 600 + 900
    assert out["totals"]["elapsed_s"] == pytest.approx(expected)


def test_engine_modules_import_no_server_code() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ridgeline.routing.assets, ridgeline.routing.energy, ridgeline.routing.planner, "
        "ridgeline.routing.reports, ridgeline.routing.oracle, ridgeline.routing.duty, ridgeline.routing.vehicles, "
        "ridgeline.routing.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('litestar', 'sqlalchemy')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
