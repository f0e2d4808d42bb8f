"""Runs: manifests, signatures (verify, one-byte change fails), provenance and artifacts."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from ridgeline.platform.signing import verify
from tests.routing.api_support import (  # noqa: F401
    SAMPLE_A,
    SAMPLE_B,
    client,
    detail,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db


@pytest.fixture
def pareto_run(client: Any) -> str:  # noqa: F811
    r = client.post(
        "/routing/pareto",
        json={
            "origin": SAMPLE_A,
            "destination": SAMPLE_B,
            "objectives": ["duration", "co2e"],
            "max_alternatives": 3,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["run_id"]


def test_manifest_and_signatures_verify(client: Any, pareto_run: str) -> None:  # noqa: F811
    m = client.get(f"/routing/runs/{pareto_run}/manifest").json()
    assert (
        m["run_id"] == pareto_run
        and m["kind"] == "pareto"
        and m["asset"]["dem_version"] == "sample_synthetic_v1"
    )
    sig = client.get(f"/routing/runs/{pareto_run}/signature").json()
    assert sig["algorithm"] == "Ed25519"
    assert verify(sig["public_key_b64"], m, sig["signature"]).valid
    # A one-byte change of the manifest breaks the signature.
    raw = json.dumps(m, sort_keys=True)
    i = raw.index(pareto_run) + 3
    changed = json.loads(raw[:i] + ("0" if raw[i] != "0" else "1") + raw[i + 1 :])
    assert not verify(sig["public_key_b64"], changed, sig["signature"]).valid

    sm = client.get(f"/routing/runs/{pareto_run}/scenario-manifest").json()
    ssig = client.get(f"/routing/runs/{pareto_run}/scenario-signature").json()
    assert verify(ssig["public_key_b64"], sm, ssig["signature"]).valid
    assert sm["scenario"]["vehicle"]["vehicle_id"] == "van_diesel"
    prov = client.get(f"/routing/runs/{pareto_run}/provenance").json()
    assert prov["asset_manifest"]["dem_version"] == "sample_synthetic_v1" and prov["search"]["algorithm"]

    ok = client.post("/routing/verify/signature", json={"run_id": pareto_run}).json()
    assert ok["valid"] is True and ok["mismatched_fields"] == []
    ok = client.post("/routing/verify/signature", json={"manifest": m, "signature": sig["signature"]}).json()
    assert ok["valid"] is True
    tampered = {**m, "vehicle_id": "hgv_artic_44t"}
    bad = client.post("/routing/verify/signature", json={"run_id": pareto_run, "manifest": tampered}).json()
    assert bad["valid"] is False and bad["mismatched_fields"] == ["$.vehicle_id"]
    bad = client.post("/routing/verify/signature", json={"manifest": m, "signature": "not base64!"}).json()
    assert bad["valid"] is False and "base64" in bad["reason"]
    ok = client.post("/routing/verify/signature", json={"run_id": pareto_run, "kind": "scenario"}).json()
    assert ok["valid"] is True
    r = client.post("/routing/verify/signature", json={"manifest": m})
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"


def test_unknown_run(client: Any) -> None:  # noqa: F811
    for path in (
        "manifest",
        "scenario-manifest",
        "provenance",
        "signature",
        "scenario-signature",
        "artifacts",
        "artifacts/report.pdf",
    ):
        r = client.get(f"/routing/runs/{'0' * 32}/{path}")
        assert r.status_code == 404 and detail(r)["reason_code"] == "run_not_found", path
    r = client.post("/routing/verify/signature", json={"run_id": "f" * 32})
    assert r.status_code == 404


def test_artifacts(client: Any, pareto_run: str) -> None:  # noqa: F811
    from pypdf import PdfReader

    listing = client.get(f"/routing/runs/{pareto_run}/artifacts").json()
    names = [a["name"] for a in listing["artifacts"]]
    assert names == [
        "results.json",
        "results.csv",
        "metadata.json",
        "routes.geojson",
        "results_summary.csv",
        "report.pdf",
    ]
    # Absolute paths that answer as they are (under the /routing mount here).
    for a in listing["artifacts"]:
        assert a["url"] == f"/routing/runs/{pareto_run}/artifacts/{a['name']}"
    assert client.get(listing["artifacts"][1]["url"]).status_code == 200
    got = {n: client.get(f"/routing/runs/{pareto_run}/artifacts/{n}") for n in names}
    for a in listing["artifacts"]:
        import hashlib

        assert hashlib.sha256(got[a["name"]].content).hexdigest() == a["sha256"]
    results = got["results.json"].json()
    n = len(results["routes"])
    assert 1 <= n <= 3
    geo = got["routes.geojson"].json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == n
    for f in geo["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "LineString"
        coords = f["geometry"]["coordinates"]
        assert len(coords) >= 2 and all(
            len(c) == 2 and -180 <= c[0] <= 180 and -90 <= c[1] <= 90 for c in coords
        )
        assert isinstance(f["properties"], dict)
    rows = list(csv.DictReader(io.StringIO(got["results.csv"].text)))
    assert len(rows) == n and float(rows[0]["duration_s"]) > 0
    summary = list(csv.DictReader(io.StringIO(got["results_summary.csv"].text)))
    assert {r["metric"] for r in summary} >= {"duration_s", "co2e_kg"} and all(
        int(r["count"]) == n for r in summary
    )
    meta = got["metadata.json"].json()
    assert (
        meta["manifest"]["run_id"] == pareto_run
        and verify(client.app.state["ctx"].signer.public_key_b64(), meta["manifest"], meta["signature"]).valid
    )
    pdf = got["report.pdf"]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Route summary" in text and pareto_run in text and "Elevation profiles" in text
    assert sum(len(page.images) for page in reader.pages) >= 3  # map, profiles, trade-off chart
    r = client.get(f"/routing/runs/{pareto_run}/artifacts/secrets.txt")
    assert r.status_code == 404 and detail(r)["reason_code"] == "artifact_not_found"
    r = client.get(f"/routing/runs/{pareto_run}/artifacts/..%2F..%2Fkeys")
    assert r.status_code == 404


def test_artifact_download_is_verified_cacheable_and_answers_head(client: Any, pareto_run: str) -> None:  # noqa: F811
    url = f"/routing/runs/{pareto_run}/artifacts/results.csv"
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    etag = r.headers["etag"]
    assert etag == f'"{r.headers["x-content-sha256"]}"'
    assert r.headers["content-disposition"] == f'attachment; filename="{pareto_run}-results.csv"'
    h = client.head(url)
    assert h.status_code == 200 and h.content == b"" and h.headers["etag"] == etag
    n = client.get(url, headers={"If-None-Match": etag})
    assert n.status_code == 304 and n.content == b""
    geo = client.get(f"/routing/runs/{pareto_run}/artifacts/routes.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")

    ctx = client.app.state["ctx"]
    art = client.blocking_portal.call(ctx.artifacts.get, "routing", pareto_run, "results.csv")
    ctx.artifacts.path_of(art).write_bytes(r.content + b"tampered\n")
    t = client.get(url)
    assert t.status_code == 409 and detail(t)["reason_code"] == "artifact_integrity_failed"
