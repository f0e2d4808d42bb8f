"""Model assets: build a routable road network with terrain from OSM + SRTM, sign it, verify and load it.

Layout of an asset directory::

    manifest.json      what was built, from what (SHA-256 of every source and output file)
    manifest.sig.json  Ed25519 signature of the manifest's canonical bytes (key id + public key)
    network.npz        nodes (lon, lat) and arcs (tail, head, length, class, speed, restrictions)
    terrain.npz        per-node elevation and per-arc ascent, descent, grade, max grade, coverage
    graph.rlg          the native memory-mapped graph (distance, free-flow time, ascent) for embedders

Build steps: parse drivable highways with pyosmium (one-way rules, ``maxspeed``, road class,
``access``/``motor_vehicle``, ``maxweight``, ``maxheight``, ``hgv=no``, ``toll``), split ways
into arcs at every OSM node, keep the largest strongly connected component (so every node reaches
every other), measure great-circle arc lengths, and sample the DEM along every arc (30 m spacing)
with the native terrain core. Loading re-hashes every file and checks the signature against the
trusted keys; anything missing or altered is refused with a reason code.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from ridgeline.platform.hashing import sha256_file, sha256_hex
from ridgeline.platform.problems import EngineError
from ridgeline.routing.energy import CLASS_CODE, ROAD_CLASSES

__all__ = [
    "BUILDER_VERSION",
    "AssetError",
    "CoverageError",
    "OsmInputError",
    "RawNetwork",
    "RoutingAssets",
    "build_assets",
    "build_sample_assets",
    "load_assets",
    "parse_osm",
]

BUILDER_VERSION = "ridgeline-routing-assets/1.2"
EARTH_RADIUS_M = 6_371_008.8
TERRAIN_SPACING_M = 30.0
DEFAULT_MIN_TERRAIN_COVERAGE = 0.90
SAMPLE_SEED = 20260219


class AssetError(EngineError):
    """Assets cannot be used (503); ``reason_code`` is one of the documented codes. An EngineError,
    so the HTTP layer renders it as is."""

    def __init__(self, reason_code: str, message: str, *, warnings: list[str] | None = None, **extra: Any):
        super().__init__(
            503,
            reason_code,
            message,
            warnings=warnings or ["Build model assets before routing: ridgeline assets build ..."],
            **extra,
        )


sha256_bytes = sha256_hex  # the platform's one SHA-256 helper, under the names this module exports
sha256_path = sha256_file


def haversine(lon0: npt.ArrayLike, lat0: npt.ArrayLike, lon1: npt.ArrayLike, lat1: npt.ArrayLike) -> Any:
    lon0, lat0, lon1, lat1 = (np.asarray(a, dtype=np.float64) for a in (lon0, lat0, lon1, lat1))
    p0, p1 = np.radians(lat0), np.radians(lat1)
    a = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(np.radians(lon1 - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


# --------------------------------------------------------------------------------------------
# OSM parsing


@dataclass
class RawNetwork:
    """Arcs before the connectivity filter: one arc per consecutive OSM node pair and direction."""

    node_lon: list[float] = field(default_factory=list)
    node_lat: list[float] = field(default_factory=list)
    tail: list[int] = field(default_factory=list)
    head: list[int] = field(default_factory=list)
    road_class: list[int] = field(default_factory=list)
    speed_kmh: list[float] = field(default_factory=list)
    toll: list[int] = field(default_factory=list)
    maxweight_t: list[float] = field(default_factory=list)
    maxheight_m: list[float] = field(default_factory=list)
    hgv_no: list[bool] = field(default_factory=list)
    way_id: list[int] = field(default_factory=list)
    #: ``maxspeed:hgv`` (km/h, NaN untagged) and the weight-conditional limit of
    #: ``maxspeed:hgv:conditional`` / ``maxspeed:conditional`` = ``V @ (weight>X)`` (NaN untagged)
    speed_hgv_kmh: list[float] = field(default_factory=list)
    speed_cond_kmh: list[float] = field(default_factory=list)
    speed_cond_min_t: list[float] = field(default_factory=list)
    ways: int = 0
    skipped_ways: dict[str, int] = field(default_factory=dict)
    #: Junction control per node (``CONTROL_CODES``: signals, stop and give-way signs, crossings,
    #: mini-roundabouts, toll booths), 0 for none; filled by :func:`parse_osm`.
    node_control: list[int] = field(default_factory=list)
    #: Named OSM place nodes (lon, lat, place kind, name), for offline reverse geocoding.
    places: list[tuple[float, float, str, str]] = field(default_factory=list)
    #: ``name`` (else ``ref``) of every toll way, for the toll facility table.
    toll_way_names: dict[int, str] = field(default_factory=dict)
    #: Every way as its node indices in order, with ``True`` for a structure (tunnel, bridge...),
    #: for the elevation profiles; empty = one chain per arc (see :func:`_chains`).
    chains: list[tuple[list[int], bool]] = field(default_factory=list)
    #: OSM turn restrictions with a via node: (from way id, via node index, to way id, kind,
    #: HGVs only) with kind 0 for ``no_*`` and 1 for ``only_*``; filled by :func:`parse_osm`.
    restrictions: list[tuple[int, int, int, int, bool]] = field(default_factory=list)
    #: restriction relations not kept, by reason (via way, unknown value, missing members...)
    skipped_restrictions: dict[str, int] = field(default_factory=dict)

    def add_arc(
        self,
        a: int,
        b: int,
        cls: int,
        kmh: float,
        toll: int,
        mw: float,
        mh: float,
        hgv_no: bool,
        way: int,
        hgv_kmh: float = math.nan,
        cond: tuple[float, float] = (math.nan, math.nan),
    ) -> None:
        self.tail.append(a)
        self.head.append(b)
        self.road_class.append(cls)
        self.speed_kmh.append(kmh)
        self.toll.append(toll)
        self.maxweight_t.append(mw)
        self.maxheight_m.append(mh)
        self.hgv_no.append(hgv_no)
        self.way_id.append(way)
        self.speed_hgv_kmh.append(hgv_kmh)
        self.speed_cond_kmh.append(cond[0])
        self.speed_cond_min_t.append(cond[1])


#: OSM ``place`` values kept for reverse geocoding, most important first.
PLACE_KINDS = (
    "city",
    "town",
    "suburb",
    "village",
    "hamlet",
    "neighbourhood",
    "locality",
    "isolated_dwelling",
)

#: Node tags that delay traffic, as the codes ``energy.junction_delay`` prices (8 = a yield implied
#: by the road hierarchy, set per arc by the builder).
CONTROL_CODES = {
    "traffic_signals": 1,
    "crossing_signals": 2,
    "stop": 3,
    "give_way": 4,
    "crossing": 5,
    "mini_roundabout": 6,
    "toll_booth": 7,
}


def node_control(tags: dict[str, str]) -> int:
    """The control code of a node's tags (0: none)."""
    hw = tags.get("highway", "")
    if hw == "crossing":
        signalled = tags.get("crossing") == "traffic_signals" or tags.get("crossing:signals") == "yes"
        return CONTROL_CODES["crossing_signals" if signalled else "crossing"]
    if hw in CONTROL_CODES:
        return CONTROL_CODES[hw]
    if tags.get("barrier") == "toll_booth":
        return CONTROL_CODES["toll_booth"]
    return 0


_NUM = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([a-zA-Z'\"]*)\s*$")


def parse_speed(raw: str | None, default: float) -> float:
    """``maxspeed`` in km/h: numbers, ``N mph``; anything else (``none``, ``FR:urban``) -> default."""
    if not raw:
        return default
    m = _NUM.match(raw.split(";")[0])
    if not m:
        return default
    v = float(m.group(1).replace(",", "."))
    if m.group(2).lower() == "mph":
        v *= 1.609344
    return v if 5.0 <= v <= 150.0 else default


_COND = re.compile(
    r"^\s*([0-9]+(?:\.[0-9]+)?)\s*@\s*\(?\s*weight\s*(>=?)\s*([0-9]+(?:\.[0-9]+)?)\s*t?\s*\)?\s*$"
)


def parse_weight_condition(raw: str | None) -> tuple[float, float]:
    """The simple weight-conditional limit ``V @ (weight>X)`` as (km/h, tonnes); (NaN, NaN) for
    anything else (time windows, wet, several conditions), which the model does not evaluate."""
    if not raw:
        return math.nan, math.nan
    m = _COND.match(raw.split(";")[0])
    if not m:
        return math.nan, math.nan
    v, w = float(m.group(1)), float(m.group(3))
    return (v, w) if 5.0 <= v <= 150.0 and w > 0 else (math.nan, math.nan)


def parse_weight_t(raw: str | None) -> float:
    """``maxweight`` in tonnes (``7.5``, ``7.5 t``, ``3500 kg``, ``12 st``); NaN when absent/unparsable."""
    if not raw:
        return math.nan
    m = _NUM.match(raw)
    if not m:
        return math.nan
    v = float(m.group(1).replace(",", "."))
    unit = m.group(2).lower()
    if unit == "kg":
        v /= 1000.0
    elif unit in ("st", "lbs"):
        v = v * 0.90718 if unit == "st" else v * 0.000453592
    return v if v > 0 else math.nan


def parse_height_m(raw: str | None) -> float:
    """``maxheight`` in metres (``3.5``, ``3.5 m``, ``11'6"``); NaN when absent or ``default``/``none``."""
    if not raw:
        return math.nan
    feet = re.match(r"^\s*(\d+)\s*'\s*(?:(\d+)\s*\")?\s*$", raw)
    if feet:
        return int(feet.group(1)) * 0.3048 + int(feet.group(2) or 0) * 0.0254
    m = _NUM.match(raw)
    if not m:
        return math.nan
    v = float(m.group(1).replace(",", "."))
    if m.group(2).lower() == "ft":
        v *= 0.3048
    return v if v > 0 else math.nan


def is_structure(tags: dict[str, str]) -> bool:
    """Tunnels, covered ways, bridges and other ways off the ground surface (``layer`` != 0), whose
    elevation comes from their portals, not the DEM."""
    if tags.get("tunnel", "no") != "no" or tags.get("bridge", "no") != "no":
        return True
    if tags.get("covered") == "yes" or tags.get("man_made") == "bridge":
        return True
    layer = tags.get("layer", "0").strip()
    return layer not in ("", "0") and re.fullmatch(r"[+-]?[0-9]+", layer) is not None


class OsmInputError(ValueError):
    """The ``--osm`` file is not an OpenStreetMap extract the builder can read."""


def _check_osm_file(path: Path) -> None:
    # PBF: a 4-byte header length, then a BlobHeader whose first field is the type "OSMHeader".
    with path.open("rb") as f:
        head = f.read(64)
    if b"OSMHeader" in head[:32]:
        return
    if path.suffix.lower() in (".osm", ".xml") and head.lstrip().startswith(b"<"):
        return
    raise OsmInputError(f"{path} is not an OpenStreetMap PBF file (.osm.pbf)")


_NO_ACCESS = {"no", "private", "agricultural", "forestry", "delivery_no"}
_YES_ACCESS = {"yes", "designated", "permissive", "destination", "delivery"}


def _directions(tags: dict[str, str], highway: str) -> tuple[bool, bool]:
    oneway = tags.get("oneway", "")
    if oneway in ("-1", "reverse"):
        return False, True
    if oneway in ("yes", "true", "1"):
        return True, False
    if oneway in ("no", "false", "0"):
        return True, True
    implied = highway in ("motorway", "motorway_link") or tags.get("junction") in ("roundabout", "circular")
    return (True, not implied)


def parse_osm(path: str | os.PathLike[str]) -> RawNetwork:
    """Drivable ways of an ``.osm.pbf`` (or .osm) file as arcs, with restrictions and tolls."""
    import osmium

    _check_osm_file(Path(path))
    net = RawNetwork()
    index: dict[int, int] = {}
    fp = (
        osmium.FileProcessor(os.fspath(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "barrier", "place"))
    )
    controls: dict[int, int] = {}
    try:
        _parse_ways(fp, net, index, controls)
    except RuntimeError as exc:  # libosmium's read errors (truncated or corrupt file)
        raise OsmInputError(f"{path} cannot be read as OpenStreetMap data: {exc}") from None
    net.node_control = [0] * len(net.node_lon)
    for ref, code in controls.items():
        i = index.get(ref)
        if i is not None:
            net.node_control[i] = code
    try:
        _parse_restrictions(path, net, index)
    except RuntimeError as exc:
        raise OsmInputError(f"{path} cannot be read as OpenStreetMap data: {exc}") from None
    return net


def _parse_restrictions(path: str | os.PathLike[str], net: RawNetwork, index: dict[int, int]) -> None:
    """``type=restriction`` relations with one ``from`` way, a ``via`` node and one ``to`` way
    (``restriction=no_*|only_*``, and ``restriction:hgv`` for HGVs only). Via-way restrictions,
    conditional ones and those with ``except`` are not kept (counted in ``skipped_restrictions``)."""
    import osmium

    def skip(reason: str) -> None:
        net.skipped_restrictions[reason] = net.skipped_restrictions.get(reason, 0) + 1

    fp = osmium.FileProcessor(os.fspath(path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(("type", "restriction"))
    )
    for rel in fp:
        tags = {t.k: t.v for t in rel.tags}
        value, hgv_only = tags.get("restriction"), False
        if value is None and "restriction:hgv" in tags:
            value, hgv_only = tags["restriction:hgv"], True
        if value is None or "except" in tags:
            skip("conditional_or_except" if value is None or "except" in tags else "untagged")
            continue
        kind = 0 if value.startswith("no_") else (1 if value.startswith("only_") else -1)
        if kind < 0:
            skip("unknown_value")
            continue
        frm = [m.ref for m in rel.members if m.role == "from" and m.type == "w"]
        to = [m.ref for m in rel.members if m.role == "to" and m.type == "w"]
        via = [m for m in rel.members if m.role == "via"]
        if len(via) != 1 or via[0].type != "n":
            skip("via_way")
            continue
        v = index.get(via[0].ref)
        if len(frm) != 1 or len(to) != 1 or v is None:
            skip("members")
            continue
        net.restrictions.append((frm[0], v, to[0], kind, hgv_only))


def _parse_ways(fp: Any, net: RawNetwork, index: dict[int, int], controls: dict[int, int]) -> None:
    for obj in fp:
        if obj.is_node():
            ntags = {t.k: t.v for t in obj.tags}
            code = node_control(ntags)
            if code:
                controls[obj.id] = code
            if ntags.get("place") in PLACE_KINDS and ntags.get("name") and obj.location.valid():
                net.places.append((obj.location.lon, obj.location.lat, ntags["place"], ntags["name"][:64]))
            continue
        if not obj.is_way():
            continue
        tags = {t.k: t.v for t in obj.tags}
        highway = tags.get("highway", "")
        if not highway:  # a barrier way (fence, wall): not a road
            continue
        cls = CLASS_CODE.get(highway)
        if cls is None:
            net.skipped_ways[highway] = net.skipped_ways.get(highway, 0) + 1
            continue
        access = tags.get("motor_vehicle", tags.get("vehicle", tags.get("access", "yes")))
        goods_ok = tags.get("goods") in _YES_ACCESS or tags.get("hgv") in _YES_ACCESS
        if access in _NO_ACCESS and not goods_ok:
            net.skipped_ways["no_access"] = net.skipped_ways.get("no_access", 0) + 1
            continue
        if tags.get("area") == "yes":
            continue
        forward, backward = _directions(tags, highway)
        default_kmh = ROAD_CLASSES[cls][1]
        kmh_fwd = parse_speed(tags.get("maxspeed:forward", tags.get("maxspeed")), default_kmh)
        kmh_bwd = parse_speed(tags.get("maxspeed:backward", tags.get("maxspeed")), default_kmh)
        hgv_fwd = parse_speed(tags.get("maxspeed:hgv:forward", tags.get("maxspeed:hgv")), math.nan)
        hgv_bwd = parse_speed(tags.get("maxspeed:hgv:backward", tags.get("maxspeed:hgv")), math.nan)
        cond = parse_weight_condition(tags.get("maxspeed:hgv:conditional"))
        if math.isnan(cond[0]):  # a weight condition on the general limit concerns heavy vehicles too
            cond = parse_weight_condition(tags.get("maxspeed:conditional"))
        toll = 1 if tags.get("toll") == "yes" else (2 if tags.get("toll:hgv") == "yes" else 0)
        mw = parse_weight_t(tags.get("maxweight:hgv") or tags.get("maxweight"))
        mh = parse_height_m(tags.get("maxheight:physical") or tags.get("maxheight"))
        hgv_no = tags.get("hgv") == "no" or tags.get("goods") == "no"
        if toll:
            net.toll_way_names[obj.id] = tags.get("name") or tags.get("ref") or ""
        ids: list[int] = []
        for nd in obj.nodes:
            if not nd.location.valid():
                continue
            i = index.get(nd.ref)
            if i is None:
                i = index[nd.ref] = len(net.node_lon)
                net.node_lon.append(nd.location.lon)
                net.node_lat.append(nd.location.lat)
            ids.append(i)
        if len(ids) < 2:
            continue
        net.ways += 1
        net.chains.append(([i for i, j in zip(ids, [-1, *ids], strict=False) if i != j], is_structure(tags)))
        for a, b in itertools.pairwise(ids):
            if a == b:
                continue
            if forward:
                net.add_arc(a, b, cls, kmh_fwd, toll, mw, mh, hgv_no, obj.id, hgv_fwd, cond)
            if backward:
                net.add_arc(b, a, cls, kmh_bwd, toll, mw, mh, hgv_no, obj.id, hgv_bwd, cond)


# --------------------------------------------------------------------------------------------
# The common pipeline


def _largest_scc(n: int, tail: npt.NDArray[np.int64], head: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=bool)
    adj = coo_matrix((np.ones(tail.size), (tail, head)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=True, connection="strong")
    counts = np.bincount(labels)
    return labels == int(np.argmax(counts))


def _arrays(
    net: RawNetwork,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[str, npt.NDArray]]:
    lon = np.asarray(net.node_lon, dtype=np.float64)
    lat = np.asarray(net.node_lat, dtype=np.float64)
    arcs = {
        "tail": np.asarray(net.tail, dtype=np.int64),
        "head": np.asarray(net.head, dtype=np.int64),
        "road_class": np.asarray(net.road_class, dtype=np.uint8),
        "speed_kmh": np.asarray(net.speed_kmh, dtype=np.float32),
        "toll": np.asarray(net.toll, dtype=np.uint8),
        "maxweight_t": np.asarray(net.maxweight_t, dtype=np.float32),
        "maxheight_m": np.asarray(net.maxheight_m, dtype=np.float32),
        "hgv_no": np.asarray(net.hgv_no, dtype=bool),
        "way_id": np.asarray(net.way_id, dtype=np.int64),
        "speed_hgv_kmh": np.asarray(net.speed_hgv_kmh, dtype=np.float32),
        "speed_cond_kmh": np.asarray(net.speed_cond_kmh, dtype=np.float32),
        "speed_cond_min_t": np.asarray(net.speed_cond_min_t, dtype=np.float32),
    }
    return lon, lat, arcs


def _npz_bytes(arrays: dict[str, npt.NDArray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> dict[str, Any]:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return {"sha256": sha256_bytes(data), "bytes": len(data)}


def _finish(
    net: RawNetwork,
    dem: Any,
    out: Path,
    name: str,
    sources: dict[str, Any],
    dem_version: str,
    signer: Any,
    started: float,
    timezone: str | None = None,
    min_coverage: float = 0.0,
    smoothing_window_m: float | None = None,
) -> dict[str, Any]:
    from ridgeline.routing.terrain import MAX_GRADE, SMOOTHING_WINDOW_M, road_profiles

    window = SMOOTHING_WINDOW_M if smoothing_window_m is None else smoothing_window_m
    lon, lat, arcs = _arrays(net)
    # Elevation profiles along whole ways (before the SCC filter renumbers nodes).
    prof = road_profiles(dem, lon, lat, _chains(net), spacing_m=TERRAIN_SPACING_M, window_m=window)
    seg_stats: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    for u, v, up, down, g, mg in zip(
        prof.seg_u.tolist(),
        prof.seg_v.tolist(),
        prof.ascent.tolist(),
        prof.descent.tolist(),
        prof.grade.tolist(),
        prof.max_grade.tolist(),
        strict=True,
    ):
        seg_stats[(u, v)] = (up, down, g, mg)
        seg_stats[(v, u)] = (down, up, -g, mg)
    nan4 = (math.nan, math.nan, math.nan, math.nan)
    arc_stats = np.asarray(
        [seg_stats.get((a, b), nan4) for a, b in zip(net.tail, net.head, strict=True)], dtype=np.float64
    ).reshape(-1, 4)
    node_elev_all = prof.node_elevation
    keep_node = _largest_scc(lon.size, arcs["tail"], arcs["head"])
    keep_arc = keep_node[arcs["tail"]] & keep_node[arcs["head"]]
    new_id = np.cumsum(keep_node) - 1
    lon, lat = lon[keep_node], lat[keep_node]
    node_elev = node_elev_all[keep_node]
    arc_stats = arc_stats[keep_arc]
    arcs = {k: v[keep_arc] for k, v in arcs.items()}
    arcs["tail"] = new_id[arcs["tail"]].astype(np.int64)
    arcs["head"] = new_id[arcs["head"]].astype(np.int64)
    t, h = arcs["tail"], arcs["head"]
    arcs["length_m"] = np.maximum(haversine(lon[t], lat[t], lon[h], lat[h]), 0.01)
    controls = np.zeros(keep_node.size, dtype=np.uint8)
    controls[: len(net.node_control)] = np.asarray(net.node_control, dtype=np.uint8)
    arcs["head_control"] = junction_controls(controls[keep_node], t, h, arcs["road_class"])
    restrictions = _restriction_arrays(net, keep_node, new_id, arcs)
    arcs["toll_facility"], arcs["toll_fee_arc"], facilities = toll_facilities(
        lon.size, arcs, net.toll_way_names
    )

    # Coverage: the native core samples the DEM along every arc; the ascent, descent and grades
    # come from the way profiles above (structures from portals, smoothed, clamped).
    x = np.column_stack([lon[t], lon[h]]).reshape(-1)
    y = np.column_stack([lat[t], lat[h]]).reshape(-1)
    offsets = np.arange(0, 2 * t.size + 1, 2, dtype=np.int64)
    et = dem.edge_terrain_flat(x, y, offsets, TERRAIN_SPACING_M)
    known = np.asarray(et.coverage) > 0
    arc_stats[~known] = np.nan
    terrain = {
        "node_elevation_m": node_elev.astype(np.float32),
        "ascent_m": np.nan_to_num(arc_stats[:, 0], nan=0.0).astype(np.float32),
        "descent_m": np.nan_to_num(arc_stats[:, 1], nan=0.0).astype(np.float32),
        "grade": np.nan_to_num(arc_stats[:, 2], nan=0.0).astype(np.float32),
        "max_grade": np.nan_to_num(arc_stats[:, 3], nan=0.0).astype(np.float32),
        "coverage": np.nan_to_num(et.coverage, nan=0.0).astype(np.float32),
    }
    samples = int(np.asarray(et.samples).sum())
    nodata = int(np.asarray(et.nodata).sum())
    coverage = 0.0 if samples == 0 else 1.0 - nodata / samples
    if signer is not None and coverage < min_coverage:
        raise CoverageError(
            f"DEM coverage of the network is {coverage:.3f}, below the required {min_coverage:.3f}"
            " (RIDGELINE_ROUTING_MIN_COVERAGE); no assets were written"
        )
    steep = float((np.abs(terrain["grade"]) > 0.25).mean()) if t.size else 0.0

    out.mkdir(parents=True, exist_ok=True)
    network = {"node_lon": lon, "node_lat": lat, **arcs, **_place_arrays(net.places), **restrictions}
    files = {
        "network.npz": _write(out / "network.npz", _npz_bytes(network)),
        "terrain.npz": _write(out / "terrain.npz", _npz_bytes(terrain)),
        "graph.rlg": _save_graph(out / "graph.rlg", lon, lat, arcs, terrain),
    }
    class_counts = np.bincount(arcs["road_class"].astype(np.int64), minlength=len(ROAD_CLASSES))
    manifest = {
        "name": name,
        "format": 1,
        "builder_version": BUILDER_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "sources": sources,
        "dem_version": dem_version,
        "files": files,
        "bbox": [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
        if lon.size
        else None,
        "timezone": timezone or _zone_of(lon, lat),
        "stats": {
            "nodes": int(lon.size),
            "arcs": int(t.size),
            "ways": net.ways,
            "arcs_before_scc": len(net.tail),
            "nodes_before_scc": len(net.node_lon),
            "road_class_arcs": {ROAD_CLASSES[i][0]: int(c) for i, c in enumerate(class_counts) if c},
            "toll_arcs": int((arcs["toll"] > 0).sum()),
            "maxweight_arcs": int(np.isfinite(arcs["maxweight_t"]).sum()),
            "maxheight_arcs": int(np.isfinite(arcs["maxheight_m"]).sum()),
            "hgv_no_arcs": int(arcs["hgv_no"].sum()),
            "places": len(net.places),
            "turn_restrictions": len(net.restrictions),
            "turn_restriction_arc_pairs": int(restrictions["restriction_from"].size),
            "skipped_turn_restrictions": dict(net.skipped_restrictions),
            "junction_control_arcs": {
                name: int((arcs["head_control"] == code).sum())
                for name, code in [*CONTROL_CODES.items(), ("implied_yield", IMPLIED_YIELD)]
            },
            "maxspeed_hgv_arcs": int(np.isfinite(arcs["speed_hgv_kmh"]).sum()),
            "maxspeed_conditional_weight_arcs": int(np.isfinite(arcs["speed_cond_kmh"]).sum()),
            "total_length_km": round(float(arcs["length_m"].sum()) / 1000.0, 3),
        },
        "terrain": {
            "spacing_m": TERRAIN_SPACING_M,
            "samples": samples,
            "nodata_samples": nodata,
            "coverage": round(coverage, 6),
            "min_arc_coverage": round(float(terrain["coverage"].min()), 6) if t.size else 0.0,
            "arcs_full_coverage_fraction": round(float((terrain["coverage"] >= 1.0).mean()), 6)
            if t.size
            else 0.0,
            "node_elevation_min_m": float(np.nanmin(node_elev)) if np.isfinite(node_elev).any() else None,
            "node_elevation_max_m": float(np.nanmax(node_elev)) if np.isfinite(node_elev).any() else None,
            "profile": "structures from portals; moving average; grade clamp (docs/routing.md)",
            "smoothing_window_m": window,
            "max_grade": MAX_GRADE,
            "clamped_intervals": prof.clamped_intervals,
            "structure_ways": sum(1 for _, s in net.chains if s),
            "arcs_steeper_than_25pct_fraction": round(steep, 6),
            "ascent_total_m": round(float(terrain["ascent_m"].sum()), 1),
        },
        "toll_facilities": facilities,
        "speed_model": "road-class defaults + maxspeed, time-of-day shape v1 (see docs/routing.md)",
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    (out / "manifest.json").write_bytes(msgspec.json.format(msgspec.json.encode(manifest), indent=2))
    if signer is not None:
        sig = {
            "algorithm": "Ed25519",
            "key_id": signer.key_id,
            "public_key_b64": signer.public_key_b64(),
            "signature": signer.sign(manifest),
        }
        (out / "manifest.sig.json").write_bytes(msgspec.json.format(msgspec.json.encode(sig), indent=2))
    return manifest


#: Priority rank of the road classes (0 = highest; links rank with their road) for the yields the
#: road hierarchy implies at untagged junctions.
_PRIORITY = np.array(
    [
        {"motorway": 0, "trunk": 1, "primary": 2, "secondary": 3, "tertiary": 4}.get(
            name.removesuffix("_link"), 6 if name in ("living_street", "service") else 5
        )
        for name, *_ in ROAD_CLASSES
    ],
    dtype=np.int64,
)
IMPLIED_YIELD = 8


def junction_controls(
    node_ctrl: npt.NDArray[np.uint8],
    tail: npt.NDArray[np.int64],
    head: npt.NDArray[np.int64],
    road_class: npt.NDArray[np.uint8],
) -> npt.NDArray[np.uint8]:
    """Per arc, the control at its head node: the node's tagged control (``CONTROL_CODES``), else
    ``IMPLIED_YIELD`` where the arc enters a junction (three or more neighbouring nodes) on a road
    of lower priority than another road meeting there, else 0."""
    n = node_ctrl.size
    out = node_ctrl[head].astype(np.uint8)
    if tail.size == 0:
        return out
    rank = _PRIORITY[road_class.astype(np.int64)]
    best = np.full(n, 99, dtype=np.int64)
    np.minimum.at(best, tail, rank)
    np.minimum.at(best, head, rank)
    pairs = np.unique(np.column_stack([np.minimum(tail, head), np.maximum(tail, head)]), axis=0)
    neighbours = np.bincount(pairs[:, 0], minlength=n) + np.bincount(pairs[:, 1], minlength=n)
    implied = (out == 0) & (neighbours[head] >= 3) & (rank > best[head])
    out[implied] = IMPLIED_YIELD
    return out


def toll_facilities(
    n: int, arcs: dict[str, npt.NDArray], names: dict[int, str]
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_], list[dict[str, Any]]]:
    """Toll facilities: the connected groups of toll arcs (``toll=yes`` or ``toll:hgv=yes``). Per
    arc its facility (-1 for none) and whether a passage is charged on it: the arcs entering the
    facility's toll booth where it has one (every passage crosses it once), else the arcs entering
    the facility from outside. The list names each facility (the first named way, longest first),
    for the fixed-fee table of ``energy.TOLL_TARIFFS``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    toll = arcs["toll"] > 0
    fac = np.full(toll.size, -1, dtype=np.int16)
    fee = np.zeros(toll.size, dtype=bool)
    if not toll.any():
        return fac, fee, []
    t, h = arcs["tail"][toll], arcs["head"][toll]
    _, labels = connected_components(coo_matrix((np.ones(t.size), (t, h)), shape=(n, n)), directed=False)
    ids, comp = np.unique(labels[t], return_inverse=True)
    fac[toll] = comp.astype(np.int16)
    in_fac = np.full(n, -1, dtype=np.int64)
    in_fac[t], in_fac[h] = comp, comp
    outside = np.zeros(n, dtype=bool)  # nodes a non-toll arc touches
    outside[arcs["tail"][~toll]] = True
    outside[arcs["head"][~toll]] = True
    booth = arcs["head_control"] == CONTROL_CODES["toll_booth"]
    out: list[dict[str, Any]] = []
    for k in range(ids.size):
        mine = fac == k
        charged = mine & booth
        if not charged.any():
            charged = mine & outside[arcs["tail"]]
        fee |= charged
        ways = np.unique(arcs["way_id"][mine])
        lengths = {int(w): float(arcs["length_m"][mine & (arcs["way_id"] == w)].sum()) for w in ways}
        by_length = sorted(lengths, key=lambda w: -lengths[w])
        name = next((names.get(w, "") for w in by_length if names.get(w)), "")
        out.append(
            {
                "index": k,
                "name": name,
                "ways": [int(w) for w in ways],
                "length_km": round(_road_length_m(arcs, mine) / 1000.0, 3),
                "toll_booth": bool((mine & booth).any()),
                "charged_arcs": int(charged.sum()),
            }
        )
    return fac, fee, out


def _restriction_arrays(
    net: RawNetwork,
    keep_node: npt.NDArray[np.bool_],
    new_id: npt.NDArray[np.int64],
    arcs: dict[str, npt.NDArray],
) -> dict[str, npt.NDArray]:
    """The restrictions as arc pairs of the kept network: every arc of the ``from`` way entering
    the via node with every arc of the ``to`` way leaving it (``restriction_from``/``_to``, arc
    ids; ``restriction_kind`` 0 = no, 1 = only; ``restriction_hgv`` for HGV-only ones)."""
    frm: list[int] = []
    to: list[int] = []
    kind: list[int] = []
    hgv: list[bool] = []
    way, tail, head = arcs["way_id"], arcs["tail"], arcs["head"]
    for w_from, via, w_to, k, hgv_only in net.restrictions:
        if via >= keep_node.size or not keep_node[via]:
            continue
        v = int(new_id[via])
        ins = np.flatnonzero((way == w_from) & (head == v))
        outs = np.flatnonzero((way == w_to) & (tail == v))
        for a in ins.tolist():
            for b in outs.tolist():
                frm.append(a)
                to.append(b)
                kind.append(k)
                hgv.append(hgv_only)
    return {
        "restriction_from": np.asarray(frm, dtype=np.int64),
        "restriction_to": np.asarray(to, dtype=np.int64),
        "restriction_kind": np.asarray(kind, dtype=np.uint8),
        "restriction_hgv": np.asarray(hgv, dtype=bool),
    }


def _place_arrays(places: list[tuple[float, float, str, str]]) -> dict[str, npt.NDArray]:
    """The place nodes as arrays (names as fixed-width unicode: no pickles in the npz)."""
    return {
        "place_lon": np.asarray([p[0] for p in places], dtype=np.float64),
        "place_lat": np.asarray([p[1] for p in places], dtype=np.float64),
        "place_kind": np.asarray([p[2] for p in places], dtype="<U20"),
        "place_name": np.asarray([p[3] for p in places], dtype="<U64"),
    }


def _road_length_m(arcs: dict[str, npt.NDArray], mask: npt.NDArray[np.bool_]) -> float:
    """Length of the roads under the masked arcs, a two-way road counted once."""
    t, h = arcs["tail"][mask], arcs["head"][mask]
    _, first = np.unique(np.column_stack([np.minimum(t, h), np.maximum(t, h)]), axis=0, return_index=True)
    return float(arcs["length_m"][mask][first].sum())


def check_timezone(name: str) -> str:
    """``name`` if zoneinfo knows it as an IANA time zone, else ``ValueError`` saying so."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--timezone must be an IANA time zone name such as Europe/Andorra, got {name!r}"
        ) from None
    return name


def _zone_of(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> str:
    """The IANA zone at the centre of the bbox (timezonefinder's boundary data; at sea, its
    nautical ``Etc/GMT`` zones), UTC for an empty network."""
    if not lon.size:
        return "UTC"
    from timezonefinder import TimezoneFinder

    x = (float(lon.min()) + float(lon.max())) / 2
    y = (float(lat.min()) + float(lat.max())) / 2
    return TimezoneFinder().timezone_at(lng=x, lat=y) or "UTC"


class CoverageError(ValueError):
    """The DEM covers less of the network than the service requires: the assets are not signed."""


def _chains(net: RawNetwork) -> list[tuple[list[int], bool]]:
    """The network's ways for the elevation profiles; without recorded ways, one chain per
    undirected arc (surface roads)."""
    if net.chains:
        return net.chains
    seen: set[tuple[int, int]] = set()
    out: list[tuple[list[int], bool]] = []
    for a, b in zip(net.tail, net.head, strict=True):
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            out.append(([a, b], False))
    return out


def _save_graph(
    path: Path,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    arcs: dict[str, npt.NDArray],
    terrain: dict[str, npt.NDArray],
) -> dict[str, Any]:
    """The network as a native, memory-mappable graph for embedding programs (``Graph.load``):
    objectives distance (m), free-flow time (s) and ascent (m)."""
    from ridgeline.routing import Graph

    length = arcs["length_m"]
    free_flow_s = length / (arcs["speed_kmh"].astype(np.float64) / 3.6)
    costs = np.column_stack([length, free_flow_s, terrain["ascent_m"].astype(np.float64)])
    g = Graph.from_arrays(arcs["tail"], arcs["head"], costs, coords=np.column_stack([lon, lat]), n=lon.size)
    tmp = path.with_name(f".{path.name}.tmp")
    g.save(tmp)
    os.replace(tmp, path)
    return {
        "sha256": sha256_path(path),
        "bytes": path.stat().st_size,
        "objectives": ["distance_m", "free_flow_time_s", "ascent_m"],
    }


def _dem_kind(paths: list[Path]) -> str:
    import zipfile

    sizes = set()
    for p in paths:
        if p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                sizes.add(max(i.file_size for i in zf.infolist()))
        else:
            sizes.add(p.stat().st_size)
    if sizes == {1201 * 1201 * 2}:
        return "srtm3"
    if sizes == {3601 * 3601 * 2}:
        return "srtm1"
    return "dem"


def build_assets(
    osm: str | os.PathLike[str],
    dem_tiles: list[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    name: str,
    signer: Any = None,
    dem_version: str | None = None,
    timezone: str | None = None,
    *,
    min_coverage: float = DEFAULT_MIN_TERRAIN_COVERAGE,
    smoothing_window_m: float | None = None,
) -> dict[str, Any]:
    """Builds assets from an OSM extract and SRTM tiles; returns the manifest (also written to ``out``).

    ``timezone`` (an IANA name, for the time-of-day speed model with its DST rules) defaults to
    the zone at the centre of the network's bbox (:func:`check_timezone` validates it). A signed build whose DEM coverage is below
    ``min_coverage`` raises :class:`CoverageError` before writing anything; an unreadable OSM file
    raises :class:`OsmInputError` (both ``ValueError``)."""
    from ridgeline.routing import Dem

    started = time.perf_counter()
    osm_path = Path(osm)
    tiles = [Path(p) for p in dem_tiles]
    for p in [osm_path, *tiles]:
        if not p.is_file():
            raise FileNotFoundError(f"input file not found: {p}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise ValueError(f"asset name must be 1..64 of [A-Za-z0-9_.-], got {name!r}")
    net = parse_osm(osm_path)
    dem = Dem.from_hgt(tiles)
    sources = {
        "osm": {"file": osm_path.name, "sha256": sha256_path(osm_path), "bytes": osm_path.stat().st_size},
        "dem": [{"file": p.name, "sha256": sha256_path(p), "bytes": p.stat().st_size} for p in tiles],
    }
    version = dem_version or f"{name}_{_dem_kind(tiles)}_v1"
    return _finish(
        net,
        dem,
        Path(out),
        name,
        sources,
        version,
        signer,
        started,
        check_timezone(timezone) if timezone is not None else None,
        min_coverage=min_coverage,
        smoothing_window_m=smoothing_window_m,
    )


# --------------------------------------------------------------------------------------------
# The deterministic sample region (embedded default)


def sample_network(seed: int = SAMPLE_SEED) -> tuple[RawNetwork, npt.NDArray[np.float32], tuple[float, ...]]:
    """A 24 x 24 grid town with a toll motorway, arterials, one-way streets, a weight-limited bridge,
    a low underpass and an HGV-free zone, over a seeded synthetic terrain (two hills and a valley)."""
    rng = np.random.default_rng(seed)
    n = 24
    lon0, lat0, step = 6.10, 45.90, 0.0030  # ~230 m east-west, ~330 m north-south
    net = RawNetwork()
    ids = np.arange(n * n).reshape(n, n)
    for r in range(n):
        for c in range(n):
            net.node_lon.append(lon0 + c * step + float(rng.uniform(-0.0004, 0.0004)))
            net.node_lat.append(lat0 + r * step + float(rng.uniform(-0.0004, 0.0004)))
    way = 1

    def cls_of(idx: int) -> str:
        if idx == 12:
            return "motorway"
        if idx % 6 == 0:
            return "primary"
        if idx % 3 == 0:
            return "secondary"
        return "residential"

    for orient in ("row", "col"):
        for i in range(n):
            cls_name = cls_of(i)
            cls = CLASS_CODE[cls_name]
            kmh = ROAD_CLASSES[cls][1]
            oneway = cls_name == "residential" and i % 4 == 1
            for j in range(n - 1):
                a, b = (ids[i, j], ids[i, j + 1]) if orient == "row" else (ids[j, i], ids[j + 1, i])
                if cls_name == "residential" and rng.random() < 0.08:
                    continue
                toll = 1 if cls_name == "motorway" else 0
                mw = 7.5 if (orient == "col" and i == 6 and j == 10) else math.nan
                mh = 3.5 if (orient == "row" and i == 18 and j in (4, 5)) else math.nan
                hgv_no = cls_name == "residential" and orient == "row" and 2 <= i <= 5 and 2 <= j <= 8
                net.add_arc(int(a), int(b), cls, kmh, toll, mw, mh, hgv_no, way)
                if not oneway:
                    net.add_arc(int(b), int(a), cls, kmh, toll, mw, mh, hgv_no, way)
            net.ways += 1
            way += 1
    # Terrain grid: 0.0005 degree posts with a margin, north-up.
    res = 0.0005
    west, north = lon0 - 0.005, lat0 + n * step + 0.005
    w = int((n * step + 0.01) / res) + 1
    gx = west + res * np.arange(w)
    gy = north - res * np.arange(w)
    xx, yy = np.meshgrid(gx, gy)
    h1 = 420.0 * np.exp(-(((xx - 6.13) / 0.012) ** 2 + ((yy - 45.93) / 0.010) ** 2))
    h2 = 260.0 * np.exp(-(((xx - 6.150) / 0.015) ** 2 + ((yy - 45.955) / 0.012) ** 2))
    valley = -60.0 * np.exp(-(((xx - 6.14) / 0.004) ** 2))
    grid = (380.0 + h1 + h2 + valley + 8.0 * np.sin(xx * 900.0) * np.cos(yy * 700.0)).astype(np.float32)
    geotransform = (west - res / 2, res, 0.0, north + res / 2, 0.0, -res)
    return net, grid, geotransform


def build_sample_assets(
    out: str | os.PathLike[str], signer: Any = None, seed: int = SAMPLE_SEED
) -> dict[str, Any]:
    """Builds the deterministic sample region into ``out`` (same pipeline and manifest as real assets)."""
    from ridgeline.routing import Dem

    started = time.perf_counter()
    net, grid, gt = sample_network(seed)
    dem = Dem.from_array(grid, gt, geographic=True)
    sources = {
        "generator": {"name": "ridgeline.routing.assets.sample_network", "seed": seed},
        "dem": [
            {"file": "synthetic-terrain", "sha256": sha256_bytes(grid.tobytes()), "bytes": int(grid.nbytes)}
        ],
    }
    return _finish(net, dem, Path(out), "sample", sources, "sample_synthetic_v1", signer, started)


# --------------------------------------------------------------------------------------------
# Loading and verification


@dataclass
class RoutingAssets:
    """Verified assets in memory: node and arc arrays, terrain, manifest and a spatial index."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    signature: dict[str, Any]
    node_lon: npt.NDArray[np.float64]
    node_lat: npt.NDArray[np.float64]
    node_elevation_m: npt.NDArray[np.float64]
    arcs: dict[str, npt.NDArray]
    #: OSM place nodes: ``lon``, ``lat``, ``kind``, ``name`` arrays (empty for older assets)
    places: dict[str, npt.NDArray] = field(default_factory=dict)
    #: OSM turn restrictions as arc pairs (``restriction_from/_to/_kind/_hgv``; empty for older assets)
    restrictions: dict[str, npt.NDArray] = field(default_factory=dict)
    _tree: Any = None
    _xy_scale: tuple[float, float] = (1.0, 1.0)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def dem_version(self) -> str:
        return str(self.manifest["dem_version"])

    @property
    def num_nodes(self) -> int:
        return int(self.node_lon.size)

    @property
    def num_arcs(self) -> int:
        return int(self.arcs["tail"].size)

    def spatial_index(self) -> Any:
        """The k-d tree used by :meth:`snap`, built on first use (call it to build it up front)."""
        if self._tree is None:
            from scipy.spatial import cKDTree

            lat0 = float(np.mean(self.node_lat)) if self.num_nodes else 0.0
            self._xy_scale = (111_320.0 * math.cos(math.radians(lat0)), 110_574.0)
            xy = np.column_stack([self.node_lon * self._xy_scale[0], self.node_lat * self._xy_scale[1]])
            self._tree = cKDTree(xy)
        return self._tree

    def snap(self, lon: float, lat: float) -> tuple[int, float]:
        """The nearest node to (lon, lat) and its great-circle distance in metres."""
        tree = self.spatial_index()
        _, i = tree.query([lon * self._xy_scale[0], lat * self._xy_scale[1]])
        i = int(i)
        return i, float(haversine(lon, lat, self.node_lon[i], self.node_lat[i]))


def _read_json(path: Path, reason: str, what: str) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError:
        raise AssetError(reason, f"{what} is missing: {path.name}") from None
    except (OSError, ValueError) as exc:
        raise AssetError(reason, f"{what} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise AssetError(reason, f"{what} is not a JSON object")
    return data, raw


def load_assets(
    path: str | os.PathLike[str],
    trusted_keys: list[str],
    *,
    expected_dem_version: str | None = None,
    min_terrain_coverage: float = DEFAULT_MIN_TERRAIN_COVERAGE,
) -> RoutingAssets:
    """Verifies (signature, file hashes, DEM version, terrain coverage) and loads an asset directory.

    ``trusted_keys`` are base64 raw Ed25519 public keys; the signature must verify under one of them.
    Raises :class:`AssetError` with ``routing_graph_unavailable``, ``asset_signature_invalid``,
    ``asset_hash_mismatch``, ``terrain_dem_asset_unavailable``, ``terrain_dem_version_mismatch`` or
    ``terrain_dem_coverage_insufficient``.
    """
    from ridgeline.platform.signing import verify

    root = Path(path)
    if not root.is_dir():
        raise AssetError("routing_graph_unavailable", f"Routing assets directory does not exist: {root}")
    manifest, raw = _read_json(root / "manifest.json", "routing_graph_unavailable", "Asset manifest")
    sig, _ = _read_json(root / "manifest.sig.json", "asset_signature_invalid", "Asset manifest signature")
    key = sig.get("public_key_b64")
    if key not in trusted_keys:
        raise AssetError(
            "asset_signature_invalid",
            "Asset manifest is signed by an untrusted key.",
            key_id=sig.get("key_id"),
        )
    check = verify(str(key), manifest, str(sig.get("signature", "")))
    if not check.valid:
        raise AssetError("asset_signature_invalid", f"Asset manifest signature is invalid: {check.reason}.")
    dem_version = str(manifest.get("dem_version", ""))
    files = manifest.get("files") or {}
    required = ["network.npz", "terrain.npz"]
    for fname in [*required, *sorted(set(files) - set(required))]:
        reason = "terrain_dem_asset_unavailable" if fname == "terrain.npz" else "routing_graph_unavailable"
        entry = files.get(fname)
        fpath = root / fname
        extra = {"terrain_dem_version": dem_version} if fname == "terrain.npz" else {}
        if not isinstance(entry, dict) or not fpath.is_file():
            msg = (
                "Terrain DEM assets are unavailable."
                if fname == "terrain.npz"
                else "Routing graph asset is unavailable."
            )
            raise AssetError(reason, f"{msg} ({fname} missing)", **extra)
        if sha256_path(fpath) != entry.get("sha256"):
            raise AssetError(
                "asset_hash_mismatch",
                f"{fname} does not match the SHA-256 recorded in the signed manifest.",
                file=fname,
                **extra,
            )
    if expected_dem_version and dem_version != expected_dem_version:
        raise AssetError(
            "terrain_dem_version_mismatch",
            f"Terrain DEM version {dem_version!r} does not match the required {expected_dem_version!r}.",
            terrain_dem_version=dem_version,
        )
    coverage = float((manifest.get("terrain") or {}).get("coverage", 0.0))
    if coverage < min_terrain_coverage:
        raise AssetError(
            "terrain_dem_coverage_insufficient",
            "Terrain DEM coverage of the network is insufficient.",
            terrain_dem_version=dem_version,
            terrain_coverage_required=min_terrain_coverage,
            terrain_coverage_min_observed=coverage,
        )
    with np.load(root / "network.npz") as nz:
        net = {k: nz[k] for k in nz.files}
    with np.load(root / "terrain.npz") as tz:
        ter = {k: tz[k] for k in tz.files}
    arcs = {
        k: v
        for k, v in net.items()
        if k not in ("node_lon", "node_lat") and not k.startswith(("place_", "restriction_"))
    }
    places = {k.removeprefix("place_"): v for k, v in net.items() if k.startswith("place_")}
    restrictions = {k: v for k, v in net.items() if k.startswith("restriction_")}
    for k in ("ascent_m", "descent_m", "grade", "max_grade", "coverage"):
        arcs[k] = ter[k].astype(np.float64)
    if "toll_facility" in arcs:
        from ridgeline.routing.energy import fixed_toll_eur

        arcs["toll_fixed_eur"] = fixed_toll_eur(arcs, manifest.get("toll_facilities") or [])
    return RoutingAssets(
        path=root,
        manifest=manifest,
        manifest_sha256=sha256_bytes(raw),
        signature=sig,
        node_lon=net["node_lon"].astype(np.float64),
        node_lat=net["node_lat"].astype(np.float64),
        node_elevation_m=ter["node_elevation_m"].astype(np.float64),
        arcs=arcs,
        places=places,
        restrictions=restrictions,
    )
