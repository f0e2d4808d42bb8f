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
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.db import metadata
from ridgeline.platform.errors import render_fastapi_detail

ROUTES: list[object] = []


async def _start(ctx: AppContext, _settings: None) -> AutopackService:
    return AutopackService(ctx)


family = Family(
    name="autopack",
    route_handlers=ROUTES,
    render_error=render_fastapi_detail,
    validation_status=422,
    tags=["autopack"],
    metadata=metadata,
    services=(Provider(AutopackService, _start),),
    reason_codes=REASON_CODES,
    doc_pages=("docs/autopack.md",),
)

# autopack-ops (issue 15 sections 6, 7, 9, 11, 12, 13): its service, job kinds, routes and doc page.
from ridgeline.autopack.api.ops_service import extend as _extend_ops  # noqa: E402

family = _extend_ops(family)
