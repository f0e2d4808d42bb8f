//! Reality profiles: the built-in ones and custom profiles from `(parameter, kind, values)`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use ridgeline_core::sim::profile::{Dist, Profile, PARAMS};

use super::err;

fn parse_dist(param: &str, kind: &str, p: &[f64]) -> PyResult<Dist> {
    let need = |n: usize| -> PyResult<()> {
        if p.len() != n {
            return Err(PyValueError::new_err(format!(
                "profile parameter '{param}': distribution '{kind}' takes {n} values, got {}",
                p.len()
            )));
        }
        Ok(())
    };
    Ok(match kind {
        "constant" => {
            need(1)?;
            Dist::Const(p[0])
        }
        "uniform" => {
            need(2)?;
            Dist::Uniform { low: p[0], high: p[1] }
        }
        "normal" => {
            need(4)?;
            Dist::Normal { mean: p[0], std: p[1], low: p[2], high: p[3] }
        }
        "log_uniform" => {
            need(2)?;
            Dist::LogUniform { low: p[0], high: p[1] }
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "profile parameter '{param}': unknown distribution '{other}' (constant, uniform, normal, log_uniform)"
            )))
        }
    })
}

fn profile_dict<'py>(py: Python<'py>, p: &Profile) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &p.name)?;
    d.set_item("description", &p.description)?;
    let params = PyList::empty(py);
    for ((name, meaning), dist) in PARAMS.iter().zip(&p.dists) {
        let e = PyDict::new(py);
        e.set_item("name", name)?;
        e.set_item("meaning", meaning)?;
        let (kind, args) = dist.describe();
        e.set_item("distribution", kind)?;
        let a = PyDict::new(py);
        for (k, v) in args {
            a.set_item(k, v)?;
        }
        e.set_item("parameters", a)?;
        params.append(e)?;
    }
    d.set_item("parameters", params)?;
    Ok(d)
}

/// The built-in reality profiles with their documented distributions.
#[pyfunction]
pub(crate) fn reality_profiles(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for name in Profile::builtin_names() {
        out.append(profile_dict(py, &Profile::builtin(name).map_err(err)?)?)?;
    }
    Ok(out)
}

/// Describe a custom profile built from `(parameter, distribution, values)` entries.
#[pyfunction]
#[pyo3(signature = (name, description, entries))]
pub(crate) fn custom_profile<'py>(
    py: Python<'py>,
    name: &str,
    description: &str,
    entries: Vec<(String, String, Vec<f64>)>,
) -> PyResult<Bound<'py, PyDict>> {
    profile_dict(py, &build_profile(name, description, &entries)?)
}

pub(crate) fn build_profile(
    name: &str,
    description: &str,
    entries: &[(String, String, Vec<f64>)],
) -> PyResult<Profile> {
    let mut parsed = Vec::with_capacity(entries.len());
    for (p, k, vals) in entries {
        parsed.push((p.clone(), parse_dist(p, k, vals)?));
    }
    Profile::custom(name, description, &parsed).map_err(err)
}
