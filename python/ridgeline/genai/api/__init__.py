"""The genai family's HTTP layer: ``family`` is mounted under ``/genai`` (or at the root with
``ridgeline serve --only genai``). The declaration lives in :mod:`ridgeline.genai.api.declaration`
and loads on first access to ``family`` (PEP 562), so importing wire types loads no Litestar."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = frozenset({"family"})


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("ridgeline.genai.api.declaration"), name)
