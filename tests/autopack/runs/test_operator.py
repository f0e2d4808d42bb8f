"""Section 10: runs inbox (phase counts in one query), progress, artifacts with traversal
protection, browser artifacts."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import event

from tests.autopack.runs.conftest import create, move, service, start
from tests.conftest import require_shared

pytestmark = pytest.mark.db


class StatementCounter:
    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.engine = client.app.state["ctx"].db.engine.sync_engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)


def test_inbox_counts_phases_per_run_without_n_plus_one(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-0", phases_per_tier=3)
    move(ap, "r-0", "P0.0", "EXECUTING")
    move(ap, "r-0", "P0.1", "SKIPPED")
    move(ap, "r-0", "P0.2", "FAILED")
    with StatementCounter(ap) as few:
        r = ap.get("/runs")
    assert r.status_code == 200
    first = r.json()
    assert first["total"] == 1 and first["limit"] == 20 and first["offset"] == 0
    row = first["runs"][0]
    assert (row["phases_total"], row["phases_completed"], row["phases_in_progress"]) == (3, 1, 1)
    assert (row["phases_pending"], row["phases_failed"]) == (0, 1)
    for i in range(1, 15):
        create(ap, f"r-{i}", phases_per_tier=2)
    with StatementCounter(ap) as many:
        page = ap.get("/runs", params={"limit": 15}).json()
    assert len(page["runs"]) == 15 and all(r["phases_total"] in (2, 3) for r in page["runs"])
    # the same single statement for 1 run as for 15: the page with its counts and the total
    assert len(many.statements) == len(few.statements) == 1, many.statements


def test_inbox_pagination_and_order(ap) -> None:  # type: ignore[no-untyped-def]
    runs = service(ap).runs
    real = runs.clock
    now = real()
    for i in range(5):
        runs.clock = lambda i=i: now + timedelta(seconds=i)  # type: ignore[misc]
        create(ap, f"r-{i}", phases_per_tier=1)
    runs.clock = real
    page = ap.get("/runs", params={"limit": 2, "offset": 1}).json()
    assert [r["run_id"] for r in page["runs"]] == ["r-3", "r-2"] and page["total"] == 5
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        r = ap.get("/runs", params=bad)
        assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request", bad
    assert ap.get("/runs", params={"limit": 100}).status_code == 200
    past = ap.get("/runs", params={"offset": 50}).json()
    assert past["runs"] == [] and past["total"] == 5


def test_progress_elapsed_from_the_clock_and_tokens_against_the_cap(ap) -> None:  # type: ignore[no-untyped-def]
    runs = service(ap).runs
    real = runs.clock
    t0 = real()
    runs.clock = lambda: t0
    start(ap, "r-1", phases_per_tier=3, token_cap=2000)
    move(ap, "r-1", "P0.0", "EXECUTING", tokens_used=500)
    runs.clock = lambda: t0 + timedelta(seconds=754.25)
    p = ap.get("/runs/r-1/progress").json()
    assert p["elapsed_seconds"] == 754.25 and p["started_at"] is not None
    assert (p["phases_total"], p["phases_in_progress"], p["phases_pending"], p["phases_completed"]) == (
        3,
        1,
        2,
        0,
    )
    assert p["tokens_used"] == 500 and p["token_cap"] == 2000 and p["token_utilization"] == 25.0
    assert [x["state"] for x in p["phases"]] == ["EXECUTING", "QUEUED", "QUEUED"]
    # once the run is done, elapsed stops at completion
    runs.clock = lambda: t0 + timedelta(seconds=800)
    move(ap, "r-1", "P0.0", "COMPLETE")
    move(ap, "r-1", "P0.1", "SKIPPED")
    move(ap, "r-1", "P0.2", "SKIPPED")
    runs.clock = lambda: t0 + timedelta(seconds=5000)
    assert ap.get("/runs/r-1/progress").json()["elapsed_seconds"] == 800.0
    runs.clock = real
    assert ap.get("/runs/nope/progress").status_code == 404


@pytest.fixture
def run_dir(ap, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    root = service(ap).runs.run_dir("r-1")
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "builder.log").write_text("built\n")
    (root / "browser").mkdir()
    (root / "browser" / "step-1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "browser" / "page.html").write_text("<html></html>")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    (outside / "shot.png").write_bytes(b"\x89PNG")
    os.symlink(outside / "secret.txt", root / "logs" / "leak.txt")
    os.symlink(outside, root / "linked-dir")
    return root


def test_index_lists_files_and_never_follows_symlinks(ap, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    idx = ap.get("/runs/r-1/artifacts/index").json()
    paths = [a["path"] for a in idx["artifacts"]]
    assert paths == ["browser/page.html", "browser/step-1.png", "logs/builder.log"]
    assert idx["total_size_bytes"] == sum(a["size_bytes"] for a in idx["artifacts"]) == 13 + 1032 + 6
    b = ap.get("/runs/r-1/browser/artifacts").json()
    assert [s["path"] for s in b["screenshots"]] == ["browser/step-1.png"]
    assert [h["path"] for h in b["html_files"]] == ["browser/page.html"]
    assert b["total_size_bytes"] == 1045
    assert ap.get("/runs/nope/artifacts/index").status_code == 404
    start(ap, "r-2")
    assert ap.get("/runs/r-2/browser/artifacts").json()["screenshots"] == []


def test_files_are_served_with_their_media_type(ap, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    r = ap.get("/runs/r-1/artifacts/file", params={"path": "logs/builder.log"})
    assert r.status_code == 200 and r.text == "built\n" and r.headers["content-type"].startswith("text/plain")
    r = ap.get("/runs/r-1/artifacts/file", params={"path": "browser/step-1.png"})
    assert (
        r.headers["content-type"] == "image/png"
        and r.content == (run_dir / "browser" / "step-1.png").read_bytes()
    )
    (run_dir / "blob").write_bytes(b"\x00\x01binary")
    assert (
        ap.get("/runs/r-1/artifacts/file", params={"path": "blob"}).headers["content-type"]
        == "application/octet-stream"
    )
    big = os.urandom(3 * 1024 * 1024 + 17)
    (run_dir / "logs" / "big.bin").write_bytes(big)
    with ap.stream("GET", "/runs/r-1/artifacts/file", params={"path": "logs/big.bin"}) as s:
        assert s.headers["content-length"] == str(len(big))
        chunks = list(s.iter_bytes())
    assert b"".join(chunks) == big
    for missing in ("logs/none.txt", "logs"):
        r = ap.get("/runs/r-1/artifacts/file", params={"path": missing})
        assert r.status_code == 404 and r.json()["reason_code"] == "artifact_not_found"


def test_symlinks_out_of_the_run_and_nul_bytes_are_refused(ap, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    os.symlink(run_dir / "loop-b", run_dir / "loop-a")
    os.symlink(run_dir / "loop-a", run_dir / "loop-b")
    for path in (
        "logs/leak.txt",
        "linked-dir/secret.txt",
        "logs/builder.log\x00.png",
        "logs/builder.log%00",
        "loop-a/x",
    ):
        r = ap.get("/runs/r-1/artifacts/file", params={"path": path})
        assert r.status_code == 400 and r.json()["reason_code"] == "invalid_path", path
        assert "top secret" not in r.text


def test_every_traversal_vector_is_refused_decoded_zero_one_and_two_times(ap, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    vectors = [
        line.rstrip("\n")
        for line in require_shared("security/path_traversal_vectors.txt").read_text().splitlines()
        if line.strip()
    ]
    assert len(vectors) >= 40
    tried = 0
    for vector in vectors:
        for form in {vector, unquote(vector), unquote(unquote(vector))}:
            r = ap.get("/runs/r-1/artifacts/file", params={"path": form})
            tried += 1
            assert r.status_code == 400, (vector, form, r.status_code)
            assert r.json()["reason_code"] == "invalid_path"
            assert "root:" not in r.text and "top secret" not in r.text
    assert tried >= len(vectors)
