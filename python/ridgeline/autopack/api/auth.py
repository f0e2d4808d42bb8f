"""Contract 003 section 8: ``/api/auth/register``, ``login``, ``me`` and
``/api/auth/.well-known/jwks.json``: the platform's own handlers on the platform's auth service,
mounted at the contract's paths (one user base, one key set with the root ``/auth/*``)."""

from __future__ import annotations

from typing import Any

from ridgeline.platform.auth.routes import auth_route_handlers
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.settings import SettingsError


def _settings() -> AuthSettings:
    # Only the login/register rate limits are read here; a bad variable is reported by the composer,
    # which reads the same settings again before anything starts.
    try:
        return AuthSettings.from_env()
    except SettingsError:
        return AuthSettings()


ROUTES: list[Any] = auth_route_handlers(
    _settings(), "/api/auth", "/api/auth/.well-known/jwks.json", tags=("autopack auth",)
)
