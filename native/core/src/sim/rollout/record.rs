//! Stage "recording": per-step states, observations, commands and applied torques (NaN after
//! an early stop), kept only when the rollout records.
//!
//! The recorder writes into borrowed slices: an episode's own vectors ([`super::run_episode`])
//! or its block of the rollout-wide arrays ([`super::rollout_recorded`]), which each worker
//! fills in place so that nothing is copied or gathered on the calling thread afterwards.

/// One episode's recording: `(steps + 1) * nq` positions, `(steps + 1) * nv` velocities,
/// `steps * (nq + nv)` observations, `steps * na` commands and applied torques.
pub struct RecordSlices<'a> {
    pub q: &'a mut [f64],
    pub v: &'a mut [f64],
    pub obs: &'a mut [f64],
    pub actions: &'a mut [f64],
    pub applied: &'a mut [f64],
}

/// The lengths of one episode's [`RecordSlices`].
pub(super) fn lengths(steps: usize, (nq, nv, na): (usize, usize, usize)) -> [usize; 5] {
    [
        (steps + 1) * nq,
        (steps + 1) * nv,
        steps * (nq + nv),
        steps * na,
        steps * na,
    ]
}

pub(super) struct Recorder<'a> {
    nq: usize,
    nv: usize,
    na: usize,
    out: Option<RecordSlices<'a>>,
}

impl<'a> Recorder<'a> {
    /// A recorder writing into `out` (NaN-filled here, then the initial state), or a no-op.
    pub(super) fn new(
        out: Option<RecordSlices<'a>>,
        (nq, nv, na): (usize, usize, usize),
        q0: &[f64],
        v0: &[f64],
    ) -> Recorder<'a> {
        let mut out = out;
        if let Some(s) = out.as_mut() {
            for part in [
                &mut *s.q,
                &mut *s.v,
                &mut *s.obs,
                &mut *s.actions,
                &mut *s.applied,
            ] {
                part.fill(f64::NAN);
            }
            s.q[..nq].copy_from_slice(q0);
            s.v[..nv].copy_from_slice(v0);
        }
        Recorder { nq, nv, na, out }
    }

    /// What the controller saw and did at step `k`.
    pub(super) fn inputs(
        &mut self,
        k: usize,
        obs_q: &[f64],
        obs_v: &[f64],
        cmd: &[f64],
        applied: &[f64],
    ) {
        let Some(s) = self.out.as_mut() else {
            return;
        };
        let (nq, nv, na) = (self.nq, self.nv, self.na);
        let o = k * (nq + nv);
        s.obs[o..o + nq].copy_from_slice(obs_q);
        s.obs[o + nq..o + nq + nv].copy_from_slice(obs_v);
        s.actions[k * na..(k + 1) * na].copy_from_slice(cmd);
        s.applied[k * na..(k + 1) * na].copy_from_slice(applied);
    }

    /// The true state reached at step `k + 1`.
    pub(super) fn state(&mut self, k: usize, q: &[f64], v: &[f64]) {
        let Some(s) = self.out.as_mut() else {
            return;
        };
        let (nq, nv) = (self.nq, self.nv);
        s.q[(k + 1) * nq..(k + 2) * nq].copy_from_slice(q);
        s.v[(k + 1) * nv..(k + 2) * nv].copy_from_slice(v);
    }
}
