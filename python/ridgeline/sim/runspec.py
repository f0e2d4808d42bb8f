"""Run specifications: what one simulation run is (controller, reference, profile, horizon), as data.

A :class:`RunSpec` is the serialisable description the HTTP layer stores with every run and the
replay bundle embeds, so a run can be re-executed bit for bit from its bundle alone
(:func:`execute`). It is also handy for embedding: ``execute(Model.from_urdf(p), RunSpec(...))``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import numpy as np

from ridgeline._native import RolloutHandle
from ridgeline.platform.problems import EngineError
from ridgeline.sim.control import PD, ComputedTorque, OpenLoop, Reference, ZeroTorque
from ridgeline.sim.model import Model
from ridgeline.sim.rollout import RolloutResult, rollout

MAX_STEPS = 200_000
MAX_EPISODES = 256


class SpecError(EngineError, ValueError):
    """A run spec that does not fit the model: 422 ``invalid_config`` naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, "invalid_config", message, errors=[{"field": field, "message": message}])
        self.field = field


Gain = Annotated[float, msgspec.Meta(ge=0)]


class ControllerSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The feedback controller.

    ``pd``: ``u = kp (q_ref - q) + kd (v_ref - v)``; without ``kp``/``kd`` the gains are critically
    damped at ``bandwidth`` rad/s from the mass-matrix diagonal at the initial configuration.
    ``computed_torque``: ``u = RNEA_nominal(q, v, a_ref + kp e + kd de)`` (default kp 100, kd 20).
    ``zero``: no actuation (passive system).
    """

    kind: Annotated[
        Literal["pd", "computed_torque", "zero"],
        msgspec.Meta(description="Controller type: pd, computed_torque or zero (passive)."),
    ] = "pd"
    kp: Annotated[
        Gain | list[Gain] | None,
        msgspec.Meta(description="Position gain(s) >= 0, one value or one per actuated joint."),
    ] = None
    kd: Annotated[
        Gain | list[Gain] | None,
        msgspec.Meta(description="Velocity gain(s) >= 0, one value or one per actuated joint."),
    ] = None
    bandwidth: Annotated[
        float,
        msgspec.Meta(gt=0, le=1000, description="Closed-loop bandwidth (rad/s) for default PD gains."),
    ] = 20.0
    gravity_compensation: Annotated[
        bool | None,
        msgspec.Meta(
            description="pd only: add the torque that holds the initial pose (for a floating base on the "
            "ground, the stance's inverse dynamics) and derive default gains from the stance; "
            "null = on for floating bases with contact."
        ),
    ] = None


class ReferenceSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The reference trajectory the controller tracks (actuated joints, around the initial pose).

    ``hold``: keep the initial configuration. ``sinusoid``: ``q0 + amplitude sin(2 pi f t + j pi/4)``
    per joint ``j``, with exact velocities and accelerations.
    """

    kind: Annotated[Literal["hold", "sinusoid"], msgspec.Meta(description="hold or sinusoid.")] = "sinusoid"
    amplitude: Annotated[float, msgspec.Meta(ge=0, le=10, description="Sinusoid amplitude (rad or m).")] = 0.3
    frequency: Annotated[float, msgspec.Meta(ge=0, le=100, description="Sinusoid frequency (Hz).")] = 0.5


class RunSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything that determines a rollout besides the robot model."""

    profile: Annotated[str, msgspec.Meta(description="Reality profile name (GET /api/reality-profiles).")] = (
        "default"
    )
    steps: Annotated[int, msgspec.Meta(ge=1, le=MAX_STEPS, description="Steps per episode.")] = 200
    dt: Annotated[float, msgspec.Meta(gt=0, le=0.1, description="Time step (s).")] = 0.002
    seed: Annotated[
        int, msgspec.Meta(ge=0, le=2**63 - 1, description="Seed; episode e draws from the stream (seed, e).")
    ] = 0
    episodes: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_EPISODES, description="Domain-randomisation episodes.")
    ] = 1
    integrator: Annotated[
        Literal["semi_implicit_euler", "rk4"], msgspec.Meta(description="semi_implicit_euler or rk4.")
    ] = "semi_implicit_euler"
    floating_base: Annotated[
        bool, msgspec.Meta(description="Add a free-flyer root joint (legged and wheeled robots).")
    ] = False
    contact: Annotated[
        bool | None, msgspec.Meta(description="Ground contact at z = 0; null = on for floating bases.")
    ] = None
    success_tolerance: Annotated[
        float,
        msgspec.Meta(gt=0, description="An episode succeeds when its final tracking error is below this."),
    ] = 0.05
    initial_q: Annotated[
        list[float] | None,
        msgspec.Meta(
            description="Initial configuration (length nq); null = neutral. The reference is centred on it."
        ),
    ] = None
    initial_v: Annotated[
        list[float] | None,
        msgspec.Meta(description="Initial velocity (length nv); null = at rest."),
    ] = None
    pose: Annotated[
        str | None,
        msgspec.Meta(
            description="Named initial pose when initial_q is null: neutral (all joints zero) or stand "
            "(joints inside their limits, a floating base resting on the ground); null = stand."
        ),
    ] = None
    record: Annotated[
        bool,
        msgspec.Meta(
            description="Keep per-step states, observations and actions (the replay bundle); "
            "false = metrics only, for long sweeps"
        ),
    ] = True
    controller: Annotated[ControllerSpec, msgspec.Meta(description="The feedback controller.")] = (
        msgspec.field(default_factory=ControllerSpec)
    )
    reference: Annotated[ReferenceSpec, msgspec.Meta(description="The reference trajectory to track.")] = (
        msgspec.field(default_factory=ReferenceSpec)
    )


def initial_q(model: Model, spec: RunSpec) -> np.ndarray:
    """The spec's initial configuration: ``initial_q``, else the named ``pose``, else the
    model's default (``stand`` for a floating base: resting on the ground)."""
    if spec.initial_q is not None:
        return np.asarray(spec.initial_q, dtype=np.float64)
    if spec.pose is not None:
        return model.pose(spec.pose)
    return model.default_configuration()


def initial_v(model: Model, spec: RunSpec) -> np.ndarray:
    if spec.initial_v is None:
        return np.zeros(model.nv)
    return np.asarray(spec.initial_v, dtype=np.float64)


def _gravity_compensation(model: Model, spec: RunSpec) -> bool:
    if spec.controller.gravity_compensation is not None:
        return spec.controller.gravity_compensation
    return model.floating_base and spec.contact is not False


def build_reference(model: Model, spec: RunSpec) -> Reference:
    q0 = initial_q(model, spec)[model.nq - model.n_actuated :]
    if spec.reference.kind == "hold":
        return Reference.hold(q0, spec.steps)
    return Reference.sinusoid(
        model,
        spec.steps,
        spec.dt,
        amplitude=spec.reference.amplitude,
        frequency=spec.reference.frequency,
        center=q0,
    )


def build_controller(model: Model, spec: RunSpec) -> PD | ComputedTorque | ZeroTorque:
    ref = build_reference(model, spec)
    c = spec.controller
    if c.kind == "zero":
        return ZeroTorque(reference=ref)
    if c.kind == "computed_torque":
        return ComputedTorque(
            kp=100.0 if c.kp is None else np.asarray(c.kp, dtype=np.float64),
            kd=20.0 if c.kd is None else np.asarray(c.kd, dtype=np.float64),
            reference=ref,
        )
    grav = _gravity_compensation(model, spec)
    if c.kp is None or c.kd is None:
        q0 = initial_q(model, spec)
        if grav:
            pd = PD.stance(model, bandwidth=c.bandwidth, q=q0, ground=spec.contact is not False)
        else:
            pd = PD.critically_damped(model, bandwidth=c.bandwidth, q=q0)
        kp = pd.kp if c.kp is None else np.asarray(c.kp, dtype=np.float64)
        kd = pd.kd if c.kd is None else np.asarray(c.kd, dtype=np.float64)
        return PD(kp=kp, kd=kd, reference=ref, gravity_compensation=grav)
    return PD(
        kp=np.asarray(c.kp, dtype=np.float64),
        kd=np.asarray(c.kd, dtype=np.float64),
        reference=ref,
        gravity_compensation=grav,
    )


def validate(model: Model, spec: RunSpec) -> None:
    """Raise ``ValueError`` when the spec does not fit the model: gain vector lengths, and
    :data:`~ridgeline.sim.model.FieldError` naming ``initial_q``, ``initial_v`` or ``pose`` for an
    initial state of the wrong length, non-finite, with a non-unit base quaternion or joints
    outside their limits."""
    n = model.n_actuated
    model.check_state(
        initial_q(model, spec), initial_v(model, spec), q_field="initial_q", v_field="initial_v"
    )
    for name in ("kp", "kd"):
        value = getattr(spec.controller, name)
        if isinstance(value, list) and len(value) not in (1, n):
            raise SpecError(
                f"controller.{name}",
                f"controller.{name} has {len(value)} values; the model has {n} actuated joints",
            )


def execute(
    model: Model,
    spec: RunSpec,
    *,
    handle: RolloutHandle | None = None,
    record: bool | None = None,
    threads: int | None = None,
    profile_override: str | None = None,
) -> RolloutResult:
    """Run ``spec`` on ``model`` (GIL released; cancellable through ``handle``)."""
    validate(model, spec)
    return rollout(
        model,
        controller=build_controller(model, spec),
        profile=profile_override or spec.profile,
        steps=spec.steps,
        dt=spec.dt,
        q0=initial_q(model, spec),
        v0=initial_v(model, spec),
        seed=spec.seed,
        episodes=spec.episodes,
        integrator=spec.integrator,
        contact=spec.contact,
        record=spec.record if record is None else record,
        success_tolerance=spec.success_tolerance,
        threads=threads,
        handle=handle,
    )


def execute_open_loop(
    model: Model,
    spec: RunSpec,
    torques: np.ndarray,
    *,
    profile: str,
    handle: RolloutHandle | None = None,
    threads: int | None = None,
) -> RolloutResult:
    """Replay commanded ``torques`` ``(episodes, steps, n_actuated)`` open loop under ``profile``,
    with the spec's seed, horizon and initial state (non-finite rows, e.g. after a divergence,
    are replayed as zero torque). Used for the dynamics gap under identical actions."""
    validate(model, spec)
    t = np.where(np.isfinite(torques), torques, 0.0)
    return rollout(
        model,
        controller=OpenLoop(torques=t, reference=build_reference(model, spec)),
        profile=profile,
        steps=spec.steps,
        dt=spec.dt,
        seed=spec.seed,
        episodes=spec.episodes,
        integrator=spec.integrator,
        q0=initial_q(model, spec),
        v0=initial_v(model, spec),
        contact=spec.contact,
        record=True,
        success_tolerance=spec.success_tolerance,
        threads=threads,
        handle=handle,
    )


__all__ = [
    "ControllerSpec",
    "ReferenceSpec",
    "RunSpec",
    "SpecError",
    "build_controller",
    "execute",
    "execute_open_loop",
    "initial_q",
    "initial_v",
    "validate",
]
