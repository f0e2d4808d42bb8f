"""Dashboard run status, model mappings and overrides (persisted), human notes."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from ridgeline.autopack.models import DEFAULT_MAPPINGS
from tests.autopack.runs.conftest import move, service, start

pytestmark = pytest.mark.db


def test_run_status_for_the_dashboard(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1", tiers=2, phases_per_tier=2, token_cap=10_000)
    move(ap, "r-1", "P0.0", "EXECUTING")
    move(ap, "r-1", "P0.0", "COMPLETE", tokens_used=2500)
    move(ap, "r-1", "P0.1", "SKIPPED")
    move(ap, "r-1", "P1.0", "EXECUTING", quality_blocked=True)
    ap.post("/runs/r-1/phases/P1.0/record_issue", json={"issue_key": "k", "severity": "major"})
    s = ap.get("/dashboard/runs/r-1/status").json()
    assert s["state"] == "PHASE_EXECUTION"
    assert (s["current_phase_id"], s["current_tier_id"], s["current_tier_index"]) == ("P1.0", "T1", 1)
    assert s["current_phase_state"] == "EXECUTING" and s["current_phase_name"] == "phase 1.0"
    assert (s["total_tiers"], s["completed_tiers"], s["total_phases"], s["completed_phases"]) == (2, 1, 4, 2)
    assert s["percent_complete"] == 50.0 and s["tokens_used"] == 2500 and s["token_utilization"] == 25.0
    assert s["major_issues_count"] == 1 and s["quality_blocked"] is True
    assert ap.get("/dashboard/runs/nope/status").status_code == 404


def _pick(rows, role, category, complexity):  # type: ignore[no-untyped-def]
    return next(
        m for m in rows if (m["role"], m["category"], m["complexity"]) == (role, category, complexity)
    )


def test_model_overrides_global_then_per_run_and_persisted(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap()
    start(ap, "r-1")
    defaults = ap.get("/dashboard/models").json()
    assert len(defaults) == len(DEFAULT_MAPPINGS) and {m["source"] for m in defaults} == {"default"}
    r = ap.post(
        "/dashboard/models/override", json={"role": "builder", "complexity": "high", "model": "m-global"}
    )
    assert r.status_code == 200 and r.json()["override"]["source"] == "global_override"
    r = ap.post(
        "/dashboard/models/override",
        json={"scope": "run", "run_id": "r-1", "role": "builder", "complexity": "high", "model": "m-run"},
    )
    assert r.status_code == 200 and "run r-1" in r.json()["message"]
    ap.post(
        "/dashboard/models/override",
        json={"role": "auditor", "category": "security", "complexity": "low", "model": "m-sec"},
    )
    glob = ap.get("/dashboard/models").json()
    assert _pick(glob, "builder", "general", "high")["model"] == "m-global"
    assert _pick(glob, "auditor", "security", "low")["source"] == "global_override"
    per_run = ap.get("/dashboard/models", params={"run_id": "r-1"}).json()
    assert _pick(per_run, "builder", "general", "high") == {
        "role": "builder",
        "category": "general",
        "complexity": "high",
        "model": "m-run",
        "source": "run_override",
        "run_id": "r-1",
    }
    again = make_ap()  # a second app (process) on the same database
    assert _pick(again.get("/dashboard/models").json(), "builder", "general", "high")["model"] == "m-global"


def test_override_errors(ap) -> None:  # type: ignore[no-untyped-def]
    base = {"role": "builder", "complexity": "low", "model": "x"}
    r = ap.post("/dashboard/models/override", json={**base, "scope": "run"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_override"
    r = ap.post("/dashboard/models/override", json={**base, "run_id": "r-1"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_override"
    r = ap.post("/dashboard/models/override", json={**base, "scope": "run", "run_id": "nope"})
    assert r.status_code == 404 and r.json()["reason_code"] == "run_not_found"
    assert ap.get("/dashboard/models", params={"run_id": "nope"}).status_code == 404
    assert ap.post("/dashboard/models/override", json={**base, "role": "wizard"}).status_code == 422


def test_human_notes_are_appended_whole_with_a_timestamp(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    path = service(ap).runs.notes_file
    r = ap.post("/dashboard/human-notes", json={"note": "first", "run_id": "r-1", "author": "ops"})
    assert r.status_code == 200
    stamp = r.json()["timestamp"]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    assert r.json()["notes_file"] == path.name
    text = path.read_text()
    assert text.startswith("## ") and "run=r-1 author=ops\n\nfirst\n" in text
    assert ap.post("/dashboard/human-notes", json={"note": "x", "run_id": "nope"}).status_code == 404
    assert ap.post("/dashboard/human-notes", json={"note": ""}).status_code == 422

    # Concurrent writers: every entry arrives whole, none interleaved.
    note = "line\n" * 2000  # 10 kB
    statuses: list[int] = []

    def post(i: int) -> None:
        statuses.append(ap.post("/dashboard/human-notes", json={"note": f"writer {i}\n{note}"}).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 8
    entries = path.read_text().split("## ")[1:]
    assert len(entries) == 9
    for entry in entries[1:]:
        _head, body = entry.split("\n\n", 1)
        assert body.startswith("writer ") and body.count("line\n") == 2000
