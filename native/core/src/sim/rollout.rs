//! Closed-loop rollouts: controllers, actuators, sensors, passive joint forces, contact and
//! integration, for many domain-randomised episodes in parallel.
//!
//! One step of an episode, at time `t = k dt`:
//! 1. the sensor returns the true state `sensor_delay` ago, plus Gaussian noise, quantised;
//! 2. the controller turns the observation and the reference at step `k` into a torque command
//!    for the actuated joints;
//! 3. the actuator applies the command issued `actuator_latency` ago, times the gain, clipped
//!    to the URDF effort limits;
//! 4. passive joint forces (viscous damping, smoothed Coulomb friction `f tanh(v / 0.01)`),
//!    joint position limits, ground contact and gravity act, and the integrator advances the
//!    state (semi-implicit Euler treats the velocity-linear dissipative terms and the stiff
//!    springs at the end of the step, see `Stepper::accel_implicit`; RK4 is fully explicit).
//!
//! Position limits are stiff one-sided spring-dampers: beyond a URDF limit a joint feels
//! `tau = -(k e + b v)` (never pulling towards the limit), with `k = M_jj w^2`,
//! `b = 2 M_jj w`, `w = LIMIT_FREQUENCY` and `M_jj` the joint's mass-matrix diagonal at the
//! neutral configuration. (A projection onto the limit would teleport the subtree and inject
//! energy through contacts.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::contact::{contact_forces, ActiveContact, ContactParams, ContactStats};
use super::dynamics::{
    aba, cholesky_in_place, config_rate, crba, forward_kinematics, integrate_config,
    normalize_base, rnea, Data,
};
use super::error::{SimError, SimResult};
use super::math::{Mat3, Vec3};
use super::model::{JointKind, Model};
use super::profile::{EpisodeParams, Profile, Rng};
use super::spatial::{Force, Inertia6, Motion};

/// Speed (rad/s or m/s) below which joint Coulomb friction is smoothed by `tanh(v / V)`.
pub const FRICTION_SMOOTHING_VELOCITY: f64 = 0.01;

/// Natural frequency (rad/s) of the joint position-limit springs.
pub const LIMIT_FREQUENCY: f64 = 200.0;

/// Limit violation `e` (positive beyond the upper limit, negative below the lower one).
#[inline]
fn limit_violation(b: &super::model::Body, q: f64) -> f64 {
    match (b.lower, b.upper) {
        (Some(_), Some(hi)) if q > hi => q - hi,
        (Some(lo), Some(_)) if q < lo => q - lo,
        _ => 0.0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrator {
    /// Semi-implicit (symplectic) Euler: `v += dt a(q, v)`, then `q += dt v`.
    SemiImplicitEuler,
    /// Classical fourth-order Runge-Kutta on `(q, v)` with the torque command held over the step.
    Rk4,
}

/// A feedback controller on the actuated joints.
#[derive(Clone, Debug, PartialEq)]
pub enum Controller {
    /// No torque.
    Zero,
    /// `u = kp (q_ref - q) + kd (v_ref - v)` per actuated joint.
    Pd { kp: Vec<f64>, kd: Vec<f64> },
    /// `u = RNEA_nominal(q, v, a_ref + kp (q_ref - q) + kd (v_ref - v))`, using the nominal
    /// (unrandomised) model; a floating base is given zero commanded acceleration.
    ComputedTorque { kp: Vec<f64>, kd: Vec<f64> },
    /// Open loop: the torque command of step `k` is row `k` of a `(steps, n_actuated)` array,
    /// the same for every episode, or of episode `e`'s block of an
    /// `(episodes, steps, n_actuated)` array (`per_episode`). Replaying the actions of one
    /// profile under another isolates the dynamics gap.
    OpenLoop {
        torques: Vec<f64>,
        per_episode: bool,
    },
}

/// A reference trajectory for the actuated joints: row-major `(len, n)` arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub len: usize,
    pub n: usize,
    pub q: Vec<f64>,
    pub v: Vec<f64>,
    pub a: Vec<f64>,
}

/// Rollout settings shared by all episodes.
#[derive(Clone, Debug)]
pub struct RolloutConfig {
    pub steps: usize,
    pub dt: f64,
    pub seed: u64,
    pub episodes: usize,
    pub integrator: Integrator,
    pub q0: Vec<f64>,
    pub v0: Vec<f64>,
    pub contact: bool,
    pub contact_params: Option<ContactParams>,
    /// Keep per-step states, observations and actions.
    pub record: bool,
    /// An episode succeeds when it does not diverge and the RMS tracking error stays below this.
    pub success_tolerance: f64,
    /// A joint speed above this (or any non-finite value) marks the episode as diverged.
    pub divergence_velocity: f64,
    /// Worker threads: `None` uses the global pool, `Some(1)` runs on the calling thread.
    pub threads: Option<usize>,
    /// Enforce URDF position limits with stiff limit springs (on by default).
    pub joint_limits: bool,
}

impl RolloutConfig {
    pub fn new(model: &Model, steps: usize, dt: f64, seed: u64, episodes: usize) -> RolloutConfig {
        RolloutConfig {
            steps,
            dt,
            seed,
            episodes,
            integrator: Integrator::SemiImplicitEuler,
            q0: model.neutral(),
            v0: vec![0.0; model.nv],
            contact: model.floating_base,
            contact_params: None,
            record: true,
            success_tolerance: 0.05,
            divergence_velocity: 1.0e3,
            threads: None,
            joint_limits: true,
        }
    }
}

/// Cancellation flag and progress counter shared with the caller.
#[derive(Debug, Default)]
pub struct RolloutControl {
    pub cancel: AtomicBool,
    pub steps_done: AtomicU64,
}

/// Episode metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// RMS over steps and actuated joints of `q_ref - q_true`.
    pub tracking_rmse: f64,
    /// Largest absolute joint tracking error.
    pub max_tracking_error: f64,
    /// Actuator energy `sum_k sum_j |tau_j v_j| dt` (J).
    pub energy: f64,
    pub success: bool,
    pub diverged: bool,
    /// Wall-clock seconds per step of this episode.
    pub time_per_step: f64,
    /// Mean slip speed over active contacts (m/s), 0 without contact.
    pub mean_slip_speed: f64,
    /// Fraction of steps with at least one active contact.
    pub contact_fraction: f64,
    /// Horizontal distance travelled by a floating base (m).
    pub base_distance: f64,
    /// Mechanical energy (kinetic + potential) at the start and at the end (J).
    pub initial_mechanical_energy: f64,
    pub final_mechanical_energy: f64,
}

/// One episode's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeResult {
    pub params: EpisodeParams,
    pub steps_completed: usize,
    pub cancelled: bool,
    /// `(steps + 1) * nq`, NaN after an early stop (empty when not recording).
    pub q: Vec<f64>,
    /// `(steps + 1) * nv`.
    pub v: Vec<f64>,
    /// `steps * (nq + nv)`: measured `[q, v]` seen by the controller.
    pub obs: Vec<f64>,
    /// `steps * n_actuated`: commanded torques.
    pub actions: Vec<f64>,
    /// `steps * n_actuated`: torques applied by the actuators (after gain, latency, limits).
    pub applied: Vec<f64>,
    pub metrics: Metrics,
}

/// Check the arguments of a rollout against the model.
pub fn validate(
    model: &Model,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
) -> SimResult<()> {
    let na = model.n_actuated();
    if !(cfg.dt > 0.0 && cfg.dt.is_finite()) {
        return Err(SimError::Invalid(format!(
            "dt must be positive and finite, got {}",
            cfg.dt
        )));
    }
    if cfg.episodes == 0 {
        return Err(SimError::Invalid("episodes must be at least 1".into()));
    }
    if cfg.q0.len() != model.nq {
        return Err(SimError::Shape {
            what: "q0".into(),
            expected: model.nq,
            got: cfg.q0.len(),
        });
    }
    if cfg.v0.len() != model.nv {
        return Err(SimError::Shape {
            what: "v0".into(),
            expected: model.nv,
            got: cfg.v0.len(),
        });
    }
    if cfg.q0.iter().chain(cfg.v0.iter()).any(|x| !x.is_finite()) {
        return Err(SimError::Invalid("q0 and v0 must be finite".into()));
    }
    match controller {
        Controller::Zero => {}
        Controller::OpenLoop {
            torques,
            per_episode,
        } => {
            let expected = cfg.steps * na * if *per_episode { cfg.episodes } else { 1 };
            if torques.len() != expected {
                return Err(SimError::Shape {
                    what: if *per_episode {
                        "open-loop torques (episodes x steps x actuated joints)".into()
                    } else {
                        "open-loop torques (steps x actuated joints)".into()
                    },
                    expected,
                    got: torques.len(),
                });
            }
        }
        Controller::Pd { kp, kd } | Controller::ComputedTorque { kp, kd } => {
            if kp.len() != na {
                return Err(SimError::Shape {
                    what: "controller kp".into(),
                    expected: na,
                    got: kp.len(),
                });
            }
            if kd.len() != na {
                return Err(SimError::Shape {
                    what: "controller kd".into(),
                    expected: na,
                    got: kd.len(),
                });
            }
        }
    }
    if let Some(r) = reference {
        if r.n != na {
            return Err(SimError::Shape {
                what: "reference columns".into(),
                expected: na,
                got: r.n,
            });
        }
        if r.len < cfg.steps {
            return Err(SimError::Shape {
                what: "reference rows (one per step)".into(),
                expected: cfg.steps,
                got: r.len,
            });
        }
        for (what, arr) in [
            ("reference q", &r.q),
            ("reference v", &r.v),
            ("reference a", &r.a),
        ] {
            if arr.len() != r.len * r.n {
                return Err(SimError::Shape {
                    what: what.into(),
                    expected: r.len * r.n,
                    got: arr.len(),
                });
            }
        }
    }
    Ok(())
}

/// Apply an episode's sampled parameters to a copy of the nominal model.
pub fn perturbed_model(model: &Model, p: &EpisodeParams) -> Model {
    let mut m = model.clone();
    m.gravity = p.gravity;
    for (i, b) in m.bodies.iter_mut().enumerate() {
        let ms = p.mass_scale[i];
        let is = p.inertia_scale[i];
        let mass = b.inertia.mass();
        if mass > 0.0 {
            let h = b.inertia.first_moment();
            let com = h.scale(1.0 / mass);
            // rotational inertia about the centre of mass: A - m [c]x [c]x^T
            let cx = Mat3::skew(com);
            let i_com = b.inertia.a.sub(&cx.mul_tr(&cx).scale(mass));
            b.inertia = Inertia6::rigid(mass * ms, com, &i_com.scale(is));
        } else {
            b.inertia.a = b.inertia.a.scale(is);
        }
        b.damping *= p.damping_scale;
        b.friction *= p.joint_friction_scale;
    }
    m
}

struct Stepper<'a> {
    model: &'a Model,
    data: Data,
    fext: Vec<Force>,
    tau: Vec<f64>,
    contact: Option<(ContactParams, f64)>,
    limits: bool,
    active: Vec<ActiveContact>,
    cmat: Vec<f64>,
    mmat: Vec<f64>,
    rhs: Vec<f64>,
    extra: Vec<f64>,
    jac: Vec<[f64; 3]>,
}

impl<'a> Stepper<'a> {
    fn new(model: &'a Model, contact: Option<(ContactParams, f64)>, limits: bool) -> Self {
        Stepper {
            model,
            data: Data::new(model),
            fext: vec![Force::ZERO; model.bodies.len()],
            tau: vec![0.0; model.nv],
            contact,
            limits,
            active: Vec::new(),
            cmat: vec![0.0; model.nv * model.nv],
            mmat: vec![0.0; model.nv * model.nv],
            rhs: vec![0.0; model.nv],
            extra: vec![0.0; model.nv],
            jac: vec![[0.0; 3]; model.nv],
        }
    }

    /// Semi-implicit Euler accelerations: the dissipative forces that are linear in velocity
    /// in secant form (`f = -C(q, v) v`: joint damping, smoothed joint friction, contact
    /// friction and normal contact damping) are taken at the end of the step,
    /// `(M + dt C) a = M a_explicit`; the normal contact spring is taken at the end of the
    /// step too (linearised: `f_n' = k d - (b + dt k) v_z'`). This keeps stiff contact, friction and damping stable
    /// at ordinary time steps.
    #[allow(clippy::needless_range_loop)]
    fn accel_implicit(
        &mut self,
        q: &[f64],
        v: &[f64],
        act: &[f64],
        dt: f64,
        out: &mut [f64],
    ) -> ContactStats {
        let stats = self.accel(q, v, act, out);
        let m = self.model;
        let nv = m.nv;
        let mut any = false;
        for x in self.cmat.iter_mut() {
            *x = 0.0;
        }
        for x in self.extra.iter_mut() {
            *x = 0.0;
        }
        for b in &m.bodies {
            if let JointKind::Free = b.kind {
                continue;
            }
            let vi = v[b.v_idx];
            let fr = if vi.abs() > 1e-12 {
                b.friction * (vi / FRICTION_SMOOTHING_VELOCITY).tanh() / vi
            } else {
                b.friction / FRICTION_SMOOTHING_VELOCITY
            };
            let mut c = b.damping + fr;
            if self.limits {
                let e = limit_violation(b, q[b.q_idx]);
                let k = b.limit_inertia * LIMIT_FREQUENCY * LIMIT_FREQUENCY;
                let d = 2.0 * b.limit_inertia * LIMIT_FREQUENCY;
                if e != 0.0 && (k * e + d * vi) * e > 0.0 {
                    // the limit spring and damper at the end of the step, like the contact normal
                    c += d + dt * k;
                    self.extra[b.v_idx] += dt * k * vi;
                }
            }
            if c > 0.0 {
                self.cmat[b.v_idx * nv + b.v_idx] += c;
                any = true;
            }
        }
        for ac in &self.active {
            // tangential (x, y) velocity Jacobian of the contact point, along the path to the root
            for j in self.jac.iter_mut() {
                *j = [0.0; 3];
            }
            let mut cur = Some(ac.body);
            while let Some(j) = cur {
                let b = &m.bodies[j];
                let rot = &self.data.rot[j];
                let r = ac.point - self.data.pos[j];
                match b.kind {
                    JointKind::Revolute { axis } => {
                        let col = rot.mul_vec(axis).cross(r);
                        self.jac[b.v_idx] = [col.x, col.y, col.z];
                    }
                    JointKind::Prismatic { axis } => {
                        let col = rot.mul_vec(axis);
                        self.jac[b.v_idx] = [col.x, col.y, col.z];
                    }
                    JointKind::Free => {
                        for k in 0..3 {
                            let e = Vec3::new(rot.m[0][k], rot.m[1][k], rot.m[2][k]);
                            self.jac[b.v_idx + k] = [e.x, e.y, e.z];
                            let col = e.cross(r);
                            self.jac[b.v_idx + 3 + k] = [col.x, col.y, col.z];
                        }
                    }
                }
                cur = b.parent;
            }
            let (c, d) = (
                ac.friction_coefficient,
                ac.normal_damping + dt * ac.normal_stiffness,
            );
            // the spring part is not in the explicit force: its end-of-step increment
            // -k dt v_z' enters as -dt k J_z^T J_z v' = -(dt k J_z^T J_z)(v + dt a)
            let mut vz = 0.0;
            for (r, jr) in self.jac.iter().enumerate() {
                vz += jr[2] * v[r];
            }
            let spring = dt * ac.normal_stiffness * vz;
            for (r, jr) in self.jac.iter().enumerate() {
                self.extra[r] += spring * jr[2];
            }
            for r in 0..nv {
                let jr = self.jac[r];
                if jr == [0.0; 3] {
                    continue;
                }
                for col in 0..nv {
                    let jc = self.jac[col];
                    self.cmat[r * nv + col] +=
                        c * (jr[0] * jc[0] + jr[1] * jc[1]) + d * jr[2] * jc[2];
                }
            }
            any = true;
        }
        if !any {
            return stats;
        }
        crba(m, &mut self.data, q, &mut self.mmat);
        for r in 0..nv {
            let mut s = 0.0;
            for col in 0..nv {
                s += self.mmat[r * nv + col] * out[col];
            }
            self.rhs[r] = s - self.extra[r];
        }
        for (mm, c) in self.mmat.iter_mut().zip(&self.cmat) {
            *mm += dt * c;
        }
        if cholesky_in_place(&mut self.mmat, nv, 0.0).is_err() {
            return stats; // keep the explicit accelerations
        }
        // forward and back substitution with the lower factor
        for r in 0..nv {
            let mut s = self.rhs[r];
            for k in 0..r {
                s -= self.mmat[r * nv + k] * self.rhs[k];
            }
            self.rhs[r] = s / self.mmat[r * nv + r];
        }
        for r in (0..nv).rev() {
            let mut s = self.rhs[r];
            for k in r + 1..nv {
                s -= self.mmat[k * nv + r] * out[k];
            }
            out[r] = s / self.mmat[r * nv + r];
        }
        stats
    }

    /// Accelerations for state `(q, v)` under actuated torques `act` (passive forces added here).
    fn accel(&mut self, q: &[f64], v: &[f64], act: &[f64], out: &mut [f64]) -> ContactStats {
        let m = self.model;
        let (_, voff) = m.actuated_offsets();
        for x in self.tau.iter_mut() {
            *x = 0.0;
        }
        self.tau[voff..].copy_from_slice(act);
        for b in &m.bodies {
            if let JointKind::Free = b.kind {
                continue;
            }
            let vi = v[b.v_idx];
            self.tau[b.v_idx] -=
                b.damping * vi + b.friction * (vi / FRICTION_SMOOTHING_VELOCITY).tanh();
            if self.limits {
                let e = limit_violation(b, q[b.q_idx]);
                if e != 0.0 {
                    let k = b.limit_inertia * LIMIT_FREQUENCY * LIMIT_FREQUENCY;
                    let d = 2.0 * b.limit_inertia * LIMIT_FREQUENCY;
                    let t = k * e + d * vi;
                    // push back only
                    if t * e > 0.0 {
                        self.tau[b.v_idx] -= t;
                    }
                }
            }
        }
        let mut stats = ContactStats::default();
        let fext = if let Some((cp, mu)) = self.contact {
            forward_kinematics(m, &mut self.data, q);
            for (i, b) in m.bodies.iter().enumerate() {
                let vj = match b.kind {
                    JointKind::Revolute { axis } => Motion::new(axis.scale(v[b.v_idx]), Vec3::ZERO),
                    JointKind::Prismatic { axis } => {
                        Motion::new(Vec3::ZERO, axis.scale(v[b.v_idx]))
                    }
                    JointKind::Free => {
                        let k = b.v_idx;
                        Motion::new(
                            Vec3::new(v[k + 3], v[k + 4], v[k + 5]),
                            Vec3::new(v[k], v[k + 1], v[k + 2]),
                        )
                    }
                };
                self.data.v[i] = match b.parent {
                    Some(p) => self.data.xup[i].apply_motion(self.data.v[p]).add(vj),
                    None => vj,
                };
            }
            stats = contact_forces(m, &self.data, &cp, mu, &mut self.fext, &mut self.active);
            Some(&self.fext[..])
        } else {
            None
        };
        aba(m, &mut self.data, q, v, &self.tau, fext, out);
        stats
    }
}

/// An RK4 stage state: `q + h kq`, `v + h ka` (configuration rates, see `config_rate`).
#[allow(clippy::too_many_arguments)]
fn rk_stage(q: &[f64], v: &[f64], kq: &[f64], ka: &[f64], h: f64, qs: &mut [f64], vs: &mut [f64]) {
    for j in 0..q.len() {
        qs[j] = q[j] + h * kq[j];
    }
    for j in 0..v.len() {
        vs[j] = v[j] + h * ka[j];
    }
}

/// Run one episode.
#[allow(clippy::too_many_arguments)]
pub fn run_episode(
    nominal: &Model,
    profile: &Profile,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
    episode: usize,
    ctl: &RolloutControl,
) -> EpisodeResult {
    let start = Instant::now();
    let mut prng = Rng::for_episode(cfg.seed, episode as u64, 0);
    let mut noise = Rng::for_episode(cfg.seed, episode as u64, 1);
    let params = profile.sample(&mut prng, nominal.bodies.len(), nominal.gravity);
    let model = perturbed_model(nominal, &params);
    let (nq, nv, na) = (model.nq, model.nv, model.n_actuated());
    let (qoff, voff) = model.actuated_offsets();
    let steps = cfg.steps;
    let dt = cfg.dt;
    let contact = if cfg.contact && !model.contacts.is_empty() {
        Some((
            cfg.contact_params
                .unwrap_or_else(|| ContactParams::for_model(nominal)),
            params.ground_friction,
        ))
    } else {
        None
    };
    let mut st = Stepper::new(&model, contact, cfg.joint_limits);
    let mut nominal_data = Data::new(nominal);
    let mut ct_a = vec![0.0; nv];
    let mut ct_tau = vec![0.0; nv];
    let zeros_v = vec![0.0; nv];

    let latency = (params.actuator_latency / dt).round() as usize;
    let delay = (params.sensor_delay / dt).round() as usize;
    // ring buffers: past true states for the sensor, past commands for the actuator
    let mut hist_q = vec![0.0; (delay + 1) * nq];
    let mut hist_v = vec![0.0; (delay + 1) * nv];
    let mut cmd_hist = vec![0.0; (latency + 1) * na];

    let mut q = cfg.q0.clone();
    let mut v = cfg.v0.clone();
    for k in 0..=delay {
        hist_q[k * nq..(k + 1) * nq].copy_from_slice(&q);
        hist_v[k * nv..(k + 1) * nv].copy_from_slice(&v);
    }
    let record = cfg.record;
    let nan = f64::NAN;
    let (mut rq, mut rv, mut robs, mut ract, mut rapp) = if record {
        (
            vec![nan; (steps + 1) * nq],
            vec![nan; (steps + 1) * nv],
            vec![nan; steps * (nq + nv)],
            vec![nan; steps * na],
            vec![nan; steps * na],
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new())
    };
    if record {
        rq[..nq].copy_from_slice(&q);
        rv[..nv].copy_from_slice(&v);
    }
    let e0 = {
        let (t, p) = super::dynamics::energy(&model, &mut st.data, &q, &v);
        t + p
    };
    let base0 = if model.floating_base {
        (q[0], q[1])
    } else {
        (0.0, 0.0)
    };

    let mut obs_q = vec![0.0; nq];
    let mut obs_v = vec![0.0; nv];
    let mut cmd = vec![0.0; na];
    let mut applied = vec![0.0; na];
    let mut qdd = vec![0.0; nv];
    // RK4 scratch
    let (mut k1q, mut k2q, mut k3q, mut k4q) =
        (vec![0.0; nq], vec![0.0; nq], vec![0.0; nq], vec![0.0; nq]);
    let (mut k1a, mut k2a, mut k3a, mut k4a) =
        (vec![0.0; nv], vec![0.0; nv], vec![0.0; nv], vec![0.0; nv]);
    let mut qs = vec![0.0; nq];
    let mut vs = vec![0.0; nv];

    let mut sq_err = 0.0;
    let mut max_err: f64 = 0.0;
    let mut energy = 0.0;
    let mut slip_sum = 0.0;
    let mut slip_n = 0usize;
    let mut contact_steps = 0usize;
    let mut diverged = false;
    let mut cancelled = false;
    let mut done = 0usize;
    let mut unreported = 0u64;
    let q0_act: Vec<f64> = cfg.q0[qoff..qoff + na].to_vec();

    for k in 0..steps {
        if ctl.cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        // 1. sensor: the true state `delay` steps ago, noisy, quantised
        // slot (k + 1) mod (delay + 1) still holds the state of step k - delay (q0 before that)
        let slot = (k + 1) % (delay + 1);
        obs_q.copy_from_slice(&hist_q[slot * nq..(slot + 1) * nq]);
        obs_v.copy_from_slice(&hist_v[slot * nv..(slot + 1) * nv]);
        if params.sensor_noise_q > 0.0 {
            for x in obs_q.iter_mut() {
                *x += params.sensor_noise_q * noise.normal();
            }
            if model.floating_base {
                let n = (obs_q[3].powi(2) + obs_q[4].powi(2) + obs_q[5].powi(2) + obs_q[6].powi(2))
                    .sqrt();
                for x in obs_q[3..7].iter_mut() {
                    *x /= n;
                }
            }
        }
        if params.sensor_noise_v > 0.0 {
            for x in obs_v.iter_mut() {
                *x += params.sensor_noise_v * noise.normal();
            }
        }
        if params.sensor_quantization > 0.0 {
            let s = params.sensor_quantization;
            for x in obs_q[qoff..].iter_mut() {
                *x = (*x / s).round() * s;
            }
        }
        // 2. controller
        let (rq_k, rv_k, ra_k): (&[f64], &[f64], Option<&[f64]>) = match reference {
            Some(r) => (
                &r.q[k * na..(k + 1) * na],
                &r.v[k * na..(k + 1) * na],
                Some(&r.a[k * na..(k + 1) * na]),
            ),
            None => (&q0_act, &zeros_v[..na], None),
        };
        match controller {
            Controller::Zero => cmd.iter_mut().for_each(|x| *x = 0.0),
            Controller::OpenLoop {
                torques,
                per_episode,
            } => {
                let base = if *per_episode {
                    episode * steps * na
                } else {
                    0
                };
                cmd.copy_from_slice(&torques[base + k * na..base + (k + 1) * na]);
            }
            Controller::Pd { kp, kd } => {
                for j in 0..na {
                    cmd[j] =
                        kp[j] * (rq_k[j] - obs_q[qoff + j]) + kd[j] * (rv_k[j] - obs_v[voff + j]);
                }
            }
            Controller::ComputedTorque { kp, kd } => {
                ct_a.iter_mut().for_each(|x| *x = 0.0);
                for j in 0..na {
                    let aref = ra_k.map_or(0.0, |a| a[j]);
                    ct_a[voff + j] = aref
                        + kp[j] * (rq_k[j] - obs_q[qoff + j])
                        + kd[j] * (rv_k[j] - obs_v[voff + j]);
                }
                rnea(
                    nominal,
                    &mut nominal_data,
                    &obs_q,
                    &obs_v,
                    &ct_a,
                    None,
                    &mut ct_tau,
                );
                cmd.copy_from_slice(&ct_tau[voff..]);
            }
        }
        // 3. actuator: latency, gain, effort limits
        let cslot = k % (latency + 1);
        cmd_hist[cslot * na..(cslot + 1) * na].copy_from_slice(&cmd);
        // slot (k + 1) mod (latency + 1) holds the command of step k - latency (zero before the first)
        let aslot = (k + 1) % (latency + 1);
        applied.copy_from_slice(&cmd_hist[aslot * na..(aslot + 1) * na]);
        for (j, b) in model
            .bodies
            .iter()
            .filter(|b| !matches!(b.kind, JointKind::Free))
            .enumerate()
        {
            let mut t = params.actuator_gain * applied[j];
            if let Some(e) = b.effort {
                t = t.clamp(-e, e);
            }
            applied[j] = t;
        }
        if record {
            let o = k * (nq + nv);
            robs[o..o + nq].copy_from_slice(&obs_q);
            robs[o + nq..o + nq + nv].copy_from_slice(&obs_v);
            ract[k * na..(k + 1) * na].copy_from_slice(&cmd);
            rapp[k * na..(k + 1) * na].copy_from_slice(&applied);
        }
        // 4. dynamics and integration
        let stats;
        match cfg.integrator {
            Integrator::SemiImplicitEuler => {
                stats = st.accel_implicit(&q, &v, &applied, dt, &mut qdd);
                for j in 0..nv {
                    v[j] += dt * qdd[j];
                }
                integrate_config(&model, &mut q, &v, dt);
            }
            Integrator::Rk4 => {
                // classical RK4 on (q, v); the base quaternion is integrated as 4 numbers
                // (qdot = q * (w, 0) / 2) and renormalised after the step
                config_rate(&model, &q, &v, &mut k1q);
                stats = st.accel(&q, &v, &applied, &mut k1a);
                rk_stage(&q, &v, &k1q, &k1a, 0.5 * dt, &mut qs, &mut vs);
                config_rate(&model, &qs, &vs, &mut k2q);
                st.accel(&qs, &vs, &applied, &mut k2a);
                rk_stage(&q, &v, &k2q, &k2a, 0.5 * dt, &mut qs, &mut vs);
                config_rate(&model, &qs, &vs, &mut k3q);
                st.accel(&qs, &vs, &applied, &mut k3a);
                rk_stage(&q, &v, &k3q, &k3a, dt, &mut qs, &mut vs);
                config_rate(&model, &qs, &vs, &mut k4q);
                st.accel(&qs, &vs, &applied, &mut k4a);
                for j in 0..nq {
                    q[j] += dt * (k1q[j] + 2.0 * k2q[j] + 2.0 * k3q[j] + k4q[j]) / 6.0;
                }
                for j in 0..nv {
                    v[j] += dt * (k1a[j] + 2.0 * k2a[j] + 2.0 * k3a[j] + k4a[j]) / 6.0;
                }
                normalize_base(&model, &mut q);
            }
        }
        // 5. bookkeeping
        for j in 0..na {
            energy += (applied[j] * v[voff + j]).abs() * dt;
        }
        if stats.active > 0 {
            contact_steps += 1;
            slip_sum += stats.slip_speed_sum;
            slip_n += stats.active;
        }
        let bad = q.iter().any(|x| !x.is_finite())
            || v.iter()
                .any(|x| !x.is_finite() || x.abs() > cfg.divergence_velocity);
        if bad {
            diverged = true;
            done = k + 1;
            break;
        }
        if record {
            rq[(k + 1) * nq..(k + 2) * nq].copy_from_slice(&q);
            rv[(k + 1) * nv..(k + 2) * nv].copy_from_slice(&v);
        }
        // tracking error against the reference for the state reached at step k + 1
        let rnext: &[f64] = match reference {
            Some(r) if k + 1 < r.len => &r.q[(k + 1) * na..(k + 2) * na],
            Some(r) => &r.q[k * na..(k + 1) * na],
            None => &q0_act,
        };
        for j in 0..na {
            let e = (rnext[j] - q[qoff + j]).abs();
            sq_err += e * e;
            max_err = max_err.max(e);
        }
        let hslot = (k + 1) % (delay + 1);
        hist_q[hslot * nq..(hslot + 1) * nq].copy_from_slice(&q);
        hist_v[hslot * nv..(hslot + 1) * nv].copy_from_slice(&v);
        done = k + 1;
        unreported += 1;
        if unreported == 64 {
            ctl.steps_done.fetch_add(unreported, Ordering::Relaxed);
            unreported = 0;
        }
    }
    ctl.steps_done.fetch_add(unreported, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let tracked = (done.max(1) * na.max(1)) as f64;
    let tracking_rmse = if na > 0 {
        (sq_err / tracked).sqrt()
    } else {
        0.0
    };
    let e1 = if diverged {
        f64::NAN
    } else {
        let (t, p) = super::dynamics::energy(&model, &mut st.data, &q, &v);
        t + p
    };
    let base_distance = if model.floating_base && !diverged {
        ((q[0] - base0.0).powi(2) + (q[1] - base0.1).powi(2)).sqrt()
    } else {
        0.0
    };
    let metrics = Metrics {
        tracking_rmse: if diverged {
            f64::INFINITY
        } else {
            tracking_rmse
        },
        max_tracking_error: if diverged { f64::INFINITY } else { max_err },
        energy,
        success: !diverged && !cancelled && done == steps && tracking_rmse < cfg.success_tolerance,
        diverged,
        time_per_step: elapsed / done.max(1) as f64,
        mean_slip_speed: if slip_n > 0 {
            slip_sum / slip_n as f64
        } else {
            0.0
        },
        contact_fraction: if done > 0 {
            contact_steps as f64 / done as f64
        } else {
            0.0
        },
        base_distance,
        initial_mechanical_energy: e0,
        final_mechanical_energy: e1,
    };
    EpisodeResult {
        params,
        steps_completed: done,
        cancelled,
        q: rq,
        v: rv,
        obs: robs,
        actions: ract,
        applied: rapp,
        metrics,
    }
}

/// Run `cfg.episodes` episodes, in parallel unless `cfg.threads == Some(1)`. Results are in
/// episode order and do not depend on the number of threads.
pub fn rollout(
    model: &Model,
    profile: &Profile,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
    ctl: &RolloutControl,
) -> SimResult<Vec<EpisodeResult>> {
    validate(model, controller, reference, cfg)?;
    let run = |e: usize| run_episode(model, profile, controller, reference, cfg, e, ctl);
    match cfg.threads {
        Some(1) => Ok((0..cfg.episodes).map(run).collect()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| {
                    SimError::Invalid(format!("could not start {n} worker threads: {e}"))
                })?;
            Ok(pool.install(|| (0..cfg.episodes).into_par_iter().map(run).collect()))
        }
        None => Ok((0..cfg.episodes).into_par_iter().map(run).collect()),
    }
}
