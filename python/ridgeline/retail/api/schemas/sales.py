"""Wire types of health, ingest, dimensions, analytics and the seeder (contract 002)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

Granularity = Literal["day", "week", "month", "quarter"]
Dimension = Literal["store", "product", "category", "region", "date"]


class Health(msgspec.Struct):
    status: str


# ---- ingest ------------------------------------------------------------------------------------


class IngestRowError(msgspec.Struct, kw_only=True):
    """One rejected record."""

    row_index: Annotated[int, Meta(description="0-based index of the record in the body (CSV: data rows)")]
    store_code: str | None = None
    sku: str | None = None
    date: Annotated[str | None, Meta(description="The date as sent")] = None
    error_code: Annotated[
        str,
        Meta(
            description="missing_field, invalid_date, invalid_quantity, invalid_unit_price, invalid_total_amount, "
            "invalid_transactions, invalid_on_promotion, invalid_school_holiday, invalid_base_price, "
            "invalid_base_cost, invalid_text, invalid_store_code, invalid_sku, invalid_json, invalid_record, "
            "duplicate_in_batch, unknown_store, unknown_product, field_too_long, implausible_date"
        ),
    ]
    error_message: str


class SalesDailyIngestResponse(msgspec.Struct, kw_only=True):
    """Outcome of ``POST /ingest/sales-daily``. Re-sending a batch gives inserted=updated=0."""

    total_received: Annotated[int, Meta(description="Records in the body")]
    processed_count: Annotated[int, Meta(description="inserted + updated + unchanged")]
    inserted_count: Annotated[int, Meta(description="Rows that did not exist before")]
    updated_count: Annotated[int, Meta(description="Existing rows whose values changed")]
    unchanged_count: Annotated[int, Meta(description="Existing rows sent again with identical values")]
    rejected_count: Annotated[int, Meta(description="Records not stored (see errors)")]
    created_stores: Annotated[int, Meta(description="Stores created from unknown store codes")] = 0
    created_products: Annotated[int, Meta(description="Products created from unknown SKUs")] = 0
    errors: Annotated[
        list[IngestRowError], Meta(description="Rejected records, first 1000 by row index")
    ] = []
    errors_truncated: Annotated[
        bool, Meta(description="More records were rejected than are listed in errors")
    ] = False
    values_truncated: Annotated[
        bool, Meta(description="Some echoed values in errors were cut to 64 characters (ending in …)")
    ] = False
    duration_ms: float = 0.0
    batch_id: Annotated[
        int,
        Meta(
            description="The ingest batch this request recorded; DELETE /ingest/batches/{batch_id} "
            "removes the rows it wrote (an addition to contract 002)"
        ),
    ] = 0


class HolidayIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: date
    name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    is_holiday: Annotated[bool, Meta(description="false clears a holiday flagged before")] = True


class HolidayCalendarIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    holidays: Annotated[list[HolidayIn], Meta(min_length=1, max_length=10000)]


class HolidayCalendarResult(msgspec.Struct, kw_only=True):
    received: int
    holidays: int  # days now flagged as holidays
    cleared: int  # days whose holiday flag was removed
    first_date: date
    last_date: date


class SalesDeleteResult(msgspec.Struct, kw_only=True):
    """Outcome of ``DELETE /ingest/sales-daily`` (an addition to contract 002)."""

    dry_run: bool
    matched_count: Annotated[int, Meta(description="Sales rows in the store/product/date range")]
    deleted_count: Annotated[int, Meta(description="Rows deleted (0 on a dry run)")]
    first_date: Annotated[date | None, Meta(description="Earliest date among the matched rows")] = None
    last_date: Annotated[date | None, Meta(description="Latest date among the matched rows")] = None
    message: str


class SalesBatchDeleteResult(msgspec.Struct, kw_only=True):
    """Outcome of ``DELETE /ingest/batches/{batch_id}`` (an addition to contract 002)."""

    batch_id: int
    dry_run: bool
    written_count: Annotated[int, Meta(description="Rows the batch inserted or updated when it ran")]
    matched_count: Annotated[
        int, Meta(description="Rows still holding the batch's values (later writes took the rest)")
    ]
    deleted_count: Annotated[int, Meta(description="Rows deleted (0 on a dry run)")]
    first_date: Annotated[date | None, Meta(description="Earliest date among the matched rows")] = None
    last_date: Annotated[date | None, Meta(description="Latest date among the matched rows")] = None
    batch_created_at: datetime
    message: str


# ---- dimensions --------------------------------------------------------------------------------


class StoreResponse(msgspec.Struct, kw_only=True):
    """A store. Use ``id`` as ``store_id`` in analytics and forecasting calls."""

    id: int
    code: Annotated[str, Meta(description="Business store code (natural key used by ingest)")]
    name: str
    region: str | None = None
    city: str | None = None
    store_type: str | None = None
    created_at: datetime
    updated_at: datetime


class StoreListResponse(msgspec.Struct, kw_only=True):
    stores: list[StoreResponse]
    total: Annotated[int, Meta(description="Stores matching the filters (all pages)")]
    page: Annotated[int, Meta(description="1-indexed page number")]
    page_size: int


class ProductResponse(msgspec.Struct, kw_only=True):
    """A product. Use ``id`` as ``product_id`` in analytics and forecasting calls."""

    id: int
    sku: Annotated[str, Meta(description="Stock keeping unit (natural key used by ingest)")]
    name: str
    category: str | None = None
    brand: str | None = None
    base_price: float | None = None
    base_cost: float | None = None
    created_at: datetime
    updated_at: datetime


class ProductListResponse(msgspec.Struct, kw_only=True):
    products: list[ProductResponse]
    total: int
    page: int
    page_size: int


# ---- analytics ---------------------------------------------------------------------------------


class KPIMetrics(msgspec.Struct, kw_only=True):
    """Sales KPIs over a set of daily sales rows."""

    total_revenue: Annotated[float, Meta(description="Sum of total_amount, rounded to cents")]
    total_units: Annotated[int, Meta(description="Sum of quantity")]
    total_transactions: Annotated[int, Meta(description="Sum of transactions (rows without a count add 0)")]
    avg_unit_price: Annotated[
        float | None, Meta(description="total_revenue / total_units; null when no units")
    ]
    avg_basket_value: Annotated[
        float | None, Meta(description="total_revenue / total_transactions; null when no transactions")
    ]
    row_count: Annotated[int, Meta(description="Daily (store, product) sales rows aggregated")] = 0


class KPIResponse(msgspec.Struct, kw_only=True):
    metrics: KPIMetrics
    start_date: date
    end_date: date
    store_id: int | None = None
    product_id: int | None = None
    category: str | None = None
    region: str | None = None


class DrilldownItem(msgspec.Struct, kw_only=True):
    dimension_value: Annotated[str, Meta(description="Store code, SKU, category, region or ISO date")]
    dimension_id: Annotated[int | None, Meta(description="Store or product id; null for the others")] = None
    metrics: KPIMetrics
    rank: Annotated[int, Meta(description="1 = highest revenue")]
    revenue_share_pct: Annotated[float, Meta(description="Share of the total revenue of the filtered rows")]


class DrilldownResponse(msgspec.Struct, kw_only=True):
    dimension: Dimension
    items: list[DrilldownItem]
    total_items: Annotated[int, Meta(description="Distinct dimension values (items holds the top max_items)")]
    start_date: date
    end_date: date
    store_id: int | None = None
    product_id: int | None = None


class TimeseriesPoint(msgspec.Struct, kw_only=True):
    period_start: date
    period_end: Annotated[date, Meta(description="Last day of the bucket inside the requested range")]
    total_revenue: float
    total_units: int
    total_transactions: int
    avg_unit_price: float | None = None
    avg_basket_value: float | None = None


class TimeseriesResponse(msgspec.Struct, kw_only=True):
    granularity: Granularity
    start_date: date
    end_date: date
    points: Annotated[
        list[TimeseriesPoint], Meta(description="Every bucket of the range, empty ones as zeros")
    ]
    store_id: int | None = None
    product_id: int | None = None
    category: str | None = None
    region: str | None = None


class InventoryStatusItem(msgspec.Struct, kw_only=True):
    store_id: int
    store_code: str
    product_id: int
    sku: str
    date: Annotated[date, Meta(description="Date of the latest snapshot for this store and product")]
    on_hand_qty: int
    on_order_qty: int
    is_stockout: bool


class InventoryStatusResponse(msgspec.Struct, kw_only=True):
    items: list[InventoryStatusItem]
    total: Annotated[int, Meta(description="(store, product) pairs matching the filters")]
    stockout_count: Annotated[int, Meta(description="Pairs whose latest snapshot is a stock-out")]
    page: int
    page_size: int


# ---- seeder ------------------------------------------------------------------------------------


class ScenarioInfo(msgspec.Struct, kw_only=True):
    name: str
    description: str
    stores: int
    products: int
    start_date: date
    end_date: date
    params: Annotated[dict[str, Any], Meta(description="Every generator parameter of the preset")]


class GenerateParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Trigger a scenario. Any generator parameter left null takes the scenario's value."""

    scenario: str = "retail_standard"
    seed: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 42
    stores: Annotated[int, Meta(ge=1, le=200)] | None = None
    products: Annotated[int, Meta(ge=1, le=2000)] | None = None
    start_date: date | None = None
    end_date: date | None = None
    replace: Annotated[bool, Meta(description="Delete all retail data first (default: upsert into it)")] = (
        False
    )
    dry_run: Annotated[bool, Meta(description="Generate and count, write nothing")] = False
    base_units: Annotated[float, Meta(gt=0, le=10_000)] | None = None
    trend_per_year: Annotated[float, Meta(ge=-0.9, le=5)] | None = None
    weekly_strength: Annotated[float, Meta(ge=0, le=3)] | None = None
    yearly_amplitude: Annotated[float, Meta(ge=0, le=0.95)] | None = None
    promo_probability: Annotated[float, Meta(ge=0, le=1)] | None = None
    promo_min_days: Annotated[int, Meta(ge=1, le=60)] | None = None
    promo_max_days: Annotated[int, Meta(ge=1, le=60)] | None = None
    promo_discount_min: Annotated[float, Meta(ge=0, lt=1)] | None = None
    promo_discount_max: Annotated[float, Meta(ge=0, lt=1)] | None = None
    promo_display_uplift: Annotated[float, Meta(ge=0.5, le=5)] | None = None
    price_elasticity: Annotated[float, Meta(ge=-10, le=0)] | None = None
    price_change_prob: Annotated[float, Meta(ge=0, le=1)] | None = None
    holiday_eve_uplift: Annotated[float, Meta(ge=0.5, le=5)] | None = None
    regional_holiday_factor: Annotated[float, Meta(ge=0, le=3)] | None = None
    dispersion: Annotated[float, Meta(gt=0, le=1000)] | None = None
    sparsity: Annotated[float, Meta(ge=0, lt=1)] | None = None
    launch_fraction: Annotated[float, Meta(ge=0, le=1)] | None = None
    safety_stock_days: Annotated[float, Meta(ge=0, le=60)] | None = None
    review_days: Annotated[int, Meta(ge=1, le=60)] | None = None
    lead_time_days: Annotated[int, Meta(ge=0, le=30)] | None = None
    disruption_prob: Annotated[float, Meta(ge=0, le=1)] | None = None


class AppendParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Extend the last generated history to another period (same seed, stores and products)."""

    start_date: date
    end_date: date
    dry_run: bool = False


class GenerateResult(msgspec.Struct, kw_only=True):
    success: bool
    scenario: str
    seed: int
    dry_run: bool
    records_created: Annotated[dict[str, int], Meta(description="Rows generated per table")]
    duration_seconds: float
    message: str
    params: dict[str, Any]


class SeedRunInfo(msgspec.Struct, kw_only=True):
    id: int
    scenario: str
    seed: int
    records: dict[str, int]
    duration_s: float
    created_at: datetime


class SeederStatus(msgspec.Struct, kw_only=True):
    stores: int
    products: int
    calendar: int
    store_holidays: int
    sales: int
    inventory: int
    date_range_start: date | None = None
    date_range_end: date | None = None
    last_run: SeedRunInfo | None = None


class DeleteParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    scope: Annotated[
        Literal["all", "facts"],
        Meta(description="all: everything; facts: sales, inventory and store holidays only"),
    ] = "all"
    dry_run: bool = False


class DeleteResult(msgspec.Struct, kw_only=True):
    success: bool
    records_deleted: dict[str, int]
    message: str
    dry_run: bool


class VerifyCheck(msgspec.Struct, kw_only=True):
    name: str
    status: Literal["passed", "warning", "failed"]
    message: str


class VerifyResult(msgspec.Struct, kw_only=True):
    passed: bool
    checks: list[VerifyCheck]
    total_checks: int
    passed_count: int
    warning_count: int
    failed_count: int
