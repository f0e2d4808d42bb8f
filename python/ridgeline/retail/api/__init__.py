"""The retail family's HTTP layer (contract 002): health, ingest, dimensions, analytics, seeder.

Errors are RFC 7807 ``application/problem+json``; request validation errors are 422 (as the
contract's FastAPI origin answers), date-range violations 400.
"""

from __future__ import annotations

import logging

from ridgeline.platform.context import AppContext, Family
from ridgeline.platform.errors import render_problem_json
from ridgeline.retail.api import service
from ridgeline.retail.api.routes import ROUTE_HANDLERS

log = logging.getLogger("ridgeline.retail")


async def seed_defaults(ctx: AppContext) -> None:
    """Embedded default: a small deterministic history when the retail tables are empty."""
    if not ctx.settings.seed_defaults:
        return
    if await service.seed_embedded_default(ctx.db):
        log.info("seeded the embedded default retail history")


family = Family(
    name="retail",
    route_handlers=ROUTE_HANDLERS,
    render_error=render_problem_json,
    validation_status=422,
    on_startup=(seed_defaults,),
    tags=("retail",),
)
