"""Asset builder: OSM parsing rules, connectivity, terrain, signed manifest, refusal of tampering."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import (
    AssetError,
    build_sample_assets,
    load_assets,
    parse_height_m,
    parse_speed,
    parse_weight_t,
)
from tests.conftest import require_shared
from tests.routing.api_support import andorra_assets, routing_key, sample_assets  # noqa: F401


def _key_b64(key: Path) -> str:
    from ridgeline.platform.signing import Signer

    return Signer.load_or_create(key.parent.parent, key).public_key_b64()


def test_tag_parsers() -> None:
    assert parse_speed("50", 30.0) == 50.0
    assert parse_speed("30 mph", 10.0) == pytest.approx(48.28, abs=0.01)
    assert parse_speed("FR:urban", 45.0) == 45.0
    assert parse_speed(None, 45.0) == 45.0
    assert parse_weight_t("7.5") == 7.5
    assert parse_weight_t("3500 kg") == 3.5
    assert np.isnan(parse_weight_t("unsigned"))
    assert parse_height_m("3.8 m") == 3.8
    assert parse_height_m("11'6\"") == pytest.approx(3.5052)
    assert np.isnan(parse_height_m("default"))


def test_sample_region_is_deterministic(tmp_path: Path, sample_assets: Path, routing_key: Path) -> None:  # noqa: F811
    from ridgeline.platform.signing import Signer

    build_sample_assets(tmp_path / "again", Signer.load_or_create(routing_key.parent.parent, routing_key))
    a = json.loads((sample_assets / "manifest.json").read_text())
    b = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert a["files"] == b["files"]
    assert a["dem_version"] == "sample_synthetic_v1"
    assert a["stats"]["toll_arcs"] > 0 and a["stats"]["hgv_no_arcs"] > 0 and a["stats"]["maxweight_arcs"] > 0


def test_andorra_build(andorra_assets: Path, routing_key: Path) -> None:  # noqa: F811
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = json.loads((andorra_assets / "manifest.json").read_text())
    osm = require_shared("routing/osm/andorra.osm.pbf")
    assert m["sources"]["osm"]["sha256"] == hashlib.sha256(osm.read_bytes()).hexdigest()
    assert {d["file"] for d in m["sources"]["dem"]} == {"N42E001.hgt.zip", "N41E001.hgt.zip"}
    assert m["dem_version"] == "andorra_srtm3_v1"
    assert m["builder_version"].startswith("ridgeline-routing-assets/")
    assert m["stats"]["nodes"] > 10_000 and m["stats"]["arcs"] > 20_000
    assert m["stats"]["arcs"] < m["stats"]["arcs_before_scc"]
    assert 0.99 < m["terrain"]["coverage"] <= 1.0
    # Andorra's roads run between roughly 850 m and 2,450 m.
    assert 700 < m["terrain"]["node_elevation_min_m"] < 1100
    assert 2000 < m["terrain"]["node_elevation_max_m"] < 2600
    a = load_assets(andorra_assets, [_key_b64(routing_key)])
    n = a.num_nodes
    from ridgeline.routing import Graph

    g = Graph.load(andorra_assets / "graph.rlg")
    assert (g.num_nodes, g.num_arcs, g.k) == (n, a.num_arcs, 3)
    r = g.route(0, n - 1, [1.0, 0.0, 0.0])
    assert r is not None and r.costs[0] > 0
    adj = coo_matrix((np.ones(a.num_arcs), (a.arcs["tail"], a.arcs["head"])), shape=(n, n))
    assert connected_components(adj, directed=True, connection="strong")[0] == 1
    # Arc lengths are great-circle distances between the end nodes.
    t, h = a.arcs["tail"][:50], a.arcs["head"][:50]
    dy = (a.node_lat[h] - a.node_lat[t]) * 111_195.0
    dx = (a.node_lon[h] - a.node_lon[t]) * 111_195.0 * np.cos(np.radians(a.node_lat[t]))
    assert np.allclose(a.arcs["length_m"][:50], np.hypot(dx, dy), rtol=2e-3, atol=0.02)
    # Ascent minus descent over an arc is about the elevation change between its end nodes.
    net = a.arcs["ascent_m"] - a.arcs["descent_m"]
    change = a.node_elevation_m[a.arcs["head"]] - a.node_elevation_m[a.arcs["tail"]]
    ok = np.isfinite(change)
    assert np.median(np.abs(net[ok] - change[ok])) < 1.0


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_tampered_assets_are_refused(tmp_path: Path, sample_assets: Path, routing_key: Path) -> None:  # noqa: F811
    key = _key_b64(routing_key)
    assert load_assets(sample_assets, [key]).num_nodes > 100

    d = _copy(sample_assets, tmp_path / "bytes")
    data = bytearray((d / "network.npz").read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / "network.npz").write_bytes(bytes(data))
    with pytest.raises(AssetError) as e:
        load_assets(d, [key])
    assert e.value.reason_code == "asset_hash_mismatch"

    d = _copy(sample_assets, tmp_path / "terrain")
    (d / "terrain.npz").unlink()
    with pytest.raises(AssetError) as e:
        load_assets(d, [key])
    assert e.value.reason_code == "terrain_dem_asset_unavailable"
    assert e.value.extra["terrain_dem_version"] == "sample_synthetic_v1"

    d = _copy(sample_assets, tmp_path / "manifest")
    m = json.loads((d / "manifest.json").read_text())
    m["terrain"]["coverage"] = 0.5
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(AssetError) as e:
        load_assets(d, [key])
    assert e.value.reason_code == "asset_signature_invalid"

    with pytest.raises(AssetError) as e:
        load_assets(sample_assets, ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
    assert e.value.reason_code == "asset_signature_invalid"

    d = _copy(sample_assets, tmp_path / "nosig")
    (d / "manifest.sig.json").unlink()
    with pytest.raises(AssetError) as e:
        load_assets(d, [key])
    assert e.value.reason_code == "asset_signature_invalid"

    with pytest.raises(AssetError) as e:
        load_assets(tmp_path / "absent", [key])
    assert e.value.reason_code == "routing_graph_unavailable"

    with pytest.raises(AssetError) as e:
        load_assets(sample_assets, [key], expected_dem_version="uk_dem_v1")
    assert e.value.reason_code == "terrain_dem_version_mismatch"


def test_coverage_requirement(andorra_assets: Path, routing_key: Path) -> None:  # noqa: F811
    with pytest.raises(AssetError) as e:
        load_assets(andorra_assets, [_key_b64(routing_key)], min_terrain_coverage=0.99999)
    err = e.value
    assert err.reason_code == "terrain_dem_coverage_insufficient"
    assert err.extra["terrain_coverage_required"] == 0.99999
    assert 0.99 < err.extra["terrain_coverage_min_observed"] < 0.99999
    assert err.extra["terrain_dem_version"] == "andorra_srtm3_v1"


def test_cli_builds_signed_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ridgeline.cli import main

    osm = require_shared("routing/osm/leeds.osm.pbf")
    tiles = [require_shared("routing/dem/N55W003.hgt.zip")]
    monkeypatch.setenv("RIDGELINE_DATA_DIR", str(tmp_path / "var"))
    # Leeds lies south of the Scottish tiles: with the coverage requirement lowered to zero the
    # build succeeds but records no terrain coverage (the default 0.9 refuses it, see
    # test_terrain_profiles.py).
    monkeypatch.setenv("RIDGELINE_ROUTING_MIN_COVERAGE", "0")
    rc = main(
        [
            "assets",
            "build",
            "--osm",
            str(osm),
            "--dem",
            *map(str, tiles),
            "--out",
            str(tmp_path / "leeds"),
            "--name",
            "leeds",
            "--timezone",
            "Europe/Dublin",
        ]
    )
    assert rc == 0
    m = json.loads((tmp_path / "leeds" / "manifest.json").read_text())
    assert m["terrain"]["coverage"] == 0.0
    assert m["timezone"] == "Europe/Dublin" and "utc_offset_hours" not in m
    assert (tmp_path / "leeds" / "manifest.sig.json").is_file()
    assert (
        main(
            [
                "assets",
                "build",
                "--osm",
                str(tmp_path / "missing.pbf"),
                "--dem",
                "x.hgt",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )


def test_cli_timezone_replaces_utc_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ridgeline.cli import main

    osm = require_shared("routing/osm/leeds.osm.pbf")
    tiles = [require_shared("routing/dem/N55W003.hgt.zip")]
    monkeypatch.setenv("RIDGELINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RIDGELINE_ROUTING_MIN_COVERAGE", "0")
    base = ["assets", "build", "--osm", str(osm), "--dem", *map(str, tiles), "--name", "leeds"]
    # The old flag is refused with a message naming its replacement; nothing is written.
    assert main([*base, "--out", str(tmp_path / "a"), "--utc-offset", "1"]) == 2
    err = capsys.readouterr().err
    assert "--utc-offset was replaced by --timezone" in err and not (tmp_path / "a").exists()
    assert main([*base, "--out", str(tmp_path / "b"), "--timezone", "Europe/Leeds"]) == 2
    assert "IANA time zone" in capsys.readouterr().err
    # Without a flag the zone comes from the network's location, with its DST rules.
    assert main([*base, "--out", str(tmp_path / "c")]) == 0
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["timezone"] == "Europe/London"
