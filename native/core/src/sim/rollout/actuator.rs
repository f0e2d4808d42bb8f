//! Stage "actuation": the command of `actuator_latency` ago, times the gain, clipped to the
//! URDF effort limits. A motor at its URDF velocity limit cannot push faster: beyond the limit
//! a torque along the motion fades to zero over the next [`VELOCITY_LIMIT_BAND`] of the limit
//! (braking torques pass).

use super::super::model::{JointKind, Model};
use super::super::profile::EpisodeParams;

/// Fraction of the velocity limit over which a torque along the motion fades out.
pub const VELOCITY_LIMIT_BAND: f64 = 0.1;

pub(super) struct Actuator {
    na: usize,
    latency: usize,
    gain: f64,
    /// Per actuated joint, in configuration order.
    effort: Vec<Option<f64>>,
    /// Per actuated joint: velocity index and URDF velocity limit.
    velocity: Vec<(usize, Option<f64>)>,
    /// Ring buffer of past commands.
    hist: Vec<f64>,
}

impl Actuator {
    pub(super) fn new(model: &Model, params: &EpisodeParams, dt: f64) -> Actuator {
        let na = model.n_actuated();
        let latency = (params.actuator_latency / dt).round() as usize;
        let effort = model
            .bodies
            .iter()
            .filter(|b| !matches!(b.kind, JointKind::Free))
            .map(|b| b.effort)
            .collect();
        let velocity = model
            .bodies
            .iter()
            .filter(|b| !matches!(b.kind, JointKind::Free))
            .map(|b| (b.v_idx, b.velocity))
            .collect();
        Actuator {
            na,
            latency,
            gain: params.actuator_gain,
            effort,
            velocity,
            hist: vec![0.0; (latency + 1) * na],
        }
    }

    /// Queue the command of step `k` and write the torques applied at step `k`, in state `v`.
    pub(super) fn apply(&mut self, k: usize, cmd: &[f64], v: &[f64], applied: &mut [f64]) {
        let na = self.na;
        let cslot = k % (self.latency + 1);
        self.hist[cslot * na..(cslot + 1) * na].copy_from_slice(cmd);
        // slot (k + 1) mod (latency + 1) holds the command of step k - latency (zero before the first)
        let aslot = (k + 1) % (self.latency + 1);
        applied.copy_from_slice(&self.hist[aslot * na..(aslot + 1) * na]);
        for (j, effort) in self.effort.iter().enumerate() {
            let mut t = self.gain * applied[j];
            if let Some(e) = *effort {
                t = t.clamp(-e, e);
            }
            if let (vi, Some(limit)) = self.velocity[j] {
                let speed = v[vi].abs();
                if speed > limit && t * v[vi] > 0.0 {
                    t *= (1.0 - (speed - limit) / (VELOCITY_LIMIT_BAND * limit)).max(0.0);
                }
            }
            applied[j] = t;
        }
    }
}
