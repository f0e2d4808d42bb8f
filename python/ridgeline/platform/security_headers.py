"""The HTTP security headers every response carries (OWASP ASVS 5.0 V3.4), and the CORS policy.

The headers are added by the outermost ASGI wrapper (``ObservabilityMiddleware``), so 404/405 answers,
streams and the interactive docs carry them too. A header the handler set itself is left as it is.

- ``X-Content-Type-Options: nosniff``: browsers never guess a media type (a JSON body is not a script).
- ``Content-Security-Policy``: ``default-src 'none'; base-uri 'none'; frame-ancestors 'none'`` for API
  answers, which load nothing; HTML pages (``/docs``, the retail Showcase) get ``object-src 'none';
  base-uri 'none'; frame-ancestors 'none'``, since they load their own scripts and styles (ASVS V3.4.3).
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
- ``Referrer-Policy: no-referrer``: URLs (which may name runs or artifacts) never leak to other sites.
- ``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Resource-Policy: same-origin``.
- ``Strict-Transport-Security`` only with ``RIDGELINE_HSTS=1``: TLS is terminated in front of the
  service (docs/deploy.md), which alone knows the client connection is HTTPS.

CORS is off unless ``RIDGELINE_CORS_ORIGINS`` lists exact origins (``https://app.example.com``): no
``Access-Control-*`` header is sent otherwise, so browsers refuse cross-origin reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.config.cors import CORSConfig

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
_CSP_API = (b"content-security-policy", b"default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_CSP_HTML = (b"content-security-policy", b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds the headers above to a response start message's header list."""

    __slots__ = ("api", "html")

    def __init__(self, *, hsts: bool = False) -> None:
        common = (*_COMMON, HSTS) if hsts else _COMMON
        self.api = (*common, _CSP_API)
        self.html = (*common, _CSP_HTML)

    def add(self, headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = set()
        html = False
        for name, value in headers:
            lower = name.lower()
            present.add(lower)
            if lower == b"content-type" and value.startswith(b"text/html"):
                html = True
        extra = self.html if html else self.api
        return [*headers, *(h for h in extra if h[0] not in present)]


def cors_config(origins: Sequence[str]) -> CORSConfig | None:
    """Litestar's CORS for exactly these origins, or ``None`` (no CORS) when none are configured."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-Id", "If-None-Match"],
        expose_headers=["X-Request-Id", "ETag", "Location", "Retry-After"],
        allow_credentials=False,  # bearer tokens and API keys travel in headers, never cookies
        max_age=600,
    )
