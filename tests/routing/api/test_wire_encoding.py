"""Routes' coordinates and profiles are encoded once (``convert.pre_encoded``): the answer, the
stored run and the signed manifest's ``results_sha256`` are those of the plain results."""

from __future__ import annotations

from typing import Any

import msgspec

from ridgeline.platform.hashing import canonical_sha256
from ridgeline.routing.api.service import RoutingService
from tests.routing.api_support import (  # noqa: F401 (fixtures)
    SAMPLE_A,
    SAMPLE_B,
    client,
    routing_client,
    routing_key,
    sample_assets,
)


def _check(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    svc = client.app.state["ctx"].service(RoutingService)
    row = client.blocking_portal.call(svc.store.get_run, answer["run_id"])
    results = row["results"]  # as stored: plain JSON
    manifest = client.get(f"/routing/runs/{answer['run_id']}/manifest").json()
    assert manifest["results_sha256"] == canonical_sha256(results)
    plain = msgspec.json.decode(msgspec.json.encode(results))
    assert canonical_sha256(plain) == manifest["results_sha256"]
    return {"answer": answer, "results": results}


def test_route_answer_and_record_agree(client: Any) -> None:  # noqa: F811
    out = _check(client, "/routing/route", {"origin": SAMPLE_A, "destination": SAMPLE_B})
    route, stored = out["answer"]["route"], out["results"]["routes"][0]
    assert route == stored
    coords = route["geometry"]["coordinates"]
    assert len(coords) == route["node_count"] > 2
    assert all(isinstance(x, float) for pt in coords for x in pt)
    assert route["elevation_profile"][0][0] == 0.0


def test_pareto_answer_and_record_agree(client: Any) -> None:  # noqa: F811
    body = {"origin": SAMPLE_A, "destination": SAMPLE_B, "objectives": ["duration", "money", "co2e"]}
    out = _check(client, "/routing/pareto", body)
    assert out["answer"]["routes"] == out["results"]["routes"]
    assert all(r["geometry"]["coordinates"] for r in out["answer"]["routes"])


def test_route_coordinates_json_is_the_plain_encoding(sample_assets: Any, routing_key: Any) -> None:  # noqa: F811
    """``/route`` takes its coordinates' JSON from ``Planner.coordinates_json`` (``plan_route(...,
    encoded=True)``): the encoded detail is byte-for-byte that of the plain lists, one leg or
    several (a waypoint)."""
    from ridgeline.platform.signing import Signer
    from ridgeline.routing.api import convert, schemas
    from ridgeline.routing.assets import load_assets
    from ridgeline.routing.planner import Planner
    from ridgeline.routing.vehicles import BUILTIN_VEHICLES

    signer = Signer.load_or_create(routing_key.parent.parent, routing_key)
    planner = Planner(load_assets(sample_assets, [signer.public_key_b64()]))
    bodies = [
        {"origin": SAMPLE_A, "destination": SAMPLE_B},
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "waypoints": [{"lat": 45.930, "lon": 6.140}]},
    ]
    for body in bodies:
        req = msgspec.convert(body, schemas.RouteRequest)
        q = convert.route_query(req, BUILTIN_VEHICLES[req.vehicle_id])
        plain = planner.plan_route(q).route
        encoded = planner.plan_route(q, encoded=True).route
        assert encoded.coordinates_json is not None and plain.coordinates_json is None
        assert msgspec.json.encode(convert.pre_encoded(convert.detail(encoded, 0, "route"))) == (
            msgspec.json.encode(convert.pre_encoded(convert.detail(plain, 0, "route")))
        )
        assert len(encoded.legs) == len(body.get("waypoints", [])) + 1
