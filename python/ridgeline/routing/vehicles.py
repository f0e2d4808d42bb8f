"""Vehicles: the physical parameters the energy model and the access restrictions need.

Built-in vehicles cover the usual freight fleet (a diesel van, an 18 t rigid HGV, a 44 t
articulated HGV, an electric van and an electric HGV). Custom vehicles use the same structure and
are validated with :func:`validate_vehicle`. No server code here: the HTTP layer persists custom
vehicles.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from ridgeline.platform.problems import EngineError

EnergyCarrier = Literal["diesel", "electric"]

__all__ = ["BUILTIN_VEHICLES", "EnergyCarrier", "Vehicle", "VehicleError", "validate_vehicle"]


class VehicleError(EngineError, ValueError):
    """A vehicle definition is physically implausible: 422 ``invalid_request`` naming the field."""

    def __init__(self, problem: str) -> None:
        super().__init__(422, "invalid_request", f"Invalid vehicle: {problem}", field=problem.split(" ")[0])


class Vehicle(msgspec.Struct, kw_only=True, frozen=True):
    """A vehicle as the energy and restriction models see it.

    Masses are in kilograms, lengths in metres, speeds in km/h; ``payload_kg`` is the load carried
    on this trip (gross mass = ``empty_mass_kg + payload_kg``). ``drivetrain_efficiency`` is
    tank-to-wheel for diesel and battery-to-wheel for electric vehicles. ``regen_efficiency`` is the
    share of braking energy recovered into the battery (0 for diesel). ``auxiliary_power_kw`` is the
    constant load of cab, refrigeration and electronics. ``toll_class`` selects the toll tariff
    (1 = van, 2 = rigid HGV, 3 = articulated HGV).
    """

    vehicle_id: str
    name: str
    energy_carrier: EnergyCarrier
    empty_mass_kg: float
    payload_kg: float
    max_payload_kg: float
    frontal_area_m2: float
    drag_coefficient: float
    rolling_resistance: float
    drivetrain_efficiency: float
    regen_efficiency: float = 0.0
    auxiliary_power_kw: float = 1.0
    max_speed_kmh: float
    height_m: float
    width_m: float = 2.5
    length_m: float = 6.0
    toll_class: int = 1
    is_hgv: bool = False
    builtin: bool = False
    #: Rated traction power (engine or motor). ``None``: 30 kW/t of the maximum gross mass for vans,
    #: 9 kW/t for HGVs (a 44 t tractor has 350-480 kW).
    max_power_kw: float | None = None
    #: Continuous braking power on long descents (engine brake + retarder, or regeneration for
    #: an electric HGV). ``None``: equal to the traction power. Only HGVs are limited by it.
    brake_power_kw: float | None = None

    @property
    def gross_mass_kg(self) -> float:
        return self.empty_mass_kg + self.payload_kg

    @property
    def gross_mass_t(self) -> float:
        return self.gross_mass_kg / 1000.0

    @property
    def power_kw(self) -> float:
        if self.max_power_kw is not None:
            return self.max_power_kw
        per_t = 9.0 if self.is_hgv else 30.0
        return per_t * (self.empty_mass_kg + self.max_payload_kg) / 1000.0

    @property
    def braking_kw(self) -> float:
        return self.brake_power_kw if self.brake_power_kw is not None else self.power_kw


_BUILTINS = [
    Vehicle(
        vehicle_id="van_diesel",
        name="Diesel van 3.5 t",
        energy_carrier="diesel",
        empty_mass_kg=2100.0,
        payload_kg=800.0,
        max_payload_kg=1400.0,
        frontal_area_m2=4.5,
        drag_coefficient=0.38,
        rolling_resistance=0.009,
        drivetrain_efficiency=0.30,
        auxiliary_power_kw=0.8,
        max_speed_kmh=130.0,
        height_m=2.6,
        width_m=2.05,
        length_m=5.9,
        toll_class=1,
        is_hgv=False,
        builtin=True,
        max_power_kw=110.0,
    ),
    Vehicle(
        vehicle_id="hgv_rigid_18t",
        name="Rigid HGV 18 t (diesel)",
        energy_carrier="diesel",
        empty_mass_kg=7500.0,
        payload_kg=6000.0,
        max_payload_kg=10500.0,
        frontal_area_m2=7.8,
        drag_coefficient=0.60,
        rolling_resistance=0.0065,
        drivetrain_efficiency=0.36,
        auxiliary_power_kw=2.0,
        max_speed_kmh=90.0,
        height_m=3.8,
        width_m=2.55,
        length_m=10.0,
        toll_class=2,
        is_hgv=True,
        builtin=True,
        max_power_kw=235.0,
    ),
    Vehicle(
        vehicle_id="hgv_artic_44t",
        name="Articulated HGV 44 t (diesel)",
        energy_carrier="diesel",
        empty_mass_kg=15000.0,
        payload_kg=20000.0,
        max_payload_kg=29000.0,
        frontal_area_m2=9.5,
        drag_coefficient=0.58,
        rolling_resistance=0.0055,
        drivetrain_efficiency=0.40,
        auxiliary_power_kw=3.0,
        max_speed_kmh=90.0,
        height_m=4.0,
        width_m=2.55,
        length_m=16.5,
        toll_class=3,
        is_hgv=True,
        builtin=True,
        max_power_kw=390.0,
        brake_power_kw=450.0,
    ),
    Vehicle(
        vehicle_id="van_electric",
        name="Electric van 3.5 t",
        energy_carrier="electric",
        empty_mass_kg=2400.0,
        payload_kg=700.0,
        max_payload_kg=1100.0,
        frontal_area_m2=4.4,
        drag_coefficient=0.36,
        rolling_resistance=0.008,
        drivetrain_efficiency=0.85,
        regen_efficiency=0.60,
        auxiliary_power_kw=1.0,
        max_speed_kmh=120.0,
        height_m=2.6,
        width_m=2.05,
        length_m=5.9,
        toll_class=1,
        is_hgv=False,
        builtin=True,
        max_power_kw=150.0,
    ),
    Vehicle(
        vehicle_id="hgv_electric_40t",
        name="Electric articulated HGV 40 t",
        energy_carrier="electric",
        empty_mass_kg=18000.0,
        payload_kg=16000.0,
        max_payload_kg=22000.0,
        frontal_area_m2=9.5,
        drag_coefficient=0.55,
        rolling_resistance=0.0055,
        drivetrain_efficiency=0.85,
        regen_efficiency=0.65,
        auxiliary_power_kw=3.0,
        max_speed_kmh=90.0,
        height_m=4.0,
        width_m=2.55,
        length_m=16.5,
        toll_class=3,
        is_hgv=True,
        builtin=True,
        max_power_kw=400.0,
        brake_power_kw=400.0,
    ),
]

BUILTIN_VEHICLES: dict[str, Vehicle] = {v.vehicle_id: v for v in _BUILTINS}


_RANGES: dict[str, tuple[float, float]] = {
    "empty_mass_kg": (300.0, 60000.0),
    "payload_kg": (0.0, 40000.0),
    "max_payload_kg": (0.0, 40000.0),
    "frontal_area_m2": (0.5, 15.0),
    "drag_coefficient": (0.1, 1.5),
    "rolling_resistance": (0.001, 0.05),
    "drivetrain_efficiency": (0.05, 1.0),
    "regen_efficiency": (0.0, 0.95),
    "auxiliary_power_kw": (0.0, 50.0),
    "max_speed_kmh": (10.0, 160.0),
    "height_m": (1.0, 5.0),
    "width_m": (1.0, 3.0),
    "length_m": (2.0, 25.0),
    "toll_class": (1, 3),
}


def validate_vehicle(v: Vehicle) -> Vehicle:
    """Checks ranges and consistency; raises :class:`VehicleError` naming the first bad field."""
    for name, (lo, hi) in _RANGES.items():
        value = getattr(v, name)
        if not (lo <= value <= hi):  # also false for NaN
            raise VehicleError(f"{name} must be within [{lo:g}, {hi:g}], got {value!r}")
    for name in ("max_power_kw", "brake_power_kw"):
        value = getattr(v, name)
        if value is not None and not (5.0 <= value <= 1500.0):
            raise VehicleError(f"{name} must be within [5, 1500], got {value!r}")
    if v.payload_kg > v.max_payload_kg:
        raise VehicleError(f"payload_kg ({v.payload_kg:g}) exceeds max_payload_kg ({v.max_payload_kg:g})")
    if v.energy_carrier == "diesel" and v.regen_efficiency != 0.0:
        raise VehicleError("regen_efficiency must be 0 for a diesel vehicle (no regenerative braking)")
    if not v.vehicle_id or len(v.vehicle_id) > 64:
        raise VehicleError("vehicle_id must be 1..64 characters")
    return v
