"""Speed, energy, emissions and cost per arc: the physical model behind every objective.

Everything is vectorised over the arcs of a network (numpy), so one call prices the whole graph
for one vehicle and one scenario (about a millisecond for Andorra).

Speed model
    free-flow speed = the arc's ``maxspeed`` (or the road-class default of the asset builder),
    capped at the vehicle's maximum speed (and at 90 km/h for HGVs on any road); the time-of-day
    factor ``1 - (1 - peak[class]) * shape[local hour]`` slows urban and arterial roads in the
    morning and evening peaks; the weather multiplies the speed again.
Energy model (per arc, all SI)
    resistive work ``W_r = (m g C_rr w_rr + 0.5 rho C_d A v_air^2) * L`` with ``v_air`` = road speed
    plus headwind; climbing work ``m g ascent``; potential energy released on the descent
    ``m g descent``. Demand ``D = W_r + m g ascent - m g descent``. Diesel: tank energy
    ``max(D, 0) / eta`` (surplus descent energy is lost in the brakes). Electric: ``D / eta`` when
    ``D >= 0``, else ``D * eta_regen`` (recovered; negative), floored at zero per arc so that arc
    costs stay non-negative, as Pareto search requires. The auxiliary load ``P_aux * t`` is added.
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
from typing import Literal

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

#: EUR per km on toll arcs by toll class 1..3 (van, rigid HGV, articulated HGV).
TOLL_EUR_PER_KM = (0.09, 0.19, 0.28)


def tod_shape(seconds_of_day: float) -> float:
    """The congestion shape at a local time of day, linearly interpolated between hours."""
    h = (seconds_of_day / 3600.0) % 24.0
    i = int(h)
    f = h - i
    return float(_SHAPE[i] * (1 - f) + _SHAPE[(i + 1) % 24] * f)


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

    def objective(self, name: str) -> npt.NDArray[np.float64]:
        return {
            "duration": self.duration_obj,
            "money": self.money_eur,
            "co2e": self.co2e_kg,
            "distance": self.distance_m,
        }[name]


def arc_costs(
    arcs: dict[str, npt.NDArray],
    vehicle: Vehicle,
    params: CostParams,
    slowdown: npt.NDArray[np.float64] | None = None,
) -> ArcCosts:
    """Prices every arc. ``arcs`` holds the asset arrays (length_m, road_class, speed_kmh, ascent_m,
    descent_m, toll, maxweight_t, maxheight_m, hgv_no); ``slowdown`` multiplies speeds (incidents)."""
    length = arcs["length_m"].astype(np.float64)
    cls = arcs["road_class"].astype(np.int64)
    speed_kmh = arcs["speed_kmh"].astype(np.float64).copy()
    cap = min(vehicle.max_speed_kmh, HGV_SPEED_CAP_KMH if vehicle.is_hgv else 1e9)
    np.minimum(speed_kmh, cap, out=speed_kmh)
    shape = 0.0 if params.local_seconds_of_day is None else tod_shape(params.local_seconds_of_day)
    speed_kmh *= 1.0 - (1.0 - _PEAK[cls]) * shape
    w_speed, w_roll, w_cv = WEATHER[params.weather]
    speed_kmh *= w_speed
    if slowdown is not None:
        speed_kmh *= slowdown
    speed_ms = np.maximum(speed_kmh / 3.6, 0.5)
    time_s = length / speed_ms
    sigma_s = _CV[cls] * (1.0 + 1.5 * shape) * w_cv * time_s
    duration_obj = time_s + params.risk_aversion * sigma_s

    m = vehicle.gross_mass_kg
    v_air = np.maximum(speed_ms + params.headwind_ms, 0.0)
    resist_j = (
        m * G * vehicle.rolling_resistance * w_roll
        + 0.5 * RHO_AIR * vehicle.drag_coefficient * vehicle.frontal_area_m2 * v_air**2
    ) * length
    demand_j = resist_j + m * G * (arcs["ascent_m"] - arcs["descent_m"])
    eta = vehicle.drivetrain_efficiency
    if vehicle.energy_carrier == "diesel":
        source_j = np.maximum(demand_j, 0.0) / eta
    else:
        source_j = np.where(demand_j >= 0, demand_j / eta, demand_j * vehicle.regen_efficiency)
        np.maximum(source_j, 0.0, out=source_j)
    source_j += vehicle.auxiliary_power_kw * 1000.0 * time_s
    energy_kwh = source_j / 3.6e6
    if vehicle.energy_carrier == "diesel":
        fuel_l = energy_kwh / DIESEL_KWH_PER_L
        co2e = fuel_l * DIESEL_WTW_KG_PER_L
        energy_cost = fuel_l * params.diesel_eur_per_l
    else:
        fuel_l = np.zeros_like(energy_kwh)
        grid_kwh = energy_kwh / CHARGING_EFFICIENCY
        co2e = grid_kwh * params.grid_intensity_g_per_kwh / 1000.0
        energy_cost = grid_kwh * params.electricity_eur_per_kwh
    driver = (
        time_s / 3600.0 * params.driver_eur_per_h if params.include_driver_cost else np.zeros_like(time_s)
    )
    toll_code = arcs["toll"]
    toll_arc = (toll_code == 1) | ((toll_code == 2) & vehicle.is_hgv)
    if params.include_tolls:
        toll = np.where(toll_arc, length / 1000.0 * TOLL_EUR_PER_KM[vehicle.toll_class - 1], 0.0)
    else:
        toll = np.zeros_like(length)
    carbon = co2e / 1000.0 * params.carbon_eur_per_t
    money = energy_cost + driver + toll + carbon

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
    )
