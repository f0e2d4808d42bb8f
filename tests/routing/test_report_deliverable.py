"""Issue 19: report.pdf as a planner's deliverable on Andorra: the trip's ends named offline from
the OSM place nodes, departure and arrival, the assumptions, every cost line, and a map with an
equal-distance aspect, a scale bar, place names and a legend."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pytest

from ridgeline.routing.assets import load_assets
from ridgeline.routing.reports import _scale_length_km, map_figure, place_name
from tests.routing.api_support import (  # noqa: F401
    _signer,
    andorra_assets,
    client,
    routing_client,
    routing_key,
    sample_assets,
)

ANDORRA_LA_VELLA = {"lat": 42.5063, "lon": 1.5218}
SOLDEU = {"lat": 42.5766, "lon": 1.6675}


@pytest.fixture
def root_client(routing_client: Any, andorra_assets: Path) -> Any:  # noqa: F811
    return routing_client(andorra_assets, only="routing")


def test_reverse_geocoding_from_the_osm_place_nodes(andorra_assets: Path, routing_key: Path) -> None:  # noqa: F811
    places = load_assets(andorra_assets, [_signer(routing_key).public_key_b64()]).places
    assert len(places["name"]) > 50  # 67 named place nodes in the extract
    assert place_name(places, ANDORRA_LA_VELLA["lon"], ANDORRA_LA_VELLA["lat"]) == "Andorra la Vella"
    assert place_name(places, SOLDEU["lon"], SOLDEU["lat"]) == "Soldeu"
    # High ground north-west of Arinsal, with no place node within reach.
    assert place_name(places, 1.45, 42.60) == "4.2 km NW of Arinsal"
    assert place_name(None, 1.5, 42.5) == ""
    assert [_scale_length_km(x) for x in (0.8, 12.0, 31.0, 260.0)] == [0.1, 2.0, 5.0, 50.0]


def test_report_pdf_is_a_planners_deliverable(root_client: Any) -> None:
    from pypdf import PdfReader

    r = root_client.post(
        "/route",
        json={
            "origin": ANDORRA_LA_VELLA,
            "destination": SOLDEU,
            "vehicle_id": "hgv_rigid_18t",
            "payload_kg": 8000,
            "departure_time_utc": "2026-01-14T07:00:00Z",
            "weather": {"condition": "snow"},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    run_id = body["run_id"]
    totals = body["route"]["totals"]
    pdf = root_client.get(f"/runs/{run_id}/artifacts/report.pdf").content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "From Andorra la Vella (42.50" in text and "To Soldeu (42.57" in text
    assert "Departure 2026-01-14 07:00 UTC" in text
    arrival_min = 7 * 60 + totals["duration_s"] / 60
    assert f"Arrival 2026-01-14 {int(arrival_min // 60):02d}:{int(arrival_min % 60):02d} UTC" in text
    assert "payload 8,000 kg" in text and "snow" in text and "Tolls priced" in text
    for value in (totals["money_eur"], totals["co2e_kg"], totals["fuel_l"], totals["driver_cost_eur"]):
        assert f"{value:.2f}" in text
    assert "Map of the routes" in text


def test_map_has_true_aspect_scale_bar_places_and_legend(andorra_assets: Path, routing_key: Path) -> None:  # noqa: F811
    places = load_assets(andorra_assets, [_signer(routing_key).public_key_b64()]).places
    coords = [[1.5218, 42.5063], [1.56, 42.53], [1.6675, 42.5766]]
    results = {"routes": [{"label": "fastest", "route_id": "r1", "geometry": {"coordinates": coords}}]}
    fig = map_figure(results, places, [("Andorra la Vella", "Soldeu")])
    ax = fig.axes[0]
    lat0 = (42.5063 + 42.5766) / 2
    assert ax.get_aspect() == pytest.approx(1 / math.cos(math.radians(lat0)))
    texts = {t.get_text() for t in ax.texts}
    assert any(t.endswith(" km") for t in texts)  # the scale bar
    assert {"Encamp", "Canillo"} <= texts  # place names inside the map
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["fastest", "origin: Andorra la Vella", "destination: Soldeu"]
