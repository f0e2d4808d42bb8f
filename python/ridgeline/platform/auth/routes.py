"""The auth endpoints, built for any path prefix so one service answers at the root (``/auth/*``,
``/.well-known/jwks.json``) and, later, under autopack's contract paths (``/api/auth/*``).

``auth_route_handlers(settings, prefix, jwks_path, render_error)`` returns a Router of fresh handlers
each call, carrying the policy guard (which runs once per request however many layers attach it).
With a ``render_error`` the Router's exception handler renders in that shape (for a family mounting
them outside its own prefix); without one the app's handler renders them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import Body

from ridgeline.platform.auth.policy import Policy, current_principal, enforce_policy
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.auth.service import AuthService
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.auth.users import User, UserError
from ridgeline.platform.errors import Renderer, RidgelineError, as_ridgeline_error
from ridgeline.platform.openapi import raises


def _d(text: str, **kw: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **kw)


class LoginBody(msgspec.Struct, forbid_unknown_fields=False):
    username: Annotated[str, _d("Username (case-insensitive).", min_length=1, max_length=320)]
    password: Annotated[str, _d("Password.", min_length=1, max_length=1024)]


class RegisterBody(msgspec.Struct):
    username: Annotated[
        str, _d("3-64 letters, digits, _ . @ -; unique ignoring case.", min_length=3, max_length=64)
    ]
    email: Annotated[str, _d("Email address; unique ignoring case.", min_length=3, max_length=320)]
    password: Annotated[
        str, _d("At least RIDGELINE_AUTH_PASSWORD_MIN_LENGTH characters.", min_length=1, max_length=1024)
    ]


class TokenResponse(msgspec.Struct):
    access_token: Annotated[str, _d("JWT access token (EdDSA, typ at+jwt); send as Authorization: Bearer.")]
    token_type: Annotated[str, _d("Always 'bearer'.")]
    expires_in: Annotated[int, _d("Seconds until the token expires.")]


class UserResponse(msgspec.Struct):
    id: Annotated[str, _d("User id (the token's sub).")]
    username: Annotated[str, _d("Username as registered.")]
    email: Annotated[str | None, _d("Email address, if any.")]
    role: Annotated[Role, _d("user, admin or superadmin.")]
    is_superuser: Annotated[bool, _d("Contract 003's flag: true for admin and superadmin.")]
    is_active: Annotated[bool, _d("False when the account is disabled.")]
    created_at: Annotated[datetime, _d("When the account was created (UTC).")]

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            role=user.role,
            is_superuser=user.is_superuser,
            is_active=not user.disabled,
            created_at=user.created_at,
        )


def _auth(request: Request[Any, Any, Any]) -> AuthService:
    return request.app.state["auth"]


def auth_route_handlers(
    settings: AuthSettings,
    prefix: str = "/auth",
    jwks_path: str = "/.well-known/jwks.json",
    render_error: Renderer | None = None,
    *,
    tags: tuple[str, ...] = ("auth",),
    raw: bool = False,
) -> list[Any]:
    """Login, register, me and the JWKS under ``prefix``. Login and register are rate limited per
    client (``RIDGELINE_AUTH_LOGIN_RATE_LIMIT``, ``..._REGISTER_RATE_LIMIT``), counted per prefix."""
    bucket = prefix.strip("/") or "root"
    login_policy = Policy.public().limited(
        f"{bucket}:login", settings.login_rate_limit.limit, settings.login_rate_limit.window_s
    )
    register_policy = Policy.public().limited(
        f"{bucket}:register", settings.register_rate_limit.limit, settings.register_rate_limit.window_s
    )

    @post(
        f"{prefix}/login",
        status_code=200,
        tags=list(tags),
        summary="Exchange a username and password for an access token",
        opt={**login_policy.opt(), **raises(401, 403)},
    )
    async def login(request: Request[Any, Any, Any], data: Annotated[LoginBody, Body()]) -> TokenResponse:
        auth = _auth(request)
        user = await auth.users.authenticate(data.username, data.password)
        if user is None:
            await auth.audit.record(
                "login",
                "denied",
                actor=data.username[:64],
                reason="invalid_credentials",
                method="POST",
                path=request.url.path,
                client=auth.client_of(request),
            )
            raise RidgelineError(
                401,
                "invalid_credentials",
                "Incorrect username or password.",
                headers={"WWW-Authenticate": 'Bearer realm="ridgeline"'},
            )
        if user.disabled:
            await auth.audit.record(
                "login",
                "denied",
                actor=user.username,
                reason="account_disabled",
                method="POST",
                path=request.url.path,
                client=auth.client_of(request),
            )
            raise RidgelineError(403, "account_disabled", "This account is disabled.")
        token, ttl = await auth.issue_token(user)
        return TokenResponse(access_token=token, token_type="bearer", expires_in=ttl)

    @post(
        f"{prefix}/register",
        status_code=201,
        tags=list(tags),
        summary="Create a user account (role user)",
        opt={**register_policy.opt(), **raises(403, 409)},
    )
    async def register(
        request: Request[Any, Any, Any], data: Annotated[RegisterBody, Body()]
    ) -> UserResponse:
        auth = _auth(request)
        if auth.settings.registration != "open":
            await auth.audit.record(
                "user.create",
                "denied",
                actor=data.username,
                reason="registration_closed",
                method="POST",
                path=request.url.path,
                client=auth.client_of(request),
            )
            raise RidgelineError(403, "registration_closed", "Registration is closed; ask an administrator.")
        try:
            user = await auth.create_user(
                data.username, data.password, email=data.email, actor="self-registration"
            )
        except UserError as exc:
            status = 409 if exc.reason.endswith("_taken") else 422
            raise RidgelineError(status, exc.reason, exc.message) from None
        return UserResponse.of(user)

    @get(f"{prefix}/me", tags=list(tags), summary="The signed-in user", opt=Policy.bearer().opt())
    async def me(request: Request[Any, Any, Any]) -> UserResponse:
        principal = current_principal(request)
        assert principal is not None  # the guard admitted a bearer token
        user = await _auth(request).users.get(principal.subject)
        if user is None:
            raise RidgelineError(401, "invalid_token", "Invalid or expired access token.")
        return UserResponse.of(user)

    @get(jwks_path, tags=list(tags), summary="JSON Web Key Set that verifies access tokens")
    async def jwks(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        auth = _auth(request)
        snapshot = await auth.jwt_keys.snapshot()
        # Short cache: a rotation must reach verifiers within the overlap.
        return Response(snapshot.jwks(auth.clock()), headers={"Cache-Control": "public, max-age=300"})

    handlers: list[Any] = [login, register, me, jwks]
    if raw:
        return handlers
    if render_error is None:
        return [Router(path="/", route_handlers=handlers, guards=[enforce_policy])]

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return render_error(request, as_ridgeline_error(exc))

    return [
        Router(
            path="/", route_handlers=handlers, guards=[enforce_policy], exception_handlers={Exception: handle}
        )
    ]
