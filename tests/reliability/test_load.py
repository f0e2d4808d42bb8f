"""A short open-loop load on every family's main endpoints of a real served instance: every request
answered, none with an error. Figures (p50/p99) and the soak: ``python -m tests.reliability.load``."""

from __future__ import annotations

from pathlib import Path

from tests.netutil import free_port
from tests.reliability.crash_harness import Server
from tests.reliability.load import ENDPOINTS, credentials, each_endpoint


def test_main_endpoints_hold_a_fixed_rate_without_errors(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    server = Server(tmp_path / "var", "", free_port(), workers=2)
    server.start()
    try:
        rounds = each_endpoint(server, credentials(server), rate=10, duration_s=3)
    finally:
        server.stop()
    assert {e.family for e in ENDPOINTS} == {"routing", "sim", "retail", "autopack", "genai"}
    for res in rounds:
        for e, r in res.items():
            assert len(r.latencies_ms) == 30, e.path  # every scheduled request was answered
            assert r.errors == [], (e.path, r.errors[:3])
