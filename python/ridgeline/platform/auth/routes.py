"""The auth endpoints (docs/security.md "Endpoints"), built for any path prefix so one service
answers at the root (``/auth/*``, ``/.well-known/jwks.json``) and under autopack's contract paths
(``/api/auth/*``).

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
from litestar.background_tasks import BackgroundTask
from litestar.params import Body

from ridgeline.platform.auth.policy import Policy, current_principal, enforce_policy
from ridgeline.platform.auth.ratelimit import RateLimit
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.auth.service import CLAIMS_KEY, AuthService
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.auth.users import User, UserError
from ridgeline.platform.errors import Renderer, RidgelineError, as_ridgeline_error
from ridgeline.platform.openapi import raises


def _d(text: str, **kw: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **kw)


class LoginBody(msgspec.Struct, forbid_unknown_fields=False):
    username: Annotated[str, _d("Username (case-insensitive).", min_length=1, max_length=320)]
    password: Annotated[str, _d("Password.", min_length=1, max_length=1024)]
    otp: (
        Annotated[
            str, _d("The 6-digit TOTP code or a recovery code, when the account has MFA on.", max_length=64)
        ]
        | None
    ) = None


class PasswordChangeBody(msgspec.Struct):
    current_password: Annotated[str, _d("The current password.", min_length=1, max_length=1024)]
    new_password: Annotated[
        str,
        _d("The new password (length, common-password and context checks).", min_length=1, max_length=1024),
    ]


class ForgotBody(msgspec.Struct):
    login: Annotated[str, _d("The account's email address or username.", min_length=1, max_length=320)]


class ResetBody(msgspec.Struct):
    token: Annotated[str, _d("The token from the reset mail.", min_length=1, max_length=256)]
    new_password: Annotated[str, _d("The new password.", min_length=1, max_length=1024)]
    otp: (
        Annotated[str, _d("The TOTP or a recovery code, when the account has MFA on.", max_length=64)] | None
    ) = None


class OtpBody(msgspec.Struct):
    otp: Annotated[str, _d("A current 6-digit TOTP code.", min_length=1, max_length=64)]


class MfaDisableBody(msgspec.Struct):
    password: Annotated[str, _d("The account's password.", min_length=1, max_length=1024)]
    otp: Annotated[str, _d("A current TOTP code or a recovery code.", min_length=1, max_length=64)]


class TotpEnrolment(msgspec.Struct):
    secret: Annotated[str, _d("The base32 TOTP secret (shown once; also inside the URI).")]
    provisioning_uri: Annotated[str, _d("otpauth:// URI for an authenticator app (QR code).")]


class RecoveryCodes(msgspec.Struct):
    recovery_codes: Annotated[list[str], _d("Ten single-use recovery codes, shown once.")]


class Accepted(msgspec.Struct):
    detail: Annotated[str, _d("What happens next.")]


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


def _claims(request: Request[Any, Any, Any]) -> dict[str, Any]:
    claims = request.scope.get("state", {}).get(CLAIMS_KEY)
    assert claims is not None  # the guard admitted a bearer token
    return claims


async def _signed_in_user(request: Request[Any, Any, Any]) -> User:
    principal = current_principal(request)
    assert principal is not None  # the guard admitted a bearer token
    user = await _auth(request).users.get(principal.subject)
    if user is None:
        raise RidgelineError(401, "invalid_token", "Invalid or expired access token.")
    return user


async def _second_factor(
    request: Request[Any, Any, Any], auth: AuthService, user: User, otp: str | None
) -> None:
    """Login's second step: 401 ``mfa_required`` without a code, ``mfa_invalid`` with a wrong one.
    Codes are also counted per account, so guesses spread over many addresses stay limited."""
    client = auth.client_of(request)
    if not otp:
        await auth.audit.record(
            "login",
            "denied",
            actor=user.username,
            reason="mfa_required",
            method="POST",
            path=request.url.path,
            client=client,
        )
        raise RidgelineError(
            401,
            "mfa_required",
            "This account needs its one-time code: send it as otp.",
            headers={"WWW-Authenticate": 'Bearer realm="ridgeline"'},
        )
    limit = auth.settings.login_rate_limit
    decision = await auth.limiter.check(RateLimit("mfa:user", limit.limit, limit.window_s), user.id)
    if not decision.allowed or not await auth.mfa.verify(user.id, otp):
        await auth.audit.record(
            "login",
            "denied",
            actor=user.username,
            reason="mfa_invalid" if decision.allowed else "mfa_rate_limited",
            method="POST",
            path=request.url.path,
            client=client,
        )
        if not decision.allowed:
            raise RidgelineError(
                429, "rate_limited", "Too many one-time codes; retry later.", headers=decision.headers()
            )
        raise RidgelineError(
            401,
            "mfa_invalid",
            "The one-time code is not valid.",
            headers={"WWW-Authenticate": 'Bearer realm="ridgeline"'},
        )


def auth_route_handlers(
    settings: AuthSettings,
    prefix: str = "/auth",
    jwks_path: str = "/.well-known/jwks.json",
    render_error: Renderer | None = None,
    *,
    tags: tuple[str, ...] = ("auth",),
    raw: bool = False,
) -> list[Any]:
    """Login, register, me, logout, password change and reset, TOTP enrolment and the JWKS under
    ``prefix``. Login and register are rate limited per client (``RIDGELINE_AUTH_LOGIN_RATE_LIMIT``,
    ``..._REGISTER_RATE_LIMIT``), the password and MFA routes like login, the reset request by
    ``..._PASSWORD_RESET_RATE_LIMIT``; all counted per prefix."""
    bucket = prefix.strip("/") or "root"
    login_policy = Policy.public().limited(
        f"{bucket}:login", settings.login_rate_limit.limit, settings.login_rate_limit.window_s
    )
    register_policy = Policy.public().limited(
        f"{bucket}:register", settings.register_rate_limit.limit, settings.register_rate_limit.window_s
    )
    login_limit = settings.login_rate_limit
    reset_limit = settings.password_reset_rate_limit
    # Second-factor and password endpoints are limited like login (V6.3.1).
    password_policy = Policy.bearer().limited(f"{bucket}:password", login_limit.limit, login_limit.window_s)
    mfa_policy = Policy.bearer().limited(f"{bucket}:mfa", login_limit.limit, login_limit.window_s)
    forgot_policy = Policy.public().limited(f"{bucket}:forgot", reset_limit.limit, reset_limit.window_s)
    reset_policy = Policy.public().limited(f"{bucket}:reset", login_limit.limit, login_limit.window_s)

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
        if await auth.mfa.enabled(user.id):
            await _second_factor(request, auth, user, data.otp)
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

    @post(
        f"{prefix}/logout",
        status_code=204,
        tags=list(tags),
        summary="Revoke the access token of this request",
        opt={**Policy.bearer().opt(), **raises(503)},
    )
    async def logout(request: Request[Any, Any, Any]) -> None:
        await _auth(request).logout(_claims(request))

    @post(
        f"{prefix}/password",
        status_code=200,
        tags=list(tags),
        summary="Change the password (the current one is required); ends every other session",
        opt={**password_policy.opt(), **raises(403, 503)},
    )
    async def change_password(
        request: Request[Any, Any, Any], data: Annotated[PasswordChangeBody, Body()]
    ) -> TokenResponse:
        auth = _auth(request)
        user = await _signed_in_user(request)
        await auth.change_password(user, data.current_password, data.new_password)
        # Every token of the user, this one included, has just ended: the caller gets a fresh one.
        token, ttl = await auth.issue_token(user)
        return TokenResponse(access_token=token, token_type="bearer", expires_in=ttl)

    @post(
        f"{prefix}/password/forgot",
        status_code=202,
        tags=list(tags),
        summary="Mail a single-use password reset token (the answer is the same for every address)",
        opt={**forgot_policy.opt(), **raises(503)},
    )
    async def forgot_password(
        request: Request[Any, Any, Any], data: Annotated[ForgotBody, Body()]
    ) -> Response[Accepted]:
        auth = _auth(request)
        if not auth.mailer.configured:
            raise RidgelineError(
                503, "password_reset_unavailable", "Self-service password reset is not configured here."
            )
        return Response(
            Accepted(detail="If an account matches, a reset link has been mailed to it."),
            status_code=202,
            background=BackgroundTask(auth.send_reset, data.login),
        )

    @post(
        f"{prefix}/password/reset",
        status_code=200,
        tags=list(tags),
        summary="Set a new password with a reset token; ends every session of the account",
        opt={**reset_policy.opt(), **raises(400, 401, 503)},
    )
    async def reset_password(request: Request[Any, Any, Any], data: Annotated[ResetBody, Body()]) -> Accepted:
        await _auth(request).reset_password(data.token, data.new_password, data.otp)
        return Accepted(detail="The password was changed; sign in with it.")

    @post(
        f"{prefix}/mfa/totp",
        status_code=201,
        tags=list(tags),
        summary="Start TOTP enrolment: a new secret and its provisioning URI (confirm with a code)",
        opt={**mfa_policy.opt(), **raises(409, 503)},
    )
    async def mfa_enrol(request: Request[Any, Any, Any]) -> TotpEnrolment:
        auth = _auth(request)
        user = await _signed_in_user(request)
        if await auth.mfa.enabled(user.id):
            raise RidgelineError(409, "mfa_already_enabled", "TOTP is already on; disable it first.")
        secret, uri = await auth.mfa.begin(user.id, user.email or user.username)
        await auth.audit.record("mfa.enrol", "ok", actor=user.username, target=user.id)
        return TotpEnrolment(secret=secret, provisioning_uri=uri)

    @post(
        f"{prefix}/mfa/totp/confirm",
        status_code=200,
        tags=list(tags),
        summary="Confirm TOTP enrolment with a current code; returns the recovery codes once",
        opt={**mfa_policy.opt(), **raises(403, 409, 503)},
    )
    async def mfa_confirm(request: Request[Any, Any, Any], data: Annotated[OtpBody, Body()]) -> RecoveryCodes:
        auth = _auth(request)
        user = await _signed_in_user(request)
        if await auth.mfa.enabled(user.id):
            raise RidgelineError(409, "mfa_already_enabled", "TOTP is already on; disable it first.")
        codes = await auth.mfa.confirm(user.id, data.otp)
        if codes is None:
            await auth.audit.record(
                "mfa.confirm", "denied", actor=user.username, target=user.id, reason="mfa_invalid"
            )
            raise RidgelineError(
                403, "mfa_invalid", "The one-time code is not valid (or no enrolment is pending)."
            )
        await auth.audit.record("mfa.confirm", "ok", actor=user.username, target=user.id)
        return RecoveryCodes(recovery_codes=codes)

    @post(
        f"{prefix}/mfa/totp/disable",
        status_code=204,
        tags=list(tags),
        summary="Turn TOTP off (needs the password and a current code or a recovery code)",
        opt={**mfa_policy.opt(), **raises(403, 409, 503)},
    )
    async def mfa_disable(request: Request[Any, Any, Any], data: Annotated[MfaDisableBody, Body()]) -> None:
        auth = _auth(request)
        user = await _signed_in_user(request)
        if not await auth.mfa.enabled(user.id):
            raise RidgelineError(409, "mfa_not_enabled", "TOTP is not on for this account.")
        await auth.require_password(user, data.password, "mfa.disable")
        if not await auth.mfa.verify(user.id, data.otp):
            await auth.audit.record(
                "mfa.disable", "denied", actor=user.username, target=user.id, reason="mfa_invalid"
            )
            raise RidgelineError(403, "mfa_invalid", "The one-time code is not valid.")
        await auth.mfa.disable(user.id)
        await auth.audit.record("mfa.disable", "ok", actor=user.username, target=user.id)

    @get(jwks_path, tags=list(tags), summary="JSON Web Key Set that verifies access tokens")
    async def jwks(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        auth = _auth(request)
        snapshot = await auth.jwt_keys.snapshot()
        # Short cache: a rotation must reach verifiers within the overlap.
        return Response(snapshot.jwks(auth.clock()), headers={"Cache-Control": "public, max-age=300"})

    handlers: list[Any] = [
        login,
        register,
        me,
        logout,
        change_password,
        forgot_password,
        reset_password,
        mfa_enrol,
        mfa_confirm,
        mfa_disable,
        jwks,
    ]
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
