"""Retail demand forecasting engine: synthetic history generation (``synth``), time-safe features,
models, backtests, explanations and scenarios. Embeddable with no server: nothing here imports
Litestar or the database (``ridgeline.retail.api`` is the HTTP family built on top).

Submodules load on first use (PEP 562), so ``import ridgeline.retail`` does not compile the Numba
feature kernels; ``ridgeline.retail.features`` (or anything that computes features) does.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["backtest", "explain", "features", "metrics", "models", "scenarios"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"ridgeline.retail.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
