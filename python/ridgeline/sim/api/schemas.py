"""Wire types of the sim family (msgspec). Every field is documented for the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ridgeline.sim.assets import JointSpec, LinkSpec, Part
from ridgeline.sim.gaps import Interval, MetricDrop
from ridgeline.sim.runspec import ControllerSpec, ReferenceSpec, RunSpec

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


FLOATING_BASE = (
    "Add a free-flyer root joint (legged and wheeled robots); null = as the robot's asset was imported "
    "(examples: fixed)."
)
InitialQ = Annotated[
    list[float] | None,
    msgspec.Meta(
        description="Initial configuration (length nq, finite; a floating base's quaternion q[3:7] of norm 1); null = neutral."
    ),
]
InitialV = Annotated[
    list[float] | None, msgspec.Meta(description="Initial velocity (length nv, finite); null = at rest.")
]


class Health(msgspec.Struct, kw_only=True):
    status: Annotated[str, msgspec.Meta(description="ok, or degraded when the database is unreachable")]
    service: Annotated[str, msgspec.Meta(description="Service name.")]
    version: Annotated[str, msgspec.Meta(description="Ridgeline version.")]
    api_version: Annotated[str, msgspec.Meta(description="Stable API version served under /v1/.")]
    database: Annotated[str, msgspec.Meta(description="reachable or unreachable")]
    profiles: Annotated[list[str], msgspec.Meta(description="reality profiles the engine serves")]
    timestamp: Annotated[datetime, msgspec.Meta(description="Server time (UTC).")]


# ---------------------------------------------------------------- projects and assets


class ProjectCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="Project name.")]
    description: Annotated[str, msgspec.Meta(max_length=4000, description="Free text.")] = ""


class Project(msgspec.Struct, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="Unique id (32 hex characters).")]
    name: Annotated[str, msgspec.Meta(description="Project name.")]
    description: Annotated[str, msgspec.Meta(description="Free-text description.")]
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]


class ProjectList(msgspec.Struct, kw_only=True):
    projects: Annotated[list[Project], msgspec.Meta(description="Projects.")]
    count: Annotated[int, msgspec.Meta(description="Number of items in this answer.")]


class Asset(msgspec.Struct, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="Asset id; usable wherever a robot reference is expected")]
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")]
    name: Annotated[str, msgspec.Meta(description="Display name (defaults to the file name)")]
    kind: Annotated[Literal["urdf", "mesh"], msgspec.Meta(description="urdf (simulatable) or mesh")]
    format: Annotated[str, msgspec.Meta(description="urdf, stl, obj, ply, glb, off, usd, usda or usdc")]
    source: Annotated[
        str, msgspec.Meta(description="upload, or linkage for URDF exported by /api/design/linkage")
    ]
    filename: Annotated[str, msgspec.Meta(description="Original file name of the upload.")]
    sha256: Annotated[str, msgspec.Meta(description="SHA-256 of the stored file")]
    size: Annotated[int, msgspec.Meta(description="bytes")]
    summary: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="URDF: robot, nq, nv, joint_names, body_links, total_mass; mesh: vertices, "
            "faces, bounds, components, mass_properties"
        ),
    ]
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]


class AssetList(msgspec.Struct, kw_only=True):
    assets: Annotated[list[Asset], msgspec.Meta(description="Assets.")]
    count: Annotated[int, msgspec.Meta(description="Number of items in this answer.")]


class SegmentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    asset_id: Annotated[str, msgspec.Meta(description="A mesh asset")]
    density: (
        Annotated[float, msgspec.Meta(gt=0, description="kg/m^3; default: the density given at import")]
        | None
    ) = None
    min_faces: Annotated[int, msgspec.Meta(ge=1, description="Drop components with fewer faces (debris)")] = 1


class SegmentResponse(msgspec.Struct, kw_only=True):
    asset_id: Annotated[str, msgspec.Meta(description="Asset id.")]
    density: Annotated[float, msgspec.Meta(description="Density used (kg/m^3).")]
    parts: Annotated[list[Part], msgspec.Meta(description="Connected components, largest volume first")]
    count: Annotated[int, msgspec.Meta(description="Number of parts.")]
    total_mass: Annotated[float, msgspec.Meta(description="Sum of the parts' masses (kg).")]


class LinkageRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="Robot name")]
    links: Annotated[list[LinkSpec], msgspec.Meta(min_length=1, description="Rigid links (parts)")]
    joints: Annotated[list[JointSpec], msgspec.Meta(description="Joints; together they must form a tree")]
    export_urdf: Annotated[
        bool,
        msgspec.Meta(description="Also write URDF, verify the core parses it back, and store it as an asset"),
    ] = False
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")] = (
        None
    )


class LinkageLink(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(description="Link name.")]
    mass: Annotated[float, msgspec.Meta(description="Mass (kg).")]
    center_of_mass: Annotated[
        list[float], msgspec.Meta(description="Centre of mass in the link frame [x, y, z] (m).")
    ]
    inertia: Annotated[
        list[list[float]], msgspec.Meta(description="3x3 inertia about the centre of mass (kg m^2).")
    ]


class LinkageResponse(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(description="Robot name.")]
    root: Annotated[str, msgspec.Meta(description="Root link")]
    links: Annotated[list[LinkageLink], msgspec.Meta(description="Links in depth-first order from the root")]
    joints: Annotated[
        list[JointSpec], msgspec.Meta(description="Joints in depth-first order (the core's joint order)")
    ]
    dof: Annotated[int, msgspec.Meta(description="Degrees of freedom (non-fixed joints).")]
    total_mass: Annotated[float, msgspec.Meta(description="Total mass (kg).")]
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
    floating_base: Annotated[  # type: ignore[assignment]
        bool | None, msgspec.Meta(description=FLOATING_BASE)
    ] = None
    scenario: Annotated[
        str | None, msgspec.Meta(description="Label only (use /v1/runs to run a named scenario)")
    ] = None
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")] = (
        None
    )
    webhook_url: WebhookUrl | None = None
    webhook_secret: WebhookSecret | None = None
    sync: Annotated[
        bool | None,
        msgspec.Meta(description="Wait for the result; null = wait unless a Redis queue is configured"),
    ] = None


class RunOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    webhook_url: Annotated[
        WebhookUrl | None, msgspec.Meta(description="Webhook notified when the run ends.")
    ] = None
    webhook_secret: Annotated[
        WebhookSecret | None,
        msgspec.Meta(
            description="HMAC-SHA256 key for the webhook signature; generated and returned once when omitted."
        ),
    ] = None
    wait: Annotated[
        bool | None,
        msgspec.Meta(description="Wait for the result; null = wait unless a Redis queue is configured"),
    ] = None
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")] = (
        None
    )


def _opt(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description + " Omitted = the scenario's value (or the default).")


class RunConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Overrides of the scenario's run spec (POST /v1/runs ``config``); omitted fields keep it."""

    robot: Annotated[str | UnsetType, _opt("Robot reference: asset id or name, or examples/<name>.urdf.")] = (
        UNSET
    )
    profile: Annotated[str | UnsetType, _opt("Reality profile.")] = UNSET
    steps: Annotated[int | UnsetType, _opt("Steps per episode (1..200000).")] = UNSET
    dt: Annotated[float | UnsetType, _opt("Time step (s), 0 < dt <= 0.1.")] = UNSET
    seed: Annotated[int | UnsetType, _opt("Random seed.")] = UNSET
    episodes: Annotated[int | UnsetType, _opt("Domain-randomisation episodes (1..256).")] = UNSET
    integrator: Annotated[
        Literal["semi_implicit_euler", "rk4"] | UnsetType, _opt("semi_implicit_euler or rk4.")
    ] = UNSET
    floating_base: Annotated[
        bool | UnsetType, _opt("Add a free-flyer root joint; omitted = as the robot's asset was imported.")
    ] = UNSET
    contact: Annotated[bool | UnsetType | None, _opt("Ground contact; null = on for floating bases.")] = UNSET
    success_tolerance: Annotated[float | UnsetType, _opt("Final tracking error counted as success.")] = UNSET
    initial_q: Annotated[list[float] | UnsetType | None, _opt("Initial configuration (length nq).")] = UNSET
    initial_v: Annotated[list[float] | UnsetType | None, _opt("Initial velocity (length nv).")] = UNSET
    record: Annotated[bool | UnsetType, _opt("Keep per-step arrays (replay); false = metrics only.")] = UNSET
    controller: Annotated[ControllerSpec | UnsetType, _opt("The feedback controller.")] = UNSET
    reference: Annotated[ReferenceSpec | UnsetType, _opt("The reference trajectory.")] = UNSET


class V1RunCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """POST /v1/runs."""

    scenario: Annotated[
        str | None, msgspec.Meta(description="Scenario name (GET /v1/scenarios); null = config only")
    ] = None
    config: Annotated[
        RunConfig, msgspec.Meta(description="Run spec fields overriding the scenario's, and the robot")
    ] = msgspec.field(default_factory=RunConfig)
    options: Annotated[RunOptions, msgspec.Meta(description="Delivery options.")] = msgspec.field(
        default_factory=RunOptions
    )


class RunMetrics(msgspec.Struct, kw_only=True):
    """Means over the run's episodes (engine metrics; see docs/sim.md)."""

    avg_step_time_ms: Annotated[
        float | None, msgspec.Meta(description="Engine wall time per step (ms), mean over episodes")
    ]
    tracking_rmse: (
        Annotated[
            float, msgspec.Meta(description="RMS joint tracking error (rad or m), non-diverged episodes")
        ]
        | None
    )
    max_tracking_error: Annotated[
        float | None,
        msgspec.Meta(description="Largest tracking error (rad or m), mean over non-diverged episodes."),
    ]
    energy: Annotated[float | None, msgspec.Meta(description="Actuator energy, integral of |tau . v| dt (J)")]
    success_rate: Annotated[
        float, msgspec.Meta(description="Share of episodes ending within success_tolerance")
    ]
    divergence_rate: Annotated[float, msgspec.Meta(description="Share of episodes that diverged")]
    episodes: Annotated[int, msgspec.Meta(description="Episodes the means are over (those that started).")]
    episodes_not_run: Annotated[
        int, msgspec.Meta(description="Episodes a cancel stopped before their first step (not in the means).")
    ] = 0
    mean_slip_speed: Annotated[
        float | None, msgspec.Meta(description="Mean tangential speed of contacts (m/s)")
    ]
    base_distance: Annotated[
        float | None, msgspec.Meta(description="Distance the floating base travelled (m); 0 for fixed bases.")
    ]
    wall_time_ms: Annotated[float, msgspec.Meta(description="Whole rollout call, all episodes (ms)")]


class ReplayInfo(msgspec.Struct, kw_only=True):
    format: Annotated[str, msgspec.Meta(description="Replay bundle format.")]
    media_type: Annotated[str, msgspec.Meta(description="Media type of the bundle.")]
    sha256: Annotated[str, msgspec.Meta(description="SHA-256 of the bundle.")]
    size: Annotated[int, msgspec.Meta(description="Bundle size (bytes).")]
    url: Annotated[
        str, msgspec.Meta(description="Path of GET /v1/runs/{run_id}/replay (relative to the family)")
    ]


class Run(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    job_id: Annotated[str, msgspec.Meta(description="Platform job id.")]
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED")
    ]
    api: Annotated[str, msgspec.Meta(description="Which API created it: v1, api or batch")]
    scenario: Annotated[str | None, msgspec.Meta(description="Scenario name (null = none).")]
    robot: Annotated[str, msgspec.Meta(description="Robot reference (asset id or built-in example path).")]
    robot_sha256: Annotated[str, msgspec.Meta(description="SHA-256 of the robot's URDF text.")]
    profile: Annotated[str, msgspec.Meta(description="Reality profile name.")]
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")]
    batch_id: Annotated[str | None, msgspec.Meta(description="Batch id (equal to its job id).")]
    config: Annotated[RunSpec, msgspec.Meta(description="The full run spec.")]
    progress: Annotated[float, msgspec.Meta(description="Fraction done, 0..1 (live while RUNNING).")]
    steps_completed: Annotated[list[int] | None, msgspec.Meta(description="Steps each episode ran")]
    cancelled: Annotated[bool, msgspec.Meta(description="Whether the rollout was stopped by a cancel.")]
    interrupted: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the rollout was stopped because the process running it stopped "
            "(status FAILED, error.reason_code run_interrupted); such a run is not cancelled."
        ),
    ] = False
    metrics: Annotated[
        RunMetrics | None, msgspec.Meta(description="Metric means over episodes (null until finished).")
    ]
    error: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="Error type and message for FAILED or CANCELLED, else null."),
    ]
    replay: Annotated[
        ReplayInfo | None, msgspec.Meta(description="Replay bundle info (null until recorded).")
    ]
    webhook_url: Annotated[str | None, msgspec.Meta(description="Webhook notified when the run ends.")]
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]
    started_at: Annotated[datetime | None, msgspec.Meta(description="When execution started (UTC).")]
    finished_at: Annotated[
        datetime | None, msgspec.Meta(description="When it reached a terminal state (UTC).")
    ]


class RunCreated(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    job_id: Annotated[str, msgspec.Meta(description="Platform job id.")]
    status: Annotated[str, msgspec.Meta(description="Status after the request (terminal when it waited).")]
    run: Annotated[Run, msgspec.Meta(description="The run.")]
    webhook_secret: Annotated[
        str | None,
        msgspec.Meta(description="The generated webhook signing secret (only when one was generated)"),
    ] = None


class RunList(msgspec.Struct, kw_only=True):
    runs: Annotated[list[Run], msgspec.Meta(description="Runs.")]
    count: Annotated[int, msgspec.Meta(description="Number of items in this answer.")]


class JobStatusOut(msgspec.Struct, kw_only=True):
    job_id: Annotated[str, msgspec.Meta(description="Platform job id.")]
    run_id: Annotated[str | None, msgspec.Meta(description="The run (null for a batch's job)")]
    batch_id: Annotated[str | None, msgspec.Meta(description="The batch, when the job is a batch")] = None
    kind: Annotated[str, msgspec.Meta(description="run or batch")] = "run"
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    ]
    progress: Annotated[float, msgspec.Meta(description="Fraction done, 0..1 (live while RUNNING).")]
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]
    queued_at: Annotated[datetime | None, msgspec.Meta(description="When it was queued (UTC).")]
    started_at: Annotated[datetime | None, msgspec.Meta(description="When execution started (UTC).")]
    finished_at: Annotated[
        datetime | None, msgspec.Meta(description="When it reached a terminal state (UTC).")
    ]
    error: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="Error type and message for FAILED or CANCELLED, else null."),
    ]


class MetricsOut(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    ]
    profile: Annotated[str, msgspec.Meta(description="Reality profile name.")]
    metrics: Annotated[
        RunMetrics | None, msgspec.Meta(description="Metric means over episodes (null until finished).")
    ]
    episodes: Annotated[
        list[dict[str, Any]] | None,
        msgspec.Meta(description="Per-episode engine metrics and steps_completed"),
    ]


class WebhookDelivery(msgspec.Struct, kw_only=True):
    delivery_id: Annotated[str, msgspec.Meta(description="One id shared by every attempt of one event.")]
    event: Annotated[str, msgspec.Meta(description="run.completed or run.failed.")]
    url: Annotated[str, msgspec.Meta(description="Target URL.")]
    attempt: Annotated[int, msgspec.Meta(description="Attempt number (1 = first, then retries).")]
    status_code: Annotated[
        int | None, msgspec.Meta(description="HTTP status answered (null when there was no answer).")
    ]
    error: Annotated[
        str | None, msgspec.Meta(description="Error type and message for FAILED or CANCELLED, else null.")
    ]
    succeeded: Annotated[bool, msgspec.Meta(description="Whether the receiver answered 2xx.")]
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]


class Report(msgspec.Struct, kw_only=True):
    run: Annotated[Run, msgspec.Meta(description="The run.")]
    episodes: Annotated[list[dict[str, Any]] | None, msgspec.Meta(description="Per-episode engine metrics.")]
    parameters: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="Reality parameters each episode sampled (from the replay bundle)"),
    ]
    profile: Annotated[dict[str, Any] | None, msgspec.Meta(description="The profile's distributions")]
    webhook_deliveries: Annotated[
        list[WebhookDelivery], msgspec.Meta(description="Every webhook attempt for this run.")
    ]


class StepOut(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    episode: Annotated[int, msgspec.Meta(description="Episode index, 0-based.")]
    step_index: Annotated[int, msgspec.Meta(description="Step index, 0-based.")]
    t: Annotated[float, msgspec.Meta(description="Time at the start of the step (s)")]
    completed: Annotated[bool, msgspec.Meta(description="False for steps after divergence or cancellation")]
    joint_names: Annotated[list[str], msgspec.Meta(description="Joint order of q and v.")]
    q: Annotated[list[float | None], msgspec.Meta(description="Joint positions before the step.")]
    v: Annotated[list[float | None], msgspec.Meta(description="Joint velocities before the step.")]
    observation: Annotated[list[float | None], msgspec.Meta(description="[q_obs..., v_obs...]")]
    action: Annotated[list[float | None], msgspec.Meta(description="Commanded torques")]
    applied_torque: Annotated[
        list[float | None], msgspec.Meta(description="Torques the actuators delivered.")
    ]
    next_q: Annotated[list[float | None], msgspec.Meta(description="Joint positions after the step.")]
    next_v: Annotated[list[float | None], msgspec.Meta(description="Joint velocities after the step.")]


class Scenario(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(description="Scenario name (use in POST /v1/runs).")]
    description: Annotated[str, msgspec.Meta(description="Free-text description.")]
    robot: Annotated[str, msgspec.Meta(description="Robot the scenario runs.")]
    config: Annotated[RunSpec, msgspec.Meta(description="The scenario's run spec.")]


class ScenarioList(msgspec.Struct, kw_only=True):
    scenarios: Annotated[list[Scenario], msgspec.Meta(description="Scenarios.")]
    count: Annotated[int, msgspec.Meta(description="Number of items in this answer.")]


# ---------------------------------------------------------------- batch, compare, plan


class BatchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """POST /api/sim/batch (the contract's body, plus optional controller/reference)."""

    urdf_path: Annotated[
        RobotRef,
        msgspec.Meta(
            description="Robot: an imported URDF asset's id or name, or examples/simple_robot.urdf / examples/pendulum.urdf."
        ),
    ] = "examples/simple_robot.urdf"
    profiles: Annotated[
        list[str],
        msgspec.Meta(min_length=1, max_length=32, description="Profiles; default is always the baseline"),
    ] = msgspec.field(default_factory=lambda: ["default", "slippery_warehouse", "pseudo_reality_A"])
    steps: Annotated[int, msgspec.Meta(description="Steps per episode.", ge=1, le=200_000)] = 200
    dt: Annotated[float, msgspec.Meta(description="Time step (s).", gt=0, le=0.1)] = 0.002
    seed: Annotated[
        int,
        msgspec.Meta(
            description="Random seed; episode e draws from the stream (seed, e).", ge=0, le=2**63 - 1
        ),
    ] = 0
    dr_episodes_per_profile: Annotated[
        int, msgspec.Meta(description="Domain-randomisation episodes per profile.", ge=1, le=256)
    ] = 3
    floating_base: Annotated[bool | None, msgspec.Meta(description=FLOATING_BASE)] = None
    initial_q: InitialQ = None
    initial_v: InitialV = None
    controller: Annotated[
        ControllerSpec | None,
        msgspec.Meta(description="Controller (run spec `controller`); null = critically damped PD."),
    ] = None
    reference: Annotated[
        ReferenceSpec | None,
        msgspec.Meta(
            description="Reference trajectory (run spec `reference`); null = 0.3 rad, 0.5 Hz sinusoid."
        ),
    ] = None
    project_id: Annotated[str | None, msgspec.Meta(description="Project this belongs to (null = none).")] = (
        None
    )
    sync: Annotated[
        bool | None,
        msgspec.Meta(description="Wait for the result; null = wait unless a Redis queue is configured."),
    ] = None


class BatchProfile(msgspec.Struct, kw_only=True):
    profile: Annotated[str, msgspec.Meta(description="Reality profile name.")]
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    is_baseline: Annotated[bool, msgspec.Meta(description="Whether this is the baseline profile.")]
    metrics: Annotated[dict[str, Any], msgspec.Meta(description="Metric means over the profile's episodes.")]
    episodes: Annotated[list[dict[str, Any]], msgspec.Meta(description="Per-episode metrics.")]


class Batch(msgspec.Struct, kw_only=True):
    batch_id: Annotated[str, msgspec.Meta(description="Batch id (equal to its job id).")]
    job_id: Annotated[str, msgspec.Meta(description="Platform job id.")]
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    ]
    request: Annotated[dict[str, Any], msgspec.Meta(description="The batch request as submitted.")]
    baseline: Annotated[
        str, msgspec.Meta(description="Baseline profile every gap and drop is measured against.")
    ]
    baseline_added: Annotated[
        bool, msgspec.Meta(description="default was not requested and was run as the baseline")
    ]
    profiles: Annotated[
        list[BatchProfile], msgspec.Meta(description="Per-profile member runs and metrics, baseline first.")
    ]
    progress: Annotated[
        float, msgspec.Meta(description="Fraction done over every member, 0..1 (live, never decreasing).")
    ] = 0.0
    created_at: Annotated[datetime, msgspec.Meta(description="When it was created (UTC).")]
    finished_at: Annotated[
        datetime | None, msgspec.Meta(description="When it reached a terminal state (UTC).")
    ]
    error: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="Error type and message for FAILED or CANCELLED, else null."),
    ]


class ProfileEvaluation(msgspec.Struct, kw_only=True):
    profile: Annotated[str, msgspec.Meta(description="Reality profile evaluated.")]
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    drops: Annotated[
        list[MetricDrop], msgspec.Meta(description="Metric drops against the baseline (positive = worse)")
    ]
    G_dyn: Annotated[
        Interval, msgspec.Meta(description="Dynamics gap with its bootstrap interval (docs/sim.md).")
    ]
    G_perc: Annotated[
        Interval, msgspec.Meta(description="Perception gap with its bootstrap interval (docs/sim.md).")
    ]
    G_perf: Annotated[
        Interval, msgspec.Meta(description="Performance gap with its bootstrap interval (docs/sim.md).")
    ]


class Evaluation(msgspec.Struct, kw_only=True):
    batch_id: Annotated[str, msgspec.Meta(description="Batch id (equal to its job id).")]
    baseline: Annotated[
        str, msgspec.Meta(description="Baseline profile every gap and drop is measured against.")
    ]
    profiles: Annotated[
        list[ProfileEvaluation], msgspec.Meta(description="Per-profile evaluation, baseline first.")
    ]
    definitions: Annotated[dict[str, str], msgspec.Meta(description="How each gap and drop is computed.")]
    bootstrap: Annotated[
        dict[str, Any], msgspec.Meta(description="Bootstrap method, resamples, confidence and seed.")
    ]


class BenchmarkReport(msgspec.Struct, kw_only=True):
    batch_id: Annotated[str, msgspec.Meta(description="Batch id (equal to its job id).")]
    robot: Annotated[str, msgspec.Meta(description="Robot reference (asset id or built-in example path).")]
    finished_at: Annotated[
        datetime | None, msgspec.Meta(description="When it reached a terminal state (UTC).")
    ]
    G_dyn: Annotated[
        dict[str, Interval],
        msgspec.Meta(description="Dynamics gap with its bootstrap interval (docs/sim.md)."),
    ]
    G_perc: Annotated[
        dict[str, Interval],
        msgspec.Meta(description="Perception gap with its bootstrap interval (docs/sim.md)."),
    ]
    G_perf: Annotated[
        dict[str, Interval],
        msgspec.Meta(description="Performance gap with its bootstrap interval (docs/sim.md)."),
    ]
    evaluation: Annotated[Evaluation, msgspec.Meta(description="The full cross-profile evaluation.")]


class CompareRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    run_ids: Annotated[
        list[str], msgspec.Meta(description="Runs to compare (2..100).", min_length=2, max_length=100)
    ]
    metric_key: Annotated[
        str,
        msgspec.Meta(description="A run metric: avg_step_time_ms, tracking_rmse, energy, success_rate, ..."),
    ] = "avg_step_time_ms"


class CompareEntry(msgspec.Struct, kw_only=True):
    run_id: Annotated[str, msgspec.Meta(description="Run id (equal to its job id).")]
    profile: Annotated[str, msgspec.Meta(description="Reality profile name.")]
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    ]
    value: Annotated[float | None, msgspec.Meta(description="The run's metric (null when it has none).")]
    comparable: Annotated[
        bool,
        msgspec.Meta(
            description="Whether it takes part in the drops and the best run (SUCCEEDED, same robot)."
        ),
    ] = True
    excluded_reason: Annotated[
        str | None,
        msgspec.Meta(
            description="Why not comparable: not_succeeded, different_robot or no_value (null = comparable)."
        ),
    ] = None


class PairwiseDrop(msgspec.Struct, kw_only=True):
    run_a: Annotated[str, msgspec.Meta(description="Reference run of the pair.")]
    run_b: Annotated[str, msgspec.Meta(description="Run compared with the reference.")]
    value_a: Annotated[float | None, msgspec.Meta(description="Metric of run_a.")]
    value_b: Annotated[float | None, msgspec.Meta(description="Metric of run_b.")]
    drop: Annotated[
        float | None,
        msgspec.Meta(
            description="How much worse b is than a (positive = worse); null unless both are comparable"
        ),
    ]
    relative_drop: Annotated[
        float | None, msgspec.Meta(description="drop / |baseline| (null when the baseline is 0).")
    ]


class CompareResponse(msgspec.Struct, kw_only=True):
    metric_key: Annotated[str, msgspec.Meta(description="Metric compared.")]
    higher_is_better: Annotated[
        bool, msgspec.Meta(description="Whether larger values of the metric are better.")
    ]
    runs: Annotated[list[CompareEntry], msgspec.Meta(description="Runs.")]
    pairwise: Annotated[
        list[PairwiseDrop],
        msgspec.Meta(description="Every pair of runs: how much worse the second is than the first."),
    ]
    best_run_id: Annotated[
        str | None, msgspec.Meta(description="Comparable run with the best value (null when none).")
    ]
    robot_sha256: Annotated[
        str | None, msgspec.Meta(description="The robot the comparable runs share (null when none is).")
    ] = None


class ProfileList(msgspec.Struct, kw_only=True):
    profiles: Annotated[
        list[dict[str, Any]],
        msgspec.Meta(description="Profiles with every parameter's meaning and distribution."),
    ]
    count: Annotated[int, msgspec.Meta(description="Number of items in this answer.")]


class BatchMetrics(msgspec.Struct, kw_only=True):
    """GET /api/sim/{job_id}/metrics for a batch's job."""

    batch_id: Annotated[str, msgspec.Meta(description="Batch id (equal to its job id).")]
    job_id: Annotated[str, msgspec.Meta(description="Platform job id.")]
    kind: Annotated[Literal["batch"], msgspec.Meta(description="Always batch.")] = "batch"
    status: Annotated[
        str, msgspec.Meta(description="CREATED, QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    ]
    profiles: Annotated[
        list[BatchProfile], msgspec.Meta(description="Per-profile member runs and metrics, baseline first.")
    ]


class BatchReport(msgspec.Struct, kw_only=True):
    """GET /api/sim/{job_id}/report for a batch's job."""

    kind: Annotated[Literal["batch"], msgspec.Meta(description="Always batch.")] = "batch"
    batch: Annotated[Batch, msgspec.Meta(description="The batch.")]
    evaluation: Annotated[
        Evaluation | None, msgspec.Meta(description="Cross-profile evaluation (null until SUCCEEDED).")
    ]
    profiles: Annotated[
        list[dict[str, Any]], msgspec.Meta(description="The distributions of the batch's profiles.")
    ]
