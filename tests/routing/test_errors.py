"""Bad input raises clear Python exceptions."""

from __future__ import annotations

import numpy as np
import pytest

from ridgeline.routing import Dem, Graph


def test_graph_construction_errors() -> None:
    ok = np.ones((2, 2))
    with pytest.raises(ValueError, match="same length"):
        Graph.from_arrays([0, 1], [1], ok)
    with pytest.raises(ValueError, match="one row per arc"):
        Graph.from_arrays([0, 1], [1, 0], np.ones((3, 2)))
    with pytest.raises(ValueError, match="negative node id"):
        Graph.from_arrays([0, -1], [1, 0], ok)
    with pytest.raises(ValueError, match="out of range"):
        Graph.from_arrays([0, 5], [1, 0], ok, n=3)
    with pytest.raises(ValueError, match="NaN"):
        Graph.from_arrays([0, 1], [1, 0], [[1.0, np.nan], [1.0, 1.0]])
    with pytest.raises(ValueError, match="negative"):
        Graph.from_arrays([0, 1], [1, 0], [[1.0, -1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="infinite"):
        Graph.from_arrays([0, 1], [1, 0], [[1.0, np.inf], [1.0, 1.0]])
    for k in (1, 5):
        with pytest.raises(ValueError, match=r"k = 2\.\.4"):
            Graph.from_arrays([0, 1], [1, 0], np.ones((2, k)))
    with pytest.raises(ValueError, match="integer"):
        Graph.from_arrays([0.5, 1], [1, 0], ok)
    with pytest.raises(ValueError, match="2-D"):
        Graph.from_arrays([0, 1], [1, 0], [1.0, 2.0])
    with pytest.raises(ValueError, match="coords"):
        Graph.from_arrays([0, 1], [1, 0], ok, coords=np.ones((2, 3)))


def test_search_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = Graph.from_arrays([0, 1], [1, 2], np.ones((2, 2)))
    with pytest.raises(ValueError, match="out of range"):
        g.pareto(0, 9)
    with pytest.raises(ValueError, match="out of range"):
        g.pareto(-1, 2)
    with pytest.raises(ValueError, match="out of range"):
        g.route(0, 3, [1.0, 1.0])
    with pytest.raises(ValueError, match="out of range"):
        g.pareto_many([[0, 2], [0, 7]])
    with pytest.raises(ValueError, match="method"):
        g.pareto(0, 2, method="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs epsilon"):
        g.pareto(0, 2, method="epsilon")
    with pytest.raises(ValueError, match="epsilon must be"):
        g.pareto(0, 2, method="epsilon", epsilon=-0.1)
    with pytest.raises(ValueError, match="bounds"):
        g.pareto(0, 2, bounds=[1.0])
    with pytest.raises(ValueError, match="weights"):
        g.route(0, 2, [1.0])
    with pytest.raises(ValueError, match="weights"):
        g.route(0, 2, [1.0, -1.0])
    with pytest.raises(ValueError, match="max_solutions"):
        g.pareto(0, 2, max_solutions=0)
    with pytest.raises(FileNotFoundError):
        Graph.load(tmp_path / "missing.rgraph")
    junk = tmp_path / "junk.rgraph"
    junk.write_bytes(b"\0" * 300)
    with pytest.raises(ValueError, match="bad magic"):
        Graph.load(junk)
    good = tmp_path / "g.rgraph"
    g.save(good)
    data = bytearray(good.read_bytes())
    good.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ValueError, match="invalid graph file"):
        Graph.load(good)


def test_dem_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError):
        Dem.from_hgt([tmp_path / "N42E001.hgt"])
    short = tmp_path / "N42E001.hgt"
    short.write_bytes(b"\0" * 1000)
    with pytest.raises(ValueError, match="neither an SRTM3"):
        Dem.from_hgt([short])
    badname = tmp_path / "tile.hgt"
    badname.write_bytes(b"\0" * (1201 * 1201 * 2))
    with pytest.raises(ValueError, match="tile position"):
        Dem.from_hgt([badname])
    badzip = tmp_path / "N42E002.hgt.zip"
    badzip.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="zip"):
        Dem.from_hgt([badzip])
    with pytest.raises(ValueError, match="at least one tile"):
        Dem.from_hgt([])
    dem = Dem.from_array(np.zeros((3, 3)), (0, 1, 0, 3, 0, -1), geographic=False)
    with pytest.raises(ValueError, match="same shape"):
        dem.sample([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="spacing"):
        dem.profile([0.5, 2.5], [0.5, 0.5], spacing_m=0.0)
    with pytest.raises(ValueError, match="geotransform"):
        Dem.from_array(np.zeros((3, 3)), (0, 0, 0, 3, 0, -1))
