"""Road elevation profiles on the real Andorra extract: tunnels and bridges from their portals,
smoothing that keeps the net climb, the grade clamp, and the builder's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import load_assets
from ridgeline.routing.planner import Planner, RouteQuery, Scenario
from ridgeline.routing.terrain import MAX_GRADE, Dem, merge_strokes, road_profiles, windowed_mean
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.conftest import require_shared
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401

ENVALIRA_TUNNEL = 6176755  # OSM way "Túnel d'Envalira"
DOS_VALIRES_TUNNEL = 124673953  # OSM way "Túnel de les dos valires"
ANDORRA_LA_VELLA = (1.5218, 42.5063)
SOLDEU = (1.6676, 42.5766)


@pytest.fixture(scope="module")
def andorra(andorra_assets: Path, routing_key: Path) -> object:  # noqa: F811
    return load_assets(andorra_assets, [_signer(routing_key).public_key_b64()])


def _ascent_per_km(a: object, mask: np.ndarray) -> float:
    arcs = a.arcs  # type: ignore[attr-defined]
    return float(arcs["ascent_m"][mask].sum() / arcs["length_m"][mask].sum() * 1000.0)


def test_tunnels_are_near_flat(andorra: object) -> None:
    arcs = andorra.arcs  # type: ignore[attr-defined]
    for way in (ENVALIRA_TUNNEL, DOS_VALIRES_TUNNEL):
        m = arcs["way_id"] == way
        assert m.sum() >= 4, way
        # Today (DEM surface) 54 % and 122 % steepest; the portals are a few tens of metres apart.
        assert float(np.abs(arcs["grade"][m]).max()) < 0.06, way
        assert float(arcs["max_grade"][m].max()) < 0.06, way
        assert _ascent_per_km(andorra, m) < 10.0, way
    # The Envalira tunnel runs under the pass (2,408 m) between portals near 2,000 m.
    m = arcs["way_id"] == ENVALIRA_TUNNEL
    elev = andorra.node_elevation_m[arcs["head"][m]]  # type: ignore[attr-defined]
    assert float(elev.max()) < 2150.0
    # The tunnel ways no longer carry several times the network's ascent per km.
    manifest = andorra.manifest  # type: ignore[attr-defined]
    assert manifest["terrain"]["structure_ways"] >= 15
    tunnels = np.isin(arcs["way_id"], [ENVALIRA_TUNNEL, DOS_VALIRES_TUNNEL])
    assert _ascent_per_km(andorra, tunnels) < 0.5 * _ascent_per_km(andorra, np.ones_like(tunnels))


def test_smoothing_keeps_net_climb_and_cuts_steep_arcs(andorra: object) -> None:
    arcs = andorra.arcs  # type: ignore[attr-defined]
    # Raw SRTM along every arc gives 10.9 % of arcs steeper than 25 %.
    assert float((np.abs(arcs["grade"]) > 0.25).mean()) < 0.025
    assert float(np.abs(arcs["grade"]).max()) <= MAX_GRADE + 1e-6
    assert float(arcs["max_grade"].max()) <= MAX_GRADE + 1e-6
    # Net rise of every arc equals its nodes' elevation difference, except where the clamp bit.
    rise = arcs["ascent_m"] - arcs["descent_m"]
    dz = andorra.node_elevation_m[arcs["head"]] - andorra.node_elevation_m[arcs["tail"]]  # type: ignore[attr-defined]
    # (arcs off the DEM, coverage 0, carry no rise while their nodes are bridged)
    free = (arcs["max_grade"] < MAX_GRADE - 1e-3) & (arcs["coverage"] > 0)
    assert free.mean() > 0.98
    assert float(np.abs(rise - dz)[free].max()) < 0.05

    planner = Planner(andorra)  # type: ignore[arg-type]
    q = RouteQuery(
        scenario=Scenario(vehicle=BUILTIN_VEHICLES["van_diesel"]), points=(ANDORRA_LA_VELLA, SOLDEU)
    )
    t = planner.plan_route(q).route.totals
    tiles = [require_shared("routing/dem/N42E001.hgt.zip")]
    r = planner.plan_route(q).route
    lon = andorra.node_lon[[r.nodes[0], r.nodes[-1]]]  # type: ignore[attr-defined]
    lat = andorra.node_lat[[r.nodes[0], r.nodes[-1]]]  # type: ignore[attr-defined]
    raw = Dem.from_hgt(tiles).sample(lon, lat)
    net_raw = float(raw[1] - raw[0])  # ~817 m
    assert 780 < net_raw < 850
    assert abs((t.ascent_m - t.descent_m) - net_raw) < 0.02 * net_raw
    # Raw SRTM reports 1,143 m of ascent on this 19 km climb.
    assert t.ascent_m < 1.2 * net_raw


def test_windowed_mean_keeps_ends_and_structures_follow_portals() -> None:
    s = np.linspace(0.0, 1000.0, 101)
    z = 100.0 + 0.05 * s + 8.0 * np.sin(s / 7.0)
    out = windowed_mean(s, z, 300.0)
    assert out[0] == z[0] and out[-1] == z[-1]
    assert np.abs(np.diff(out) / np.diff(s)).max() < np.abs(np.diff(z) / np.diff(s)).max()
    # A tunnel through a 500 m ridge between two surface roads on flat 1,000 m ground.
    xs = np.linspace(0.0, 0.1, 201)
    grid = np.where(np.abs(xs - 0.05) < 0.01, 1500.0, 1000.0)[None, :].repeat(5, axis=0)
    dem = Dem.from_array(grid, (-0.00025, 0.0005, 0.0, 0.001, 0.0, -0.0005))
    lon = np.array([0.0, 0.03, 0.04, 0.05, 0.06, 0.07, 0.1])
    lat = np.zeros(7)
    chains = [([0, 1], False), ([1, 2, 3, 4, 5], True), ([5, 6], False)]
    p = road_profiles(dem, lon, lat, chains, window_m=0.0)
    assert np.allclose(p.node_elevation[1:6], 1000.0, atol=1.0)
    assert float(np.abs(p.grade).max()) < 0.01
    # Two surface ways meeting end to end (an OSM split) become one stroke.
    assert merge_strokes([([0, 1, 2], False), ([4, 3, 2], False)]) == [([0, 1, 2, 3, 4], False)]


def _build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, osm: Path, tiles: list[Path]) -> int:
    from ridgeline.cli import main

    monkeypatch.setenv("RIDGELINE_DATA_DIR", str(tmp_path / "var"))
    argv = ["assets", "build", "--osm", str(osm), "--dem", *map(str, tiles), "--out", str(tmp_path / "out")]
    return main([*argv, "--name", "andorra"])


def test_builder_refuses_low_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = require_shared("routing/osm/andorra.osm.pbf")
    south = require_shared("routing/dem/N41E001.hgt.zip")  # Andorra lies in N42E001
    monkeypatch.delenv("RIDGELINE_ROUTING_MIN_COVERAGE", raising=False)
    assert _build(tmp_path, monkeypatch, osm, [south]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "below the required 0.900" in err and "RIDGELINE_ROUTING_MIN_COVERAGE" in err
    assert not (tmp_path / "out" / "manifest.sig.json").exists()
    assert not (tmp_path / "out" / "manifest.json").exists()
    # The service's minimum is the one the builder applies.
    monkeypatch.setenv("RIDGELINE_ROUTING_MIN_COVERAGE", "0.0")
    assert _build(tmp_path, monkeypatch, osm, [south]) == 0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["terrain"]["coverage"] < 0.9


@pytest.mark.parametrize("content", ["text", "truncated"])
def test_builder_rejects_non_pbf_osm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    real = require_shared("routing/osm/andorra.osm.pbf")
    tile = require_shared("routing/dem/N42E001.hgt.zip")
    bad = tmp_path / "roads.osm.pbf"
    if content == "text":
        bad.write_text("lon,lat\n1.5,42.5\n")
    else:
        bad.write_bytes(real.read_bytes()[:40_000])
    assert _build(tmp_path, monkeypatch, bad, [tile]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert str(bad) in err and "OpenStreetMap" in err
