//! Stage "recording": per-step states, observations, commands and applied torques (NaN after
//! an early stop), kept only when the rollout records.

pub(super) struct Recorder {
    on: bool,
    nq: usize,
    nv: usize,
    na: usize,
    pub(super) q: Vec<f64>,
    pub(super) v: Vec<f64>,
    pub(super) obs: Vec<f64>,
    pub(super) actions: Vec<f64>,
    pub(super) applied: Vec<f64>,
}

impl Recorder {
    pub(super) fn new(
        on: bool,
        steps: usize,
        (nq, nv, na): (usize, usize, usize),
        q0: &[f64],
        v0: &[f64],
    ) -> Recorder {
        let nan = f64::NAN;
        let mut r = if on {
            Recorder {
                on,
                nq,
                nv,
                na,
                q: vec![nan; (steps + 1) * nq],
                v: vec![nan; (steps + 1) * nv],
                obs: vec![nan; steps * (nq + nv)],
                actions: vec![nan; steps * na],
                applied: vec![nan; steps * na],
            }
        } else {
            Recorder {
                on,
                nq,
                nv,
                na,
                q: Vec::new(),
                v: Vec::new(),
                obs: Vec::new(),
                actions: Vec::new(),
                applied: Vec::new(),
            }
        };
        if on {
            r.q[..nq].copy_from_slice(q0);
            r.v[..nv].copy_from_slice(v0);
        }
        r
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
        if !self.on {
            return;
        }
        let (nq, nv, na) = (self.nq, self.nv, self.na);
        let o = k * (nq + nv);
        self.obs[o..o + nq].copy_from_slice(obs_q);
        self.obs[o + nq..o + nq + nv].copy_from_slice(obs_v);
        self.actions[k * na..(k + 1) * na].copy_from_slice(cmd);
        self.applied[k * na..(k + 1) * na].copy_from_slice(applied);
    }

    /// The true state reached at step `k + 1`.
    pub(super) fn state(&mut self, k: usize, q: &[f64], v: &[f64]) {
        if !self.on {
            return;
        }
        let (nq, nv) = (self.nq, self.nv);
        self.q[(k + 1) * nq..(k + 2) * nq].copy_from_slice(q);
        self.v[(k + 1) * nv..(k + 2) * nv].copy_from_slice(v);
    }
}
