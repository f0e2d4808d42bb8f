"""The autopack family's declaration (contract 003): mounted under ``/autopack`` (or at the root with
``ridgeline serve --only autopack``, where its ``/health`` and ``/api/auth/*`` answer as the contract
says). One module per URL prefix; tables in ``store``; reason codes in ``errors``.

Errors are FastAPI-style ``{"detail", "reason_code", "request_id"}`` (the contract's server is
FastAPI). Settings are the contract's own variable names (``AUTOPACK_API_KEY``, ``AUTOPACK_ENV``,
``AUTOPACK_PUBLIC_READ``, the kill switches ...), read once through ``autopack.settings``.
"""

from __future__ import annotations

from ridgeline.autopack.api import store  # noqa: F401  (tables on the shared metadata)
from ridgeline.autopack.api.errors import REASON_CODES
from ridgeline.autopack.api.service import AutopackService
from ridgeline.autopack.settings import PREFIX, AutopackSettings
from ridgeline.platform.auth.policy import ContractEnvironment, Policy
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_fastapi_detail

ROUTES: list[object] = []

# ---- runs, health, dashboard, issues, errors, auth, operator surface (sections 1-5, 8, 10) ----
from ridgeline.autopack.api import artifacts, auth, dashboard, health, issues, runs  # noqa: E402

ROUTES += [*health.ROUTES, *runs.ROUTES, *dashboard.ROUTES, *issues.ROUTES, *artifacts.ROUTES, *auth.ROUTES]
# ---- end of sections 1-5, 8, 10 ----


async def _start(ctx: AppContext, settings: AutopackSettings | None) -> AutopackService:
    settings = settings or AutopackSettings()
    # Contract 003 section 10's rule for Policy.operator("autopack", ...): AUTOPACK_ENV, AUTOPACK_PUBLIC_READ.
    if getattr(ctx, "auth", None) is not None:
        ctx.auth.register_environment(
            "autopack",
            ContractEnvironment(production=settings.env == "production", public_read=settings.public_read),
        )
    return AutopackService(ctx, settings)


family = Family(
    name="autopack",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    tags=["autopack"],
    metadata=metadata,
    settings=AutopackSettings,
    settings_prefix=PREFIX,
    # Contract 003 lists the auth of every route; routes without one are public ("Auth: None").
    default_policy=Policy.public(),
    services=(Provider(AutopackService, _start),),
    reason_codes=REASON_CODES,
    doc_pages=("docs/autopack.md",),
)

# autopack-ops (issue 15 sections 6, 7, 9, 11, 12, 13): its service, job kinds, routes and doc page.
from ridgeline.autopack.api.ops_service import extend as _extend_ops  # noqa: E402

family = _extend_ops(family)
