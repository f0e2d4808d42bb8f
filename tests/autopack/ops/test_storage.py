"""Storage (section 11): scans as jobs (sizes, types, duplicates by hash, age), detail and approval,
Steam library detection on real-format files, patterns, learned rules, recommendations; and the
guarantee that nothing under a root is deleted or changed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.autopack.ops.conftest import KEY, call, ops_of

pytestmark = pytest.mark.db
DATA = Path(__file__).parent / "data"
OLD = time.time() - 2 * 365 * 86400


def _tree(root: Path) -> dict[str, bytes]:
    files = {
        "photos/a.jpg": b"\xff\xd8\xff" + b"A" * 500,
        "photos/copy_of_a.jpg": b"\xff\xd8\xff" + b"A" * 500,
        "backup/a_again.jpg": b"\xff\xd8\xff" + b"A" * 500,
        "photos/b.jpg": b"\xff\xd8\xff" + b"B" * 500,  # same size, different content: not a duplicate
        "docs/report.pdf": b"%PDF-1.4 report",
        **{f"logs/app{i}.log": f"line {i}\n".encode() * (i + 1) for i in range(6)},
        "old/one.txt": b"old one",
        "old/two.txt": b"old two!",
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for rel in ("old/one.txt", "old/two.txt"):
        os.utime(root / rel, (OLD, OLD))
    return files


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in root.rglob("*")
        if p.is_file()
    }


def _wait(c, scan_id: str) -> dict:  # type: ignore[no-untyped-def]
    ops = ops_of(c)
    job_id = c.get(f"/storage/scans/{scan_id}", headers=KEY).json()["job_id"]
    call(c, ops.ctx.jobs.wait, job_id, 60)
    return c.get(f"/storage/scans/{scan_id}", headers=KEY, params={"files_limit": 1000}).json()


def test_scan_job_detail_duplicates_and_nothing_deleted(make_ops_client, ops_env, tmp_path: Path) -> None:
    root = tmp_path / "root"
    files = _tree(root)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (root / "link_out").symlink_to(outside)
    before = _snapshot(root)
    ops_env(AUTOPACK_STORAGE_ROOTS=str(root))
    c = make_ops_client()
    assert c.post("/storage/scan", json={}).status_code == 401
    r = c.post("/storage/scan", json={}, headers=KEY)
    assert r.status_code == 202, r.text
    scan_id = r.json()["scan_id"]
    d = _wait(c, scan_id)
    assert d["status"] == "completed" and d["progress"] == 1.0
    assert d["total_files"] == len(files)  # the symlink is neither followed nor counted
    assert d["total_bytes"] == sum(len(b) for b in files.values())
    assert {f["path"] for f in d["files"]} == set(files)
    [dup] = d["duplicates"]
    assert sorted(dup["paths"]) == ["backup/a_again.jpg", "photos/a.jpg", "photos/copy_of_a.jpg"]
    assert dup["reclaimable_bytes"] == 2 * 503
    assert d["summary"]["by_category"]["image"]["files"] == 4
    assert d["summary"]["by_category"]["log"]["files"] == 6
    assert d["summary"]["by_age"]["over_1_year"]["files"] == 2

    listed = c.get("/storage/scans", headers=KEY).json()
    assert listed["total"] == 1 and listed["scans"][0]["scan_id"] == scan_id
    assert c.get("/storage/scans").status_code == 401

    a = c.post(f"/storage/scans/{scan_id}/approve", json={"note": "ok to archive"}, headers=KEY)
    assert a.status_code == 200 and a.json()["approved"] is True
    again = c.post(f"/storage/scans/{scan_id}/approve", headers=KEY)
    assert again.status_code == 409 and again.json()["reason_code"] == "storage_scan_already_approved"

    patterns = c.post("/storage/patterns/analyze").json()
    kinds = {(p["pattern_type"], p["path_pattern"]) for p in patterns}
    assert ("extension_cluster", "logs/*.log") in kinds
    assert ("stale_directory", "old/*") in kinds
    rules = c.get("/storage/learned-rules").json()
    assert {r["status"] for r in rules} == {"proposed"} and len(rules) == len(patterns)
    # Analysing again updates the same rules instead of adding copies.
    c.post("/storage/patterns/analyze", params={"scan_id": scan_id})
    assert len(c.get("/storage/learned-rules").json()) == len(rules)
    log_rule = next(p["rule_id"] for p in patterns if p["path_pattern"] == "logs/*.log")
    ok = c.post(f"/storage/learned-rules/{log_rule}/approve")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert [r["rule_id"] for r in c.get("/storage/learned-rules", params={"status": "approved"}).json()] == [
        log_rule
    ]
    missing = c.post("/storage/learned-rules/nope/approve")
    assert missing.status_code == 404 and missing.json()["reason_code"] == "storage_rule_not_found"

    recs = c.get("/storage/recommendations").json()
    types = [r["type"] for r in recs["recommendations"]]
    assert "deduplicate" in types and "extension_cluster" in types
    assert recs["deletes_nothing"] is True
    assert _snapshot(root) == before  # nothing under the root changed
    assert outside.read_text() == "secret"


def test_scan_root_must_be_configured(make_ops_client, ops_env, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ops_env(AUTOPACK_STORAGE_ROOTS=str(root))
    c = make_ops_client()
    for bad in (str(tmp_path), str(root / ".." / ".."), "/etc"):
        r = c.post("/storage/scan", json={"root": bad}, headers=KEY)
        assert r.status_code == 422 and r.json()["reason_code"] == "storage_root_not_allowed", bad
    sub = root / "sub"
    sub.mkdir()
    assert c.post("/storage/scan", json={"root": str(sub)}, headers=KEY).status_code == 202


def test_scan_detail_unknown_and_not_ready(make_ops_client, ops_env, tmp_path: Path) -> None:
    c = make_ops_client()
    r = c.get("/storage/scans/nope", headers=KEY)
    assert r.status_code == 404 and r.json()["reason_code"] == "storage_scan_not_found"
    r = c.post("/storage/patterns/analyze", params={"scan_id": "nope"})
    assert r.status_code == 404
    assert c.post("/storage/patterns/analyze").json() == []  # no completed scan yet
    from ridgeline.autopack.api.ops_store import storage_scans

    ops = ops_of(c)

    async def insert() -> None:
        async with ops.db.begin() as conn:
            await conn.execute(
                storage_scans.insert().values(
                    id="s1", root="/x", status="running", created_at=ops.now(), summary={}
                )
            )

    call(c, insert)
    r = c.post("/storage/scans/s1/approve", headers=KEY)
    assert r.status_code == 409 and r.json()["reason_code"] == "storage_scan_not_ready"


def test_steam_games_from_real_format_files(make_ops_client, ops_env, tmp_path: Path) -> None:
    shutil.copytree(DATA / "steam", tmp_path / "steam")
    root, lib2 = tmp_path / "steam" / "root", tmp_path / "steam" / "library2"
    vdf_file = root / "steamapps" / "libraryfolders.vdf"
    text = vdf_file.read_text().replace("__ROOT__", str(root).replace("\\", "\\\\"))
    text = text.replace("__LIBRARY2__", str(lib2)).replace("__MISSING__", str(tmp_path / "gone"))
    vdf_file.write_text(text)
    ops_env(AUTOPACK_STEAM_ROOT=str(root))
    c = make_ops_client()
    body = c.get("/storage/steam/games").json()
    assert body["steam_available"] is True
    assert [g["name"] for g in body["games"]] == ["Dota 2", "Portal 2", "Team Fortress 2"]
    dota = body["games"][0]
    assert dota["app_id"] == "570" and dota["size_on_disk_bytes"] == 35791394816 and dota["installed"] is True
    assert dota["last_updated"].startswith("2023-11-14")
    assert body["games"][2]["installed"] is False
    assert body["total_size_bytes"] == 35791394816 + 13153271543
    assert [lib["available"] for lib in body["libraries"]] == [True, True, False]
    assert body["libraries"][1]["label"] == "Games SSD"
    assert any("appmanifest_999.acf" in e for e in body["errors"])
    big = c.get("/storage/steam/games", params={"min_size_gb": 20}).json()
    assert [g["app_id"] for g in big["games"]] == ["570"]


def test_steam_not_configured(make_ops_client) -> None:
    body = make_ops_client().get("/storage/steam/games").json()
    assert body["steam_available"] is False and body["games"] == []


def test_scan_left_running_by_a_dead_process_is_failed_at_start_up(make_ops_client) -> None:
    from datetime import UTC, datetime

    from ridgeline.autopack.api.ops_store import storage_scans
    from ridgeline.platform.jobs import jobs_table
    from tests.autopack.ops.conftest import close

    c = make_ops_client()
    ops = ops_of(c)
    now = datetime.now(UTC)

    async def insert() -> None:
        async with ops.db.begin() as conn:
            await conn.execute(
                jobs_table.insert().values(
                    id="j1",
                    family="autopack",
                    kind="storage_scan",
                    status="RUNNING",
                    params={},
                    created_at=now,
                )
            )
            await conn.execute(
                storage_scans.insert().values(
                    id="s1", root="/x", status="running", job_id="j1", created_at=now, summary={}
                )
            )

    call(c, insert)
    close(c)
    c2 = make_ops_client()  # the platform marks j1 FAILED at start-up; the scan follows it
    d = c2.get("/storage/scans/s1", headers=KEY).json()
    assert d["status"] == "failed" and d["error"] == "the scan's job did not finish"
