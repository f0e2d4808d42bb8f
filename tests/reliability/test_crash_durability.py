"""A short crash campaign (SIGKILL of the whole service mid-write, restart, check) on SQLite, and on
PostgreSQL in CI's database pass. Longer campaigns: ``python -m tests.reliability.crash_harness``.
``RIDGELINE_CRASH_KILLS`` sets the number of kills here (default 4, to stay inside CI's budget)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.crash_harness import (
    AutopackRun,
    Ledger,
    PhaseLedger,
    Verdict,
    campaign,
    genai_upload,
    retail_batch,
    setup_genai,
    verify,
)

pytestmark = pytest.mark.db


def test_acknowledged_writes_survive_sigkill(tmp_path: Path, database_url: str) -> None:
    kills = int(os.environ.get("RIDGELINE_CRASH_KILLS", "4"))
    v = campaign(tmp_path, kills=kills, database_url=database_url, seed=7)
    assert v.failures == []
    assert v.kills == kills
    # the campaign really wrote through every family, so the checks above had something to check
    assert v.routing_checked > 0 and v.sim_checked > 0 and v.retail_acked > 0
    assert v.autopack_checked > 0 and v.genai_acked > 0


def test_the_checks_see_a_lost_or_partial_write(tmp_path: Path, database_url: str) -> None:
    """Against a live service with nothing written: a claimed acknowledgement is reported lost."""
    from tests.netutil import free_port
    from tests.reliability.crash_harness import Server

    data = tmp_path / "var"
    data.mkdir()
    server = Server(data, database_url, free_port(), workers=1)
    server.start()
    try:
        ledger = Ledger(
            routing_acked=["no-such-run"],
            sim_acked=["no-such-run"],
            retail_sent={0: True},
            next_day=1,
            autopack_runs=[AutopackRun("no-such-run", {"P0": PhaseLedger(acked=3)})],
        )
        setup_genai(server, ledger)
        ledger.genai_sent = {"crash-x": True}
        v = Verdict()
        verify(server.base, ledger, v, checked=set())
        _, want = retail_batch(0)
        assert v.failures == [
            "routing run no-such-run acknowledged but 404",
            "sim run no-such-run acknowledged but 404",
            "autopack run no-such-run created but 404",
            "genai upload crash-x acknowledged but not stored",
            f"retail day {next(iter(want))} acknowledged with {next(iter(want.values()))} units, holds 0",
        ]
        assert genai_upload("crash-x")[0] == "crash-x.txt"
    finally:
        server.stop()
