//! Stage "metrics": tracking error, actuator energy and contact statistics accumulated over the
//! steps of an episode.

use super::super::contact::ContactStats;

#[derive(Default)]
pub(super) struct Tracker {
    pub(super) sq_err: f64,
    pub(super) max_err: f64,
    pub(super) energy: f64,
    pub(super) slip_sum: f64,
    pub(super) slip_n: usize,
    pub(super) contact_steps: usize,
}

impl Tracker {
    /// Actuator work and contact statistics of one step (`v` is the state after the step).
    pub(super) fn work(
        &mut self,
        applied: &[f64],
        v: &[f64],
        voff: usize,
        dt: f64,
        stats: &ContactStats,
    ) {
        for (j, a) in applied.iter().enumerate() {
            self.energy += (a * v[voff + j]).abs() * dt;
        }
        if stats.active > 0 {
            self.contact_steps += 1;
            self.slip_sum += stats.slip_speed_sum;
            self.slip_n += stats.active;
        }
    }

    /// Tracking error of the actuated positions against the reference `target`.
    pub(super) fn track(&mut self, target: &[f64], q: &[f64], qoff: usize) {
        for (j, t) in target.iter().enumerate() {
            let e = (t - q[qoff + j]).abs();
            self.sq_err += e * e;
            self.max_err = self.max_err.max(e);
        }
    }
}
