"""Reality profiles: named sets of parameter distributions sampled per episode by the engine.

Built-in profiles: ``default`` (nominal), ``ideal`` (no joint damping or friction, for
verification), ``slippery_warehouse`` and ``pseudo_reality_A``. ``reality_profiles()`` returns
them with every parameter's meaning and distribution. A custom :class:`Profile` overrides some
parameters of ``default``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ridgeline._native import custom_profile, reality_profiles

_ARITY = {"constant": 1, "uniform": 2, "normal": 4, "log_uniform": 2}


@dataclass(frozen=True)
class Profile:
    """A custom reality profile.

    ``distributions`` maps a parameter name to ``(kind, *values)``: ``("constant", v)``,
    ``("uniform", low, high)``, ``("normal", mean, std, low, high)`` (clamped to
    ``[low, high]``) or ``("log_uniform", low, high)``. Unnamed parameters keep ``default``.
    """

    name: str
    distributions: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    description: str = "custom profile"

    def entries(self) -> list[tuple[str, str, list[float]]]:
        out: list[tuple[str, str, list[float]]] = []
        for param, spec in self.distributions.items():
            if not spec or not isinstance(spec[0], str):
                raise ValueError(f"profile parameter {param!r}: expected (kind, *values), got {spec!r}")
            kind, values = spec[0], [float(x) for x in spec[1:]]
            out.append((param, kind, values))
        return out

    def describe(self) -> dict[str, Any]:
        """The full profile (every parameter) as the engine will sample it; validates it."""
        return custom_profile(self.name, self.description, self.entries())


def profile_names() -> list[str]:
    return [p["name"] for p in reality_profiles()]


__all__ = ["Profile", "profile_names", "reality_profiles"]
