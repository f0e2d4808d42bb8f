//! `SimModel`: a URDF model, its dynamics calls and the batched ABA/RNEA of `sim::batch`.

use std::sync::{Arc, Mutex};

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use ridgeline_core::sim::batch::{dynamics_batch, BatchKind};
use ridgeline_core::sim::contact::ContactParams;
use ridgeline_core::sim::dynamics::{aba, crba, energy, forward_kinematics, rnea, Data};
use ridgeline_core::sim::rollout::recorded_bytes;
use ridgeline_core::sim::{pose, stance, Model};

use super::{check_len, check_rows, err, slice1, slice2};

/// A rigid-body model loaded from URDF (immutable; safe to share between threads).
#[pyclass(frozen, name = "SimModel", module = "ridgeline._native")]
pub struct PySimModel {
    pub(crate) model: Arc<Model>,
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
    /// Per actuated joint: URDF velocity limit (NaN when none).
    #[getter]
    fn velocity_limits<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, opt_vec(&self.model, |b| b.velocity))
    }
    /// A named pose (`SIM_POSES`): "neutral" or "stand" (resting on the ground).
    fn pose<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(PyArray1::from_vec(
            py,
            pose::pose(&self.model, name).map_err(err)?,
        ))
    }
    /// The default initial configuration of a rollout (the "stand" pose).
    fn default_configuration<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, pose::default_configuration(&self.model))
    }
    /// Height of the lowest contact point at `q` (None without contact geometry).
    fn lowest_point(&self, q: PyReadonlyArray1<'_, f64>) -> PyResult<Option<f64>> {
        let q = slice1(&q);
        check_len("q", q.len(), self.model.nq)?;
        Ok(pose::lowest_point(&self.model, &q))
    }
    /// Validate an initial state; raises `SimFieldError` naming `q_field` or `v_field`.
    #[pyo3(signature = (q, v, q_field = "initial_q", v_field = "initial_v", limits = true))]
    fn check_state(
        &self,
        q: Vec<f64>,
        v: Vec<f64>,
        q_field: &str,
        v_field: &str,
        limits: bool,
    ) -> PyResult<()> {
        pose::check_state(&self.model, &q, &v, q_field, v_field, limits).map_err(err)
    }
    /// Torques holding `q` still: gravity compensation, or the stance's inverse dynamics for
    /// a floating base on the ground (`ground`).
    #[pyo3(signature = (q, ground = true))]
    fn holding_torques<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
        ground: bool,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let q = slice1(&q);
        check_len("q", q.len(), self.model.nq)?;
        Ok(PyArray1::from_vec(
            py,
            stance::holding_torques(&self.model, &q, ground),
        ))
    }
    /// Effective inertia of each actuated joint for position control in the stance at `q`.
    #[pyo3(signature = (q, ground = true))]
    fn stance_inertias<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
        ground: bool,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let q = slice1(&q);
        check_len("q", q.len(), self.model.nq)?;
        Ok(PyArray1::from_vec(
            py,
            stance::stance_inertias(&self.model, &q, ground),
        ))
    }
    /// Default ground contact `(stiffness N/m, damping N s/m, slip velocity m/s)` per point.
    fn contact_defaults(&self) -> (f64, f64, f64) {
        let c = ContactParams::for_model(&self.model);
        (c.stiffness, c.damping, c.slip_velocity)
    }
    /// Bytes a recorded rollout of `episodes` x `steps` needs (limit `SIM_MAX_RECORDED_BYTES`).
    fn recorded_bytes(&self, steps: usize, episodes: usize) -> u128 {
        recorded_bytes(&self.model, steps, episodes)
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
        let kind = if forward {
            BatchKind::Aba
        } else {
            BatchKind::Rnea
        };
        let mut out = vec![0.0; n * nv];
        py.detach(|| dynamics_batch(&m, kind, &q, &v, &x, &mut out, threads.unwrap_or(0)))
            .map_err(err)?;
        Ok(Array2::from_shape_vec((n, nv), out)
            .expect("shape")
            .into_pyarray(py))
    }
}
