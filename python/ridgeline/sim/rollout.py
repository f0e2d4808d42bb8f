"""Batched, domain-randomised, deterministic and cancellable rollouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ridgeline._native import RolloutHandle, sim_rollout
from ridgeline.sim.control import PD, ComputedTorque, Controller, OpenLoop, ZeroTorque
from ridgeline.sim.model import FloatArray, Model
from ridgeline.sim.profiles import Profile

INTEGRATORS = ("semi_implicit_euler", "rk4")


@dataclass(frozen=True)
class RolloutResult:
    """Per-episode trajectories and metrics of one rollout call.

    Arrays are indexed ``[episode, step, ...]``: ``q`` ``(E, steps + 1, nq)`` and ``v``
    ``(E, steps + 1, nv)`` are the true states (row 0 is the initial state), ``observations``
    ``(E, steps, nq + nv)`` what the controller saw, ``actions`` ``(E, steps, n_actuated)`` the
    commanded torques and ``applied_torques`` what the actuators delivered (gain, latency,
    effort limits). Rows after an early stop (divergence, cancellation) are NaN. Without
    ``record`` only metrics and parameters are returned.

    ``started[e]`` is False for an episode the rollout was cancelled before it took a step:
    its metrics are NaN and :meth:`summary` leaves it out. ``divergence[e]`` says why an
    episode was stopped as diverged (``non_finite``, ``speed``, ``velocity_limit``,
    ``energy_growth``, ``base_bounds``), None when it was not.
    """

    profile: str
    seed: int
    dt: float
    steps: int
    steps_completed: npt.NDArray[np.int64]
    cancelled: bool
    metrics: dict[str, npt.NDArray[Any]]
    params: dict[str, FloatArray]
    q: FloatArray | None = None
    v: FloatArray | None = None
    observations: FloatArray | None = None
    actions: FloatArray | None = None
    applied_torques: FloatArray | None = None
    started: npt.NDArray[np.bool_] | None = None
    divergence: list[str | None] | None = None

    @property
    def episodes(self) -> int:
        return int(self.steps_completed.shape[0])

    @property
    def episodes_started(self) -> int:
        return self.episodes if self.started is None else int(np.count_nonzero(self.started))

    def summary(self) -> dict[str, float]:
        """Means over the episodes that started (an episode cancelled before its first step
        counts in none of them); diverged episodes count in the rates, not in error means."""
        m = self.metrics
        run = np.ones(self.episodes, dtype=bool) if self.started is None else np.asarray(self.started)
        ok = run & ~m["diverged"]
        nan = float("nan")
        mean_run = lambda k: float(np.mean(m[k][run])) if run.any() else nan  # noqa: E731
        mean_ok = lambda k: float(np.mean(m[k][ok])) if ok.any() else nan  # noqa: E731
        return {
            "episodes": float(self.episodes),
            "episodes_started": float(np.count_nonzero(run)),
            "success_rate": mean_run("success"),
            "divergence_rate": mean_run("diverged"),
            "tracking_rmse": mean_ok("tracking_rmse"),
            "max_tracking_error": mean_ok("max_tracking_error"),
            "energy": mean_run("energy"),
            "avg_step_time_ms": mean_run("time_per_step") * 1e3,
            "mean_slip_speed": mean_run("mean_slip_speed"),
            "base_distance": mean_ok("base_distance"),
        }


def _profile_args(profile: str | Profile) -> tuple[str, list[tuple[str, str, list[float]]] | None]:
    if isinstance(profile, Profile):
        return profile.name, profile.entries()
    if isinstance(profile, str):
        return profile, None
    raise TypeError(f"profile must be a profile name or a Profile, got {type(profile).__name__}")


def rollout(
    model: Model,
    controller: Controller | None = None,
    profile: str | Profile = "default",
    steps: int = 500,
    dt: float = 0.002,
    seed: int = 0,
    episodes: int = 1,
    *,
    integrator: str = "semi_implicit_euler",
    q0: npt.ArrayLike | None = None,
    v0: npt.ArrayLike | None = None,
    contact: bool | None = None,
    record: bool = True,
    success_tolerance: float = 0.05,
    divergence_velocity: float = 1.0e3,
    threads: int | None = None,
    handle: RolloutHandle | None = None,
    joint_limits: bool = True,
    pose: str | None = None,
    velocity_limit_factor: float | None = None,
    energy_growth: float | None = None,
    base_bound: float | None = None,
    contact_stiffness: float | None = None,
    contact_damping: float | None = None,
) -> RolloutResult:
    """Run ``episodes`` closed-loop episodes of ``steps`` steps in parallel (GIL released).

    Each episode samples its reality parameters from ``profile`` with a random stream derived
    from ``(seed, episode)``: the same arguments replay bit for bit, whatever ``threads`` is.
    ``q0`` defaults to the named ``pose``, else :meth:`Model.default_configuration` (a floating
    base rests on the ground in the ``stand`` pose). ``controller`` defaults to
    :meth:`PD.stance` (gravity compensation of the stance plus PD) for a floating base with
    contact, else :meth:`PD.critically_damped` holding ``q0``. ``contact`` (ground plane at
    z = 0) defaults to on for floating-base models; ``contact_stiffness`` (N/m) and
    ``contact_damping`` (N s/m) per contact point override the model's defaults
    (:meth:`Model.contact_defaults`). Pass a :class:`RolloutHandle` to cancel from another
    thread (``handle.cancel()``). ``threads`` is the thread budget of this call (None or 0 =
    all cores, 1 = the calling thread); the results do not depend on it.
    ``joint_limits=False`` disables the URDF position-limit springs (e.g. for energy checks).
    ``integrator="rk4"`` is fully explicit: prefer the default semi-implicit Euler with contact.

    Divergence (the episode stops, ``metrics["diverged"]``, ``divergence[e]``): a non-finite
    state, a speed above ``divergence_velocity``, a joint faster than ``velocity_limit_factor``
    (default 10) times its URDF velocity limit, mechanical energy grown beyond the actuators'
    work by ``energy_growth`` (default 0.5) of ``T0 + m g * 1 m``, or a floating base farther
    than ``base_bound`` (default 100 m) from its start or 0.5 m below the ground.
    Raises :data:`~ridgeline.sim.model.FieldError` (a ``ValueError``) naming a bad ``q0``,
    ``v0``, ``pose`` or ``record``.
    """
    if steps < 0 or episodes < 1:
        raise ValueError("steps must be >= 0 and episodes >= 1")
    if integrator not in INTEGRATORS:
        raise ValueError(f"unknown integrator {integrator!r} (one of {', '.join(INTEGRATORS)})")
    if seed < 0 or seed >= 2**64:
        raise ValueError("seed must be in [0, 2**64)")
    if threads is not None and threads < 0:
        raise ValueError("threads must be >= 0 (0 = all cores)")
    if q0 is not None and pose is not None:
        raise ValueError("give q0 or pose, not both")
    if q0 is not None:
        q_init = np.ascontiguousarray(q0, dtype=np.float64)
    else:
        q_init = model.default_configuration() if pose is None else model.pose(pose)
    if controller is None:
        q_ok = q_init if q_init.shape == (model.nq,) else None
        if model.floating_base and contact is not False and q_ok is not None:
            controller = PD.stance(model, q=q_ok)
        else:
            controller = PD.critically_damped(model, q=q_ok)
    kp = kd = torques = None
    if isinstance(controller, PD | ComputedTorque):
        kp, kd = controller.gains(model)
    elif isinstance(controller, OpenLoop):
        torques = controller.array(model)
    elif not isinstance(controller, ZeroTorque):
        raise TypeError(
            f"controller must be ZeroTorque, PD, ComputedTorque or OpenLoop, got {type(controller).__name__}"
        )
    ref = controller.reference
    name, entries = _profile_args(profile)
    out = sim_rollout(
        model.native,
        controller=controller.kind,
        kp=kp,
        kd=kd,
        torques=torques,
        ref_q=None if ref is None else ref.q,
        ref_v=None if ref is None else ref.v,
        ref_a=None if ref is None else ref.a,
        profile=name,
        profile_entries=entries,
        steps=steps,
        dt=float(dt),
        seed=int(seed),
        episodes=episodes,
        integrator=integrator,
        q0=q_init,
        v0=None if v0 is None else np.ascontiguousarray(v0, dtype=np.float64),
        contact=contact,
        record=record,
        success_tolerance=success_tolerance,
        divergence_velocity=divergence_velocity,
        threads=0 if threads is None else int(threads),
        handle=handle,
        joint_limits=joint_limits,
        velocity_limit_factor=velocity_limit_factor,
        energy_growth=energy_growth,
        base_bound=base_bound,
        contact_stiffness=contact_stiffness,
        contact_damping=contact_damping,
    )
    return RolloutResult(
        profile=out["profile"],
        seed=int(seed),
        dt=float(dt),
        steps=steps,
        steps_completed=out["steps_completed"],
        cancelled=bool(out["cancelled"]),
        metrics=out["metrics"],
        params=out["params"],
        q=out.get("q"),
        v=out.get("v"),
        observations=out.get("observations"),
        actions=out.get("actions"),
        applied_torques=out.get("applied_torques"),
        started=out["started"],
        divergence=list(out["divergence"]),
    )
