"""Security headers on every answer (matched, 404, 405, errors, HTML docs) and CORS off by default."""

import pytest

from ridgeline.platform.settings import Settings, SettingsError

pytestmark = pytest.mark.db

API_CSP = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/no/such/path", 404),
        ("DELETE", "/health", 405),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_answer_carries_the_security_headers(make_client, method, path, status) -> None:  # type: ignore[no-untyped-def]
    r = make_client().request(method, path)
    assert r.status_code == status
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cross-origin-resource-policy"] == "same-origin"
    assert r.headers["content-security-policy"] == API_CSP
    assert "strict-transport-security" not in r.headers  # TLS is terminated in front: off by default


def test_html_pages_may_load_their_own_scripts_but_not_be_framed(make_client) -> None:  # type: ignore[no-untyped-def]
    r = make_client().get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert (
        r.headers["content-security-policy"] == "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert r.headers["x-content-type-options"] == "nosniff"


def test_hsts_when_behind_tls(make_client) -> None:  # type: ignore[no-untyped-def]
    r = make_client(hsts=True).get("/health")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_cors_is_off_by_default(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = c.get("/health", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = c.options(
        "/health", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allows_exactly_the_configured_origins(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(cors_origins=("https://app.example.com",))
    ok = c.get("/health", headers={"Origin": "https://app.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    other = c.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-credentials" not in ok.headers


@pytest.mark.parametrize(
    "bad", ["*", "https://app.example.com/path", "app.example.com", "https://*.example.com"]
)
def test_cors_origins_must_be_exact(bad: str) -> None:
    with pytest.raises(SettingsError, match="RIDGELINE_CORS_ORIGINS"):
        Settings.from_env({"RIDGELINE_CORS_ORIGINS": bad})


def test_cors_origins_from_env_is_a_list() -> None:
    s = Settings.from_env({"RIDGELINE_CORS_ORIGINS": "https://a.example, http://localhost:5173"})
    assert s.cors_origins == ("https://a.example", "http://localhost:5173")
