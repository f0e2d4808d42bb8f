"""``/dimensions``: stores and products (filters, search, 1-based pages, allow-listed sort)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, get
from litestar.params import Parameter

from ridgeline.platform import paging
from ridgeline.platform.context import Ctx
from ridgeline.platform.db import Database
from ridgeline.platform.openapi import raises
from ridgeline.platform.paging import Int64, Page, page_window, resolve_sort
from ridgeline.platform.problems import NotFound
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.sales import (
    ProductListResponse,
    ProductResponse,
    StoreListResponse,
    StoreResponse,
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
    ) -> StoreListResponse:
        return await list_stores(
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
    async def get_store(self, ctx: Ctx, store_id: Int64) -> StoreResponse:
        return await get_store(ctx.db, store_id)

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
    ) -> ProductListResponse:
        return await list_products(
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
    async def get_product(self, ctx: Ctx, product_id: Int64) -> ProductResponse:
        return await get_product(ctx.db, product_id)


STORE_SORT = {"id", "code", "name", "region", "city", "store_type", "created_at", "updated_at"}


PRODUCT_SORT = {
    "id",
    "sku",
    "name",
    "category",
    "brand",
    "base_price",
    "base_cost",
    "created_at",
    "updated_at",
}


def _order(
    table: sa.Table, allowed: set[str], default: str, sort_by: str | None, sort_order: str | None
) -> list[Any]:
    """Allow-listed ordering; an unknown column or direction falls back to the default (ascending)."""
    sort = resolve_sort(sort_by, sort_order, {c: table.c[c] for c in allowed}, default)
    return [sort.target.desc() if sort.descending else sort.target.asc(), table.c.id.asc()]


def _store(row: Any) -> StoreResponse:
    m = row._mapping
    return StoreResponse(
        id=m["id"],
        code=m["code"],
        name=m["name"],
        region=m["region"],
        city=m["city"],
        store_type=m["store_type"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _product(row: Any) -> ProductResponse:
    m = row._mapping
    return ProductResponse(
        id=m["id"],
        sku=m["sku"],
        name=m["name"],
        category=m["category"],
        brand=m["brand"],
        base_price=m["base_price"],
        base_cost=m["base_cost"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


async def _page(
    db: Database,
    table: sa.Table,
    *,
    equals: dict[str, str | None],
    search: str | None,
    search_columns: tuple[str, str],
    sort: set[str],
    default_sort: str,
    sort_by: str | None,
    sort_order: str | None,
    page: int,
    page_size: int,
) -> tuple[list[sa.Row[Any]], int]:
    """One page of a dimension table: exact filters, case-insensitive search, allow-listed sort."""
    window = page_window(page, page_size)
    conds: list[Any] = [table.c[col] == value for col, value in equals.items() if value is not None]
    if search:
        pattern = store.like_pattern(search)
        conds.append(
            sa.or_(*(sa.func.lower(table.c[col]).like(pattern, escape="\\") for col in search_columns))
        )
    order = _order(table, sort, default_sort, sort_by, sort_order)
    return await store.dimension_page(db, table, conds, order, window.limit, window.offset)


async def _by_id(db: Database, table: sa.Table, row_id: int, what: str, list_path: str) -> sa.Row[Any]:
    row = await store.dimension_row(db, table, row_id)
    if row is None:
        raise NotFound(
            what,
            row_id,
            message=f"{what.capitalize()} not found: {row_id}. Use GET {list_path} to list available {what}s.",
            **{f"{what}_id": row_id},
        )
    return row


async def list_stores(
    db: Database,
    *,
    page: int,
    page_size: int,
    region: str | None,
    store_type: str | None,
    search: str | None,
    sort_by: str | None,
    sort_order: str | None,
) -> StoreListResponse:
    rows, total = await _page(
        db,
        store.stores,
        equals={"region": region, "store_type": store_type},
        search=search,
        search_columns=("code", "name"),
        sort=STORE_SORT,
        default_sort="code",
        sort_by=sort_by,
        sort_order=sort_order,
        page=page,
        page_size=page_size,
    )
    return StoreListResponse(stores=[_store(r) for r in rows], total=total, page=page, page_size=page_size)


async def get_store(db: Database, store_id: int) -> StoreResponse:
    return _store(await _by_id(db, store.stores, store_id, "store", "/dimensions/stores"))


async def list_products(
    db: Database,
    *,
    page: int,
    page_size: int,
    category: str | None,
    brand: str | None,
    search: str | None,
    sort_by: str | None,
    sort_order: str | None,
) -> ProductListResponse:
    rows, total = await _page(
        db,
        store.products,
        equals={"category": category, "brand": brand},
        search=search,
        search_columns=("sku", "name"),
        sort=PRODUCT_SORT,
        default_sort="sku",
        sort_by=sort_by,
        sort_order=sort_order,
        page=page,
        page_size=page_size,
    )
    return ProductListResponse(
        products=[_product(r) for r in rows], total=total, page=page, page_size=page_size
    )


async def get_product(db: Database, product_id: int) -> ProductResponse:
    return _product(await _by_id(db, store.products, product_id, "product", "/dimensions/products"))
