//! Bindings for `ridgeline_core::sim`: conversion only, one file per core module (`model`
//! with the batched dynamics of `sim::batch`, `profile`, `rollout`). Batch calls and rollouts
//! release the GIL; every core error becomes a `ValueError` carrying the core's message (which
//! names the offending link, joint or field).

use std::borrow::Cow;

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use ridgeline_core::sim::SimError;

mod model;
mod profile;
mod rollout;

pyo3::create_exception!(
    _native,
    SimFieldError,
    PyValueError,
    "A state or option does not fit the model; `field` names it (initial_q, initial_v, pose, ...)."
);

pub(crate) fn err(e: SimError) -> PyErr {
    match &e {
        SimError::Field { field, .. } => {
            let pe = SimFieldError::new_err(e.to_string());
            Python::attach(|py| {
                let _ = pe.value(py).setattr("field", field.as_str());
            });
            pe
        }
        _ => PyValueError::new_err(e.to_string()),
    }
}

pub(crate) fn slice1<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

pub(crate) fn slice2<'a>(a: &'a PyReadonlyArray2<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

pub(crate) fn check_len(what: &str, got: usize, expected: usize) -> PyResult<()> {
    if got != expected {
        return Err(PyValueError::new_err(format!(
            "{what}: expected length {expected}, got {got}"
        )));
    }
    Ok(())
}

pub(crate) fn check_rows(
    what: &str,
    a: &PyReadonlyArray2<'_, f64>,
    cols: usize,
) -> PyResult<usize> {
    let s = a.shape();
    if s[1] != cols {
        return Err(PyValueError::new_err(format!(
            "{what}: expected shape (N, {cols}), got ({}, {})",
            s[0], s[1]
        )));
    }
    Ok(s[0])
}

/// Register the sim bindings on the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::PySimModel>()?;
    m.add("SimFieldError", m.py().get_type::<SimFieldError>())?;
    m.add(
        "SIM_MAX_RECORDED_BYTES",
        ridgeline_core::sim::rollout::MAX_RECORDED_BYTES,
    )?;
    m.add("SIM_POSES", ridgeline_core::sim::pose::POSES.to_vec())?;
    m.add_class::<rollout::PyRolloutHandle>()?;
    m.add_function(wrap_pyfunction!(rollout::sim_rollout, m)?)?;
    m.add_function(wrap_pyfunction!(profile::reality_profiles, m)?)?;
    m.add_function(wrap_pyfunction!(profile::custom_profile, m)?)?;
    Ok(())
}
