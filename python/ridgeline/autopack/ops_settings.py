"""Settings of autopack's operations modules (approvals, Telegram, storage, uploads, OAuth), read
under the contract's own variable names (no ``RIDGELINE_`` prefix) through a msgspec Struct.

| variable | meaning | default |
|---|---|---|
| AUTO_APPROVE_BUILD113 | auto-approve risky decisions the rules allow (contract kill switch; ``false`` = human in the loop) | true |
| APPROVAL_TIMEOUT_MINUTES | how long a pending approval waits for a human, 1..10080 | 15 |
| APPROVAL_DEFAULT_ON_TIMEOUT | what a pending approval resolves to at its deadline: ``reject`` or ``approve`` | reject |
| TELEGRAM_BOT_TOKEN | Bot API token; with TELEGRAM_CHAT_ID, pending approvals are sent to Telegram | unset |
| TELEGRAM_CHAT_ID | chat that receives approval requests (and the only one whose buttons count) | unset |
| TELEGRAM_API_BASE | Bot API base URL | https://api.telegram.org |
| TELEGRAM_WEBHOOK_SECRET | the ``secret_token`` given to setWebhook; ``/telegram/webhook`` refuses calls without it | unset (webhook refused) |
| AUTOPACK_STORAGE_ROOTS | comma list of directories storage scans may read | empty |
| AUTOPACK_STEAM_ROOT | Steam installation (holds ``steamapps/libraryfolders.vdf``) | unset |
| AUTOPACK_UPLOAD_DIR | where uploads are stored | ``<data dir>/autopack/uploads`` |
| AUTOPACK_UPLOAD_MAX_BYTES | largest upload accepted (413 beyond) | 26214400 (25 MiB) |
| AUTOPACK_UPLOAD_ALLOWED_TYPES | comma list of media types accepted (checked from the content) | png, jpeg, gif, webp, pdf, zip, gzip, text/plain |
| AUTOPACK_OAUTH_EXPIRY_WARNING_S | a credential expiring within this many seconds is ``expiring`` | 86400 |
| AUTOPACK_OAUTH_FAILURE_THRESHOLD | consecutive refresh failures after which a credential is ``failing`` | 3 |
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from ridgeline.platform.settings import SettingsError, load_env_struct

DEFAULT_UPLOAD_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "text/plain",
)


class OpsSettings(msgspec.Struct, frozen=True, kw_only=True):
    auto_approve_build113: bool = True
    approval_timeout_minutes: Annotated[int, msgspec.Meta(ge=1, le=10080)] = 15
    approval_default_on_timeout: Literal["reject", "approve"] = "reject"
    telegram_bot_token: str | None = None
    telegram_chat_id: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    autopack_storage_roots: list[Path] = []
    autopack_steam_root: Path | None = None
    autopack_upload_dir: Path | None = None
    autopack_upload_max_bytes: Annotated[int, msgspec.Meta(ge=1, le=2**40)] = 25 * 1024 * 1024
    autopack_upload_allowed_types: tuple[str, ...] = DEFAULT_UPLOAD_TYPES
    autopack_oauth_expiry_warning_s: Annotated[int, msgspec.Meta(ge=0)] = 86400
    autopack_oauth_failure_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_chat_id)

    def validate(self) -> None:
        if not self.telegram_api_base.startswith(("http://", "https://")):
            raise SettingsError("TELEGRAM_API_BASE must be an http(s) URL")
        if self.telegram_webhook_secret is not None and not (1 <= len(self.telegram_webhook_secret) <= 256):
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be 1..256 characters (Telegram's limit)")

    def __repr__(self) -> str:  # never print the bot token or webhook secret
        return "OpsSettings(...)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> OpsSettings:
        return load_env_struct(cls, "", env, **overrides)
