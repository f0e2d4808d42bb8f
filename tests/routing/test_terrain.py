"""DEM sampling against an independent numpy bilinear computation on the Andorra SRTM tiles."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ridgeline.routing import Dem

from .conftest import data_file

NODATA = -32768


def read_tile(path) -> np.ndarray:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.lower().endswith(".hgt"))
        raw = z.read(name)
    return np.frombuffer(raw, dtype=">i2").reshape(1201, 1201).astype(np.float64)


@pytest.fixture(scope="module")
def andorra() -> tuple[Dem, np.ndarray]:
    north = data_file("routing/dem/N42E001.hgt.zip")
    south = data_file("routing/dem/N41E001.hgt.zip")
    dem = Dem.from_hgt([north, south])
    a, b = read_tile(north), read_tile(south)
    # Independent mosaic: rows run north to south; the lat 42 row is shared by both tiles.
    shared = np.where(a[-1] == NODATA, b[0], a[-1])
    grid = np.vstack([a[:-1], shared[None, :], b[1:]])
    grid[grid == NODATA] = np.nan
    return dem, grid


def bilinear(grid: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Grid-registered bilinear interpolation: column = (lon - 1) * 1200, row = (43 - lat) * 1200."""
    h, w = grid.shape
    col = (lon - 1.0) * 1200.0
    row = (43.0 - lat) * 1200.0
    out = np.full(lon.shape, np.nan)
    inside = (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
    c0 = np.minimum(np.floor(col[inside]).astype(int), w - 2)
    r0 = np.minimum(np.floor(row[inside]).astype(int), h - 2)
    fx, fy = col[inside] - c0, row[inside] - r0
    corners = [
        ((1 - fx) * (1 - fy), grid[r0, c0]),
        (fx * (1 - fy), grid[r0, c0 + 1]),
        ((1 - fx) * fy, grid[r0 + 1, c0]),
        (fx * fy, grid[r0 + 1, c0 + 1]),
    ]
    acc = np.zeros(fx.shape)
    bad = np.zeros(fx.shape, dtype=bool)
    for wgt, val in corners:
        used = wgt != 0
        bad |= used & np.isnan(val)
        acc += np.where(used, wgt * np.nan_to_num(val), 0.0)
    acc[bad] = np.nan
    out[inside] = acc
    return out


def test_mosaic_matches_tiles(andorra: tuple[Dem, np.ndarray]) -> None:
    dem, grid = andorra
    assert (dem.height, dem.width) == grid.shape == (2401, 1201)
    np.testing.assert_array_equal(dem.to_array(), grid.astype(np.float32))
    assert dem.nodata_count == int(np.isnan(grid).sum()) > 0
    assert dem.bounds == pytest.approx((1.0, 41.0, 2.0, 43.0))


def test_sampling_matches_numpy_bilinear(andorra: tuple[Dem, np.ndarray]) -> None:
    dem, grid = andorra
    rng = np.random.default_rng(42)
    lon = rng.uniform(0.98, 2.02, 200_000)
    lat = rng.uniform(40.98, 43.02, 200_000)
    # Points near the shared tile edge (lat 42), the outer edges and the corners.
    edge_lon = rng.uniform(1.0, 2.0, 2000)
    near = np.array([0.0, 1e-7, -1e-7, 0.4 / 1200, -0.4 / 1200])
    lon = np.concatenate([lon, np.repeat(edge_lon, near.size), [1.0, 2.0, 1.0, 2.0, 1.5, 1.5]])
    lat = np.concatenate([lat, np.tile(42.0 + near, edge_lon.size), [41.0, 41.0, 43.0, 43.0, 43.0, 41.0]])
    # Points around nodata voids.
    rows, cols = np.nonzero(np.isnan(grid))
    pick = rng.choice(rows.size, 2000)
    lon = np.concatenate([lon, 1.0 + (cols[pick] + rng.uniform(-1, 1, 2000)) / 1200])
    lat = np.concatenate([lat, 43.0 - (rows[pick] + rng.uniform(-1, 1, 2000)) / 1200])
    got = dem.sample(lon, lat)
    want = bilinear(grid, lon, lat)
    assert got.dtype == np.float64 and got.shape == lon.shape
    mismatch = np.isnan(got) != np.isnan(want)
    assert not mismatch.any(), list(zip(lon[mismatch][:5], lat[mismatch][:5], strict=True))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)
    # Off-grid is NaN; voids were actually exercised.
    assert np.isnan(dem.sample([0.99, 2.01, 1.5], [42.0, 42.0, 43.001])).all()
    assert np.isnan(got[-2000:]).sum() > 100


def test_exact_grid_points_and_shared_edge(andorra: tuple[Dem, np.ndarray]) -> None:
    dem, grid = andorra
    r, c = 1200, np.arange(0, 1201, 37)
    got = dem.sample(1.0 + c / 1200.0, np.full(c.size, 43.0 - r / 1200.0))
    np.testing.assert_allclose(got, grid[r, c], atol=1e-6)


def test_profile_and_edge_terrain(andorra: tuple[Dem, np.ndarray]) -> None:
    dem, grid = andorra
    lon = np.array([1.45, 1.50, 1.55])
    lat = np.array([42.50, 42.55, 42.52])
    prof = dem.profile(lon, lat, spacing_m=30.0)
    d = np.diff(prof.distance_m)
    assert np.all(d[:-1] == pytest.approx(30.0)) and 0 < d[-1] <= 30.0
    np.testing.assert_allclose(prof.elevation, bilinear(grid, prof.lon, prof.lat), atol=1e-6)
    assert prof.lon[0] == lon[0] and prof.lat[-1] == lat[-1]
    stats = dem.edge_terrain([(lon, lat), (lon[::-1], lat[::-1])], spacing_m=30.0)
    z = prof.elevation[~np.isnan(prof.elevation)]
    dz = np.diff(z)
    assert stats.ascent[0] == pytest.approx(dz[dz > 0].sum())
    assert stats.descent[0] == pytest.approx(-dz[dz < 0].sum())
    # Reversed, the samples sit at other positions along the line: close, not identical.
    assert stats.ascent[1] == pytest.approx(stats.descent[0], rel=0.05)
    assert stats.length_m[0] == pytest.approx(prof.distance_m[-1])
    assert stats.coverage[0] == pytest.approx(prof.coverage)
    assert stats.nodata[0] == prof.nodata_count
    assert 0 < stats.max_grade[0] < 2.0


def test_geotiff_roundtrip(tmp_path, andorra: tuple[Dem, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    rasterio = pytest.importorskip("rasterio")
    dem, grid = andorra
    data = np.nan_to_num(grid[:300, :400], nan=-32768).astype(np.float32)
    path = tmp_path / "dem.tif"
    gt = dem.geotransform
    transform = rasterio.Affine.from_gdal(*gt)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=300,
        width=400,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
        nodata=-32768,
    ) as dst:
        dst.write(data, 1)
    tif = Dem.from_geotiff(path)
    assert tif.geographic
    rng = np.random.default_rng(1)
    lon = rng.uniform(1.0, 1.0 + 399 / 1200, 5000)
    lat = rng.uniform(43.0 - 299 / 1200, 43.0, 5000)
    np.testing.assert_allclose(tif.sample(lon, lat), dem.sample(lon, lat), atol=1e-6, equal_nan=True)
    # rasterio's own nearest-pixel sample agrees at pixel centres.
    with rasterio.open(path) as src:
        pts = [(1.0 + 10 / 1200, 43.0 - 20 / 1200)]
        (val,) = next(src.sample(pts))
    assert tif.sample([pts[0][0]], [pts[0][1]])[0] == pytest.approx(float(val))


def test_plain_hgt_matches_zipped(tmp_path, andorra: tuple[Dem, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    dem, _ = andorra
    north = data_file("routing/dem/N42E001.hgt.zip")
    with zipfile.ZipFile(north) as z:
        name = next(n for n in z.namelist() if n.lower().endswith(".hgt"))
        (tmp_path / "N42E001.hgt").write_bytes(z.read(name))
    plain = Dem.from_hgt(tmp_path / "N42E001.hgt")
    assert (plain.height, plain.width) == (1201, 1201)
    np.testing.assert_array_equal(plain.to_array(), dem.to_array()[:1201])
    assert plain.bounds == pytest.approx((1.0, 42.0, 2.0, 43.0))
