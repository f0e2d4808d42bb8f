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

    @property
    def episodes(self) -> int:
        return int(self.steps_completed.shape[0])

    def summary(self) -> dict[str, float]:
        """Means over episodes (diverged episodes count in the rates, not in error means)."""
        m = self.metrics
        ok = ~m["diverged"]
        mean_ok = lambda k: float(np.mean(m[k][ok])) if ok.any() else float("nan")  # noqa: E731
        return {
            "episodes": float(self.episodes),
            "success_rate": float(np.mean(m["success"])),
            "divergence_rate": float(np.mean(m["diverged"])),
            "tracking_rmse": mean_ok("tracking_rmse"),
            "max_tracking_error": mean_ok("max_tracking_error"),
            "energy": float(np.mean(m["energy"])),
            "avg_step_time_ms": float(np.mean(m["time_per_step"]) * 1e3),
            "mean_slip_speed": float(np.mean(m["mean_slip_speed"])),
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
) -> RolloutResult:
    """Run ``episodes`` closed-loop episodes of ``steps`` steps in parallel (GIL released).

    Each episode samples its reality parameters from ``profile`` with a random stream derived
    from ``(seed, episode)``: the same arguments replay bit for bit, whatever ``threads`` is.
    ``controller`` defaults to :meth:`PD.critically_damped` holding ``q0``. ``contact``
    (ground plane at z = 0) defaults to on for floating-base models. Pass a
    :class:`RolloutHandle` to cancel from another thread (``handle.cancel()``).
    ``joint_limits=False`` disables the URDF position-limit springs (e.g. for energy checks).
    ``integrator="rk4"`` is fully explicit: prefer the default semi-implicit Euler with contact.
    """
    if steps < 0 or episodes < 1:
        raise ValueError("steps must be >= 0 and episodes >= 1")
    if integrator not in INTEGRATORS:
        raise ValueError(f"unknown integrator {integrator!r} (one of {', '.join(INTEGRATORS)})")
    if seed < 0 or seed >= 2**64:
        raise ValueError("seed must be in [0, 2**64)")
    q_init = model.neutral() if q0 is None else np.ascontiguousarray(q0, dtype=np.float64)
    if controller is None:
        controller = PD.critically_damped(model, q=q_init if q_init.shape == (model.nq,) else None)
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
        threads=threads,
        handle=handle,
        joint_limits=joint_limits,
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
    )
