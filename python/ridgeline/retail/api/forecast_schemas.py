"""msgspec schemas of the forecasting slices (registry; more slices join as they land)."""

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
