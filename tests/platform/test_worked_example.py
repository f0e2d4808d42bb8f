"""The worked example of docs/platform.md, running: a family with its own table, a typed service,
a paged + sorted list and a get-by-id that raises NotFound."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import get
from litestar.params import FromQuery

from ridgeline.platform import paging
from ridgeline.platform.context import AppContext, Family, Provider, Service
from ridgeline.platform.db import UTCDateTime
from ridgeline.platform.errors import render_problem_json
from ridgeline.platform.paging import Int64, Page, page_window, resolve_sort
from ridgeline.platform.problems import NotFound, catalogue

md = sa.MetaData()
depots = sa.Table(
    "example_depots",
    md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=True),
)
DEPOT_SORT = {"name": depots.c.name, "id": depots.c.id}


class FleetService:
    def __init__(self, ctx: AppContext) -> None:
        self.db = ctx.db

    async def list_depots(
        self, page: int, page_size: int, sort_by: str | None, order: str | None
    ) -> list[Any]:
        sort = resolve_sort(sort_by, order, DEPOT_SORT, "name")
        col = sort.target.desc() if sort.descending else sort.target.asc()
        window = page_window(page, page_size)
        async with self.db.engine.connect() as conn:
            q = sa.select(depots.c.id, depots.c.name).order_by(col, depots.c.id)
            return [dict(r._mapping) for r in await conn.execute(q.limit(window.limit).offset(window.offset))]

    async def depot(self, depot_id: int) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(depots.c.id, depots.c.name).where(depots.c.id == depot_id))
            ).first()
        if row is None:
            raise NotFound("depot", depot_id, depot_id=depot_id)
        return dict(row._mapping)


async def start_fleet(ctx: AppContext, settings: Any) -> FleetService:
    async with ctx.db.begin() as conn:  # a real family ships a migration instead
        await conn.run_sync(md.create_all)
        await conn.execute(
            depots.insert(), [{"id": i, "name": n} for i, n in enumerate(["c", "a", "d", "b"], 1)]
        )
    return FleetService(ctx)


@get("/depots")
async def list_depots(
    svc: Service[FleetService],
    page: Page = 1,
    page_size: paging.page_size(100) = 20,  # type: ignore[valid-type]
    sort_by: FromQuery[str | None] = None,
    sort_order: FromQuery[str | None] = None,
) -> dict[str, Any]:
    return {"depots": await svc.list_depots(page, page_size, sort_by, sort_order), "page": page}


@get("/depots/{depot_id:int}")
async def get_depot(svc: Service[FleetService], depot_id: Int64) -> dict[str, Any]:
    return await svc.depot(depot_id)


def fleet_family() -> Family:
    return Family(
        "retail",  # mounted under a known prefix so the problem+json shape applies
        [list_depots, get_depot],
        render_error=render_problem_json,
        metadata=md,
        services=(Provider(FleetService, start_fleet),),
        reason_codes=catalogue(("depot_not_found", 404, "depot {depot_id} not found")),
    )


def test_worked_example(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(families=[fleet_family()])
    names = lambda r: [d["name"] for d in r.json()["depots"]]  # noqa: E731
    assert names(c.get("/retail/depots")) == ["a", "b", "c", "d"]
    assert names(c.get("/retail/depots?sort_order=desc")) == ["d", "c", "b", "a"]
    assert names(c.get("/retail/depots?sort_by=password")) == ["a", "b", "c", "d"]  # fallback: name
    assert names(c.get("/retail/depots?sort_by=id&page=2&page_size=3")) == ["b"]  # id 4
    assert c.get("/retail/depots/2").json() == {"id": 2, "name": "a"}
    r = c.get("/retail/depots/99")
    assert r.status_code == 404 and r.json()["reason_code"] == "depot_not_found"
    assert r.json()["depot_id"] == 99
    for bad in ("/retail/depots/9223372036854775808", "/retail/depots?page=18446744073709551616"):
        r = c.get(bad)
        assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"
