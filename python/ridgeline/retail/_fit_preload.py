"""Imported once by the fit fork server (:mod:`ridgeline.retail.isolation`) so every child starts warm.

Only imports and Numba's one-time target set-up happen here: nothing that starts threads (polars'
pool, OpenMP, Numba's parallel layer), which a forked child would inherit broken.
"""

from __future__ import annotations

import numpy as np
from numba import njit

import ridgeline.retail.backtest
import ridgeline.retail.models  # noqa: F401
from ridgeline.retail import kernels


@njit(cache=True, nogil=True)
def _touch(x):  # type: ignore[no-untyped-def]
    return x + 1


def _warm() -> None:
    import lightgbm  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import threadpoolctl  # noqa: F401

    _touch(1)  # initialises Numba's CPU target (about half a second per process otherwise)
    off = np.array([0, 2], dtype=np.int64)
    kernels.check_sorted_unique(off, np.array([0, 1], dtype=np.int64))


_warm()
