"""Wire types of the sim family (msgspec). Every field is documented for the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from ridgeline.sim.assets import JointSpec, LinkSpec, Part
from ridgeline.sim.gaps import Interval, MetricDrop
from ridgeline.sim.runspec import RunSpec

RobotRef = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=255,
        description="Robot URDF: an imported asset id, an imported asset name (latest wins) or a "
        "built-in example path (examples/simple_robot.urdf, examples/pendulum.urdf).",
    ),
]
WebhookUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=2048,
        pattern=r"^https?://",
        description="POSTed a signed run.completed / run.failed event when the run ends (docs/sim.md).",
    ),
]
WebhookSecret = Annotated[
    str,
    msgspec.Meta(
        min_length=16,
        max_length=256,
        description="HMAC-SHA256 key for the webhook signature; generated and returned once when omitted.",
    ),
]


class Health(msgspec.Struct, kw_only=True):
    status: Annotated[str, msgspec.Meta(description="ok, or degraded when the database is unreachable")]
    service: str
    version: str
    api_version: str
    database: Annotated[str, msgspec.Meta(description="reachable or unreachable")]
    profiles: Annotated[list[str], msgspec.Meta(description="reality profiles the engine serves")]
    timestamp: datetime


# ---------------------------------------------------------------- projects and assets


class ProjectCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="Project name.")]
    description: Annotated[str, msgspec.Meta(max_length=4000, description="Free text.")] = ""


class Project(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str
    created_at: datetime


class ProjectList(msgspec.Struct, kw_only=True):
    projects: list[Project]
    count: int


class Asset(msgspec.Struct, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="Asset id; usable wherever a robot reference is expected")]
    project_id: str | None
    name: Annotated[str, msgspec.Meta(description="Display name (defaults to the file name)")]
    kind: Annotated[Literal["urdf", "mesh"], msgspec.Meta(description="urdf (simulatable) or mesh")]
    format: Annotated[str, msgspec.Meta(description="urdf, stl, obj, ply, glb, off, usd, usda or usdc")]
    source: Annotated[
        str, msgspec.Meta(description="upload, or linkage for URDF exported by /api/design/linkage")
    ]
    filename: str
    sha256: Annotated[str, msgspec.Meta(description="SHA-256 of the stored file")]
    size: Annotated[int, msgspec.Meta(description="bytes")]
    summary: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="URDF: robot, nq, nv, joint_names, body_links, total_mass; mesh: vertices, "
            "faces, bounds, components, mass_properties"
        ),
    ]
    created_at: datetime


class AssetList(msgspec.Struct, kw_only=True):
    assets: list[Asset]
    count: int


class SegmentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    asset_id: Annotated[str, msgspec.Meta(description="A mesh asset")]
    density: (
        Annotated[float, msgspec.Meta(gt=0, description="kg/m^3; default: the density given at import")]
        | None
    ) = None
    min_faces: Annotated[int, msgspec.Meta(ge=1, description="Drop components with fewer faces (debris)")] = 1


class SegmentResponse(msgspec.Struct, kw_only=True):
    asset_id: str
    density: float
    parts: Annotated[list[Part], msgspec.Meta(description="Connected components, largest volume first")]
    count: int
    total_mass: float


class LinkageRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="Robot name")]
    links: Annotated[list[LinkSpec], msgspec.Meta(min_length=1, description="Rigid links (parts)")]
    joints: Annotated[list[JointSpec], msgspec.Meta(description="Joints; together they must form a tree")]
    export_urdf: Annotated[
        bool,
        msgspec.Meta(description="Also write URDF, verify the core parses it back, and store it as an asset"),
    ] = False
    project_id: str | None = None


class LinkageLink(msgspec.Struct, kw_only=True):
    name: str
    mass: float
    center_of_mass: list[float]
    inertia: list[list[float]]


class LinkageResponse(msgspec.Struct, kw_only=True):
    name: str
    root: Annotated[str, msgspec.Meta(description="Root link")]
    links: Annotated[list[LinkageLink], msgspec.Meta(description="Links in depth-first order from the root")]
    joints: Annotated[
        list[JointSpec], msgspec.Meta(description="Joints in depth-first order (the core's joint order)")
    ]
    dof: int
    total_mass: float
    urdf: Annotated[str | None, msgspec.Meta(description="Exported URDF (export_urdf)")] = None
    asset: Annotated[Asset | None, msgspec.Meta(description="The stored URDF asset (export_urdf)")] = None
    verified: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="What the core's parser read back: joint_names, nq, nv, total_mass"),
    ] = None


# ---------------------------------------------------------------- runs


class SimRunRequest(RunSpec, kw_only=True, forbid_unknown_fields=True):
    """POST /api/sim/run: the run spec fields plus the robot and delivery options."""

    urdf_path: RobotRef = "examples/simple_robot.urdf"
    scenario: Annotated[
        str | None, msgspec.Meta(description="Label only (use /v1/runs to run a named scenario)")
    ] = None
    project_id: str | None = None
    webhook_url: WebhookUrl | None = None
    webhook_secret: WebhookSecret | None = None
    sync: Annotated[
        bool | None,
        msgspec.Meta(description="Wait for the result; null = wait unless a Redis queue is configured"),
    ] = None


class RunOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    webhook_url: WebhookUrl | None = None
    webhook_secret: WebhookSecret | None = None
    wait: Annotated[
        bool | None,
        msgspec.Meta(description="Wait for the result; null = wait unless a Redis queue is configured"),
    ] = None
    project_id: str | None = None


class V1RunCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """POST /v1/runs."""

    scenario: Annotated[
        str | None, msgspec.Meta(description="Scenario name (GET /v1/scenarios); null = config only")
    ] = None
    config: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="Run spec fields overriding the scenario's (profile, steps, dt, seed, episodes, "
            "controller, reference, ...) plus optional robot (a robot reference)"
        ),
    ] = msgspec.field(default_factory=dict)
    options: RunOptions = msgspec.field(default_factory=RunOptions)


class RunMetrics(msgspec.Struct, kw_only=True):
    """Means over the run's episodes (engine metrics; see docs/sim.md)."""

    avg_step_time_ms: Annotated[
        float, msgspec.Meta(description="Engine wall time per step (ms), mean over episodes")
    ]
    tracking_rmse: (
        Annotated[
            float, msgspec.Meta(description="RMS joint tracking error (rad or m), non-diverged episodes")
        ]
        | None
    )
    max_tracking_error: float | None
    energy: Annotated[float, msgspec.Meta(description="Actuator energy, integral of |tau . v| dt (J)")]
    success_rate: Annotated[
        float, msgspec.Meta(description="Share of episodes ending within success_tolerance")
    ]
    divergence_rate: Annotated[float, msgspec.Meta(description="Share of episodes that diverged")]
    episodes: int
    mean_slip_speed: Annotated[float, msgspec.Meta(description="Mean tangential speed of contacts (m/s)")]
    base_distance: float | None
    wall_time_ms: Annotated[float, msgspec.Meta(description="Whole rollout call, all episodes (ms)")]


class ReplayInfo(msgspec.Struct, kw_only=True):
    format: str
    media_type: str
    sha256: str
    size: int
    url: Annotated[
        str, msgspec.Meta(description="Path of GET /v1/runs/{run_id}/replay (relative to the family)")
    ]


class Run(msgspec.Struct, kw_only=True):
    run_id: str
    job_id: str
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED")
    ]
    api: Annotated[str, msgspec.Meta(description="Which API created it: v1, api or batch")]
    scenario: str | None
    robot: str
    robot_sha256: str
    profile: str
    project_id: str | None
    batch_id: str | None
    config: RunSpec
    progress: float
    steps_completed: Annotated[list[int] | None, msgspec.Meta(description="Steps each episode ran")]
    cancelled: bool
    metrics: RunMetrics | None
    error: dict[str, Any] | None
    replay: ReplayInfo | None
    webhook_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunCreated(msgspec.Struct, kw_only=True):
    run_id: str
    job_id: str
    status: str
    run: Run
    webhook_secret: Annotated[
        str | None,
        msgspec.Meta(description="The generated webhook signing secret (only when one was generated)"),
    ] = None


class RunList(msgspec.Struct, kw_only=True):
    runs: list[Run]
    count: int


class JobStatusOut(msgspec.Struct, kw_only=True):
    job_id: str
    run_id: Annotated[str | None, msgspec.Meta(description="The run (null for a batch's job)")]
    batch_id: Annotated[str | None, msgspec.Meta(description="The batch, when the job is a batch")] = None
    kind: Annotated[str, msgspec.Meta(description="run or batch")] = "run"
    status: str
    progress: float
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: dict[str, Any] | None


class MetricsOut(msgspec.Struct, kw_only=True):
    run_id: str
    status: str
    profile: str
    metrics: RunMetrics | None
    episodes: Annotated[
        list[dict[str, Any]] | None,
        msgspec.Meta(description="Per-episode engine metrics and steps_completed"),
    ]


class WebhookDelivery(msgspec.Struct, kw_only=True):
    delivery_id: str
    event: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    succeeded: bool
    created_at: datetime


class Report(msgspec.Struct, kw_only=True):
    run: Run
    episodes: list[dict[str, Any]] | None
    parameters: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="Reality parameters each episode sampled (from the replay bundle)"),
    ]
    profile: Annotated[dict[str, Any] | None, msgspec.Meta(description="The profile's distributions")]
    webhook_deliveries: list[WebhookDelivery]


class StepOut(msgspec.Struct, kw_only=True):
    run_id: str
    episode: int
    step_index: int
    t: Annotated[float, msgspec.Meta(description="Time at the start of the step (s)")]
    completed: Annotated[bool, msgspec.Meta(description="False for steps after divergence or cancellation")]
    joint_names: list[str]
    q: list[float | None]
    v: list[float | None]
    observation: Annotated[list[float | None], msgspec.Meta(description="[q_obs..., v_obs...]")]
    action: Annotated[list[float | None], msgspec.Meta(description="Commanded torques")]
    applied_torque: list[float | None]
    next_q: list[float | None]
    next_v: list[float | None]


class Scenario(msgspec.Struct, kw_only=True):
    name: str
    description: str
    robot: str
    config: RunSpec


class ScenarioList(msgspec.Struct, kw_only=True):
    scenarios: list[Scenario]
    count: int


# ---------------------------------------------------------------- batch, compare, plan


class BatchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """POST /api/sim/batch (the contract's body, plus optional controller/reference)."""

    urdf_path: RobotRef = "examples/simple_robot.urdf"
    profiles: Annotated[
        list[str],
        msgspec.Meta(min_length=1, max_length=32, description="Profiles; default is always the baseline"),
    ] = msgspec.field(default_factory=lambda: ["default", "slippery_warehouse", "pseudo_reality_A"])
    steps: Annotated[int, msgspec.Meta(ge=1, le=200_000)] = 200
    dt: Annotated[float, msgspec.Meta(gt=0, le=0.1)] = 0.002
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    dr_episodes_per_profile: Annotated[int, msgspec.Meta(ge=1, le=256)] = 3
    floating_base: bool = False
    controller: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None
    project_id: str | None = None
    sync: bool | None = None


class BatchProfile(msgspec.Struct, kw_only=True):
    profile: str
    run_id: str
    is_baseline: bool
    metrics: dict[str, Any]
    episodes: list[dict[str, Any]]


class Batch(msgspec.Struct, kw_only=True):
    batch_id: str
    job_id: str
    status: str
    request: dict[str, Any]
    baseline: str
    baseline_added: Annotated[
        bool, msgspec.Meta(description="default was not requested and was run as the baseline")
    ]
    profiles: list[BatchProfile]
    created_at: datetime
    finished_at: datetime | None
    error: dict[str, Any] | None


class ProfileEvaluation(msgspec.Struct, kw_only=True):
    profile: str
    run_id: str
    drops: Annotated[
        list[MetricDrop], msgspec.Meta(description="Metric drops against the baseline (positive = worse)")
    ]
    G_dyn: Interval
    G_perc: Interval
    G_perf: Interval


class Evaluation(msgspec.Struct, kw_only=True):
    batch_id: str
    baseline: str
    profiles: list[ProfileEvaluation]
    definitions: dict[str, str]
    bootstrap: dict[str, Any]


class BenchmarkReport(msgspec.Struct, kw_only=True):
    batch_id: str
    robot: str
    finished_at: datetime | None
    G_dyn: dict[str, Interval]
    G_perc: dict[str, Interval]
    G_perf: dict[str, Interval]
    evaluation: Evaluation


class CompareRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    run_ids: Annotated[list[str], msgspec.Meta(min_length=2, max_length=100)]
    metric_key: Annotated[
        str,
        msgspec.Meta(description="A run metric: avg_step_time_ms, tracking_rmse, energy, success_rate, ..."),
    ] = "avg_step_time_ms"


class CompareEntry(msgspec.Struct, kw_only=True):
    run_id: str
    profile: str
    status: str
    value: float | None


class PairwiseDrop(msgspec.Struct, kw_only=True):
    run_a: str
    run_b: str
    value_a: float | None
    value_b: float | None
    drop: Annotated[float | None, msgspec.Meta(description="How much worse b is than a (positive = worse)")]
    relative_drop: float | None


class CompareResponse(msgspec.Struct, kw_only=True):
    metric_key: str
    higher_is_better: bool
    runs: list[CompareEntry]
    pairwise: list[PairwiseDrop]
    best_run_id: str | None


class ProfileList(msgspec.Struct, kw_only=True):
    profiles: list[dict[str, Any]]
    count: int
