//! Stage "divergence": has the state left the physical envelope?
//!
//! Checked after every step, in this order: non-finite values; a speed above the absolute
//! threshold `divergence_velocity`; an actuated joint faster than `velocity_limit_factor` times
//! its URDF velocity limit; a floating base farther than `base_bound` from where it started
//! (any axis), or more than [`FLOOR_DEPTH`] below the ground with contact on; and, every
//! [`ENERGY_CHECK_INTERVAL`] steps, mechanical energy grown beyond what the actuators put in:
//! `E - E0 - W > energy_growth * (T0 + m |g| * 1 m) + 0.05 |W|`, with `W` the actuators' work
//! (passive forces, contact and limit springs only take energy out).

use super::super::dynamics::{energy, Data};
use super::super::model::{JointKind, Model};
use super::RolloutConfig;

/// Steps between two energy checks (an energy evaluation costs about one RNEA).
pub const ENERGY_CHECK_INTERVAL: usize = 8;

/// A floating base this far below the ground (m) has fallen through it.
pub const FLOOR_DEPTH: f64 = 0.5;

/// Why an episode was stopped as diverged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divergence {
    /// A position or velocity became NaN or infinite.
    NonFinite,
    /// A speed exceeded the absolute `divergence_velocity`.
    Speed,
    /// An actuated joint exceeded `velocity_limit_factor` times its URDF velocity limit.
    VelocityLimit,
    /// Mechanical energy grew beyond the actuators' work.
    EnergyGrowth,
    /// The floating base left its bounding volume.
    BaseBounds,
}

impl Divergence {
    pub fn as_str(&self) -> &'static str {
        match self {
            Divergence::NonFinite => "non_finite",
            Divergence::Speed => "speed",
            Divergence::VelocityLimit => "velocity_limit",
            Divergence::EnergyGrowth => "energy_growth",
            Divergence::BaseBounds => "base_bounds",
        }
    }
}

pub(super) struct Envelope<'a> {
    model: &'a Model,
    data: Data,
    max_speed: f64,
    /// (velocity index, largest accepted speed) per limited actuated joint.
    limits: Vec<(usize, f64)>,
    base0: [f64; 3],
    bound: f64,
    floor: bool,
    e0: f64,
    tolerance: f64,
    energy_growth: f64,
    work: f64,
    work_abs: f64,
}

impl<'a> Envelope<'a> {
    pub(super) fn new(model: &'a Model, cfg: &RolloutConfig, contact: bool, e0: f64) -> Self {
        let limits = model
            .bodies
            .iter()
            .filter(|b| !matches!(b.kind, JointKind::Free))
            .filter_map(|b| b.velocity.map(|l| (b.v_idx, l * cfg.velocity_limit_factor)))
            .filter(|(_, l)| l.is_finite())
            .collect();
        let mut data = Data::new(model);
        let (t0, _) = energy(model, &mut data, &cfg.q0, &cfg.v0);
        let scale = t0 + model.total_mass() * model.gravity.norm() * 1.0;
        Envelope {
            model,
            data,
            max_speed: cfg.divergence_velocity,
            limits,
            base0: if model.floating_base {
                [cfg.q0[0], cfg.q0[1], cfg.q0[2]]
            } else {
                [0.0; 3]
            },
            bound: cfg.base_bound,
            floor: contact,
            e0,
            tolerance: cfg.energy_growth * scale,
            energy_growth: cfg.energy_growth,
            work: 0.0,
            work_abs: 0.0,
        }
    }

    /// Check the state reached at step `k + 1` under the actuated torques `applied`.
    pub(super) fn check(
        &mut self,
        k: usize,
        q: &[f64],
        v: &[f64],
        applied: &[f64],
        voff: usize,
        dt: f64,
    ) -> Option<Divergence> {
        // one pass: the largest speed is NaN-propagating through the finiteness test
        let mut fast = false;
        let mut finite = q.iter().all(|x| x.is_finite());
        for x in v {
            finite &= x.is_finite();
            fast |= x.abs() > self.max_speed;
        }
        if !finite {
            return Some(Divergence::NonFinite);
        }
        if fast {
            return Some(Divergence::Speed);
        }
        if self.limits.iter().any(|&(i, l)| v[i].abs() > l) {
            return Some(Divergence::VelocityLimit);
        }
        if self.model.floating_base {
            let out = (0..3).any(|i| (q[i] - self.base0[i]).abs() > self.bound);
            if out || (self.floor && q[2] < -FLOOR_DEPTH) {
                return Some(Divergence::BaseBounds);
            }
        }
        if self.energy_growth.is_finite() {
            for (j, a) in applied.iter().enumerate() {
                let p = a * v[voff + j] * dt;
                self.work += p;
                self.work_abs += p.abs();
            }
            if (k + 1).is_multiple_of(ENERGY_CHECK_INTERVAL) {
                let (t, u) = energy(self.model, &mut self.data, q, v);
                let growth = t + u - self.e0 - self.work;
                if growth > self.tolerance + 0.05 * self.work_abs {
                    return Some(Divergence::EnergyGrowth);
                }
            }
        }
        None
    }
}
