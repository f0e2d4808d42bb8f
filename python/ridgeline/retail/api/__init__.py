"""The retail family's HTTP layer (contract 002). Errors are RFC 7807 ``application/problem+json``."""

from __future__ import annotations

from ridgeline.platform.context import Family
from ridgeline.platform.errors import render_problem_json
from ridgeline.retail.api.forecast_routes import FORECAST_ROUTE_HANDLERS

family = Family(
    name="retail",
    route_handlers=FORECAST_ROUTE_HANDLERS,
    render_error=render_problem_json,
    validation_status=422,
    tags=("retail",),
)
