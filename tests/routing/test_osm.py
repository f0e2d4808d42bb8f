"""The OSM loader on the real Andorra extract, with SRTM ascent."""

from __future__ import annotations

import numpy as np
import pytest

from ridgeline.routing import Dem, load_osm

from .conftest import data_file


def test_andorra_graph_with_terrain() -> None:
    pytest.importorskip("osmium")
    pbf = data_file("routing/osm/andorra.osm.pbf")
    dem = Dem.from_hgt([data_file("routing/dem/N42E001.hgt.zip"), data_file("routing/dem/N41E001.hgt.zip")])
    net = load_osm(pbf, dem)
    g = net.graph
    assert net.objectives == ("distance_m", "time_s", "ascent_m")
    assert g.k == 3 and g.num_nodes == len(net.osm_ids) > 1000
    _, _, costs = g.arcs()
    assert np.all(costs >= 0) and costs[:, 2].max() > 10
    rng = np.random.default_rng(0)
    s, t = (int(x) for x in rng.integers(0, g.num_nodes, 2))
    front = g.pareto(s, t, method="exact")
    route = g.route(s, t, weights=[1.0, 0.0, 0.0])
    if front.no_path:
        assert route is None
    else:
        assert route is not None
        assert route.cost == pytest.approx(front.costs[:, 0].min())
