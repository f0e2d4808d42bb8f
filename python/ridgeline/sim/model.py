"""`Model`: a rigid-body model loaded from URDF, backed by the native core."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from ridgeline._native import SIM_MAX_RECORDED_BYTES, SIM_POSES, SimFieldError, SimModel

FloatArray = npt.NDArray[np.float64]

#: Named poses accepted by :meth:`Model.pose` (and ``rollout(pose=...)``).
POSES: tuple[str, ...] = tuple(SIM_POSES)

#: Largest recording one rollout may hold (q, v, observations, actions, applied torques as
#: float64 for every step of every episode); defined once, in the native core.
MAX_RECORDED_BYTES: int = int(SIM_MAX_RECORDED_BYTES)

#: Raised when a state or option does not fit the model; ``err.field`` names it
#: (``initial_q``, ``initial_v``, ``q0``, ``pose``, ``record``, ...). A ``ValueError``.
FieldError = SimFieldError

_f64 = np.float64


def _vec(x: Any) -> FloatArray:
    return np.ascontiguousarray(x, dtype=_f64)


class Model:
    """An articulated rigid-body model (immutable, thread-safe).

    Joint order is depth-first from the root, following the URDF's child order. Revolute,
    continuous and prismatic joints have one coordinate each (a continuous joint is an
    unbounded angle). With ``floating_base=True`` a free-flyer root joint comes first:
    ``q[:7] = [x, y, z, qx, qy, qz, qw]`` (world position, unit quaternion) and
    ``v[:6] = [linear, angular]`` velocity in the base frame.
    """

    __slots__ = ("_m",)

    def __init__(self, native: SimModel) -> None:
        self._m = native

    @classmethod
    def from_urdf(cls, path: str | os.PathLike[str], floating_base: bool = False) -> Model:
        """Load a URDF file. Raises ``ValueError`` naming the link or joint of a bad model."""
        return cls(SimModel.from_urdf_file(os.fspath(path), floating_base))

    @classmethod
    def from_urdf_string(cls, xml: str, floating_base: bool = False) -> Model:
        """Build a model from URDF text."""
        return cls(SimModel.from_urdf_string(xml, floating_base))

    @property
    def native(self) -> SimModel:
        return self._m

    @property
    def name(self) -> str:
        return self._m.name

    @property
    def nq(self) -> int:
        return self._m.nq

    @property
    def nv(self) -> int:
        return self._m.nv

    @property
    def n_actuated(self) -> int:
        """Number of actuated joints (every joint but the free-flyer)."""
        return self._m.n_actuated

    @property
    def floating_base(self) -> bool:
        return self._m.floating_base

    @property
    def joint_names(self) -> list[str]:
        return self._m.joint_names

    @property
    def actuated_joint_names(self) -> list[str]:
        names = self._m.joint_names
        return names[1:] if self._m.floating_base else names

    @property
    def body_links(self) -> list[str]:
        return self._m.body_links

    @property
    def root_link(self) -> str:
        return self._m.root_link

    @property
    def total_mass(self) -> float:
        return self._m.total_mass

    @property
    def gravity(self) -> tuple[float, float, float]:
        return self._m.gravity

    @property
    def lower_limits(self) -> FloatArray:
        """Lower position limit of each actuated joint (NaN when unlimited)."""
        return self._m.lower_limits

    @property
    def upper_limits(self) -> FloatArray:
        return self._m.upper_limits

    @property
    def effort_limits(self) -> FloatArray:
        """Effort limit of each actuated joint (NaN when unlimited)."""
        return self._m.effort_limits

    @property
    def velocity_limits(self) -> FloatArray:
        """URDF velocity limit of each actuated joint (NaN when none)."""
        return self._m.velocity_limits

    @property
    def damping(self) -> FloatArray:
        return self._m.damping

    @property
    def friction(self) -> FloatArray:
        return self._m.friction

    @property
    def contact_links(self) -> list[str]:
        return self._m.contact_links

    def neutral(self) -> FloatArray:
        """The neutral configuration (zeros; identity base orientation)."""
        return self._m.neutral()

    def pose(self, name: str) -> FloatArray:
        """A named pose (:data:`POSES`): ``"neutral"`` (all joints zero, base at the origin) or
        ``"stand"`` (joints moved inside their limits, a floating base resting on the ground
        with its lowest collision point at z = 0). Raises :data:`FieldError` (field ``pose``)."""
        return self._m.pose(name)

    def default_configuration(self) -> FloatArray:
        """The default initial configuration of a rollout: the ``stand`` pose (for a fixed base,
        only joints whose zero lies outside their limits move inside them)."""
        return self._m.default_configuration()

    def lowest_point(self, q: npt.ArrayLike) -> float | None:
        """Height of the lowest contact point at ``q`` (None without contact geometry)."""
        return self._m.lowest_point(_vec(q))

    def check_state(
        self,
        q: npt.ArrayLike,
        v: npt.ArrayLike | None = None,
        *,
        q_field: str = "initial_q",
        v_field: str = "initial_v",
        limits: bool = True,
    ) -> None:
        """Validate an initial state: lengths, finite values, a unit base quaternion and (with
        ``limits``) joints inside their URDF limits. Raises :data:`FieldError` naming the field."""
        qq = np.asarray(q, dtype=_f64).ravel().tolist()
        vv = [0.0] * self.nv if v is None else np.asarray(v, dtype=_f64).ravel().tolist()
        self._m.check_state(qq, vv, q_field, v_field, limits)

    def holding_torques(self, q: npt.ArrayLike, ground: bool = True) -> FloatArray:
        """Actuated torques holding ``q`` still: ``RNEA(q, 0, 0)``, or for a floating base on
        the ground the inverse dynamics of its stance (see ``docs/sim-engine.md``)."""
        return self._m.holding_torques(_vec(q), ground)

    def stance_inertias(self, q: npt.ArrayLike, ground: bool = True) -> FloatArray:
        """Effective inertia per actuated joint for position control in the stance at ``q``
        (``M_jj``, plus the supported mass for the joints of a leg on the ground)."""
        return self._m.stance_inertias(_vec(q), ground)

    def contact_defaults(self) -> tuple[float, float, float]:
        """Default ground contact per point: ``(stiffness N/m, damping N s/m, slip speed m/s)``."""
        return self._m.contact_defaults()

    def recorded_bytes(self, steps: int, episodes: int) -> int:
        """Bytes a recorded rollout needs (compare with :data:`MAX_RECORDED_BYTES`)."""
        return int(self._m.recorded_bytes(steps, episodes))

    def aba(self, q: npt.ArrayLike, v: npt.ArrayLike, tau: npt.ArrayLike) -> FloatArray:
        """Forward dynamics (articulated-body algorithm): ``ddq = M(q)^-1 (tau - h(q, v))``."""
        return self._m.aba(_vec(q), _vec(v), _vec(tau))

    def rnea(self, q: npt.ArrayLike, v: npt.ArrayLike, a: npt.ArrayLike) -> FloatArray:
        """Inverse dynamics (recursive Newton-Euler): ``tau = M(q) a + h(q, v)``."""
        return self._m.rnea(_vec(q), _vec(v), _vec(a))

    def mass_matrix(self, q: npt.ArrayLike) -> FloatArray:
        """Joint-space mass matrix (composite rigid-body algorithm), shape ``(nv, nv)``."""
        return self._m.mass_matrix(_vec(q))

    def energy(self, q: npt.ArrayLike, v: npt.ArrayLike) -> tuple[float, float]:
        """``(kinetic, potential)`` energy in joules (potential is zero at z = 0)."""
        return self._m.energy(_vec(q), _vec(v))

    def body_positions(self, q: npt.ArrayLike) -> FloatArray:
        """World position of every body frame origin, shape ``(len(joint_names), 3)``."""
        return self._m.body_positions(_vec(q))

    def aba_batch(
        self, q: npt.ArrayLike, v: npt.ArrayLike, tau: npt.ArrayLike, threads: int | None = None
    ) -> FloatArray:
        """ABA on N rows at once, in parallel on ``threads`` threads (None or 0 = all cores),
        without holding the GIL."""
        return self._m.aba_batch(_vec(q), _vec(v), _vec(tau), threads)

    def rnea_batch(
        self, q: npt.ArrayLike, v: npt.ArrayLike, a: npt.ArrayLike, threads: int | None = None
    ) -> FloatArray:
        """RNEA on N rows at once, in parallel on ``threads`` threads (None or 0 = all cores),
        without holding the GIL."""
        return self._m.rnea_batch(_vec(q), _vec(v), _vec(a), threads)

    def __repr__(self) -> str:
        base = ", floating_base=True" if self.floating_base else ""
        return f"Model({self.name!r}, nq={self.nq}, nv={self.nv}{base})"
