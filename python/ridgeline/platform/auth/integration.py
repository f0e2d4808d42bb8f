"""What the app composer needs from auth, in one place, so the hooks in ``app.py`` stay a few lines:

- :func:`install` builds the service onto the context (``ctx.auth``);
- :func:`root_handlers`: ``/auth/login``, ``/auth/register``, ``/auth/me``, ``/.well-known/jwks.json``;
- :func:`family_router_kwargs`: ``opt`` (the family's default policy) and ``guards`` for a family's
  router. The guard is attached only where some route is not public: Litestar copies the handler
  for every guard call (about 10-20 µs here), so public families pay nothing;
- :data:`BEFORE_SEND` for the Litestar app (``RateLimit-*`` headers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Router
from litestar.handlers.base import BaseRouteHandler

from ridgeline.platform.auth.policy import (
    DefaultPolicy,
    add_rate_limit_headers,
    enforce_policy,
    family_default_policy,
)
from ridgeline.platform.auth.routes import auth_route_handlers
from ridgeline.platform.auth.service import AuthService
from ridgeline.platform.auth.settings import AuthSettings

GUARDS = [enforce_policy]
BEFORE_SEND = [add_rate_limit_headers]


def _guarded(policy: Any) -> bool:
    return policy is not None and (not policy.is_public or policy.rate_limit is not None)


def declares_policy(obj: Any) -> bool:
    """Whether any route under ``obj`` (handler, Router, or anything else: assumed yes) has a
    non-public policy of its own."""
    if isinstance(obj, BaseRouteHandler):
        return _guarded(obj.opt.get("policy"))
    if isinstance(obj, Router):
        if _guarded(obj.opt.get("policy")):
            return True
        return any(declares_policy(h) for route in obj.routes for h in route.route_handlers)
    return True  # a Controller or something we cannot inspect: guard it


def install(ctx: Any, auth_settings: AuthSettings | None = None) -> AuthService:
    service = AuthService(
        ctx.db,
        auth_settings or AuthSettings.from_env(),
        ctx.settings.data_dir,
        redis_url=ctx.settings.redis_url,
    )
    ctx.auth = service
    return service


def root_handlers(service: AuthService, taken: set[str] | None = None) -> list[Any]:
    """The root auth routes, minus any path in ``taken`` (an ``--only`` family's own)."""
    router = auth_route_handlers(service.settings)[0]
    keep = [
        h for route in router.routes for h in route.route_handlers if not (set(h.paths) & (taken or set()))
    ]
    return [Router(path="/", route_handlers=keep, guards=GUARDS)] if keep else []


def family_router_kwargs(
    family: str, declared: DefaultPolicy | None, handlers: Sequence[Any], service: AuthService
) -> dict[str, Any]:
    policy = family_default_policy(family, declared, service.settings)
    needs = _guarded(policy) or any(declares_policy(h) for h in handlers)
    return {"opt": policy.opt(), "guards": GUARDS if needs else []}
