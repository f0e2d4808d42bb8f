"""Registry slice over HTTP: runs, life-cycle, SHA-256 verify, aliases, compare; RFC 7807 errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytestmark = pytest.mark.db


def _run(c: Any, **body: Any) -> dict[str, Any]:
    r = c.post("/retail/registry/runs", json={"model_type": "seasonal_naive", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_run_life_cycle_filters_and_sorting(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert c.get("/retail/registry/runs").json() == {"runs": [], "total": 0, "page": 1, "page_size": 20}
    a = _run(c, store_id=2, product_id=1, model_config={"season_length": 7})
    b = _run(c, model_type="lightgbm", store_id=1, product_id=1)
    assert a["status"] == "pending" and a["metrics"] is None
    listed = c.get("/retail/registry/runs").json()
    assert [r["run_id"] for r in listed["runs"]] == [b["run_id"], a["run_id"]]  # created_at desc
    by_store = c.get("/retail/registry/runs", params={"sort_by": "store_id", "sort_order": "asc"}).json()
    assert [r["store_id"] for r in by_store["runs"]] == [1, 2]
    fallback = c.get("/retail/registry/runs", params={"sort_by": "drop table", "sort_order": "asc"}).json()
    assert [r["run_id"] for r in fallback["runs"]] == [b["run_id"], a["run_id"]]
    only = c.get("/retail/registry/runs", params={"model_type": "lightgbm"}).json()
    assert only["total"] == 1 and only["runs"][0]["run_id"] == b["run_id"]
    page2 = c.get("/retail/registry/runs", params={"page": 2, "page_size": 1}).json()
    assert page2["total"] == 2 and page2["runs"][0]["run_id"] == a["run_id"]
    assert c.get("/retail/registry/runs", params={"page": 0}).status_code in (400, 422)

    rid = a["run_id"]
    r = c.patch(f"/retail/registry/runs/{rid}", json={"status": "running"})
    assert r.status_code == 200 and r.json()["status"] == "running"
    r = c.patch(
        f"/retail/registry/runs/{rid}", json={"status": "success", "metrics": {"wape": 0.2, "mae": 10}}
    )
    body = r.json()
    assert body["status"] == "success" and body["metrics"]["wape"] == 0.2 and body["completed_at"]
    r = c.patch(f"/retail/registry/runs/{rid}", json={"status": "running"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason_code"] == "invalid_status_transition" and r.json()["allowed"] == ["archived"]
    missing = c.get("/retail/registry/runs/nope")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert c.patch("/retail/registry/runs/nope", json={"status": "failed"}).status_code == 404
    assert c.post("/retail/registry/runs", json={"model_type": "prophet"}).status_code == 422


def test_verify_recomputes_sha256(make_client, settings) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.context import AppContext
    from ridgeline.retail.api import registry

    c = make_client()
    run = _run(c)
    assert c.get(f"/retail/registry/runs/{run['run_id']}/verify").status_code == 400  # no artifact yet
    ctx = AppContext(settings)

    async def put() -> tuple[str, str]:
        try:
            return await registry.store_artifact(ctx, run["run_id"], "model.bin", b"model bytes")
        finally:
            await ctx.db.dispose()

    uri, sha = asyncio.run(put())
    ok = c.get(f"/retail/registry/runs/{run['run_id']}/verify").json()
    assert ok == {
        "run_id": run["run_id"],
        "artifact_uri": uri,
        "expected_hash": sha,
        "actual_hash": sha,
        "verified": True,
        "reason": "ok",
    }
    path = settings.data_dir / "artifacts" / "retail-models" / run["run_id"] / "model.bin"
    path.write_bytes(b"tampered")
    bad = c.get(f"/retail/registry/runs/{run['run_id']}/verify").json()
    assert bad["verified"] is False and bad["reason"] == "hash_mismatch"
    path.unlink()
    assert c.get(f"/retail/registry/runs/{run['run_id']}/verify").json()["reason"] == "missing_file"
    other = _run(c)
    c.patch(f"/retail/registry/runs/{other['run_id']}", json={"artifact_uri": "s3://bucket/x"})
    assert c.get(f"/retail/registry/runs/{other['run_id']}/verify").status_code == 400
    assert c.get("/retail/registry/runs/nope/verify").status_code == 404


def test_aliases_only_on_successful_runs_and_compare(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    a = _run(c, model_config={"season_length": 7})
    b = _run(c, model_config={"season_length": 14})
    r = c.post("/retail/registry/aliases", json={"alias_name": "prod", "run_id": a["run_id"]})
    assert r.status_code == 400 and r.json()["reason_code"] == "run_not_successful"
    assert (
        c.post("/retail/registry/aliases", json={"alias_name": "prod", "run_id": "nope"}).status_code == 404
    )
    for run, wape in ((a, 0.3), (b, 0.25)):
        c.patch(
            f"/retail/registry/runs/{run['run_id']}", json={"status": "success", "metrics": {"wape": wape}}
        )
    r = c.post("/retail/registry/aliases", json={"alias_name": "prod", "run_id": a["run_id"]})
    assert r.status_code == 201 and r.json()["run_id"] == a["run_id"]
    r = c.post(
        "/retail/registry/aliases", json={"alias_name": "prod", "run_id": b["run_id"], "description": "x"}
    )
    assert r.status_code == 200 and r.json()["run_id"] == b["run_id"]
    assert c.get("/retail/registry/aliases").json()["total"] == 1
    assert c.get("/retail/registry/aliases/prod").json()["description"] == "x"
    assert c.get("/retail/registry/aliases/nope").status_code == 404
    cmp = c.get(f"/retail/registry/compare/{a['run_id']}/{b['run_id']}").json()
    assert cmp["config_diff"] == {"model_config.season_length": {"a": 7, "b": 14, "delta": 7.0}}
    assert cmp["metrics_diff"]["wape"]["delta"] == pytest.approx(-0.05)
    assert cmp["same_model_type"] is True
    assert c.get(f"/retail/registry/compare/{a['run_id']}/nope").status_code == 404
    assert c.delete("/retail/registry/aliases/prod").status_code == 204
    assert c.delete("/retail/registry/aliases/prod").status_code == 404
