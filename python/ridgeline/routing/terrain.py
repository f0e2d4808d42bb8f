"""Elevation models (DEM): SRTM tiles, GeoTIFF, bilinear sampling, profiles, per-edge terrain."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ridgeline import _native

PathLike = str | os.PathLike[str]

__all__ = ["Dem", "EdgeTerrain", "Profile"]


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
