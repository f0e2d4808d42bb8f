"""OAuth credential health (contract 003 section 9, BUILD-189): one record per provider, its tokens
and client secret sealed with the platform's secrets box (associated data
``autopack:oauth:<provider>:<field>``, so a sealed value moved to another row or field fails to
open), its expiry, consecutive refresh failures and an event log. A refresh is a platform job
(kind ``oauth_refresh``) doing the refresh-token grant against the provider's token endpoint.

Status of a credential: ``failing`` at ``AUTOPACK_OAUTH_FAILURE_THRESHOLD`` consecutive failures,
else ``expired`` past its expiry, else ``expiring`` within ``AUTOPACK_OAUTH_EXPIRY_WARNING_S``, else
``degraded`` with at least one failure, else ``healthy``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_store import oauth_credentials, oauth_events
from ridgeline.autopack.oauth_client import RefreshError, refresh_grant
from ridgeline.autopack.ops_settings import OpsSettings
from ridgeline.platform.auth.secrets import SecretBox, mask
from ridgeline.platform.jobs import JobContext
from ridgeline.platform.problems import NotFound

FAMILY, REFRESH_KIND = "autopack", "oauth_refresh"
STATUS_ORDER = ("healthy", "degraded", "expiring", "expired", "failing")


def _aad(provider: str, field: str) -> str:
    return f"autopack:oauth:{provider}:{field}"


class OAuthHealthService:
    def __init__(self, ctx: Any, settings: OpsSettings, clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.settings = settings
        self.clock = clock

    @property
    def box(self) -> SecretBox:
        return self.ctx.auth.secrets

    def _seal(self, provider: str, field: str, value: str | None) -> str | None:
        return None if value is None else self.box.seal(value, _aad(provider, field))

    def _open(self, provider: str, field: str, sealed: str | None) -> str | None:
        return None if sealed is None else self.box.open(sealed, _aad(provider, field)).decode()

    async def _event(self, conn: Any, provider: str, event_type: str, actor: str, **detail: Any) -> None:
        await conn.execute(
            oauth_events.insert().values(
                provider=provider, at=self.clock(), event_type=event_type, actor=actor[:200], detail=detail
            )
        )

    async def register(
        self,
        provider: str,
        *,
        token_url: str | None,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | None,
        refresh_token: str | None,
        scopes: list[str],
        expires_at: datetime | None,
        actor: str,
    ) -> dict[str, Any]:
        """Create or replace the provider's credential (the failure count starts again at 0)."""
        now = self.clock()
        values = {
            "token_url": token_url,
            "client_id": client_id,
            "client_secret_sealed": self._seal(provider, "client_secret", client_secret),
            "access_token_sealed": self._seal(provider, "access_token", access_token),
            "refresh_token_sealed": self._seal(provider, "refresh_token", refresh_token),
            "scopes": scopes,
            "expires_at": expires_at,
            "failure_count": 0,
            "last_error": None,
            "updated_at": now,
        }
        async with self.db.begin() as conn:
            res = await conn.execute(
                oauth_credentials.update().where(oauth_credentials.c.provider == provider).values(**values)
            )
            if not res.rowcount:
                await conn.execute(
                    oauth_credentials.insert().values(provider=provider, created_at=now, **values)
                )
            await self._event(conn, provider, "registered", actor, replaced=bool(res.rowcount))
        return await self.health(provider)

    async def _row(self, conn: Any, provider: str) -> Any:
        row = (
            await conn.execute(oauth_credentials.select().where(oauth_credentials.c.provider == provider))
        ).first()
        if row is None:
            raise NotFound(
                "oauth_credential", provider, reason_code="oauth_credential_not_found", provider=provider
            )
        return row

    def _view(self, row: Any) -> dict[str, Any]:
        now = self.clock()
        expires_in = None if row.expires_at is None else int((row.expires_at - now).total_seconds())
        if row.failure_count >= self.settings.autopack_oauth_failure_threshold:
            status = "failing"
        elif expires_in is not None and expires_in <= 0:
            status = "expired"
        elif expires_in is not None and expires_in <= self.settings.autopack_oauth_expiry_warning_s:
            status = "expiring"
        elif row.failure_count > 0:
            status = "degraded"
        else:
            status = "healthy"
        access = self._open(row.provider, "access_token", row.access_token_sealed)
        return {
            "provider": row.provider,
            "status": status,
            "expires_at": row.expires_at,
            "expires_in_seconds": expires_in,
            "failure_count": row.failure_count,
            "last_refresh_at": row.last_refresh_at,
            "last_failure_at": row.last_failure_at,
            "last_error": row.last_error,
            "scopes": row.scopes,
            "has_refresh_token": row.refresh_token_sealed is not None,
            "refreshable": row.refresh_token_sealed is not None and bool(row.token_url),
            "access_token_masked": None if access is None else mask(access),
            "updated_at": row.updated_at,
        }

    async def health(self, provider: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return self._view(await self._row(conn, provider))

    async def report(self) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(oauth_credentials.select().order_by(oauth_credentials.c.provider))
            ).all()
        creds = [self._view(r) for r in rows]
        summary = {s: sum(1 for c in creds if c["status"] == s) for s in STATUS_ORDER}
        worst = max((STATUS_ORDER.index(c["status"]) for c in creds), default=0)
        return {
            "status": STATUS_ORDER[worst],
            "generated_at": self.clock(),
            "summary": {"total": len(creds), **summary},
            "credentials": creds,
        }

    async def events(self, provider: str | None, limit: int) -> list[dict[str, Any]]:
        q = sa.select(oauth_events).order_by(oauth_events.c.at.desc(), oauth_events.c.id.desc()).limit(limit)
        if provider is not None:
            q = q.where(oauth_events.c.provider == provider)
        async with self.db.engine.connect() as conn:
            return [
                {k: r._mapping[k] for k in ("id", "provider", "at", "event_type", "actor", "detail")}
                for r in await conn.execute(q)
            ]

    async def queue_refresh(self, provider: str, actor: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._row(conn, provider)
        if row.refresh_token_sealed is None or not row.token_url:
            raise OPS.error("oauth_not_refreshable", provider=provider)
        job = await self.ctx.jobs.submit(FAMILY, REFRESH_KIND, {"provider": provider, "actor": actor})
        async with self.db.begin() as conn:
            await self._event(conn, provider, "refresh_queued", actor, job_id=job.id)
        return {"provider": provider, "status": "queued", "job_id": job.id}

    async def run_refresh(self, job: JobContext) -> dict[str, Any]:
        provider, actor = job.params["provider"], job.params.get("actor", "system")
        async with self.db.engine.connect() as conn:
            row = await self._row(conn, provider)
        try:
            grant = await refresh_grant(
                row.token_url,
                client_id=row.client_id,
                client_secret=self._open(provider, "client_secret", row.client_secret_sealed),
                refresh_token=self._open(provider, "refresh_token", row.refresh_token_sealed) or "",
                now=self.clock(),
            )
        except RefreshError as exc:
            now = self.clock()
            async with self.db.begin() as conn:
                await conn.execute(
                    oauth_credentials.update()
                    .where(oauth_credentials.c.provider == provider)
                    .values(
                        failure_count=oauth_credentials.c.failure_count + 1,
                        last_failure_at=now,
                        last_error=exc.why[:1000],
                        updated_at=now,
                    )
                )
                await self._event(conn, provider, "refresh_failed", actor, job_id=job.job_id, error=exc.why)
            raise OPS.error("oauth_refresh_failed", provider=provider, why=exc.why) from None
        now = self.clock()
        values: dict[str, Any] = {
            "access_token_sealed": self._seal(provider, "access_token", grant.access_token),
            "expires_at": grant.expires_at,
            "failure_count": 0,
            "last_refresh_at": now,
            "last_error": None,
            "updated_at": now,
        }
        if grant.refresh_token is not None:
            values["refresh_token_sealed"] = self._seal(provider, "refresh_token", grant.refresh_token)
        if grant.scopes is not None:
            values["scopes"] = grant.scopes
        async with self.db.begin() as conn:
            await conn.execute(
                oauth_credentials.update().where(oauth_credentials.c.provider == provider).values(**values)
            )
            await self._event(
                conn,
                provider,
                "refresh_succeeded",
                actor,
                job_id=job.job_id,
                expires_at=grant.expires_at.isoformat() if grant.expires_at else None,
                refresh_token_rotated=grant.refresh_token is not None,
            )
        return {"provider": provider, "expires_at": grant.expires_at}

    async def reset(self, provider: str, actor: str) -> dict[str, Any]:
        async with self.db.begin() as conn:
            row = await self._row(conn, provider)
            await conn.execute(
                oauth_credentials.update()
                .where(oauth_credentials.c.provider == provider)
                .values(failure_count=0, last_error=None, updated_at=self.clock())
            )
            await self._event(conn, provider, "reset", actor, previous_failure_count=row.failure_count)
        return await self.health(provider)
