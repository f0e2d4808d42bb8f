"""Speed, energy, emissions and cost per arc: the physical model behind every objective.

Everything is vectorised over the arcs of a network (numpy), so one call prices the whole graph
for one vehicle and one scenario (about a millisecond for Andorra).

Speed model (docs/routing.md has the constants and their sources)
    steady speed = the arc's ``maxspeed`` (or the road-class default of the asset builder), capped
    at the vehicle's maximum speed and, for HGVs, at ``maxspeed:hgv`` or the class's default truck
    limit; times the weather multiplier; then at most the climb speed the power train can hold
    (``climb_speed_ms``) and, for HGVs, the descent speed the continuous brakes can hold
    (``descent_speed_ms``). Travel speed = steady speed times the time-of-day factor
    ``1 - (1 - peak[class]) * shape[local hour]`` (weekday or weekend shape) and incident slowdowns.
Energy model (per arc, all SI)
    resistive work ``W_r = (m g C_rr w_rr + 0.5 rho C_d A v_air^2) * L`` with ``v_air`` = steady
    speed plus headwind; climbing work ``m g ascent``; potential energy released on the descent
    ``m g descent``. Demand ``D = W_r + m g ascent - m g descent``; positive demand is scaled by the
    stop-and-go ratio ``U(v_travel) / U(v_steady) >= 1`` (``stop_and_go_factor``), so congestion
    never lowers energy. Diesel: tank energy ``max(D, 0) / eta`` (surplus descent energy is lost in
    the brakes). Electric: ``D / eta`` when ``D >= 0``, else ``D * eta_regen`` (recovered;
    negative, and kept in the reported arrays); the search arrays (``search_*``) are floored at zero
    per arc, as Pareto search requires. The auxiliary load ``P_aux * t`` is added.
Emissions (well-to-wheel)
    diesel: 3.17 kg CO2e per litre (GLEC Framework, EU diesel B7 WTW), 9.97 kWh per litre (LHV);
    electric: grid intensity (``emissions_context.grid_intensity_g_per_kwh``, default 250 g/kWh)
    times the energy drawn from the grid (battery energy / 0.92 charging efficiency).
Money
    energy cost (diesel EUR/l or electricity EUR/kWh) + driver cost (EUR/h, toggle) + tolls
    (EUR/km on toll arcs by toll class, toggle) + carbon price (EUR/t CO2e, toggle, default 0).
Uncertainty
    each arc has a travel-time standard deviation ``cv(class, hour) * t``; ``risk_aversion``
    adds ``risk_aversion * sigma`` to the duration objective. Summing standard deviations (not
    variances) keeps the objective additive and bounds the path's deviation under full correlation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from ridgeline.routing.vehicles import Vehicle

__all__ = [
    "ROAD_CLASSES",
    "WEATHER",
    "ArcCosts",
    "CostParams",
    "Incident",
    "arc_costs",
    "tod_shape",
]

G = 9.80665
RHO_AIR = 1.225
DIESEL_KWH_PER_L = 9.97
DIESEL_WTW_KG_PER_L = 3.17
CHARGING_EFFICIENCY = 0.92
HGV_SPEED_CAP_KMH = 90.0
#: Grades beyond this are DEM artefacts (real roads stay under ~20 %); the speed model clamps to it.
MAX_GRADE = 0.20
#: Share of the rated power available at the wheels (transmission and engine-ancillary losses).
POWER_AVAILABLE = 0.90
#: No steady speed below this (crawl speed on the steepest ramps).
MIN_SPEED_KMH = 5.0
#: Stop-and-go: the falling branch of the average-speed curves (docs/routing.md).
STOP_GO_K = 0.18
STOP_GO_VREF_KMH = 60.0

#: Road classes in code order: (name, default free-flow km/h, peak speed factor, base travel-time cv).
ROAD_CLASSES: list[tuple[str, float, float, float]] = [
    ("motorway", 110.0, 0.80, 0.08),
    ("motorway_link", 60.0, 0.75, 0.10),
    ("trunk", 85.0, 0.75, 0.10),
    ("trunk_link", 50.0, 0.75, 0.12),
    ("primary", 65.0, 0.70, 0.12),
    ("primary_link", 45.0, 0.70, 0.12),
    ("secondary", 55.0, 0.72, 0.12),
    ("secondary_link", 40.0, 0.72, 0.12),
    ("tertiary", 45.0, 0.75, 0.14),
    ("tertiary_link", 35.0, 0.75, 0.14),
    ("unclassified", 35.0, 0.85, 0.15),
    ("residential", 30.0, 0.80, 0.15),
    ("living_street", 10.0, 0.90, 0.15),
    ("service", 20.0, 0.90, 0.15),
    ("road", 30.0, 0.85, 0.15),
]
CLASS_CODE: dict[str, int] = {name: i for i, (name, *_rest) in enumerate(ROAD_CLASSES)}
#: Default HGV (> 3.5 t) speed limits by class where no ``maxspeed:hgv`` is tagged: motorways 90
#: (the EU speed limiter, Dir. 92/6/EEC), trunk and primary 80, secondary and tertiary 70 (the
#: French and Spanish rules for heavy goods vehicles outside towns, which Andorra's neighbours
#: apply); lower classes keep their general limit. The posted ``maxspeed`` still applies when lower.
HGV_LIMITS_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 90.0,
    "trunk": 80.0,
    "trunk_link": 80.0,
    "primary": 80.0,
    "primary_link": 80.0,
    "secondary": 70.0,
    "secondary_link": 70.0,
    "tertiary": 70.0,
    "tertiary_link": 70.0,
}
_HGV_LIMIT = np.array([HGV_LIMITS_KMH.get(c[0], HGV_SPEED_CAP_KMH) for c in ROAD_CLASSES])
_PEAK = np.array([c[2] for c in ROAD_CLASSES])
_CV = np.array([c[3] for c in ROAD_CLASSES])

#: Congestion shape by local hour (0 = free flow, 1 = full peak).
_SHAPE = np.array(
    [0, 0, 0, 0, 0, 0, 0.2, 1.0, 1.0, 0.4, 0.25, 0.25, 0.3, 0.3, 0.25, 0.3, 0.6, 1.0, 1.0, 0.4, 0.1, 0, 0, 0]
)

WeatherCondition = Literal["clear", "rain", "heavy_rain", "snow", "fog"]
#: condition -> (speed multiplier, rolling-resistance multiplier, travel-time cv multiplier)
WEATHER: dict[str, tuple[float, float, float]] = {
    "clear": (1.00, 1.00, 1.0),
    "rain": (0.90, 1.15, 1.3),
    "heavy_rain": (0.80, 1.30, 1.6),
    "snow": (0.65, 1.60, 2.0),
    "fog": (0.85, 1.00, 1.4),
}

#: EUR per km on toll arcs by toll class 1..3 (van, rigid HGV, articulated HGV), for toll roads
#: without a fixed fee in ``TOLL_TARIFFS``: our assumption near the French concession motorways'
#: averages for classes 2, 3 and 4, not a published tariff (docs/routing.md).
TOLL_EUR_PER_KM = (0.09, 0.19, 0.28)


class TollTariff(msgspec.Struct, frozen=True):
    """A fixed fee per passage by tariff category (``toll_category``): light vehicle, intermediate
    (vans, cars with trailers), HGV or coach with two axles, HGV or coach with more."""

    eur: tuple[float, float, float, float]
    source: str


#: Fixed-fee toll facilities by the name of their toll ways (the builder's ``toll_facilities``).
TOLL_TARIFFS: dict[str, TollTariff] = {
    "Túnel d'Envalira": TollTariff(
        eur=(7.90, 13.90, 15.90, 19.90),
        source="Govern d'Andorra, tariffs of the Envalira tunnel from 1 January 2025 (classes 1-4;"
        " as reported by elperiodic.ad and nevasport.com, December 2024)",
    ),
}


def toll_category(vehicle: Vehicle) -> int:
    """The tariff category (0..3) of ``TollTariff``: by the rules of the Envalira tunnel, light up
    to 2 m high and 3.5 t, intermediate up to 3 m and 3.5 t, then heavy with two axles (our toll
    classes 1-2) or more (toll class 3, articulated)."""
    max_t = (vehicle.empty_mass_kg + vehicle.max_payload_kg) / 1000.0
    if max_t <= 3.5 and vehicle.height_m <= 2.0:
        return 0
    if max_t <= 3.5 and vehicle.height_m <= 3.0:
        return 1
    return 2 if vehicle.toll_class <= 2 else 3


def fixed_toll_eur(arcs: dict[str, npt.NDArray], facilities: list[dict[str, Any]]) -> npt.NDArray[np.float64]:
    """Per arc and tariff category, the fixed fee charged on it (the charged arcs of facilities in
    ``TOLL_TARIFFS``); NaN rows mark the arcs of a tariffed facility that carry no fee (not per-km
    either), zero rows the rest."""
    fac = arcs["toll_facility"].astype(np.int64)
    out = np.zeros((fac.size, 4))
    for f in facilities:
        tariff = TOLL_TARIFFS.get(str(f.get("name", "")))
        if tariff is None:
            continue
        mine = fac == int(f["index"])
        out[mine] = np.nan
        out[mine & arcs["toll_fee_arc"].astype(bool)] = tariff.eur
    return out


#: Saturdays, Sundays: no commuter peaks; a late-morning and a late-afternoon shopping and
#: leisure hump at about half the weekday peak.
_SHAPE_WEEKEND = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0.05, 0.15, 0.3, 0.45, 0.45, 0.35, 0.3, 0.3, 0.4, 0.5, 0.45, 0.3, 0.1, 0, 0, 0]
)


def tod_shape(seconds_of_day: float, weekend: bool = False) -> float:
    """The congestion shape at a local time of day (weekday or weekend profile), linearly
    interpolated between hours."""
    shape = _SHAPE_WEEKEND if weekend else _SHAPE
    h = (seconds_of_day / 3600.0) % 24.0
    i = int(h)
    f = h - i
    return float(shape[i] * (1 - f) + shape[(i + 1) % 24] * f)


class Incident(msgspec.Struct, frozen=True):
    """A simulated incident: arcs of one OSM way slowed by ``speed_factor`` (0.1 = 10 % of normal)."""

    incident_id: int
    kind: str
    way_id: int
    lon: float
    lat: float
    road_class: str
    speed_factor: float
    arcs_affected: int


class CostParams(msgspec.Struct, kw_only=True, frozen=True):
    """Everything besides the vehicle that changes arc costs (one scenario)."""

    local_seconds_of_day: float | None = None
    #: the local day is a Saturday or Sunday (the weekend congestion profile)
    weekend: bool = False
    weather: WeatherCondition = "clear"
    headwind_ms: float = 0.0
    risk_aversion: float = 0.0
    diesel_eur_per_l: float = 1.65
    electricity_eur_per_kwh: float = 0.30
    driver_eur_per_h: float = 32.0
    include_tolls: bool = True
    avoid_tolls: bool = False
    include_driver_cost: bool = True
    carbon_eur_per_t: float = 0.0
    grid_intensity_g_per_kwh: float = 250.0
    avoid_restricted: bool = True


@dataclass(frozen=True, slots=True)
class ArcCosts:
    """Per-arc quantities for one (vehicle, scenario); ``allowed`` masks arcs the vehicle may use."""

    allowed: npt.NDArray[np.bool_]
    time_s: npt.NDArray[np.float64]
    sigma_s: npt.NDArray[np.float64]
    duration_obj: npt.NDArray[np.float64]
    distance_m: npt.NDArray[np.float64]
    energy_kwh: npt.NDArray[np.float64]
    fuel_l: npt.NDArray[np.float64]
    co2e_kg: npt.NDArray[np.float64]
    energy_cost_eur: npt.NDArray[np.float64]
    driver_cost_eur: npt.NDArray[np.float64]
    toll_eur: npt.NDArray[np.float64]
    carbon_cost_eur: npt.NDArray[np.float64]
    money_eur: npt.NDArray[np.float64]
    #: what the search minimises: equal to money/co2e except for an electric vehicle's recovering
    #: arcs, floored at zero there (the reported totals use the unfloored arrays)
    search_money_eur: npt.NDArray[np.float64]
    search_co2e_kg: npt.NDArray[np.float64]
    #: uncongested steady speed (m/s) the vehicle approaches the arc's head node at (turn model)
    steady_ms: npt.NDArray[np.float64] | None = None

    def objective(self, name: str) -> npt.NDArray[np.float64]:
        return {
            "duration": self.duration_obj,
            "money": self.search_money_eur,
            "co2e": self.search_co2e_kg,
            "distance": self.distance_m,
        }[name]


def climb_speed_ms(
    power_w: float | npt.NDArray[np.float64],
    mass_kg: float,
    grade: npt.NDArray[np.float64],
    rolling: float,
    cda_m2: float,
) -> npt.NDArray[np.float64]:
    """The steady speed at which the tractive power equals the road load:
    ``P = (m g (C_rr + grade) + 0.5 rho CdA v^2) v``, solved by Newton's method from above (the
    cubic is convex and increasing past its root, so the iteration converges monotonically)."""
    a = 0.5 * RHO_AIR * cda_m2
    b = mass_kg * G * (rolling + np.maximum(np.asarray(grade, dtype=np.float64), 0.0))
    p = np.broadcast_to(np.asarray(power_w, dtype=np.float64), b.shape)
    v = np.maximum(np.cbrt(2.0 * p / a), p / np.maximum(b, 1e-9)) + 1.0
    for _ in range(60):
        f = a * v**3 + b * v - p
        v = v - f / (3.0 * a * v**2 + b)
    return v


def descent_speed_ms(
    brake_w: float, mass_kg: float, grade: npt.NDArray[np.float64], rolling: float
) -> npt.NDArray[np.float64]:
    """The steady speed at which the continuous brakes absorb the descent: ``P_b = m g (s - C_rr) v``
    for a downhill slope ``s = -grade`` (air drag, which helps, is left out: conservative)."""
    pull = mass_kg * G * (-np.asarray(grade, dtype=np.float64) - rolling)
    with np.errstate(divide="ignore"):
        return np.where(pull > 0, brake_w / np.maximum(pull, 1e-9), np.inf)


def stop_and_go_factor(speed_kmh: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Relative energy per km at an average speed, the falling branch of the U-shaped
    average-speed curves (COPERT/HBEFA): ``1 + K (V_REF / v - 1)`` below ``V_REF``, 1 above (the
    rising, aerodynamic branch is the physical model's own)."""
    v = np.maximum(speed_kmh, 1.0)
    return 1.0 + STOP_GO_K * np.maximum(STOP_GO_VREF_KMH / v - 1.0, 0.0)


#: Junction model constants (docs/routing.md, "Junction delays"). Fixed-time signals: Webster's
#: uniform delay with a 90 s cycle and a 45 % green share for the road (pedestrian signals: 60 s,
#: 70 %); the degree of saturation rises from 0.3 off-peak to 0.9 at the peak with the time-of-day
#: shape. Speed changes at constant rates: deceleration 1.5 m/s^2 (vans), 1.0 (HGVs);
#: acceleration at most 1.5 m/s^2 (vans), 0.8 (HGVs), and at most what 90 % of the rated power gives.
SIGNAL_CYCLE_S = 90.0
SIGNAL_GREEN = 0.45
PED_SIGNAL_CYCLE_S = 60.0
PED_SIGNAL_GREEN = 0.70
SATURATION_OFF_PEAK = 0.3
SATURATION_PEAK = 0.9
DECEL_MS2 = (1.5, 1.0)  # van, HGV
ACCEL_MAX_MS2 = (1.5, 0.8)
#: (stop probability off-peak, at peak, standstill s when stopped, crawl km/h when not stopped)
#: per unsignalised control: stop sign, give-way sign or an implied yield, uncontrolled pedestrian
#: crossing, mini-roundabout, toll booth (standstill = the payment).
_UNSIGNALISED: dict[int, tuple[float, float, float, float]] = {
    3: (1.0, 1.0, 3.0, 0.0),
    4: (0.3, 0.7, 2.0, 20.0),
    8: (0.3, 0.7, 2.0, 20.0),
    5: (0.1, 0.3, 3.0, -1.0),
    6: (0.2, 0.6, 2.0, 25.0),
    7: (1.0, 1.0, 15.0, 0.0),
}


def speed_change_loss_s(
    v_ms: npt.NDArray[np.float64], u_ms: npt.NDArray[np.float64], a_dec: float, a_acc: Any
) -> Any:
    """Seconds lost slowing from ``v`` to ``u`` and back at constant rates, against cruising at
    ``v`` over the same distance: ``(v - u)^2 / (2 v) (1 / a_dec + 1 / a_acc)``."""
    v = np.maximum(v_ms, 0.1)
    du = np.maximum(v - u_ms, 0.0)
    return du**2 / (2.0 * v) * (1.0 / a_dec + 1.0 / a_acc)


def junction_delay(
    control: npt.NDArray[np.integer],
    v_ms: npt.NDArray[np.float64],
    vehicle: Vehicle,
    mass_kg: float,
    shape: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Expected delay (s) of an arc at the control of its head node, and the expected kinetic
    energy per kilogram given up there (``E[v^2 - u^2] / 2``, J/kg) that accelerating back costs."""
    hgv = 1 if vehicle.is_hgv else 0
    a_dec = DECEL_MS2[hgv]
    v = np.maximum(np.asarray(v_ms, dtype=np.float64), 0.1)
    power = POWER_AVAILABLE * vehicle.power_kw * 1000.0
    a_acc = np.minimum(ACCEL_MAX_MS2[hgv], power / (mass_kg * np.maximum(v / 2.0, 3.0)))
    ctrl = np.asarray(control, dtype=np.int64)
    delay = np.zeros(v.size)
    ke = np.zeros(v.size)
    x = SATURATION_OFF_PEAK + (SATURATION_PEAK - SATURATION_OFF_PEAK) * shape
    full_stop = speed_change_loss_s(v, np.zeros_like(v), a_dec, a_acc)
    for code, cycle, green in ((1, SIGNAL_CYCLE_S, SIGNAL_GREEN), (2, PED_SIGNAL_CYCLE_S, PED_SIGNAL_GREEN)):
        m = ctrl == code
        if m.any():
            # Webster's uniform delay; the share of arrivals that meet a red or its queue stops.
            wait = cycle * (1.0 - green) ** 2 / (2.0 * (1.0 - green * x))
            p_stop = (1.0 - green) / (1.0 - green * x)
            delay[m] = wait + p_stop * full_stop[m]
            ke[m] = p_stop * v[m] ** 2 / 2.0
    for code, (p0, p1, standstill, crawl_kmh) in _UNSIGNALISED.items():
        m = ctrl == code
        if not m.any():
            continue
        p = p0 + (p1 - p0) * shape
        vm = v[m]
        stop = p * (full_stop[m] + standstill)
        if crawl_kmh >= 0:
            u = np.minimum(vm, crawl_kmh / 3.6)
            delay[m] = stop + (1.0 - p) * speed_change_loss_s(vm, u, a_dec, a_acc[m])
            ke[m] = p * vm**2 / 2.0 + (1.0 - p) * (vm**2 - u**2) / 2.0
        else:  # an uncontrolled crossing: only the stops for pedestrians
            delay[m] = stop
            ke[m] = p * vm**2 / 2.0
    return delay, ke


def arc_costs(
    arcs: dict[str, npt.NDArray],
    vehicle: Vehicle,
    params: CostParams,
    slowdown: npt.NDArray[np.float64] | None = None,
) -> ArcCosts:
    """Prices every arc. ``arcs`` holds the asset arrays (length_m, road_class, speed_kmh, ascent_m,
    descent_m, toll, maxweight_t, maxheight_m, hgv_no; optional speed_hgv_kmh = ``maxspeed:hgv``,
    NaN where untagged); ``slowdown`` multiplies speeds (incidents)."""
    length = arcs["length_m"].astype(np.float64)
    cls = arcs["road_class"].astype(np.int64)
    speed_kmh = arcs["speed_kmh"].astype(np.float64).copy()
    m = vehicle.gross_mass_kg
    cda = vehicle.drag_coefficient * vehicle.frontal_area_m2
    w_speed, w_roll, w_cv = WEATHER[params.weather]
    grade = np.clip((arcs["ascent_m"] - arcs["descent_m"]) / np.maximum(length, 0.01), -MAX_GRADE, MAX_GRADE)
    np.minimum(speed_kmh, vehicle.max_speed_kmh, out=speed_kmh)
    if vehicle.is_hgv:
        hgv_tag = arcs.get("speed_hgv_kmh")
        limit = _HGV_LIMIT[cls]
        if hgv_tag is not None:
            limit = np.where(np.isfinite(hgv_tag) & (hgv_tag > 0), hgv_tag, limit)
        np.minimum(speed_kmh, limit, out=speed_kmh)
    cond_kmh, cond_t = arcs.get("speed_cond_kmh"), arcs.get("speed_cond_min_t")
    if cond_kmh is not None and cond_t is not None:
        # ``V @ (weight>X)``: the limit binds vehicles heavier than X tonnes (gross).
        with np.errstate(invalid="ignore"):
            binds = np.isfinite(cond_kmh) & (vehicle.gross_mass_t > cond_t)
        speed_kmh = np.where(binds, np.minimum(speed_kmh, cond_kmh), speed_kmh)
    # Steady (uncongested) speed: limits, weather, then what the power train allows on the grade.
    steady_kmh = speed_kmh * w_speed
    climb = climb_speed_ms(
        POWER_AVAILABLE * vehicle.power_kw * 1000.0, m, grade, vehicle.rolling_resistance * w_roll, cda
    )
    np.minimum(steady_kmh, climb * 3.6, out=steady_kmh)
    if vehicle.is_hgv:
        desc = descent_speed_ms(vehicle.braking_kw * 1000.0, m, grade, vehicle.rolling_resistance * w_roll)
        np.minimum(steady_kmh, desc * 3.6, out=steady_kmh)
    np.maximum(steady_kmh, MIN_SPEED_KMH, out=steady_kmh)
    tod = params.local_seconds_of_day
    shape = 0.0 if tod is None else tod_shape(tod, params.weekend)
    flow_kmh = steady_kmh * (1.0 - (1.0 - _PEAK[cls]) * shape)
    if slowdown is not None:
        flow_kmh = flow_kmh * slowdown
    speed_ms = np.maximum(flow_kmh / 3.6, 0.5)
    time_s = length / speed_ms
    control = arcs.get("head_control")
    stop_ke_j = np.zeros_like(length)
    if control is not None:
        # The control at the head node delays the arc entering it (expected value: no turn
        # expansion, so the same for every turn) and costs the kinetic energy given up there.
        # Vehicles approach at the steady speed (congestion raises the stop share and the wait,
        # the stop-and-go factor prices the slow flow), so neither delay nor energy falls at peak.
        delay_s, ke_per_kg = junction_delay(control, steady_kmh / 3.6, vehicle, m, shape)
        time_s = time_s + delay_s
        stop_ke_j = m * ke_per_kg
    sigma_s = _CV[cls] * (1.0 + 1.5 * shape) * w_cv * time_s
    duration_obj = time_s + params.risk_aversion * sigma_s

    # Road load at the steady speed; congestion (time of day, incidents) adds the stop-and-go
    # overhead of the average-speed curves instead of lowering the drag, so it never lowers energy.
    steady_ms = steady_kmh / 3.6
    v_air = np.maximum(steady_ms + params.headwind_ms, 0.0)
    resist_j = (m * G * vehicle.rolling_resistance * w_roll + 0.5 * RHO_AIR * cda * v_air**2) * length
    demand_j = resist_j + m * G * (arcs["ascent_m"] - arcs["descent_m"])
    stop_go = stop_and_go_factor(speed_ms * 3.6) / stop_and_go_factor(steady_kmh)
    demand_j = np.where(demand_j > 0, demand_j * stop_go, demand_j)
    eta = vehicle.drivetrain_efficiency
    # Accelerating back after a junction costs the kinetic energy lost there; an electric vehicle
    # gets ``regen_efficiency`` of it back on the braking (net per joule: 1 / eta - regen).
    demand_j = demand_j + stop_ke_j * (1.0 - vehicle.regen_efficiency * eta)
    aux_j = vehicle.auxiliary_power_kw * 1000.0 * time_s
    if vehicle.energy_carrier == "diesel":
        source_j = np.maximum(demand_j, 0.0) / eta + aux_j
        search_j = source_j
    else:
        source_j = np.where(demand_j >= 0, demand_j / eta, demand_j * vehicle.regen_efficiency) + aux_j
        # The search needs non-negative arc costs; the reported totals keep the recovered energy.
        search_j = np.maximum(source_j, 0.0)
    energy_kwh = source_j / 3.6e6
    fuel_l, co2e, energy_cost = _carrier(vehicle, params, energy_kwh)
    s_fuel, s_co2e, s_energy_cost = _carrier(vehicle, params, search_j / 3.6e6)
    del s_fuel
    driver = (
        time_s / 3600.0 * params.driver_eur_per_h if params.include_driver_cost else np.zeros_like(time_s)
    )
    toll_code = arcs["toll"]
    toll_arc = (toll_code == 1) | ((toll_code == 2) & vehicle.is_hgv)
    if params.include_tolls:
        toll = np.where(toll_arc, length / 1000.0 * TOLL_EUR_PER_KM[vehicle.toll_class - 1], 0.0)
        fixed = arcs.get("toll_fixed_eur")
        if fixed is not None:  # fixed-fee facilities: the fee once per passage, no per-km charge
            fee = fixed[:, toll_category(vehicle)]
            toll = np.where(np.isnan(fee), 0.0, np.where(fee > 0, fee, toll))
    else:
        toll = np.zeros_like(length)
    carbon = co2e / 1000.0 * params.carbon_eur_per_t
    money = energy_cost + driver + toll + carbon
    search_money = s_energy_cost + driver + toll + s_co2e / 1000.0 * params.carbon_eur_per_t

    allowed = np.ones(length.size, dtype=bool)
    if params.avoid_restricted:
        with np.errstate(invalid="ignore"):
            allowed &= ~(arcs["maxweight_t"] < vehicle.gross_mass_t)
            allowed &= ~(arcs["maxheight_m"] < vehicle.height_m)
        if vehicle.is_hgv:
            allowed &= ~arcs["hgv_no"].astype(bool)
    if params.avoid_tolls:
        allowed &= ~toll_arc
    return ArcCosts(
        allowed=allowed,
        time_s=time_s,
        sigma_s=sigma_s,
        duration_obj=duration_obj,
        distance_m=length,
        energy_kwh=energy_kwh,
        fuel_l=fuel_l,
        co2e_kg=co2e,
        energy_cost_eur=energy_cost,
        driver_cost_eur=driver,
        toll_eur=toll,
        carbon_cost_eur=carbon,
        money_eur=money,
        search_money_eur=search_money,
        search_co2e_kg=s_co2e,
        steady_ms=steady_kmh / 3.6,
    )


def _carrier(
    vehicle: Vehicle, params: CostParams, energy_kwh: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fuel litres, CO2e kg and energy cost EUR of an energy drawn from the tank or battery."""
    if vehicle.energy_carrier == "diesel":
        fuel_l = energy_kwh / DIESEL_KWH_PER_L
        return fuel_l, fuel_l * DIESEL_WTW_KG_PER_L, fuel_l * params.diesel_eur_per_l
    grid_kwh = energy_kwh / CHARGING_EFFICIENCY
    return (
        np.zeros_like(energy_kwh),
        grid_kwh * params.grid_intensity_g_per_kwh / 1000.0,
        grid_kwh * params.electricity_eur_per_kwh,
    )
