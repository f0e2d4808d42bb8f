//! Bindings for the routing core: `RoutingGraph`, `ParetoStream` and `Dem`.
//!
//! Conversion only: arrays in and out, the GIL released around every search or scan, core errors
//! mapped to `ValueError` (bad input, corrupt files) and `OSError` (I/O).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use ridgeline_core::graph::{
    self, ControlFlow, Graph, GraphBuilder, GraphError, Landmarks, Method, ParetoResult,
    RouteOptions, SearchOptions, Solution,
};
use ridgeline_core::terrain::{Dem, TerrainError};

fn io_err(context: String, e: &std::io::Error) -> PyErr {
    let msg = format!("{context}: {e}");
    if e.kind() == std::io::ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

fn graph_err(e: GraphError) -> PyErr {
    match &e {
        GraphError::Io { context, source } => io_err(context.clone(), source),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn terrain_err(e: TerrainError) -> PyErr {
    match &e {
        TerrainError::Io { path, source } => io_err(format!("cannot read DEM tile {path}"), source),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn contiguous<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    name: &str,
    a: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous array")))
}

/// A road graph held by the native core (use `ridgeline.routing.Graph`).
#[pyclass(name = "RoutingGraph", module = "ridgeline._native", frozen)]
pub struct PyGraph {
    inner: Arc<Graph>,
}

fn solution_tuple<'py>(py: Python<'py>, s: Solution) -> PyResult<Bound<'py, PyTuple>> {
    let costs = PyArray1::from_vec(py, s.costs);
    let nodes = PyArray1::from_vec(py, s.nodes.into_iter().map(i64::from).collect());
    let arcs = PyArray1::from_vec(py, s.arcs.into_iter().map(i64::from).collect());
    PyTuple::new(py, [costs.into_any(), nodes.into_any(), arcs.into_any()])
}

fn info_dict<'py>(py: Python<'py>, r: &ParetoResult) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("status", r.status.as_str())?;
    d.set_item("truncated", r.truncated)?;
    d.set_item("epsilon", r.epsilon)?;
    d.set_item("expansions", r.expansions)?;
    d.set_item("generated", r.generated)?;
    d.set_item("algorithm", r.algorithm)?;
    d.set_item("heuristic_seconds", r.heuristic_seconds)?;
    d.set_item("search_seconds", r.search_seconds)?;
    Ok(d)
}

fn result_tuple<'py>(py: Python<'py>, r: ParetoResult) -> PyResult<Bound<'py, PyTuple>> {
    let info = info_dict(py, &r)?;
    let sols = PyList::empty(py);
    for s in r.solutions {
        sols.append(solution_tuple(py, s)?)?;
    }
    PyTuple::new(py, [sols.into_any(), info.into_any()])
}

#[allow(clippy::too_many_arguments)]
fn options(
    k: usize,
    method: &str,
    epsilon: f64,
    bounds: Option<Vec<Option<f64>>>,
    max_solutions: Option<usize>,
    max_expansions: Option<u64>,
    time_limit: Option<f64>,
    departure: Option<f64>,
    risk_aversion: f64,
) -> PyResult<SearchOptions> {
    let method = match method {
        "exact" => Method::Exact,
        "epsilon" => Method::Epsilon(epsilon),
        other => {
            return Err(PyValueError::new_err(format!(
                "method must be 'exact' or 'epsilon', got {other:?}"
            )))
        }
    };
    let bounds = bounds.unwrap_or_default();
    if !bounds.is_empty() && bounds.len() != k {
        return Err(PyValueError::new_err(format!(
            "bounds must have one entry per objective (k = {k}), got {}",
            bounds.len()
        )));
    }
    Ok(SearchOptions {
        method,
        bounds,
        max_solutions,
        max_expansions,
        time_limit,
        departure,
        risk_aversion,
    })
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
        let g = py.detach(|| Graph::load(&path)).map_err(graph_err)?;
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

    /// Pareto search; returns `([(costs, nodes, arcs), ...], info)`.
    #[pyo3(signature = (s, t, method="exact", epsilon=0.0, bounds=None, max_solutions=None, max_expansions=None, time_limit=None, departure=None, risk_aversion=0.0))]
    #[allow(clippy::too_many_arguments)]
    fn pareto<'py>(
        &self,
        py: Python<'py>,
        s: i64,
        t: i64,
        method: &str,
        epsilon: f64,
        bounds: Option<Vec<Option<f64>>>,
        max_solutions: Option<usize>,
        max_expansions: Option<u64>,
        time_limit: Option<f64>,
        departure: Option<f64>,
        risk_aversion: f64,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let o = options(
            self.inner.num_objectives(),
            method,
            epsilon,
            bounds,
            max_solutions,
            max_expansions,
            time_limit,
            departure,
            risk_aversion,
        )?;
        let g = self.inner.clone();
        let r = py
            .detach(move || graph::pareto(&g, s, t, &o, &mut |_| ControlFlow::Continue))
            .map_err(graph_err)?;
        result_tuple(py, r)
    }

    /// Starts a search in a background thread; solutions are yielded as they are found.
    #[pyo3(signature = (s, t, method="exact", epsilon=0.0, bounds=None, max_solutions=None, max_expansions=None, time_limit=None, departure=None, risk_aversion=0.0))]
    #[allow(clippy::too_many_arguments)]
    fn pareto_stream(
        &self,
        s: i64,
        t: i64,
        method: &str,
        epsilon: f64,
        bounds: Option<Vec<Option<f64>>>,
        max_solutions: Option<usize>,
        max_expansions: Option<u64>,
        time_limit: Option<f64>,
        departure: Option<f64>,
        risk_aversion: f64,
    ) -> PyResult<ParetoStream> {
        let o = options(
            self.inner.num_objectives(),
            method,
            epsilon,
            bounds,
            max_solutions,
            max_expansions,
            time_limit,
            departure,
            risk_aversion,
        )?;
        let g = self.inner.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let (tx, rx) = sync_channel::<Msg>(64);
        std::thread::Builder::new()
            .name("ridgeline-pareto".into())
            .spawn(move || {
                let r = graph::pareto(&g, s, t, &o, &mut |sol| {
                    if flag.load(Ordering::Relaxed) || tx.send(Msg::Solution(sol.clone())).is_err()
                    {
                        ControlFlow::Stop
                    } else {
                        ControlFlow::Continue
                    }
                });
                let _ = tx.send(Msg::Done(r));
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start search thread: {e}")))?;
        Ok(ParetoStream {
            rx: Mutex::new(Some(rx)),
            cancel,
            info: Mutex::new(None),
        })
    }

    /// Solves many `(source, target)` pairs (an (p, 2) int64 array) in parallel.
    #[pyo3(signature = (pairs, method="exact", epsilon=0.0, bounds=None, max_solutions=None, max_expansions=None, time_limit=None, departure=None, risk_aversion=0.0))]
    #[allow(clippy::too_many_arguments)]
    fn pareto_many<'py>(
        &self,
        py: Python<'py>,
        pairs: PyReadonlyArray2<'_, i64>,
        method: &str,
        epsilon: f64,
        bounds: Option<Vec<Option<f64>>>,
        max_solutions: Option<usize>,
        max_expansions: Option<u64>,
        time_limit: Option<f64>,
        departure: Option<f64>,
        risk_aversion: f64,
    ) -> PyResult<Bound<'py, PyList>> {
        if pairs.shape()[1] != 2 {
            return Err(PyValueError::new_err(format!(
                "pairs must have shape (p, 2), got {:?}",
                pairs.shape()
            )));
        }
        let o = options(
            self.inner.num_objectives(),
            method,
            epsilon,
            bounds,
            max_solutions,
            max_expansions,
            time_limit,
            departure,
            risk_aversion,
        )?;
        let flat = contiguous("pairs", &pairs)?;
        let n = self.inner.num_nodes() as i64;
        if let Some(i) = flat.iter().position(|&v| v < 0 || v >= n) {
            return Err(PyValueError::new_err(format!(
                "pairs[{}, {}] = {} is out of range for a graph of {n} nodes",
                i / 2,
                i % 2,
                flat[i]
            )));
        }
        let pv: Vec<(i64, i64)> = flat.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        let g = self.inner.clone();
        let results = py.detach(move || graph::pareto_many(&g, &pv, &o));
        let out = PyList::empty(py);
        for r in results {
            out.append(result_tuple(py, r.map_err(graph_err)?)?)?;
        }
        Ok(out)
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
        let objs = objectives.unwrap_or_else(|| (0..self.inner.num_objectives()).collect());
        let g = self.inner.clone();
        let lm = py
            .detach(move || Landmarks::build(&g, count, &objs, seed))
            .map_err(graph_err)?;
        Ok(PyLandmarks {
            inner: Arc::new(lm),
        })
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
        let o = RouteOptions {
            weights,
            departure,
            risk_aversion,
            landmarks: landmarks.map(|l| l.inner.clone()),
        };
        let g = self.inner.clone();
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
}

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

enum Msg {
    Solution(Solution),
    Done(graph::Result<ParetoResult>),
}

/// Iterator over the solutions of a running search (use `Graph.pareto_stream`).
#[pyclass(module = "ridgeline._native")]
pub struct ParetoStream {
    rx: Mutex<Option<Receiver<Msg>>>,
    cancel: Arc<AtomicBool>,
    info: Mutex<Option<Py<PyDict>>>,
}

#[pymethods]
impl ParetoStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let rx = self
            .rx
            .lock()
            .map_err(|_| PyRuntimeError::new_err("stream lock poisoned"))?
            .take();
        let Some(rx) = rx else { return Ok(None) };
        let (msg, rx) = py.detach(move || (rx.recv(), rx));
        match msg {
            Ok(Msg::Solution(s)) => {
                *self.rx.lock().unwrap() = Some(rx);
                Ok(Some(solution_tuple(py, s)?))
            }
            Ok(Msg::Done(r)) => {
                let r = r.map_err(graph_err)?;
                *self.info.lock().unwrap() = Some(info_dict(py, &r)?.unbind());
                Ok(None)
            }
            Err(_) => Err(PyRuntimeError::new_err(
                "the search thread ended unexpectedly",
            )),
        }
    }

    /// The search's info dict once the stream is exhausted, else None.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        self.info
            .lock()
            .unwrap()
            .as_ref()
            .map(|d| d.bind(py).clone())
    }

    /// Stops the search; solutions not yet consumed are discarded.
    fn close(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.rx.lock().unwrap().take();
    }
}

impl Drop for ParetoStream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
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

/// Adds the routing classes to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGraph>()?;
    m.add_class::<ParetoStream>()?;
    m.add_class::<PyLandmarks>()?;
    m.add_class::<PyDem>()?;
    Ok(())
}
