"""Contract 003 section 2: ``GET /health`` (at the root with ``--only autopack``, where it answers
instead of the platform's).

- ``unhealthy`` (503): the database does not answer ``SELECT 1``;
- ``degraded`` (200): the database answers but Qdrant (checked only when ``QDRANT_URL`` is set) does not;
- ``healthy`` (200) otherwise.

``database_identity`` is 16 hex digits of the SHA-256 of the database URL (drift detection: two
processes on the same database show the same value); the URL itself, which may hold a password,
is never returned. ``DEBUG_DB_IDENTITY=1`` adds the URL's non-secret parts (dialect, driver, host,
port, database name; never the user or password).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

import httpx
from litestar import Response, get
from sqlalchemy.engine import make_url

import ridgeline
from ridgeline.autopack.api import schemas as S
from ridgeline.autopack.api.service import AutopackService
from ridgeline.platform.context import Ctx, Service
from ridgeline.platform.hashing import sha256_hex

QDRANT_TIMEOUT_S = 2.0


def identity(url: str) -> str:
    return sha256_hex(url)[:16]


def debug_parts(url: str) -> S.DbIdentityDebug:
    u = make_url(url)
    database = u.database
    if u.get_backend_name() == "sqlite" and database:
        database = PurePath(database).name
    return S.DbIdentityDebug(
        dialect=u.get_backend_name(),
        driver=u.get_driver_name() or None,
        host=u.host,
        port=u.port,
        database=database,
    )


async def qdrant_status(url: str) -> S.QdrantHealth:
    try:
        async with httpx.AsyncClient(timeout=QDRANT_TIMEOUT_S, trust_env=False) as client:
            r = await client.get(url.rstrip("/") + "/readyz")
        ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    return S.QdrantHealth(status="connected" if ok else "unreachable", url_identity=identity(url))


@get("/health", tags=["autopack health"], summary="Health: database, Qdrant, kill switches, version")
async def health(ctx: Ctx, svc: Service[AutopackService]) -> Response[S.HealthResponse]:
    url = ctx.settings.resolved_database_url
    db_ok = await ctx.db.reachable()
    contract = svc.contract
    qdrant = await qdrant_status(contract.qdrant_url) if contract.qdrant_url else None
    if not db_ok:
        status = "unhealthy"
    elif qdrant is not None and qdrant.status != "connected":
        status = "degraded"
    else:
        status = "healthy"
    body = S.HealthResponse(
        status=status,
        database_identity=identity(url),
        database=S.DatabaseHealth(status="connected" if db_ok else "unreachable", backend=ctx.db.backend),
        qdrant=qdrant,
        kill_switches={
            "AUTOPACK_ENABLE_PHASE6_METRICS": svc.settings.enable_phase6_metrics,
            "AUTOPACK_ENABLE_CONSOLIDATED_METRICS": svc.settings.enable_consolidated_metrics,
            "AUTO_APPROVE_BUILD113": contract.auto_approve_build113,
        },
        version=ridgeline.__version__,
        timestamp=datetime.now(UTC),
        database_identity_debug=debug_parts(url) if contract.debug_db_identity else None,
    )
    return Response(body, status_code=503 if status == "unhealthy" else 200)


ROUTES = [health]
