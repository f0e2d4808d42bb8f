//! Stage "controller": the torque command for the actuated joints from the observation and
//! the reference at step `k`.

use super::super::dynamics::{rnea, Data};
use super::super::model::Model;
use super::super::stance::holding_torques;
use super::{Controller, Reference, RolloutConfig};

pub(super) struct Control<'a> {
    controller: &'a Controller,
    reference: Option<&'a Reference>,
    nominal: &'a Model,
    nominal_data: Data,
    episode: usize,
    steps: usize,
    na: usize,
    qoff: usize,
    voff: usize,
    /// The actuated part of the initial configuration (held without a reference).
    q0_act: Vec<f64>,
    zeros: Vec<f64>,
    ct_a: Vec<f64>,
    ct_tau: Vec<f64>,
    /// `PdGravity`: the torque holding the initial configuration.
    hold: Vec<f64>,
}

impl<'a> Control<'a> {
    pub(super) fn new(
        nominal: &'a Model,
        controller: &'a Controller,
        reference: Option<&'a Reference>,
        cfg: &RolloutConfig,
        episode: usize,
    ) -> Self {
        let (q0, steps) = (&cfg.q0, cfg.steps);
        let (qoff, voff) = nominal.actuated_offsets();
        let (nv, na) = (nominal.nv, nominal.n_actuated());
        Control {
            controller,
            reference,
            nominal,
            nominal_data: Data::new(nominal),
            episode,
            steps,
            na,
            qoff,
            voff,
            q0_act: q0[qoff..qoff + na].to_vec(),
            zeros: vec![0.0; nv],
            ct_a: vec![0.0; nv],
            ct_tau: vec![0.0; nv],
            hold: match controller {
                Controller::PdGravity { .. } => holding_torques(nominal, q0, cfg.contact),
                _ => Vec::new(),
            },
        }
    }

    /// The command of step `k` into `cmd`.
    pub(super) fn command(&mut self, k: usize, obs_q: &[f64], obs_v: &[f64], cmd: &mut [f64]) {
        let (na, qoff, voff) = (self.na, self.qoff, self.voff);
        let (rq_k, rv_k, ra_k): (&[f64], &[f64], Option<&[f64]>) = match self.reference {
            Some(r) => (
                &r.q[k * na..(k + 1) * na],
                &r.v[k * na..(k + 1) * na],
                Some(&r.a[k * na..(k + 1) * na]),
            ),
            None => (&self.q0_act, &self.zeros[..na], None),
        };
        match self.controller {
            Controller::Zero => cmd.iter_mut().for_each(|x| *x = 0.0),
            Controller::OpenLoop {
                torques,
                per_episode,
            } => {
                let base = if *per_episode {
                    self.episode * self.steps * na
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
            Controller::PdGravity { kp, kd } => {
                for j in 0..na {
                    cmd[j] = self.hold[j]
                        + kp[j] * (rq_k[j] - obs_q[qoff + j])
                        + kd[j] * (rv_k[j] - obs_v[voff + j]);
                }
            }
            Controller::ComputedTorque { kp, kd } => {
                self.ct_a.iter_mut().for_each(|x| *x = 0.0);
                for j in 0..na {
                    let aref = ra_k.map_or(0.0, |a| a[j]);
                    self.ct_a[voff + j] = aref
                        + kp[j] * (rq_k[j] - obs_q[qoff + j])
                        + kd[j] * (rv_k[j] - obs_v[voff + j]);
                }
                rnea(
                    self.nominal,
                    &mut self.nominal_data,
                    obs_q,
                    obs_v,
                    &self.ct_a,
                    None,
                    &mut self.ct_tau,
                );
                cmd.copy_from_slice(&self.ct_tau[voff..]);
            }
        }
    }

    /// The reference position for the state reached at step `k + 1` (tracking metrics).
    pub(super) fn target_after(&self, k: usize) -> &[f64] {
        let na = self.na;
        match self.reference {
            Some(r) if k + 1 < r.len => &r.q[(k + 1) * na..(k + 2) * na],
            Some(r) => &r.q[k * na..(k + 1) * na],
            None => &self.q0_act,
        }
    }
}
