//! Bindings for `ridgeline_core::graph`: `RoutingGraph`, `ParetoStream` and `Landmarks`.
//!
//! Conversion only: arrays in and out, the GIL released around every search, core errors mapped
//! to `ValueError` (bad input, corrupt files) and `OSError` (I/O). The submodules mirror the
//! core's: `pareto` (search options and results), `stream` (the streaming iterator) and `route`
//! (weighted-sum routes and landmarks). The `#[pymethods]` block here only delegates to them.

mod pareto;
mod route;
mod stream;
mod turns;

use std::path::PathBuf;
use std::sync::Arc;

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use ridgeline_core::graph::{Graph, GraphBuilder, GraphError, Solution};

pub use pareto::SearchArgs;
pub use route::PyLandmarks;
pub use stream::ParetoStream;

pub(crate) fn io_err(context: String, e: &std::io::Error) -> PyErr {
    let msg = format!("{context}: {e}");
    if e.kind() == std::io::ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

pub(crate) fn graph_err(e: GraphError) -> PyErr {
    match &e {
        GraphError::Io { context, source } => io_err(context.clone(), source),
        _ => PyValueError::new_err(e.to_string()),
    }
}

pub(crate) fn contiguous<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    name: &str,
    a: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous array")))
}

/// `(costs, nodes, arcs)` arrays of one solution.
pub(crate) fn solution_tuple<'py>(py: Python<'py>, s: Solution) -> PyResult<Bound<'py, PyTuple>> {
    let costs = PyArray1::from_vec(py, s.costs);
    let nodes = PyArray1::from_vec(py, s.nodes.into_iter().map(i64::from).collect());
    let arcs = PyArray1::from_vec(py, s.arcs.into_iter().map(i64::from).collect());
    PyTuple::new(py, [costs.into_any(), nodes.into_any(), arcs.into_any()])
}

/// A road graph held by the native core (use `ridgeline.routing.Graph`).
#[pyclass(name = "RoutingGraph", module = "ridgeline._native", frozen)]
pub struct PyGraph {
    inner: Arc<Graph>,
}

#[pymethods]
impl PyGraph {
    /// Builds a graph from arc arrays (`tail`, `head` int64 (m,), `costs` float64 (m, k)).
    #[staticmethod]
    #[pyo3(signature = (tail, head, costs, coords=None, n=None, time_profile=None, variance=None, time_index=1))]
    #[allow(clippy::too_many_arguments)]
    fn from_arrays(
        py: Python<'_>,
        tail: PyReadonlyArray1<'_, i64>,
        head: PyReadonlyArray1<'_, i64>,
        costs: PyReadonlyArray2<'_, f64>,
        coords: Option<PyReadonlyArray2<'_, f64>>,
        n: Option<usize>,
        time_profile: Option<PyReadonlyArray2<'_, f64>>,
        variance: Option<PyReadonlyArray1<'_, f64>>,
        time_index: usize,
    ) -> PyResult<Self> {
        let k = costs.shape()[1];
        if let Some(c) = &coords {
            if c.shape()[1] != 2 {
                return Err(PyValueError::new_err(format!(
                    "coords must have shape (n, 2), got {:?}",
                    c.shape()
                )));
            }
        }
        let slots = time_profile.as_ref().map(|p| p.shape()[1]);
        let b = GraphBuilder {
            n,
            tail: contiguous("tail", &tail)?,
            head: contiguous("head", &head)?,
            costs: contiguous("costs", &costs)?,
            k,
            coords: coords
                .as_ref()
                .map(|c| contiguous("coords", c))
                .transpose()?,
            profile: match &time_profile {
                Some(p) => Some((contiguous("time_profile", p)?, slots.unwrap_or(0))),
                None => None,
            },
            variance: variance
                .as_ref()
                .map(|v| contiguous("variance", v))
                .transpose()?,
            time_index,
        };
        let g = py.detach(move || b.build()).map_err(graph_err)?;
        Ok(PyGraph { inner: Arc::new(g) })
    }

    /// Memory-maps a graph file written by `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let g = py
            .detach(|| {
                // Loading reads every page; the rarely read arrays need not stay resident.
                Graph::load(&path).inspect(Graph::release_cold_pages)
            })
            .map_err(graph_err)?;
        Ok(PyGraph { inner: Arc::new(g) })
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let g = self.inner.clone();
        py.detach(move || g.save(&path)).map_err(graph_err)
    }

    #[getter]
    fn num_nodes(&self) -> usize {
        self.inner.num_nodes()
    }
    #[getter]
    fn num_arcs(&self) -> usize {
        self.inner.num_arcs()
    }
    #[getter]
    fn num_objectives(&self) -> usize {
        self.inner.num_objectives()
    }
    #[getter]
    fn time_index(&self) -> usize {
        self.inner.time_index()
    }
    #[getter]
    fn profile_slots(&self) -> Option<usize> {
        self.inner.profile_slots()
    }
    #[getter]
    fn has_variance(&self) -> bool {
        self.inner.has_variance()
    }
    #[getter]
    fn is_mapped(&self) -> bool {
        self.inner.is_mapped()
    }

    /// Node coordinates as an (n, 2) array, or None.
    fn coords<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        match self.inner.coords() {
            None => Ok(None),
            Some(c) => {
                let a = Array2::from_shape_vec((c.len() / 2, 2), c.to_vec())
                    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
                Ok(Some(a.into_pyarray(py)))
            }
        }
    }

    /// `(tail, head, costs)` indexed by arc id.
    fn arcs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let g = self.inner.clone();
        let (t, h, c) = py.detach(move || g.arcs_by_id());
        let k = self.inner.num_objectives();
        let costs = Array2::from_shape_vec((t.len(), k), c)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        PyTuple::new(
            py,
            [
                PyArray1::from_vec(py, t.into_iter().map(i64::from).collect()).into_any(),
                PyArray1::from_vec(py, h.into_iter().map(i64::from).collect()).into_any(),
                costs.into_pyarray(py).into_any(),
            ],
        )
    }

    /// Pareto search; `options` is a dict (see `SearchArgs`). Returns `([(costs, nodes, arcs),
    /// ...], info)`.
    fn pareto<'py>(
        &self,
        py: Python<'py>,
        s: i64,
        t: i64,
        options: SearchArgs,
    ) -> PyResult<Bound<'py, PyTuple>> {
        pareto::pareto(py, &self.inner, s, t, options)
    }

    /// Starts a search in a background thread; solutions are yielded as they are found.
    fn pareto_stream(&self, s: i64, t: i64, options: SearchArgs) -> PyResult<ParetoStream> {
        stream::start(&self.inner, s, t, options)
    }

    /// Solves many `(source, target)` pairs (an (p, 2) int64 array) in parallel.
    fn pareto_many<'py>(
        &self,
        py: Python<'py>,
        pairs: PyReadonlyArray2<'_, i64>,
        options: SearchArgs,
    ) -> PyResult<Bound<'py, PyList>> {
        pareto::pareto_many(py, &self.inner, pairs, options)
    }

    /// Builds the per-objective contraction hierarchies of the exact heuristics now (load-time
    /// work a large static graph's first Pareto query would otherwise pay); returns their bytes,
    /// 0 when they do not apply (small graph, non-integer costs, or `RIDGELINE_ROUTING_CH=0`).
    fn prepare_hierarchies(&self, py: Python<'_>) -> usize {
        let g = self.inner.clone();
        py.detach(move || g.prepare_hierarchies())
    }

    /// Computes ALT landmark tables (farthest-point selection) for the given objectives.
    #[pyo3(signature = (count=8, objectives=None, seed=0))]
    fn prepare_landmarks(
        &self,
        py: Python<'_>,
        count: usize,
        objectives: Option<Vec<usize>>,
        seed: u64,
    ) -> PyResult<PyLandmarks> {
        route::prepare_landmarks(py, &self.inner, count, objectives, seed)
    }

    /// Best path by weighted sum; returns `(costs, nodes, arcs)` or None, and an info dict.
    #[pyo3(signature = (s, t, weights, departure=None, risk_aversion=0.0, landmarks=None))]
    #[allow(clippy::too_many_arguments)]
    fn route<'py>(
        &self,
        py: Python<'py>,
        s: i64,
        t: i64,
        weights: Vec<f64>,
        departure: Option<f64>,
        risk_aversion: f64,
        landmarks: Option<PyRef<'_, PyLandmarks>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        route::route(
            py,
            &self.inner,
            s,
            t,
            weights,
            departure,
            risk_aversion,
            landmarks,
        )
    }
}

/// Adds the graph classes to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGraph>()?;
    m.add_class::<ParetoStream>()?;
    m.add_class::<PyLandmarks>()?;
    m.add_function(wrap_pyfunction!(turns::expand_turns_native, m)?)?;
    m.add_function(wrap_pyfunction!(turns::all_turns_native, m)?)?;
    Ok(())
}
