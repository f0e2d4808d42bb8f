//! Stage "dynamics, contact and integration": passive joint forces (damping, smoothed Coulomb
//! friction, position-limit springs), ground contact and gravity, and one integrator step.

use super::super::contact::{
    contact_forces, point_jacobian, ActiveContact, ContactParams, ContactStats,
};
use super::super::dynamics::{
    aba_ext, config_rate, crba_pattern, dof_parents, forward_kinematics, integrate_config,
    ltdl_in_place, ltdl_solve, normalize_base, Data, NO_DOF,
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
    /// `M + dt C` on the sparsity pattern of `lambda` (lower triangle), then its factor.
    mmat: Vec<f64>,
    rhs: Vec<f64>,
    extra: Vec<f64>,
    /// The diagonal of the end-of-step coefficients `C` (joint terms), and `dt` times it.
    diag: Vec<f64>,
    armature: Vec<f64>,
    jac: Vec<[f64; 3]>,
    /// The dofs on a contact point's path to the root (the nonzero rows of `jac`).
    path: Vec<usize>,
    /// The parent of each dof (`dof_parents`): the sparsity of `M + dt C`.
    lambda: Vec<usize>,
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
            mmat: vec![0.0; model.nv * model.nv],
            rhs: vec![0.0; model.nv],
            extra: vec![0.0; model.nv],
            diag: vec![0.0; model.nv],
            armature: vec![0.0; model.nv],
            jac: vec![[0.0; 3]; model.nv],
            path: Vec::with_capacity(model.nv),
            lambda: dof_parents(model),
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
    ///
    /// Without an active contact `C` is diagonal, and since `M a_explicit = tau - h`, the
    /// system is one articulated-body pass with armature `dt C` (no mass matrix, no
    /// factorisation). With contacts `M + dt C` keeps the branch-induced sparsity of `M` (a
    /// contact couples only the dofs on its root path), factorised as `L^T D L` without fill-in.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn accel_implicit(
        &mut self,
        q: &[f64],
        v: &[f64],
        act: &[f64],
        dt: f64,
        out: &mut [f64],
    ) -> ContactStats {
        let (stats, kinematics) = self.forces(q, v, act);
        let m = self.model;
        let nv = m.nv;
        let voff = m.actuated_offsets().1;
        let mut any = false;
        for x in self.diag.iter_mut() {
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
                self.diag[b.v_idx] = c;
                any = true;
            }
        }
        let fext = if self.contact.is_some() {
            Some(&self.fext[..])
        } else {
            None
        };
        if self.active.is_empty() {
            // (M + dt C) a = tau - h - extra with C diagonal: C is a rotor inertia dt C
            let armature = if any {
                for j in 0..nv {
                    self.tau[j] -= self.extra[j];
                    self.armature[j] = dt * self.diag[j];
                }
                Some(&self.armature[..])
            } else {
                None
            };
            aba_ext(
                m,
                &mut self.data,
                q,
                v,
                &self.tau,
                fext,
                armature,
                kinematics,
                out,
            );
            return stats;
        }
        aba_ext(
            m,
            &mut self.data,
            q,
            v,
            &self.tau,
            fext,
            None,
            kinematics,
            out,
        );
        // M (the pattern: the transforms of this configuration are in `data.xup`), then
        // rhs = M a_explicit - extra and M + dt C, all on the pattern (lower triangle)
        crba_pattern(m, &mut self.data, &mut self.mmat);
        let lambda = &self.lambda;
        for i in 0..nv {
            self.rhs[i] = self.mmat[i * nv + i] * out[i];
        }
        for i in 0..nv {
            let mut j = lambda[i];
            while j != NO_DOF {
                let mij = self.mmat[i * nv + j];
                self.rhs[i] += mij * out[j];
                self.rhs[j] += mij * out[i];
                j = lambda[j];
            }
        }
        for j in 0..nv {
            self.mmat[j * nv + j] += dt * self.diag[j];
        }
        for ac in &self.active {
            // tangential (x, y) velocity Jacobian of the contact point, on its path to the root
            let b = &m.bodies[ac.body];
            self.path.clear();
            let mut r = b.v_idx + b.nv() - 1;
            loop {
                self.path.push(r);
                r = lambda[r];
                if r == NO_DOF {
                    break;
                }
            }
            point_jacobian(m, &self.data, ac.body, ac.point, &mut self.jac);
            let (c, d) = (
                ac.friction_coefficient,
                ac.normal_damping + dt * ac.normal_stiffness,
            );
            // the spring part is not in the explicit force: its end-of-step increment
            // -k dt v_z' enters as -dt k J_z^T J_z v' = -(dt k J_z^T J_z)(v + dt a)
            let mut vz = 0.0;
            for &r in &self.path {
                vz += self.jac[r][2] * v[r];
            }
            let spring = dt * ac.normal_stiffness * vz;
            for &r in &self.path {
                self.extra[r] += spring * self.jac[r][2];
            }
            // the path runs from the leaf up: `col` is `r` or one of its ancestors
            for (n, &r) in self.path.iter().enumerate() {
                let jr = self.jac[r];
                for &col in &self.path[n..] {
                    let jc = self.jac[col];
                    self.mmat[r * nv + col] +=
                        dt * (c * (jr[0] * jc[0] + jr[1] * jc[1]) + d * jr[2] * jc[2]);
                }
            }
        }
        for i in 0..nv {
            self.rhs[i] -= self.extra[i];
        }
        if !ltdl_in_place(&mut self.mmat, nv, lambda) {
            return stats; // keep the explicit accelerations
        }
        ltdl_solve(&self.mmat, nv, lambda, &mut self.rhs);
        out.copy_from_slice(&self.rhs);
        stats
    }

    /// The generalized forces of the step into `self.tau` (actuated torques `act` plus passive
    /// joint forces) and, with contact on, the contact forces into `self.fext` (and the active
    /// contacts): this needs the kinematics of `(q, v)`, left in `self.data`, and the second
    /// value says so.
    fn forces(&mut self, q: &[f64], v: &[f64], act: &[f64]) -> (ContactStats, bool) {
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
        self.active.clear();
        let Some((cp, mu)) = self.contact else {
            return (ContactStats::default(), false);
        };
        forward_kinematics(m, &mut self.data, q);
        for (i, b) in m.bodies.iter().enumerate() {
            let vj = match b.kind {
                JointKind::Revolute { axis } => Motion::new(axis.scale(v[b.v_idx]), Vec3::ZERO),
                JointKind::Prismatic { axis } => Motion::new(Vec3::ZERO, axis.scale(v[b.v_idx])),
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
        let stats = contact_forces(m, &self.data, &cp, mu, &mut self.fext, &mut self.active);
        (stats, true)
    }

    /// Accelerations for state `(q, v)` under actuated torques `act` (passive forces added here).
    pub(super) fn accel(
        &mut self,
        q: &[f64],
        v: &[f64],
        act: &[f64],
        out: &mut [f64],
    ) -> ContactStats {
        let (stats, kinematics) = self.forces(q, v, act);
        let fext = if self.contact.is_some() {
            Some(&self.fext[..])
        } else {
            None
        };
        aba_ext(
            self.model,
            &mut self.data,
            q,
            v,
            &self.tau,
            fext,
            None,
            kinematics,
            out,
        );
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

#[cfg(test)]
mod tests {
    use super::super::super::dynamics::{aba, cholesky_in_place, crba};
    use super::super::super::pose::default_configuration;
    use super::super::super::profile::Rng;
    use super::*;
    use std::path::PathBuf;

    /// The implicit accelerations computed as before the armature and sparse paths: explicit
    /// ABA, the dense mass matrix and dense `C` (joints and contacts), a dense Cholesky solve.
    #[allow(clippy::needless_range_loop)]
    fn dense_reference(st: &mut Stepper, q: &[f64], v: &[f64], act: &[f64], dt: f64) -> Vec<f64> {
        let m = st.model;
        let nv = m.nv;
        let mut out = vec![0.0; nv];
        st.accel(q, v, act, &mut out);
        let voff = m.actuated_offsets().1;
        let mut cmat = vec![0.0; nv * nv];
        let mut extra = vec![0.0; nv];
        for b in &m.bodies {
            if let JointKind::Free = b.kind {
                continue;
            }
            let vi = v[b.v_idx];
            let fr = if b.friction == 0.0 {
                0.0
            } else if vi.abs() > 1e-12 {
                b.friction * (vi / FRICTION_SMOOTHING_VELOCITY).tanh() / vi
            } else {
                b.friction / FRICTION_SMOOTHING_VELOCITY
            };
            let mut c = b.damping + fr;
            if st.limits {
                let e = limit_violation(b, q[b.q_idx]);
                let k = b.limit_inertia * LIMIT_FREQUENCY * LIMIT_FREQUENCY;
                let d = 2.0 * b.limit_inertia * LIMIT_FREQUENCY;
                if e != 0.0 && (k * e + d * vi) * e > 0.0 {
                    c += d + dt * k;
                    extra[b.v_idx] += dt * k * vi;
                }
            }
            if let Some(&(kp, kd)) = st.servo.get(b.v_idx - voff) {
                if st.servo_on[b.v_idx - voff] {
                    c += kd + dt * kp;
                    extra[b.v_idx] += dt * kp * vi;
                }
            }
            cmat[b.v_idx * nv + b.v_idx] += c;
        }
        let mut jac = vec![[0.0; 3]; nv];
        for ac in st.active.clone() {
            jac.iter_mut().for_each(|j| *j = [0.0; 3]);
            point_jacobian(m, &st.data, ac.body, ac.point, &mut jac);
            let (c, d) = (
                ac.friction_coefficient,
                ac.normal_damping + dt * ac.normal_stiffness,
            );
            let vz: f64 = (0..nv).map(|r| jac[r][2] * v[r]).sum();
            for r in 0..nv {
                extra[r] += dt * ac.normal_stiffness * vz * jac[r][2];
                for col in 0..nv {
                    let (jr, jc) = (jac[r], jac[col]);
                    cmat[r * nv + col] += c * (jr[0] * jc[0] + jr[1] * jc[1]) + d * jr[2] * jc[2];
                }
            }
        }
        let mut mm = vec![0.0; nv * nv];
        let mut data = Data::new(m);
        crba(m, &mut data, q, &mut mm);
        let rhs: Vec<f64> = (0..nv)
            .map(|r| (0..nv).map(|c| mm[r * nv + c] * out[c]).sum::<f64>() - extra[r])
            .collect();
        for (x, c) in mm.iter_mut().zip(&cmat) {
            *x += dt * c;
        }
        cholesky_in_place(&mut mm, nv, 0.0).expect("M + dt C is positive definite");
        let mut y = rhs.clone();
        for r in 0..nv {
            y[r] = (rhs[r] - (0..r).map(|k| mm[r * nv + k] * y[k]).sum::<f64>()) / mm[r * nv + r];
        }
        for r in (0..nv).rev() {
            out[r] =
                (y[r] - (r + 1..nv).map(|k| mm[k * nv + r] * out[k]).sum::<f64>()) / mm[r * nv + r];
        }
        out
    }

    /// Largest difference relative to the largest acceleration (at least 1).
    fn rel_error(got: &[f64], want: &[f64]) -> f64 {
        let scale = want.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        let err = got
            .iter()
            .zip(want)
            .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()));
        err / scale
    }

    fn assert_close(got: &[f64], want: &[f64], what: &str) {
        let err = rel_error(got, want);
        assert!(err <= 1e-12, "{what}: relative error {err:e}");
    }

    const ARM: &str = r#"<robot name="arm">
      <link name="base"/>
      <link name="l1"><inertial><origin xyz="0.1 0 -0.3"/><mass value="2.0"/>
        <inertia ixx="0.02" iyy="0.03" izz="0.01" ixy="0.001" ixz="0" iyz="0.002"/></inertial></link>
      <link name="l2"><inertial><origin xyz="0 0.05 -0.2"/><mass value="1.0"/>
        <inertia ixx="0.01" iyy="0.01" izz="0.005" ixy="0" ixz="0.001" iyz="0"/></inertial></link>
      <link name="l3"><inertial><origin xyz="0 0 -0.1"/><mass value="0.5"/>
        <inertia ixx="0.002" iyy="0.003" izz="0.001" ixy="0" ixz="0" iyz="0"/></inertial></link>
      <joint name="j1" type="revolute"><parent link="base"/><child link="l1"/>
        <origin xyz="0 0 1" rpy="0.1 0.2 0.3"/><axis xyz="0 0 1"/>
        <limit lower="-0.5" upper="0.5" effort="10" velocity="5"/><dynamics damping="0.3" friction="0.2"/></joint>
      <joint name="j2" type="revolute"><parent link="l1"/><child link="l2"/>
        <origin xyz="0 0 -0.6"/><axis xyz="0 1 0"/>
        <limit lower="-1" upper="1" effort="10" velocity="5"/><dynamics damping="0.1"/></joint>
      <joint name="j3" type="prismatic"><parent link="l1"/><child link="l3"/>
        <origin xyz="0.2 0 0"/><axis xyz="1 0 0"/>
        <limit lower="-0.1" upper="0.1" effort="10" velocity="5"/></joint>
    </robot>"#;

    /// States with joints inside and beyond their limits, moving both ways.
    fn check_against_reference(model: &Model, contact: bool, servo: bool, seed: u64) {
        let cp = if contact && !model.contacts.is_empty() {
            Some((ContactParams::for_model(model), 0.8))
        } else {
            None
        };
        let mut st = Stepper::new(model, cp, true);
        let na = model.n_actuated();
        if servo {
            st.servo = (0..na).map(|j| (100.0 + j as f64, 10.0)).collect();
            st.servo_on = (0..na).map(|j| j % 3 != 1).collect();
        }
        let mut rng = Rng::for_episode(seed, 0, 0);
        let q0 = default_configuration(model);
        let (qoff, voff) = model.actuated_offsets();
        let mut with_contacts = 0;
        for case in 0..40 {
            let mut q = q0.clone();
            let spread = if case % 2 == 0 { 0.2 } else { 3.0 };
            for x in q[qoff..].iter_mut() {
                *x += spread * (2.0 * rng.uniform() - 1.0);
            }
            if model.floating_base {
                // near the ground: some contact points in it
                q[2] += 0.05 * (2.0 * rng.uniform() - 1.0);
            }
            let v: Vec<f64> = (0..model.nv).map(|_| 2.0 * rng.uniform() - 1.0).collect();
            let act: Vec<f64> = (0..na).map(|_| 5.0 * (2.0 * rng.uniform() - 1.0)).collect();
            let dt = 0.002;
            let mut got = vec![0.0; model.nv];
            st.accel_implicit(&q, &v, &act, dt, &mut got);
            with_contacts += usize::from(!st.active.is_empty());
            let want = dense_reference(&mut st, &q, &v, &act, dt);
            // Joints 3 rad beyond their limits make `M + dt C` stiff (limit springs at
            // 200 rad/s on light links): both solves are backward stable and differ by the
            // round-off times its condition number, a few 1e-12 at most.
            let tol = if spread < 1.0 { 1e-12 } else { 2e-11 };
            let err = rel_error(&got, &want);
            assert!(
                err <= tol,
                "{} case {case} (voff {voff}): relative error {err:e}",
                model.name
            );
        }
        if cp.is_some() {
            assert!(with_contacts > 0, "no case had an active contact");
        }
    }

    #[test]
    fn implicit_accelerations_match_the_dense_solve() {
        let m = Model::from_urdf_str(ARM, false).unwrap();
        check_against_reference(&m, false, false, 1);
        check_against_reference(&m, false, true, 2);
    }

    #[test]
    fn implicit_accelerations_match_the_dense_solve_on_real_robots() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sim/urdf");
        if !dir.is_dir() {
            eprintln!("skipping: real URDFs not found at {}", dir.display());
            return;
        }
        for (name, floating) in [
            ("iiwa", false),
            ("panda", false),
            ("hyq", true),
            ("solo12", true),
            ("atlas", true),
        ] {
            let path = dir.join(format!("{name}.urdf"));
            let m = Model::from_urdf_file(path.to_str().unwrap(), floating).unwrap();
            check_against_reference(&m, floating, false, 3);
            check_against_reference(&m, floating, true, 4);
        }
    }

    #[test]
    fn ltdl_solves_like_dense_cholesky() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sim/urdf");
        let m = match Model::from_urdf_file(dir.join("hyq.urdf").to_str().unwrap(), true) {
            Ok(m) => m,
            Err(_) => Model::from_urdf_str(ARM, false).unwrap(),
        };
        let nv = m.nv;
        let lambda = dof_parents(&m);
        let mut data = Data::new(&m);
        let q = default_configuration(&m);
        let mut h = vec![0.0; nv * nv];
        crba(&m, &mut data, &q, &mut h);
        let b: Vec<f64> = (0..nv).map(|i| (i as f64 * 0.7).sin()).collect();
        let mut dense = h.clone();
        cholesky_in_place(&mut dense, nv, 0.0).unwrap();
        let mut x = b.clone();
        assert!(ltdl_in_place(&mut h, nv, &lambda));
        ltdl_solve(&h, nv, &lambda, &mut x);
        // the dense answer by substitution
        let mut y = b.clone();
        for r in 0..nv {
            y[r] =
                (b[r] - (0..r).map(|k| dense[r * nv + k] * y[k]).sum::<f64>()) / dense[r * nv + r];
        }
        let mut want = vec![0.0; nv];
        for r in (0..nv).rev() {
            want[r] = (y[r]
                - (r + 1..nv)
                    .map(|k| dense[k * nv + r] * want[k])
                    .sum::<f64>())
                / dense[r * nv + r];
        }
        assert_close(&x, &want, "ltdl");
        // and the explicit ABA agrees with M^-1 (tau - h) the same way (sanity of the setup)
        let mut a = vec![0.0; nv];
        aba(
            &m,
            &mut data,
            &q,
            &vec![0.0; nv],
            &vec![0.0; nv],
            None,
            &mut a,
        );
        assert!(a.iter().all(|x| x.is_finite()));
    }
}
