"""Identity and access for every family: API keys, users, JWT access tokens with a published key set,
roles, route policies, secrets at rest, audit events and shared rate limits. See docs/security.md."""

from __future__ import annotations

from ridgeline.platform.auth.policy import (
    ContractEnvironment,
    Policy,
    Principal,
    current_principal,
    enforce_policy,
    public_unless_required,
)
from ridgeline.platform.auth.ratelimit import RateLimit
from ridgeline.platform.auth.roles import Role, is_superuser, role_from_is_superuser
from ridgeline.platform.auth.secrets import SecretBox, mask
from ridgeline.platform.auth.settings import AuthSettings, SecretStr

__all__ = [
    "AuthSettings",
    "ContractEnvironment",
    "Policy",
    "Principal",
    "RateLimit",
    "Role",
    "SecretBox",
    "SecretStr",
    "current_principal",
    "enforce_policy",
    "is_superuser",
    "mask",
    "public_unless_required",
    "role_from_is_superuser",
]
