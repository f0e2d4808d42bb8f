"""The sim family's HTTP layer (contract 001): ``family`` is mounted under ``/sim`` (or at the root
with ``ridgeline serve --only sim``).

The declaration lives in :mod:`ridgeline.sim.api.declaration` and loads on first access to
``family`` (PEP 562), so importing the wire types (``ridgeline.sim.api.schemas``) loads neither
Litestar nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

# Only these load the declaration; any other name (``schemas``, ``store`` ...) is a submodule, which
# ``from ridgeline.sim.api import schemas`` must import without loading the family.
_EXPORTS = frozenset({"family"})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("ridgeline.sim.api.declaration"), name)
