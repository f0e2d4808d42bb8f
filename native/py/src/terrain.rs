//! Bindings for `ridgeline_core::terrain`: `Dem`.
//!
//! Conversion only: arrays in and out, the GIL released around every scan, core errors mapped to
//! `ValueError` (bad input, corrupt tiles) and `OSError` (I/O).

use std::path::PathBuf;
use std::sync::Arc;

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use ridgeline_core::terrain::{Dem, TerrainError};

use crate::graph::{contiguous, io_err};

fn terrain_err(e: TerrainError) -> PyErr {
    match &e {
        TerrainError::Io { path, source } => io_err(format!("cannot read DEM tile {path}"), source),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// An elevation grid held by the native core (use `ridgeline.routing.Dem`).
#[pyclass(name = "Dem", module = "ridgeline._native", frozen)]
pub struct PyDem {
    inner: Arc<Dem>,
}

#[pymethods]
impl PyDem {
    #[staticmethod]
    fn from_hgt(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Self> {
        let d = py
            .detach(move || Dem::from_hgt(&paths))
            .map_err(terrain_err)?;
        Ok(PyDem { inner: Arc::new(d) })
    }

    /// A DEM from a (height, width) float32 array; row 0 is the first row of the geotransform.
    #[staticmethod]
    #[pyo3(signature = (data, geotransform, nodata=None, geographic=true))]
    fn from_array(
        data: PyReadonlyArray2<'_, f32>,
        geotransform: [f64; 6],
        nodata: Option<f64>,
        geographic: bool,
    ) -> PyResult<Self> {
        let (h, w) = (data.shape()[0], data.shape()[1]);
        let v = contiguous("data", &data)?.to_vec();
        let d = Dem::new(w, h, geotransform, v, nodata, geographic).map_err(terrain_err)?;
        Ok(PyDem { inner: Arc::new(d) })
    }

    #[getter]
    fn width(&self) -> usize {
        self.inner.width()
    }
    #[getter]
    fn height(&self) -> usize {
        self.inner.height()
    }
    #[getter]
    fn geotransform(&self) -> [f64; 6] {
        self.inner.geotransform()
    }
    #[getter]
    fn nodata(&self) -> Option<f64> {
        self.inner.nodata()
    }
    #[getter]
    fn geographic(&self) -> bool {
        self.inner.is_geographic()
    }
    #[getter]
    fn nodata_count(&self, py: Python<'_>) -> usize {
        let d = self.inner.clone();
        py.detach(move || d.nodata_count())
    }

    /// The grid as a (height, width) float32 array (a copy; NaN for nodata).
    fn to_array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let a = Array2::from_shape_vec(
            (self.inner.height(), self.inner.width()),
            self.inner.data().to_vec(),
        )
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }

    /// Bilinear elevations at many points (float64; NaN off-grid or at nodata).
    fn sample<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (xs, ys) = (contiguous("x", &x)?, contiguous("y", &y)?);
        if xs.len() != ys.len() {
            return Err(PyValueError::new_err(format!(
                "x and y must have the same length, got {} and {}",
                xs.len(),
                ys.len()
            )));
        }
        let d = self.inner.clone();
        let out = py.detach(move || {
            let mut out = vec![0.0; xs.len()];
            d.sample_many(xs, ys, &mut out).map(|_| out)
        });
        Ok(PyArray1::from_vec(py, out.map_err(terrain_err)?))
    }

    /// Samples every `spacing_m` metres along a polyline: dict of distance, x, y, z arrays.
    fn profile<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
        spacing_m: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (xs, ys) = (contiguous("x", &x)?, contiguous("y", &y)?);
        let d = self.inner.clone();
        let p = py
            .detach(move || d.profile(xs, ys, spacing_m))
            .map_err(terrain_err)?;
        let out = PyDict::new(py);
        out.set_item("distance", PyArray1::from_vec(py, p.distance))?;
        out.set_item("x", PyArray1::from_vec(py, p.x))?;
        out.set_item("y", PyArray1::from_vec(py, p.y))?;
        out.set_item("z", PyArray1::from_vec(py, p.z))?;
        Ok(out)
    }

    /// Per-edge terrain statistics; edge e is the polyline x[offsets[e]:offsets[e+1]].
    fn edge_terrain<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
        offsets: PyReadonlyArray1<'_, i64>,
        spacing_m: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (xs, ys) = (contiguous("x", &x)?, contiguous("y", &y)?);
        let off_raw = contiguous("offsets", &offsets)?;
        if off_raw.iter().any(|&o| o < 0) {
            return Err(PyValueError::new_err("offsets must be non-negative"));
        }
        let off: Vec<usize> = off_raw.iter().map(|&o| o as usize).collect();
        let d = self.inner.clone();
        let stats = py
            .detach(move || d.edge_terrain(xs, ys, &off, spacing_m))
            .map_err(terrain_err)?;
        let out = PyDict::new(py);
        macro_rules! col {
            ($name:literal, $f:expr) => {
                out.set_item(
                    $name,
                    PyArray1::from_vec(py, stats.iter().map($f).collect()),
                )?;
            };
        }
        col!("length_m", |e| e.length_m);
        col!("ascent", |e| e.ascent);
        col!("descent", |e| e.descent);
        col!("grade", |e| e.grade);
        col!("abs_grade", |e| e.abs_grade);
        col!("max_grade", |e| e.max_grade);
        col!("coverage", |e| e.coverage);
        col!("samples", |e| e.samples as i64);
        col!("nodata", |e| e.nodata as i64);
        Ok(out)
    }
}

/// Adds the terrain classes to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDem>()?;
    Ok(())
}
