"""Section 2: /health states, database identity (a hash, never the URL), Qdrant, kill switches, and
its place at the root with --only autopack."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from ridgeline.autopack.api.health import debug_parts, identity
from ridgeline.platform.hashing import sha256_hex

pytestmark = pytest.mark.db


@pytest.fixture
def fake_qdrant() -> Iterator[tuple[str, dict[str, int]]]:
    """A loopback HTTP server answering /readyz like Qdrant (status set by the test)."""
    state = {"status": 200, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["hits"] += 1
            code = state["status"] if self.path == "/readyz" else 404
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_healthy_with_identity_kill_switches_and_version(make_ap, settings) -> None:  # type: ignore[no-untyped-def]
    import ridgeline

    ap = make_ap({"AUTOPACK_ENABLE_PHASE6_METRICS": "1"})
    r = ap.get("/health")
    assert r.status_code == 200
    h = r.json()
    url = settings.resolved_database_url
    assert h["status"] == "healthy" and h["database"]["status"] == "connected"
    assert h["database_identity"] == sha256_hex(url)[:16] and url not in r.text
    assert h["qdrant"] is None and h["database_identity_debug"] is None
    assert h["kill_switches"] == {
        "AUTOPACK_ENABLE_PHASE6_METRICS": True,
        "AUTOPACK_ENABLE_CONSOLIDATED_METRICS": False,
        "AUTO_APPROVE_BUILD113": True,
    }
    assert h["version"] == ridgeline.__version__


def test_debug_identity_adds_only_non_secret_parts(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap({"DEBUG_DB_IDENTITY": "1"})
    dbg = ap.get("/health").json()["database_identity_debug"]
    assert dbg["dialect"] in ("sqlite", "postgresql") and dbg["database"]
    parts = debug_parts("postgresql+asyncpg://alice:s3cret-pw@db.internal:6543/autopack")
    assert (parts.dialect, parts.driver, parts.host, parts.port, parts.database) == (
        "postgresql",
        "asyncpg",
        "db.internal",
        6543,
        "autopack",
    )
    import msgspec

    assert b"s3cret" not in msgspec.json.encode(parts) and b"alice" not in msgspec.json.encode(parts)
    assert identity("postgresql://a:b@h/x") != identity("postgresql://a:b@h/y")


def test_qdrant_connected_then_degraded(make_ap, fake_qdrant) -> None:  # type: ignore[no-untyped-def]
    url, state = fake_qdrant
    ap = make_ap({"QDRANT_URL": url})
    h = ap.get("/health").json()
    assert h["status"] == "healthy" and h["qdrant"] == {"status": "connected", "url_identity": identity(url)}
    assert state["hits"] == 1
    state["status"] = 503
    r = ap.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["qdrant"]["status"] == "unreachable" and url not in r.text


def test_unreachable_database_is_unhealthy_503(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap()
    db = ap.app.state["ctx"].db
    real = db.engine
    # A real engine on a closed loopback port: SELECT 1 fails with connection refused.
    db.engine = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:9/none", connect_args={"timeout": 2})
    db._probed_at = -1e9
    try:
        r = ap.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unhealthy" and r.json()["database"]["status"] == "unreachable"
    finally:
        ap.blocking_portal.call(db.engine.dispose)
        db.engine = real
        db._probed_at = -1e9


def test_root_health_is_the_familys_with_only_and_mounted_under_its_prefix(make_ap) -> None:  # type: ignore[no-untyped-def]
    only = make_ap()
    assert "database_identity" in only.get("/health").json()
    mounted = make_ap(mounted=True)
    assert "database_identity" in mounted.get("/autopack/health").json()
    assert "database_identity" not in mounted.get("/health").json()  # the platform's own
