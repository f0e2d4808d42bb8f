"""Time-safe retail features on polars DataFrames: the embedding API over the Numba kernels.

    import polars as pl
    from ridgeline.retail import features

    spec = features.FeatureSpec(lags=(1, 7, 28), windows=(7, 28), window_stats=("mean", "std"))
    out = features.compute(df, spec, series_col="store", date_col="date", target_col="sales",
                           cutoff=date(2015, 6, 1), holidays=holiday_dates)

Definitions (by date, per series, never by row position):

* ``lag_k`` at date ``d`` is the target on ``d - k days`` (NaN if that date is absent, for example
  inside a store's half-year hole);
* ``roll_<stat>_<w>`` at ``d`` summarises the observations dated ``d - w .. d - 1`` (the day itself is
  excluded); NaN when fewer than ``min_periods`` observations are present; ``std`` is the sample
  standard deviation (ddof = 1);
* calendar: ``day_of_week`` (1 = Monday .. 7), ``month``, ``day_of_month``, ``day_of_year``,
  ``week_of_year`` (ISO), ``is_weekend``, and from the holiday calendar ``is_holiday``,
  ``days_to_next_holiday``, ``days_since_prev_holiday`` (NaN when there is none in the calendar);
* exogenous columns (price, promotion, open flag ...) are passed through as same-day values: they are
  plans known in advance, not outcomes.

Leakage prevention: every target-derived feature for date ``d`` uses only targets dated before ``d``.
With ``cutoff=c`` the frame is first restricted to dates before ``c``, so the result is identical
whether or not rows dated ``c`` or later exist. The holiday calendar is an input known in advance
(it is never derived from later sales rows). Missing values are NaN (float columns), which
LightGBM and scikit-learn's histogram gradient boosting handle natively.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date

import msgspec
import numba
import numpy as np
import polars as pl

from ridgeline.platform.problems import EngineError
from ridgeline.retail import kernels

CALENDAR_COLUMNS: tuple[str, ...] = (
    "day_of_week",
    "month",
    "day_of_month",
    "day_of_year",
    "week_of_year",
    "is_weekend",
    "is_holiday",
    "days_to_next_holiday",
    "days_since_prev_holiday",
)
WINDOW_STATS: tuple[str, ...] = ("mean", "std", "min", "max", "sum")
MAX_LAG_DAYS = 3660
MAX_WINDOW_DAYS = 3660
PARALLEL_MIN_ROWS = 50_000  # below this the single-threaded kernel is faster than the thread pool


class FeatureSpecError(EngineError, ValueError):
    """A feature configuration the kernels cannot compute: 400 ``invalid_feature_config``."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_feature_config", message)


class FeatureSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Which features to compute. Lags and windows are in days."""

    lags: tuple[int, ...] = (1, 7, 14, 28)
    windows: tuple[int, ...] = (7, 28)
    window_stats: tuple[str, ...] = ("mean", "std")
    min_periods: int = 1
    calendar: bool = True
    exog: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for k in self.lags:
            if not 1 <= k <= MAX_LAG_DAYS:
                raise FeatureSpecError(f"lag {k} must be between 1 and {MAX_LAG_DAYS} days")
        for w in self.windows:
            if not 1 <= w <= MAX_WINDOW_DAYS:
                raise FeatureSpecError(f"window {w} must be between 1 and {MAX_WINDOW_DAYS} days")
        for s in self.window_stats:
            if s not in kernels.STAT_CODES:
                raise FeatureSpecError(f"unknown window statistic {s!r}; allowed: {', '.join(WINDOW_STATS)}")
        if self.min_periods < 1:
            raise FeatureSpecError("min_periods must be at least 1")
        if len(set(self.lags)) != len(self.lags) or len(set(self.windows)) != len(self.windows):
            raise FeatureSpecError("lags and windows must not repeat")

    @property
    def max_lookback(self) -> int:
        """Days of history a feature row can reach back to."""
        return max((*self.lags, *self.windows, 1))

    def target_feature_names(self) -> list[str]:
        names = [f"lag_{k}" for k in self.lags]
        names += [f"roll_{s}_{w}" for w in self.windows for s in self.window_stats]
        return names

    def feature_names(self) -> list[str]:
        names = self.target_feature_names()
        if self.calendar:
            names += list(CALENDAR_COLUMNS)
        names += list(self.exog)
        return names


DEFAULT_SPEC = FeatureSpec()


def _days(col: pl.Series) -> np.ndarray:
    if col.dtype == pl.Datetime or isinstance(col.dtype, pl.Datetime):
        col = col.dt.date()
    if col.dtype != pl.Date:
        raise TypeError(f"date column {col.name!r} must be a polars Date (got {col.dtype})")
    if col.null_count():
        raise ValueError(f"date column {col.name!r} has nulls")
    return col.cast(pl.Int32).to_numpy().astype(np.int64, copy=False)


def _to_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def holiday_days(holidays: Iterable[date | str] | pl.Series | np.ndarray | None) -> np.ndarray:
    """A holiday calendar as sorted unique int64 days since the epoch."""
    if holidays is None:
        return np.empty(0, dtype=np.int64)
    if isinstance(holidays, pl.Series):
        days = _days(holidays.drop_nulls())
    elif isinstance(holidays, np.ndarray) and holidays.dtype.kind in "iu":
        days = holidays.astype(np.int64)
    else:
        days = _days(pl.Series("holiday", [_to_date(h) for h in holidays], dtype=pl.Date))
    return np.unique(days)


def _series_offsets(keys: pl.Series) -> tuple[np.ndarray, bool]:
    """Offsets of runs of equal keys, and whether each key forms exactly one run."""
    n = keys.len()
    if n == 0:
        return np.zeros(1, dtype=np.int64), True
    if keys.dtype.is_integer() and keys.null_count() == 0:
        arr = keys.to_numpy()
        change = arr[1:] != arr[:-1]
    else:
        change = keys.slice(1).ne_missing(keys.slice(0, n - 1)).to_numpy()
    starts = np.flatnonzero(change) + 1
    off = np.empty(starts.shape[0] + 2, dtype=np.int64)
    off[0] = 0
    off[1:-1] = starts
    off[-1] = n
    # Each key forms one run iff the keys at the run starts are all distinct (cheap: one per run).
    contiguous = keys.gather(off[:-1]).n_unique() == off.shape[0] - 1
    return off, contiguous


RADIX_MAX_RANGE = 50_000_000


def sort_by_series_date(df: pl.DataFrame, series_col: str, date_col: str) -> pl.DataFrame:
    """``df`` sorted by series then date: a radix sort (Numba) on integer series codes and days,
    falling back to polars' multi-key sort for key ranges too wide to count."""
    if df.height < 2:
        return df
    keys = df[series_col]
    if keys.dtype.is_integer() and keys.null_count() == 0:
        kmin = int(keys.min())  # type: ignore[arg-type]
        n_codes = int(keys.max()) - kmin + 1  # type: ignore[operator]
        codes = (keys.to_numpy().astype(np.int64) - kmin) if n_codes <= RADIX_MAX_RANGE else None
    else:
        codes = None
        if keys.null_count() == 0:
            phys = keys.cast(pl.String).cast(pl.Categorical).to_physical()
            uniq = keys.cast(pl.String).unique(maintain_order=True)
            # Order the codes by key so the output order does not depend on first appearance.
            rank = np.argsort(np.argsort(uniq.to_numpy(), kind="stable"), kind="stable").astype(np.int64)
            first = phys.to_numpy().astype(np.int64)
            remap = np.empty(int(first.max()) + 1, dtype=np.int64)
            remap[phys.unique(maintain_order=True).to_numpy().astype(np.int64)] = rank
            codes = remap[first]
            n_codes = uniq.len()
    days = df[date_col]
    if codes is None or days.null_count():
        return df.sort([series_col, date_col])
    d = _days(days)
    dmin, dmax = int(d.min()), int(d.max())
    if dmax - dmin + 1 > RADIX_MAX_RANGE:
        return df.sort([series_col, date_col])
    order = kernels.series_date_order(codes, n_codes, d, dmin, dmax - dmin + 1)
    return _gather(df, order)


def _gather(df: pl.DataFrame, order: np.ndarray) -> pl.DataFrame:
    """``df[order]``, with null-free numeric and date columns gathered in numpy (much faster)."""
    cols = []
    idx: pl.Series | None = None
    for col in df.get_columns():
        if col.null_count() == 0 and (col.dtype.is_numeric() or col.dtype == pl.Date):
            phys = col.to_physical().to_numpy()
            cols.append(pl.Series(col.name, phys[order]).cast(col.dtype))
        else:
            if idx is None:
                idx = pl.Series(order)
            cols.append(col.gather(idx))
    return pl.DataFrame(cols)


def is_sorted_by_series_date(df: pl.DataFrame, series_col: str, date_col: str) -> bool:
    """True when rows are ordered by series (each series contiguous) and strictly by date within."""
    if df.height < 2:
        return True
    keys = df[series_col]
    d = _days(df[date_col])
    if keys.dtype.is_integer() and keys.null_count() == 0:
        k = keys.to_numpy()
        up = k[1:] > k[:-1]
        same = k[1:] == k[:-1]
        return bool(np.all(up | (same & (d[1:] > d[:-1]))))
    off, contiguous = _series_offsets(keys)
    return contiguous and kernels.check_sorted_unique(off, d) < 0


def _prepare(df: pl.DataFrame, series_col: str, date_col: str) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Sort only if needed; return the frame, series offsets and days. Duplicate (series, date) fail."""
    off, contiguous = _series_offsets(df[series_col])
    days = _days(df[date_col])
    if not contiguous or kernels.check_sorted_unique(off, days) >= 0:
        df = sort_by_series_date(df, series_col, date_col)
        off, _ = _series_offsets(df[series_col])
        days = _days(df[date_col])
        bad = kernels.check_sorted_unique(off, days)
        if bad >= 0:
            key = df.row(int(bad), named=True)
            raise ValueError(
                f"duplicate rows for series {key[series_col]!r} on {key[date_col]}: "
                "one row per series and date is required"
            )
    return df, off, days


def _use_threads(n_rows: int) -> bool:
    """Run the parallel kernel? Only for large inputs, with more than one Numba thread, and when the
    machine is not already oversubscribed (1-minute load average below the core count): on busy
    shared cores a thread pool only adds contention (measured 2-3x slower than one thread)."""
    if n_rows < PARALLEL_MIN_ROWS or numba.get_num_threads() < 2:
        return False
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1)
    except OSError:
        return True


def _run_kernel(
    spec: FeatureSpec,
    obs_off: np.ndarray,
    obs_day: np.ndarray,
    obs_val: np.ndarray,
    q_off: np.ndarray,
    q_day: np.ndarray,
) -> np.ndarray:
    n_lags, n_stats = len(spec.lags), len(spec.window_stats)
    n_feat = n_lags + len(spec.windows) * n_stats
    stat_rows = np.full((len(spec.windows), 5), -1, dtype=np.int64)
    for wi in range(len(spec.windows)):
        for si, stat in enumerate(spec.window_stats):
            stat_rows[wi, kernels.STAT_CODES[stat]] = n_lags + wi * n_stats + si
    out = np.empty((n_feat, q_day.shape[0]), dtype=np.float64)
    if n_feat and q_day.shape[0]:
        kernel = kernels.series_features if _use_threads(q_day.shape[0]) else kernels.series_features_serial
        kernel(
            obs_off,
            obs_day,
            obs_val,
            q_off,
            q_day,
            np.asarray(spec.lags, dtype=np.int64),
            np.asarray(spec.windows, dtype=np.int64),
            stat_rows,
            spec.min_periods,
            q_day is obs_day,
            out,
        )
    return out


def calendar_frame(dates: pl.Series, holidays: np.ndarray) -> pl.DataFrame:
    """The calendar columns for a Date series (row for row)."""
    days = _days(dates)
    n = days.shape[0]
    is_hol = np.empty(n)
    nxt = np.empty(n)
    prv = np.empty(n)
    kernels.holiday_distances(days, holidays, is_hol, nxt, prv)
    d = dates.dt
    return pl.DataFrame(
        {
            "day_of_week": d.weekday().cast(pl.Float64),
            "month": d.month().cast(pl.Float64),
            "day_of_month": d.day().cast(pl.Float64),
            "day_of_year": d.ordinal_day().cast(pl.Float64),
            "week_of_year": d.week().cast(pl.Float64),
            "is_weekend": (d.weekday() >= 6).cast(pl.Float64),
            "is_holiday": is_hol,
            "days_to_next_holiday": nxt,
            "days_since_prev_holiday": prv,
        }
    )


def _assemble(
    base: pl.DataFrame,
    spec: FeatureSpec,
    out: np.ndarray,
    date_col: str,
    holidays: np.ndarray,
) -> pl.DataFrame:
    cols = [pl.Series(name, out[i]) for i, name in enumerate(spec.target_feature_names())]
    result = base.hstack(cols)
    if spec.calendar:
        result = result.hstack(calendar_frame(base[date_col], holidays).get_columns())
    return result


def _check_columns(df: pl.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise KeyError(f"missing column(s): {', '.join(missing)}")


def compute(
    df: pl.DataFrame,
    spec: FeatureSpec | None = None,
    *,
    series_col: str = "series_id",
    date_col: str = "date",
    target_col: str = "y",
    cutoff: date | str | None = None,
    holidays: Iterable[date | str] | pl.Series | np.ndarray | None = None,
) -> pl.DataFrame:
    """Features for every row of ``df`` dated before ``cutoff`` (all rows when no cutoff).

    Returns the key columns, the target, the exogenous columns and the features, sorted by series
    then date (already-sorted input is used as is, without a copy of the sort).
    """
    spec = spec or DEFAULT_SPEC
    _check_columns(df, [series_col, date_col, target_col, *spec.exog])
    frame = df.select(series_col, date_col, target_col, *spec.exog)
    if frame[date_col].dtype != pl.Date:
        frame = frame.with_columns(pl.col(date_col).cast(pl.Date))
    if cutoff is not None:
        frame = frame.filter(pl.col(date_col) < _to_date(cutoff))
    frame, off, days = _prepare(frame, series_col, date_col)
    vals = frame[target_col].cast(pl.Float64).to_numpy()
    out = _run_kernel(spec, off, days, vals, off, days)
    return _assemble(frame, spec, out, date_col, holiday_days(holidays))


def compute_arrays(
    offsets: np.ndarray, days: np.ndarray, values: np.ndarray, spec: FeatureSpec | None = None
) -> np.ndarray:
    """The target features straight from numpy: an ``(n_features, n_rows)`` float64 array.

    ``offsets`` (int64, length n_series + 1) delimit the series; inside each, ``days`` (int64 days
    since 1970-01-01) must strictly increase; ``values`` is float64 with NaN for unknown. Rows of the
    result follow ``spec.target_feature_names()`` (calendar and exogenous columns are not included).
    """
    spec = spec or DEFAULT_SPEC
    off = np.ascontiguousarray(offsets, dtype=np.int64)
    day = np.ascontiguousarray(days, dtype=np.int64)
    val = np.ascontiguousarray(values, dtype=np.float64)
    if (
        off.ndim != 1
        or off.shape[0] < 1
        or off[0] != 0
        or off[-1] != day.shape[0]
        or np.any(np.diff(off) < 0)
    ):
        raise ValueError("offsets must start at 0, be non-decreasing and end at len(days)")
    if val.shape != day.shape:
        raise ValueError("days and values must have the same length")
    if kernels.check_sorted_unique(off, day) >= 0:
        raise ValueError("days must strictly increase inside each series")
    return _run_kernel(spec, off, day, val, off, day)


def compute_for(
    history: pl.DataFrame,
    queries: pl.DataFrame,
    spec: FeatureSpec | None = None,
    *,
    series_col: str = "series_id",
    date_col: str = "date",
    target_col: str = "y",
    holidays: Iterable[date | str] | pl.Series | np.ndarray | None = None,
) -> pl.DataFrame:
    """Features for arbitrary (series, date) query rows from ``history`` alone.

    This builds the leakage-safe future frame a forecaster predicts on: query rows carry the
    series, the date and the exogenous plan (``spec.exog``); targets come only from ``history``
    (so a lag reaching past the end of history is NaN). A series unknown to the history gets NaN
    target features. Output is sorted by series then date.
    """
    spec = spec or DEFAULT_SPEC
    _check_columns(history, [series_col, date_col, target_col])
    _check_columns(queries, [series_col, date_col, *spec.exog])
    hist, obs_off, obs_day = _prepare(history.select(series_col, date_col, target_col), series_col, date_col)
    hist_keys = hist[series_col].gather(obs_off[:-1]) if hist.height else hist[series_col]
    n_known = hist_keys.len()
    codes = pl.DataFrame({series_col: hist_keys, "__code": np.arange(n_known, dtype=np.int64)})
    q = (
        queries.select(series_col, date_col, *spec.exog)
        .with_columns(pl.col(date_col).cast(pl.Date))
        .join(codes, on=series_col, how="left")
        .with_columns(pl.col("__code").fill_null(n_known))
        .sort(["__code", date_col])
    )
    q_code = q["__code"].to_numpy()
    q_off = np.searchsorted(q_code, np.arange(n_known + 2), side="left").astype(np.int64)
    obs_off_ext = np.append(obs_off, obs_off[-1]).astype(np.int64)  # the empty "unknown" series
    q_day = _days(q[date_col])
    vals = hist[target_col].cast(pl.Float64).to_numpy()
    out = _run_kernel(spec, obs_off_ext, obs_day, vals, q_off, q_day)
    return _assemble(q.drop("__code"), spec, out, date_col, holiday_days(holidays))


#: Cadences :func:`detect_cadence` tells apart. Only daily series are forecast (the lags, windows,
#: seasonal periods and forecast grid are in days); the others are refused with a reason code.
CADENCES = ("daily", "weekly", "monthly")


def series_cadences(dates: pl.Series, series: pl.Series) -> dict[str, int]:
    """How many series have each cadence. A series is ``weekly`` when the median gap between its
    dates is 7 days and at least 90 % of them fall on one weekday (a slow daily item that sells on
    random days is not), ``monthly`` when the median gap is 28-31 days and 90 % share a day of the
    month (or are month ends); otherwise (gaps included) ``daily``. Series with fewer than 4 dates
    count as daily (nothing to tell)."""
    df = pl.DataFrame({"s": series, "d": dates.cast(pl.Date)}).drop_nulls().unique().sort("s", "d")
    per = df.group_by("s").agg(
        pl.len().alias("n"),
        pl.col("d").diff().dt.total_days().median().alias("gap"),
        (pl.col("d").dt.weekday().value_counts(sort=True).first().struct.field("count") / pl.len()).alias(
            "wd"
        ),
        (pl.when(pl.col("d").dt.month_end() == pl.col("d")).then(0).otherwise(pl.col("d").dt.day()))
        .value_counts(sort=True)
        .first()
        .struct.field("count")
        .truediv(pl.len())
        .alias("md"),
    )
    kind = (
        pl.when((pl.col("n") >= 4) & (pl.col("gap") == 7) & (pl.col("wd") >= 0.9))
        .then(pl.lit("weekly"))
        .when((pl.col("n") >= 4) & pl.col("gap").is_between(28, 31) & (pl.col("md") >= 0.9))
        .then(pl.lit("monthly"))
        .otherwise(pl.lit("daily"))
    )
    counts = per.select(kind.alias("k"))["k"].value_counts()
    return dict(zip(counts["k"].to_list(), counts["count"].to_list(), strict=True))


def detect_cadence(dates: pl.Series, series: pl.Series | None = None) -> str:
    """``"daily"`` when every series is daily, else the most common other cadence (see
    :func:`series_cadences`)."""
    if series is None:
        series = pl.Series("s", [0] * dates.len())
    counts = series_cadences(dates, series)
    other = {k: n for k, n in counts.items() if k != "daily"}
    if not other:
        return "daily"
    return max(other, key=lambda k: other[k])
