//! Bindings for `ridgeline_core::graph::{expand_turns, all_turns}`: arrays in, a new graph and the
//! expanded-arc -> original-arc map out.

use std::sync::Arc;

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use ridgeline_core::graph::{all_turns, expand_turns, Turns};

use super::{contiguous, graph_err, PyGraph};

/// The turn-expanded graph of `graph` with the allowed turns `turn_from[i] -> turn_to[i]` (arc
/// ids) and their `(turns, k)` costs. Returns `(graph, arc_of)`: `arc_of[e]` is the original arc
/// that expanded arc `e` drives along, -1 for the zero-cost exit arcs. Origin `v` is node
/// `m + v`, destination `v` is node `m + n + v`.
#[pyfunction]
#[pyo3(name = "expand_turns")]
pub fn expand_turns_native<'py>(
    py: Python<'py>,
    graph: PyRef<'_, PyGraph>,
    turn_from: PyReadonlyArray1<'_, i64>,
    turn_to: PyReadonlyArray1<'_, i64>,
    turn_costs: PyReadonlyArray2<'_, f64>,
) -> PyResult<Bound<'py, PyTuple>> {
    let k = graph.inner.num_objectives();
    if turn_costs.shape()[1] != k {
        return Err(PyValueError::new_err(format!(
            "turn_costs must have k = {k} columns, got {}",
            turn_costs.shape()[1]
        )));
    }
    let turns = Turns {
        from: contiguous("turn_from", &turn_from)?,
        to: contiguous("turn_to", &turn_to)?,
        costs: contiguous("turn_costs", &turn_costs)?,
    };
    let g = graph.inner.clone();
    let tg = py
        .detach(move || expand_turns(&g, &turns))
        .map_err(graph_err)?;
    let arc_of: Vec<i64> = tg.arc_of.iter().map(|a| a.map_or(-1, i64::from)).collect();
    let out = Py::new(
        py,
        PyGraph {
            inner: Arc::new(tg.graph),
        },
    )?;
    PyTuple::new(
        py,
        [
            out.into_bound(py).into_any(),
            PyArray1::from_vec(py, arc_of).into_any(),
        ],
    )
}

/// Every `(a, b)` with `head(a) = tail(b)`, as two int64 arrays ordered by `a` then `b`.
#[pyfunction]
#[pyo3(name = "all_turns")]
pub fn all_turns_native<'py>(
    py: Python<'py>,
    graph: PyRef<'_, PyGraph>,
) -> PyResult<Bound<'py, PyTuple>> {
    let g = graph.inner.clone();
    let (f, t) = py.detach(move || all_turns(&g));
    PyTuple::new(
        py,
        [
            PyArray1::from_vec(py, f).into_any(),
            PyArray1::from_vec(py, t).into_any(),
        ],
    )
}
