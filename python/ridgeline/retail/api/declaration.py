"""The retail family (contract 002): one module per URL prefix (``health``, ``ingest``,
``dimensions``, ``analytics``, ``seeder``, ``featuresets``, ``forecasting``, ``backtesting``,
``explain``, ``scenarios``, ``registry``, ``jobs``), queries and tables in ``store``, wire types in
``schemas``, reason codes in ``errors``, date rules in :mod:`ridgeline.retail.dates`.

Errors are RFC 7807 ``application/problem+json``; request validation errors are 422 (as the
contract's FastAPI origin answers), date-range violations 400. Settings: ``RIDGELINE_RETAIL_*``
(:class:`ridgeline.retail.settings.RetailSettings`), validated at start-up.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from ridgeline.platform.auth.policy import public_unless_required
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_problem_json
from ridgeline.retail.api import (
    agents,
    analytics,
    backtesting,
    config,
    demo,
    dimensions,
    explain,
    featuresets,
    forecasting,
    health,
    ingest,
    jobs,
    rag,
    registry,
    scenarios,
    seeder,
    showcase,
)
from ridgeline.retail.api.ai_service import RetailAIService, start_ai, stop_ai
from ridgeline.retail.api.errors import REASON_CODES
from ridgeline.retail.settings import PREFIX, RetailSettings

log = logging.getLogger("ridgeline.retail")

ROUTE_HANDLERS = [
    health.HealthController,
    ingest.IngestController,
    dimensions.DimensionsController,
    analytics.AnalyticsController,
    seeder.SeederController,
    scenarios.ScenariosController,
    jobs.JobsController,
    featuresets.FeaturesetsController,
    forecasting.ForecastingController,
    backtesting.BacktestingController,
    explain.ExplainController,
    registry.RegistryController,
    # issue 18: rag, agents (+ /agents/stream), demo (+ /demo/stream), config, the Showcase page
    rag.RagController,
    agents.AgentsController,
    agents.agents_stream,
    demo.DemoController,
    demo.demo_stream,
    config.ConfigController,
    showcase.ShowcaseController,
]


async def seed_defaults(ctx: AppContext) -> None:
    """Embedded default: a small deterministic history when the retail tables are empty."""
    if not ctx.settings.seed_defaults:
        return
    try:
        seeded = await seeder.seed_embedded_default(ctx.db)
    except SQLAlchemyError as exc:
        # Several workers may start at once: one seeds, the others find the database busy or the rows
        # already there. Serving must not depend on winning that race.
        log.warning("embedded default retail history not seeded by this process: %s", exc.__class__.__name__)
        return
    if seeded:
        log.info("seeded the embedded default retail history")


family = Family(
    name="retail",
    route_handlers=ROUTE_HANDLERS,
    render_error=render_problem_json,
    validation_status=422,
    on_startup=(seed_defaults,),
    tags=("retail",),
    metadata=metadata,
    job_kinds=jobs.JOB_KINDS,
    settings=RetailSettings,
    settings_prefix=PREFIX,
    reason_codes=REASON_CODES,
    services=(Provider(RetailAIService, start_ai, stop_ai, name="ai"),),
    doc_pages=("docs/retail.md", "docs/retail-forecasting.md", "docs/retail-ai.md"),
    default_policy=public_unless_required("retail"),  # RIDGELINE_AUTH_REQUIRE_FAMILIES
)
