"""Identity and access tables on the shared metadata (migration ``0012_auth``, its own branch)."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import metadata

TS = sa.DateTime(timezone=True)

users_table = sa.Table(
    "auth_users",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    # Lower-cased copies carry the unique constraints, so uniqueness is case-insensitive on every backend.
    sa.Column("username_lower", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_lower", sa.String(320), nullable=True, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

api_keys_table = sa.Table(
    "auth_api_keys",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("prefix", sa.String(32), nullable=False),
    # HMAC-SHA256(pepper, key), hex. The key itself is never stored.
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_used_at", TS, nullable=True),
    sa.Column("expires_at", TS, nullable=True),
    sa.Column("revoked_at", TS, nullable=True),
    sa.Column("rotated_to", sa.String(24), nullable=True),
)

jwt_keys_table = sa.Table(
    "auth_jwt_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    # The private key, PKCS8 DER sealed by the secrets box (AES-256-GCM, key outside the database).
    sa.Column("private_sealed", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    # Signs until retired; verifies until verify_until (retired_at + overlap).
    sa.Column("retired_at", TS, nullable=True),
    sa.Column("verify_until", TS, nullable=True),
)

audit_table = sa.Table(
    "auth_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("actor", sa.String(128), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("method", sa.String(16), nullable=True),
    sa.Column("path", sa.String(512), nullable=True),
    sa.Column("client", sa.String(64), nullable=True),
    sa.Index("ix_auth_audit_at", "at"),
)

rate_counters_table = sa.Table(
    "auth_rate_counters",
    metadata,
    sa.Column("bucket", sa.String(256), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Index("ix_auth_rate_counters_window", "window_start"),
)

# ---- migration 0022_auth_security: logout, MFA, password reset ----------------------------------

# Revoked access tokens by jti, until the token would have expired anyway (then purged).
revoked_tokens_table = sa.Table(
    "auth_revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), nullable=True),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("revoked_at", TS, nullable=False),
    sa.Index("ix_auth_revoked_tokens_expires", "expires_at"),
)

# One counter bumped by every revocation (and every user-wide revocation), so a worker re-reads the
# list only when it changed (the genai_platform_version pattern).
revocation_version_table = sa.Table(
    "auth_revocation_version",
    metadata,
    sa.Column("key", sa.String(16), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# Per-user session generation: tokens carry it as ``gen``; bumping it (password change or reset)
# ends every token issued before.
user_sessions_table = sa.Table(
    "auth_user_sessions",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)

mfa_totp_table = sa.Table(
    "auth_mfa_totp",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    # The base32 TOTP secret sealed by the secrets box (associated data auth:totp:<user id>).
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("confirmed_at", TS, nullable=True),
    # The last accepted 30 s step: a code is accepted once (RFC 6238 section 5.2).
    sa.Column("last_step", sa.BigInteger, nullable=True),
)

mfa_recovery_table = sa.Table(
    "auth_mfa_recovery_codes",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    # HMAC-SHA256(pepper, code), hex: the codes are 80 random bits, shown once.
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("used_at", TS, nullable=True),
)

password_resets_table = sa.Table(
    "auth_password_resets",
    metadata,
    # SHA-256 of the token (256 random bits): the token itself is only in the mail.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=True),
    sa.Index("ix_auth_password_resets_user", "user_id"),
)
