"""Identity and access settings, read from ``RIDGELINE_AUTH_*`` variables (the msgspec pattern of
:mod:`ridgeline.platform.settings`) and validated at start-up. Every variable is documented in
``docs/security.md``.

Secret values (the bootstrap API key, an inline secrets key) are held in :class:`SecretStr`, whose
``repr`` and ``str`` never show the value, so a settings object can be logged or put in an error.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from ridgeline.platform.settings import FAMILIES, SettingsError

PasswordProfile = Literal["default", "test"]
Environment = Literal["development", "production"]
_PREFIX = "RIDGELINE_AUTH_"
# Variables named by a contract rather than ours; read through this object so nothing else reads them.
_CONTRACT_ALIASES = {"bootstrap_api_key": "AUTOPACK_API_KEY"}


class SecretStr:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretStr", self._value))


class RateLimitSpec(msgspec.Struct, frozen=True):
    """``limit`` requests per ``window_s`` seconds; written ``10/60`` in a variable."""

    limit: int
    window_s: int

    @classmethod
    def parse(cls, text: str, variable: str) -> RateLimitSpec:
        try:
            limit, window = (int(part) for part in text.split("/", 1))
        except ValueError:
            raise SettingsError(
                f"{variable} must be LIMIT/WINDOW_SECONDS, e.g. 10/60; got {text!r}"
            ) from None
        if limit < 1 or window < 1:
            raise SettingsError(f"{variable} needs a positive limit and window; got {text!r}")
        return cls(limit, window)


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    # Token issuance (RFC 9068 access tokens).
    issuer: str = "ridgeline"
    audience: str = "ridgeline"
    token_ttl_s: int = 900
    leeway_s: int = 30
    jwt_rotation_overlap_s: int = 3600
    # API keys.
    bootstrap_api_key: SecretStr | None = None
    api_key_rotation_overlap_s: int = 86400
    pepper_file: Path | None = None
    # Secrets at rest.
    secrets_key_file: Path | None = None
    secrets_key: SecretStr | None = None
    # Passwords.
    password_profile: PasswordProfile = "default"
    password_min_length: int = 8
    registration: Literal["open", "closed"] = "open"
    # Which families require a credential (routing, sim, retail are public unless named here).
    require_families: tuple[str, ...] = ()
    # Client address and rate limits.
    trusted_proxies: tuple[str, ...] = ()
    login_rate_limit: RateLimitSpec = RateLimitSpec(10, 60)
    register_rate_limit: RateLimitSpec = RateLimitSpec(5, 60)
    # auto: Redis when RIDGELINE_REDIS_URL is set, else the database.
    rate_limit_store: Literal["auto", "database", "redis"] = "auto"
    # Seconds a worker keeps its view of users (disabled flag, role) and of the JWT key set.
    cache_s: float = 5.0
    # Seconds between a worker's re-reads of the token revocation version counter (0 = every request).
    revocation_recheck_s: float = 1.0
    # Words a password may not contain, besides the service name and the user's own names.
    password_context_words: tuple[str, ...] = ()
    # Outbound mail for password reset (stdlib smtplib). No host: self-service reset is off (503).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0
    # The link mailed for a reset; ``{token}`` is replaced by the token. Without it the bare token is sent.
    password_reset_url: str | None = None
    password_reset_ttl_s: int = 1800
    password_reset_rate_limit: RateLimitSpec = RateLimitSpec(5, 3600)

    @property
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)

    def pepper_path(self, data_dir: Path) -> Path:
        return self.pepper_file or data_dir / "keys" / "auth_pepper.key"

    def secrets_key_path(self, data_dir: Path) -> Path:
        return self.secrets_key_file or data_dir / "keys" / "secrets_keyring.json"

    def family_requires_auth(self, family: str) -> bool:
        return "all" in self.require_families or family in self.require_families

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> AuthSettings:
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        for field in msgspec.structs.fields(cls):
            variable = _PREFIX + field.name.upper()
            value = env.get(variable)
            if (value is None or value == "") and field.name in _CONTRACT_ALIASES:
                variable = _CONTRACT_ALIASES[field.name]
                value = env.get(variable)
            if value is None or value == "":
                continue
            if field.name in ("bootstrap_api_key", "secrets_key", "smtp_password"):
                raw[field.name] = SecretStr(value)
            elif field.name in ("require_families", "trusted_proxies", "password_context_words"):
                raw[field.name] = tuple(p.strip() for p in value.split(",") if p.strip())
            elif field.name.endswith("_rate_limit"):
                raw[field.name] = RateLimitSpec.parse(value, variable)
            else:
                raw[field.name] = value
        raw.update(overrides)
        try:
            settings = msgspec.convert(raw, cls, strict=False, dec_hook=_decode, builtin_types=(SecretStr,))
        except msgspec.ValidationError as exc:
            raise SettingsError(_explain(str(exc))) from None
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 60 <= self.token_ttl_s <= 86400:
            raise SettingsError(f"RIDGELINE_AUTH_TOKEN_TTL_S must be 60..86400, got {self.token_ttl_s}")
        if not 0 <= self.leeway_s <= 120:
            raise SettingsError(f"RIDGELINE_AUTH_LEEWAY_S must be 0..120, got {self.leeway_s}")
        if self.jwt_rotation_overlap_s < self.token_ttl_s:
            # A token signed just before a rotation must stay verifiable until it expires.
            raise SettingsError(
                "RIDGELINE_AUTH_JWT_ROTATION_OVERLAP_S must be at least RIDGELINE_AUTH_TOKEN_TTL_S"
            )
        if self.api_key_rotation_overlap_s < 0:
            raise SettingsError("RIDGELINE_AUTH_API_KEY_ROTATION_OVERLAP_S must be >= 0")
        if self.password_min_length < 8:
            raise SettingsError("RIDGELINE_AUTH_PASSWORD_MIN_LENGTH must be at least 8")
        if self.bootstrap_api_key is not None and len(self.bootstrap_api_key.get()) < 16:
            raise SettingsError("the bootstrap API key (AUTOPACK_API_KEY) must be at least 16 characters")
        unknown = [f for f in self.require_families if f not in (*FAMILIES, "all")]
        if unknown:
            raise SettingsError(
                f"RIDGELINE_AUTH_REQUIRE_FAMILIES names unknown families {unknown}; use {', '.join(FAMILIES)} or all"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"RIDGELINE_AUTH_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR"
                ) from None
        if self.cache_s < 0 or self.cache_s > 300:
            raise SettingsError("RIDGELINE_AUTH_CACHE_S must be 0..300")
        if not 0 <= self.revocation_recheck_s <= 60:
            raise SettingsError("RIDGELINE_AUTH_REVOCATION_RECHECK_S must be 0..60")
        if self.smtp_host is not None and not self.smtp_from:
            raise SettingsError(
                "RIDGELINE_AUTH_SMTP_HOST needs RIDGELINE_AUTH_SMTP_FROM (the sender address)"
            )
        if not 1 <= self.smtp_port <= 65535:
            raise SettingsError("RIDGELINE_AUTH_SMTP_PORT must be 1..65535")
        if not 60 <= self.password_reset_ttl_s <= 86400:
            raise SettingsError("RIDGELINE_AUTH_PASSWORD_RESET_TTL_S must be 60..86400")
        if self.password_reset_url is not None and "{token}" not in self.password_reset_url:
            raise SettingsError("RIDGELINE_AUTH_PASSWORD_RESET_URL must contain {token}")


def _decode(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str):
        return Path(obj)
    if type_ is SecretStr and isinstance(obj, SecretStr):
        return obj
    if type_ is RateLimitSpec and isinstance(obj, RateLimitSpec):
        return obj
    raise NotImplementedError(f"cannot convert {type(obj).__name__} to {type_}")


def _explain(msgspec_message: str) -> str:
    if "$." in msgspec_message:
        field = msgspec_message.rsplit("$.", 1)[1].strip("`").split("[", 1)[0].split(".", 1)[0]
        return f"{_PREFIX}{field.upper()}: {msgspec_message.split(' - at ')[0]}"
    return msgspec_message
