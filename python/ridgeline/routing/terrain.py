"""Elevation models (DEM): SRTM tiles, GeoTIFF, bilinear sampling, profiles, per-edge terrain."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ridgeline import _native

PathLike = str | os.PathLike[str]

__all__ = [
    "MAX_GRADE",
    "SMOOTHING_WINDOW_M",
    "Dem",
    "EdgeTerrain",
    "Profile",
    "RoadProfiles",
    "road_profiles",
    "windowed_mean",
]


@dataclass(frozen=True, slots=True)
class Profile:
    """Samples along a polyline: distance from its start (m), position and elevation (NaN unknown)."""

    distance_m: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    elevation: npt.NDArray[np.float64]

    @property
    def nodata_count(self) -> int:
        return int(np.isnan(self.elevation).sum())

    @property
    def coverage(self) -> float:
        """Fraction of samples with a known elevation (0 for an empty profile)."""
        n = self.elevation.size
        return 0.0 if n == 0 else 1.0 - self.nodata_count / n


@dataclass(frozen=True, slots=True)
class EdgeTerrain:
    """Per-edge terrain statistics (one array entry per edge).

    ``grade`` is the length-weighted mean signed grade (net rise over the length covered by known
    samples), ``abs_grade`` the length-weighted mean absolute grade, ``max_grade`` the steepest
    absolute grade between consecutive known samples at least ``min(spacing, length) / 2`` apart.
    ``coverage`` is the fraction of samples with a known elevation and ``nodata`` their complement
    as a count; statistics bridge unknown samples.
    """

    length_m: npt.NDArray[np.float64]
    ascent: npt.NDArray[np.float64]
    descent: npt.NDArray[np.float64]
    grade: npt.NDArray[np.float64]
    abs_grade: npt.NDArray[np.float64]
    max_grade: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]
    samples: npt.NDArray[np.int64]
    nodata: npt.NDArray[np.int64]

    @property
    def total_coverage(self) -> float:
        """Fraction of all samples with a known elevation."""
        n = int(self.samples.sum())
        return 0.0 if n == 0 else 1.0 - int(self.nodata.sum()) / n


def _coords(name: str, a: npt.ArrayLike) -> npt.NDArray[np.float64]:
    try:
        return np.ascontiguousarray(np.asarray(a, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric: {e}") from None


class Dem:
    """A north-up elevation grid with a GDAL-style geotransform; nodata is NaN.

    Samples sit at pixel centres: for SRTM ``.hgt`` tiles (grid-registered, row 0 on the north
    edge) that puts them on whole multiples of 1/1200 degree, as GDAL reads them.
    """

    __slots__ = ("_d",)

    def __init__(self, native: _native.Dem) -> None:
        self._d = native

    @classmethod
    def from_hgt(cls, paths: PathLike | Sequence[PathLike]) -> Dem:
        """Mosaic of SRTM ``.hgt`` tiles (plain or zipped); tile positions come from the names."""
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        return cls(_native.Dem.from_hgt([os.fspath(p) for p in paths]))

    @classmethod
    def from_array(
        cls,
        data: npt.ArrayLike,
        geotransform: Sequence[float],
        *,
        nodata: float | None = None,
        geographic: bool = True,
    ) -> Dem:
        """A DEM from a (height, width) array. ``geographic`` selects great-circle distances."""
        arr = np.ascontiguousarray(data, dtype=np.float32)
        if arr.ndim != 2:
            raise ValueError(f"data must be 2-D (height, width), got shape {arr.shape}")
        gt = [float(v) for v in geotransform]
        if len(gt) != 6:
            raise ValueError(f"geotransform must have 6 numbers, got {len(gt)}")
        return cls(
            _native.Dem.from_array(
                arr,
                (gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]),
                nodata=nodata,
                geographic=geographic,
            )
        )

    @classmethod
    def from_geotiff(cls, path: PathLike, band: int = 1) -> Dem:
        """Reads one band of a GeoTIFF (or any raster GDAL reads) with rasterio."""
        try:
            import rasterio
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Dem.from_geotiff needs rasterio (pip install rasterio)") from e
        with rasterio.open(os.fspath(path)) as src:
            data = src.read(band).astype(np.float32)
            gt = src.transform.to_gdal()
            geographic = bool(src.crs is not None and src.crs.is_geographic)
            return cls.from_array(data, gt, nodata=src.nodata, geographic=geographic)

    @property
    def width(self) -> int:
        return self._d.width

    @property
    def height(self) -> int:
        return self._d.height

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        gt = self._d.geotransform
        return (gt[0], gt[1], gt[2], gt[3], gt[4], gt[5])

    @property
    def nodata(self) -> float | None:
        """The nodata value of the source (stored as NaN)."""
        return self._d.nodata

    @property
    def geographic(self) -> bool:
        return self._d.geographic

    @property
    def nodata_count(self) -> int:
        return self._d.nodata_count

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the outermost sample centres."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0 + 0.5 * dx, x0 + (self.width - 0.5) * dx)
        ys = (y0 + 0.5 * dy, y0 + (self.height - 0.5) * dy)
        return (min(xs), min(ys), max(xs), max(ys))

    def to_array(self) -> npt.NDArray[np.float32]:
        """The grid as a (height, width) float32 copy, NaN for nodata."""
        return self._d.to_array()

    def __repr__(self) -> str:
        return f"Dem(width={self.width}, height={self.height}, bounds={self.bounds})"

    def sample(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Bilinear elevations (float64, the shape of ``lon``); NaN off the grid or at nodata."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"lon and lat must have the same shape, got {x.shape} and {y.shape}")
        out = self._d.sample(np.ascontiguousarray(x.reshape(-1)), np.ascontiguousarray(y.reshape(-1)))
        return out.reshape(x.shape)

    def profile(self, lon_line: npt.ArrayLike, lat_line: npt.ArrayLike, spacing_m: float = 30.0) -> Profile:
        """Samples every ``spacing_m`` metres along the polyline, plus its last vertex."""
        p = self._d.profile(_coords("lon_line", lon_line), _coords("lat_line", lat_line), float(spacing_m))
        return Profile(distance_m=p["distance"], lon=p["x"], lat=p["y"], elevation=p["z"])

    def edge_terrain(
        self,
        lines: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
        spacing_m: float = 30.0,
    ) -> EdgeTerrain:
        """Terrain statistics for many edge geometries, each a ``(lon_line, lat_line)`` pair."""
        xs = [_coords("lon", ln[0]) for ln in lines]
        ys = [_coords("lat", ln[1]) for ln in lines]
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if x.size != y.size:
                raise ValueError(f"edge {i}: lon and lat must have the same length")
        offsets = np.zeros(len(xs) + 1, dtype=np.int64)
        np.cumsum([x.size for x in xs], out=offsets[1:])
        x = np.concatenate(xs) if xs else np.empty(0)
        y = np.concatenate(ys) if ys else np.empty(0)
        return self.edge_terrain_flat(x, y, offsets, spacing_m)

    def edge_terrain_flat(
        self,
        lon: npt.ArrayLike,
        lat: npt.ArrayLike,
        offsets: npt.ArrayLike,
        spacing_m: float = 30.0,
    ) -> EdgeTerrain:
        """Like :meth:`edge_terrain` with concatenated vertices: edge e is ``offsets[e]:offsets[e+1]``."""
        off = np.ascontiguousarray(offsets, dtype=np.int64)
        d = self._d.edge_terrain(_coords("lon", lon), _coords("lat", lat), off, float(spacing_m))
        return EdgeTerrain(**d)


# --------------------------------------------------------------------------------------------
# Road elevation profiles: structures from their portals, smoothing, grade clamp

#: Half-width of the moving-average window is ``SMOOTHING_WINDOW_M / 2`` (chosen by measurement on
#: the Andorra extract, see docs/routing.md "Terrain").
SMOOTHING_WINDOW_M = 300.0
#: Grades between consecutive profile samples are clamped to this (a 30 % road is already extreme).
MAX_GRADE = 0.30
# Pulls a structure with no portal (an isolated tunnel) towards the surface so its system stays
# solvable; tiny next to the 1/length weights of its arcs, so portals decide everywhere else.
_PORTAL_FREE_PULL = 1e-7

_HAVERSINE_R = 6_371_008.8


def _hav(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    p0, p1 = np.radians(lat0), np.radians(lat1)
    a = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(np.radians(lon1 - lon0) / 2) ** 2
    return 2 * _HAVERSINE_R * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def merge_strokes(chains: Sequence[tuple[Sequence[int], bool]]) -> list[tuple[list[int], bool]]:
    """Joins surface ways end to end where exactly two of them meet and nothing else passes (OSM
    splits a road wherever a tag changes), so smoothing windows run across those splits."""
    uses: dict[int, int] = {}
    for ids, _ in chains:
        for i in set(ids):
            uses[i] = uses.get(i, 0) + 1
    ends: dict[int, list[int]] = {}
    surface = [i for i, (ids, st) in enumerate(chains) if not st and len(ids) >= 2 and ids[0] != ids[-1]]
    for c in surface:
        ids = chains[c][0]
        for node in (ids[0], ids[-1]):
            ends.setdefault(node, []).append(c)
    joins = {node: cs for node, cs in ends.items() if len(cs) == 2 and cs[0] != cs[1] and uses[node] == 2}

    def other(node: int, c: int) -> int | None:
        cs = joins.get(node)
        return None if cs is None else (cs[1] if cs[0] == c else cs[0])

    out: list[tuple[list[int], bool]] = [
        (list(ids), st) for i, (ids, st) in enumerate(chains) if st or i not in set(surface)
    ]
    done: set[int] = set()
    for c0 in surface:
        if c0 in done:
            continue
        # Walk back to the start of the stroke, then forward collecting its ways in order.
        c, node = c0, chains[c0][0][0]
        seen = {c0}
        while (p := other(node, c)) is not None and p not in seen:
            seen.add(p)
            ids = chains[p][0]
            node = ids[0] if ids[-1] == node else ids[-1]
            c = p
        ids = list(chains[c][0])
        if ids[-1] == node:
            ids.reverse()
        stroke, done_local = ids, {c}
        while (n := other(stroke[-1], c)) is not None and n not in done_local:
            nxt = list(chains[n][0])
            if nxt[-1] == stroke[-1]:
                nxt.reverse()
            stroke.extend(nxt[1:])
            done_local.add(n)
            c = n
        done |= done_local
        out.append((stroke, False))
    return out


def windowed_mean(s: npt.NDArray[np.float64], z: npt.NDArray[np.float64], window_m: float) -> np.ndarray:
    """Distance-windowed moving average of the piecewise-linear profile ``z(s)``.

    The window is centred and shrinks symmetrically near both ends, so the end values (and so the
    net climb between them) are kept exactly."""
    return _windowed(s, z, window_m)[0]


def _windowed(s: np.ndarray, z: np.ndarray, window_m: float) -> tuple[np.ndarray, np.ndarray]:
    h = np.minimum(np.minimum(window_m / 2, s - s[0]), s[-1] - s)
    if z.size < 3 or window_m <= 0:
        return z.copy(), np.zeros_like(z)
    f = np.concatenate([[0.0], np.cumsum(0.5 * (z[1:] + z[:-1]) * np.diff(s))])
    out = z.copy()
    m = h > 1e-9
    out[m] = (np.interp(s[m] + h[m], s, f) - np.interp(s[m] - h[m], s, f)) / (2 * h[m])
    return out, h


@dataclass(frozen=True, slots=True)
class RoadProfiles:
    """Per-segment terrain of road chains (segment k joins ``seg_u[k]`` -> ``seg_v[k]``, in chain
    order; the reverse direction swaps ascent and descent and negates the grade) and per-node
    elevations consistent with them (NaN where the DEM knows nothing)."""

    node_elevation: npt.NDArray[np.float64]
    seg_u: npt.NDArray[np.int64]
    seg_v: npt.NDArray[np.int64]
    ascent: npt.NDArray[np.float64]
    descent: npt.NDArray[np.float64]
    grade: npt.NDArray[np.float64]
    max_grade: npt.NDArray[np.float64]
    clamped_intervals: int


def road_profiles(
    dem: Dem,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    chains: Sequence[tuple[Sequence[int], bool]],
    *,
    spacing_m: float = 30.0,
    window_m: float = SMOOTHING_WINDOW_M,
    max_grade: float = MAX_GRADE,
) -> RoadProfiles:
    """Elevation profiles along road chains (OSM ways as node-index lists, ``True`` for a tunnel,
    bridge or other structure).

    Surface roads: the DEM sampled every ``spacing_m`` along the way, gaps bridged linearly,
    smoothed by :func:`windowed_mean` (ways are first joined into strokes by
    :func:`merge_strokes`). A node shared by several ways takes the mean of their smoothed values
    weighted by the window each had there and each way's profile is shifted linearly between its shared nodes to pass
    through them, so arc rises add up to the node differences. Structures ignore the DEM surface: their
    inner nodes are interpolated between the portals (the nodes they share with surface roads) by
    distance (a harmonic solve, linear along a single run), and their profile is linear between
    nodes; a structure end that meets nothing else takes the DEM there. Each sample interval's
    grade is finally clamped to ``max_grade``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    n = lon.size
    chains = merge_strokes(chains)
    uses = np.zeros(n, dtype=np.int64)
    for ids_seq, _ in chains:
        np.add.at(uses, np.unique(np.asarray(ids_seq, dtype=np.int64)), 1)
    acc = np.zeros(n)
    cnt = np.zeros(n)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]] = []
    for ids_seq, structure in chains:
        ids = np.asarray(ids_seq, dtype=np.int64)
        if ids.size < 2:
            continue
        seg = _hav(lon[ids[:-1]], lat[ids[:-1]], lon[ids[1:]], lat[ids[1:]])
        k = np.maximum(1, np.ceil(seg / spacing_m)).astype(np.int64)
        node_pos = np.concatenate([[0], np.cumsum(k)])
        owner = np.repeat(np.arange(ids.size - 1), k)
        frac = (np.arange(owner.size) - node_pos[owner]) / k[owner]
        x = np.append(lon[ids[:-1]][owner] + frac * (lon[ids[1:]] - lon[ids[:-1]])[owner], lon[ids[-1]])
        y = np.append(lat[ids[:-1]][owner] + frac * (lat[ids[1:]] - lat[ids[:-1]])[owner], lat[ids[-1]])
        s = np.concatenate([[0.0], np.cumsum(seg)])
        s = np.append(s[owner] + frac * seg[owner], s[-1])
        if structure:
            kept.append((ids, s, node_pos, np.empty(0), True))
            continue
        z = dem.sample(x, y)
        known = np.isfinite(z)
        if known.any():
            z = np.interp(s, s[known], z[known])
            z, h = _windowed(s, z, window_m)
            # A junction takes the smoothed values of its ways weighted by how much smoothing
            # each had there (+1 m), so a side road ending at it does not pin it to the raw DEM.
            wt = h[node_pos] + 1.0
            np.add.at(acc, ids, wt * z[node_pos])
            np.add.at(cnt, ids, wt)
        kept.append((ids, s, node_pos, z, False))
    elev = np.full(n, np.nan)
    has = cnt > 0
    elev[has] = acc[has] / cnt[has]

    # Structure nodes without a surface value: distance-weighted harmonic interpolation.
    su, sv, sw = [], [], []
    for ids, s, node_pos, _, structure in kept:
        if structure:
            su.append(ids[:-1])
            sv.append(ids[1:])
            sw.append(1.0 / np.maximum(np.diff(s[node_pos]), 0.1))
    if su:
        u, v, w = np.concatenate(su), np.concatenate(sv), np.concatenate(sw)
        ok = u != v
        u, v, w = u[ok], v[ok], w[ok]
        unknown = np.unique(np.concatenate([u, v]))
        unknown = unknown[~has[unknown]]
        # A structure's dead end (nothing else meets it, e.g. where the extract is cut) is a portal
        # on the DEM surface.
        ends = unknown[np.bincount(np.concatenate([u, v]), minlength=n)[unknown] == 1]
        if ends.size:
            elev[ends] = dem.sample(lon[ends], lat[ends])
            unknown = unknown[~np.isfinite(elev[unknown])]
        if unknown.size:
            col = np.full(n, -1, dtype=np.int64)
            col[unknown] = np.arange(unknown.size)
            raw = dem.sample(lon[unknown], lat[unknown])
            fallback = float(np.nanmean(elev)) if has.any() else 0.0
            raw = np.where(np.isfinite(raw), raw, fallback)
            rows, cols, vals = [], [], []
            b = _PORTAL_FREE_PULL * raw
            diag = np.full(unknown.size, _PORTAL_FREE_PULL)
            for a, c in ((u, v), (v, u)):
                ia = col[a]
                m = ia >= 0
                np.add.at(diag, ia[m], w[m])
                ic = col[c]
                inner = m & (ic >= 0)
                rows.append(ia[inner])
                cols.append(ic[inner])
                vals.append(-w[inner])
                outer = m & (ic < 0)
                np.add.at(b, ia[outer], w[outer] * np.nan_to_num(elev[c[outer]], nan=fallback))
            idx = np.arange(unknown.size)
            mat = coo_matrix(
                (np.concatenate([*vals, diag]), (np.concatenate([*rows, idx]), np.concatenate([*cols, idx]))),
                shape=(unknown.size, unknown.size),
            ).tocsc()
            elev[unknown] = np.atleast_1d(spsolve(mat, b))

    us, vs, asc, desc, grade, mg = [], [], [], [], [], []
    clamped = 0
    for ids, s, node_pos, z, structure in kept:
        if structure:
            zf = np.interp(s, s[node_pos], elev[ids])
        elif z.size:
            # Shift between the nodes other ways share (and the ends) only: a short arc next to a
            # junction does not absorb the whole correction. Nodes of this way alone follow.
            _, inv, times = np.unique(ids, return_inverse=True, return_counts=True)
            anchor = (uses[ids] > 1) | (times[inv] > 1)  # a node the way visits twice stays put
            anchor[[0, -1]] = True
            ap = node_pos[anchor]
            zf = z + np.interp(s, s[ap], elev[ids[anchor]] - z[ap])
            elev[ids[~anchor]] = zf[node_pos[~anchor]]
        else:
            zf = np.full(s.size, np.nan)
        ds = np.maximum(np.diff(s), 1e-6)
        slope = np.diff(zf) / ds
        clamped += int((np.abs(slope) > max_grade).sum())
        dz = np.clip(slope, -max_grade, max_grade) * ds
        starts = node_pos[:-1]
        up = np.add.reduceat(np.maximum(dz, 0.0), starts)
        down = np.add.reduceat(np.maximum(-dz, 0.0), starts)
        length = np.maximum(np.add.reduceat(ds, starts), 1e-6)
        us.append(ids[:-1])
        vs.append(ids[1:])
        asc.append(up)
        desc.append(down)
        grade.append((up - down) / length)
        mg.append(np.maximum.reduceat(np.abs(dz / ds), starts))
    cat = lambda parts, dt=np.float64: np.concatenate(parts).astype(dt) if parts else np.empty(0, dt)  # noqa: E731
    return RoadProfiles(
        node_elevation=elev,
        seg_u=cat(us, np.int64),
        seg_v=cat(vs, np.int64),
        ascent=cat(asc),
        descent=cat(desc),
        grade=cat(grade),
        max_grade=cat(mg),
        clamped_intervals=clamped,
    )
