//! Gravity compensation, including the stance of a floating-base robot on the ground.
//!
//! For a fixed base the holding torque is `g(q) = RNEA(q, 0, 0)`. A floating-base robot
//! standing on the ground is held by its contacts, not by its base, so the torque that holds
//! it still is the inverse dynamics of the stance: the static equilibrium
//! `g(q) = S^T tau + J_c^T f` with contact forces `f` at the stance contacts (those within
//! [`super::contact::STANCE_BAND`] of the lowest contact point). Its six base rows
//! `J_b^T f = g_b` fix `f` (the minimum-norm solution, which spreads the weight over the
//! stance), and the joint rows give `tau = g_j - J_j^T f`. Without ground contact the joint
//! rows of `g` are used (the robot held by its base).

use super::contact::{point_jacobian, stance_contacts_at};
use super::dynamics::{cholesky_in_place, forward_kinematics, rnea, Data};
use super::math::Vec3;
use super::model::Model;

/// Torques of the actuated joints that hold configuration `q` still, with or without the
/// ground's support (see the module documentation).
pub fn holding_torques(model: &Model, q: &[f64], ground: bool) -> Vec<f64> {
    let (nv, na) = (model.nv, model.n_actuated());
    let (_, voff) = model.actuated_offsets();
    let mut d = Data::new(model);
    let zeros = vec![0.0; nv];
    let mut g = vec![0.0; nv];
    rnea(model, &mut d, q, &zeros, &zeros, None, &mut g);
    let mut tau = g[voff..].to_vec();
    if !model.floating_base || !ground || model.contacts.is_empty() || na == 0 {
        return tau;
    }
    let stance = stance_contacts_at(model, &mut d, q);
    forward_kinematics(model, &mut d, q);
    // one 3 x nv Jacobian per stance contact, at the contact's lowest point
    let jacs: Vec<Vec<[f64; 3]>> = stance
        .iter()
        .map(|&i| {
            let c = &model.contacts[i];
            let centre = d.pos[c.body] + d.rot[c.body].mul_vec(c.pos);
            let mut jac = vec![[0.0; 3]; nv];
            point_jacobian(
                model,
                &d,
                c.body,
                centre + Vec3::new(0.0, 0.0, -c.radius),
                &mut jac,
            );
            jac
        })
        .collect();
    // A = J_b^T (6 x 3n); f = A^T (A A^T + eps I)^-1 g_b
    let n3 = 3 * jacs.len();
    let a = |r: usize, c: usize| jacs[c / 3][r][c % 3];
    let mut aat = [0.0; 36];
    for r in 0..6 {
        for s in 0..6 {
            aat[r * 6 + s] = (0..n3).map(|c| a(r, c) * a(s, c)).sum();
        }
    }
    let trace: f64 = (0..6).map(|r| aat[r * 6 + r]).sum();
    for r in 0..6 {
        aat[r * 6 + r] += 1e-12 * trace.max(1e-12);
    }
    if cholesky_in_place(&mut aat, 6, 0.0).is_err() {
        return tau;
    }
    let mut y = [0.0; 6];
    for r in 0..6 {
        let mut s = g[r];
        for k in 0..r {
            s -= aat[r * 6 + k] * y[k];
        }
        y[r] = s / aat[r * 6 + r];
    }
    for r in (0..6).rev() {
        let mut s = y[r];
        for k in r + 1..6 {
            s -= aat[k * 6 + r] * y[k];
        }
        y[r] = s / aat[r * 6 + r];
    }
    let f: Vec<f64> = (0..n3)
        .map(|c| (0..6).map(|r| a(r, c) * y[r]).sum())
        .collect();
    for (j, t) in tau.iter_mut().enumerate() {
        let col = voff + j;
        *t -= (0..n3).map(|c| jacs[c / 3][col][c % 3] * f[c]).sum::<f64>();
    }
    tau
}

/// Effective inertia of each actuated joint for position control in the stance at `q`.
///
/// A joint whose subtree carries stance contacts (a leg) moves the rest of the robot when the
/// foot is on the ground: with `n` legs sharing the weight, it sees its own mass-matrix
/// diagonal `M_jj` plus `(m_total / n) r^2`, `r` the distance from the joint to the robot's
/// centre of mass (the supported mass as a point mass swinging about the joint). Other joints
/// (arms, a fixed base, no ground) see `M_jj`.
pub fn stance_inertias(model: &Model, q: &[f64], ground: bool) -> Vec<f64> {
    let nv = model.nv;
    let (_, voff) = model.actuated_offsets();
    let mut d = Data::new(model);
    let mut mm = vec![0.0; nv * nv];
    super::dynamics::crba(model, &mut d, q, &mut mm);
    let mut out: Vec<f64> = (voff..nv).map(|i| mm[i * nv + i]).collect();
    if !model.floating_base || !ground || model.contacts.is_empty() {
        return out;
    }
    let stance = stance_contacts_at(model, &mut d, q);
    forward_kinematics(model, &mut d, q);
    // the leg of a body: its ancestor whose parent is the base (body 0)
    let leg_of = |mut b: usize| {
        while let Some(p) = model.bodies[b].parent {
            if p == 0 {
                return Some(b);
            }
            b = p;
        }
        None
    };
    let points: Vec<(usize, Vec3)> = stance
        .iter()
        .map(|&i| {
            let c = &model.contacts[i];
            let centre = d.pos[c.body] + d.rot[c.body].mul_vec(c.pos);
            (c.body, centre + Vec3::new(0.0, 0.0, -c.radius))
        })
        .collect();
    let mut legs: Vec<usize> = points.iter().filter_map(|&(b, _)| leg_of(b)).collect();
    legs.sort_unstable();
    legs.dedup();
    if legs.is_empty() {
        return out;
    }
    let share = model.total_mass() / legs.len() as f64;
    let mut com = Vec3::ZERO;
    for (i, b) in model.bodies.iter().enumerate() {
        let m = b.inertia.mass();
        if m > 0.0 {
            let c = d.pos[i] + d.rot[i].mul_vec(b.inertia.first_moment().scale(1.0 / m));
            com += c.scale(m);
        }
    }
    let com = com.scale(1.0 / model.total_mass().max(1e-12));
    let in_subtree = |mut b: usize, root: usize| loop {
        if b == root {
            return true;
        }
        match model.bodies[b].parent {
            Some(p) => b = p,
            None => return false,
        }
    };
    for (j, body) in model.bodies.iter().enumerate().skip(1) {
        if points.iter().any(|&(b, _)| in_subtree(b, j)) {
            let r = (com - d.pos[j]).norm();
            out[body.v_idx - voff] += share * r * r;
        }
    }
    out
}
