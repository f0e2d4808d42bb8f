"""Ridgeline's routing engine, embeddable without any server.

``Graph`` (CSR road graph; exact and epsilon Pareto search, weighted routes, batches, streaming,
memory-mapped files) and ``Dem`` (SRTM/GeoTIFF elevation grids, bilinear sampling, profiles,
per-edge terrain). Importing this package never imports the HTTP layer.
"""

from ridgeline.routing.dimacs import read_dimacs, write_dimacs
from ridgeline.routing.graph import Graph, ParetoResult, ParetoStream, Route, Solution
from ridgeline.routing.osm import OsmNetwork, load_osm
from ridgeline.routing.terrain import Dem, EdgeTerrain, Profile

__all__ = [
    "Dem",
    "EdgeTerrain",
    "Graph",
    "OsmNetwork",
    "ParetoResult",
    "ParetoStream",
    "Profile",
    "Route",
    "Solution",
    "load_osm",
    "read_dimacs",
    "write_dimacs",
]
