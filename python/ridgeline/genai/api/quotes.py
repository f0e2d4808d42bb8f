"""Quotes: ``GET /v1/quotes/summary``, ``GET /v1/quotes`` (1-based pages, filters), ``GET /v1/quotes/{id}``,
``POST /v1/quotes``, ``PUT /v1/quotes/{id}`` (admin, contract 004).

Filters of the list: ``q`` (case-insensitive, in the text or the author), ``author`` (exact),
``language``, ``tag``, ``is_active``; ``sort_by`` in ``id``, ``author``, ``created_at``,
``updated_at`` (unknown -> ``id``), ``sort_order`` ``asc``/``desc``. The table is seeded with
the small set in :mod:`ridgeline.genai.quotes_data` on a new database.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter

from ridgeline.genai.api.catalog_store import catalog_of, quotes
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform import paging
from ridgeline.platform.auth import Role
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.paging import Int64, Page, page_window, resolve_sort
from ridgeline.platform.problems import NotFound

TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
Tag = Annotated[str, msgspec.Meta(pattern=TAG_PATTERN)]
Language = Annotated[str, msgspec.Meta(pattern=LANGUAGE_PATTERN)]


class QuoteBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    source: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    language: Language = "en"
    tags: Annotated[list[Tag], msgspec.Meta(max_length=20)] = []
    is_active: bool = True


class Quote(msgspec.Struct, kw_only=True):
    id: int
    text: str
    author: str
    source: str | None
    language: str
    tags: list[str]
    is_active: bool
    created_at: str
    updated_at: str


class QuotePage(msgspec.Struct, kw_only=True):
    items: list[Quote]
    total: int
    page: int
    page_size: int
    pages: int


class QuoteSummary(msgspec.Struct, kw_only=True):
    total: int
    active: int
    inactive: int
    authors: int
    by_language: dict[str, int]
    by_tag: dict[str, int]


SORT = {
    "id": quotes.c.id,
    "author": quotes.c.author,
    "created_at": quotes.c.created_at,
    "updated_at": quotes.c.updated_at,
}
_ADMIN = Policy.role(Role.ADMIN).opt()


@get("/v1/quotes/summary", opt=_ADMIN, tags=["quotes"])
async def quote_summary(svc: Service[GenaiService]) -> QuoteSummary:
    return msgspec.convert(await (await catalog_of(svc)).quote_summary(), QuoteSummary)


@get("/v1/quotes", opt=_ADMIN, tags=["quotes"])
async def list_quotes(
    svc: Service[GenaiService],
    page: Page = 1,
    page_size: paging.page_size(100) = 20,
    q: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    author: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    language: Annotated[str | None, QueryParameter(pattern=LANGUAGE_PATTERN)] = None,
    tag: Annotated[str | None, QueryParameter(pattern=TAG_PATTERN)] = None,
    is_active: FromQuery[bool | None] = None,
    sort_by: FromQuery[str | None] = None,
    sort_order: FromQuery[str | None] = None,
) -> QuotePage:
    filters: list[Any] = []
    if q is not None:
        needle = q.lower()
        filters.append(
            sa.or_(
                sa.func.lower(quotes.c.text).contains(needle, autoescape=True),
                sa.func.lower(quotes.c.author).contains(needle, autoescape=True),
            )
        )
    if author is not None:
        filters.append(quotes.c.author == author)
    if language is not None:
        filters.append(quotes.c.language == language)
    if tag is not None:  # tags are [a-z0-9_-]: the quoted tag in the JSON text is exact
        filters.append(sa.cast(quotes.c.tags, sa.Text).contains(f'"{tag}"', autoescape=True))
    if is_active is not None:
        filters.append(quotes.c.is_active.is_(is_active))
    sort = resolve_sort(sort_by, sort_order, SORT, "id")
    order = sort.target.desc() if sort.descending else sort.target.asc()
    window = page_window(page, page_size)
    items, total = await (await catalog_of(svc)).list_quotes(
        offset=window.offset, limit=window.limit, filters=filters, order=order
    )
    return QuotePage(
        items=msgspec.convert(items, list[Quote]),
        total=total,
        page=page,
        page_size=page_size,
        pages=(total + page_size - 1) // page_size,
    )


@get("/v1/quotes/{quote_id:int}", opt=_ADMIN, tags=["quotes"])
async def get_quote(svc: Service[GenaiService], quote_id: Int64) -> Quote:
    got = await (await catalog_of(svc)).quote(quote_id)
    if got is None:
        raise NotFound("quote", quote_id, message=f"No quote {quote_id}.", id=quote_id)
    return msgspec.convert(got, Quote)


@post("/v1/quotes", status_code=201, opt=_ADMIN, tags=["quotes"])
async def create_quote(svc: Service[GenaiService], data: JSONBody[QuoteBody]) -> Quote:
    return msgspec.convert(await (await catalog_of(svc)).create_quote(msgspec.to_builtins(data)), Quote)


@put("/v1/quotes/{quote_id:int}", opt=_ADMIN, tags=["quotes"])
async def update_quote(svc: Service[GenaiService], quote_id: Int64, data: JSONBody[QuoteBody]) -> Quote:
    got = await (await catalog_of(svc)).update_quote(quote_id, msgspec.to_builtins(data))
    if got is None:
        raise NotFound("quote", quote_id, message=f"No quote {quote_id}.", id=quote_id)
    return msgspec.convert(got, Quote)


ROUTES = [quote_summary, list_quotes, get_quote, create_quote, update_quote]
