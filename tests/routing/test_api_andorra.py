"""The family served at the root (``--only routing``) on the real Andorra network (OSM + SRTM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.routing.api_support import (  # noqa: F401
    ANDORRA_A,
    ANDORRA_B,
    andorra_assets,
    detail,
    ndjson,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db


@pytest.fixture
def root_client(routing_client: Any, andorra_assets: Path) -> Any:  # noqa: F811
    return routing_client(andorra_assets, only="routing")


def test_root_mount_and_health(root_client: Any) -> None:
    body = root_client.get("/").json()
    assert body["service"] == "ridgeline-routing" and body["dem_version"] == "andorra_srtm3_v1"
    h = root_client.get("/health")
    assert h.status_code == 200 and h.json()["assets_loaded"] is True
    r = root_client.post("/route", json={"origin": ANDORRA_A, "destination": {"lat": 51.5, "lon": -0.12}})
    assert r.status_code == 422 and detail(r)["reason_code"] == "destination_out_of_coverage"


def test_mountain_route_and_terrain(root_client: Any) -> None:
    r = root_client.post(
        "/route", json={"origin": ANDORRA_A, "destination": ANDORRA_B, "vehicle_id": "hgv_rigid_18t"}
    )
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    t = route["totals"]
    # Andorra la Vella (~1,050 m) up the valley towards Canillo/Soldeu (~1,500-1,800 m).
    assert 5_000 < t["distance_m"] < 40_000
    assert t["ascent_m"] > 200 and t["terrain_coverage"] > 0.95
    elevations = [p[1] for p in route["elevation_profile"] if p[1] is not None]
    assert 900 < elevations[0] < 1300 and max(elevations) > elevations[0] + 200
    back = root_client.post(
        "/route", json={"origin": ANDORRA_B, "destination": ANDORRA_A, "vehicle_id": "hgv_rigid_18t"}
    ).json()["route"]
    # Uphill costs more fuel than downhill.
    assert t["fuel_l"] > back["totals"]["fuel_l"]
    ev_up = root_client.post(
        "/route", json={"origin": ANDORRA_A, "destination": ANDORRA_B, "vehicle_id": "van_electric"}
    ).json()["route"]
    ev_down = root_client.post(
        "/route", json={"origin": ANDORRA_B, "destination": ANDORRA_A, "vehicle_id": "van_electric"}
    ).json()["route"]
    assert ev_down["totals"]["energy_kwh"] < 0.6 * ev_up["totals"]["energy_kwh"]


def test_pareto_stream_equals_pareto(root_client: Any) -> None:
    req = {
        "origin": ANDORRA_A,
        "destination": ANDORRA_B,
        "objectives": ["duration", "co2e"],
        "max_alternatives": 4,
        "vehicle_id": "hgv_artic_44t",
    }
    plain = root_client.post("/pareto", json=req)
    assert plain.status_code == 200, plain.text
    p = plain.json()
    events = ndjson(root_client.post("/pareto/stream", json=req).text)
    assert events[0]["type"] == "meta" and events[-1]["type"] == "done"
    streamed = {e["route"]["route_key"] for e in events if e["type"] == "route"}
    assert len(streamed) == p["front_size"] == events[-1]["front_size"]
    assert sorted(events[-1]["selected_route_keys"]) == sorted(x["route_key"] for x in p["routes"])
    assert {x["route_key"] for x in p["routes"]} <= streamed


def test_oracle_on_andorra(root_client: Any) -> None:
    r = root_client.post(
        "/oracle/quality/check", json={"pairs": 2, "seed": 1, "objectives": ["duration", "co2e"]}
    )
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["asset_name"] == "andorra"
    assert (
        res["extremes_pass_rate"] == 1.0
        and res["epsilon_pass_rate"] == 1.0
        and res["brute_force_pass_rate"] == 1.0
    )
    # The brute-force checks ran on subgraphs with cycles whose fronts hold several paths (on trees
    # every front has one path and the check could not fail).
    subs = res["details"]["subgraphs"]
    assert len(subs) == 2 and all(
        s["qualified"] and s["cycle_rank"] > 0 and s["front_size"] > 1 for s in subs
    )


def test_duty_manifest_csv_and_report_carry_the_api_numbers(root_client: Any) -> None:
    """A 6-stop duty across the morning peak: each leg is priced at its own departure, and the signed
    manifest, results.csv and report.pdf carry exactly the numbers the API answered (the whole route's
    totals used to be the arcs re-priced at the last leg's time), and the report shows the schedule."""
    import csv
    import io

    from pypdf import PdfReader

    stops = [ANDORRA_A, ANDORRA_B, ANDORRA_A, ANDORRA_B, ANDORRA_A, ANDORRA_B]
    r = root_client.post(
        "/duty/chain",
        json={
            "stops": [{**s, "label": f"s{i}", "service_minutes": 20} for i, s in enumerate(stops)],
            "start_time_utc": "2026-03-03T05:30:00Z",
            "vehicle_id": "hgv_rigid_18t",
            "max_continuous_driving_h": 1.0,
            "break_minutes": 45,
        },
    )
    assert r.status_code == 200, r.text
    duty = r.json()
    totals = duty["totals"]
    legs = duty["legs"]
    whole = duty["routes"][0]["totals"]
    assert whole["money_eur"] == pytest.approx(sum(leg["totals"]["money_eur"] for leg in legs), abs=1e-4)
    assert whole["money_eur"] == pytest.approx(totals["money_eur"], abs=1e-4)
    assert whole["duration_s"] == pytest.approx(totals["driving_s"], abs=1e-3)
    assert totals["breaks"] >= 1
    run_id = duty["run_id"]
    manifest = root_client.get(f"/runs/{run_id}/manifest").json()
    assert manifest["totals"] == totals
    assert manifest["routes"][0]["money_eur"] == whole["money_eur"]
    assert manifest["routes"][0]["duration_s"] == whole["duration_s"]
    rows = list(csv.DictReader(io.StringIO(root_client.get(f"/runs/{run_id}/artifacts/results.csv").text)))
    assert float(rows[0]["money_eur"]) == pytest.approx(whole["money_eur"])
    assert rows[0]["vehicle_id"] == "hgv_rigid_18t"
    assert rows[0]["origin"] == f"{ANDORRA_A['lat']:.6f},{ANDORRA_A['lon']:.6f}"
    pdf = root_client.get(f"/runs/{run_id}/artifacts/report.pdf").content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Duty schedule" in text and "break" in text and f"{totals['money_eur']:.2f}" in text
