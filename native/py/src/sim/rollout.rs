//! `sim_rollout` and `RolloutHandle`: batched, cancellable rollouts.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use numpy::ndarray::{Array1, Array2, Array3};
use numpy::{IntoPyArray, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use ridgeline_core::sim::contact::ContactParams;
use ridgeline_core::sim::profile::Profile;
use ridgeline_core::sim::rollout::{
    rollout, rollout_recorded, Controller, Integrator, Reference, RolloutConfig, RolloutControl,
};

use super::model::PySimModel;
use super::profile::build_profile;
use super::{err, slice1, slice2};

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
    joint_limits = true, velocity_limit_factor = None, energy_growth = None, base_bound = None,
    contact_stiffness = None, contact_damping = None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sim_rollout<'py>(
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
    velocity_limit_factor: Option<f64>,
    energy_growth: Option<f64>,
    base_bound: Option<f64>,
    contact_stiffness: Option<f64>,
    contact_damping: Option<f64>,
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
        "pd_gravity" => Controller::PdGravity {
            kp: gains(&kp, "kp")?,
            kd: gains(&kd, "kd")?,
        },
        "computed_torque" => Controller::ComputedTorque {
            kp: gains(&kp, "kp")?,
            kd: gains(&kd, "kd")?,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown controller '{other}' (zero, pd, pd_gravity, computed_torque, open_loop)"
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
    cfg.threads = threads.unwrap_or(0);
    cfg.joint_limits = joint_limits;
    if let Some(x) = velocity_limit_factor {
        cfg.velocity_limit_factor = x;
    }
    if let Some(x) = energy_growth {
        cfg.energy_growth = x;
    }
    if let Some(x) = base_bound {
        cfg.base_bound = x;
    }
    if contact_stiffness.is_some() || contact_damping.is_some() {
        let d = ContactParams::for_model(&m);
        cfg.contact_params = Some(ContactParams {
            stiffness: contact_stiffness.unwrap_or(d.stiffness),
            damping: contact_damping.unwrap_or(d.damping),
            slip_velocity: d.slip_velocity,
        });
    }
    let control = handle.map(|h| h.ctl.clone()).unwrap_or_default();
    // recorded: every episode writes straight into its block of the arrays handed to numpy
    let (results, recording) = py
        .detach(|| {
            if record {
                rollout_recorded(&m, &prof, &ctl, reference.as_ref(), &cfg, &control)
                    .map(|(r, rec)| (r, Some(rec)))
            } else {
                rollout(&m, &prof, &ctl, reference.as_ref(), &cfg, &control).map(|r| (r, None))
            }
        })
        .map_err(err)?;

    let (nq, nv, e) = (m.nq, m.nv, episodes);
    let out = PyDict::new(py);
    out.set_item("profile", &prof.name)?;
    out.set_item("cancelled", results.iter().any(|r| r.cancelled))?;
    out.set_item(
        "started",
        Array1::from_iter(results.iter().map(|r| r.started)).into_pyarray(py),
    )?;
    out.set_item(
        "divergence",
        results
            .iter()
            .map(|r| r.divergence.map(|d| d.as_str()))
            .collect::<Vec<_>>(),
    )?;
    out.set_item(
        "steps_completed",
        Array1::from_iter(results.iter().map(|r| r.steps_completed as i64)).into_pyarray(py),
    )?;
    if let Some(rec) = recording {
        out.set_item("q", arr3(py, rec.q, (e, steps + 1, nq)))?;
        out.set_item("v", arr3(py, rec.v, (e, steps + 1, nv)))?;
        out.set_item("observations", arr3(py, rec.obs, (e, steps, nq + nv)))?;
        out.set_item("actions", arr3(py, rec.actions, (e, steps, na)))?;
        out.set_item("applied_torques", arr3(py, rec.applied, (e, steps, na)))?;
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
    par!("contact_stiffness_scale", |r| r
        .params
        .contact_stiffness_scale);
    par!("contact_damping_scale", |r| r.params.contact_damping_scale);
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
