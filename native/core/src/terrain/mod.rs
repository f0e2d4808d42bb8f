//! Digital elevation models: SRTM `.hgt` mosaics, bilinear sampling, profiles and per-edge terrain
//! statistics.
//!
//! A [`Dem`] is a north-up `f32` grid with a GDAL-style geotransform
//! `[x0, dx, 0, y0, 0, dy]` (`x0, y0` the outer corner of pixel (0, 0), `dy < 0` for north-up),
//! samples at pixel centres, and nodata stored as NaN. For an SRTM tile (grid-registered: samples
//! on whole 1/1200 degrees, row 0 on the north edge) the transform is
//! `[lon - 0.5/1200, 1/1200, 0, lat + 1 + 0.5/1200, 0, -1/1200]`, the convention GDAL uses.
//!
//! Bilinear sampling uses the four samples around the point; it is NaN off the grid (beyond the
//! outermost sample centres by more than 1e-6 pixel) and when any of the four samples with a
//! non-zero weight is nodata.

mod hgt;
#[cfg(test)]
mod tests;

use crate::parallel;

pub use hgt::{parse_tile_name, read_hgt_tile, HgtTile};

/// Tolerance, in pixels, for points on the outermost sample lines.
const SNAP: f64 = 1e-6;

/// Mean Earth radius (IUGG) used for geographic distances, metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Errors raised when building or reading DEMs.
#[derive(Debug, thiserror::Error)]
pub enum TerrainError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read DEM tile {path}: {reason}")]
    BadTile { path: String, reason: String },
    #[error("cannot read DEM tile {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, TerrainError>;

/// A north-up elevation grid.
#[derive(Debug, Clone)]
pub struct Dem {
    width: usize,
    height: usize,
    gt: [f64; 6],
    data: Vec<f32>,
    nodata: Option<f64>,
    geographic: bool,
}

/// Samples along a polyline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Distance from the first vertex, metres.
    pub distance: Vec<f64>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Elevation (NaN where unknown).
    pub z: Vec<f64>,
}

/// Terrain statistics of one edge geometry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EdgeTerrain {
    pub length_m: f64,
    /// Sum of positive elevation changes between consecutive known samples.
    pub ascent: f64,
    pub descent: f64,
    /// Length-weighted mean signed grade: net rise over the length covered by known samples.
    pub grade: f64,
    /// Length-weighted mean absolute grade: `(ascent + descent)` over the covered length.
    pub abs_grade: f64,
    /// Largest absolute grade between consecutive known samples at least `min(spacing, length)/2`
    /// apart (shorter pieces are too noisy).
    pub max_grade: f64,
    /// Fraction of samples with a known elevation.
    pub coverage: f64,
    pub samples: u32,
    pub nodata: u32,
}

/// A located grid cell: index of its top-left sample, offsets to the right/lower neighbours (0 on
/// a one-sample-wide grid) and the fractional position inside it.
#[derive(Clone, Copy)]
struct Cell {
    i00: usize,
    dc: usize,
    dr: usize,
    fx: f64,
    fy: f64,
}

/// Hints the CPU to load the cache line holding `v`.
#[inline(always)]
fn prefetch<T>(v: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; the pointer comes from a valid reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch(v as *const T as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// Great-circle (haversine) or Euclidean distance.
#[inline]
fn distance(geographic: bool, x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    if geographic {
        let (p0, p1) = (y0.to_radians(), y1.to_radians());
        let dp = p1 - p0;
        let dl = (x1 - x0).to_radians();
        let a = (dp * 0.5).sin().powi(2) + p0.cos() * p1.cos() * (dl * 0.5).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    } else {
        (x1 - x0).hypot(y1 - y0)
    }
}

impl Dem {
    /// A DEM from row-major data (row 0 first). Values equal to `nodata` and non-finite values
    /// become NaN. `geographic` selects great-circle distances (degrees) or Euclidean ones.
    pub fn new(
        width: usize,
        height: usize,
        gt: [f64; 6],
        mut data: Vec<f32>,
        nodata: Option<f64>,
        geographic: bool,
    ) -> Result<Dem> {
        if width == 0 || height == 0 || data.len() != width * height {
            return Err(TerrainError::Invalid(format!(
                "DEM data must have width * height = {width} * {height} values, got {}",
                data.len()
            )));
        }
        if gt.iter().any(|v| !v.is_finite()) || gt[1] == 0.0 || gt[5] == 0.0 {
            return Err(TerrainError::Invalid(format!(
                "geotransform must be finite with non-zero pixel sizes, got {gt:?}"
            )));
        }
        if gt[2] != 0.0 || gt[4] != 0.0 {
            return Err(TerrainError::Invalid(
                "rotated geotransforms are not supported (gt[2] and gt[4] must be 0)".into(),
            ));
        }
        if let Some(nd) = nodata {
            let nd = nd as f32;
            data.iter_mut().for_each(|v| {
                if *v == nd {
                    *v = f32::NAN
                }
            });
        }
        data.iter_mut().for_each(|v| {
            if !v.is_finite() {
                *v = f32::NAN
            }
        });
        Ok(Dem {
            width,
            height,
            gt,
            data,
            nodata,
            geographic,
        })
    }

    /// Mosaic of SRTM tiles (plain `.hgt` or zipped), all of the same resolution. Shared edges
    /// are taken from the first tile with a known value; missing tiles inside the bounding box
    /// are nodata.
    pub fn from_hgt<P: AsRef<std::path::Path> + Sync>(paths: &[P]) -> Result<Dem> {
        if paths.is_empty() {
            return Err(TerrainError::Invalid(
                "from_hgt needs at least one tile".into(),
            ));
        }
        let read = |i: usize| read_hgt_tile(paths[i].as_ref());
        let tiles: Vec<HgtTile> = parallel::par_map(parallel::ALL_CORES, paths.len(), read)
            .unwrap_or_else(|_| (0..paths.len()).map(read).collect())
            .into_iter()
            .collect::<Result<_>>()?;
        let size = tiles[0].size;
        if let Some(t) = tiles.iter().find(|t| t.size != size) {
            return Err(TerrainError::Invalid(format!(
                "all tiles must have the same resolution: {} has {} samples per side, expected {size}",
                t.name, t.size
            )));
        }
        let s = size - 1; // samples per degree
        let lat_min = tiles.iter().map(|t| t.lat).min().unwrap();
        let lat_max = tiles.iter().map(|t| t.lat).max().unwrap();
        let lon_min = tiles.iter().map(|t| t.lon).min().unwrap();
        let lon_max = tiles.iter().map(|t| t.lon).max().unwrap();
        let width = (lon_max - lon_min + 1) as usize * s + 1;
        let height = (lat_max - lat_min + 1) as usize * s + 1;
        if width.saturating_mul(height) > 2_000_000_000 {
            return Err(TerrainError::Invalid(format!(
                "mosaic of {width} x {height} samples is too large"
            )));
        }
        let mut data = vec![f32::NAN; width * height];
        for t in &tiles {
            let c0 = (t.lon - lon_min) as usize * s;
            let r0 = (lat_max - t.lat) as usize * s;
            for r in 0..size {
                let dst = &mut data[(r0 + r) * width + c0..(r0 + r) * width + c0 + size];
                let src = &t.data[r * size..(r + 1) * size];
                for (d, &v) in dst.iter_mut().zip(src) {
                    if d.is_nan() && v != hgt::HGT_NODATA {
                        *d = v as f32;
                    }
                }
            }
        }
        let res = 1.0 / s as f64;
        let gt = [
            lon_min as f64 - 0.5 * res,
            res,
            0.0,
            (lat_max + 1) as f64 + 0.5 * res,
            0.0,
            -res,
        ];
        Ok(Dem {
            width,
            height,
            gt,
            data,
            nodata: Some(hgt::HGT_NODATA as f64),
            geographic: true,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn geotransform(&self) -> [f64; 6] {
        self.gt
    }
    pub fn nodata(&self) -> Option<f64> {
        self.nodata
    }
    pub fn is_geographic(&self) -> bool {
        self.geographic
    }
    /// Row-major data, NaN for nodata.
    pub fn data(&self) -> &[f32] {
        &self.data
    }
    /// Number of nodata (NaN) samples in the grid.
    pub fn nodata_count(&self) -> usize {
        self.data.iter().filter(|v| v.is_nan()).count()
    }

    /// Bilinear elevation at `(x, y)`; NaN off the grid or next to nodata.
    #[inline]
    pub fn sample(&self, x: f64, y: f64) -> f64 {
        match self.locate(x, y) {
            Some(cell) => self.interpolate(&cell),
            None => f64::NAN,
        }
    }

    /// The grid cell around `(x, y)`, or None off the grid.
    #[inline(always)]
    fn locate(&self, x: f64, y: f64) -> Option<Cell> {
        let col = (x - self.gt[0]) / self.gt[1] - 0.5;
        let row = (y - self.gt[3]) / self.gt[5] - 0.5;
        let (w, h) = (self.width, self.height);
        let (wm, hm) = ((w - 1) as f64, (h - 1) as f64);
        // Points on the outer sample lines may land a rounding error outside: snap them back.
        // Written so that NaN inputs fail the test.
        if !(col >= -SNAP && row >= -SNAP && col <= wm + SNAP && row <= hm + SNAP) {
            return None;
        }
        let col = col.clamp(0.0, wm);
        let row = row.clamp(0.0, hm);
        let c0 = (col as usize).min(w.saturating_sub(2));
        let r0 = (row as usize).min(h.saturating_sub(2));
        Some(Cell {
            i00: r0 * w + c0,
            dc: usize::from(c0 + 1 < w),
            dr: if r0 + 1 < h { w } else { 0 },
            fx: col - c0 as f64,
            fy: row - r0 as f64,
        })
    }

    #[inline(always)]
    fn interpolate(&self, c: &Cell) -> f64 {
        let d = &self.data;
        let (fx, fy) = (c.fx, c.fy);
        let v00 = d[c.i00] as f64;
        let v01 = d[c.i00 + c.dc] as f64;
        let v10 = d[c.i00 + c.dr] as f64;
        let v11 = d[c.i00 + c.dr + c.dc] as f64;
        let top = v00 + (v01 - v00) * fx;
        let bot = v10 + (v11 - v10) * fx;
        let v = top + (bot - top) * fy;
        if !v.is_nan() {
            return v;
        }
        // Some corner is nodata: NaN unless all nodata corners have zero weight.
        let ws = [
            ((1.0 - fx) * (1.0 - fy), v00),
            (fx * (1.0 - fy), v01),
            ((1.0 - fx) * fy, v10),
            (fx * fy, v11),
        ];
        let mut acc = 0.0;
        for (wt, val) in ws {
            if wt != 0.0 {
                if val.is_nan() {
                    return f64::NAN;
                }
                acc += wt * val;
            }
        }
        acc
    }

    /// Samples a run of points in blocks: locate a block, prefetch its cells, then interpolate,
    /// so that the cache misses of a block overlap.
    fn sample_block(&self, xs: &[f64], ys: &[f64], out: &mut [f64]) {
        const B: usize = 32;
        let mut cells = [None; B];
        for ((xb, yb), ob) in xs.chunks(B).zip(ys.chunks(B)).zip(out.chunks_mut(B)) {
            for (j, (&x, &y)) in xb.iter().zip(yb).enumerate() {
                cells[j] = self.locate(x, y);
                if let Some(c) = &cells[j] {
                    prefetch(&self.data[c.i00]);
                    prefetch(&self.data[c.i00 + c.dr]);
                }
            }
            for (j, o) in ob.iter_mut().enumerate() {
                *o = match &cells[j] {
                    Some(c) => self.interpolate(c),
                    None => f64::NAN,
                };
            }
        }
    }

    /// Samples many points (in parallel for large inputs) into `out`.
    pub fn sample_many(&self, xs: &[f64], ys: &[f64], out: &mut [f64]) -> Result<()> {
        if xs.len() != ys.len() || xs.len() != out.len() {
            return Err(TerrainError::Invalid(format!(
                "x and y must have the same length, got {} and {}",
                xs.len(),
                ys.len()
            )));
        }
        const CHUNK: usize = 16_384;
        if xs.len() <= CHUNK {
            self.sample_block(xs, ys, out);
        } else {
            let block = |_: &mut (), i: usize, o: &mut [f64]| {
                let a = i * CHUNK;
                self.sample_block(&xs[a..a + o.len()], &ys[a..a + o.len()], o)
            };
            if parallel::par_chunks_mut(parallel::ALL_CORES, out, CHUNK, || (), block).is_err() {
                for (i, o) in out.chunks_mut(CHUNK).enumerate() {
                    block(&mut (), i, o);
                }
            }
        }
        Ok(())
    }

    /// Points every `spacing` metres along the polyline, plus its last vertex, with elevations.
    pub fn profile(&self, xs: &[f64], ys: &[f64], spacing: f64) -> Result<Profile> {
        if xs.len() != ys.len() {
            return Err(TerrainError::Invalid(format!(
                "polyline x and y must have the same length, got {} and {}",
                xs.len(),
                ys.len()
            )));
        }
        if !(spacing.is_finite() && spacing > 0.0) {
            return Err(TerrainError::Invalid(format!(
                "spacing must be a positive number of metres, got {spacing}"
            )));
        }
        if let Some(i) = xs.iter().chain(ys).position(|v| !v.is_finite()) {
            return Err(TerrainError::Invalid(format!(
                "polyline coordinates must be finite (value {i} is not)"
            )));
        }
        let mut p = Profile::default();
        if xs.is_empty() {
            return Ok(p);
        }
        let mut push = |d: f64, x: f64, y: f64| {
            p.distance.push(d);
            p.x.push(x);
            p.y.push(y);
            p.z.push(self.sample(x, y));
        };
        push(0.0, xs[0], ys[0]);
        let mut travelled = 0.0; // distance at the start of the current segment
        let mut next = spacing; // distance of the next regular sample
        for i in 1..xs.len() {
            let seg = distance(self.geographic, xs[i - 1], ys[i - 1], xs[i], ys[i]);
            while seg > 0.0 && next < travelled + seg {
                let f = (next - travelled) / seg;
                push(
                    next,
                    xs[i - 1] + (xs[i] - xs[i - 1]) * f,
                    ys[i - 1] + (ys[i] - ys[i - 1]) * f,
                );
                next += spacing;
            }
            travelled += seg;
        }
        if xs.len() > 1 {
            push(travelled, xs[xs.len() - 1], ys[ys.len() - 1]);
        }
        Ok(p)
    }

    /// Terrain statistics for many edge geometries: edge `e` is the polyline
    /// `xs[offsets[e]..offsets[e + 1]]`.
    pub fn edge_terrain(
        &self,
        xs: &[f64],
        ys: &[f64],
        offsets: &[usize],
        spacing: f64,
    ) -> Result<Vec<EdgeTerrain>> {
        if xs.len() != ys.len() {
            return Err(TerrainError::Invalid(format!(
                "x and y must have the same length, got {} and {}",
                xs.len(),
                ys.len()
            )));
        }
        if offsets.is_empty()
            || offsets[0] != 0
            || *offsets.last().unwrap() != xs.len()
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err(TerrainError::Invalid(
                "offsets must be non-decreasing, start at 0 and end at the number of points".into(),
            ));
        }
        let edge = |e: usize| -> Result<EdgeTerrain> {
            let (a, b) = (offsets[e], offsets[e + 1]);
            let p = self.profile(&xs[a..b], &ys[a..b], spacing)?;
            Ok(stats(&p, spacing))
        };
        let n = offsets.len() - 1;
        parallel::par_map(parallel::ALL_CORES, n, edge)
            .unwrap_or_else(|_| (0..n).map(edge).collect())
            .into_iter()
            .collect()
    }
}

fn stats(p: &Profile, spacing: f64) -> EdgeTerrain {
    let n = p.z.len();
    let length = p.distance.last().copied().unwrap_or(0.0);
    let known = p.z.iter().filter(|z| !z.is_nan()).count();
    let mut e = EdgeTerrain {
        length_m: length,
        samples: n as u32,
        nodata: (n - known) as u32,
        coverage: if n == 0 { 0.0 } else { known as f64 / n as f64 },
        ..Default::default()
    };
    let min_piece = 0.5 * spacing.min(length);
    let mut covered = 0.0;
    let mut net = 0.0;
    let mut last: Option<(f64, f64)> = None;
    for i in 0..n {
        let z = p.z[i];
        if z.is_nan() {
            continue;
        }
        if let Some((d0, z0)) = last {
            let d = p.distance[i] - d0;
            let dz = z - z0;
            covered += d;
            net += dz;
            if dz > 0.0 {
                e.ascent += dz;
            } else {
                e.descent -= dz;
            }
            if d > 0.0 && d >= min_piece {
                e.max_grade = e.max_grade.max((dz / d).abs());
            }
        }
        last = Some((p.distance[i], z));
    }
    if covered > 0.0 {
        e.grade = net / covered;
        e.abs_grade = (e.ascent + e.descent) / covered;
    }
    e
}
