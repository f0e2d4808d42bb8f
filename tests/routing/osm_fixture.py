"""Small OpenStreetMap extracts written with pyosmium, for tests of tags the real extracts lack."""

from __future__ import annotations

from pathlib import Path

import osmium


def write_osm(
    path: Path,
    nodes: list[tuple[int, float, float, dict[str, str]]],
    ways: list[tuple[int, list[int], dict[str, str]]],
) -> Path:
    """Writes ``nodes`` (id, lon, lat, tags) and ``ways`` (id, node ids, tags) as an ``.osm.pbf``."""
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for nid, lon, lat, tags in nodes:
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags, version=1))
        for wid, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags, version=1))
    finally:
        writer.close()
    return path
