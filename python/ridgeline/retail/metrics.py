"""Forecast accuracy metrics (pairs with a missing actual or forecast are ignored).

* ``mae``   mean absolute error, in the target's units.
* ``smape`` symmetric MAPE on the **0-200 scale** (percent): ``100 / n * sum(2 |y - f| / (|y| + |f|))``;
  a pair with ``y = f = 0`` contributes 0.
* ``wape``  weighted absolute percentage error as a **fraction**: ``sum |y - f| / sum |y|``
  (0.12 means 12 %); NaN when every actual is 0.
* ``bias``  mean signed error ``mean(f - y)``, in the target's units: **positive means
  over-forecasting**, negative under-forecasting. ``bias_pct`` is ``sum(f - y) / sum |y|`` (fraction).
* ``rmse``  root mean squared error.

Stability across backtest folds (see :mod:`ridgeline.retail.backtest`) is the standard deviation of
a model's per-fold WAPE: lower is more stable.
"""

from __future__ import annotations

import math

import numpy as np

METRIC_NAMES: tuple[str, ...] = ("mae", "rmse", "smape", "wape", "bias", "bias_pct")


def _pairs(actual: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.shape != f.shape:
        raise ValueError("actual and forecast must have the same shape")
    ok = ~(np.isnan(y) | np.isnan(f))
    return y[ok], f[ok]


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    return float(np.mean(np.abs(y - f))) if y.size else math.nan


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    return float(np.sqrt(np.mean((y - f) ** 2))) if y.size else math.nan


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    if not y.size:
        return math.nan
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(2.0 * np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100.0 * np.mean(terms))


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    total = float(np.sum(np.abs(y)))
    return float(np.sum(np.abs(y - f)) / total) if total > 0 else math.nan


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    return float(np.mean(f - y)) if y.size else math.nan


def bias_pct(actual: np.ndarray, forecast: np.ndarray) -> float:
    y, f = _pairs(actual, forecast)
    total = float(np.sum(np.abs(y)))
    return float(np.sum(f - y) / total) if total > 0 else math.nan


def all_metrics(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "smape": smape(actual, forecast),
        "wape": wape(actual, forecast),
        "bias": bias(actual, forecast),
        "bias_pct": bias_pct(actual, forecast),
    }
