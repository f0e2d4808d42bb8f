//! Bindings for `ridgeline_core::sim`: conversion only. Batch calls and rollouts release the
//! GIL; every core error becomes a `ValueError` carrying the core's message (which names the
//! offending link or joint).

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use numpy::ndarray::{Array1, Array2, Array3};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rayon::prelude::*;

use ridgeline_core::sim::dynamics::{aba, crba, energy, forward_kinematics, rnea, Data};
use ridgeline_core::sim::profile::{Dist, Profile, PARAMS};
use ridgeline_core::sim::rollout::{
    rollout, Controller, Integrator, Reference, RolloutConfig, RolloutControl,
};
use ridgeline_core::sim::{Model, SimError};

fn err(e: SimError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn slice1<'a>(a: &'a PyReadonlyArray1<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

fn slice2<'a>(a: &'a PyReadonlyArray2<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

fn check_len(what: &str, got: usize, expected: usize) -> PyResult<()> {
    if got != expected {
        return Err(PyValueError::new_err(format!(
            "{what}: expected length {expected}, got {got}"
        )));
    }
    Ok(())
}

fn check_rows(what: &str, a: &PyReadonlyArray2<'_, f64>, cols: usize) -> PyResult<usize> {
    let s = a.shape();
    if s[1] != cols {
        return Err(PyValueError::new_err(format!(
            "{what}: expected shape (N, {cols}), got ({}, {})",
            s[0], s[1]
        )));
    }
    Ok(s[0])
}

/// A rigid-body model loaded from URDF (immutable; safe to share between threads).
#[pyclass(frozen, name = "SimModel", module = "ridgeline._native")]
pub struct PySimModel {
    model: Arc<Model>,
    data: Mutex<Data>,
}

impl PySimModel {
    fn wrap(model: Model) -> Self {
        let data = Mutex::new(Data::new(&model));
        PySimModel {
            model: Arc::new(model),
            data,
        }
    }

    fn with_data<T>(&self, f: impl FnOnce(&Model, &mut Data) -> T) -> T {
        match self.data.try_lock() {
            Ok(mut d) => f(&self.model, &mut d),
            // another thread is using the cached workspace: use a fresh one
            Err(_) => f(&self.model, &mut Data::new(&self.model)),
        }
    }
}

fn opt_vec(
    model: &Model,
    f: impl Fn(&ridgeline_core::sim::model::Body) -> Option<f64>,
) -> Vec<f64> {
    model
        .bodies
        .iter()
        .filter(|b| b.nv() == 1)
        .map(|b| f(b).unwrap_or(f64::NAN))
        .collect()
}

#[pymethods]
impl PySimModel {
    /// Load a URDF file. `floating_base=True` adds a free-flyer root joint.
    #[staticmethod]
    #[pyo3(signature = (path, floating_base = false))]
    fn from_urdf_file(py: Python<'_>, path: &str, floating_base: bool) -> PyResult<Self> {
        let m = py
            .detach(|| Model::from_urdf_file(path, floating_base))
            .map_err(err)?;
        Ok(Self::wrap(m))
    }

    /// Build a model from URDF text.
    #[staticmethod]
    #[pyo3(signature = (xml, floating_base = false))]
    fn from_urdf_string(py: Python<'_>, xml: &str, floating_base: bool) -> PyResult<Self> {
        let m = py
            .detach(|| Model::from_urdf_str(xml, floating_base))
            .map_err(err)?;
        Ok(Self::wrap(m))
    }

    #[getter]
    fn name(&self) -> String {
        self.model.name.clone()
    }
    #[getter]
    fn nq(&self) -> usize {
        self.model.nq
    }
    #[getter]
    fn nv(&self) -> usize {
        self.model.nv
    }
    #[getter]
    fn n_actuated(&self) -> usize {
        self.model.n_actuated()
    }
    #[getter]
    fn floating_base(&self) -> bool {
        self.model.floating_base
    }
    #[getter]
    fn root_link(&self) -> String {
        self.model.root_link.clone()
    }
    /// Joint names in configuration order (`root_joint` first when floating).
    #[getter]
    fn joint_names(&self) -> Vec<String> {
        self.model.joint_names()
    }
    /// The link moved by each joint, in the same order.
    #[getter]
    fn body_links(&self) -> Vec<String> {
        self.model.bodies.iter().map(|b| b.link.clone()).collect()
    }
    /// Joint types of the actuated joints: "revolute", "continuous" or "prismatic".
    #[getter]
    fn actuated_joint_types(&self) -> Vec<&'static str> {
        use ridgeline_core::sim::model::JointKind;
        self.model
            .bodies
            .iter()
            .filter_map(|b| match b.kind {
                JointKind::Free => None,
                JointKind::Prismatic { .. } => Some("prismatic"),
                JointKind::Revolute { .. } if b.continuous => Some("continuous"),
                JointKind::Revolute { .. } => Some("revolute"),
            })
            .collect()
    }
    #[getter]
    fn total_mass(&self) -> f64 {
        self.model.total_mass()
    }
    #[getter]
    fn gravity(&self) -> (f64, f64, f64) {
        let g = self.model.gravity;
        (g.x, g.y, g.z)
    }
    /// Per actuated joint: lower position limit (NaN when unlimited).
    #[getter]
    fn lower_limits<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| b.lower))
    }
    #[getter]
    fn upper_limits<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| b.upper))
    }
    #[getter]
    fn effort_limits<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| b.effort))
    }
    #[getter]
    fn damping<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| Some(b.damping)))
    }
    #[getter]
    fn friction<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| Some(b.friction)))
    }
    /// Links carrying ground-contact spheres, one entry per sphere.
    #[getter]
    fn contact_links(&self) -> Vec<String> {
        self.model.contacts.iter().map(|c| c.link.clone()).collect()
    }
    /// The neutral configuration (zeros; identity base orientation).
    fn neutral<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.model.neutral())
    }

    /// Forward dynamics (ABA): joint accelerations for torques `tau`.
    fn aba<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
        v: PyReadonlyArray1<'py, f64>,
        tau: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = &self.model;
        let (q, v, tau) = (slice1(&q), slice1(&v), slice1(&tau));
        check_len("q", q.len(), m.nq)?;
        check_len("v", v.len(), m.nv)?;
        check_len("tau", tau.len(), m.nv)?;
        let mut out = vec![0.0; m.nv];
        self.with_data(|m, d| aba(m, d, &q, &v, &tau, None, &mut out));
        Ok(PyArray1::from_vec(py, out))
    }

    /// Inverse dynamics (RNEA): torques producing accelerations `a`.
    fn rnea<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
        v: PyReadonlyArray1<'py, f64>,
        a: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = &self.model;
        let (q, v, a) = (slice1(&q), slice1(&v), slice1(&a));
        check_len("q", q.len(), m.nq)?;
        check_len("v", v.len(), m.nv)?;
        check_len("a", a.len(), m.nv)?;
        let mut out = vec![0.0; m.nv];
        self.with_data(|m, d| rnea(m, d, &q, &v, &a, None, &mut out));
        Ok(PyArray1::from_vec(py, out))
    }

    /// Joint-space mass matrix (CRBA), shape (nv, nv).
    fn mass_matrix<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = &self.model;
        let q = slice1(&q);
        check_len("q", q.len(), m.nq)?;
        let mut out = vec![0.0; m.nv * m.nv];
        self.with_data(|m, d| crba(m, d, &q, &mut out));
        Ok(Array2::from_shape_vec((m.nv, m.nv), out)
            .expect("shape")
            .into_pyarray(py))
    }

    /// `(kinetic, potential)` energy in joules.
    fn energy(
        &self,
        q: PyReadonlyArray1<'_, f64>,
        v: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<(f64, f64)> {
        let m = &self.model;
        let (q, v) = (slice1(&q), slice1(&v));
        check_len("q", q.len(), m.nq)?;
        check_len("v", v.len(), m.nv)?;
        Ok(self.with_data(|m, d| energy(m, d, &q, &v)))
    }

    /// World positions of every body frame origin, shape (n_bodies, 3).
    fn body_positions<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = &self.model;
        let q = slice1(&q);
        check_len("q", q.len(), m.nq)?;
        let n = m.bodies.len();
        let out = self.with_data(|m, d| {
            forward_kinematics(m, d, &q);
            d.pos
                .iter()
                .flat_map(|p| p.to_array())
                .collect::<Vec<f64>>()
        });
        Ok(Array2::from_shape_vec((n, 3), out)
            .expect("shape")
            .into_pyarray(py))
    }

    /// ABA for N states at once (rows), in parallel without the GIL.
    #[pyo3(signature = (q, v, tau, threads = None))]
    fn aba_batch<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray2<'py, f64>,
        v: PyReadonlyArray2<'py, f64>,
        tau: PyReadonlyArray2<'py, f64>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.batch(py, q, v, tau, threads, true)
    }

    /// RNEA for N states at once (rows), in parallel without the GIL.
    #[pyo3(signature = (q, v, a, threads = None))]
    fn rnea_batch<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray2<'py, f64>,
        v: PyReadonlyArray2<'py, f64>,
        a: PyReadonlyArray2<'py, f64>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.batch(py, q, v, a, threads, false)
    }
}

impl PySimModel {
    fn batch<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray2<'py, f64>,
        v: PyReadonlyArray2<'py, f64>,
        x: PyReadonlyArray2<'py, f64>,
        threads: Option<usize>,
        forward: bool,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = self.model.clone();
        let (nq, nv) = (m.nq, m.nv);
        let n = check_rows("q", &q, nq)?;
        if check_rows("v", &v, nv)? != n
            || check_rows(if forward { "tau" } else { "a" }, &x, nv)? != n
        {
            return Err(PyValueError::new_err(
                "q, v and the third argument must have the same number of rows",
            ));
        }
        let (q, v, x) = (slice2(&q), slice2(&v), slice2(&x));
        let mut out = vec![0.0; n * nv];
        if n == 0 || nv == 0 {
            return Ok(Array2::from_shape_vec((n, nv), out)
                .expect("shape")
                .into_pyarray(py));
        }
        let work = |out: &mut Vec<f64>| {
            let chunk = 64usize;
            out.par_chunks_mut(chunk * nv).enumerate().for_each_init(
                || Data::new(&m),
                |d, (c, o)| {
                    for (k, row) in o.chunks_mut(nv).enumerate() {
                        let i = c * chunk + k;
                        let (qi, vi, xi) = (
                            &q[i * nq..(i + 1) * nq],
                            &v[i * nv..(i + 1) * nv],
                            &x[i * nv..(i + 1) * nv],
                        );
                        if forward {
                            aba(&m, d, qi, vi, xi, None, row);
                        } else {
                            rnea(&m, d, qi, vi, xi, None, row);
                        }
                    }
                },
            );
        };
        py.detach(|| -> PyResult<()> {
            match threads {
                None => work(&mut out),
                Some(t) => rayon::ThreadPoolBuilder::new()
                    .num_threads(t.max(1))
                    .build()
                    .map_err(|e| {
                        PyValueError::new_err(format!("could not start {t} threads: {e}"))
                    })?
                    .install(|| work(&mut out)),
            }
            Ok(())
        })?;
        Ok(Array2::from_shape_vec((n, nv), out)
            .expect("shape")
            .into_pyarray(py))
    }
}

/// Cancellation and progress of a rollout, shared with the thread running it.
#[pyclass(frozen, name = "RolloutHandle", module = "ridgeline._native")]
pub struct PyRolloutHandle {
    ctl: Arc<RolloutControl>,
}

#[pymethods]
impl PyRolloutHandle {
    #[new]
    fn new() -> Self {
        PyRolloutHandle {
            ctl: Arc::new(RolloutControl::default()),
        }
    }
    /// Ask the rollout to stop; episodes stop before their next step.
    fn cancel(&self) {
        self.ctl.cancel.store(true, Ordering::Relaxed);
    }
    #[getter]
    fn cancelled(&self) -> bool {
        self.ctl.cancel.load(Ordering::Relaxed)
    }
    /// Steps completed so far, summed over episodes (updated every 64 steps per episode).
    #[getter]
    fn steps_done(&self) -> u64 {
        self.ctl.steps_done.load(Ordering::Relaxed)
    }
}

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
fn reality_profiles(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for name in Profile::builtin_names() {
        out.append(profile_dict(py, &Profile::builtin(name).map_err(err)?)?)?;
    }
    Ok(out)
}

/// Describe a custom profile built from `(parameter, distribution, values)` entries.
#[pyfunction]
#[pyo3(signature = (name, description, entries))]
fn custom_profile<'py>(
    py: Python<'py>,
    name: &str,
    description: &str,
    entries: Vec<(String, String, Vec<f64>)>,
) -> PyResult<Bound<'py, PyDict>> {
    profile_dict(py, &build_profile(name, description, &entries)?)
}

fn build_profile(
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

fn arr3<'py>(
    py: Python<'py>,
    data: Vec<f64>,
    shape: (usize, usize, usize),
) -> Bound<'py, PyArray3<f64>> {
    Array3::from_shape_vec(shape, data)
        .expect("shape")
        .into_pyarray(py)
}

/// Run `episodes` domain-randomised closed-loop episodes in parallel, without the GIL.
///
/// Returns a dict of numpy arrays (see `ridgeline.sim.RolloutResult`).
#[pyfunction]
#[pyo3(signature = (
    model, *, controller = "pd", kp = None, kd = None, torques = None, ref_q = None, ref_v = None, ref_a = None,
    profile = "default", profile_entries = None, steps = 500, dt = 0.002, seed = 0, episodes = 1,
    integrator = "semi_implicit_euler", q0 = None, v0 = None, contact = None, record = true,
    success_tolerance = 0.05, divergence_velocity = 1000.0, threads = None, handle = None,
    joint_limits = true
))]
#[allow(clippy::too_many_arguments)]
fn sim_rollout<'py>(
    py: Python<'py>,
    model: &PySimModel,
    controller: &str,
    kp: Option<PyReadonlyArray1<'py, f64>>,
    kd: Option<PyReadonlyArray1<'py, f64>>,
    torques: Option<numpy::PyReadonlyArrayDyn<'py, f64>>,
    ref_q: Option<PyReadonlyArray2<'py, f64>>,
    ref_v: Option<PyReadonlyArray2<'py, f64>>,
    ref_a: Option<PyReadonlyArray2<'py, f64>>,
    profile: &str,
    profile_entries: Option<Vec<(String, String, Vec<f64>)>>,
    steps: usize,
    dt: f64,
    seed: u64,
    episodes: usize,
    integrator: &str,
    q0: Option<PyReadonlyArray1<'py, f64>>,
    v0: Option<PyReadonlyArray1<'py, f64>>,
    contact: Option<bool>,
    record: bool,
    success_tolerance: f64,
    divergence_velocity: f64,
    threads: Option<usize>,
    handle: Option<&PyRolloutHandle>,
    joint_limits: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let m = model.model.clone();
    let na = m.n_actuated();
    let gains = |g: &Option<PyReadonlyArray1<'py, f64>>, what: &str| -> PyResult<Vec<f64>> {
        match g {
            Some(a) => Ok(slice1(a).into_owned()),
            None => Err(PyValueError::new_err(format!(
                "controller '{controller}' needs {what}"
            ))),
        }
    };
    let ctl = match controller {
        "zero" => Controller::Zero,
        "open_loop" => {
            let t = torques
                .ok_or_else(|| PyValueError::new_err("controller 'open_loop' needs torques"))?;
            let per_episode = match t.ndim() {
                2 => false,
                3 => true,
                n => {
                    return Err(PyValueError::new_err(format!(
                        "open-loop torques must be 2-D (steps, joints) or 3-D (episodes, steps, joints), got {n}-D"
                    )))
                }
            };
            let shape = t.shape();
            if shape[shape.len() - 1] != na {
                return Err(PyValueError::new_err(format!(
                    "open-loop torques: last dimension must be the {na} actuated joints, got shape {shape:?}"
                )));
            }
            let data: Vec<f64> = t.as_array().iter().copied().collect();
            Controller::OpenLoop {
                torques: data,
                per_episode,
            }
        }
        "pd" => Controller::Pd {
            kp: gains(&kp, "kp")?,
            kd: gains(&kd, "kd")?,
        },
        "computed_torque" => Controller::ComputedTorque {
            kp: gains(&kp, "kp")?,
            kd: gains(&kd, "kd")?,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown controller '{other}' (zero, pd, computed_torque, open_loop)"
            )))
        }
    };
    let reference = match (&ref_q, &ref_v, &ref_a) {
        (None, None, None) => None,
        (Some(rq), Some(rv), Some(ra)) => {
            let len = rq.shape()[0];
            for (what, a) in [("ref_q", rq), ("ref_v", rv), ("ref_a", ra)] {
                if a.shape() != [len, na] {
                    return Err(PyValueError::new_err(format!(
                        "{what}: expected shape ({len}, {na}) (steps x actuated joints), got {:?}",
                        a.shape()
                    )));
                }
            }
            Some(Reference {
                len,
                n: na,
                q: slice2(rq).into_owned(),
                v: slice2(rv).into_owned(),
                a: slice2(ra).into_owned(),
            })
        }
        _ => {
            return Err(PyValueError::new_err(
                "give all of ref_q, ref_v and ref_a, or none",
            ))
        }
    };
    let prof = match &profile_entries {
        Some(entries) => build_profile(profile, "custom profile", entries)?,
        None => Profile::builtin(profile).map_err(err)?,
    };
    let mut cfg = RolloutConfig::new(&m, steps, dt, seed, episodes);
    cfg.integrator = match integrator {
        "semi_implicit_euler" | "euler" => Integrator::SemiImplicitEuler,
        "rk4" => Integrator::Rk4,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown integrator '{other}' (semi_implicit_euler, rk4)"
            )))
        }
    };
    if let Some(q0) = &q0 {
        cfg.q0 = slice1(q0).into_owned();
    }
    if let Some(v0) = &v0 {
        cfg.v0 = slice1(v0).into_owned();
    }
    if let Some(c) = contact {
        cfg.contact = c;
    }
    cfg.record = record;
    cfg.success_tolerance = success_tolerance;
    cfg.divergence_velocity = divergence_velocity;
    cfg.threads = threads;
    cfg.joint_limits = joint_limits;
    if record {
        let per_step = 2 * (m.nq + m.nv) + 2 * na;
        let floats = (steps as u128 + 1) * episodes as u128 * per_step as u128;
        if floats > 1u128 << 29 {
            return Err(PyValueError::new_err(format!(
                "recording {episodes} episodes x {steps} steps would need {} GB: pass record=False \
                 (metrics only) or run fewer steps per call",
                floats * 8 / 1_000_000_000
            )));
        }
    }
    let control = handle.map(|h| h.ctl.clone()).unwrap_or_default();
    let results = py
        .detach(|| rollout(&m, &prof, &ctl, reference.as_ref(), &cfg, &control))
        .map_err(err)?;

    let (nq, nv, e) = (m.nq, m.nv, episodes);
    let out = PyDict::new(py);
    out.set_item("profile", &prof.name)?;
    out.set_item("cancelled", results.iter().any(|r| r.cancelled))?;
    out.set_item(
        "steps_completed",
        Array1::from_iter(results.iter().map(|r| r.steps_completed as i64)).into_pyarray(py),
    )?;
    if record {
        let cat =
            |f: &dyn Fn(&ridgeline_core::sim::rollout::EpisodeResult) -> &Vec<f64>| -> Vec<f64> {
                results.iter().flat_map(|r| f(r).iter().copied()).collect()
            };
        out.set_item("q", arr3(py, cat(&|r| &r.q), (e, steps + 1, nq)))?;
        out.set_item("v", arr3(py, cat(&|r| &r.v), (e, steps + 1, nv)))?;
        out.set_item(
            "observations",
            arr3(py, cat(&|r| &r.obs), (e, steps, nq + nv)),
        )?;
        out.set_item("actions", arr3(py, cat(&|r| &r.actions), (e, steps, na)))?;
        out.set_item(
            "applied_torques",
            arr3(py, cat(&|r| &r.applied), (e, steps, na)),
        )?;
    }
    let metrics = PyDict::new(py);
    macro_rules! col {
        ($name:literal, $f:expr) => {
            metrics.set_item(
                $name,
                Array1::from_iter(results.iter().map($f)).into_pyarray(py),
            )?;
        };
    }
    col!("tracking_rmse", |r| r.metrics.tracking_rmse);
    col!("max_tracking_error", |r| r.metrics.max_tracking_error);
    col!("energy", |r| r.metrics.energy);
    col!("success", |r| r.metrics.success);
    col!("diverged", |r| r.metrics.diverged);
    col!("time_per_step", |r| r.metrics.time_per_step);
    col!("mean_slip_speed", |r| r.metrics.mean_slip_speed);
    col!("contact_fraction", |r| r.metrics.contact_fraction);
    col!("base_distance", |r| r.metrics.base_distance);
    col!("initial_mechanical_energy", |r| r
        .metrics
        .initial_mechanical_energy);
    col!("final_mechanical_energy", |r| r
        .metrics
        .final_mechanical_energy);
    out.set_item("metrics", metrics)?;
    let params = PyDict::new(py);
    macro_rules! par {
        ($name:literal, $f:expr) => {
            params.set_item(
                $name,
                Array1::from_iter(results.iter().map($f)).into_pyarray(py),
            )?;
        };
    }
    par!("ground_friction", |r| r.params.ground_friction);
    par!("damping_scale", |r| r.params.damping_scale);
    par!("joint_friction_scale", |r| r.params.joint_friction_scale);
    par!("actuator_gain", |r| r.params.actuator_gain);
    par!("actuator_latency", |r| r.params.actuator_latency);
    par!("sensor_noise_q", |r| r.params.sensor_noise_q);
    par!("sensor_noise_v", |r| r.params.sensor_noise_v);
    par!("sensor_delay", |r| r.params.sensor_delay);
    par!("sensor_quantization", |r| r.params.sensor_quantization);
    par!("gravity_tilt", |r| r.params.gravity_tilt);
    let nb = m.bodies.len();
    let per_body = |f: &dyn Fn(&ridgeline_core::sim::rollout::EpisodeResult) -> &Vec<f64>| {
        Array2::from_shape_vec(
            (e, nb),
            results.iter().flat_map(|r| f(r).iter().copied()).collect(),
        )
        .expect("shape")
    };
    params.set_item(
        "mass_scale",
        per_body(&|r| &r.params.mass_scale).into_pyarray(py),
    )?;
    params.set_item(
        "inertia_scale",
        per_body(&|r| &r.params.inertia_scale).into_pyarray(py),
    )?;
    params.set_item(
        "gravity",
        Array2::from_shape_vec(
            (e, 3),
            results
                .iter()
                .flat_map(|r| r.params.gravity.to_array())
                .collect(),
        )
        .expect("shape")
        .into_pyarray(py),
    )?;
    out.set_item("params", params)?;
    Ok(out)
}

/// Register the sim bindings on the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimModel>()?;
    m.add_class::<PyRolloutHandle>()?;
    m.add_function(wrap_pyfunction!(sim_rollout, m)?)?;
    m.add_function(wrap_pyfunction!(reality_profiles, m)?)?;
    m.add_function(wrap_pyfunction!(custom_profile, m)?)?;
    Ok(())
}
