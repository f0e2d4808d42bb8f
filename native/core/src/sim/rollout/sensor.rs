//! Stage "sensing": the true state `sensor_delay` ago, plus Gaussian noise, positions quantised.

use super::super::model::Model;
use super::super::profile::{EpisodeParams, Rng};

pub(super) struct Sensor {
    nq: usize,
    nv: usize,
    delay: usize,
    floating: bool,
    qoff: usize,
    noise_q: f64,
    noise_v: f64,
    quantization: f64,
    noise: Rng,
    // ring buffers of past true states: slot (k + 1) mod (delay + 1) holds step k + 1
    hist_q: Vec<f64>,
    hist_v: Vec<f64>,
}

impl Sensor {
    pub(super) fn new(
        model: &Model,
        params: &EpisodeParams,
        dt: f64,
        noise: Rng,
        q0: &[f64],
        v0: &[f64],
    ) -> Sensor {
        let (nq, nv) = (model.nq, model.nv);
        let delay = (params.sensor_delay / dt).round() as usize;
        let mut hist_q = vec![0.0; (delay + 1) * nq];
        let mut hist_v = vec![0.0; (delay + 1) * nv];
        for k in 0..=delay {
            hist_q[k * nq..(k + 1) * nq].copy_from_slice(q0);
            hist_v[k * nv..(k + 1) * nv].copy_from_slice(v0);
        }
        Sensor {
            nq,
            nv,
            delay,
            floating: model.floating_base,
            qoff: model.actuated_offsets().0,
            noise_q: params.sensor_noise_q,
            noise_v: params.sensor_noise_v,
            quantization: params.sensor_quantization,
            noise,
            hist_q,
            hist_v,
        }
    }

    /// The observation at step `k`.
    pub(super) fn observe(&mut self, k: usize, obs_q: &mut [f64], obs_v: &mut [f64]) {
        let (nq, nv) = (self.nq, self.nv);
        // slot (k + 1) mod (delay + 1) still holds the state of step k - delay (q0 before that)
        let slot = (k + 1) % (self.delay + 1);
        obs_q.copy_from_slice(&self.hist_q[slot * nq..(slot + 1) * nq]);
        obs_v.copy_from_slice(&self.hist_v[slot * nv..(slot + 1) * nv]);
        if self.noise_q > 0.0 {
            for x in obs_q.iter_mut() {
                *x += self.noise_q * self.noise.normal();
            }
            if self.floating {
                let n = (obs_q[3].powi(2) + obs_q[4].powi(2) + obs_q[5].powi(2) + obs_q[6].powi(2))
                    .sqrt();
                for x in obs_q[3..7].iter_mut() {
                    *x /= n;
                }
            }
        }
        if self.noise_v > 0.0 {
            for x in obs_v.iter_mut() {
                *x += self.noise_v * self.noise.normal();
            }
        }
        if self.quantization > 0.0 {
            let s = self.quantization;
            for x in obs_q[self.qoff..].iter_mut() {
                *x = (*x / s).round() * s;
            }
        }
    }

    /// Remember the true state reached at step `k + 1`.
    pub(super) fn push(&mut self, k: usize, q: &[f64], v: &[f64]) {
        let (nq, nv) = (self.nq, self.nv);
        let hslot = (k + 1) % (self.delay + 1);
        self.hist_q[hslot * nq..(hslot + 1) * nq].copy_from_slice(q);
        self.hist_v[hslot * nv..(hslot + 1) * nv].copy_from_slice(v);
    }
}
