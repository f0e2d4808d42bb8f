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
//! The episode loop (`run_episode`) runs these stages in order, each in its own module:
//! sampling the profile (`perturbed_model`), `sensor`, `control`, `actuator`, `integrate`
//! (dynamics, contact and the integrator), `metrics` and `record`.
//!
//! Position limits are stiff one-sided spring-dampers: beyond a URDF limit a joint feels
//! `tau = -(k e + b v)` (never pulling towards the limit), with `k = M_jj w^2`,
//! `b = 2 M_jj w`, `w = LIMIT_FREQUENCY` and `M_jj` the joint's mass-matrix diagonal at the
//! neutral configuration. (A projection onto the limit would teleport the subtree and inject
//! energy through contacts.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::contact::ContactParams;
use super::dynamics::Data;
use super::error::{SimError, SimResult};
use super::math::Mat3;
use super::model::Model;
use super::pose::{check_state, default_configuration};
use super::profile::{EpisodeParams, Profile, Rng};
use super::spatial::Inertia6;
use crate::parallel;

mod actuator;
mod control;
mod envelope;
mod integrate;
mod metrics;
mod record;
mod sensor;

use actuator::Actuator;
use control::Control;
pub use envelope::Divergence;
use envelope::Envelope;
use integrate::Dynamics;
use metrics::Tracker;
use rayon::prelude::*;
pub use record::RecordSlices;
use record::Recorder;
use sensor::Sensor;

/// Default `RolloutConfig::velocity_limit_factor`.
pub const DEFAULT_VELOCITY_LIMIT_FACTOR: f64 = 10.0;

/// Default `RolloutConfig::energy_growth`.
pub const DEFAULT_ENERGY_GROWTH: f64 = 0.5;

/// Default `RolloutConfig::base_bound` (m).
pub const DEFAULT_BASE_BOUND: f64 = 100.0;

/// Largest recording (q, v, observations, actions and applied torques as float64, every step of
/// every episode) one rollout may hold in memory: 512 MiB. The service's replay bundles obey
/// the same limit.
pub const MAX_RECORDED_BYTES: u64 = 512 << 20;

/// Bytes a recorded rollout of `episodes` x `steps` needs (see [`MAX_RECORDED_BYTES`]).
pub fn recorded_bytes(model: &Model, steps: usize, episodes: usize) -> u128 {
    let per_step = 2 * (model.nq + model.nv) + 2 * model.n_actuated();
    (steps as u128 + 1) * episodes as u128 * per_step as u128 * 8
}

/// Speed (rad/s or m/s) below which joint Coulomb friction is smoothed by `tanh(v / V)`.
pub const FRICTION_SMOOTHING_VELOCITY: f64 = 0.01;

/// Natural frequency (rad/s) of the joint position-limit springs.
pub const LIMIT_FREQUENCY: f64 = 200.0;

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
    /// `u = tau_hold + kp (q_ref - q) + kd (v_ref - v)`: PD plus the constant torque that holds
    /// the initial configuration still on the nominal model (gravity compensation; for a
    /// floating base on the ground, the inverse dynamics of its stance, see `sim::stance`).
    PdGravity { kp: Vec<f64>, kd: Vec<f64> },
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
    /// An actuated joint faster than this multiple of its URDF velocity limit has diverged
    /// (`INFINITY` disables the check).
    pub velocity_limit_factor: f64,
    /// Mechanical energy may exceed the initial energy plus the actuators' work by this
    /// fraction of `T0 + m |g| * 1 m` before the episode counts as diverged (`INFINITY`
    /// disables the check); see `envelope`.
    pub energy_growth: f64,
    /// A floating base farther than this from its start along any axis has diverged (m).
    pub base_bound: f64,
    /// Thread budget (see [`crate::parallel`]): 0 = all cores, 1 = the calling thread.
    pub threads: usize,
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
            q0: default_configuration(model),
            v0: vec![0.0; model.nv],
            contact: model.floating_base,
            contact_params: None,
            record: true,
            success_tolerance: 0.05,
            divergence_velocity: 1.0e3,
            velocity_limit_factor: DEFAULT_VELOCITY_LIMIT_FACTOR,
            energy_growth: DEFAULT_ENERGY_GROWTH,
            base_bound: DEFAULT_BASE_BOUND,
            threads: parallel::ALL_CORES,
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
    /// `false` when the rollout was cancelled before this episode's first step: its metrics
    /// are NaN and means must leave it out.
    pub started: bool,
    pub cancelled: bool,
    /// Why the episode diverged (`None` when it did not).
    pub divergence: Option<Divergence>,
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
    check_state(model, &cfg.q0, &cfg.v0, "q0", "v0", false)?;
    if cfg.record {
        let bytes = recorded_bytes(model, cfg.steps, cfg.episodes);
        if bytes > MAX_RECORDED_BYTES as u128 {
            return Err(SimError::Field {
                field: "record".into(),
                reason: format!(
                    "recording {} episodes x {} steps needs {} MiB (limit {} MiB): record \
                     metrics only or run fewer steps per call",
                    cfg.episodes,
                    cfg.steps,
                    bytes >> 20,
                    MAX_RECORDED_BYTES >> 20
                ),
            });
        }
    }
    for (what, x) in [
        ("divergence_velocity", cfg.divergence_velocity),
        ("velocity_limit_factor", cfg.velocity_limit_factor),
        ("energy_growth", cfg.energy_growth),
        ("base_bound", cfg.base_bound),
    ] {
        if x.is_nan() || x <= 0.0 {
            return Err(SimError::Field {
                field: what.into(),
                reason: format!("must be positive, got {x}"),
            });
        }
    }
    if let Some(cp) = cfg.contact_params {
        let ok = cp.stiffness > 0.0
            && cp.stiffness.is_finite()
            && cp.damping >= 0.0
            && cp.damping.is_finite();
        if !ok {
            return Err(SimError::Field {
                field: "contact".into(),
                reason: format!(
                    "stiffness must be positive and damping non-negative, got {} and {}",
                    cp.stiffness, cp.damping
                ),
            });
        }
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
        Controller::Pd { kp, kd }
        | Controller::PdGravity { kp, kd }
        | Controller::ComputedTorque { kp, kd } => {
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

/// Run one episode (its recording, when `cfg.record`, in the result's own vectors).
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
    if !cfg.record {
        return run_episode_into(
            nominal, profile, controller, reference, cfg, episode, ctl, None,
        );
    }
    let dims = (nominal.nq, nominal.nv, nominal.n_actuated());
    let [lq, lv, lo, la, lp] = record::lengths(cfg.steps, dims);
    let (mut q, mut v, mut obs) = (vec![0.0; lq], vec![0.0; lv], vec![0.0; lo]);
    let (mut actions, mut applied) = (vec![0.0; la], vec![0.0; lp]);
    let out = RecordSlices {
        q: &mut q,
        v: &mut v,
        obs: &mut obs,
        actions: &mut actions,
        applied: &mut applied,
    };
    let mut res = run_episode_into(
        nominal,
        profile,
        controller,
        reference,
        cfg,
        episode,
        ctl,
        Some(out),
    );
    (res.q, res.v, res.obs, res.actions, res.applied) = (q, v, obs, actions, applied);
    res
}

/// Run one episode, recording into `out` (when given) rather than into the result, whose
/// recording vectors stay empty.
#[allow(clippy::too_many_arguments)]
pub fn run_episode_into(
    nominal: &Model,
    profile: &Profile,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
    episode: usize,
    ctl: &RolloutControl,
    out: Option<RecordSlices<'_>>,
) -> EpisodeResult {
    let start = Instant::now();
    // stage "sample profile": this episode's reality and the model it perturbs
    let mut prng = Rng::for_episode(cfg.seed, episode as u64, 0);
    let noise = Rng::for_episode(cfg.seed, episode as u64, 1);
    let params = profile.sample(&mut prng, nominal.bodies.len(), nominal.gravity);
    let model = perturbed_model(nominal, &params);
    let (nq, nv, na) = (model.nq, model.nv, model.n_actuated());
    let (qoff, voff) = model.actuated_offsets();
    let (steps, dt) = (cfg.steps, cfg.dt);
    let contact = if cfg.contact && !model.contacts.is_empty() {
        let cp = cfg
            .contact_params
            .unwrap_or_else(|| ContactParams::for_model(nominal));
        Some((
            cp.scaled(params.contact_stiffness_scale, params.contact_damping_scale),
            params.ground_friction,
        ))
    } else {
        None
    };
    let mut dynamics = Dynamics::new(&model, cfg.integrator, contact, cfg.joint_limits);
    if let Controller::PdGravity { kp, kd } = controller {
        dynamics.set_servo(kp, kd, params.actuator_gain);
    }
    let mut sensor = Sensor::new(&model, &params, dt, noise, &cfg.q0, &cfg.v0);
    let mut control = Control::new(nominal, controller, reference, cfg, episode);
    let mut actuator = Actuator::new(&model, &params, dt);
    let mut rec = Recorder::new(out, (nq, nv, na), &cfg.q0, &cfg.v0);
    let mut tracker = Tracker::default();

    let mut q = cfg.q0.clone();
    let mut v = cfg.v0.clone();
    let e0 = mechanical_energy(&model, &mut dynamics.st.data, &q, &v);
    let mut envelope = Envelope::new(&model, cfg, contact.is_some(), e0);
    let mut divergence = None;
    let base0 = if model.floating_base {
        (q[0], q[1])
    } else {
        (0.0, 0.0)
    };
    let mut obs_q = vec![0.0; nq];
    let mut obs_v = vec![0.0; nv];
    let mut cmd = vec![0.0; na];
    let mut applied = vec![0.0; na];
    let mut diverged = false;
    let mut cancelled = false;
    let mut done = 0usize;
    let mut unreported = 0u64;

    for k in 0..steps {
        if ctl.cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        sensor.observe(k, &mut obs_q, &mut obs_v);
        control.command(k, &obs_q, &obs_v, &mut cmd);
        actuator.apply(k, &cmd, &v, &mut applied);
        rec.inputs(k, &obs_q, &obs_v, &cmd, &applied);
        let stats = dynamics.step(&mut q, &mut v, &applied, dt);
        tracker.work(&applied, &v, voff, dt, &stats);
        if let Some(d) = envelope.check(k, &q, &v, &applied, voff, dt) {
            divergence = Some(d);
            diverged = true;
            done = k + 1;
            break;
        }
        rec.state(k, &q, &v);
        tracker.track(control.target_after(k), &q, qoff);
        sensor.push(k, &q, &v);
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
        (tracker.sq_err / tracked).sqrt()
    } else {
        0.0
    };
    let e1 = if diverged {
        f64::NAN
    } else {
        mechanical_energy(&model, &mut dynamics.st.data, &q, &v)
    };
    let base_distance = if model.floating_base && !diverged {
        ((q[0] - base0.0).powi(2) + (q[1] - base0.1).powi(2)).sqrt()
    } else {
        0.0
    };
    // an episode cancelled before its first step has no metrics (NaN), not zero errors
    let started = !(cancelled && done == 0);
    let unrun = |x: f64| if started { x } else { f64::NAN };
    let metrics = Metrics {
        tracking_rmse: if diverged {
            f64::INFINITY
        } else {
            unrun(tracking_rmse)
        },
        max_tracking_error: if diverged {
            f64::INFINITY
        } else {
            unrun(tracker.max_err)
        },
        energy: tracker.energy,
        success: !diverged && !cancelled && done == steps && tracking_rmse < cfg.success_tolerance,
        diverged,
        time_per_step: unrun(elapsed / done.max(1) as f64),
        mean_slip_speed: if tracker.slip_n > 0 {
            tracker.slip_sum / tracker.slip_n as f64
        } else {
            0.0
        },
        contact_fraction: if done > 0 {
            tracker.contact_steps as f64 / done as f64
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
        started,
        cancelled,
        divergence,
        q: Vec::new(),
        v: Vec::new(),
        obs: Vec::new(),
        actions: Vec::new(),
        applied: Vec::new(),
        metrics,
    }
}

fn mechanical_energy(model: &Model, data: &mut Data, q: &[f64], v: &[f64]) -> f64 {
    let (t, p) = super::dynamics::energy(model, data, q, v);
    t + p
}

/// The configuration a rollout runs with: the model's default contact derived once (it needs
/// the stance of the `stand` pose).
fn prepared(model: &Model, cfg: &RolloutConfig) -> RolloutConfig {
    let mut cfg = cfg.clone();
    if cfg.contact && cfg.contact_params.is_none() && !model.contacts.is_empty() {
        cfg.contact_params = Some(ContactParams::for_model(model));
    }
    cfg
}

/// Run `cfg.episodes` episodes on `cfg.threads` threads (0 = all cores, see
/// [`crate::parallel`]). Results are in episode order and do not depend on the thread count.
pub fn rollout(
    model: &Model,
    profile: &Profile,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
    ctl: &RolloutControl,
) -> SimResult<Vec<EpisodeResult>> {
    validate(model, controller, reference, cfg)?;
    let cfg = &prepared(model, cfg);
    let run = |e: usize| run_episode(model, profile, controller, reference, cfg, e, ctl);
    parallel::par_map(cfg.threads, cfg.episodes, run).map_err(|e| SimError::Invalid(e.to_string()))
}

/// The recording of a whole rollout, episode-major and contiguous: `q` is
/// `(episodes, steps + 1, nq)`, `v` `(episodes, steps + 1, nv)`, `obs`
/// `(episodes, steps, nq + nv)`, `actions` and `applied` `(episodes, steps, n_actuated)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    pub q: Vec<f64>,
    pub v: Vec<f64>,
    pub obs: Vec<f64>,
    pub actions: Vec<f64>,
    pub applied: Vec<f64>,
}

/// `n` consecutive `len`-long pieces of `buf` (`len` may be zero).
fn split_n(mut buf: &mut [f64], n: usize, len: usize) -> Vec<&mut [f64]> {
    (0..n)
        .map(|_| {
            let (head, rest) = std::mem::take(&mut buf).split_at_mut(len);
            buf = rest;
            head
        })
        .collect()
}

/// [`rollout`] with recording (whatever `cfg.record` says), each episode writing its rows
/// straight into its block of the rollout-wide arrays on its worker thread: no per-episode
/// vectors to gather and copy on the calling thread afterwards (a serial tail that cost the
/// all-cores run several percent), and the arrays' pages are first touched by the workers
/// (allocated zeroed, so the allocator maps them lazily). The returned results' own
/// recording vectors are empty. Same numbers as [`rollout`], bit for bit.
pub fn rollout_recorded(
    model: &Model,
    profile: &Profile,
    controller: &Controller,
    reference: Option<&Reference>,
    cfg: &RolloutConfig,
    ctl: &RolloutControl,
) -> SimResult<(Vec<EpisodeResult>, Recording)> {
    let mut cfg = cfg.clone();
    cfg.record = true;
    validate(model, controller, reference, &cfg)?;
    let cfg = &prepared(model, &cfg);
    let n = cfg.episodes;
    let lens = record::lengths(cfg.steps, (model.nq, model.nv, model.n_actuated()));
    let mut rec = Recording {
        q: vec![0.0; lens[0] * n],
        v: vec![0.0; lens[1] * n],
        obs: vec![0.0; lens[2] * n],
        actions: vec![0.0; lens[3] * n],
        applied: vec![0.0; lens[4] * n],
    };
    let mut parts = [
        split_n(&mut rec.q, n, lens[0]).into_iter(),
        split_n(&mut rec.v, n, lens[1]).into_iter(),
        split_n(&mut rec.obs, n, lens[2]).into_iter(),
        split_n(&mut rec.actions, n, lens[3]).into_iter(),
        split_n(&mut rec.applied, n, lens[4]).into_iter(),
    ];
    let mut slices = Vec::with_capacity(n);
    for _ in 0..n {
        let [q, v, obs, actions, applied] = &mut parts;
        slices.push(RecordSlices {
            q: q.next().expect("n pieces"),
            v: v.next().expect("n pieces"),
            obs: obs.next().expect("n pieces"),
            actions: actions.next().expect("n pieces"),
            applied: applied.next().expect("n pieces"),
        });
    }
    let run = |(e, out): (usize, RecordSlices<'_>)| {
        run_episode_into(
            model,
            profile,
            controller,
            reference,
            cfg,
            e,
            ctl,
            Some(out),
        )
    };
    let results = if parallel::resolve(cfg.threads) == 1 || n <= 1 {
        slices.into_iter().enumerate().map(run).collect()
    } else {
        // the same split of the episodes as `parallel::par_map`
        parallel::install(cfg.threads, || {
            slices.into_par_iter().enumerate().map(run).collect()
        })
        .map_err(|e| SimError::Invalid(e.to_string()))?
    };
    Ok((results, rec))
}
