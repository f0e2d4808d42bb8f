"""Issue 19, second part: ``maxspeed:hgv`` through the real builder (a small pyosmium extract placed
on the Andorra SRTM tiles, as the Andorra extract has no such tag) and ``--timezone``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ridgeline.routing.assets import build_assets, load_assets, parse_weight_condition
from ridgeline.routing.energy import CostParams, arc_costs
from ridgeline.routing.planner import Planner
from ridgeline.routing.vehicles import BUILTIN_VEHICLES
from tests.conftest import require_shared
from tests.routing.api_support import _signer, andorra_assets, routing_key  # noqa: F401
from tests.routing.osm_fixture import write_osm

VAN = BUILTIN_VEHICLES["van_diesel"]
TRUCK = BUILTIN_VEHICLES["hgv_artic_44t"]  # 35 t gross as loaded
RIGID = BUILTIN_VEHICLES["hgv_rigid_18t"]  # 13.5 t gross as loaded


def _fixture_assets(tmp_path: Path, routing_key: Path) -> Path:  # noqa: F811
    # A 2 km east-west road south of Sant Julia de Loria (the flattest 2 km line of the tiles
    # there, so no climb limit hides the speed limits): three ways, posted 80 km/h.
    lon0, lat0 = 1.5425, 42.4300
    nodes = [(i + 1, lon0 + 0.0016 * i, lat0, {}) for i in range(16)]
    ways = [
        (1, [1, 2, 3, 4, 5, 6], {"highway": "primary", "maxspeed": "80", "maxspeed:hgv": "50"}),
        (
            2,
            [6, 7, 8, 9, 10, 11],
            {"highway": "primary", "maxspeed": "80", "maxspeed:hgv:conditional": "40 @ (weight>20)"},
        ),
        (3, [11, 12, 13, 14, 15, 16], {"highway": "primary", "maxspeed": "80"}),
    ]
    pbf = write_osm(tmp_path / "hgv.osm.pbf", nodes, ways)
    tiles = [require_shared("routing/dem/N42E001.hgt.zip")]
    out = tmp_path / "assets"
    build_assets(pbf, tiles, out, "hgvfixture", _signer(routing_key))
    return out


def test_weight_condition_parser() -> None:
    assert parse_weight_condition("40 @ (weight>20)") == (40.0, 20.0)
    assert parse_weight_condition("60 @ (weight>=7.5 t)") == (60.0, 7.5)
    for raw in ("60 @ (22:00-06:00)", "60 @ wet", "", None, "abc"):
        assert all(math.isnan(x) for x in parse_weight_condition(raw))


def test_maxspeed_hgv_read_into_assets_and_used(tmp_path: Path, routing_key: Path) -> None:  # noqa: F811
    out = _fixture_assets(tmp_path, routing_key)
    m = json.loads((out / "manifest.json").read_text())
    assert m["stats"]["maxspeed_hgv_arcs"] == 10 and m["stats"]["maxspeed_conditional_weight_arcs"] == 10
    a = load_assets(out, [_signer(routing_key).public_key_b64()])
    way = a.arcs["way_id"]
    kmh = {
        v.vehicle_id: 3.6 * a.arcs["length_m"] / arc_costs(a.arcs, v, CostParams()).time_s
        for v in (
            VAN,
            TRUCK,
            RIGID,
        )
    }
    # maxspeed:hgv=50 binds both trucks, not the van.
    assert kmh["hgv_artic_44t"][way == 1] == pytest.approx(50.0)
    assert kmh["hgv_rigid_18t"][way == 1] == pytest.approx(50.0)
    assert (kmh["van_diesel"][way == 1] > 75).all()
    # 40 @ (weight>20) binds the 35 t articulated truck, not the 13.5 t rigid one.
    assert kmh["hgv_artic_44t"][way == 2] == pytest.approx(40.0)
    assert (kmh["hgv_rigid_18t"][way == 2] > 60).all()
    # Untagged: the class default truck limit (primary 80) and the climb limit only.
    assert kmh["hgv_artic_44t"][way == 3].max() == pytest.approx(80.0)
    # A whole route through the planner carries the limits into its duration.
    p = Planner(a)
    s, t = int(a.arcs["tail"][way == 1][0]), int(a.arcs["head"][way == 3][-1])
    priced = p.priced(TRUCK, CostParams())
    r = p.route(priced, min(s, t), max(s, t), {"duration": 1.0})
    assert (
        r.totals.duration_s
        > 1.2
        * p.route(p.priced(VAN, CostParams()), min(s, t), max(s, t), {"duration": 1.0}).totals.duration_s
    )


def test_andorra_has_no_maxspeed_hgv(andorra_assets: Path) -> None:  # noqa: F811
    stats = json.loads((andorra_assets / "manifest.json").read_text())["stats"]
    assert stats["maxspeed_hgv_arcs"] == 0 and stats["maxspeed_conditional_weight_arcs"] == 0
    with np.load(andorra_assets / "network.npz") as z:
        assert np.isnan(z["speed_hgv_kmh"]).all()
