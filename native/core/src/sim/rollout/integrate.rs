//! Stage "dynamics, contact and integration": passive joint forces (damping, smoothed Coulomb
//! friction, position-limit springs), ground contact and gravity, and one integrator step.

use super::super::contact::{
    contact_forces, point_jacobian, ActiveContact, ContactParams, ContactStats,
};
use super::super::dynamics::{
    aba, cholesky_in_place, config_rate, crba, forward_kinematics, integrate_config,
    normalize_base, Data,
};
use super::super::math::Vec3;
use super::super::model::{Body, JointKind, Model};
use super::super::spatial::{Force, Motion};
use super::{Integrator, FRICTION_SMOOTHING_VELOCITY, LIMIT_FREQUENCY};

/// Limit violation `e` (positive beyond the upper limit, negative below the lower one).
#[inline]
fn limit_violation(b: &Body, q: f64) -> f64 {
    match (b.lower, b.upper) {
        (Some(_), Some(hi)) if q > hi => q - hi,
        (Some(lo), Some(_)) if q < lo => q - lo,
        _ => 0.0,
    }
}

pub(super) struct Stepper<'a> {
    model: &'a Model,
    pub(super) data: Data,
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
    /// Implicit servo: `(kp, kd)` per actuated joint of a PD whose response within the step
    /// is integrated implicitly (empty: none), and whether each joint is unsaturated.
    pub(super) servo: Vec<(f64, f64)>,
    pub(super) servo_on: Vec<bool>,
}

impl<'a> Stepper<'a> {
    pub(super) fn new(
        model: &'a Model,
        contact: Option<(ContactParams, f64)>,
        limits: bool,
    ) -> Self {
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
            servo: Vec::new(),
            servo_on: Vec::new(),
        }
    }

    /// Semi-implicit Euler accelerations: the dissipative forces that are linear in velocity
    /// in secant form (`f = -C(q, v) v`: joint damping, smoothed joint friction, contact
    /// friction and normal contact damping) are taken at the end of the step,
    /// `(M + dt C) a = M a_explicit`; the normal contact spring is taken at the end of the
    /// step too (linearised: `f_n' = k d - (b + dt k) v_z'`). This keeps stiff contact, friction and damping stable
    /// at ordinary time steps.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn accel_implicit(
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
        let voff = m.actuated_offsets().1;
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
            // (a frictionless joint skips the tanh: most of the data's joints)
            let fr = if b.friction == 0.0 {
                0.0
            } else if vi.abs() > 1e-12 {
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
            if let Some(&(kp, kd)) = self.servo.get(b.v_idx - voff) {
                // the PD's own spring and damper at the end of the step, like a limit spring
                if self.servo_on[b.v_idx - voff] {
                    c += kd + dt * kp;
                    self.extra[b.v_idx] += dt * kp * vi;
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
            point_jacobian(m, &self.data, ac.body, ac.point, &mut self.jac);
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
    pub(super) fn accel(
        &mut self,
        q: &[f64],
        v: &[f64],
        act: &[f64],
        out: &mut [f64],
    ) -> ContactStats {
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
            if b.friction != 0.0 {
                self.tau[b.v_idx] -=
                    b.damping * vi + b.friction * (vi / FRICTION_SMOOTHING_VELOCITY).tanh();
            } else if b.damping != 0.0 {
                self.tau[b.v_idx] -= b.damping * vi;
            }
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

/// The integration stage of one episode: the stepper and the integrator's scratch.
pub(super) struct Dynamics<'a> {
    model: &'a Model,
    integrator: Integrator,
    pub(super) st: Stepper<'a>,
    qdd: Vec<f64>,
    k1q: Vec<f64>,
    k2q: Vec<f64>,
    k3q: Vec<f64>,
    k4q: Vec<f64>,
    k1a: Vec<f64>,
    k2a: Vec<f64>,
    k3a: Vec<f64>,
    k4a: Vec<f64>,
    qs: Vec<f64>,
    vs: Vec<f64>,
}

impl<'a> Dynamics<'a> {
    pub(super) fn new(
        model: &'a Model,
        integrator: Integrator,
        contact: Option<(ContactParams, f64)>,
        limits: bool,
    ) -> Self {
        let (nq, nv) = (model.nq, model.nv);
        Dynamics {
            model,
            integrator,
            st: Stepper::new(model, contact, limits),
            qdd: vec![0.0; nv],
            k1q: vec![0.0; nq],
            k2q: vec![0.0; nq],
            k3q: vec![0.0; nq],
            k4q: vec![0.0; nq],
            k1a: vec![0.0; nv],
            k2a: vec![0.0; nv],
            k3a: vec![0.0; nv],
            k4a: vec![0.0; nv],
            qs: vec![0.0; nq],
            vs: vec![0.0; nv],
        }
    }

    /// Integrate a PD servo `(kp, kd)` per actuated joint implicitly (semi-implicit Euler only).
    pub(super) fn set_servo(&mut self, kp: &[f64], kd: &[f64], gain: f64) {
        self.st.servo = kp
            .iter()
            .zip(kd)
            .map(|(p, d)| (gain * p, gain * d))
            .collect();
        self.st.servo_on = vec![true; kp.len()];
    }

    /// Advance `(q, v)` by `dt` under the actuated torques `applied`.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn step(
        &mut self,
        q: &mut [f64],
        v: &mut [f64],
        applied: &[f64],
        dt: f64,
    ) -> ContactStats {
        let model = self.model;
        let (nq, nv) = (model.nq, model.nv);
        match self.integrator {
            Integrator::SemiImplicitEuler => {
                if !self.st.servo.is_empty() {
                    // a saturated actuator cannot respond within the step
                    let efforts = model
                        .bodies
                        .iter()
                        .filter(|b| !matches!(b.kind, JointKind::Free));
                    for ((on, b), a) in self.st.servo_on.iter_mut().zip(efforts).zip(applied) {
                        *on = b.effort.is_none_or(|e| a.abs() < e);
                    }
                }
                let stats = self.st.accel_implicit(q, v, applied, dt, &mut self.qdd);
                for j in 0..nv {
                    v[j] += dt * self.qdd[j];
                }
                integrate_config(model, q, v, dt);
                stats
            }
            Integrator::Rk4 => {
                // classical RK4 on (q, v); the base quaternion is integrated as 4 numbers
                // (qdot = q * (w, 0) / 2) and renormalised after the step
                let s = self;
                config_rate(model, q, v, &mut s.k1q);
                let stats = s.st.accel(q, v, applied, &mut s.k1a);
                rk_stage(q, v, &s.k1q, &s.k1a, 0.5 * dt, &mut s.qs, &mut s.vs);
                config_rate(model, &s.qs, &s.vs, &mut s.k2q);
                s.st.accel(&s.qs, &s.vs, applied, &mut s.k2a);
                rk_stage(q, v, &s.k2q, &s.k2a, 0.5 * dt, &mut s.qs, &mut s.vs);
                config_rate(model, &s.qs, &s.vs, &mut s.k3q);
                s.st.accel(&s.qs, &s.vs, applied, &mut s.k3a);
                rk_stage(q, v, &s.k3q, &s.k3a, dt, &mut s.qs, &mut s.vs);
                config_rate(model, &s.qs, &s.vs, &mut s.k4q);
                s.st.accel(&s.qs, &s.vs, applied, &mut s.k4a);
                for j in 0..nq {
                    q[j] += dt * (s.k1q[j] + 2.0 * s.k2q[j] + 2.0 * s.k3q[j] + s.k4q[j]) / 6.0;
                }
                for j in 0..nv {
                    v[j] += dt * (s.k1a[j] + 2.0 * s.k2a[j] + 2.0 * s.k3a[j] + s.k4a[j]) / 6.0;
                }
                normalize_base(model, q);
                stats
            }
        }
    }
}
