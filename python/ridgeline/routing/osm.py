"""A small OpenStreetMap road-graph loader (needs the ``osmium`` package).

Every consecutive pair of way nodes becomes an edge (no degree-2 contraction); two-way roads give
two arcs. Objectives: distance (m, great-circle), free-flow time (s, from ``maxspeed`` or a
per-highway-class default speed) and, with a DEM, ascent (m, sampled along the edge).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ridgeline.routing.graph import Graph
from ridgeline.routing.terrain import Dem

__all__ = ["DEFAULT_SPEEDS_KMH", "OsmNetwork", "load_osm"]

#: Default free-flow speeds by ``highway`` class; classes not listed are not routable.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 65.0,
    "primary_link": 45.0,
    "secondary": 55.0,
    "secondary_link": 40.0,
    "tertiary": 45.0,
    "tertiary_link": 35.0,
    "unclassified": 35.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
    "track": 15.0,
}

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class OsmNetwork:
    """A graph built from OSM with its node ids, coordinates and objective names."""

    graph: Graph
    osm_ids: npt.NDArray[np.int64]
    coords: npt.NDArray[np.float64]
    objectives: tuple[str, ...]


def _speed(tags: dict[str, str], highway: str, speeds: dict[str, float]) -> float:
    raw = tags.get("maxspeed", "")
    try:
        if raw.endswith("mph"):
            return float(raw[:-3].strip()) * 1.609344
        v = float(raw)
        if v > 0:
            return v
    except ValueError:
        pass
    return speeds[highway]


def _haversine(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    p0, p1 = np.radians(lat0), np.radians(lat1)
    a = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(np.radians(lon1 - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def load_osm(
    path: str | os.PathLike[str],
    dem: Dem | None = None,
    *,
    spacing_m: float = 30.0,
    speeds_kmh: dict[str, float] | None = None,
) -> OsmNetwork:
    """Builds a road graph from an ``.osm.pbf`` file.

    Objectives are ``("distance_m", "time_s")``, plus ``"ascent_m"`` when ``dem`` is given. Edges
    whose terrain is unknown get zero ascent.
    """
    try:
        import osmium
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("load_osm needs the 'osmium' package (pip install osmium)") from e
    speeds = DEFAULT_SPEEDS_KMH if speeds_kmh is None else speeds_kmh
    index: dict[int, int] = {}
    lons: list[float] = []
    lats: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    kmh: list[float] = []
    fp = (
        osmium.FileProcessor(os.fspath(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in fp:
        if not obj.is_way():
            continue
        highway = obj.tags.get("highway", "")
        if highway not in speeds:
            continue
        tags = dict(obj.tags)
        oneway = tags.get("oneway", "no")
        forward = oneway != "-1"
        backward = oneway in ("no", "false", "0") and tags.get("junction") != "roundabout"
        if highway in ("motorway",) and "oneway" not in tags:
            backward = False
        if oneway == "-1":
            backward = True
        v = _speed(tags, highway, speeds)
        ids: list[int] = []
        for nd in obj.nodes:
            if not nd.location.valid():
                continue
            i = index.get(nd.ref)
            if i is None:
                i = index[nd.ref] = len(lons)
                lons.append(nd.location.lon)
                lats.append(nd.location.lat)
            ids.append(i)
        for a, b in itertools.pairwise(ids):
            if a == b:
                continue
            if forward:
                tails.append(a)
                heads.append(b)
                kmh.append(v)
            if backward:
                tails.append(b)
                heads.append(a)
                kmh.append(v)
    coords = np.column_stack([np.asarray(lons), np.asarray(lats)]) if lons else np.empty((0, 2))
    t = np.asarray(tails, dtype=np.int64)
    h = np.asarray(heads, dtype=np.int64)
    dist = _haversine(coords[t, 0], coords[t, 1], coords[h, 0], coords[h, 1])
    time = dist / (np.asarray(kmh) / 3.6)
    cols = [dist, time]
    names: tuple[str, ...] = ("distance_m", "time_s")
    if dem is not None:
        x = np.column_stack([coords[t, 0], coords[h, 0]]).reshape(-1)
        y = np.column_stack([coords[t, 1], coords[h, 1]]).reshape(-1)
        offsets = np.arange(0, 2 * t.size + 1, 2, dtype=np.int64)
        terrain = dem.edge_terrain_flat(x, y, offsets, spacing_m)
        cols.append(np.nan_to_num(terrain.ascent, nan=0.0))
        names = (*names, "ascent_m")
    costs = np.column_stack(cols) if t.size else np.empty((0, len(cols)))
    graph = Graph.from_arrays(t, h, costs, coords=coords)
    osm_ids = np.empty(len(index), dtype=np.int64)
    for ref, i in index.items():
        osm_ids[i] = ref
    return OsmNetwork(graph=graph, osm_ids=osm_ids, coords=coords, objectives=names)
