"""Rule-based explanation of a baseline model's next-day (h = 1) forecast.

Only the baselines (``naive``, ``seasonal_naive``, ``moving_average``) are explained: their
forecast is a transparent rule, so it can be decomposed exactly. Everything is time-safe: only
observations dated on or before ``as_of_date`` are read; the forecast is for ``as_of_date + 1``.

* **Drivers** add up to the forecast: ``recent_level`` (mean of the 28 days up to ``as_of_date``)
  plus rule-specific terms (``weekday_pattern`` and ``last_season_deviation`` for seasonal naive,
  ``last_day_deviation`` for naive, ``window_vs_level`` for the moving average).
* **Reason codes** are advisory retail signals that co-occur with the forecast (correlation, not
  causation): promotion association, holiday proximity, trend, volatility, weekly seasonality,
  recent zero sales, data gaps.
* **Confidence band**: empirical quantiles of the same rule's h = 1 errors at every origin in the
  last 90 days (method ``empirical_h1_errors``), added to the forecast and clipped at 0 for
  non-negative series; with fewer than 10 such errors, ``forecast +- z * std`` of the errors
  (``normal_h1_errors``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np
import polars as pl

from ridgeline.platform.problems import EngineError
from ridgeline.retail import features
from ridgeline.retail.models import BASELINE_TYPES, Columns

MIN_HISTORY_DAYS = 14
LEVEL_DAYS = 28
BAND_DAYS = 90


class ExplainError(EngineError, ValueError):
    """A request that cannot be explained (non-baseline model, too little history): 400
    ``insufficient_history``."""

    def __init__(self, message: str, code: str = "insufficient_history", **extra: Any) -> None:
        super().__init__(400, code, message, **extra)


class Driver(msgspec.Struct):
    name: str
    value: float
    contribution: float
    share: float  # contribution / forecast (0 when the forecast is 0)
    description: str


class ReasonCode(msgspec.Struct):
    code: str
    direction: str  # "up", "down" or "neutral"
    strength: float
    evidence: str
    advisory: bool = True


class ConfidenceBand(msgspec.Struct):
    level: int
    lower: float
    upper: float
    method: str
    n_errors: int


class ForecastExplanation(msgspec.Struct):
    series_id: Any
    model_type: str
    as_of_date: date
    target_date: date
    forecast: float
    drivers: list[Driver]
    reason_codes: list[ReasonCode]
    confidence_band: ConfidenceBand
    caveats: list[str]
    summary: str
    history_days: int


def _rule_forecast(
    days: np.ndarray, y: np.ndarray, target: int, model_type: str, season: int, window: int
) -> float:
    """The baseline rule's forecast for day ``target`` from observations (days < target)."""
    mask = days < target
    d, v = days[mask], y[mask]
    if v.size == 0:
        return math.nan
    last = float(v[-1])
    if model_type == "naive":
        return last
    if model_type == "seasonal_naive":
        for j in range(1, 9):
            hit = np.flatnonzero(d == target - season * j)
            if hit.size:
                return float(v[hit[0]])
        return last
    sel = v[d >= target - window]
    return float(sel.mean()) if sel.size else last


def explain_forecast(
    history: pl.DataFrame,
    model_type: str,
    as_of_date: date | str,
    *,
    series_id: Any = None,
    columns: Columns | None = None,
    season_length: int = 7,
    window: int = 7,
    level: int = 80,
    promo_col: str | None = None,
    holidays: Iterable[date | str] | pl.Series | np.ndarray | None = None,
) -> ForecastExplanation:
    """Explain ``model_type``'s forecast for ``as_of_date + 1`` on one series of ``history``."""
    if model_type not in BASELINE_TYPES:
        raise ExplainError(
            f"model_type {model_type!r} cannot be explained: only baseline models "
            f"({', '.join(sorted(BASELINE_TYPES))}) have a rule-based explanation"
        )
    if not 0 < level < 100:
        raise ExplainError("level must be between 0 and 100")
    cols = columns or Columns()
    as_of = date.fromisoformat(as_of_date) if isinstance(as_of_date, str) else as_of_date
    frame = history
    if series_id is not None:
        frame = frame.filter(pl.col(cols.series) == series_id)
    elif frame.height and frame[cols.series].n_unique() > 1:
        raise ExplainError("history holds several series: give series_id")
    if series_id is None and frame.height:
        series_id = frame[cols.series][0]
    keep = [cols.date, cols.target] + ([promo_col] if promo_col and promo_col in frame.columns else [])
    frame = (
        frame.select(keep)
        .with_columns(pl.col(cols.date).cast(pl.Date))
        .filter(pl.col(cols.date) <= as_of)  # time-safe: nothing after as_of_date
        .filter(pl.col(cols.target).is_not_null() & pl.col(cols.target).cast(pl.Float64).is_not_nan())
        .sort(cols.date)
    )
    need = max(MIN_HISTORY_DAYS, 2 * season_length if model_type == "seasonal_naive" else 0, window)
    if frame.height < need:
        raise ExplainError(
            f"series has {frame.height} observed days up to {as_of.isoformat()}; at least {need} are needed"
        )
    days = frame[cols.date].cast(pl.Int32).to_numpy().astype(np.int64)
    y = frame[cols.target].cast(pl.Float64).to_numpy()
    target_date = as_of + timedelta(days=1)
    target = (target_date - date(1970, 1, 1)).days
    fc = _rule_forecast(days, y, target, model_type, season_length, window)

    def iso(d: int) -> str:
        return (date(1970, 1, 1) + timedelta(days=int(d))).isoformat()

    # Drivers --------------------------------------------------------------------------------
    recent = y[days > target - 1 - LEVEL_DAYS]
    if recent.size == 0:
        # Inside a data gap there is no recent level to describe (this used to be called a
        # 28-day mean while it was the mean of the whole history).
        raise ExplainError(
            f"as_of_date {as_of} falls inside a data gap: the last observation is on {iso(days[-1])}, "
            f"{target - 1 - int(days[-1])} days earlier, and none of the {LEVEL_DAYS} days up to "
            f"{as_of} has one; choose an as_of_date with recent observations",
            last_observation=iso(days[-1]),
            days_without_data=target - 1 - int(days[-1]),
        )
    level_v = float(recent.mean())
    missing = LEVEL_DAYS - int(recent.size)
    drivers: list[tuple[str, float, float, str]] = [
        (
            "recent_level",
            level_v,
            level_v,
            f"mean of the {recent.size} observed days between {iso(target - LEVEL_DAYS)} and {as_of}"
            + (f" ({missing} of those {LEVEL_DAYS} days have no observation)" if missing else ""),
        )
    ]
    last_txt = f"on {iso(days[-1])}, {target - int(days[-1])} days before the target"
    if model_type == "naive":
        drivers.append(
            (
                "last_day_deviation",
                float(y[-1]),
                fc - level_v,
                f"last observed value ({last_txt}) minus the recent level",
            )
        )
    elif model_type == "seasonal_naive":
        same = y[((target - days) % season_length == 0) & (days > target - 1 - LEVEL_DAYS)]
        wd = float(same.mean()) - level_v if same.size else 0.0
        drivers.append(
            (
                "weekday_pattern",
                float(same.mean()) if same.size else level_v,
                wd,
                f"same phase of the {season_length}-day season over the recent window, minus the recent level",
            )
        )
        back = next((j for j in range(1, 9) if (days == target - season_length * j).any()), None)
        if back is None:
            used = f"no same-phase value in 8 seasons: the last observed value ({last_txt})"
        else:
            used = (
                f"value on {iso(target - season_length * back)}, {back} season{'s' if back > 1 else ''} "
                f"({season_length} days each) before the target"
                + (" (the nearer same-phase days have no observation)" if back > 1 else "")
            )
        drivers.append(
            ("last_season_deviation", fc, fc - level_v - wd, f"{used}, against the typical same-phase value")
        )
    else:
        n_win = int(((days >= target - window) & (days < target)).sum())
        used = (
            f"mean of the {n_win} observed days of the {window} days before the target"
            if n_win
            else f"no observation in the {window} days before the target: the last observed value ({last_txt})"
        )
        drivers.append(("window_vs_level", fc, fc - level_v, f"{used}, minus the recent level"))
    driver_objs = [Driver(n, float(v), float(c), float(c / fc) if fc else 0.0, d) for n, v, c, d in drivers]

    # Reason codes ---------------------------------------------------------------------------
    codes: list[ReasonCode] = []
    caveats = [
        "Rule-based explanation of a baseline model; reason codes describe correlations in the history, not causes.",
    ]
    last7 = y[days > target - 1 - 7]
    prev7 = y[(days <= target - 1 - 7) & (days > target - 1 - 14)]
    if last7.size and prev7.size and prev7.mean() > 0:
        change = float(last7.mean() / prev7.mean() - 1.0)
        if abs(change) >= 0.10:
            codes.append(
                ReasonCode(
                    "TREND_UP" if change > 0 else "TREND_DOWN",
                    "up" if change > 0 else "down",
                    change,
                    f"last 7 days average {last7.mean():.1f} vs {prev7.mean():.1f} the week before ({change:+.0%})",
                )
            )
    if recent.size >= 7 and recent.mean() > 0:
        cv = float(recent.std(ddof=1) / recent.mean())
        if cv > 0.5:
            codes.append(
                ReasonCode(
                    "HIGH_VOLATILITY",
                    "neutral",
                    cv,
                    f"coefficient of variation {cv:.2f} over {LEVEL_DAYS} days",
                )
            )
            caveats.append("The series is volatile; the confidence band is wide.")
    lagged = _acf_at(days, y, season_length)
    if lagged is not None and lagged > 0.5:
        codes.append(
            ReasonCode(
                "WEEKLY_SEASONALITY",
                "neutral",
                lagged,
                f"autocorrelation {lagged:.2f} at lag {season_length}",
            )
        )
    zeros = int((last7 == 0).sum())
    if zeros:
        codes.append(
            ReasonCode(
                "RECENT_ZERO_SALES",
                "down",
                float(zeros),
                f"{zeros} zero-sales day(s) in the last 7 (closure or stock-out?)",
            )
        )
    window_start = target - LEVEL_DAYS
    present = int((days >= window_start).sum())
    if present < LEVEL_DAYS:
        codes.append(
            ReasonCode(
                "DATA_GAP",
                "neutral",
                float(LEVEL_DAYS - present),
                f"{LEVEL_DAYS - present} of the last {LEVEL_DAYS} days have no observation",
            )
        )
        caveats.append("Missing days in the recent history: the rule uses calendar dates, so gaps weaken it.")
    if promo_col and promo_col in frame.columns:
        promo = frame[promo_col].cast(pl.Float64).fill_null(0.0).to_numpy()
        sel = days > target - 1 - BAND_DAYS
        on, off = y[sel & (promo > 0)], y[sel & (promo <= 0)]
        if on.size >= 3 and off.size >= 3 and off.mean() > 0:
            uplift = float(on.mean() / off.mean() - 1.0)
            if abs(uplift) >= 0.05:
                codes.append(
                    ReasonCode(
                        "PROMO_ASSOCIATED_UPLIFT" if uplift > 0 else "PROMO_ASSOCIATED_DROP",
                        "up" if uplift > 0 else "down",
                        uplift,
                        f"promotion days averaged {uplift:+.0%} vs other days over the last {BAND_DAYS} days",
                    )
                )
        if promo[-1] > 0:
            codes.append(
                ReasonCode("PROMO_ACTIVE_AT_ORIGIN", "up", 1.0, f"a promotion was running on {as_of}")
            )
    hol = features.holiday_days(holidays)
    if hol.size:
        near = hol[(hol >= target - 3) & (hol <= target + 3)]
        if near.size:
            dist = int(near[np.argmin(np.abs(near - target))] - target)
            codes.append(
                ReasonCode(
                    "HOLIDAY_PROXIMITY",
                    "neutral",
                    float(dist),
                    f"a holiday falls {abs(dist)} day(s) {'after' if dist >= 0 else 'before'} the target date",
                )
            )
            caveats.append("A holiday is near the target date; baselines do not model holiday effects.")

    # Confidence band ------------------------------------------------------------------------
    errors = []
    for t in days[days > target - 1 - BAND_DAYS]:
        if (days < t).sum() < need:
            continue
        f = _rule_forecast(days, y, int(t), model_type, season_length, window)
        errors.append(float(y[days == t][0] - f))
    err = np.asarray(errors)
    alpha = (100 - level) / 200.0
    if err.size >= 10:
        lower, upper = fc + float(np.quantile(err, alpha)), fc + float(np.quantile(err, 1 - alpha))
        method = "empirical_h1_errors"
    else:
        from statistics import NormalDist

        z = NormalDist().inv_cdf(1 - alpha)
        sd = float(err.std(ddof=1)) if err.size >= 2 else float(np.std(y))
        lower, upper = fc - z * sd, fc + z * sd
        method = "normal_h1_errors"
        caveats.append("Few past errors to calibrate the band; it assumes normal errors.")
    if (y >= 0).all():
        lower = max(lower, 0.0)
    band = ConfidenceBand(level, lower, upper, method, int(err.size))

    top = max(driver_objs[1:] or driver_objs, key=lambda d: abs(d.contribution))
    code_txt = ", ".join(c.code for c in codes) or "none"
    summary = (
        f"{model_type} forecasts {fc:.1f} for {target_date} ({level}% band {lower:.1f} to {upper:.1f}). "
        f"Recent level {level_v:.1f}; largest adjustment: {top.name} ({top.contribution:+.1f}). "
        f"Advisory signals: {code_txt}."
    )
    return ForecastExplanation(
        series_id=series_id,
        model_type=model_type,
        as_of_date=as_of,
        target_date=target_date,
        forecast=fc,
        drivers=driver_objs,
        reason_codes=codes,
        confidence_band=band,
        caveats=caveats,
        summary=summary,
        history_days=int(frame.height),
    )


def _acf_at(days: np.ndarray, y: np.ndarray, lag: int) -> float | None:
    """Correlation between y(d) and y(d - lag) over the last 90 days (by date)."""
    sel = days > days[-1] - BAND_DAYS
    d, v = days[sel], y[sel]
    pos = {int(k): float(x) for k, x in zip(d, v, strict=True)}
    pairs = [(pos[int(k)], pos[int(k) - lag]) for k in d if int(k) - lag in pos]
    if len(pairs) < 10:
        return None
    a = np.asarray(pairs)
    if a[:, 0].std() == 0 or a[:, 1].std() == 0:
        return None
    return float(np.corrcoef(a[:, 0], a[:, 1])[0, 1])
