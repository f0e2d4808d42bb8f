"""The reason codes the platform's identity and access layer answers with (the guard, ``/auth/*`` and
``/api/auth/*``). docs/security.md "Reason codes" lists exactly these
(tests/platform/auth/test_reason_codes.py)."""

from __future__ import annotations

from ridgeline.platform.problems import Catalogue, ReasonCode

REASON_CODES = Catalogue(
    [
        ReasonCode("not_authenticated", 401, "Authentication required."),
        ReasonCode("invalid_api_key", 401, "Invalid or revoked API key."),
        ReasonCode("invalid_token", 401, "Invalid or expired access token."),
        ReasonCode("invalid_credentials", 401, "Incorrect username or password."),
        ReasonCode("insufficient_scope", 403, "The API key lacks scope {scope!r}."),
        ReasonCode("insufficient_role", 403, "This needs the {role} role or higher."),
        ReasonCode("not_owner", 403, "Only the owner or a {role} may do this."),
        ReasonCode("account_disabled", 403, "This account is disabled."),
        ReasonCode("registration_closed", 403, "Registration is closed; ask an administrator."),
        ReasonCode("username_taken", 409, "that username is taken"),
        ReasonCode("email_taken", 409, "that email is already registered"),
        ReasonCode("invalid_username", 422, "username must be 3-64 characters of letters, digits, _ . @ -"),
        ReasonCode("invalid_email", 422, "email is not a valid address"),
        ReasonCode("weak_password", 422, "password must be {min}..1024 characters"),
        ReasonCode("rate_limited", 429, "Too many requests; retry later."),
        # -- ASVS 5.0 L2 gaps closed (migration 0022_auth_security) --
        ReasonCode("token_revoked", 401, "This access token was revoked (logout or password change)."),
        ReasonCode("invalid_current_password", 403, "The current password is not correct."),
        ReasonCode("password_common", 422, "that password is one of the most common passwords"),
        ReasonCode(
            "password_contextual", 422, "the password contains the service name or part of your names"
        ),
        ReasonCode("mfa_required", 401, "This account needs its one-time code: send it as otp."),
        ReasonCode("mfa_invalid", 401, "The one-time code is not valid."),
        ReasonCode("mfa_already_enabled", 409, "TOTP is already on; disable it first."),
        ReasonCode("mfa_not_enabled", 409, "TOTP is not on for this account."),
        ReasonCode("reset_token_invalid", 400, "The reset token is invalid, used or expired."),
        ReasonCode("password_reset_unavailable", 503, "Self-service password reset is not configured here."),
    ]
)
