"""AuthSettings: RIDGELINE_AUTH_* variables, validation naming the variable, secrets never printed."""

from __future__ import annotations

import pytest

from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.settings import SettingsError


def test_defaults() -> None:
    s = AuthSettings.from_env({})
    assert s.token_ttl_s == 900 and s.leeway_s == 30 and s.require_families == ()
    assert s.password_profile == "default" and s.bootstrap_api_key is None


def test_values_are_read_and_validated() -> None:
    s = AuthSettings.from_env(
        {
            "RIDGELINE_AUTH_TOKEN_TTL_S": "600",
            "RIDGELINE_AUTH_ISSUER": "https://ridgeline.example",
            "RIDGELINE_AUTH_AUDIENCE": "api",
            "RIDGELINE_AUTH_REQUIRE_FAMILIES": "sim, retail",
        }
    )
    assert (s.token_ttl_s, s.issuer, s.audience, s.require_families) == (
        600,
        "https://ridgeline.example",
        "api",
        ("sim", "retail"),
    )
    assert s.family_requires_auth("sim") and not s.family_requires_auth("routing")
    assert AuthSettings.from_env({"RIDGELINE_AUTH_REQUIRE_FAMILIES": "all"}).family_requires_auth("routing")


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"RIDGELINE_AUTH_TOKEN_TTL_S": "abc"}, "RIDGELINE_AUTH_TOKEN_TTL_S"),
        ({"RIDGELINE_AUTH_TOKEN_TTL_S": "5"}, "RIDGELINE_AUTH_TOKEN_TTL_S"),
        ({"RIDGELINE_AUTH_REQUIRE_FAMILIES": "nope"}, "RIDGELINE_AUTH_REQUIRE_FAMILIES"),
        ({"RIDGELINE_AUTH_PASSWORD_PROFILE": "fast"}, "RIDGELINE_AUTH_PASSWORD_PROFILE"),
        ({"AUTOPACK_API_KEY": "short"}, "AUTOPACK_API_KEY"),
        ({"RIDGELINE_AUTH_JWT_ROTATION_OVERLAP_S": "60"}, "RIDGELINE_AUTH_JWT_ROTATION_OVERLAP_S"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        AuthSettings.from_env(env)


def test_secret_settings_never_print() -> None:
    s = AuthSettings.from_env(
        {"RIDGELINE_AUTH_BOOTSTRAP_API_KEY": "k" * 24, "RIDGELINE_AUTH_SECRETS_KEY": "s" * 44}
    )
    assert "k" * 24 not in repr(s) and "s" * 44 not in repr(s)
    assert s.bootstrap_api_key is not None and s.bootstrap_api_key.get() == "k" * 24
