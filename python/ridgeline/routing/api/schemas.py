"""Request and response bodies of the routing family (msgspec Structs; documented for OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ridgeline.routing.grid import GridRegion

Objective = Literal["duration", "money", "co2e", "distance"]
Weather = Literal["clear", "rain", "heavy_rain", "snow", "fog"]

Lat = Annotated[float, Meta(ge=-90, le=90, description="Latitude, WGS84 degrees.", examples=[42.5078])]
Lon = Annotated[float, Meta(ge=-180, le=180, description="Longitude, WGS84 degrees.", examples=[1.5211])]
NonNeg = Annotated[float, Meta(ge=0)]


class Point(msgspec.Struct, forbid_unknown_fields=True):
    """A location; it is snapped to the nearest road node (reason code ``*_out_of_coverage`` when too far)."""

    lat: Lat
    lon: Lon


class Weights(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Relative importance of each objective for ``/route``. Each objective is normalised by its
    network-average value per metre, so the weights are unitless."""

    duration: Annotated[float, Meta(ge=0, le=1000, examples=[1.0])] = 1.0
    money: Annotated[float, Meta(ge=0, le=1000, examples=[0.5])] = 0.0
    co2e: Annotated[float, Meta(ge=0, le=1000, examples=[0.2])] = 0.0
    distance: Annotated[float, Meta(ge=0, le=1000, examples=[0.0])] = 0.0


class CostToggles(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which cost terms count, and the prices used."""

    use_tolls: Annotated[bool, Meta(description="Charge tolls on toll roads.")] = True
    avoid_tolls: Annotated[bool, Meta(description="Never use toll roads.")] = False
    include_driver_cost: Annotated[bool, Meta(description="Add driver cost per hour to money.")] = True
    driver_cost_eur_per_hour: Annotated[float, Meta(ge=0, le=500)] = 32.0
    diesel_price_eur_per_l: Annotated[float, Meta(ge=0, le=20)] = 1.65
    electricity_price_eur_per_kwh: Annotated[float, Meta(ge=0, le=5)] = 0.30
    carbon_price_eur_per_t: Annotated[
        float, Meta(ge=0, le=5000, description="Carbon price added to money (0 = off).")
    ] = 0.0


class WeatherOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Weather scenario: speed, rolling-resistance and uncertainty multipliers (docs/routing.md)."""

    condition: Weather = "clear"
    headwind_ms: Annotated[float, Meta(ge=-30, le=30, description="Headwind added to air speed (m/s).")] = 0.0


class IncidentSimulation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Seeded incidents on roads near the trip; the response lists them."""

    enabled: bool = True
    seed: Annotated[int, Meta(ge=0, le=2**31)] = 0
    count: Annotated[int, Meta(ge=0, le=50)] = 3
    speed_factor: Annotated[
        float, Meta(gt=0, le=1, description="Speed on affected roads relative to normal.")
    ] = 0.3


class EmissionsContext(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Electricity grid carbon intensity used for electric vehicles (well-to-wheel): an explicit
    ``grid_intensity_g_per_kwh``, or the 2023 figure of ``region`` (ISO 3166-1 alpha-2 or ``WORLD``;
    see ``ridgeline.routing.grid``), else 250 g/kWh. Both have no effect on diesel vehicles (a warning
    says so)."""

    grid_intensity_g_per_kwh: (
        Annotated[
            float, Meta(ge=0, le=2000, examples=[250.0], description="Default: the region's, else 250.")
        ]
        | None
    ) = None
    region: GridRegion | None = None


class Options(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Options shared by every route-producing endpoint."""

    vehicle_id: Annotated[str, Meta(min_length=1, max_length=64, examples=["hgv_rigid_18t"])] = "van_diesel"
    payload_kg: (
        Annotated[float, Meta(ge=0, le=40000, description="Overrides the vehicle's payload.")] | None
    ) = None
    weights: Weights = msgspec.field(default_factory=Weights)
    risk_aversion: Annotated[
        float, Meta(ge=0, le=10, description="Penalty per second of travel-time stddev.")
    ] = 0.0
    departure_time_utc: Annotated[
        datetime | None, Meta(description="Departure (UTC); selects time-of-day speeds. None = free flow.")
    ] = None
    cost_toggles: CostToggles = msgspec.field(default_factory=CostToggles)
    weather: WeatherOptions = msgspec.field(default_factory=WeatherOptions)
    incident_simulation: IncidentSimulation | None = None
    emissions_context: EmissionsContext = msgspec.field(default_factory=EmissionsContext)
    min_terrain_coverage: Annotated[
        float, Meta(ge=0, le=1, description="Routes with less DEM coverage are refused.")
    ] = 0.9
    max_snap_distance_m: Annotated[float, Meta(gt=0, le=50000)] = 2000.0


class RouteRequest(Options, kw_only=True):
    """``POST /route``: the best route for the weights, through optional waypoints."""

    origin: Point
    destination: Point
    waypoints: Annotated[list[Point], Meta(max_length=20)] = msgspec.field(default_factory=list)


class ParetoOptions(Options, kw_only=True):
    """Pareto search options (shared by ``/pareto``, the streams and batches)."""

    objectives: Annotated[list[Objective], Meta(min_length=2, max_length=4)] = msgspec.field(
        default_factory=lambda: ["duration", "money", "co2e"]
    )
    pareto_method: Annotated[
        Literal["exact", "epsilon"],
        Meta(description="exact front, or an epsilon-approximate front (A*pex) with approx_epsilon."),
    ] = "exact"
    approx_epsilon: Annotated[
        float, Meta(gt=0, le=1, description="Approximation factor of pareto_method=epsilon.")
    ] = 0.05
    epsilon: Annotated[
        dict[str, float] | None,
        Meta(
            description="epsilon constraints: upper bound per objective (duration s, money EUR, co2e kg, distance m).",
            examples=[{"duration": 1800.0, "co2e": 12.0}],
        ),
    ] = None
    max_alternatives: Annotated[
        int, Meta(ge=1, le=50, description="Routes returned, chosen for diversity.")
    ] = 5


class ParetoRequest(ParetoOptions, kw_only=True):
    """``POST /pareto`` and the streams: the Pareto set between two points."""

    origin: Point
    destination: Point


class Incident(msgspec.Struct):
    incident_id: int
    kind: str
    way_id: int
    lon: float
    lat: float
    road_class: str
    speed_factor: float
    arcs_affected: int


class RouteDetail(msgspec.Struct, kw_only=True):
    """One route: totals per objective and cost term, geometry, elevation profile, legs."""

    route_id: Annotated[int, Meta(description="Position in this response (canonical order of the front).")]
    route_key: Annotated[str, Meta(description="Stable id of the path (hash of its arc sequence).")]
    label: str | None = None
    objectives: dict[str, float]
    totals: dict[str, float]
    geometry: dict[str, Any]
    elevation_profile: Annotated[
        list[list[float | None]], Meta(description="[distance_m, elevation_m] pairs.")
    ]
    legs: list[dict[str, Any]]
    road_class_km: dict[str, float]
    node_count: int


class RouteResponse(msgspec.Struct, kw_only=True):
    run_id: str
    asset: dict[str, Any]
    vehicle_id: str
    departure_time_utc: datetime | None
    route: RouteDetail
    incidents: list[Incident]
    warnings: list[str]
    compute_ms: float


class ParetoResponse(msgspec.Struct, kw_only=True):
    run_id: str
    asset: dict[str, Any]
    vehicle_id: str
    objectives: list[str]
    pareto_method: str
    epsilon_guarantee: float
    front_size: int
    truncated: bool
    routes: list[RouteDetail]
    incidents: list[Incident]
    warnings: list[str]
    search: dict[str, Any]
    compute_ms: float


class DepartureRequest(Options, kw_only=True):
    """``POST /departure/optimize``: scan departures in a window (at most 97 steps)."""

    origin: Point
    destination: Point
    window_start_utc: datetime
    window_end_utc: datetime
    step_minutes: Annotated[int, Meta(ge=5, le=720)] = 30


class DutyStop(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lat: Lat
    lon: Lon
    label: Annotated[str, Meta(max_length=100)] | None = None
    service_minutes: Annotated[float, Meta(ge=0, le=600)] = 0.0


class DutyRequest(Options, kw_only=True):
    """``POST /duty/chain``: a multi-stop duty under EU driving-time rules (Reg. 561/2006)."""

    stops: Annotated[list[DutyStop], Meta(min_length=2, max_length=25)]
    start_time_utc: datetime
    max_continuous_driving_h: Annotated[float, Meta(gt=0, le=4.5)] = 4.5
    break_minutes: Annotated[float, Meta(ge=45, le=180)] = 45.0
    max_daily_driving_h: Annotated[float, Meta(gt=0, le=10)] = 9.0
    daily_rest_h: Annotated[float, Meta(ge=9, le=24)] = 11.0


class ScenarioVariant(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    vehicle_id: str | None = None
    departure_time_utc: datetime | None = None
    weather: WeatherOptions | None = None
    incident_simulation: IncidentSimulation | None = None
    cost_toggles: CostToggles | None = None
    emissions_context: EmissionsContext | None = None


class ScenarioRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /scenario/compare``: a baseline route request and variants; deltas are variant - baseline."""

    baseline: RouteRequest
    variants: Annotated[list[ScenarioVariant], Meta(min_length=1, max_length=20)]


class VehicleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A custom vehicle (units: kg, m, m^2, km/h, kW)."""

    vehicle_id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["reefer_12t"])]
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    energy_carrier: Literal["diesel", "electric"]
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


class ExperimentItem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    kind: Literal["route", "pareto"] = "route"
    request: dict[str, Any]


class ExperimentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A saved bundle of route/pareto requests, compared side by side."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=2000)] = ""
    items: Annotated[list[ExperimentItem], Meta(min_length=1, max_length=20)]


class BatchPair(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    origin: Point
    destination: Point
    label: Annotated[str, Meta(max_length=100)] | None = None


class BatchParetoRequest(ParetoOptions, kw_only=True):
    """``POST /batch/pareto``: many pairs with shared options; more than ``sync_limit`` pairs run as a job."""

    pairs: Annotated[list[BatchPair], Meta(min_length=1, max_length=2000)]
    sync_limit: Annotated[int, Meta(ge=0, le=200, description="Larger batches run as a background job.")] = 25


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Verify a signature over a manifest. With ``run_id``, the stored manifest (or scenario manifest)
    is used when ``manifest`` is omitted and compared field by field when given."""

    run_id: str | None = None
    manifest: dict[str, Any] | None = None
    signature: str | None = None
    public_key: Annotated[
        str | None, Meta(description="PEM or raw base64 Ed25519 key; default the service key.")
    ] = None
    kind: Literal["manifest", "scenario"] = "manifest"


class OracleRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /oracle/quality/check``: seeded random pairs checked against independent oracles."""

    pairs: Annotated[int, Meta(ge=1, le=50)] = 5
    seed: Annotated[int, Meta(ge=0, le=2**31)] = 7
    vehicle_id: str = "van_diesel"
    objectives: Annotated[list[Objective], Meta(min_length=2, max_length=4)] = msgspec.field(
        default_factory=lambda: ["duration", "co2e"]
    )
    epsilon: Annotated[float, Meta(gt=0, le=1)] = 0.05
    brute_force_nodes: Annotated[
        int,
        Meta(
            ge=4,
            le=60,
            description="Size of each brute-force subgraph (a cycle and its neighbourhood; road networks' cycles often span 20+ junctions).",
        ),
    ] = 40
