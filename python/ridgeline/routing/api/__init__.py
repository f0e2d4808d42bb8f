"""The routing HTTP family (contract 000): routes, Pareto sets and streams, vehicles, experiments,
batches, signed runs and artifacts, oracle quality.

``family`` is mounted under ``/routing`` (or at the root with ``ridgeline serve --only routing``).
Assets come from ``RIDGELINE_ROUTING_ASSETS`` (a directory built by ``ridgeline assets build``);
without it the deterministic sample region is built on first start (``RIDGELINE_SEED_DEFAULTS=1``).

The declaration lives in :mod:`ridgeline.routing.api.declaration` and loads on first access to
``family`` (PEP 562), so importing the wire types (``ridgeline.routing.api.schemas``) loads neither
Litestar nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

# Only these load the declaration; any other name (``schemas``, ``store`` ...) is a submodule, which
# ``from ridgeline.routing.api import schemas`` must import without loading the family.
_EXPORTS = frozenset({"family", "build_family"})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("ridgeline.routing.api.declaration"), name)
