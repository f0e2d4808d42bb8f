"""``GET /v1/content/quote-of-the-day`` (public, contract 004): one active quote per UTC day, the same
for every caller and every worker that day. The pick is ``sha256(date) mod n`` over the active quotes
ordered by id, so it changes only when the day or the set of active quotes does. ``date``
(``YYYY-MM-DD``) asks for another day's pick."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import get
from litestar.params import FromQuery

from ridgeline.genai.api.catalog_store import catalog_of
from ridgeline.genai.api.quotes import Quote
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.hashing import sha256_hex
from ridgeline.platform.problems import NotFound


class QuoteOfTheDay(msgspec.Struct, kw_only=True):
    date: str
    quote: Quote


def pick_index(day: dt.date, count: int) -> int:
    return int(sha256_hex(f"quote-of-the-day:{day.isoformat()}")[:16], 16) % count


@get("/v1/content/quote-of-the-day", opt=Policy.public().opt(), tags=["content"])
async def quote_of_the_day(
    svc: Service[GenaiService], date: FromQuery[dt.date | None] = None
) -> QuoteOfTheDay:
    day = date or dt.datetime.now(dt.UTC).date()
    store = await catalog_of(svc)
    ids = await store.active_quote_ids()
    if not ids:
        raise NotFound("quote", "active", message="No active quote.", id=None)
    got = await store.quote(ids[pick_index(day, len(ids))])
    assert got is not None
    return QuoteOfTheDay(date=day.isoformat(), quote=msgspec.convert(got, Quote))


ROUTES = [quote_of_the_day]
