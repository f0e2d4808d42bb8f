"""The identity and access service, built once per process and held on the app context
(``ctx.auth``, and ``app.state["auth"]`` for the guard)."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ridgeline.platform.auth import keyfiles
from ridgeline.platform.auth.apikeys import KEY_PATTERN, ApiKeyInfo, ApiKeys, NewApiKey
from ridgeline.platform.auth.audit import AuditLog
from ridgeline.platform.auth.mfa import Mfa
from ridgeline.platform.auth.password_policy import PasswordPolicy
from ridgeline.platform.auth.passwords import Passwords
from ridgeline.platform.auth.policy import (
    PRINCIPAL_KEY,
    RATE_LIMIT_KEY,
    ContractEnvironment,
    Policy,
    Principal,
)
from ridgeline.platform.auth.ratelimit import (
    DatabaseRateLimitStore,
    RateLimit,
    RateLimiter,
    RateLimitStore,
    RedisRateLimitStore,
    client_address,
)
from ridgeline.platform.auth.reset import Mailer, PasswordResets
from ridgeline.platform.auth.revocation import (
    DatabaseRevocationStore,
    RedisRevocationStore,
    RevocationList,
    RevocationStore,
)
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.auth.secrets import SecretBox
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.auth.tokens import JwtKeyStore, TokenError, TokenIssuer, TokenVerifier
from ridgeline.platform.auth.users import User, UserError, Users
from ridgeline.platform.db import Database
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.settings import SettingsError

REALM = 'realm="ridgeline"'
CLAIMS_KEY = "ridgeline_token_claims"


def load_pepper(settings: AuthSettings, data_dir: Path) -> bytes:
    raw = keyfiles.load_or_create(settings.pepper_path(data_dir), lambda: base64.b64encode(os.urandom(32)))
    return base64.b64decode(raw.strip())


def load_secret_box(settings: AuthSettings, data_dir: Path) -> SecretBox:
    if settings.secrets_key is not None:
        return SecretBox.from_key(settings.secrets_key.get())
    return SecretBox.from_file(settings.secrets_key_path(data_dir))


def prepare_key_files(data_dir: Path, settings: AuthSettings | None = None) -> None:
    """Create the pepper and secrets key ring before workers start (they would agree anyway)."""
    settings = settings or AuthSettings.from_env()
    load_pepper(settings, data_dir)
    load_secret_box(settings, data_dir)


class AuthService:
    def __init__(
        self,
        db: Database,
        settings: AuthSettings,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        redis_url: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.secrets = load_secret_box(settings, data_dir)
        self.passwords = Passwords(settings.password_profile)
        self.password_policy = PasswordPolicy(
            settings.password_min_length, (*settings.password_context_words, settings.issuer)
        )
        self.users = Users(db, self.passwords, settings.password_min_length, clock, self.password_policy)
        pepper = load_pepper(settings, data_dir)
        self.api_keys = ApiKeys(db, pepper, clock)
        self.mfa = Mfa(db, self.secrets, pepper, settings.issuer, clock)
        self.mailer = Mailer(settings)
        self.resets = PasswordResets(db, settings.password_reset_ttl_s, clock)
        if settings.bootstrap_api_key is not None:
            self.api_keys.add_bootstrap("setting", settings.bootstrap_api_key.get())
        self.jwt_keys = JwtKeyStore(db, self.secrets, settings.cache_s, clock)
        self.issuer = TokenIssuer(
            self.jwt_keys, settings.issuer, settings.audience, settings.token_ttl_s, clock
        )
        self.verifier = TokenVerifier(settings.issuer, settings.audience, settings.leeway_s, clock)
        self.audit = AuditLog(db, clock)
        self.rate_store: RateLimitStore = self._rate_store(db, settings, redis_url, clock)
        self.limiter = RateLimiter(self.rate_store, clock)
        revocation_store: RevocationStore = (
            RedisRevocationStore(self.rate_store.redis)
            if isinstance(self.rate_store, RedisRateLimitStore)
            else DatabaseRevocationStore(db)
        )
        # A moved counter may mean another worker changed a password: re-read users too.
        self.revocations = RevocationList(
            revocation_store, settings.revocation_recheck_s, clock, on_change=self.users.clear_cache
        )
        self.proxies = settings.proxy_networks
        self.environments: dict[str, ContractEnvironment] = {}

    @staticmethod
    def _rate_store(
        db: Database, settings: AuthSettings, redis_url: str | None, clock: Callable[[], float]
    ) -> RateLimitStore:
        if settings.rate_limit_store == "redis" and not redis_url:
            raise SettingsError("RIDGELINE_AUTH_RATE_LIMIT_STORE=redis needs RIDGELINE_REDIS_URL")
        if redis_url and settings.rate_limit_store != "database":
            return RedisRateLimitStore(redis_url)
        return DatabaseRateLimitStore(db, clock)

    # -- life cycle -------------------------------------------------------------------------------
    async def startup(self) -> None:
        await self.jwt_keys.ensure_signing_key()

    async def close(self) -> None:
        close = getattr(self.rate_store, "close", None)
        if close is not None:
            await close()

    def register_environment(self, name: str, environment: ContractEnvironment) -> None:
        """A family's contract-003 environment rule (autopack: ``ContractEnvironment.from_env("AUTOPACK")``)."""
        self.environments[name] = environment

    # -- credentials --------------------------------------------------------------------------------
    async def issue_token(self, user: User) -> tuple[str, int]:
        generation = await self.revocations.generation(user.id)
        token, ttl = await self.issuer.issue(
            user.id, {"role": user.role.value, "username": user.username, "gen": generation}
        )
        await self.audit.record("token.issue", "ok", actor=user.username, target=user.id)
        return token, ttl

    async def verify_token(self, token: str) -> dict[str, Any]:
        started = time.monotonic()
        keys = await self.jwt_keys.snapshot()
        try:
            return self.verifier.verify(token, keys)
        except TokenError as exc:
            if exc.reason != "unknown_kid":
                raise
            # Perhaps a key another worker published since our load: reload unless the set was loaded
            # after this request began (requests arriving together share one reload), then decide again.
            # An unknown kid thus costs one small SELECT, like an API-key check.
            return self.verifier.verify(token, await self.jwt_keys.snapshot(loaded_after=started))

    async def create_api_key(self, *, actor: str, **kwargs: Any) -> NewApiKey:
        new = await self.api_keys.create(**kwargs)
        await self.audit.record("api_key.create", "ok", actor=actor, target=new.info.prefix)
        return new

    async def rotate_api_key(
        self, key_id: str, *, actor: str, overlap_s: int | None = None
    ) -> NewApiKey | None:
        overlap = self.settings.api_key_rotation_overlap_s if overlap_s is None else overlap_s
        new = await self.api_keys.rotate(key_id, overlap)
        outcome = "ok" if new else "not_found"
        await self.audit.record(
            "api_key.rotate", outcome, actor=actor, target=key_id, reason=f"overlap_s={overlap}"
        )
        return new

    async def revoke_api_key(self, key_id: str, *, actor: str) -> bool:
        ok = await self.api_keys.revoke(key_id)
        await self.audit.record("api_key.revoke", "ok" if ok else "not_found", actor=actor, target=key_id)
        return ok

    async def rotate_jwt_key(self, *, actor: str, overlap_s: int | None = None) -> str:
        overlap = self.settings.jwt_rotation_overlap_s if overlap_s is None else overlap_s
        new_kid, retired = await self.jwt_keys.rotate(overlap)
        await self.audit.record(
            "jwt_key.rotate",
            "ok",
            actor=actor,
            target=new_kid,
            reason=f"retired={len(retired)} overlap_s={overlap}",
        )
        return new_kid

    async def create_user(
        self, username: str, password: str, *, actor: str, email: str | None = None, role: Role = Role.USER
    ) -> User:
        try:
            user = await self.users.create(username, password, email=email, role=role)
        except UserError as exc:
            await self.audit.record("user.create", "refused", actor=actor, target=username, reason=exc.reason)
            raise
        await self.audit.record("user.create", "ok", actor=actor, target=user.id, reason=f"role={role.value}")
        return user

    async def update_user(
        self, username: str, *, actor: str, role: Role | None = None, disabled: bool | None = None
    ) -> User | None:
        user = await self.users.update(username, role=role, disabled=disabled)
        action = "user.set_role" if role is not None else "user.disable" if disabled else "user.enable"
        detail = f"role={role.value}" if role is not None else None
        await self.audit.record(
            action, "ok" if user else "not_found", actor=actor, target=username, reason=detail
        )
        return user

    # -- sessions and passwords ------------------------------------------------------------------
    async def logout(self, claims: dict[str, Any]) -> None:
        await self.revocations.revoke(claims)
        await self.audit.record("logout", "ok", actor=claims.get("username"), target=claims.get("sub"))

    async def end_sessions(self, user: User, action: str) -> None:
        """End every token of the user issued so far (password change or reset)."""
        generation = await self.revocations.revoke_user(user.id)
        self.users.clear_cache()
        await self.audit.record(
            "sessions.revoke", "ok", actor=user.username, target=user.id, reason=f"{action} gen={generation}"
        )

    async def require_password(self, user: User, password: str, action: str) -> None:
        """The user's current password, or 403 ``invalid_current_password`` (audited as ``action``
        denied): what a password change and turning MFA off both ask for."""
        if not await self.users.verify_password(user.id, password):
            await self.audit.record(
                action, "denied", actor=user.username, target=user.id, reason="invalid_current_password"
            )
            raise RidgelineError(403, "invalid_current_password", "The current password is not correct.")

    async def change_password(self, user: User, current: str, new: str) -> None:
        """V6.2.2/V6.2.3: the current password is required; every other session ends."""
        await self.require_password(user, current, "password.change")
        try:
            await self.users.set_password(user, new)
        except UserError as exc:
            await self.audit.record(
                "password.change", "refused", actor=user.username, target=user.id, reason=exc.reason
            )
            raise RidgelineError(422, exc.reason, exc.message) from None
        await self.audit.record("password.change", "ok", actor=user.username, target=user.id)
        await self.end_sessions(user, "password.change")

    async def send_reset(self, login: str) -> None:
        """The background half of ``/auth/password/forgot``: nothing the caller can observe."""
        user = await self.users.by_email(login) if "@" in login else await self.users.by_username(login)
        if user is None or user.disabled or not user.email:
            await self.audit.record(
                "password.reset_request", "ignored", actor=login[:64], reason="no_account"
            )
            return
        per_user = self.settings.password_reset_rate_limit
        decision = await self.limiter.check(
            RateLimit("password_reset:user", per_user.limit, per_user.window_s), user.id
        )
        if not decision.allowed:
            await self.audit.record(
                "password.reset_request", "denied", actor=user.username, target=user.id, reason="rate_limited"
            )
            return
        token = await self.resets.create(user.id)
        template = self.settings.password_reset_url
        link = template.replace("{token}", token) if template else token
        body = (
            # Only configured text and our own values: never the request's Host header (a forged one
            # would otherwise put an attacker's address into a genuine mail).
            f"A password reset was asked for the account {user.username} on {self.settings.issuer}.\n\n"
            f"Use this within {self.settings.password_reset_ttl_s // 60} minutes, once:\n\n{link}\n\n"
            "If you did not ask for it, ignore this message; your password is unchanged."
        )
        try:
            await self.mailer.send(user.email, "Password reset", body)
        except Exception as exc:  # the caller got its 202 long ago: record it and move on
            await self.audit.record(
                "password.reset_request",
                "failed",
                actor=user.username,
                target=user.id,
                reason=type(exc).__name__,
            )
            return
        await self.audit.record("password.reset_request", "ok", actor=user.username, target=user.id)

    async def reset_password(self, token: str, new: str, otp: str | None) -> User:
        """Spend a reset token and set the password; every session of the user ends."""
        invalid = RidgelineError(400, "reset_token_invalid", "The reset token is invalid, used or expired.")
        user_id = await self.resets.peek(token)
        user = await self.users.get(user_id) if user_id else None
        if user is None or user.disabled:
            await self.audit.record("password.reset", "denied", reason="reset_token_invalid")
            raise invalid
        try:
            self.password_policy.check(new, username=user.username, email=user.email)
        except UserError as exc:
            raise RidgelineError(422, exc.reason, exc.message) from None
        if await self.mfa.enabled(user.id):
            # A reset must not step around the second factor.
            if not otp:
                raise RidgelineError(401, "mfa_required", "This account needs its one-time code (otp).")
            if not await self.mfa.verify(user.id, otp):
                await self.audit.record(
                    "password.reset", "denied", actor=user.username, target=user.id, reason="mfa_invalid"
                )
                raise RidgelineError(401, "mfa_invalid", "The one-time code is not valid.")
        if await self.resets.spend(token) != user.id:
            raise invalid
        await self.users.set_password(user, new)
        await self.audit.record("password.reset", "ok", actor=user.username, target=user.id)
        await self.end_sessions(user, "password.reset")
        return user

    # -- the decision ------------------------------------------------------------------------------
    def client_of(self, connection: Any) -> str:
        peer = connection.scope.get("client")
        return client_address(peer[0] if peer else None, connection.scope.get("headers", ()), self.proxies)

    async def check_rate(self, connection: Any, rule: RateLimit) -> None:
        client = self.client_of(connection)
        decision = await self.limiter.check(rule, client)
        if not decision.allowed:
            await self._deny(
                connection,
                429,
                "rate_limited",
                "Too many requests; retry later.",
                None,
                client,
                headers=decision.headers(),
            )
        connection.scope.setdefault("state", {})[RATE_LIMIT_KEY] = decision

    async def enforce(self, connection: Any, policy: Policy) -> Principal | None:
        if policy.rate_limit is not None:
            await self.check_rate(connection, policy.rate_limit)
        if policy.is_public or self._environment_makes_public(policy):
            return None
        headers = connection.headers
        challenge = self._challenge(policy)
        principal: Principal | None = None
        api_key = headers.get("x-api-key")
        authorization = headers.get("authorization") or ""
        scheme, _, credential = authorization.partition(" ")
        if "api_key" in policy.accept and api_key:
            info = await self.api_keys.verify(api_key)
            if info is None:
                await self._deny(
                    connection,
                    401,
                    "invalid_api_key",
                    "Invalid or revoked API key.",
                    None,
                    headers={"WWW-Authenticate": challenge},
                    actor=_key_id_part(api_key),
                )
            assert info is not None
            principal = _key_principal(info)
            if not info.allows(policy.scope):
                await self._deny(
                    connection,
                    403,
                    "insufficient_scope",
                    f"The API key lacks scope {policy.scope!r}.",
                    principal,
                )
        elif "bearer" in policy.accept and scheme.lower() == "bearer" and credential.strip():
            try:
                claims = await self.verify_token(credential.strip())
            except TokenError as exc:
                await self._deny_invalid_token(connection, exc.reason)
                raise AssertionError("unreachable") from None
            if await self.revocations.is_revoked(claims):
                await self._deny(
                    connection,
                    401,
                    "token_revoked",
                    "This access token was revoked (logout or password change); sign in again.",
                    None,
                    headers={"WWW-Authenticate": f'Bearer {REALM}, error="invalid_token"'},
                    actor=str(claims.get("username") or claims.get("sub")),
                )
            connection.scope.setdefault("state", {})[CLAIMS_KEY] = claims
            user = await self.users.get_cached(claims["sub"], self.settings.cache_s)
            if user is None:
                await self._deny_invalid_token(connection, "unknown_subject")
            assert user is not None
            principal = Principal(kind="user", subject=user.id, username=user.username, role=user.role)
            if user.disabled:
                await self._deny(connection, 403, "account_disabled", "This account is disabled.", principal)
        else:
            await self._deny(
                connection,
                401,
                "not_authenticated",
                "Authentication required.",
                None,
                headers={"WWW-Authenticate": challenge},
            )
        assert principal is not None
        if policy.min_role is not None:
            allowed = principal.role is not None and principal.role.at_least(policy.min_role)
            if not allowed and policy.owner_of is not None:
                owner = await policy.owner_of(connection)
                allowed = owner is None or owner == principal.user_id  # None: let the handler answer 404
                if not allowed:
                    await self._deny(
                        connection,
                        403,
                        "not_owner",
                        f"Only the owner or a {policy.min_role.value} may do this.",
                        principal,
                    )
            if not allowed:
                await self._deny(
                    connection,
                    403,
                    "insufficient_role",
                    f"This needs the {policy.min_role.value} role or higher.",
                    principal,
                )
        connection.scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        return principal

    def _environment_makes_public(self, policy: Policy) -> bool:
        if policy.environment is None:
            return False
        # An environment nobody registered is treated as production: fail closed.
        env = self.environments.get(policy.environment, ContractEnvironment(production=True))
        return env.is_public(read=policy.environment_read, key_configured=self.api_keys.has_bootstrap)

    @staticmethod
    def _challenge(policy: Policy) -> str:
        parts = []
        if "bearer" in policy.accept:
            parts.append(f"Bearer {REALM}")
        if "api_key" in policy.accept:
            parts.append(f'ApiKey {REALM}, header="X-API-Key"')
        return ", ".join(parts)

    async def _deny_invalid_token(self, connection: Any, detail: str) -> None:
        """401 ``invalid_token`` with its RFC 6750 challenge; ``detail`` (why) goes to the audit only."""
        await self._deny(
            connection,
            401,
            "invalid_token",
            "Invalid or expired access token.",
            None,
            headers={"WWW-Authenticate": f'Bearer {REALM}, error="invalid_token"'},
            detail=detail,
        )

    async def _deny(
        self,
        connection: Any,
        status: int,
        reason: str,
        message: str,
        principal: Principal | None,
        client: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
        actor: str | None = None,
    ) -> None:
        if principal is not None:
            actor = principal.username or principal.subject
        await self.audit.record(
            "authorize",
            "denied",
            actor=actor,
            reason=f"{reason}:{detail}" if detail else reason,
            method=connection.scope.get("method"),
            path=connection.scope.get("path"),
            client=client or self.client_of(connection),
        )
        raise RidgelineError(status, reason, message, headers=headers)


def _key_id_part(presented: str) -> str | None:
    """``rk_<id>_`` of a well-formed key: names the key in the audit log without any secret part."""
    match = KEY_PATTERN.match(presented)
    return f"rk_{match.group(1)}_" if match else None


def _key_principal(info: ApiKeyInfo) -> Principal:
    return Principal(
        kind="api_key", subject=info.id, username=info.prefix, scopes=tuple(info.scopes), owner=info.owner
    )
