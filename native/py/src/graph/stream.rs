//! `ParetoStream`: the core's [`graph::ParetoStream`] as a Python iterator.

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use ridgeline_core::graph::{self, Graph};

use super::pareto::{info_dict, SearchArgs};
use super::{graph_err, solution_tuple};

/// Solutions buffered between the search thread and a slow consumer.
const CAPACITY: usize = 64;

/// Iterator over the solutions of a running search (use `Graph.pareto_stream`).
#[pyclass(module = "ridgeline._native")]
pub struct ParetoStream {
    inner: Mutex<Option<graph::ParetoStream>>,
    info: Mutex<Option<Py<PyDict>>>,
}

pub(super) fn start(g: &Arc<Graph>, s: i64, t: i64, args: SearchArgs) -> PyResult<ParetoStream> {
    let o = args.options(g.num_objectives())?;
    let st = graph::ParetoStream::start(g.clone(), s, t, o, CAPACITY).map_err(graph_err)?;
    Ok(ParetoStream {
        inner: Mutex::new(Some(st)),
        info: Mutex::new(None),
    })
}

fn poisoned<T>(_: T) -> PyErr {
    PyRuntimeError::new_err("stream lock poisoned")
}

#[pymethods]
impl ParetoStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        // Taken out while waiting so the GIL can be released; put back after.
        let Some(mut st) = self.inner.lock().map_err(poisoned)?.take() else {
            return Ok(None);
        };
        let (next, mut st) = py.detach(move || (st.next(), st));
        match next {
            Some(s) => {
                *self.inner.lock().map_err(poisoned)? = Some(st);
                Ok(Some(solution_tuple(py, s)?))
            }
            None => match st.take_result() {
                Some(r) => {
                    let r = r.map_err(graph_err)?;
                    *self.info.lock().map_err(poisoned)? = Some(info_dict(py, &r)?.unbind());
                    Ok(None)
                }
                None => Ok(None),
            },
        }
    }

    /// The search's info dict once the stream is exhausted, else None.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        self.info.lock().ok()?.as_ref().map(|d| d.bind(py).clone())
    }

    /// Stops the search; solutions not yet consumed are discarded.
    fn close(&self) {
        if let Ok(mut g) = self.inner.lock() {
            if let Some(mut st) = g.take() {
                st.cancel();
            }
        }
    }
}
