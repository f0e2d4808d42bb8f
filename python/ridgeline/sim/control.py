"""Controllers and reference trajectories for rollouts.

Controllers act on the actuated joints from *observations* (which the reality profile may make
noisy, delayed and quantised); the tracking metrics use the true state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ridgeline.sim.model import FloatArray, Model


@dataclass(frozen=True)
class Reference:
    """A reference trajectory for the actuated joints: arrays of shape ``(steps, n_actuated)``."""

    q: FloatArray
    v: FloatArray
    a: FloatArray

    def __post_init__(self) -> None:
        for name in ("q", "v", "a"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if arr.ndim != 2:
                raise ValueError(f"reference {name} must be 2-D (steps, joints), got shape {arr.shape}")
            object.__setattr__(self, name, arr)
        if not (self.q.shape == self.v.shape == self.a.shape):
            raise ValueError(
                f"reference q, v, a shapes differ: {self.q.shape}, {self.v.shape}, {self.a.shape}"
            )

    @property
    def steps(self) -> int:
        return int(self.q.shape[0])

    @classmethod
    def hold(cls, q: npt.ArrayLike, steps: int) -> Reference:
        """Hold the actuated configuration ``q`` for ``steps`` steps."""
        qa = np.asarray(q, dtype=np.float64).reshape(1, -1)
        zeros = np.zeros((steps, qa.shape[1]))
        return cls(np.repeat(qa, steps, axis=0), zeros, zeros.copy())

    @classmethod
    def sinusoid(
        cls,
        model: Model,
        steps: int,
        dt: float,
        amplitude: float | npt.ArrayLike = 0.3,
        frequency: float | npt.ArrayLike = 0.5,
        center: npt.ArrayLike | None = None,
        phase: npt.ArrayLike | None = None,
    ) -> Reference:
        """``q(t) = center + amplitude sin(2 pi f t + phase)`` per actuated joint, with exact
        derivatives. The default phase staggers the joints (``j * pi / 4``)."""
        n = model.n_actuated
        t = (np.arange(steps) * dt)[:, None]
        amp = np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (n,))
        w = 2.0 * np.pi * np.broadcast_to(np.asarray(frequency, dtype=np.float64), (n,))
        c = np.zeros(n) if center is None else np.broadcast_to(np.asarray(center, dtype=np.float64), (n,))
        ph = np.arange(n) * (np.pi / 4.0) if phase is None else np.broadcast_to(np.asarray(phase), (n,))
        arg = w * t + ph
        return cls(c + amp * np.sin(arg), amp * w * np.cos(arg), -amp * w * w * np.sin(arg))


@dataclass(frozen=True)
class ZeroTorque:
    """No actuation (a passive system)."""

    reference: Reference | None = None

    kind = "zero"


def _gains(x: float | npt.ArrayLike, n: int, name: str) -> FloatArray:
    raw = np.asarray(x, dtype=np.float64).ravel()
    if raw.size not in (1, n):
        raise ValueError(
            f"{name}: expected length {n} (one gain per actuated joint) or a scalar, got {raw.size}"
        )
    arr = np.ascontiguousarray(np.broadcast_to(raw, (n,)))
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return arr


@dataclass(frozen=True)
class PD:
    """``u = kp (q_ref - q) + kd (v_ref - v)`` per actuated joint.

    ``kp`` and ``kd`` are scalars or one value per actuated joint. Without a reference the
    controller holds the initial configuration. With ``gravity_compensation`` the constant
    torque that holds the initial configuration still on the nominal model is added (for a
    floating base on the ground: the inverse dynamics of its stance), and under the default
    semi-implicit Euler the PD's own spring and damper are integrated implicitly, which keeps
    stiff gains on light joints stable.
    """

    kp: float | npt.ArrayLike
    kd: float | npt.ArrayLike
    reference: Reference | None = None
    gravity_compensation: bool = False

    @property
    def kind(self) -> str:
        return "pd_gravity" if self.gravity_compensation else "pd"

    def gains(self, model: Model) -> tuple[FloatArray, FloatArray]:
        return _gains(self.kp, model.n_actuated, "kp"), _gains(self.kd, model.n_actuated, "kd")

    @classmethod
    def critically_damped(
        cls,
        model: Model,
        bandwidth: float = 20.0,
        q: npt.ArrayLike | None = None,
        reference: Reference | None = None,
    ) -> PD:
        """Gains ``kp = w^2 M_jj``, ``kd = 2 w M_jj`` from the mass-matrix diagonal at ``q``."""
        qq = model.neutral() if q is None else np.asarray(q, dtype=np.float64)
        diag = np.diag(model.mass_matrix(qq))[model.nv - model.n_actuated :]
        return cls(kp=bandwidth**2 * diag, kd=2.0 * bandwidth * diag, reference=reference)

    @classmethod
    def stance(
        cls,
        model: Model,
        bandwidth: float = 20.0,
        q: npt.ArrayLike | None = None,
        reference: Reference | None = None,
        ground: bool = True,
    ) -> PD:
        """The default controller of a floating-base robot: gravity compensation of the stance
        plus PD with ``kp = w^2 I_j``, ``kd = 2 w I_j`` from each joint's effective inertia in
        the stance (:meth:`Model.stance_inertias`; for a fixed base, the mass-matrix diagonal)."""
        qq = model.default_configuration() if q is None else np.asarray(q, dtype=np.float64)
        inertia = model.stance_inertias(qq, ground)
        return cls(
            kp=bandwidth**2 * inertia,
            kd=2.0 * bandwidth * inertia,
            reference=reference,
            gravity_compensation=True,
        )


@dataclass(frozen=True)
class ComputedTorque:
    """``u = RNEA(q, v, a_ref + kp e + kd de)`` on the nominal model (feedback linearisation).

    The nominal model is the unrandomised one, so a reality profile's mass and gain errors show
    up as tracking error. A floating base is given zero commanded acceleration.
    """

    kp: float | npt.ArrayLike = 100.0
    kd: float | npt.ArrayLike = 20.0
    reference: Reference | None = None
    kind = "computed_torque"

    def gains(self, model: Model) -> tuple[FloatArray, FloatArray]:
        return _gains(self.kp, model.n_actuated, "kp"), _gains(self.kd, model.n_actuated, "kd")


@dataclass(frozen=True)
class OpenLoop:
    """Replay torque commands: ``torques`` is ``(steps, n_actuated)`` (the same for every
    episode) or ``(episodes, steps, n_actuated)``, e.g. the ``actions`` of an earlier rollout.

    Replaying one profile's actions under another profile isolates the dynamics gap. The
    commands still pass through the actuator model (gain, latency, effort limits). A
    ``reference`` only serves the tracking metrics.
    """

    torques: npt.ArrayLike
    reference: Reference | None = None
    kind = "open_loop"

    def array(self, model: Model) -> FloatArray:
        t = np.ascontiguousarray(self.torques, dtype=np.float64)
        if t.ndim not in (2, 3) or t.shape[-1] != model.n_actuated:
            raise ValueError(
                f"open-loop torques must be (steps, {model.n_actuated}) or "
                f"(episodes, steps, {model.n_actuated}), got shape {t.shape}"
            )
        if not np.all(np.isfinite(t)):
            raise ValueError("open-loop torques must be finite")
        return t


Controller = ZeroTorque | PD | ComputedTorque | OpenLoop

__all__ = ["PD", "ComputedTorque", "Controller", "OpenLoop", "Reference", "ZeroTorque"]
