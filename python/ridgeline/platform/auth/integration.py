"""What the app composer needs from auth, in one place, so the hooks in ``app.py`` stay a few lines:

- :func:`install` builds the service onto the context (``ctx.auth``);
- :func:`root_handlers`: ``/auth/login``, ``/auth/register``, ``/auth/me``, ``/.well-known/jwks.json``;
- :func:`family_opt`: the ``opt`` of a family's router, carrying its default policy;
- :data:`GUARDS` and :data:`BEFORE_SEND` for the Litestar app.
"""

from __future__ import annotations

from typing import Any

from ridgeline.platform.auth.policy import add_rate_limit_headers, enforce_policy, family_default_policy
from ridgeline.platform.auth.routes import auth_route_handlers
from ridgeline.platform.auth.service import AuthService
from ridgeline.platform.auth.settings import AuthSettings

GUARDS = [enforce_policy]
BEFORE_SEND = [add_rate_limit_headers]


def install(ctx: Any, auth_settings: AuthSettings | None = None) -> AuthService:
    service = AuthService(ctx.db, auth_settings or AuthSettings.from_env(), ctx.settings.data_dir)
    ctx.auth = service
    return service


def root_handlers(service: AuthService) -> list[Any]:
    return auth_route_handlers(service.settings)


def family_opt(family: str, service: AuthService) -> dict[str, Any]:
    return family_default_policy(family, service.settings).opt()
