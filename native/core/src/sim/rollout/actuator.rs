//! Stage "actuation": the command of `actuator_latency` ago, times the gain, clipped to the
//! URDF effort limits.

use super::super::model::{JointKind, Model};
use super::super::profile::EpisodeParams;

pub(super) struct Actuator {
    na: usize,
    latency: usize,
    gain: f64,
    /// Per actuated joint, in configuration order.
    effort: Vec<Option<f64>>,
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
        Actuator {
            na,
            latency,
            gain: params.actuator_gain,
            effort,
            hist: vec![0.0; (latency + 1) * na],
        }
    }

    /// Queue the command of step `k` and write the torques applied at step `k`.
    pub(super) fn apply(&mut self, k: usize, cmd: &[f64], applied: &mut [f64]) {
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
            applied[j] = t;
        }
    }
}
