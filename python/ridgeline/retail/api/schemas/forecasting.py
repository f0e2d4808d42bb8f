"""Wire types of the registry, featuresets, forecasting, backtesting, explain, scenarios and jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

RunStatus = Literal["pending", "running", "success", "failed", "archived"]
ModelType = Literal["naive", "seasonal_naive", "moving_average", "lightgbm", "regression"]


class ModelRunCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_type: ModelType
    model_config: dict[str, Any] = {}
    feature_config: dict[str, Any] | None = None
    store_id: Annotated[int, Meta(ge=1)] | None = None
    product_id: Annotated[int, Meta(ge=1)] | None = None
    data_window_start: date | None = None
    data_window_end: date | None = None
    runtime_info: dict[str, Any] | None = None


class ModelRunUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: RunStatus | None = None
    metrics: dict[str, Any] | None = None
    artifact_uri: Annotated[str, Meta(min_length=1, max_length=500)] | None = None
    artifact_hash: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")] | None = None
    error_message: Annotated[str, Meta(max_length=2000)] | None = None


class ModelRun(msgspec.Struct, kw_only=True):
    run_id: str
    model_type: str
    status: RunStatus
    store_id: int | None
    product_id: int | None
    model_config: dict[str, Any]
    feature_config: dict[str, Any] | None
    data_window_start: date | None
    data_window_end: date | None
    metrics: dict[str, Any] | None
    runtime_info: dict[str, Any] | None
    artifact_uri: str | None
    artifact_hash: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class ModelRunList(msgspec.Struct, kw_only=True):
    runs: list[ModelRun]
    total: Annotated[int, Meta(description="Runs matching the filters (all pages)")]
    page: Annotated[int, Meta(description="1-indexed page number")]
    page_size: int


class VerifyResult(msgspec.Struct, kw_only=True):
    run_id: str
    artifact_uri: str
    expected_hash: str | None
    actual_hash: str | None
    verified: bool
    reason: str


class AliasCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    alias_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    run_id: str
    description: Annotated[str, Meta(max_length=500)] | None = None


class Alias(msgspec.Struct, kw_only=True):
    alias_name: str
    run_id: str
    description: str | None
    run_status: RunStatus
    model_type: str
    created_at: datetime
    updated_at: datetime


class AliasList(msgspec.Struct, kw_only=True):
    aliases: list[Alias]
    total: int


class ValueDiff(msgspec.Struct, kw_only=True):
    a: Any
    b: Any
    delta: float | None = None


class RunComparison(msgspec.Struct, kw_only=True):
    run_a: ModelRun
    run_b: ModelRun
    config_diff: dict[str, ValueDiff]
    metrics_diff: dict[str, ValueDiff]
    same_model_type: bool
    same_data_window: bool


# --------------------------------------------------------------------------- featuresets
WindowStat = Literal["mean", "std", "min", "max", "sum"]


class FeatureConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    lags: Annotated[list[Annotated[int, Meta(ge=1, le=3660)]], Meta(max_length=32)] = msgspec.field(
        default_factory=lambda: [1, 7, 14, 28]
    )
    windows: Annotated[list[Annotated[int, Meta(ge=1, le=3660)]], Meta(max_length=16)] = msgspec.field(
        default_factory=lambda: [7, 28]
    )
    window_stats: list[WindowStat] = msgspec.field(default_factory=lambda: ["mean", "std"])
    min_periods: Annotated[int, Meta(ge=1)] = 1
    calendar: bool = True
    exog: list[Literal["price", "promo", "open"]] = msgspec.field(default_factory=lambda: ["price", "promo"])


class FeatureRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    store_id: Annotated[int, Meta(ge=1)]
    product_id: Annotated[int, Meta(ge=1)] | None = None
    start_date: date
    end_date: date
    cutoff_date: Annotated[
        date | None,
        Meta(description="Features use only sales dated before this day (default: the day after end_date)"),
    ] = None
    config: FeatureConfig = msgspec.field(default_factory=FeatureConfig)
    sample_rows: Annotated[int, Meta(ge=1, le=1000)] = 10


class FeatureSetResponse(msgspec.Struct, kw_only=True):
    store_id: int
    product_ids: list[int]
    start_date: date
    end_date: date
    cutoff_date: date
    feature_names: list[str]
    row_count: int
    null_counts: dict[str, int]
    rows: list[dict[str, Any]]
    leakage_safe: bool = True


# --------------------------------------------------------------------------- forecasting
class ModelConfigIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_type: ModelType
    season_length: Annotated[int, Meta(ge=1, le=366)] = 7
    window: Annotated[int, Meta(ge=1, le=366)] = 7
    exog: list[Literal["price", "promo", "open"]] = msgspec.field(default_factory=lambda: ["price", "promo"])
    params: dict[str, Any] = {}
    levels: list[Annotated[int, Meta(gt=0, lt=100)]] = msgspec.field(default_factory=lambda: [80, 95])
    features: FeatureConfig | None = None


class TrainRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    store_id: Annotated[int, Meta(ge=1)]
    product_id: Annotated[int, Meta(ge=1)]
    train_start_date: date | None = None
    train_end_date: date | None = None
    config: ModelConfigIn
    calibrate_horizon: Annotated[int, Meta(ge=0, le=366)] = 28


class TrainResponse(msgspec.Struct, kw_only=True):
    run_id: str
    model_type: str
    status: RunStatus
    store_id: int
    product_id: int
    data_window_start: date
    data_window_end: date
    train_rows: int
    interval_method: str
    artifact_uri: str
    artifact_hash: str
    duration_ms: float


class PlanDay(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: date
    unit_price: float | None = None
    on_promotion: bool | None = None
    is_open: bool | None = None


class PredictRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    run_id: str
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    plan: list[PlanDay] = []


class ForecastPoint(msgspec.Struct, kw_only=True):
    date: date
    forecast: float
    lower: dict[str, float | None]
    upper: dict[str, float | None]


class AssumedPlanDay(msgspec.Struct, kw_only=True):
    """The exogenous values a learned model was given for one forecast day; ``repeated`` names the
    fields taken from the same weekday of the last observed week (no plan value given)."""

    date: date
    unit_price: float | None = None
    on_promotion: bool | None = None
    is_open: bool | None = None
    repeated: list[str] = []


class PredictResponse(msgspec.Struct, kw_only=True):
    run_id: str
    model_type: str
    store_id: int
    product_id: int
    origin: date
    horizon: int
    interval_method: str
    forecasts: list[ForecastPoint]
    # The plan the forecast assumed (learned models with exogenous features; empty for baselines).
    plan: list[AssumedPlanDay] = []
    caveats: list[str] = []
    caveat_codes: list[str] = []  # plan_repeated_last_week, plan_value_missing


# --------------------------------------------------------------------------- backtesting
class BacktestRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    store_id: Annotated[int, Meta(ge=1)] | None = None
    product_id: Annotated[int, Meta(ge=1)] | None = None
    store_ids: (
        Annotated[
            list[Annotated[int, Meta(ge=1)]],
            Meta(
                max_length=1000,
                description="Backtest many series at once: every (store, product) of these stores "
                "(or only product_id); give either store_id or store_ids",
            ),
        ]
        | None
    ) = None
    start_date: date | None = None
    end_date: date | None = None
    models: Annotated[list[ModelConfigIn], Meta(min_length=1, max_length=8)] = msgspec.field(
        default_factory=lambda: [
            ModelConfigIn(model_type="naive"),
            ModelConfigIn(model_type="seasonal_naive"),
            ModelConfigIn(model_type="moving_average"),
        ]
    )
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    n_folds: Annotated[int, Meta(ge=1, le=20)] = 3
    step: Annotated[int, Meta(ge=1)] | None = None
    strategy: Literal["rolling", "expanding"] = "expanding"
    train_days: Annotated[int, Meta(ge=7)] | None = None
    gap: Annotated[int, Meta(ge=0, le=366)] = 0
    exog_plan: Annotated[
        Literal["known", "repeat_last_week"],
        Meta(
            description="known (default): the learned models get the test window's actual price and "
            "promotion, so their scores assume the plan is known in advance; repeat_last_week: they get "
            "what predict assumes without a plan (the same weekday of the last training week)"
        ),
    ] = "known"
    interval_coverage: Annotated[
        Literal["baselines", "all", "none"],
        Meta(
            description="whose prediction intervals are calibrated on each fold's training rows and "
            "scored as coverage_<level> (share of test points inside the band): baselines (default, "
            "cheap), all (learned models too: interval_origins more fits per fold) or none"
        ),
    ] = "baselines"


# --------------------------------------------------------------------------- explain
class ExplainRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    store_id: Annotated[int, Meta(ge=1)]
    product_id: Annotated[int, Meta(ge=1)]
    as_of_date: date
    model_type: str = "seasonal_naive"
    season_length: Annotated[int, Meta(ge=1, le=366)] = 7
    window: Annotated[int, Meta(ge=1, le=366)] = 7
    level: Annotated[int, Meta(gt=0, lt=100)] = 80


JobType = Literal["train", "predict", "backtest"]


class JobCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    job_type: JobType
    params: dict[str, Any]


class JobOut(msgspec.Struct, kw_only=True):
    job_id: str
    job_type: str
    status: str
    params: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    progress: Annotated[
        float,
        Meta(
            description="0..1, never decreasing: the share of a train or backtest job's steps done "
            "(a backtest's (fold, model) fits; a training's fit, calibration refit and calibration "
            "forecasts)"
        ),
    ] = 0.0
    progress_detail: Annotated[
        dict[str, Any] | None,
        Meta(
            description="While running (from the job record, on every worker): the step in progress, e.g. "
            '{"done": 4, "total": 9, "phase": "backtest", "fold": 2, "n_folds": 3, "model": '
            '"lightgbm", "model_index": 2, "n_models": 3}. An addition to contract 002.'
        ),
    ] = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class JobList(msgspec.Struct, kw_only=True):
    jobs: list[JobOut]
    limit: int
    offset: int


class AssumptionsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    price_change_pct: Annotated[float, Meta(gt=-100, le=1000)] = 0.0
    promotion: bool = False
    promotion_days: list[Annotated[int, Meta(ge=1)]] | None = None
    promotion_lift: Annotated[float, Meta(ge=-1, le=10)] = 0.20
    holiday_dates: list[date] = []
    holiday_lift: Annotated[float, Meta(ge=-1, le=10)] = 0.10
    price_elasticity: Annotated[float, Meta(ge=-20, le=20)] = -1.5
    inventory_cap: Annotated[float, Meta(ge=0)] | None = None
    lifecycle: Literal["launch", "growth", "mature", "decline", "end_of_life"] = "mature"


class SimulateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    run_id: str
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    assumptions: AssumptionsIn = msgspec.field(default_factory=AssumptionsIn)


class PlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=2000)] | None = None
    run_id: str
    horizon: Annotated[int, Meta(ge=1, le=366)] = 14
    assumptions: AssumptionsIn = msgspec.field(default_factory=AssumptionsIn)
    tags: Annotated[list[Annotated[str, Meta(min_length=1, max_length=50)]], Meta(max_length=20)] = []
    cloned_from: str | None = None


class CompareRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    scenario_ids: Annotated[list[str], Meta(min_length=2, max_length=5)]
    rank_by: Literal["delta_total", "delta_pct", "scenario_total"] = "delta_total"
    allow_different_baselines: Annotated[
        bool,
        Meta(
            description="compare plans of different runs or horizons (refused with 400 "
            "different_baselines otherwise); the chart then has one baseline:<run_id> series per run"
        ),
    ] = False
