"""The deterministic evaluation planner behind ``POST /api/ai/plan``.

It turns a task spec into a reviewable plan — which reality profiles to evaluate, how many
domain-randomisation episodes, which metrics, and pass/fail thresholds — and never executes it.
The same spec always gives the same plan (and the same ``plan_id``). Rules:

1. Profiles: ``default`` is always the baseline. Keywords in the task text add profiles: slip,
   floor, warehouse, wet, ice, friction, wheel -> ``slippery_warehouse``; sensor, noise, latency,
   delay, real, hardware, encoder, deploy, transfer, sim2real, sim-to-real -> ``pseudo_reality_A``. Profiles
   named explicitly are used as given; with no keyword and none named, every built-in non-baseline
   profile except ``ideal`` is evaluated.
2. Episodes per profile: the number needed for a 95 % bootstrap interval of half-width ``precision``
   on the success rate in the worst case (p = 0.5): ``ceil(1.96^2 * 0.25 / precision^2)``, clamped
   to [3, 256] and to ``max_episodes_total`` / number of profiles.
3. Horizon: ``duration_s / dt`` steps (default 2 s at dt 0.002).
4. Thresholds: success rate >= ``min_success_rate``; G_perf <= ``max_performance_drop``;
   tracking RMSE <= ``max_tracking_rmse`` when given.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Annotated

import msgspec

from ridgeline.platform.problems import EngineError
from ridgeline.sim.runspec import MAX_STEPS

SLIP_WORDS = ("slip", "floor", "warehouse", "wet", "ice", "icy", "friction", "wheel", "traction")
REAL_WORDS = (
    "sensor",
    "noise",
    "latency",
    "delay",
    "real",
    "hardware",
    "deploy",
    "transfer",
    "sim2real",
    "sim-to-real",
    "encoder",
)
BASELINE = "default"
Z95 = 1.959963984540054


class TaskSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the user wants to evaluate."""

    task: Annotated[
        str, msgspec.Meta(min_length=1, max_length=4000, description="Free-text task description.")
    ]
    robot: Annotated[
        str,
        msgspec.Meta(description="URDF reference: an asset id or name, or a built-in examples/<name>.urdf."),
    ] = "examples/simple_robot.urdf"
    profiles: Annotated[
        list[str] | None, msgspec.Meta(description="Profiles to evaluate; null = chosen from the task text.")
    ] = None
    duration_s: Annotated[float, msgspec.Meta(gt=0, le=600, description="Episode length (s).")] = 2.0
    dt: Annotated[float, msgspec.Meta(gt=0, le=0.1, description="Time step (s).")] = 0.002
    precision: Annotated[
        float, msgspec.Meta(gt=0, le=0.5, description="Wanted 95 % CI half-width on success rate.")
    ] = 0.25
    max_episodes_total: Annotated[
        int, msgspec.Meta(description="Episode budget over every profile.", ge=1, le=100_000)
    ] = 96
    min_success_rate: Annotated[
        float, msgspec.Meta(description="Pass threshold on success rate.", ge=0, le=1)
    ] = 0.8
    max_performance_drop: Annotated[
        float, msgspec.Meta(ge=0, description="Largest acceptable G_perf (relative tracking-error increase).")
    ] = 0.5
    max_tracking_rmse: (
        Annotated[
            float, msgspec.Meta(description="Pass threshold on tracking RMSE (rad or m); null = none.", gt=0)
        ]
        | None
    ) = None
    seed: Annotated[
        int,
        msgspec.Meta(
            description="Random seed; episode e draws from the stream (seed, e).", ge=0, le=2**63 - 1
        ),
    ] = 42


class Threshold(msgspec.Struct, kw_only=True):
    metric: Annotated[str, msgspec.Meta(description="Metric name.")]
    op: Annotated[str, msgspec.Meta(description="Comparison operator.")]
    value: Annotated[float, msgspec.Meta(description="Threshold value.")]
    applies_to: Annotated[str, msgspec.Meta(description="Which profiles the threshold applies to.")]


class PlanStep(msgspec.Struct, kw_only=True):
    """One action for a human to review and, if approved, submit."""

    order: Annotated[int, msgspec.Meta(description="Position in the sequence.")]
    action: Annotated[str, msgspec.Meta(description="What the step does.")]
    method: Annotated[str, msgspec.Meta(description="HTTP method.")]
    path: Annotated[str, msgspec.Meta(description="Path under the sim family.")]
    body: Annotated[dict[str, object], msgspec.Meta(description="Request body to send.")]


class Plan(msgspec.Struct, kw_only=True):
    plan_id: Annotated[str, msgspec.Meta(description="SHA-256 prefix of the canonical task spec")]
    planner: Annotated[str, msgspec.Meta(description="Planner name and version.")]
    executed: Annotated[bool, msgspec.Meta(description="Always false: plans are for review only.")]
    review_required: Annotated[
        bool, msgspec.Meta(description="Always true: a human reviews the plan before running it.")
    ]
    task: Annotated[str, msgspec.Meta(description="The task text.")]
    robot: Annotated[str, msgspec.Meta(description="Robot reference.")]
    baseline: Annotated[str, msgspec.Meta(description="Baseline profile.")]
    profiles: Annotated[list[str], msgspec.Meta(description="Profiles to evaluate, baseline first.")]
    rationale: Annotated[list[str], msgspec.Meta(description="Why each choice was made.")]
    episodes_per_profile: Annotated[
        int, msgspec.Meta(description="Domain-randomisation episodes per profile.")
    ]
    steps: Annotated[int, msgspec.Meta(description="Steps per episode.")]
    dt: Annotated[float, msgspec.Meta(description="Time step (s).")]
    seed: Annotated[int, msgspec.Meta(description="Random seed; episode e draws from the stream (seed, e).")]
    metrics: Annotated[list[str], msgspec.Meta(description="Metrics the plan reports.")]
    thresholds: Annotated[list[Threshold], msgspec.Meta(description="Pass/fail thresholds.")]
    steps_to_run: Annotated[
        list[PlanStep], msgspec.Meta(description="Requests to submit after review, in order.")
    ]
    estimated_episodes_total: Annotated[int, msgspec.Meta(description="Episodes over every profile.")]


def _words(text: str, vocabulary: tuple[str, ...]) -> list[str]:
    low = text.lower()
    return [w for w in vocabulary if re.search(rf"\b{re.escape(w)}", low)]


class PlanError(EngineError, ValueError):
    """A task spec the planner cannot turn into requests the server accepts (422)."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(422, reason_code, message)


class HorizonError(PlanError):
    """The task's duration and time step give more steps than a run accepts."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_request", message)


def make_plan(spec: TaskSpec, available_profiles: list[str]) -> Plan:
    """Build the plan; raises :class:`PlanError` (a ``ValueError``) naming an unknown profile, and
    :class:`HorizonError` when ``duration_s / dt`` exceeds the steps a run accepts."""
    rationale: list[str] = [f"'{BASELINE}' is the baseline every gap is measured against."]
    if spec.profiles is not None:
        unknown = [p for p in spec.profiles if p not in available_profiles]
        if unknown:
            raise PlanError("unknown_profile", f"unknown reality profile(s): {', '.join(unknown)}")
        chosen = [p for p in spec.profiles if p != BASELINE]
        rationale.append("Profiles as requested.")
    else:
        chosen = []
        slip = _words(spec.task, SLIP_WORDS)
        real = _words(spec.task, REAL_WORDS)
        if slip and "slippery_warehouse" in available_profiles:
            chosen.append("slippery_warehouse")
            rationale.append(f"'slippery_warehouse' because the task mentions {', '.join(slip)}.")
        if real and "pseudo_reality_A" in available_profiles:
            chosen.append("pseudo_reality_A")
            rationale.append(f"'pseudo_reality_A' because the task mentions {', '.join(real)}.")
        if not chosen:
            chosen = [p for p in available_profiles if p not in (BASELINE, "ideal")]
            rationale.append("No profile keyword in the task: every built-in non-baseline profile.")
    profiles = [BASELINE, *chosen]
    # Capped before ceil(): a precision near zero (validation only asks > 0) gives inf, or underflows
    # precision**2 to 0; both were a 500.
    wanted = math.ceil(min(Z95**2 * 0.25 / spec.precision**2 if spec.precision > 1e-9 else math.inf, 1e12))
    cap = max(1, spec.max_episodes_total // len(profiles))
    episodes = max(1, min(max(3, wanted), 256, cap))
    rationale.append(
        f"{episodes} episodes per profile: {wanted} give a 95 % interval of half-width "
        f"{spec.precision} on a success rate (worst case p = 0.5)"
        + (f", capped by the budget of {spec.max_episodes_total} episodes." if episodes < wanted else ".")
    )
    horizon = spec.duration_s / spec.dt
    if not horizon <= MAX_STEPS:  # also inf for a vanishing dt, which was a 500 (round(inf))
        raise HorizonError(
            f"duration_s / dt = {horizon:.6g} steps per episode; a run allows at most {MAX_STEPS}"
        )
    steps = max(1, round(horizon))
    thresholds = [
        Threshold(metric="success_rate", op=">=", value=spec.min_success_rate, applies_to="every profile"),
        Threshold(
            metric="G_perf", op="<=", value=spec.max_performance_drop, applies_to="every non-baseline profile"
        ),
    ]
    if spec.max_tracking_rmse is not None:
        thresholds.append(
            Threshold(
                metric="tracking_rmse", op="<=", value=spec.max_tracking_rmse, applies_to="every profile"
            )
        )
    canonical = json.dumps(msgspec.to_builtins(spec), sort_keys=True, separators=(",", ":"))
    plan_id = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    batch_body: dict[str, object] = {
        "urdf_path": spec.robot,
        "profiles": profiles,
        "steps": steps,
        "dt": spec.dt,
        "seed": spec.seed,
        "dr_episodes_per_profile": episodes,
    }
    return Plan(
        plan_id=plan_id,
        planner="deterministic-rules/1",
        executed=False,
        review_required=True,
        task=spec.task,
        robot=spec.robot,
        baseline=BASELINE,
        profiles=profiles,
        rationale=rationale,
        episodes_per_profile=episodes,
        steps=steps,
        dt=spec.dt,
        seed=spec.seed,
        metrics=["success_rate", "tracking_rmse", "energy", "divergence_rate", "G_dyn", "G_perc", "G_perf"],
        thresholds=thresholds,
        steps_to_run=[
            PlanStep(
                order=1,
                action="run the multi-profile batch",
                method="POST",
                path="/api/sim/batch",
                body=batch_body,
            ),
            PlanStep(
                order=2,
                action="evaluate gaps and drops",
                method="GET",
                path="/api/sim/batch/{batch_id}/evaluate",
                body={},
            ),
        ],
        estimated_episodes_total=episodes * len(profiles),
    )


__all__ = ["Plan", "TaskSpec", "make_plan"]
