"""The autopack family's HTTP layer: ``family`` is mounted under ``/autopack`` (or at the root with
``ridgeline serve --only autopack``). The declaration lives in :mod:`ridgeline.autopack.api.declaration`
and loads on first access to ``family`` (PEP 562), so importing wire types loads no Litestar."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = frozenset({"family"})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("ridgeline.autopack.api.declaration"), name)
