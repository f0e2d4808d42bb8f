"""Persisted state: custom vehicles and experiments (survive a restart), batches, CSV import, oracle."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ridgeline.routing.api.service import RoutingService
from tests.routing.api_support import (  # noqa: F401
    SAMPLE_A,
    SAMPLE_B,
    SAMPLE_C,
    client,
    detail,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db

REEFER = {
    "vehicle_id": "reefer_12t",
    "name": "Refrigerated rigid 12 t",
    "energy_carrier": "diesel",
    "empty_mass_kg": 6500,
    "payload_kg": 4000,
    "max_payload_kg": 5500,
    "frontal_area_m2": 7.5,
    "drag_coefficient": 0.62,
    "rolling_resistance": 0.0068,
    "drivetrain_efficiency": 0.35,
    "auxiliary_power_kw": 4.5,
    "max_speed_kmh": 90,
    "height_m": 3.7,
    "toll_class": 2,
    "is_hgv": True,
}


def test_custom_vehicles_crud_and_restart(routing_client: Any) -> None:  # noqa: F811
    c = routing_client()
    builtin = c.get("/routing/vehicles").json()
    assert builtin["count"] == 5 and {v["vehicle_id"] for v in builtin["vehicles"]} >= {
        "van_diesel",
        "hgv_rigid_18t",
        "hgv_artic_44t",
        "van_electric",
        "hgv_electric_40t",
    }
    r = c.post("/routing/vehicles/custom", json=REEFER)
    assert r.status_code == 201, r.text
    assert r.json()["gross_mass_kg"] == 10500
    assert c.post("/routing/vehicles/custom", json=REEFER).status_code == 409
    r = c.post("/routing/vehicles/custom", json={**REEFER, "vehicle_id": "van_diesel"})
    assert r.status_code == 409 and detail(r)["reason_code"] == "vehicle_exists"
    r = c.post("/routing/vehicles/custom", json={**REEFER, "vehicle_id": "bad2", "payload_kg": 9000})
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"
    r = c.post("/routing/vehicles/custom", json={**REEFER, "vehicle_id": "bad3", "drag_coefficient": "x"})
    assert r.status_code == 422
    r = c.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "reefer_12t"}
    )
    assert r.status_code == 200, r.text
    r = c.put("/routing/vehicles/custom/reefer_12t", json={**REEFER, "payload_kg": 5000})
    assert r.status_code == 200 and r.json()["payload_kg"] == 5000
    assert (
        c.put("/routing/vehicles/custom/van_diesel", json={**REEFER, "vehicle_id": "van_diesel"}).status_code
        == 409
    )
    assert c.put("/routing/vehicles/custom/ghost", json={**REEFER, "vehicle_id": "ghost"}).status_code == 404
    assert (
        c.put("/routing/vehicles/custom/reefer_12t", json={**REEFER, "vehicle_id": "other"}).status_code
        == 422
    )
    # Restart: a new app on the same database sees the vehicle.
    c2 = routing_client()
    listed = c2.get("/routing/vehicles/custom").json()["vehicles"]
    assert [v["vehicle_id"] for v in listed] == ["reefer_12t"] and listed[0]["payload_kg"] == 5000
    assert c2.delete("/routing/vehicles/custom/reefer_12t").json()["deleted"] is True
    r = c2.delete("/routing/vehicles/custom/reefer_12t")
    assert r.status_code == 404 and detail(r)["reason_code"] == "vehicle_not_found"
    assert c2.delete("/routing/vehicles/custom/van_diesel").status_code == 409
    assert routing_client().get("/routing/vehicles/custom").json()["count"] == 0


def test_vehicle_changes_reach_other_workers(routing_client: Any) -> None:  # noqa: F811
    # Two apps on one database stand for two worker processes.
    a, b = routing_client(), routing_client()
    trip = {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "reefer_12t"}
    assert b.post("/routing/route", json=trip).status_code == 404
    assert a.post("/routing/vehicles/custom", json=REEFER).status_code == 201
    first = b.post("/routing/route", json=trip)
    assert first.status_code == 200, first.text
    assert a.put("/routing/vehicles/custom/reefer_12t", json={**REEFER, "payload_kg": 0}).status_code == 200
    lighter = b.post("/routing/route", json=trip).json()["route"]["totals"]
    assert lighter["energy_kwh"] < first.json()["route"]["totals"]["energy_kwh"]
    events = b.post("/routing/pareto/stream", json={**trip, "objectives": ["duration", "co2e"]}).text
    assert '"type":"done"' in events
    assert a.delete("/routing/vehicles/custom/reefer_12t").status_code == 200
    r = b.post("/routing/route", json=trip)
    assert r.status_code == 404 and detail(r)["reason_code"] == "vehicle_not_found"


def test_experiments_crud_compare_and_restart(routing_client: Any) -> None:  # noqa: F811
    c = routing_client()
    body = {
        "name": "van vs truck",
        "description": "same trip, two vehicles",
        "items": [
            {"label": "van", "kind": "route", "request": {"origin": SAMPLE_A, "destination": SAMPLE_B}},
            {
                "label": "truck",
                "kind": "route",
                "request": {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "hgv_artic_44t"},
            },
            {
                "label": "front",
                "kind": "pareto",
                "request": {
                    "origin": SAMPLE_A,
                    "destination": SAMPLE_C,
                    "objectives": ["duration", "co2e"],
                    "max_alternatives": 2,
                },
            },
            {
                "label": "ghost",
                "kind": "route",
                "request": {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "ghost"},
            },
        ],
    }
    r = c.post("/routing/experiments", json=body)
    assert r.status_code == 201, r.text
    exp = r.json()
    eid = exp["experiment_id"]
    bad = {**body, "items": [{"label": "x", "kind": "route", "request": {"origin": SAMPLE_A}}]}
    r = c.post("/routing/experiments", json=bad)
    assert r.status_code == 422 and detail(r)["item_index"] == 0
    cmp = c.post(f"/routing/experiments/{eid}/compare").json()
    by = {x["label"]: x for x in cmp["results"]}
    assert by["van"]["status"] == "ok" and by["truck"]["status"] == "ok" and by["front"]["status"] == "ok"
    assert by["truck"]["best"]["co2e_kg"] > by["van"]["best"]["co2e_kg"]
    assert by["ghost"]["status"] == "error" and by["ghost"]["reason_code"] == "vehicle_not_found"
    r = c.put(f"/routing/experiments/{eid}", json={**body, "name": "renamed", "items": body["items"][:1]})
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    c2 = routing_client()
    assert c2.get(f"/routing/experiments/{eid}").json()["name"] == "renamed"
    assert [e["experiment_id"] for e in c2.get("/routing/experiments").json()["experiments"]] == [eid]
    assert c2.delete(f"/routing/experiments/{eid}").status_code == 200
    r = c2.get(f"/routing/experiments/{eid}")
    assert r.status_code == 404 and detail(r)["reason_code"] == "experiment_not_found"
    assert c2.post(f"/routing/experiments/{eid}/compare").status_code == 404


def test_batch_sync_and_job(client: Any) -> None:  # noqa: F811
    pairs = [
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "label": "a-b"},
        {"origin": SAMPLE_B, "destination": SAMPLE_C, "label": "b-c"},
        {"origin": {"lat": 0.0, "lon": 0.0}, "destination": SAMPLE_C, "label": "far"},
    ]
    r = client.post("/routing/batch/pareto", json={"pairs": pairs, "max_alternatives": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    status = [p["status"] for p in body["pairs"]]
    assert status == ["ok", "ok", "error"] and body["pairs"][2]["reason_code"] == "origin_out_of_coverage"
    assert all(1 <= len(p["route_keys"]) <= 2 for p in body["pairs"][:2])
    assert client.get(f"/routing/runs/{body['run_id']}/manifest").json()["kind"] == "batch_pareto"
    r = client.post("/routing/batch/pareto", json={"pairs": pairs[:2], "sync_limit": 0})
    assert r.status_code == 202, r.text
    job = r.json()
    for _ in range(200):
        st = client.get(f"/routing/batch/jobs/{job['job_id']}").json()
        if st["done"]:
            break
        time.sleep(0.05)
    assert st["status"] == "SUCCEEDED", st
    assert st["result"]["pairs_ok"] == 2 and st["run_id"] == job["run_id"]
    arts = client.get(f"/routing/runs/{job['run_id']}/artifacts").json()["artifacts"]
    assert len(arts) == 6
    assert client.get(f"/routing/batch/jobs/{'0' * 32}").status_code == 404
    r = client.post("/routing/batch/pareto", json={"pairs": pairs, "vehicle_id": "ghost"})
    assert r.status_code == 404 and detail(r)["reason_code"] == "vehicle_not_found"


def test_csv_import(client: Any) -> None:  # noqa: F811
    def runs() -> int:
        svc = client.app.state["ctx"].service(RoutingService)
        return int(client.blocking_portal.call(svc.count_runs))

    before = runs()
    bad = (
        "origin_lat,origin_lon,destination_lat,destination_lon,label,vehicle_id\n"
        f"{SAMPLE_A['lat']},{SAMPLE_A['lon']},{SAMPLE_B['lat']},{SAMPLE_B['lon']},ok,van_diesel\n"
        f"abc,{SAMPLE_A['lon']},{SAMPLE_B['lat']},{SAMPLE_B['lon']},bad-number,\n"
        f"{SAMPLE_A['lat']},{SAMPLE_A['lon']},{SAMPLE_B['lat']},{SAMPLE_B['lon']},bad-vehicle,ghost\n"
        f"{SAMPLE_A['lat']},{SAMPLE_A['lon']},95,{SAMPLE_B['lon']},out-of-range,\n"
        f"0.0,0.0,{SAMPLE_B['lat']},{SAMPLE_B['lon']},far,\n"
        "1,2,3\n"
    )
    r = client.post("/routing/batch/import/csv", content=bad.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    d = detail(r)
    assert d["reason_code"] == "csv_invalid_rows"
    assert sorted({e["line"] for e in d["errors"]}) == [3, 4, 5, 6, 7]
    assert {(e["line"], e["column"]) for e in d["errors"]} >= {
        (3, "origin_lat"),
        (4, "vehicle_id"),
        (5, "destination_lat"),
    }
    assert runs() == before  # nothing was run or stored
    r = client.post("/routing/batch/import/csv", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and detail(r)["errors"][0]["line"] == 1
    good = (
        "origin_lat,origin_lon,destination_lat,destination_lon,label\n"
        f"{SAMPLE_A['lat']},{SAMPLE_A['lon']},{SAMPLE_B['lat']},{SAMPLE_B['lon']},first\n"
        f"{SAMPLE_B['lat']},{SAMPLE_B['lon']},{SAMPLE_C['lat']},{SAMPLE_C['lon']},second\n"
    )
    r = client.post(
        "/routing/batch/import/csv?objectives=duration,money",
        content=good.encode(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == 2 and [p["label"] for p in body["pairs"]] == ["first", "second"]
    assert runs() == before + 1


def test_oracle_quality(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/oracle/quality/check",
        json={"pairs": 3, "seed": 5, "objectives": ["duration", "co2e"], "brute_force_nodes": 9},
    )
    assert r.status_code == 200, r.text
    res = r.json()
    assert (
        res["extremes_pass_rate"] == 1.0
        and res["epsilon_pass_rate"] == 1.0
        and res["brute_force_pass_rate"] == 1.0
    )
    for pair in res["details"]["pairs"]:
        assert pair["dijkstra_optima"] == pytest.approx(pair["front_minima"], rel=1e-6)
    client.post("/routing/oracle/quality/check", json={"pairs": 1, "seed": 6})
    dash = client.get("/routing/oracle/quality/dashboard").json()
    assert dash["count"] == 2 and dash["latest"]["pairs"] == 1
    text = client.get("/routing/oracle/quality/dashboard.csv").text.strip().splitlines()
    assert text[0].startswith("check_id,created_at") and len(text) == 3
    r = client.post("/routing/oracle/quality/check", json={"pairs": 0})
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"
