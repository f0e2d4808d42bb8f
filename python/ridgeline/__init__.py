"""Ridgeline: routing, simulation and forecasting on a compiled core.

Importing this package is cheap and imports no server code: the engines
(`ridgeline.routing`, `ridgeline.sim`, `ridgeline.retail`) are embeddable on
their own. The HTTP layer lives in `ridgeline.app` and the families' `api`
sub-packages.
"""

from ridgeline._native import build_info

__version__: str = build_info()["version"]

__all__ = ["__version__", "build_info"]
