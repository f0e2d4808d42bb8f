//! ridgeline._native: thin PyO3 bindings over ridgeline-core.
//!
//! Every function here converts its arguments, releases the GIL for any work
//! longer than a few microseconds, calls the core, and converts back. No
//! algorithm lives in this crate.

mod graph;
mod sim;
mod terrain;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Version, build profile and compiled target features of the native core.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    use ridgeline_core::build;
    let d = PyDict::new(py);
    d.set_item("version", build::VERSION)?;
    d.set_item("profile", build::profile())?;
    d.set_item("target", build::target())?;
    d.set_item("target_features", build::target_features())?;
    Ok(d)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    graph::register(m)?;
    terrain::register(m)?;
    sim::register(m)?;
    Ok(())
}
