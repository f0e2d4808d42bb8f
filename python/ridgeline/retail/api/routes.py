"""Litestar controllers of the retail family: health, ingest, dimensions, analytics, seeder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, Parameter, QueryParameter

from ridgeline.platform import paging
from ridgeline.platform.context import Ctx
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Int64, Page
from ridgeline.retail.api import schemas as sc
from ridgeline.retail.api import service
from ridgeline.retail.api.ingest import delete_sales, ingest_sales
from ridgeline.retail.records import OPTIONAL, REQUIRED, Format

_CSV = ("text/csv", "application/csv", "text/plain")
_NDJSON = (
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
)

PageSize = paging.page_size(100)
Search = Annotated[
    str | None,
    Parameter(min_length=2, max_length=100, description="Case-insensitive substring (min 2 chars)"),
]
SortBy = Annotated[
    str | None, Parameter(description="Column to sort by; an unknown column falls back to the default")
]
SortOrder = Annotated[str | None, Parameter(description="asc or desc; anything else falls back to asc")]
StartDate = Annotated[date, Parameter(description="Start of the period (inclusive), YYYY-MM-DD")]
EndDate = Annotated[
    date, Parameter(description="End of the period (inclusive); at most 730 days after start")
]
StoreId = Annotated[
    int | None,
    Parameter(
        ge=paging.INT64_MIN, le=paging.INT64_MAX, description="Filter by store id (GET /dimensions/stores)"
    ),
]
ProductId = Annotated[
    int | None,
    Parameter(
        ge=paging.INT64_MIN,
        le=paging.INT64_MAX,
        description="Filter by product id (GET /dimensions/products)",
    ),
]


class HealthController(Controller):
    path = "/health"
    tags = ["retail: health"]

    @get("/", summary="Liveness probe")
    async def health(self) -> sc.Health:
        return sc.Health(status="ok")


def _format_of(request: Request[Any, Any, Any]) -> Format:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype in _CSV:
        return "csv"
    if ctype in _NDJSON:
        return "ndjson"
    if ctype in ("application/json", ""):
        return "json"
    raise RidgelineError(
        415,
        "unsupported_media_type",
        f"Content-Type {ctype!r} is not accepted; send text/csv, application/x-ndjson or application/json",
    )


class IngestController(Controller):
    path = "/ingest"
    tags = ["retail: ingest"]

    @post(
        "/sales-daily",
        summary="Batch upsert of daily sales by natural keys (store_code, sku, date)",
        description=(
            "Streams the body (CSV with a header line, NDJSON, or a JSON document "
            '`{"records": [...]}` up to 64 MiB; `Content-Encoding: gzip` accepted) and upserts every valid '
            "record with ON CONFLICT DO UPDATE. Valid records are stored and invalid ones reported in "
            "`errors`, unless `all_or_nothing=true`, which stores nothing when any record is invalid "
            "(422). Sending the same batch twice changes nothing the second time (all unchanged). "
            f"Required fields: {', '.join(REQUIRED)}. Optional: {', '.join(OPTIONAL)}."
        ),
        status_code=200,
        request_max_body_size=None,
        opt=raises(400, 413, 415),
    )
    async def sales_daily(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        create_missing: Annotated[
            bool, Parameter(description="Create stores/products for unknown store codes/SKUs (else reject)")
        ] = False,
        all_or_nothing: Annotated[
            bool, Parameter(description="Store nothing (422) when any record is invalid")
        ] = False,
    ) -> sc.SalesDailyIngestResponse:
        fmt = _format_of(request)
        encoding = (request.headers.get("content-encoding") or "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            raise RidgelineError(
                415, "unsupported_media_type", f"Content-Encoding {encoding!r} is not accepted"
            )

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                if chunk:
                    yield chunk

        tally, ms = await ingest_sales(
            ctx.db,
            chunks(),
            fmt,
            gzip=encoding == "gzip",
            create_missing=create_missing,
            all_or_nothing=all_or_nothing,
        )
        return sc.SalesDailyIngestResponse(
            total_received=tally.total_received,
            processed_count=tally.inserted + tally.updated + tally.unchanged,
            inserted_count=tally.inserted,
            updated_count=tally.updated,
            unchanged_count=tally.unchanged,
            rejected_count=tally.rejected,
            created_stores=tally.created_stores,
            created_products=tally.created_products,
            errors=[sc.IngestRowError(**e) for e in tally.errors],
            errors_truncated=tally.rejected > len(tally.errors),
            values_truncated=tally.values_truncated,
            duration_ms=round(ms, 3),
        )

    @delete(
        "/sales-daily",
        summary="Delete the sales rows of a store/product/date range (dry_run by default)",
        description=(
            "Removes stored daily sales matching every given filter (at least one; 400 "
            "`filter_required` otherwise). `dry_run=true` (the default) only counts. Dimensions, "
            "store holidays and inventory are kept. An addition to contract 002."
        ),
        status_code=200,
        opt=raises(400),
    )
    async def delete_sales_daily(
        self,
        ctx: Ctx,
        store_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="Store id")] = None,
        product_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="Product id")] = None,
        start_date: Annotated[date | None, Parameter(description="First date (inclusive)")] = None,
        end_date: Annotated[date | None, Parameter(description="Last date (inclusive)")] = None,
        dry_run: Annotated[bool, Parameter(description="Count the rows, delete nothing")] = True,
    ) -> sc.SalesDeleteResult:
        out = await delete_sales(
            ctx.db,
            store_id=store_id,
            product_id=product_id,
            start_date=start_date,
            end_date=end_date,
            dry_run=dry_run,
        )
        return sc.SalesDeleteResult(**out)


class DimensionsController(Controller):
    path = "/dimensions"
    tags = ["retail: dimensions"]

    @get(
        "/stores", summary="List stores (filters, search, pagination, allow-listed sorting)", opt=raises(400)
    )
    async def list_stores(
        self,
        ctx: Ctx,
        page: Page = 1,
        page_size: PageSize = 20,
        region: Annotated[str | None, Parameter(description="Exact region")] = None,
        store_type: Annotated[str | None, Parameter(description="Exact store type")] = None,
        search: Search = None,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
    ) -> sc.StoreListResponse:
        return await service.list_stores(
            ctx.db,
            page=page,
            page_size=page_size,
            region=region,
            store_type=store_type,
            search=search,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    @get("/stores/{store_id:int}", summary="Get a store by id")
    async def get_store(self, ctx: Ctx, store_id: Int64) -> sc.StoreResponse:
        return await service.get_store(ctx.db, store_id)

    @get(
        "/products",
        summary="List products (filters, search, pagination, allow-listed sorting)",
        opt=raises(400),
    )
    async def list_products(
        self,
        ctx: Ctx,
        page: Page = 1,
        page_size: PageSize = 20,
        category: Annotated[str | None, Parameter(description="Exact category")] = None,
        brand: Annotated[str | None, Parameter(description="Exact brand")] = None,
        search: Search = None,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
    ) -> sc.ProductListResponse:
        return await service.list_products(
            ctx.db,
            page=page,
            page_size=page_size,
            category=category,
            brand=brand,
            search=search,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    @get("/products/{product_id:int}", summary="Get a product by id")
    async def get_product(self, ctx: Ctx, product_id: Int64) -> sc.ProductResponse:
        return await service.get_product(ctx.db, product_id)


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["retail: analytics"]

    @get(
        "/kpis",
        summary="Revenue, units, transactions, average unit price and basket over a date range",
        opt=raises(400),
    )
    async def kpis(
        self,
        ctx: Ctx,
        start_date: StartDate,
        end_date: EndDate,
        store_id: StoreId = None,
        product_id: ProductId = None,
        category: Annotated[str | None, Parameter(description="Exact product category")] = None,
        region: Annotated[str | None, Parameter(description="Exact store region")] = None,
    ) -> sc.KPIResponse:
        f = service.SalesFilter(start_date, end_date, store_id, product_id, category, region)
        return await service.kpis(ctx.db, f)

    @get(
        "/drilldowns",
        summary="KPIs grouped by store, product, category, region or date, ranked by revenue",
        opt=raises(400),
    )
    async def drilldowns(
        self,
        ctx: Ctx,
        dimension: Annotated[sc.Dimension, Parameter(description="store, product, category, region or date")],
        start_date: StartDate,
        end_date: EndDate,
        store_id: StoreId = None,
        product_id: ProductId = None,
        max_items: Annotated[int, Parameter(ge=1, le=100, description="Top items to return (1..100)")] = 20,
    ) -> sc.DrilldownResponse:
        f = service.SalesFilter(start_date, end_date, store_id, product_id)
        return await service.drilldown(ctx.db, f, dimension, max_items)

    @get(
        "/timeseries", summary="Sales bucketed by day, week (ISO, Monday), month or quarter", opt=raises(400)
    )
    async def timeseries(
        self,
        ctx: Ctx,
        start_date: StartDate,
        end_date: EndDate,
        granularity: Annotated[sc.Granularity, Parameter(description="day, week, month or quarter")] = "day",
        store_id: StoreId = None,
        product_id: ProductId = None,
        category: Annotated[str | None, Parameter(description="Exact product category")] = None,
        region: Annotated[str | None, Parameter(description="Exact store region")] = None,
    ) -> sc.TimeseriesResponse:
        f = service.SalesFilter(start_date, end_date, store_id, product_id, category, region)
        return await service.timeseries(ctx.db, f, granularity)

    @get("/inventory-status", summary="Latest inventory snapshot per (store, product)", opt=raises(400))
    async def inventory_status(
        self,
        ctx: Ctx,
        store_id: StoreId = None,
        product_id: ProductId = None,
        start_date: Annotated[
            date | None, Parameter(description="With end_date: latest snapshot within the range")
        ] = None,
        end_date: Annotated[
            date | None, Parameter(description="With start_date; at most 730 days after it")
        ] = None,
        stockout_only: Annotated[
            bool, Parameter(description="Only pairs whose latest snapshot is a stock-out")
        ] = False,
        page: Page = 1,
        page_size: paging.page_size(1000) = 100,  # type: ignore[valid-type]
    ) -> sc.InventoryStatusResponse:
        return await service.inventory_status(
            ctx.db,
            store_id=store_id,
            product_id=product_id,
            start_date=start_date,
            end_date=end_date,
            stockout_only=stockout_only,
            page=page,
            page_size=page_size,
        )


class SeederController(Controller):
    path = "/seeder"
    tags = ["retail: seeder"]

    @get("/status", summary="Row counts, sales date range and the last seeder run")
    async def status(self, ctx: Ctx) -> sc.SeederStatus:
        return await service.status(ctx.db)

    @get("/scenarios", summary="Scenario presets and their parameters")
    async def scenarios(self) -> list[sc.ScenarioInfo]:
        return service.list_scenarios()

    @post(
        "/generate",
        summary="Generate a deterministic synthetic history from a scenario and seed",
        status_code=201,
        opt=raises(400),
    )
    async def generate(self, ctx: Ctx, data: JSONBody[sc.GenerateParams]) -> sc.GenerateResult:
        return await service.generate(ctx.db, data)

    @post(
        "/append",
        summary="Extend the last generated history to another period (same seed, stores, products)",
        status_code=201,
        opt=raises(400),
    )
    async def append(self, ctx: Ctx, data: JSONBody[sc.AppendParams]) -> sc.GenerateResult:
        return await service.append(ctx.db, data)

    @delete(
        "/data",
        summary="Delete retail data (all, or facts only); dry_run previews",
        status_code=200,
        opt=raises(400),
    )
    async def delete_data(
        self,
        ctx: Ctx,
        delete_scope: Annotated[
            str, QueryParameter(name="scope", description="all, or facts (sales, inventory, store holidays)")
        ] = "all",
        dry_run: Annotated[
            bool, Parameter(description="Count what would be deleted, delete nothing")
        ] = False,
    ) -> sc.DeleteResult:
        if delete_scope not in ("all", "facts"):
            raise RidgelineError(
                400, "invalid_scope", f"scope must be 'all' or 'facts', got {delete_scope!r}"
            )
        params = sc.DeleteParams(scope=delete_scope, dry_run=dry_run)  # type: ignore[arg-type]
        return await service.delete_data(ctx.db, params)

    @post("/verify", summary="Integrity checks over the stored data", status_code=200)
    async def verify(self, ctx: Ctx) -> sc.VerifyResult:
        return await service.verify(ctx.db)


ROUTE_HANDLERS = [
    HealthController,
    IngestController,
    DimensionsController,
    AnalyticsController,
    SeederController,
]
