"""The operations half of autopack (approvals, Telegram, governance, OAuth credential health,
storage, uploads, research): one :class:`OpsService` per process, handed to handlers as
``ops: Service[OpsService]``, and :func:`extend` which adds it, its job kinds and its routes to the
family declaration (the one block ``declaration.py`` carries for these modules)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from ridgeline.autopack.approvals import ApprovalService
from ridgeline.autopack.governance import GovernanceService
from ridgeline.autopack.oauth_health import REFRESH_KIND, OAuthHealthService
from ridgeline.autopack.ops_settings import OpsSettings
from ridgeline.autopack.research import ResearchService
from ridgeline.autopack.storage import SCAN_KIND, StorageService
from ridgeline.autopack.telegram_client import TelegramClient
from ridgeline.autopack.uploads import UploadService
from ridgeline.platform.context import AppContext, Family, Provider
from ridgeline.platform.jobs import JobContext, with_options


def actor_of(connection: Any) -> str:
    """Who made the call, for audit rows: ``api_key:<prefix>``, ``user:<name>`` or ``anonymous``."""
    from ridgeline.platform.auth import current_principal

    p = current_principal(connection)
    return "anonymous" if p is None else f"{p.kind}:{p.username or p.subject}"


def _now() -> datetime:
    return datetime.now(UTC)


class OpsService:
    def __init__(self, ctx: AppContext, settings: OpsSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.db = ctx.db
        telegram = (
            TelegramClient(
                settings.telegram_api_base, settings.telegram_bot_token or "", settings.telegram_chat_id or ""
            )
            if settings.telegram_enabled
            else None
        )
        self.approvals = ApprovalService(ctx.db, settings, telegram, self.now)
        self.governance = GovernanceService(ctx.db, self.now)
        self.storage = StorageService(ctx, settings, self.now)
        upload_dir = settings.autopack_upload_dir or ctx.settings.data_dir / "autopack" / "uploads"
        self.uploads = UploadService(ctx.db, upload_dir, settings, self.now, scanner=ctx.scanner)
        self.oauth = OAuthHealthService(ctx, settings, self.now)
        self.research = ResearchService(ctx.db, self.now)
        self.clock = _now  # tests replace this to move time forward

    def now(self) -> datetime:
        return self.clock()


async def start_ops(ctx: AppContext, _family_settings: Any) -> OpsService:
    svc = OpsService(ctx, OpsSettings.from_env())
    await svc.approvals.expire_due()  # deadlines that passed while the service was down
    await svc.storage.fail_orphaned_scans()  # scans whose job a previous process left unfinished
    return svc


def routes() -> list[Any]:
    from ridgeline.autopack.api import approval, files, governance, oauth, research, storage, telegram

    return [
        *approval.ROUTES,
        *telegram.ROUTES,
        *governance.ROUTES,
        *storage.ROUTES,
        *files.ROUTES,
        *oauth.ROUTES,
        *research.ROUTES,
    ]


async def _storage_scan_job(job: JobContext) -> Any:
    return await job.app.service(OpsService).storage.run_scan_job(job)


async def _oauth_refresh_job(job: JobContext) -> Any:
    return await job.app.service(OpsService).oauth.run_refresh(job)


JOB_KINDS: dict[str, Any] = {
    # not idempotent: start-up fails the scans a dead process left (fail_orphaned_scans); a walk of a big tree
    SCAN_KIND: with_options(_storage_scan_job, timeout_s=3600),
    # not idempotent: a refresh token may rotate, so spending it twice can revoke the grant; one HTTP exchange
    REFRESH_KIND: with_options(_oauth_refresh_job, timeout_s=300),
}


@dataclasses.dataclass(frozen=True)
class _WithOpsSettings(Family):
    """The family, whose settings check also reads :class:`OpsSettings`: a bad ops variable stops
    ``ridgeline serve`` with exit status 2 (and ``create_app`` with SettingsError) like any family
    setting, instead of failing the family's start-up. The integrator may fold OpsSettings into the
    family's own settings Struct instead."""

    def load_settings(self, env: Mapping[str, str] | None = None) -> msgspec.Struct | None:
        OpsSettings.from_env(env)
        return super().load_settings(env)


def extend(family: Family) -> Family:
    """The family with the ops service, job kinds, routes and doc page added."""
    fields = {f.name: getattr(family, f.name) for f in dataclasses.fields(family)}
    fields.update(
        route_handlers=[*family.route_handlers, *routes()],
        services=(*family.services, Provider(OpsService, start_ops, name="ops")),
        job_kinds={**family.job_kinds, **JOB_KINDS},
        doc_pages=(*family.doc_pages, "docs/autopack-ops.md"),
    )
    return _WithOpsSettings(**fields)
