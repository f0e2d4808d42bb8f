"""The retail family's HTTP layer (contract 002): health, ingest, dimensions, analytics, seeder,
and the forecasting slices (``forecast_*`` modules).

Errors are RFC 7807 ``application/problem+json``; request validation errors are 422 (as the
contract's FastAPI origin answers), date-range violations 400.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from ridgeline.platform.auth.policy import public_unless_required
from ridgeline.platform.context import AppContext, Family
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_problem_json
from ridgeline.retail.api import (
    forecast_jobs,
    forecast_store,  # noqa: F401  (registers the forecasting tables)
    service,
)
from ridgeline.retail.api.errors import REASON_CODES
from ridgeline.retail.api.forecast_routes import FORECAST_ROUTE_HANDLERS
from ridgeline.retail.api.routes import ROUTE_HANDLERS

log = logging.getLogger("ridgeline.retail")


async def seed_defaults(ctx: AppContext) -> None:
    """Embedded default: a small deterministic history when the retail tables are empty."""
    if not ctx.settings.seed_defaults:
        return
    try:
        seeded = await service.seed_embedded_default(ctx.db)
    except SQLAlchemyError as exc:
        # Several workers may start at once: one seeds, the others find the database busy or the rows
        # already there. Serving must not depend on winning that race.
        log.warning("embedded default retail history not seeded by this process: %s", exc.__class__.__name__)
        return
    if seeded:
        log.info("seeded the embedded default retail history")


family = Family(
    name="retail",
    route_handlers=[*ROUTE_HANDLERS, *FORECAST_ROUTE_HANDLERS],
    render_error=render_problem_json,
    validation_status=422,
    on_startup=(seed_defaults,),
    tags=("retail",),
    metadata=metadata,
    job_kinds=forecast_jobs.JOB_KINDS,
    reason_codes=REASON_CODES,
    doc_pages=("docs/retail.md", "docs/retail-forecasting.md"),
    default_policy=public_unless_required("retail"),  # RIDGELINE_AUTH_REQUIRE_FAMILIES
)
