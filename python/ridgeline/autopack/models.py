"""Default model mappings (role x task category x complexity -> model), which the dashboard shows
and overrides replace: a global override for every run, a run override for one run (the more
specific wins). The defaults are configuration, not telemetry: no endpoint calls a model."""

from __future__ import annotations

GENERAL = "general"

# (role, category, complexity) -> model
DEFAULT_MAPPINGS: dict[tuple[str, str, str], str] = {
    ("builder", GENERAL, "low"): "gpt-4o-mini",
    ("builder", GENERAL, "medium"): "claude-sonnet-4-5",
    ("builder", GENERAL, "high"): "claude-opus-4-1",
    ("auditor", GENERAL, "low"): "gpt-4o-mini",
    ("auditor", GENERAL, "medium"): "claude-sonnet-4-5",
    ("auditor", GENERAL, "high"): "claude-opus-4-1",
    ("doctor", GENERAL, "low"): "claude-sonnet-4-5",
    ("doctor", GENERAL, "medium"): "claude-sonnet-4-5",
    ("doctor", GENERAL, "high"): "claude-opus-4-1",
}
