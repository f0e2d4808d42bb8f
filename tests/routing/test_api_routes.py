"""Contract tests of the routing endpoints on the sample region: shapes, status codes, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ridgeline.routing.api.service import RoutingService
from tests.routing.api_support import (  # noqa: F401
    SAMPLE_A,
    SAMPLE_B,
    SAMPLE_C,
    client,
    detail,
    ndjson,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db
TOTAL_KEYS = {
    "duration_s",
    "distance_m",
    "money_eur",
    "co2e_kg",
    "energy_kwh",
    "fuel_l",
    "toll_eur",
    "ascent_m",
    "descent_m",
    "terrain_coverage",
}


def _check_route(r: dict[str, Any]) -> None:
    assert TOTAL_KEYS <= set(r["totals"])
    assert set(r["objectives"]) == {"duration", "money", "co2e", "distance"}
    geom = r["geometry"]
    assert geom["type"] == "LineString" and len(geom["coordinates"]) == r["node_count"] >= 2
    assert all(len(p) == 2 for p in geom["coordinates"])
    prof = r["elevation_profile"]
    assert prof[0][0] == 0 and prof[-1][0] == pytest.approx(r["totals"]["distance_m"], rel=1e-3)
    assert r["legs"] and r["totals"]["duration_s"] > 0


def test_system_endpoints(client: Any) -> None:  # noqa: F811
    r = client.get("/routing/")
    assert r.status_code == 200
    body = r.json()
    assert body["asset"]["loaded"] and body["dem_version"] == "sample_synthetic_v1"
    assert client.get("/routing/health").json()["status"] == "ok"
    assert b"ridgeline_requests_total" in client.get("/routing/metrics").content
    doc = client.get("/openapi.json").json()
    for path in (
        "/routing/route",
        "/routing/pareto",
        "/routing/pareto/stream",
        "/routing/api/pareto/stream",
        "/routing/duty/chain",
    ):
        assert "post" in doc["paths"][path], path
    body = doc["paths"]["/routing/route"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["examples"][0]["vehicle_id"] == "hgv_rigid_18t"
    assert "description" in doc["components"]["schemas"]["RouteRequest"]["properties"]["risk_aversion"]


def test_route(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "hgv_rigid_18t"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["run_id"]) == 32 and body["vehicle_id"] == "hgv_rigid_18t"
    _check_route(body["route"])
    # The route starts and ends near the requested points.
    start, end = body["route"]["geometry"]["coordinates"][0], body["route"]["geometry"]["coordinates"][-1]
    assert abs(start[0] - SAMPLE_A["lon"]) < 0.003 and abs(end[1] - SAMPLE_B["lat"]) < 0.003


def test_route_with_waypoint_has_legs_that_add_up(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "waypoints": [SAMPLE_C]}
    )
    assert r.status_code == 200, r.text
    route = r.json()["route"]
    assert [leg["to_stop"] for leg in route["legs"]] == ["waypoint_1", "destination"]
    for k in ("duration_s", "distance_m", "co2e_kg", "money_eur"):
        assert sum(leg["totals"][k] for leg in route["legs"]) == pytest.approx(route["totals"][k], rel=1e-6)


def test_weights_change_the_route(client: Any) -> None:  # noqa: F811
    fast = client.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "weights": {"duration": 1}}
    ).json()
    short = client.post(
        "/routing/route",
        json={"origin": SAMPLE_A, "destination": SAMPLE_B, "weights": {"duration": 0, "distance": 1}},
    ).json()
    assert fast["route"]["totals"]["duration_s"] <= short["route"]["totals"]["duration_s"] + 1e-6
    assert short["route"]["totals"]["distance_m"] <= fast["route"]["totals"]["distance_m"] + 1e-6


def test_route_errors(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "nope"}
    )
    assert r.status_code == 404 and detail(r)["reason_code"] == "vehicle_not_found"
    r = client.post("/routing/route", json={"origin": {"lat": 48.85, "lon": 2.35}, "destination": SAMPLE_B})
    d = detail(r)
    assert (
        r.status_code == 422 and d["reason_code"] == "origin_out_of_coverage" and d["snap_distance_m"] > 2000
    )
    r = client.post("/routing/route", json={"origin": SAMPLE_A, "destination": {"lat": 10.0, "lon": 10.0}})
    assert detail(r)["reason_code"] == "destination_out_of_coverage"
    r = client.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_A})
    assert r.status_code == 422 and detail(r)["reason_code"] == "origin_destination_identical"
    r = client.post(
        "/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B, "weights": {"duration": 0}}
    )
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"
    for bad in (
        {"origin": SAMPLE_A},
        {"origin": {"lat": 91, "lon": 0}, "destination": SAMPLE_B},
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "weights": {"duration": -1}},
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "surprise": 1},
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "weather": {"condition": "hail"}},
        [1, 2, 3],
    ):
        r = client.post("/routing/route", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert detail(r)["reason_code"] == "invalid_request"
    r = client.post("/routing/route", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and detail(r)["reason_code"] == "invalid_request"


def test_restricted_roads_are_avoided_by_hgvs(client: Any) -> None:  # noqa: F811
    from ridgeline.routing.energy import CostParams, arc_costs
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    svc = client.app.state["ctx"].service(RoutingService)
    a = svc.planner.assets
    blocked = ~arc_costs(a.arcs, BUILTIN_VEHICLES["hgv_artic_44t"], CostParams()).allowed
    assert blocked.any()
    # A trip through the HGV-free zone: the van may cut through, the 44 t truck never does.
    o = {"lat": float(a.node_lat[2 * 24 + 2]), "lon": float(a.node_lon[2 * 24 + 2])}
    d = {"lat": float(a.node_lat[4 * 24 + 8]), "lon": float(a.node_lon[4 * 24 + 8])}
    for vehicle in ("van_diesel", "hgv_artic_44t"):
        r = client.post(
            "/routing/route",
            json={
                "origin": o,
                "destination": d,
                "vehicle_id": vehicle,
                "weights": {"distance": 1, "duration": 0},
            },
        )
        assert r.status_code == 200, r.text
    assert svc.planner is not None
    p = svc.planner.priced(BUILTIN_VEHICLES["hgv_artic_44t"], CostParams())
    assert not np.isin(np.flatnonzero(blocked), p.arc_index).any()


def test_pareto_front_is_nondominated_and_diverse(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/pareto",
        json={
            "origin": SAMPLE_A,
            "destination": SAMPLE_B,
            "objectives": ["duration", "co2e"],
            "max_alternatives": 4,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    routes = body["routes"]
    assert 1 <= len(routes) <= 4 and body["front_size"] >= len(routes)
    for route in routes:
        _check_route(route)
    pts = np.array([[x["objectives"]["duration"], x["objectives"]["co2e"]] for x in routes])
    for i, p in enumerate(pts):
        others = np.delete(pts, i, axis=0)
        assert not np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1))
    if body["front_size"] >= 2:
        # Both extremes of the front are among the alternatives.
        assert len({x["route_key"] for x in routes}) == len(routes) >= 2


def test_pareto_epsilon_bounds(client: Any) -> None:  # noqa: F811
    base = {"origin": SAMPLE_A, "destination": SAMPLE_B, "objectives": ["duration", "co2e"]}
    front = client.post("/routing/pareto", json={**base, "max_alternatives": 50}).json()["routes"]
    bound = float(np.median([x["objectives"]["duration"] for x in front]))
    r = client.post("/routing/pareto", json={**base, "epsilon": {"duration": bound}, "max_alternatives": 50})
    assert r.status_code == 200, r.text
    assert all(x["objectives"]["duration"] <= bound + 1e-6 for x in r.json()["routes"])
    r = client.post("/routing/pareto", json={**base, "epsilon": {"duration": 1.0}})
    d = detail(r)
    assert r.status_code == 422 and d["reason_code"] == "epsilon_infeasible"
    r = client.post("/routing/pareto", json={**base, "epsilon": {"weight": 1.0}})
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"
    r = client.post("/routing/pareto", json={**base, "pareto_method": "epsilon", "approx_epsilon": 0.1})
    assert r.status_code == 200 and r.json()["epsilon_guarantee"] == pytest.approx(0.1)
    r = client.post("/routing/pareto", json={**base, "objectives": ["duration"]})
    assert r.status_code == 422


def test_stream_matches_non_stream(client: Any) -> None:  # noqa: F811
    req = {
        "origin": SAMPLE_A,
        "destination": SAMPLE_C,
        "objectives": ["duration", "money", "co2e"],
        "max_alternatives": 3,
    }
    plain = client.post("/routing/pareto", json=req).json()
    for path in ("/routing/pareto/stream", "/routing/api/pareto/stream"):
        r = client.post(path, json=req)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        events = ndjson(r.text)
        assert events[0]["type"] == "meta" and events[-1]["type"] == "done"
        routes = [e["route"] for e in events if e["type"] == "route"]
        assert len(routes) == plain["front_size"] == events[-1]["front_size"]
        assert sorted(events[-1]["selected_route_keys"]) == sorted(x["route_key"] for x in plain["routes"])
        streamed = {x["route_key"]: x for x in routes}
        for x in plain["routes"]:
            assert streamed[x["route_key"]]["totals"] == x["totals"]
        assert client.get(f"/routing/runs/{events[-1]['run_id']}/manifest").status_code == 200


def test_stream_refuses_what_pareto_refuses_before_opening(client: Any) -> None:  # noqa: F811
    """An unknown vehicle or a point outside the network is an HTTP error on the streams exactly as on
    /pareto (same status, same reason code), not a 200 with a fatal event."""
    base = {"origin": SAMPLE_A, "destination": SAMPLE_B}
    for body, status, code in (
        ({**base, "vehicle_id": "nope"}, 404, "vehicle_not_found"),
        ({"origin": {"lat": 0.0, "lon": 0.0}, "destination": SAMPLE_B}, 422, "origin_out_of_coverage"),
        ({**base, "destination": {"lat": 0.0, "lon": 0.0}}, 422, "destination_out_of_coverage"),
    ):
        for path in ("/routing/pareto", "/routing/pareto/stream", "/routing/api/pareto/stream"):
            r = client.post(path, json=body)
            assert (r.status_code, detail(r)["reason_code"]) == (status, code), (path, r.text)


def test_stream_fatal_events(client: Any) -> None:  # noqa: F811
    """What only the search finds out arrives as one fatal event ending the stream, with no run id
    announced (the meta event carries none; nothing was recorded)."""
    base = {"origin": SAMPLE_A, "destination": SAMPLE_B}
    body = {**base, "objectives": ["duration", "co2e"], "epsilon": {"duration": 1.0}}
    events = ndjson(client.post("/routing/pareto/stream", json=body).text)
    fatal = [e for e in events if e["type"] == "fatal"]
    assert len(fatal) == 1 and fatal[0]["reason_code"] == "epsilon_infeasible", events
    assert set(fatal[0]) >= {"type", "reason_code", "message", "warnings"}
    assert events[-1] == fatal[0]
    assert events[0]["type"] == "meta" and "run_id" not in events[0]


def test_departure_duty_and_scenarios(client: Any) -> None:  # noqa: F811
    r = client.post(
        "/routing/departure/optimize",
        json={
            "origin": SAMPLE_A,
            "destination": SAMPLE_B,
            "window_start_utc": "2026-03-02T05:00:00Z",
            "window_end_utc": "2026-03-02T09:00:00Z",
            "step_minutes": 60,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["departures"]) == 5 and set(body["best"]) == {"duration", "money", "co2e", "distance"}
    durations = [d["duration_s"] for d in body["departures"]]
    assert (
        body["best"]["duration"]["value"] == pytest.approx(min(durations), rel=1e-3)
        or body["best"]["duration"]["value"] <= min(durations) * 1.5
    )
    assert max(durations) > min(durations)  # the morning peak slows the trip
    r = client.post(
        "/routing/departure/optimize",
        json={
            "origin": SAMPLE_A,
            "destination": SAMPLE_B,
            "window_start_utc": "2026-03-02T09:00:00Z",
            "window_end_utc": "2026-03-02T05:00:00Z",
        },
    )
    assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request"

    stops = [
        {**SAMPLE_A, "label": "depot", "service_minutes": 30},
        {**SAMPLE_B, "service_minutes": 20},
        {**SAMPLE_C, "service_minutes": 10},
        {**SAMPLE_A, "label": "depot"},
    ]
    r = client.post(
        "/routing/duty/chain",
        json={
            "stops": stops,
            "start_time_utc": "2026-03-02T06:00:00Z",
            "max_continuous_driving_h": 0.1,
            "break_minutes": 45,
        },
    )
    assert r.status_code == 200, r.text
    duty = r.json()
    assert len(duty["legs"]) == 3 and duty["legs"][0]["from_stop"] == "depot"
    assert duty["totals"]["breaks"] >= 1 and duty["totals"]["service_s"] == pytest.approx(3600)
    assert duty["totals"]["elapsed_s"] == pytest.approx(
        duty["totals"]["driving_s"]
        + duty["totals"]["break_s"]
        + duty["totals"]["service_s"]
        + duty["totals"]["rest_s"]
    )

    r = client.post(
        "/routing/scenario/compare",
        json={
            "baseline": {"origin": SAMPLE_A, "destination": SAMPLE_B},
            "variants": [
                {"name": "snow", "weather": {"condition": "snow"}},
                {"name": "incidents", "incident_simulation": {"seed": 3, "count": 5, "speed_factor": 0.2}},
                {"name": "ev", "vehicle_id": "van_electric"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    sc = r.json()
    snow = sc["variants"][0]
    assert snow["deltas"]["duration_s"]["absolute"] > 0
    assert len(sc["variants"][1]["incidents"]) == 5
    assert sc["variants"][2]["deltas"]["co2e_kg"]["absolute"] < 0
    m = client.get(f"/routing/runs/{sc['run_id']}/scenario-manifest").json()
    assert [v["name"] for v in m["scenario"]["variants"]] == ["snow", "incidents", "ev"]


def test_incidents_are_listed_and_seeded(client: Any) -> None:  # noqa: F811
    req = {"origin": SAMPLE_A, "destination": SAMPLE_B, "incident_simulation": {"seed": 11, "count": 4}}
    a = client.post("/routing/route", json=req).json()
    b = client.post("/routing/route", json=req).json()
    assert len(a["incidents"]) == 4 and a["incidents"] == b["incidents"]
    c = client.post("/routing/route", json={**req, "incident_simulation": {"seed": 12, "count": 4}}).json()
    assert c["incidents"] != a["incidents"]


def test_cache(client: Any) -> None:  # noqa: F811
    assert client.delete("/routing/cache").status_code == 200
    req = {"origin": SAMPLE_A, "destination": SAMPLE_C}
    first = client.post("/routing/route", json=req).json()
    second = client.post("/routing/route", json=req).json()
    assert first["route"] == second["route"] and first["run_id"] != second["run_id"]
    stats = client.get("/routing/cache/stats").json()
    assert stats["hits"] == 1 and stats["misses"] == 1 and stats["entries"] == 1
    assert client.delete("/routing/cache").json() == {"cleared": 1}
    assert client.get("/routing/cache/stats").json()["entries"] == 0


def test_no_assets_gives_reason_coded_503(routing_client: Any, tmp_path: Any) -> None:  # noqa: F811
    c = routing_client(tmp_path / "does-not-exist")
    r = c.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    assert r.status_code == 503 and detail(r)["reason_code"] == "routing_graph_unavailable"
    assert c.get("/routing/health").status_code == 503
    r = c.post("/routing/pareto/stream", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    assert r.status_code == 503 and detail(r)["reason_code"] == "routing_graph_unavailable"


def test_tampered_assets_refused_by_service(routing_client: Any, sample_assets: Any, tmp_path: Any) -> None:  # noqa: F811
    import shutil

    d = tmp_path / "tampered"
    shutil.copytree(sample_assets, d)
    data = bytearray((d / "terrain.npz").read_bytes())
    data[-100] ^= 0xFF
    (d / "terrain.npz").write_bytes(bytes(data))
    c = routing_client(d)
    r = c.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B})
    dd = detail(r)
    assert (
        r.status_code == 503
        and dd["reason_code"] == "asset_hash_mismatch"
        and dd["terrain_dem_version"] == "sample_synthetic_v1"
    )
