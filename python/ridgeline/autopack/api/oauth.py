"""``/api/auth/oauth/*`` (contract 003 section 9, BUILD-189): credential health for the dashboard
(``Bearer``), refresh and reset (``Bearer`` of an admin: contract 003's ``is_superuser``, i.e.
``Role.ADMIN`` and above; 403 for others), the event log (``Bearer``). Registering a credential
(``PUT /api/auth/oauth/credentials/{provider}``, admin) is how a provider's record is created; the
contract leaves that to the operator. Secrets are never returned, only masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.params import JSONBody, PathParameter

from ridgeline.autopack.api.ops_service import OpsService, actor_of
from ridgeline.autopack.api.ops_types import OptionalQueryId, text
from ridgeline.platform import paging
from ridgeline.platform.auth import Policy, Role
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

TAGS = ["autopack: oauth credential health"]
ProviderName = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
ADMIN = Policy.role(Role.ADMIN).opt()
BEARER = Policy.bearer().opt()
Status = Literal["healthy", "degraded", "expiring", "expired", "failing"]


class CredentialHealth(msgspec.Struct, kw_only=True):
    provider: str
    status: Status
    expires_at: datetime | None
    expires_in_seconds: int | None
    failure_count: int
    last_refresh_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    scopes: list[str]
    has_refresh_token: bool
    refreshable: bool
    access_token_masked: str | None
    updated_at: datetime


class HealthSummary(msgspec.Struct, kw_only=True):
    total: int
    healthy: int
    degraded: int
    expiring: int
    expired: int
    failing: int


class HealthReport(msgspec.Struct, kw_only=True):
    status: Status
    generated_at: datetime
    summary: HealthSummary
    credentials: list[CredentialHealth]


class CredentialEvent(msgspec.Struct, kw_only=True):
    id: int
    provider: str
    at: datetime
    event_type: Literal["registered", "refresh_queued", "refresh_succeeded", "refresh_failed", "reset"]
    actor: str
    detail: dict[str, Any]


class RefreshQueued(msgspec.Struct, kw_only=True):
    provider: str
    status: Literal["queued"]
    job_id: str


class CredentialIn(msgspec.Struct, kw_only=True):
    token_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\x00]*$", max_length=2000)] | None = None
    client_id: Annotated[str, text(500)] | None = None
    client_secret: Annotated[str, text(4000)] | None = None
    access_token: Annotated[str, text(16000)] | None = None
    refresh_token: Annotated[str, text(16000)] | None = None
    scopes: list[Annotated[str, text(200)]] = msgspec.field(default_factory=list)
    expires_at: datetime | None = None


@get(
    "/api/auth/oauth/health",
    tags=TAGS,
    summary="Credential health report (summary and per credential)",
    opt=BEARER,
)
async def oauth_health(ops: Service[OpsService]) -> HealthReport:
    return msgspec.convert(await ops.oauth.report(), HealthReport)


@get(
    "/api/auth/oauth/health/{provider:str}",
    tags=TAGS,
    summary="Health of one provider's credential",
    opt=BEARER,
)
async def oauth_provider_health(ops: Service[OpsService], provider: ProviderName) -> CredentialHealth:
    return msgspec.convert(await ops.oauth.health(provider), CredentialHealth)


@post(
    "/api/auth/oauth/refresh/{provider:str}",
    status_code=202,
    tags=TAGS,
    summary="Queue a refresh-token grant for the provider (admin only)",
    opt={**raises(409), **ADMIN},
)
async def oauth_refresh(
    request: Request[Any, Any, Any], ops: Service[OpsService], provider: ProviderName
) -> RefreshQueued:
    return msgspec.convert(await ops.oauth.queue_refresh(provider, actor_of(request)), RefreshQueued)


@post(
    "/api/auth/oauth/reset/{provider:str}",
    status_code=200,
    tags=TAGS,
    summary="Reset the credential's failure count (admin only)",
    opt=ADMIN,
)
async def oauth_reset(
    request: Request[Any, Any, Any], ops: Service[OpsService], provider: ProviderName
) -> CredentialHealth:
    return msgspec.convert(await ops.oauth.reset(provider, actor_of(request)), CredentialHealth)


@get("/api/auth/oauth/events", tags=TAGS, summary="Recent credential lifecycle events", opt=BEARER)
async def oauth_events(
    ops: Service[OpsService],
    provider: OptionalQueryId = None,
    limit: paging.limit(1000) = 100,
) -> list[CredentialEvent]:
    return [msgspec.convert(e, CredentialEvent) for e in await ops.oauth.events(provider, limit)]


@put(
    "/api/auth/oauth/credentials/{provider:str}",
    status_code=200,
    tags=TAGS,
    summary="Register or replace a provider's credential (admin only; secrets sealed at rest)",
    opt=ADMIN,
)
async def oauth_register(
    request: Request[Any, Any, Any],
    ops: Service[OpsService],
    provider: ProviderName,
    data: JSONBody[CredentialIn],
) -> CredentialHealth:
    view = await ops.oauth.register(
        provider,
        token_url=data.token_url,
        client_id=data.client_id,
        client_secret=data.client_secret,
        access_token=data.access_token,
        refresh_token=data.refresh_token,
        scopes=data.scopes,
        expires_at=data.expires_at,
        actor=actor_of(request),
    )
    return msgspec.convert(view, CredentialHealth)


ROUTES = [oauth_health, oauth_provider_health, oauth_refresh, oauth_reset, oauth_events, oauth_register]
