"""Guards of the routing HTTP layer, each tested so that removing the guard fails the test (status
AND reason code asserted, never "200 or 422")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.routing.api_support import (  # noqa: F401
    SAMPLE_A,
    SAMPLE_B,
    SAMPLE_C,
    _signer,
    client,
    detail,
    ndjson,
    routing_client,
    routing_key,
    sample_assets,
)

pytestmark = pytest.mark.db

# The hole in the DEM of ``holey_assets``: a ~500 m square around SAMPLE_B with no elevation data.
HOLE = {"lon": SAMPLE_B["lon"], "lat": SAMPLE_B["lat"], "half_deg": 0.003}


@pytest.fixture(scope="session")
def holey_assets(tmp_path_factory: pytest.TempPathFactory, routing_key: Path) -> Path:  # noqa: F811
    """The sample region with a DEM hole around SAMPLE_B: the network keeps ~99 % coverage (the
    asset loads), but routes ending at SAMPLE_B are not fully covered."""
    from ridgeline.routing import assets

    original = assets.sample_network

    def with_hole(seed: int = assets.SAMPLE_SEED) -> Any:
        net, grid, gt = original(seed)
        west, res, _, north, _, _ = gt
        gx = west + res / 2 + res * np.arange(grid.shape[1])
        gy = north - res / 2 - res * np.arange(grid.shape[0])
        xx, yy = np.meshgrid(gx, gy)
        grid = grid.copy()
        grid[(abs(xx - HOLE["lon"]) < HOLE["half_deg"]) & (abs(yy - HOLE["lat"]) < HOLE["half_deg"])] = np.nan
        return net, grid, gt

    out = tmp_path_factory.mktemp("holey-assets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assets, "sample_network", with_hole)
        manifest = assets.build_sample_assets(out, _signer(routing_key))
    assert 0.9 <= manifest["terrain"]["coverage"] < 1.0
    return out


# ---- per-route terrain coverage ---------------------------------------------------------------


def test_route_below_the_coverage_requirement_is_refused(routing_client: Any, holey_assets: Path) -> None:  # noqa: F811
    c = routing_client(holey_assets)
    trip = {"origin": SAMPLE_A, "destination": SAMPLE_B}
    ok = c.post("/routing/route", json={**trip, "min_terrain_coverage": 0.5})
    assert ok.status_code == 200, ok.text
    observed = ok.json()["route"]["totals"]["terrain_coverage"]
    assert 0.5 < observed < 1.0
    r = c.post("/routing/route", json={**trip, "min_terrain_coverage": 1.0})
    d = detail(r)
    assert r.status_code == 422 and d["reason_code"] == "terrain_dem_coverage_insufficient", r.text
    assert d["terrain_coverage_required"] == 1.0
    assert d["terrain_coverage_min_observed"] == pytest.approx(observed)
    assert d["terrain_dem_version"] == "sample_synthetic_v1"


def test_pareto_and_stream_refuse_a_front_below_the_coverage_requirement(
    routing_client: Any,  # noqa: F811
    holey_assets: Path,
) -> None:
    c = routing_client(holey_assets)
    req = {"origin": SAMPLE_A, "destination": SAMPLE_B, "objectives": ["duration", "co2e"]}
    r = c.post("/routing/pareto", json={**req, "min_terrain_coverage": 1.0})
    assert r.status_code == 422 and detail(r)["reason_code"] == "terrain_dem_coverage_insufficient", r.text
    events = ndjson(c.post("/routing/pareto/stream", json={**req, "min_terrain_coverage": 1.0}).text)
    assert [e["type"] for e in events if e["type"] != "meta"] == ["fatal"], events
    assert events[-1]["reason_code"] == "terrain_dem_coverage_insufficient"


# ---- max payload --------------------------------------------------------------------------------


def test_payload_above_the_vehicles_max_payload_is_refused(client: Any) -> None:  # noqa: F811
    vans = {v["vehicle_id"]: v for v in client.get("/routing/vehicles").json()["vehicles"]}
    limit = vans["van_diesel"]["max_payload_kg"]
    trip = {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "van_diesel"}
    assert client.post("/routing/route", json={**trip, "payload_kg": limit}).status_code == 200
    # Within the schema's bound (<= 40 t), above this vehicle's: only the guard refuses it.
    for path in ("/routing/route", "/routing/pareto"):
        r = client.post(path, json={**trip, "payload_kg": limit + 500})
        d = detail(r)
        assert r.status_code == 422 and d["reason_code"] == "invalid_request", (path, r.text)
        assert "max_payload_kg" in d["message"]
    # The streams refuse it the same way, before opening.
    for path in ("/routing/pareto/stream", "/routing/api/pareto/stream"):
        r = client.post(path, json={**trip, "payload_kg": limit + 500})
        assert r.status_code == 422 and detail(r)["reason_code"] == "invalid_request", (path, r.text)
        assert "max_payload_kg" in detail(r)["message"]


# ---- diversity of the alternatives ----------------------------------------------------------------


def test_alternatives_are_the_extremes_then_the_farthest(client: Any) -> None:  # noqa: F811
    base = {"origin": SAMPLE_A, "destination": SAMPLE_B, "objectives": ["duration", "co2e"]}
    # The stream gives every member of the front.
    routes = [
        e["route"]
        for e in ndjson(client.post("/routing/pareto/stream", json=base).text)
        if e["type"] == "route"
    ]
    assert len(routes) >= 4, "the sample trip needs a front of 4+ routes"
    by_duration = min(routes, key=lambda x: (x["objectives"]["duration"], x["objectives"]["co2e"]))
    by_co2e = min(routes, key=lambda x: (x["objectives"]["co2e"], x["objectives"]["duration"]))
    two = client.post("/routing/pareto", json={**base, "max_alternatives": 2}).json()["routes"]
    assert {x["route_key"] for x in two} == {by_duration["route_key"], by_co2e["route_key"]}
    # The third is the member farthest (min-max normalised) from both extremes.
    pts = np.array([[x["objectives"]["duration"], x["objectives"]["co2e"]] for x in routes])
    span = np.ptp(pts, axis=0)
    z = (pts - pts.min(axis=0)) / np.where(span > 0, span, 1.0)
    ends = [routes.index(by_duration), routes.index(by_co2e)]
    gap = np.min([np.linalg.norm(z - z[i], axis=1) for i in ends], axis=0)
    three = client.post("/routing/pareto", json={**base, "max_alternatives": 3}).json()["routes"]
    assert len(three) == 3
    assert routes[int(np.argmax(gap))]["route_key"] in {x["route_key"] for x in three}
    events = ndjson(client.post("/routing/pareto/stream", json={**base, "max_alternatives": 2}).text)
    assert set(events[-1]["selected_route_keys"]) == {by_duration["route_key"], by_co2e["route_key"]}


# ---- the direction of an experiment's comparison ----------------------------------------------------


def test_experiment_compare_reports_the_lowest_value_as_best(client: Any) -> None:  # noqa: F811
    item = {
        "label": "front",
        "kind": "pareto",
        "request": {
            "origin": SAMPLE_A,
            "destination": SAMPLE_B,
            "objectives": ["duration", "co2e"],
            "max_alternatives": 4,
        },
    }
    eid = client.post("/routing/experiments", json={"name": "dir", "items": [item]}).json()["experiment_id"]
    r = client.post(f"/routing/experiments/{eid}/compare")
    assert r.status_code == 200, r.text
    entry = r.json()["results"][0]
    assert entry["status"] == "ok" and len(entry["routes"]) >= 2
    for k in ("duration_s", "money_eur", "co2e_kg", "distance_m"):
        values = [x["totals"][k] for x in entry["routes"]]
        assert entry["best"][k] == min(values), k
    # the front trades duration for co2e, so "best" cannot be the highest value too
    durations = [x["totals"]["duration_s"] for x in entry["routes"]]
    assert entry["best"]["duration_s"] < max(durations)


def test_experiment_compare_reports_engine_failures_per_item(client: Any) -> None:  # noqa: F811
    far = {"origin": {"lat": 0.0, "lon": 0.0}, "destination": SAMPLE_B}
    items = [
        {"label": "far", "kind": "route", "request": far},
        {"label": "ok", "kind": "route", "request": {"origin": SAMPLE_A, "destination": SAMPLE_C}},
    ]
    eid = client.post("/routing/experiments", json={"name": "mixed", "items": items}).json()["experiment_id"]
    r = client.post(f"/routing/experiments/{eid}/compare")
    assert r.status_code == 200, r.text
    by = {x["label"]: x for x in r.json()["results"]}
    assert by["far"]["status"] == "error" and by["far"]["reason_code"] == "origin_out_of_coverage"
    assert by["ok"]["status"] == "ok"


# ---- artifact integrity -----------------------------------------------------------------------------


def test_changed_or_missing_artifact_is_a_409_not_served(client: Any) -> None:  # noqa: F811
    run_id = client.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B}).json()[
        "run_id"
    ]
    assert client.get(f"/routing/runs/{run_id}/artifacts").status_code == 200
    ctx = client.app.state["ctx"]
    for name in ("results.json", "report.pdf"):
        url = f"/routing/runs/{run_id}/artifacts/{name}"
        good = client.get(url)
        assert good.status_code == 200
        art = client.blocking_portal.call(ctx.artifacts.get, "routing", run_id, name)
        path = ctx.artifacts.path_of(art)
        changed = bytearray(good.content)
        changed[len(changed) // 2] ^= 0x01  # one bit, same size
        path.write_bytes(bytes(changed))
        for method in (client.get, client.head):
            r = method(url)
            assert r.status_code == 409, (name, method, r.status_code)
        r = client.get(url)
        assert detail(r)["reason_code"] == "artifact_integrity_failed"
        assert bytes(changed) not in r.content
        path.unlink()
        r = client.get(url)
        assert r.status_code == 409 and detail(r)["reason_code"] == "artifact_integrity_failed"


# ---- artifact names ------------------------------------------------------------------------------


def test_artifact_names_outside_the_list_are_refused_by_name(client: Any) -> None:  # noqa: F811
    run_id = client.post("/routing/route", json={"origin": SAMPLE_A, "destination": SAMPLE_B}).json()[
        "run_id"
    ]
    for name in ("secrets.txt", "results.JSON", "report.pdf.bak"):
        r = client.get(f"/routing/runs/{run_id}/artifacts/{name}")
        d = detail(r)
        assert r.status_code == 404 and d["reason_code"] == "artifact_not_found", (name, r.text)
        assert "results.json" in d["message"]  # the answer lists the files that exist
    # Encoded separators never leave the run's directory: no file is served, whatever the router does.
    for name in ("..%2F..%2Fkeys%2Fsigning_ed25519.pem", "%2e%2e%2f%2e%2e%2fmanifest.json"):
        r = client.get(f"/routing/runs/{run_id}/artifacts/{name}")
        assert r.status_code == 404, (name, r.text)
        assert detail(r)["reason_code"] in ("artifact_not_found", "not_found"), name
        assert b"PRIVATE KEY" not in r.content


# ---- Pareto inputs: one check for /pareto, the streams and batches ------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"objectives": ["duration", "duration"]}, "objectives"),
        ({"epsilon": {"weight": 1.0}}, "epsilon"),
        ({"epsilon": {"duration": -5.0}}, "epsilon"),
        ({"objectives": ["duration", "co2e"], "epsilon": {"money": 5.0}}, "epsilon"),
    ],
)
def test_pareto_inputs_are_refused_alike_before_streaming(
    client: Any,  # noqa: F811
    extra: dict[str, Any],
    field: str,
) -> None:
    body = {"origin": SAMPLE_A, "destination": SAMPLE_B, **extra}
    for path in ("/routing/pareto", "/routing/pareto/stream", "/routing/api/pareto/stream"):
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/json"), path
        d = detail(r)
        assert d["reason_code"] == "invalid_request" and d["field"] == field, (path, d)
    r = client.post(
        "/routing/batch/pareto", json={"pairs": [{"origin": SAMPLE_A, "destination": SAMPLE_B}], **extra}
    )
    assert r.status_code == 422 and detail(r)["field"] == field, r.text


def test_a_run_is_recorded_even_if_its_vehicle_went_away(client: Any) -> None:  # noqa: F811
    import msgspec

    from ridgeline.routing.api import schemas
    from ridgeline.routing.api.service import RoutingService

    svc = client.app.state["ctx"].service(RoutingService)
    req = msgspec.convert(
        {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "gone"}, schemas.RouteRequest
    )
    run_id = client.blocking_portal.call(svc.record_run, "route", req, {"routes": [], "incidents": []}, req)
    r = client.get(f"/routing/runs/{run_id}/scenario-manifest")
    assert r.status_code == 200 and r.json()["scenario"]["vehicle"] == {"vehicle_id": "gone"}


def test_csv_import_with_a_field_over_the_csv_size_limit_is_422_not_500(client: Any) -> None:  # noqa: F811
    """One unterminated quote makes the rest of a 150 KB upload one field, over the csv module's
    131,072-character limit: a 422 csv_invalid_rows naming the line, never a 500."""
    rows = "".join(
        f"{SAMPLE_A['lat']},{SAMPLE_A['lon']},{SAMPLE_B['lat']},{SAMPLE_B['lon']},row {i}\n"
        for i in range(5000)
    )
    text = "origin_lat,origin_lon,destination_lat,destination_lon,label\n" + '1,2,3,4,"open quote\n' + rows
    assert len(text) > 150_000
    r = client.post("/routing/batch/import/csv", content=text.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    d = detail(r)
    assert d["reason_code"] == "csv_invalid_rows"
    assert any("malformed CSV" in e["message"] for e in d["errors"])


# ---- common request features: honoured, or reported as unused ---------------------------------


def test_emissions_region_sets_the_grid_intensity_of_electric_vehicles(client: Any) -> None:  # noqa: F811
    """``emissions_context.region`` changes an electric vehicle's CO2e by the region's published grid
    intensity (Poland 662 g/kWh against France 56: same energy, CO2e in that ratio)."""
    trip = {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "van_electric"}
    co2 = {}
    for region in ("FR", "PL"):
        r = client.post("/routing/route", json={**trip, "emissions_context": {"region": region}})
        assert r.status_code == 200, r.text
        assert r.json()["warnings"] == []
        co2[region] = r.json()["route"]["totals"]["co2e_kg"]
    assert co2["PL"] / co2["FR"] == pytest.approx(662 / 56, rel=0.02)
    explicit = client.post(
        "/routing/route",
        json={**trip, "emissions_context": {"region": "PL", "grid_intensity_g_per_kwh": 56.0}},
    ).json()
    assert explicit["route"]["totals"]["co2e_kg"] == pytest.approx(co2["FR"], rel=1e-6)
    assert any("emissions_context.region PL was not used" in w for w in explicit["warnings"])


def test_unknown_emissions_region_is_refused_naming_the_field(client: Any) -> None:  # noqa: F811
    body = {"origin": SAMPLE_A, "destination": SAMPLE_B, "emissions_context": {"region": "XX"}}
    for path in ("/routing/route", "/routing/pareto", "/routing/pareto/stream"):
        r = client.post(path, json=body)
        d = detail(r)
        assert r.status_code == 422 and d["reason_code"] == "invalid_request", (path, r.text)
        assert "region" in r.text


def test_fields_without_effect_are_named_in_warnings(client: Any) -> None:  # noqa: F811
    """weights on a Pareto search and an emissions context for a diesel vehicle change nothing: each
    answer says so, naming the field (on /pareto, the stream's done event and /batch/pareto)."""
    trip = {"origin": SAMPLE_A, "destination": SAMPLE_B, "vehicle_id": "van_diesel"}
    extra = {"weights": {"duration": 1.0, "money": 3.0}, "emissions_context": {"region": "FR"}}
    plain = client.post("/routing/pareto", json=trip).json()
    assert not any("weights" in w or "emissions_context" in w for w in plain["warnings"])
    given = client.post("/routing/pareto", json={**trip, **extra}).json()
    assert any(w.startswith("weights were not used") for w in given["warnings"])
    assert any(w.startswith("emissions_context was not used") for w in given["warnings"])
    done = ndjson(client.post("/routing/pareto/stream", json={**trip, **extra}).text)[-1]
    assert done["type"] == "done" and any(w.startswith("weights were not used") for w in done["warnings"])
    batch = client.post(
        "/routing/batch/pareto",
        json={"pairs": [{"origin": SAMPLE_A, "destination": SAMPLE_B}], **extra},
    )
    assert batch.status_code == 200, batch.text
    assert any(w.startswith("weights were not used") for w in batch.json()["warnings"])
    route = client.post("/routing/route", json={**trip, **extra}).json()
    assert not any(w.startswith("weights") for w in route["warnings"])  # /route uses them
    assert any(w.startswith("emissions_context was not used") for w in route["warnings"])
