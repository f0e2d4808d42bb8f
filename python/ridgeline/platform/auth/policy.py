"""Who may call a route, declared on the route and enforced by one guard before the handler.

A route (or a family's router) carries ``opt={"policy": Policy...}``; :func:`enforce_policy`, a
Litestar guard on every router that has a non-public route, reads it (the handler's own value wins over its router's, Litestar's
``opt`` merge) and asks the :class:`~ridgeline.platform.auth.service.AuthService` to decide. A route
without a policy is public. Denials raise :class:`~ridgeline.platform.errors.RidgelineError` (401
with ``WWW-Authenticate``, 403, or 429 with ``Retry-After``), which the app renders in the family's
error shape.

Families declare their default as ``Family.default_policy``; routing, sim and retail use
:func:`public_unless_required` (public unless ``RIDGELINE_AUTH_REQUIRE_FAMILIES`` names them), the
"no auth in local dev, a setting enables it in production" of contract 001.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ridgeline.platform.auth.ratelimit import RateLimit
from ridgeline.platform.auth.roles import Role

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from ridgeline.platform.auth.settings import AuthSettings

Credential = Literal["api_key", "bearer"]
OwnerResolver = Callable[["ASGIConnection[Any, Any, Any, Any]"], Awaitable[str | None]]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling. ``subject`` is the user id (bearer) or API key id; ``owner`` is the user a key
    belongs to (for owner checks)."""

    kind: Literal["user", "api_key"]
    subject: str
    username: str | None = None
    role: Role | None = None
    scopes: tuple[str, ...] = ()
    owner: str | None = None

    @property
    def user_id(self) -> str | None:
        return self.subject if self.kind == "user" else self.owner


@dataclass(frozen=True)
class Policy:
    """``accept`` empty means public. ``environment`` names a contract-003 environment rule (see
    :class:`ContractEnvironment`) that may turn the policy public at request time."""

    accept: frozenset[Credential] = frozenset()
    scope: str | None = None
    min_role: Role | None = None
    owner_of: OwnerResolver | None = None
    rate_limit: RateLimit | None = None
    environment: str | None = None
    environment_read: bool = False

    @property
    def is_public(self) -> bool:
        return not self.accept

    @classmethod
    def public(cls) -> Policy:
        return cls()

    @classmethod
    def api_key(cls, scope: str | None = None) -> Policy:
        """``X-API-Key`` holding ``scope`` (or ``*``)."""
        return cls(accept=frozenset({"api_key"}), scope=scope)

    @classmethod
    def bearer(cls) -> Policy:
        """Any signed-in, enabled user (``Authorization: Bearer <access token>``)."""
        return cls(accept=frozenset({"bearer"}))

    @classmethod
    def authenticated(cls, scope: str | None = None) -> Policy:
        """An API key with ``scope`` or a bearer token."""
        return cls(accept=frozenset({"api_key", "bearer"}), scope=scope)

    @classmethod
    def role(cls, minimum: Role) -> Policy:
        """A bearer token whose user has ``minimum`` or a higher role."""
        return cls(accept=frozenset({"bearer"}), min_role=minimum)

    @classmethod
    def owner_or_role(cls, minimum: Role, owner_of: OwnerResolver) -> Policy:
        """A bearer token whose user owns the resource (``owner_of`` returns its owner's user id, or
        None when it does not exist, leaving the 404 to the handler) or has ``minimum`` or higher."""
        return cls(accept=frozenset({"bearer"}), min_role=minimum, owner_of=owner_of)

    @classmethod
    def operator(cls, environment: str, *, read: bool, scope: str | None = None) -> Policy:
        """Contract 003 section 10: an API key, unless the named environment makes the route public."""
        return cls(accept=frozenset({"api_key"}), scope=scope, environment=environment, environment_read=read)

    def limited(self, bucket: str, limit: int, window_s: int) -> Policy:
        return replace(self, rate_limit=RateLimit(bucket, limit, window_s))

    def opt(self) -> dict[str, Any]:
        """``opt=`` for a Litestar handler or router."""
        return {"policy": self}


class ContractEnvironment(msgspec.Struct, frozen=True):
    """Contract 003 section 10, read from ``<PREFIX>_ENV``, ``<PREFIX>_PUBLIC_READ`` (e.g. AUTOPACK_).

    - production (``<PREFIX>_ENV=production``): the key is required, always;
    - development with ``<PREFIX>_PUBLIC_READ=1``: operator reads are public;
    - development otherwise: public by default, i.e. while no key is configured; once a key is
      configured it is required (the contract's "opt in to require auth by not setting PUBLIC_READ").
    """

    production: bool = False
    public_read: bool = False

    @classmethod
    def from_env(cls, prefix: str, env: Mapping[str, str] | None = None) -> ContractEnvironment:
        env = os.environ if env is None else env
        return cls(
            production=env.get(f"{prefix}_ENV", "development").strip().lower() == "production",
            public_read=env.get(f"{prefix}_PUBLIC_READ", "0").strip() == "1",
        )

    def is_public(self, *, read: bool, key_configured: bool) -> bool:
        if self.production:
            return False
        if read and self.public_read:
            return True
        return not key_configured


# A family's default: a Policy, or a function of the auth settings giving one.
DefaultPolicy = Policy | Callable[["AuthSettings"], Policy]


def public_unless_required(family: str) -> Callable[[AuthSettings], Policy]:
    """Public, unless ``RIDGELINE_AUTH_REQUIRE_FAMILIES`` names the family (or ``all``): then an API key
    with scope ``<family>`` (or ``*``) or a bearer token."""

    def resolve(settings: AuthSettings) -> Policy:
        return (
            Policy.authenticated(scope=family) if settings.family_requires_auth(family) else Policy.public()
        )

    return resolve


def family_default_policy(family: str, declared: DefaultPolicy | None, settings: AuthSettings) -> Policy:
    """The policy of every route of ``family`` that declares none of its own: the family's declared
    default (``Family.default_policy``), or :func:`public_unless_required` when it declares none."""
    if declared is None:
        declared = public_unless_required(family)
    return declared(settings) if callable(declared) else declared


async def enforce_policy(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard: public routes return at once; others go to the auth service, once per request even
    when several layers (a family router and the auth routes' own router) attach this guard."""
    policy = handler.opt.get("policy")
    if policy is None or (policy.is_public and policy.rate_limit is None):
        return
    state = connection.scope.setdefault("state", {})
    if state.get(ENFORCED_KEY):
        return
    state[ENFORCED_KEY] = True
    await connection.app.state["auth"].enforce(connection, policy)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal the guard admitted (None on public routes)."""
    return connection.scope.get("state", {}).get(PRINCIPAL_KEY)


PRINCIPAL_KEY = "ridgeline_principal"
RATE_LIMIT_KEY = "ridgeline_rate_limit"
ENFORCED_KEY = "ridgeline_policy_enforced"


async def add_rate_limit_headers(message: Any, scope: Any) -> None:
    """App-level ``before_send`` hook: the ``RateLimit-*`` headers of an admitted limited request."""
    if message["type"] != "http.response.start":
        return
    decision = scope.get("state", {}).get(RATE_LIMIT_KEY)
    if decision is None:
        return
    extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
    message["headers"] = [*message.get("headers", ()), *extra]
