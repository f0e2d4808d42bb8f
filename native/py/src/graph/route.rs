//! Weighted-sum routes and ALT landmarks.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use ridgeline_core::graph::{self, Graph, Landmarks, RouteOptions};

use super::{graph_err, solution_tuple};

/// ALT landmark tables of one graph (use `Graph.prepare_landmarks`).
#[pyclass(name = "Landmarks", module = "ridgeline._native", frozen)]
pub struct PyLandmarks {
    inner: Arc<Landmarks>,
}

#[pymethods]
impl PyLandmarks {
    #[getter]
    fn nodes(&self) -> Vec<u32> {
        self.inner.nodes().to_vec()
    }
    #[getter]
    fn objectives(&self) -> Vec<usize> {
        self.inner.objectives().to_vec()
    }
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }
}

pub(super) fn prepare_landmarks(
    py: Python<'_>,
    g: &Arc<Graph>,
    count: usize,
    objectives: Option<Vec<usize>>,
    seed: u64,
) -> PyResult<PyLandmarks> {
    let objs = objectives.unwrap_or_else(|| (0..g.num_objectives()).collect());
    let g = g.clone();
    let lm = py
        .detach(move || Landmarks::build(&g, count, &objs, seed))
        .map_err(graph_err)?;
    Ok(PyLandmarks {
        inner: Arc::new(lm),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn route<'py>(
    py: Python<'py>,
    g: &Arc<Graph>,
    s: i64,
    t: i64,
    weights: Vec<f64>,
    departure: Option<f64>,
    risk_aversion: f64,
    landmarks: Option<PyRef<'_, PyLandmarks>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let o = RouteOptions {
        weights,
        departure,
        risk_aversion,
        landmarks: landmarks.map(|l| l.inner.clone()),
    };
    let g = g.clone();
    let r = py
        .detach(move || graph::route(&g, s, t, &o))
        .map_err(graph_err)?;
    let info = PyDict::new(py);
    info.set_item("cost", r.cost)?;
    info.set_item("settled", r.settled)?;
    info.set_item("algorithm", r.algorithm)?;
    info.set_item("seconds", r.seconds)?;
    let sol = match r.solution {
        Some(s) => solution_tuple(py, s)?.into_any(),
        None => py.None().into_bound(py),
    };
    PyTuple::new(py, [sol, info.into_any()])
}
