"""API version and deprecation headers of the sim family (contract 001: "announce in changelog and
response headers; keep v1 supported for at least 6 months")."""

from __future__ import annotations

from datetime import UTC, datetime

API_VERSION = "1"
# The unversioned /api/ endpoints that duplicate a /v1/ endpoint are deprecated in favour of it
# (announced in docs/sim.md's changelog); they stay served for at least six months after this date.
DEPRECATED_ON = datetime(2026, 11, 22, tzinfo=UTC)
SUNSET_ON = datetime(2027, 5, 31, tzinfo=UTC)


def v1_headers() -> dict[str, str]:
    return {"API-Version": API_VERSION}


def deprecated(successor: str) -> dict[str, str]:
    """RFC 9745 Deprecation, RFC 8594 Sunset and a successor link."""
    return {
        "Deprecation": f"@{int(DEPRECATED_ON.timestamp())}",
        "Sunset": SUNSET_ON.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Link": f'<{successor}>; rel="successor-version"',
    }
