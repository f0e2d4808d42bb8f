"""Forecasting models: three baselines and two gradient-boosting models on time-safe features.

Every model works on a long polars frame (``series_id``, ``date``, ``y`` and optional exogenous
columns; names configurable through :class:`Columns`) and forecasts every series from one origin,
the day after the last date of the training history.

* ``naive``: the last observed value.
* ``seasonal_naive``: the value one season (``season_length`` days, default 7) before the target
  date, stepping back further whole seasons past missing days; the last value if none is found.
* ``moving_average``: the mean of the observations in the ``window`` days before the origin.
* ``lightgbm``: ``lightgbm.LGBMRegressor`` on lag, rolling, calendar and exogenous features.
* ``regression``: scikit-learn ``HistGradientBoostingRegressor`` on the same features.

The two learned models predict **recursively**: each step's prediction is appended to the history
and the next day's features are recomputed from it (:func:`ridgeline.retail.features.compute_for`),
so a feature never sees a value from the future. Exogenous values for the forecast dates come from
the caller's plan (``future``); without one, each series repeats the value it had on the same
weekday of its last observed week (the "same as last week" plan).

Prediction intervals (symmetric, method ``"scaled_residual_quantile"``): the model is refitted at
``interval_origins`` earlier origins (``origin = end - horizon - 7 k``) and forecasts ``horizon``
days from each; the absolute errors, divided by each series' mean absolute level over the 28 days
before that origin, give per-horizon empirical quantiles ``q_h`` (pooled over series and origins,
made non-decreasing in ``h``). The band is ``forecast +- q_h * scale`` with the series' scale at the
real origin, clipped at 0 when the history is non-negative. With too little history for one
calibration origin the bounds are NaN (``interval_method = "unavailable"``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from ridgeline.platform.problems import EngineError
from ridgeline.retail import features, kernels
from ridgeline.retail.features import FeatureSpec

MODEL_TYPES: tuple[str, ...] = ("naive", "seasonal_naive", "moving_average", "lightgbm", "regression")
BASELINE_TYPES: frozenset[str] = frozenset({"naive", "seasonal_naive", "moving_average"})
LEARNED_TYPES: frozenset[str] = frozenset({"lightgbm", "regression"})
DEFAULT_ML_FEATURES = FeatureSpec(
    lags=(1, 2, 3, 7, 14, 21, 28),
    windows=(7, 28),
    window_stats=("mean", "std", "min", "max"),
    calendar=True,
)
SCALE_DAYS = 28
#: Exogenous columns read as a price: the learned models' response to them is constrained to be
#: non-increasing (monotone constraints), and scenarios price changes through them.
PRICE_COLUMNS: tuple[str, ...] = ("price", "sell_price", "unit_price")
#: Exogenous open/closed flags (1 open, 0 closed): a learned model forecasts 0 on a planned closed day.
OPEN_COLUMNS: tuple[str, ...] = ("open", "is_open")
_MAGIC = b"RIDGELINE-RETAIL-MODEL\x01"


class ModelError(EngineError, ValueError):
    """A request the model cannot serve: 400 ``insufficient_data`` (too little or implausible history,
    missing plan columns) or, from :class:`ModelConfig`, 400 ``invalid_model_config``."""

    def __init__(self, message: str, code: str = "insufficient_data", **extra: Any) -> None:
        super().__init__(400, code, message, **extra)


class ParamError(ModelError):
    """422: a hyperparameter is not allowed for the model or out of its bounds (``key`` names it)."""

    def __init__(self, code: str, key: str, message: str, model_type: str | None = None) -> None:
        super().__init__(message, code, parameter=key, model_type=model_type)
        self.status = 422
        self.code = code
        self.key = key
        self.args = (code, key, message, model_type)  # so it pickles back from a fit child process

    def __str__(self) -> str:
        return self.message


class Param(msgspec.Struct, frozen=True):
    """One allowed hyperparameter: its type (``int``, ``float``, ``bool``), bounds and default."""

    type: str
    min: float | None
    max: float | None
    default: Any


# The only hyperparameters a caller may set, per model, with bounds that keep one fit within a few
# hundred MB and minutes (n_estimators=100000 with num_leaves=4096 grew a worker to 24 GB).
# Defaults are what the model uses when the key is absent. Baselines take no hyperparameters.
HYPERPARAMETERS: dict[str, dict[str, Param]] = {
    "lightgbm": {
        "n_estimators": Param("int", 1, 2000, 300),
        "learning_rate": Param("float", 0.001, 1.0, 0.05),
        "num_leaves": Param("int", 2, 256, 31),
        "max_depth": Param("int", -1, 32, -1),
        "min_child_samples": Param("int", 1, 10000, 20),
        "subsample": Param("float", 0.1, 1.0, 0.8),
        "subsample_freq": Param("int", 0, 100, 1),
        "colsample_bytree": Param("float", 0.1, 1.0, 0.9),
        "reg_alpha": Param("float", 0.0, 1000.0, 0.0),
        "reg_lambda": Param("float", 0.0, 1000.0, 0.0),
        "min_split_gain": Param("float", 0.0, 1000.0, 0.0),
        "max_bin": Param("int", 8, 1023, 255),
    },
    "regression": {
        "max_iter": Param("int", 1, 2000, 200),
        "learning_rate": Param("float", 0.001, 1.0, 0.1),
        "max_leaf_nodes": Param("int", 2, 256, 31),
        "max_depth": Param("int", 1, 32, None),
        "min_samples_leaf": Param("int", 1, 10000, 20),
        "l2_regularization": Param("float", 0.0, 1000.0, 0.0),
        "max_bins": Param("int", 8, 255, 255),
        "max_features": Param("float", 0.1, 1.0, 1.0),
    },
    "naive": {},
    "seasonal_naive": {},
    "moving_average": {},
}


def validate_params(model_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against :data:`HYPERPARAMETERS`; raises :class:`ParamError` naming the key."""
    table = HYPERPARAMETERS.get(model_type, {})
    out: dict[str, Any] = {}
    for key, value in params.items():
        spec = table.get(key)
        if spec is None:
            allowed = ", ".join(table) or "none"
            raise ParamError(
                "unknown_hyperparameter",
                key,
                f"{model_type} does not accept hyperparameter {key!r}; allowed: {allowed}",
                model_type,
            )
        if spec.type == "bool":
            if not isinstance(value, bool):
                raise ParamError("invalid_hyperparameter", key, f"{key} must be true or false", model_type)
            out[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError("invalid_hyperparameter", key, f"{key} must be a number", model_type)
        if spec.type == "int" and (isinstance(value, float) and not value.is_integer()):
            raise ParamError("invalid_hyperparameter", key, f"{key} must be a whole number", model_type)
        if not (spec.min is None or value >= spec.min) or not (spec.max is None or value <= spec.max):
            raise ParamError(
                "hyperparameter_out_of_range",
                key,
                f"{key}={value} is outside the allowed range {spec.min}..{spec.max} for {model_type}",
                model_type,
            )
        out[key] = int(value) if spec.type == "int" else float(value)
    return out


class Columns(msgspec.Struct, frozen=True, kw_only=True):
    series: str = "series_id"
    date: str = "date"
    target: str = "y"


class ModelConfig(msgspec.Struct, frozen=True, kw_only=True):
    model_type: str
    season_length: int = 7
    window: int = 7
    features: FeatureSpec | None = None  # learned models; None -> DEFAULT_ML_FEATURES + exog
    exog: tuple[str, ...] = ()
    params: dict[str, Any] = {}
    levels: tuple[int, ...] = (80, 95)
    interval_origins: int | None = None  # None -> 8 for baselines, 3 for learned models
    random_state: int = 0
    # Threads for fitting/predicting the learned models. 1 by default: OpenMP barriers collapse
    # when the cores are shared with other busy processes (measured 20x slower with 2 threads).
    n_jobs: int = 1

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ModelError(
                f"unknown model_type {self.model_type!r}; allowed: {', '.join(MODEL_TYPES)}",
                "invalid_model_config",
            )
        if self.season_length < 1 or self.window < 1:
            raise ModelError("season_length and window must be at least 1", "invalid_model_config")
        for lv in self.levels:
            if not 0 < lv < 100:
                raise ModelError(
                    f"interval level {lv} must be between 0 and 100 (exclusive)", "invalid_model_config"
                )

    @property
    def feature_spec(self) -> FeatureSpec:
        spec = self.features or DEFAULT_ML_FEATURES
        exog = tuple(dict.fromkeys((*spec.exog, *self.exog)))
        return msgspec.structs.replace(spec, exog=exog)

    @property
    def n_interval_origins(self) -> int:
        if self.interval_origins is not None:
            return self.interval_origins
        # Baseline refits are a kernel call; a learned refit is a model fit.
        return 3 if self.model_type in LEARNED_TYPES else 8


#: Fewest scaled errors behind one horizon's quantile: with fewer (one origin gives one error per
#: horizon) the 80 % and 95 % quantiles are the same number and the band is as wide as one error.
MIN_POOLED_ERRORS = 60


def pooled_quantiles(
    hs: np.ndarray, es: np.ndarray, horizon: int, levels: Iterable[int], min_errors: int = MIN_POOLED_ERRORS
) -> dict[int, np.ndarray]:
    """Per-horizon empirical quantiles of the scaled errors ``es`` (at horizons ``hs``), each pooled
    over the neighbouring horizons ``h - w .. h + w`` with the smallest ``w`` that holds
    ``min_errors`` errors (all of them when fewer exist), then made non-decreasing in ``h``."""
    ok = np.isfinite(es)
    hs, es = hs[ok].astype(np.int64), es[ok]
    out: dict[int, np.ndarray] = {}
    if es.size == 0:
        return {lv: np.zeros(horizon) for lv in levels}
    order = np.argsort(hs, kind="stable")
    hs, es = hs[order], es[order]
    pools = []
    for h in range(1, horizon + 1):
        w = 0
        while True:
            lo = np.searchsorted(hs, h - w, side="left")
            hi = np.searchsorted(hs, h + w, side="right")
            if hi - lo >= min_errors or (h - w <= hs[0] and h + w >= hs[-1]):
                break
            w += 1
        pools.append(es[lo:hi])
    for lv in levels:
        q = np.array([np.quantile(p, lv / 100.0) if p.size else 0.0 for p in pools])
        out[lv] = np.maximum.accumulate(q)
    return out


def _holdout(fc: pl.DataFrame, test: pl.DataFrame, start: date, days: int) -> dict[str, Any] | None:
    j = fc.join(test.select("series_id", "date", "y"), on=["series_id", "date"], how="inner").filter(
        pl.col("y").is_not_null() & pl.col("forecast").is_not_null()
    )
    if j.height == 0:
        return None
    y, f = j["y"].to_numpy(), j["forecast"].to_numpy()
    denom = float(np.sum(np.abs(y)))
    return {
        "wape": float(np.sum(np.abs(y - f)) / denom) if denom else None,
        "mae": float(np.mean(np.abs(y - f))),
        "days": days,
        "start": start.isoformat(),
        "end": (start + timedelta(days=days - 1)).isoformat(),
        "points": int(j.height),
    }


def _as_date(v: date | str) -> date:
    return date.fromisoformat(v) if isinstance(v, str) else v


def _normalise(df: pl.DataFrame, cols: Columns, exog: Iterable[str]) -> pl.DataFrame:
    """Internal frame: series_id, date (Date), y (Float64), exogenous columns as Float64."""
    exog = list(exog)
    missing = [c for c in (cols.series, cols.date, cols.target, *exog) if c not in df.columns]
    if missing:
        raise ModelError(f"history is missing column(s): {', '.join(missing)}")
    out = df.select(
        pl.col(cols.series).alias("series_id"),
        pl.col(cols.date).cast(pl.Date).alias("date"),
        pl.col(cols.target).cast(pl.Float64).fill_nan(None).alias("y"),
        *[pl.col(c).cast(pl.Float64).alias(c) for c in exog],
    )
    if features.is_sorted_by_series_date(out, "series_id", "date"):
        return out
    return features.sort_by_series_date(out, "series_id", "date")


def _seasonal_lookup(
    history: pl.DataFrame, queries: pl.DataFrame, value: str, season: int, max_back: int = 8
) -> pl.DataFrame:
    """For each query (series_id, date): the value ``season * j`` days earlier, smallest j >= 1
    such that the day is in ``history`` with a non-null value (j up to ``max_back``)."""
    obs = history.filter(pl.col(value).is_not_null()).select("series_id", "date", value)
    out = queries
    found = pl.lit(None, dtype=pl.Float64)
    for j in range(1, max_back + 1):
        cand = obs.select(
            "series_id",
            (pl.col("date") + pl.duration(days=season * j)).alias("date"),
            pl.col(value).alias(f"__v{j}"),
        )
        out = out.join(cand, on=["series_id", "date"], how="left")
        found = pl.coalesce(found, pl.col(f"__v{j}"))
    return out.with_columns(found.alias(value)).drop([f"__v{j}" for j in range(1, max_back + 1)])


def _epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def series_arrays(frame: pl.DataFrame) -> tuple[pl.Series, np.ndarray, np.ndarray, np.ndarray]:
    """(series keys, offsets, days, values) of an internal frame sorted by series_id then date."""
    off, _ = features._series_offsets(frame["series_id"])
    keys = frame["series_id"].gather(off[:-1]) if frame.height else frame["series_id"]
    day = frame["date"].cast(pl.Int32).to_numpy().astype(np.int64)
    val = frame["y"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return keys, off, day, val


def baseline_forecast_arrays(
    off: np.ndarray,
    day: np.ndarray,
    val: np.ndarray,
    origin: int,
    min_day: int,
    horizon: int,
    cfg: ModelConfig,
) -> np.ndarray:
    """The baseline rule of ``cfg`` as an ``(n_series, horizon)`` array (Numba kernel)."""
    kind = {
        "naive": kernels.BASELINE_NAIVE,
        "seasonal_naive": kernels.BASELINE_SEASONAL,
        "moving_average": kernels.BASELINE_MOVING_AVERAGE,
    }[cfg.model_type]
    out = np.empty((off.shape[0] - 1, horizon))
    max_back = 8 + horizon // cfg.season_length
    kernels.baseline_forecast(
        off, day, val, origin, min_day, horizon, kind, cfg.season_length, cfg.window, max_back, out
    )
    return out


def check_cadence(frame: pl.DataFrame) -> None:
    """Guard: only daily series are forecast. A weekly series (Walmart's weekly totals) used to get
    a forecast for every calendar day, seasonal_naive repeating each weekly total on all seven days;
    it is refused with 400 ``unsupported_frequency`` naming the cadence detected."""
    # Fast path (frame sorted by series then date): a series whose consecutive dates are one day
    # apart more than half the time has a median gap of 1 day, so it is daily.
    off, _ = features._series_offsets(frame["series_id"])
    day = frame["date"].cast(pl.Int32).to_numpy().astype(np.int64)
    n_series = off.shape[0] - 1
    if n_series == 0:
        return
    step1 = np.zeros(day.shape[0], dtype=np.int64)
    step1[1:] = np.diff(day) == 1
    step1[off[:-1]] = 0  # a series' first row has no predecessor in its series
    ones = np.add.reduceat(step1, off[:-1]) if day.shape[0] else np.zeros(n_series, np.int64)
    lengths = np.diff(off)
    unsure = np.nonzero(2 * ones <= lengths - 1)[0]
    if unsure.size == 0:
        return
    rows = np.concatenate([np.arange(off[i], off[i + 1]) for i in unsure])
    sub = frame[rows]
    counts = features.series_cadences(sub["date"], sub["series_id"])
    counts["daily"] = counts.get("daily", 0) + n_series - int(unsure.size)
    other = {k: n for k, n in counts.items() if k != "daily"}
    if other:
        cadence = max(other, key=lambda k: other[k])
        raise ModelError(
            f"{other[cadence]} of {sum(counts.values())} series are {cadence} (one observation per "
            f"{'week' if cadence == 'weekly' else 'month'}); the models forecast daily series only, "
            "with lags, windows and seasonal periods in days. Aggregate or resample the series to "
            "daily rows, or forecast it with a tool for its cadence",
            "unsupported_frequency",
            cadence=cadence,
            series_counts=counts,
        )


#: ``on_step(done, total, detail)``: progress of a fit or a backtest (``detail`` says which step).
StepCallback = Callable[[int, int, dict[str, Any]], None]


class _Steps:
    """Counts a fit's steps for ``on_step``: ``start(phase)`` reports the step now running with the
    number already done, ``finish()`` reports ``total`` of ``total``; ``done`` only moves forward."""

    def __init__(self, callback: StepCallback | None, model: str, total: int) -> None:
        self.callback, self.model, self.total, self.done = callback, model, total, -1

    def start(self, phase: str, **detail: Any) -> None:
        self.done = min(self.done + 1, self.total - 1)
        if self.callback is not None:
            self.callback(self.done, self.total, {"phase": phase, "model": self.model, **detail})

    def finish(self) -> None:
        self.done = self.total
        if self.callback is not None:
            self.callback(self.total, self.total, {"phase": "done", "model": self.model})


class Forecaster:
    """A fitted model: ``Forecaster(config).fit(history)`` then ``predict(horizon)``."""

    def __init__(self, config: ModelConfig, columns: Columns | None = None) -> None:
        self.config = config
        self.columns = columns or Columns()
        self.model: Any = None
        self.tail: pl.DataFrame | None = None
        self.origin: date | None = None
        self.holidays = np.empty(0, dtype=np.int64)
        self.residual_q: dict[int, np.ndarray] = {}
        self.interval_method = "unavailable"
        self.calibration_errors = 0
        # The first calibration origin scored in target units: the last ``calibrate_horizon`` days
        # held back, forecast from the rest (with the plan those days actually had), as
        # {"wape", "mae", "days", "start", "end", "points"}; None without calibration.
        self.holdout: dict[str, Any] | None = None
        self.nonneg = True
        self.train_rows = 0
        self.n_series = 0
        self.used_features: list[str] = []
        # Per series and price column: the lowest and highest training price and how many distinct
        # prices it saw (series_id, column, min, max, n_distinct); scenarios read it.
        self.price_support: pl.DataFrame | None = None

    # ------------------------------------------------------------------ fitting
    @property
    def exog(self) -> tuple[str, ...]:
        if self.config.model_type in LEARNED_TYPES:
            return self.config.feature_spec.exog
        return ()

    def fit(
        self,
        history: pl.DataFrame,
        holidays: Iterable[date | str] | pl.Series | np.ndarray | None = None,
        *,
        calibrate_horizon: int = 28,
        on_step: StepCallback | None = None,
    ) -> Forecaster:
        """Fit on ``history`` (every row is training data); calibrate intervals for ``calibrate_horizon``.

        ``on_step(done, total, detail)`` is called as each step starts (the fit, the calibration
        refit, each calibration origin's forecast) and once at the end with ``done == total``;
        ``done`` never decreases.
        """
        # Checked here rather than in ModelConfig so artifacts saved before the allow-list still load.
        validate_params(self.config.model_type, self.config.params)
        frame = _normalise(history, self.columns, self.exog)
        if frame.height == 0 or frame["y"].drop_nulls().len() == 0:
            raise ModelError("history has no observed values")
        check_cadence(frame)
        calibrating = calibrate_horizon > 0 and bool(self.config.levels)
        steps = _Steps(on_step, self.config.model_type, 1 + (self._calibration_steps() if calibrating else 0))
        self.holidays = features.holiday_days(holidays)
        steps.start("fit")
        self._fit_frame(frame)
        self.nonneg = bool((frame["y"].drop_nulls() >= 0).all())
        if calibrating:
            self._calibrate(frame, calibrate_horizon, steps)
        steps.finish()
        return self

    def _fit_frame(self, frame: pl.DataFrame) -> None:
        cfg = self.config
        last = frame["date"].max()
        assert isinstance(last, date)
        if last > date.max - timedelta(days=4000):
            # A far-off date (9999-12-31) leaves no room for a forecast (the origin would overflow).
            raise ModelError(f"the history's last date {last} is implausible; no forecast can follow it")
        self.origin = last + timedelta(days=1)
        if cfg.model_type in LEARNED_TYPES:
            self.model = self._train_learned(frame)
        self.tail = frame.filter(pl.col("date") >= self.origin - timedelta(days=self.keep_days))
        self.train_rows = frame.height
        self.n_series = frame["series_id"].n_unique()
        self.price_support = self._price_support(frame)

    def _price_support(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        cols = [c for c in self.exog if c in PRICE_COLUMNS]
        if not cols:
            return None
        parts = [
            frame.filter(pl.col(c).is_not_null() & pl.col("y").is_not_null())
            .group_by("series_id")
            .agg(
                pl.lit(c).alias("column"),
                pl.col(c).min().alias("min"),
                pl.col(c).max().alias("max"),
                pl.col(c).n_unique().alias("n_distinct"),
            )
            for c in cols
        ]
        return pl.concat(parts)

    def _feature_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        spec = self.config.feature_spec
        return features.compute(
            frame, spec, series_col="series_id", date_col="date", target_col="y", holidays=self.holidays
        )

    def _train_learned(self, frame: pl.DataFrame) -> Any:
        spec = self.config.feature_spec
        feats = self._feature_frame(frame).filter(pl.col("y").is_not_null())
        # Rows with no target history at all carry no signal for a lag model.
        feats = feats.filter(pl.any_horizontal([pl.col(c).is_not_nan() for c in spec.target_feature_names()]))
        if feats.height < 50:
            raise ModelError(
                f"too little history to train {self.config.model_type}: {feats.height} usable rows"
            )
        x_all = feats.select([pl.col(c).cast(pl.Float64) for c in spec.feature_names()])
        # A column with no value at all (no holiday calendar given, say) carries nothing.
        self.used_features = [c for c in x_all.columns if x_all[c].fill_nan(None).null_count() < x_all.height]
        x = x_all.select(self.used_features).to_numpy()
        y = feats["y"].to_numpy()
        params = dict(self.config.params)
        # Demand never rises with the price (unconstrained trees gave +10 % price -> +0.0005 %
        # and -10 % -> +1.3 % on data with elasticity -1.5).
        mono = [-1 if c in PRICE_COLUMNS else 0 for c in self.used_features]
        if self.config.model_type == "lightgbm":
            import lightgbm as lgb

            defaults: dict[str, Any] = {
                "n_estimators": 300,
                "learning_rate": 0.05,
                "num_leaves": 31,
                "min_child_samples": 20,
                "subsample": 0.8,
                "subsample_freq": 1,
                "colsample_bytree": 0.9,
                "n_jobs": self.config.n_jobs,
                "verbose": -1,
                "random_state": self.config.random_state,
            }
            if any(mono):
                defaults["monotone_constraints"] = mono
                defaults["monotone_constraints_method"] = "advanced"
            model = lgb.LGBMRegressor(**{**defaults, **params})
        else:
            from sklearn.ensemble import HistGradientBoostingRegressor

            defaults = {
                "max_iter": 200,
                "learning_rate": 0.1,
                "max_leaf_nodes": 31,
                "min_samples_leaf": 20,
                "early_stopping": False,
                "random_state": self.config.random_state,
            }
            if any(mono):
                defaults["monotonic_cst"] = mono
            model = HistGradientBoostingRegressor(**{**defaults, **params})
        with threadpool_limits(limits=self.config.n_jobs):
            model.fit(x, y)
        return model

    # --------------------------------------------------------------- predicting
    def _require_fitted(self) -> tuple[pl.DataFrame, date]:
        if self.tail is None or self.origin is None:
            raise ModelError("model is not fitted")
        return self.tail, self.origin

    def _future_grid(self, horizon: int, series: list[Any] | None = None) -> pl.DataFrame:
        tail, origin = self._require_fitted()
        keys = (
            tail["series_id"].unique(maintain_order=True)
            if series is None
            else pl.Series("series_id", series)
        )
        dates = pl.Series("date", [origin + timedelta(days=i) for i in range(horizon)], dtype=pl.Date)
        return pl.DataFrame({"series_id": keys}).join(pl.DataFrame({"date": dates}), how="cross")

    def future_plan(self, horizon: int, future: pl.DataFrame | None = None) -> pl.DataFrame:
        """The exogenous plan for the forecast dates: ``future`` where given, else same as last week."""
        return self.assumed_plan(horizon, future).drop([f"{c}_source" for c in self.exog])

    def assumed_plan(self, horizon: int, future: pl.DataFrame | None = None) -> pl.DataFrame:
        """:meth:`future_plan` plus ``<column>_source`` per exogenous column: ``"given"`` (from
        ``future``), ``"repeated_last_week"`` (the same weekday of the last observed week) or
        ``"missing"`` (neither: the model sees a missing value)."""
        tail, _ = self._require_fitted()
        grid = self._future_grid(horizon)
        if not self.exog:
            return grid
        plan = grid
        given: list[str] = []
        if future is not None:
            cols = self.columns
            given = [c for c in self.exog if c in future.columns]
            if given:
                fut = future.select(
                    pl.col(cols.series).alias("series_id"),
                    pl.col(cols.date).cast(pl.Date).alias("date"),
                    *[pl.col(c).cast(pl.Float64) for c in given],
                )
                plan = plan.join(fut, on=["series_id", "date"], how="left")
        back = horizon // 7 + 8
        for c in self.exog:
            # Same weekday of the latest observed week (seasonal lookup reaches past the horizon).
            fb = _seasonal_lookup(tail, grid, c, 7, max_back=back).rename({c: "__fb"})
            plan = plan.join(fb, on=["series_id", "date"], how="left")
            own = pl.col(c).is_not_null() if c in given else pl.lit(False)
            source = (
                pl.when(own)
                .then(pl.lit("given"))
                .when(pl.col("__fb").is_not_null())
                .then(pl.lit("repeated_last_week"))
                .otherwise(pl.lit("missing"))
                .alias(f"{c}_source")
            )
            plan = plan.with_columns(source)
            if c in plan.columns:
                plan = plan.with_columns(pl.coalesce(pl.col(c), pl.col("__fb")).alias(c)).drop("__fb")
            else:
                plan = plan.rename({"__fb": c})
        return plan

    @property
    def keep_days(self) -> int:
        """Days of history before the origin the model keeps (and reads) for predicting."""
        cfg = self.config
        keep = max(cfg.season_length * 8, cfg.window, SCALE_DAYS, 56)
        if cfg.model_type in LEARNED_TYPES:
            keep = max(keep, cfg.feature_spec.max_lookback + 1)
        return keep

    def point_forecast(self, horizon: int, future: pl.DataFrame | None = None) -> pl.DataFrame:
        """series_id, date, forecast for the ``horizon`` days after the origin."""
        if horizon < 1:
            raise ModelError("horizon must be at least 1")
        tail, origin = self._require_fitted()
        cfg = self.config
        if cfg.model_type in BASELINE_TYPES:
            keys, off, day, val = series_arrays(tail)
            out_arr = baseline_forecast_arrays(
                off, day, val, _epoch_day(origin), _epoch_day(origin) - self.keep_days, horizon, cfg
            )
            dates = pl.Series("date", [origin + timedelta(days=i) for i in range(horizon)], dtype=pl.Date)
            out = pl.DataFrame(
                {
                    "series_id": keys.gather(np.repeat(np.arange(keys.len()), horizon)),
                    "date": pl.concat([dates] * keys.len()) if keys.len() else dates.clear(),
                    "forecast": out_arr.ravel(),
                }
            )
        else:
            out = self._recursive(horizon, future)
        return out.select("series_id", "date", pl.col("forecast").cast(pl.Float64)).sort("series_id", "date")

    def _recursive(self, horizon: int, future: pl.DataFrame | None) -> pl.DataFrame:
        tail, origin = self._require_fitted()
        spec = self.config.feature_spec
        plan = self.future_plan(horizon, future)
        names = self.used_features
        hist = tail.select("series_id", "date", "y")
        preds = []
        # One thread-pool limit around the loop: entering it costs a few ms (it scans the loaded
        # libraries), which per step was 10-15 % of a one-store forecast.
        with threadpool_limits(limits=self.config.n_jobs):
            for step in range(horizon):
                day = origin + timedelta(days=step)
                q = plan.filter(pl.col("date") == day)
                feats = features.compute_for(
                    hist,
                    q,
                    spec,
                    series_col="series_id",
                    date_col="date",
                    target_col="y",
                    holidays=self.holidays,
                )
                x = feats.select([pl.col(c).cast(pl.Float64) for c in names]).to_numpy()
                yhat = self.model.predict(x)
                if self.nonneg:
                    yhat = np.maximum(yhat, 0.0)
                for c in OPEN_COLUMNS:
                    if c in self.exog and c in feats.columns:
                        # A closed store sells nothing; trees only approach 0 there.
                        closed = feats[c].cast(pl.Float64).fill_null(1.0).to_numpy() == 0.0
                        yhat = np.where(closed, 0.0, yhat)
                step_pred = feats.select("series_id", "date").with_columns(
                    pl.Series("y", yhat, dtype=pl.Float64)
                )
                preds.append(step_pred)
                hist = pl.concat([hist, step_pred])
        return pl.concat(preds).rename({"y": "forecast"})

    def predict(self, horizon: int, future: pl.DataFrame | None = None) -> pl.DataFrame:
        """Point forecast plus ``lo_<level>`` / ``hi_<level>`` bounds for each configured level."""
        out = self.point_forecast(horizon, future)
        scale = self._scales(self._require_fitted()[0], self._require_fitted()[1])
        out = out.join(scale, on="series_id", how="left")
        h = (pl.col("date") - pl.lit(self.origin)).dt.total_days() + 1
        out = out.with_columns(h.alias("__h"))
        hs = out["__h"].to_numpy()
        sc = out["__scale"].to_numpy()
        fc = out["forecast"].to_numpy()
        cols = []
        for lv in self.config.levels:
            q = self.residual_q.get(lv)
            if q is None or q.shape[0] == 0:
                lo = np.full(fc.shape[0], np.nan)
                hi = lo.copy()
            else:
                qh = q[np.minimum(hs, q.shape[0]) - 1]
                # Beyond the calibrated horizon, widen like a random walk.
                qh = qh * np.sqrt(np.maximum(hs / q.shape[0], 1.0))
                lo = fc - qh * sc
                hi = fc + qh * sc
                if self.nonneg:
                    lo = np.maximum(lo, 0.0)
            cols += [pl.Series(f"lo_{lv}", lo), pl.Series(f"hi_{lv}", hi)]
        return out.drop("__h", "__scale").hstack(cols)

    # --------------------------------------------------------------- intervals
    @staticmethod
    def _scales(frame: pl.DataFrame, origin: date) -> pl.DataFrame:
        start = origin - timedelta(days=SCALE_DAYS)
        return (
            frame.filter((pl.col("date") >= start) & (pl.col("date") < origin) & pl.col("y").is_not_null())
            .group_by("series_id")
            .agg(pl.col("y").abs().mean().alias("__scale"))
            .with_columns(
                pl.when(pl.col("__scale") > 0).then(pl.col("__scale")).otherwise(1.0).alias("__scale")
            )
        )

    def _calibration_steps(self) -> int:
        """Progress steps of a calibration: one forecast per origin, plus the refit (learned)."""
        n = self.config.n_interval_origins
        return n + 1 if self.config.model_type in LEARNED_TYPES else n

    def _from_end_of(self, train: pl.DataFrame) -> Forecaster:
        """This fitted model (same trees and features) forecasting from the day after ``train`` ends."""
        sub = Forecaster(self.config, self.columns)
        sub.model, sub.used_features = self.model, self.used_features
        sub.holidays, sub.nonneg, sub.price_support = self.holidays, self.nonneg, self.price_support
        last = train["date"].max()
        assert isinstance(last, date)
        sub.origin = last + timedelta(days=1)
        sub.tail = train.filter(pl.col("date") >= sub.origin - timedelta(days=self.keep_days))
        sub.train_rows, sub.n_series = train.height, train["series_id"].n_unique()
        return sub

    def _calibrate(self, frame: pl.DataFrame, horizon: int, steps: _Steps | None = None) -> None:
        """Scaled out-of-sample errors at ``n_interval_origins`` origins (``end - horizon - 7 k``).

        A learned model is refitted **once**, on the rows before the oldest origin, and forecasts
        from every origin with the actual history up to it: each origin's test window lies after
        the refit's last training day, so every error is out of sample. (It used to be refitted at
        each origin: three more fits per training, 12.9 s -> 22.4 s for 20 one-store trainings.)
        Baselines have nothing to fit and are rebuilt at each origin.
        """
        steps = steps or _Steps(None, self.config.model_type, 0)
        end = self.origin
        assert end is not None
        first = frame["date"].min()
        assert isinstance(first, date)
        errors: list[pl.DataFrame] = []
        self.holdout = None
        learned = self.config.model_type in LEARNED_TYPES
        min_train = max(SCALE_DAYS, self.config.season_length, self.config.window)
        if learned:
            min_train = max(min_train, self.config.feature_spec.max_lookback + 28)
        origins = []
        for k in range(self.config.n_interval_origins):
            o = end - timedelta(days=horizon + 7 * k)
            if (o - first).days < min_train:
                break
            origins.append(o)
        refit: Forecaster | None = None
        if learned:
            steps.start("calibration_refit")
            while origins and refit is None:
                refit = Forecaster(self.config, self.columns)
                refit.holidays, refit.nonneg = self.holidays, self.nonneg
                try:
                    refit._fit_frame(frame.filter(pl.col("date") < origins[-1]))
                except ModelError:  # too little history before the oldest origin: drop it
                    refit = None
                    origins.pop()
        for k, o in enumerate(origins):
            steps.start(
                "calibration_forecast", origin=o.isoformat(), origin_index=k + 1, n_origins=len(origins)
            )
            train = frame.filter(pl.col("date") < o)
            if refit is not None:
                sub = refit._from_end_of(train)
            else:
                sub = Forecaster(self.config, self.columns)
                sub.holidays = self.holidays
                sub.nonneg = self.nonneg
                try:
                    sub._fit_frame(train)
                except ModelError:
                    break
            test = frame.filter((pl.col("date") >= o) & (pl.col("date") < o + timedelta(days=horizon)))
            fc = sub.point_forecast(horizon, test if self.exog else None)
            err = (
                fc.join(test.select("series_id", "date", "y"), on=["series_id", "date"], how="inner")
                .join(self._scales(train, o), on="series_id", how="inner")
                .filter(pl.col("y").is_not_null())
                .select(
                    ((pl.col("date") - pl.lit(o)).dt.total_days() + 1).alias("h"),
                    ((pl.col("y") - pl.col("forecast")).abs() / pl.col("__scale")).alias("e"),
                )
            )
            errors.append(err)
            if k == 0:
                self.holdout = _holdout(fc, test, o, horizon)
                if self.holdout is not None:
                    # The last day the scoring model was fitted on (learned: the single refit's).
                    fitted_to = refit.origin if refit is not None else sub.origin
                    assert fitted_to is not None
                    self.holdout["train_end"] = (fitted_to - timedelta(days=1)).isoformat()
        if not errors:
            self.residual_q = {}
            self.interval_method = "unavailable"
            return
        err = pl.concat(errors)
        hs = err["h"].to_numpy()
        es = err["e"].to_numpy()
        self.residual_q = pooled_quantiles(hs, es, horizon, self.config.levels)
        self.calibration_errors = int(es.size)
        self.interval_method = "scaled_residual_quantile"

    # ---------------------------------------------------------- serialisation
    def to_bytes(self) -> bytes:
        """Serialise for the artifact store (pickle behind a magic header; load only trusted bytes)."""
        state = {
            "config": msgspec.to_builtins(self.config),
            "columns": msgspec.to_builtins(self.columns),
            "model": self.model,
            "tail": self.tail,
            "origin": self.origin,
            "holidays": self.holidays,
            "residual_q": self.residual_q,
            "interval_method": self.interval_method,
            "nonneg": self.nonneg,
            "train_rows": self.train_rows,
            "n_series": self.n_series,
            "used_features": self.used_features,
            "price_support": self.price_support,
            "holdout": self.holdout,
            "calibration_errors": self.calibration_errors,
        }
        return _MAGIC + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> Forecaster:
        if not data.startswith(_MAGIC):
            raise ModelError("not a Ridgeline retail model artifact")
        state = pickle.loads(data[len(_MAGIC) :])
        fc = cls(msgspec.convert(state["config"], ModelConfig), msgspec.convert(state["columns"], Columns))
        for key in ("model", "tail", "origin", "holidays", "residual_q", "interval_method", "nonneg"):
            setattr(fc, key, state[key])
        fc.train_rows = state["train_rows"]
        fc.n_series = state["n_series"]
        fc.used_features = state["used_features"]
        # Absent in artifacts written before issue 22.
        fc.price_support = state.get("price_support")
        fc.holdout = state.get("holdout")
        fc.calibration_errors = state.get("calibration_errors", 0)
        return fc

    def summary(self) -> dict[str, Any]:
        return {
            "model_type": self.config.model_type,
            "origin": self.origin.isoformat() if self.origin else None,
            "train_rows": self.train_rows,
            "n_series": self.n_series,
            "interval_method": self.interval_method,
            "features": self.config.feature_spec.feature_names()
            if self.config.model_type in LEARNED_TYPES
            else [],
        }


def fit(
    history: pl.DataFrame,
    config: ModelConfig,
    *,
    columns: Columns | None = None,
    holidays: Iterable[date | str] | pl.Series | np.ndarray | None = None,
    calibrate_horizon: int = 28,
    on_step: StepCallback | None = None,
) -> Forecaster:
    """Convenience: ``Forecaster(config, columns).fit(history, holidays)``."""
    return Forecaster(config, columns).fit(
        history, holidays, calibrate_horizon=calibrate_horizon, on_step=on_step
    )
