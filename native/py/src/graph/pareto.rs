//! Search options in (one conversion type, [`SearchArgs`]) and results out.

use std::sync::Arc;

use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use ridgeline_core::graph::{self, ControlFlow, Graph, Method, ParetoResult, SearchOptions};

use super::{contiguous, graph_err, solution_tuple};

/// The search options, converted from the dict `ridgeline.routing.graph` builds (`method` is
/// required, missing other keys take their defaults); [`SearchArgs::options`] turns them into the
/// core's options.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct SearchArgs {
    /// `"exact"` or `"epsilon"`.
    method: String,
    #[pyo3(default)]
    epsilon: f64,
    #[pyo3(default)]
    bounds: Option<Vec<Option<f64>>>,
    #[pyo3(default)]
    max_solutions: Option<usize>,
    #[pyo3(default)]
    max_expansions: Option<u64>,
    #[pyo3(default)]
    time_limit: Option<f64>,
    #[pyo3(default)]
    departure: Option<f64>,
    #[pyo3(default)]
    risk_aversion: f64,
}

impl SearchArgs {
    /// The core's options for a graph of `k` objectives (the core validates the values).
    pub fn options(self, k: usize) -> PyResult<SearchOptions> {
        let method = match self.method.as_str() {
            "exact" => Method::Exact,
            "epsilon" => Method::Epsilon(self.epsilon),
            other => {
                return Err(PyValueError::new_err(format!(
                    "method must be 'exact' or 'epsilon', got {other:?}"
                )))
            }
        };
        let bounds = self.bounds.unwrap_or_default();
        if !bounds.is_empty() && bounds.len() != k {
            return Err(PyValueError::new_err(format!(
                "bounds must have one entry per objective (k = {k}), got {}",
                bounds.len()
            )));
        }
        Ok(SearchOptions {
            method,
            bounds,
            max_solutions: self.max_solutions,
            max_expansions: self.max_expansions,
            time_limit: self.time_limit,
            departure: self.departure,
            risk_aversion: self.risk_aversion,
        })
    }
}

pub(crate) fn info_dict<'py>(py: Python<'py>, r: &ParetoResult) -> PyResult<Bound<'py, PyDict>> {
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
    let generated = r.generated;
    for s in r.solutions {
        sols.append(solution_tuple(py, s)?)?;
    }
    // The core's copies of the paths are freed now that they are arrays.
    graph::release_after_large_result(generated);
    PyTuple::new(py, [sols.into_any(), info.into_any()])
}

pub(super) fn pareto<'py>(
    py: Python<'py>,
    g: &Arc<Graph>,
    s: i64,
    t: i64,
    args: SearchArgs,
) -> PyResult<Bound<'py, PyTuple>> {
    let o = args.options(g.num_objectives())?;
    let g = g.clone();
    let r = py
        .detach(move || graph::pareto(&g, s, t, &o, &mut |_| ControlFlow::Continue))
        .map_err(graph_err)?;
    result_tuple(py, r)
}

pub(super) fn pareto_many<'py>(
    py: Python<'py>,
    g: &Arc<Graph>,
    pairs: PyReadonlyArray2<'_, i64>,
    args: SearchArgs,
) -> PyResult<Bound<'py, PyList>> {
    if pairs.shape()[1] != 2 {
        return Err(PyValueError::new_err(format!(
            "pairs must have shape (p, 2), got {:?}",
            pairs.shape()
        )));
    }
    let o = args.options(g.num_objectives())?;
    let flat = contiguous("pairs", &pairs)?;
    let n = g.num_nodes() as i64;
    if let Some(i) = flat.iter().position(|&v| v < 0 || v >= n) {
        return Err(PyValueError::new_err(format!(
            "pairs[{}, {}] = {} is out of range for a graph of {n} nodes",
            i / 2,
            i % 2,
            flat[i]
        )));
    }
    let pv: Vec<(i64, i64)> = flat.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let g = g.clone();
    let results = py.detach(move || graph::pareto_many(&g, &pv, &o));
    let out = PyList::empty(py);
    for r in results {
        out.append(result_tuple(py, r.map_err(graph_err)?)?)?;
    }
    Ok(out)
}
