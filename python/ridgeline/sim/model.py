"""`Model`: a rigid-body model loaded from URDF, backed by the native core."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from ridgeline._native import SimModel

FloatArray = npt.NDArray[np.float64]

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
        """ABA on N rows at once, in parallel, without holding the GIL."""
        return self._m.aba_batch(_vec(q), _vec(v), _vec(tau), threads)

    def rnea_batch(
        self, q: npt.ArrayLike, v: npt.ArrayLike, a: npt.ArrayLike, threads: int | None = None
    ) -> FloatArray:
        """RNEA on N rows at once, in parallel, without holding the GIL."""
        return self._m.rnea_batch(_vec(q), _vec(v), _vec(a), threads)

    def __repr__(self) -> str:
        base = ", floating_base=True" if self.floating_base else ""
        return f"Model({self.name!r}, nq={self.nq}, nv={self.nv}{base})"
