//! Recursive rigid-body dynamics: forward kinematics, RNEA (inverse dynamics), CRBA (joint-space
//! mass matrix) and ABA (forward dynamics), following Featherstone (2008), chapters 5-7.
//!
//! All functions work on a preallocated [`Data`] and never allocate. Gravity enters as a
//! fictitious upward acceleration of the fixed world frame. External forces are spatial forces
//! per body, expressed in that body's frame.

use super::math::{Mat3, Quat, Vec3};
use super::model::{Body, JointKind, Model};
use super::spatial::{solve_spd6, ArtInertia, Force, Inertia6, Motion, Xform};

/// Per-call workspace, sized for one model.
#[derive(Clone, Debug)]
pub struct Data {
    pub xup: Vec<Xform>,
    pub v: Vec<Motion>,
    pub c: Vec<Motion>,
    pub a: Vec<Motion>,
    pub f: Vec<Force>,
    pub ia: Vec<Inertia6>,
    /// Articulated inertias of [`aba_ext`] (symmetric storage).
    pub art: Vec<ArtInertia>,
    pub pa: Vec<Force>,
    pub u: Vec<Force>,
    pub d_inv: Vec<f64>,
    pub uu: Vec<f64>,
    /// World pose of each body: rotation body-to-world and origin position.
    pub rot: Vec<Mat3>,
    pub pos: Vec<Vec3>,
}

impl Data {
    pub fn new(model: &Model) -> Data {
        let n = model.bodies.len();
        Data {
            xup: vec![Xform::IDENTITY; n],
            v: vec![Motion::ZERO; n],
            c: vec![Motion::ZERO; n],
            a: vec![Motion::ZERO; n],
            f: vec![Force::ZERO; n],
            ia: vec![Inertia6::ZERO; n],
            art: vec![ArtInertia::default(); n],
            pa: vec![Force::ZERO; n],
            u: vec![Force::ZERO; n],
            d_inv: vec![0.0; n],
            uu: vec![0.0; n],
            rot: vec![Mat3::IDENTITY; n],
            pos: vec![Vec3::ZERO; n],
        }
    }
}

/// The free-flyer base orientation from q (normalised).
#[inline]
pub fn base_quat(q: &[f64]) -> Quat {
    Quat::new(q[3], q[4], q[5], q[6]).normalized()
}

/// Transform from the parent body frame to this body's frame at configuration `q`.
#[inline(always)]
fn joint_xup(b: &Body, q: &[f64]) -> Xform {
    match b.kind {
        JointKind::Revolute { axis } => {
            let qi = q[b.q_idx];
            // X_J = (Rot(axis, q)^T, 0); X_up = X_J X_tree. Axis-aligned joints (the common
            // case) only mix two rows of E_tree.
            let e = &b.xtree.e.m;
            let (sn, cs) = qi.sin_cos();
            let mix = |p: &[f64; 3], o: &[f64; 3], a: f64, c: f64| {
                [
                    a * p[0] + c * o[0],
                    a * p[1] + c * o[1],
                    a * p[2] + c * o[2],
                ]
            };
            let m = if axis.x == 0.0 && axis.y == 0.0 {
                let sn = sn * axis.z;
                [mix(&e[0], &e[1], cs, sn), mix(&e[0], &e[1], -sn, cs), e[2]]
            } else if axis.y == 0.0 && axis.z == 0.0 {
                let sn = sn * axis.x;
                [e[0], mix(&e[1], &e[2], cs, sn), mix(&e[1], &e[2], -sn, cs)]
            } else if axis.x == 0.0 && axis.z == 0.0 {
                let sn = sn * axis.y;
                [mix(&e[0], &e[2], cs, -sn), e[1], mix(&e[0], &e[2], sn, cs)]
            } else {
                Mat3::axis_angle(axis, qi).tr_mul(&b.xtree.e).m
            };
            Xform {
                e: Mat3 { m },
                r: b.xtree.r,
            }
        }
        JointKind::Prismatic { axis } => {
            let d = axis.scale(q[b.q_idx]);
            Xform {
                e: b.xtree.e,
                r: b.xtree.r + b.xtree.e.tr_mul_vec(d),
            }
        }
        JointKind::Free => {
            let i = b.q_idx;
            let rot = base_quat(&q[i..]).to_mat();
            let pose = Xform::from_pose(rot, Vec3::new(q[i], q[i + 1], q[i + 2]));
            pose.compose(&b.xtree)
        }
    }
}

/// Joint velocity `S qd` of body `b` from the generalized vector `x`.
#[inline(always)]
fn joint_motion(b: &Body, x: &[f64]) -> Motion {
    let i = b.v_idx;
    match b.kind {
        JointKind::Revolute { axis } => Motion::new(axis.scale(x[i]), Vec3::ZERO),
        JointKind::Prismatic { axis } => Motion::new(Vec3::ZERO, axis.scale(x[i])),
        JointKind::Free => Motion::new(
            Vec3::new(x[i + 3], x[i + 4], x[i + 5]),
            Vec3::new(x[i], x[i + 1], x[i + 2]),
        ),
    }
}

/// `Some((k, sign))` when a revolute joint's axis is `sign e_k` (URDF axes are almost always
/// one of those): the subspace products then pick entries instead of multiplying, with the
/// same results bit for bit (the other terms are exact zeros).
#[inline(always)]
fn revolute_unit_axis(b: &Body) -> Option<(usize, f64)> {
    match b.kind {
        JointKind::Revolute { axis } => {
            if axis.x == 0.0 && axis.y == 0.0 && axis.z.abs() == 1.0 {
                Some((2, axis.z))
            } else if axis.y == 0.0 && axis.z == 0.0 && axis.x.abs() == 1.0 {
                Some((0, axis.x))
            } else if axis.x == 0.0 && axis.z == 0.0 && axis.y.abs() == 1.0 {
                Some((1, axis.y))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The motion subspace column of a one-dof joint.
#[inline(always)]
fn subspace(b: &Body) -> Motion {
    match b.kind {
        JointKind::Revolute { axis } => Motion::new(axis, Vec3::ZERO),
        JointKind::Prismatic { axis } => Motion::new(Vec3::ZERO, axis),
        JointKind::Free => unreachable!("free joints have six columns"),
    }
}

/// Write `S^T f` into the generalized vector `out`.
#[inline(always)]
fn project_force(b: &Body, f: Force, out: &mut [f64]) {
    let i = b.v_idx;
    match b.kind {
        JointKind::Revolute { axis } => out[i] = axis.dot(f.n),
        JointKind::Prismatic { axis } => out[i] = axis.dot(f.f),
        JointKind::Free => {
            out[i..i + 3].copy_from_slice(&f.f.to_array());
            out[i + 3..i + 6].copy_from_slice(&f.n.to_array());
        }
    }
}

#[inline(always)]
fn gravity_accel(model: &Model) -> Motion {
    Motion::new(Vec3::ZERO, -model.gravity)
}

/// Forward kinematics: `data.xup`, world rotations and positions of every body.
pub fn forward_kinematics(model: &Model, data: &mut Data, q: &[f64]) {
    for (i, b) in model.bodies.iter().enumerate() {
        let x = joint_xup(b, q);
        data.xup[i] = x;
        let (pr, pp) = match b.parent {
            Some(p) => (data.rot[p], data.pos[p]),
            None => (Mat3::IDENTITY, Vec3::ZERO),
        };
        data.rot[i] = pr.mul_tr(&x.e);
        data.pos[i] = pp + pr.mul_vec(x.r);
    }
}

/// Inverse dynamics by the recursive Newton-Euler algorithm: `tau = M(q) a + h(q, v) - J^T f_ext`.
pub fn rnea(
    model: &Model,
    data: &mut Data,
    q: &[f64],
    v: &[f64],
    a: &[f64],
    fext: Option<&[Force]>,
    tau: &mut [f64],
) {
    let ag = gravity_accel(model);
    for (i, b) in model.bodies.iter().enumerate() {
        let x = joint_xup(b, q);
        data.xup[i] = x;
        let vj = joint_motion(b, v);
        let aj = joint_motion(b, a);
        let (vp, ap) = match b.parent {
            Some(p) => (x.apply_motion(data.v[p]), x.apply_motion(data.a[p])),
            None => (x.apply_motion(Motion::ZERO), x.apply_motion(ag)),
        };
        let vi = vp.add(vj);
        let ai = ap.add(aj).add(vi.cross_motion(vj));
        data.v[i] = vi;
        data.a[i] = ai;
        let iv = b.inertia.mul_motion(vi);
        let mut f = b.inertia.mul_motion(ai).add(vi.cross_force(iv));
        if let Some(fe) = fext {
            f = f.sub(fe[i]);
        }
        data.f[i] = f;
    }
    for (i, b) in model.bodies.iter().enumerate().rev() {
        let f = data.f[i];
        project_force(b, f, tau);
        if let Some(p) = b.parent {
            let fp = data.xup[i].inv_apply_force(f);
            data.f[p] = data.f[p].add(fp);
        }
    }
}

/// The joint-space mass matrix by the composite rigid-body algorithm, written row-major into
/// `m` (length `nv * nv`).
pub fn crba(model: &Model, data: &mut Data, q: &[f64], m: &mut [f64]) {
    for (i, b) in model.bodies.iter().enumerate() {
        data.xup[i] = joint_xup(b, q);
    }
    crba_given_xup(model, data, m);
}

/// [`crba`] with the joint transforms `data.xup` of the configuration already computed (by
/// [`forward_kinematics`] or [`aba`] in the same step): the transforms are not recomputed.
pub fn crba_given_xup(model: &Model, data: &mut Data, m: &mut [f64]) {
    for x in m.iter_mut() {
        *x = 0.0;
    }
    crba_pattern(model, data, m);
}

/// [`crba_given_xup`] writing only the entries of the branch-induced sparsity pattern (both
/// triangles; see [`dof_parents`]): every other entry of `m` is left as it was.
pub fn crba_pattern(model: &Model, data: &mut Data, m: &mut [f64]) {
    let nv = model.nv;
    for (i, b) in model.bodies.iter().enumerate() {
        data.ia[i] = b.inertia;
    }
    for (i, b) in model.bodies.iter().enumerate().rev() {
        if let Some(p) = b.parent {
            let ic = data.ia[i].to_parent(&data.xup[i]);
            data.ia[p].add_assign(&ic);
        }
    }
    for (i, b) in model.bodies.iter().enumerate() {
        let ic = data.ia[i];
        match b.kind {
            JointKind::Free => {
                // the base block is the composite inertia itself, reordered to (linear, angular)
                let d = ic.to_dense();
                let perm = [3, 4, 5, 0, 1, 2];
                for r in 0..6 {
                    for c in 0..6 {
                        m[(b.v_idx + r) * nv + b.v_idx + c] = d[perm[r]][perm[c]];
                    }
                }
            }
            _ => {
                let s = subspace(b);
                let mut f = ic.mul_motion(s);
                let vi = b.v_idx;
                m[vi * nv + vi] = s.dot(f);
                let mut j = i;
                while let Some(p) = model.bodies[j].parent {
                    f = data.xup[j].inv_apply_force(f);
                    j = p;
                    let bj = &model.bodies[j];
                    match bj.kind {
                        JointKind::Free => {
                            let col = [f.f.x, f.f.y, f.f.z, f.n.x, f.n.y, f.n.z];
                            for (k, val) in col.iter().enumerate() {
                                m[(bj.v_idx + k) * nv + vi] = *val;
                                m[vi * nv + bj.v_idx + k] = *val;
                            }
                        }
                        _ => {
                            let val = subspace(bj).dot(f);
                            m[bj.v_idx * nv + vi] = val;
                            m[vi * nv + bj.v_idx] = val;
                        }
                    }
                }
            }
        }
    }
}

/// Forward dynamics by the articulated-body algorithm: `qdd = M^-1 (tau + J^T f_ext - h)`.
/// Also leaves body velocities in `data.v` and accelerations in `data.a`.
pub fn aba(
    model: &Model,
    data: &mut Data,
    q: &[f64],
    v: &[f64],
    tau: &[f64],
    fext: Option<&[Force]>,
    qdd: &mut [f64],
) {
    aba_ext(model, data, q, v, tau, fext, None, false, qdd);
}

/// [`aba`] with two options for the stepper. `armature` (length `nv`, one-dof joints only; a
/// free joint's entries are ignored) adds a diagonal `diag(armature)` to the mass matrix:
/// `qdd = (M + diag(armature))^-1 (tau + J^T f_ext - h)`, exactly as a rotor inertia enters
/// the joint's `D = S^T IA S`. `kinematics_ready` says `data.xup` and `data.v` already hold
/// this `(q, v)`'s joint transforms and body velocities (from the contact stage of the same
/// step), so they are not recomputed (the same values, bit for bit).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn aba_ext(
    model: &Model,
    data: &mut Data,
    q: &[f64],
    v: &[f64],
    tau: &[f64],
    fext: Option<&[Force]>,
    armature: Option<&[f64]>,
    kinematics_ready: bool,
    qdd: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe {
            aba_avx2(
                model,
                data,
                q,
                v,
                tau,
                fext,
                armature,
                kinematics_ready,
                qdd,
            )
        };
        return;
    }
    aba_body(
        model,
        data,
        q,
        v,
        tau,
        fext,
        armature,
        kinematics_ready,
        qdd,
    );
}

/// [`aba_body`] compiled for AVX2 (256-bit vectors for the 3x3 block products). No FMA: the
/// arithmetic is the same IEEE operations in the same order, so the results are bit for bit
/// those of the baseline build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn aba_avx2(
    model: &Model,
    data: &mut Data,
    q: &[f64],
    v: &[f64],
    tau: &[f64],
    fext: Option<&[Force]>,
    armature: Option<&[f64]>,
    kinematics_ready: bool,
    qdd: &mut [f64],
) {
    aba_body(
        model,
        data,
        q,
        v,
        tau,
        fext,
        armature,
        kinematics_ready,
        qdd,
    );
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn aba_body(
    model: &Model,
    data: &mut Data,
    q: &[f64],
    v: &[f64],
    tau: &[f64],
    fext: Option<&[Force]>,
    armature: Option<&[f64]>,
    kinematics_ready: bool,
    qdd: &mut [f64],
) {
    // pass 1: kinematics, velocity-product accelerations, bias forces
    for (i, b) in model.bodies.iter().enumerate() {
        let vj = joint_motion(b, v);
        let vi = if kinematics_ready {
            data.v[i]
        } else {
            let x = joint_xup(b, q);
            data.xup[i] = x;
            let vi = match b.parent {
                Some(p) => x.apply_motion(data.v[p]).add(vj),
                None => vj,
            };
            data.v[i] = vi;
            vi
        };
        data.c[i] = vi.cross_motion(vj);
        data.art[i] = ArtInertia::from_rigid(&b.inertia);
        let mut pa = vi.cross_force(b.inertia.mul_motion(vi));
        if let Some(fe) = fext {
            pa = pa.sub(fe[i]);
        }
        data.pa[i] = pa;
    }
    // pass 2: articulated inertias, from the leaves to the root
    for (i, b) in model.bodies.iter().enumerate().rev() {
        if let JointKind::Free = b.kind {
            continue; // only the root can be free: nothing to propagate
        }
        let ia = data.art[i];
        let pa = data.pa[i];
        // U = IA S, D = S^T U, u = tau - S^T pA
        let (u, d, su) = match revolute_unit_axis(b) {
            Some((k, sign)) => (
                ia.mul_axis(k, sign),
                ia.a_diag(k),
                sign * pa.n.to_array()[k],
            ),
            None => {
                let s = subspace(b);
                let u = ia.mul_motion(s);
                (u, s.dot(u), s.dot(pa))
            }
        };
        let d = match armature {
            Some(arm) => d + arm[b.v_idx],
            None => d,
        };
        let d_inv = 1.0 / d;
        let uu = tau[b.v_idx] - su;
        data.u[i] = u;
        data.d_inv[i] = d_inv;
        data.uu[i] = uu;
        if let Some(p) = b.parent {
            let ia_a = ia.sub_outer(u, d_inv);
            let pa_a = pa.add(ia_a.mul_motion(data.c[i])).add(u.scale(uu * d_inv));
            let x = &data.xup[i];
            let ip = ia_a.to_parent(x);
            data.art[p].add_assign(&ip);
            data.pa[p] = data.pa[p].add(x.inv_apply_force(pa_a));
        }
    }
    // pass 3: accelerations, from the root to the leaves
    let ag = gravity_accel(model);
    for (i, b) in model.bodies.iter().enumerate() {
        let x = data.xup[i];
        let ap = match b.parent {
            Some(p) => x.apply_motion(data.a[p]),
            None => x.apply_motion(ag),
        };
        match b.kind {
            JointKind::Free => {
                let k = b.v_idx;
                let ai = ap.add(data.c[i]);
                // IA (ai + qdd) = tau_base - pA
                let t = [
                    tau[k + 3] - data.pa[i].n.x,
                    tau[k + 4] - data.pa[i].n.y,
                    tau[k + 5] - data.pa[i].n.z,
                    tau[k] - data.pa[i].f.x,
                    tau[k + 1] - data.pa[i].f.y,
                    tau[k + 2] - data.pa[i].f.z,
                ];
                let sol = solve_spd6(&data.art[i].to_dense(), &t).unwrap_or([f64::NAN; 6]);
                let abs = Motion::new(
                    Vec3::new(sol[0], sol[1], sol[2]),
                    Vec3::new(sol[3], sol[4], sol[5]),
                );
                data.a[i] = abs;
                qdd[k] = abs.v.x - ai.v.x;
                qdd[k + 1] = abs.v.y - ai.v.y;
                qdd[k + 2] = abs.v.z - ai.v.z;
                qdd[k + 3] = abs.w.x - ai.w.x;
                qdd[k + 4] = abs.w.y - ai.w.y;
                qdd[k + 5] = abs.w.z - ai.w.z;
            }
            _ => {
                let mut ai = ap.add(data.c[i]);
                let qi = (data.uu[i] - ai.dot(data.u[i])) * data.d_inv[i];
                qdd[b.v_idx] = qi;
                match revolute_unit_axis(b) {
                    Some((0, sign)) => ai.w.x += sign * qi,
                    Some((1, sign)) => ai.w.y += sign * qi,
                    Some((_, sign)) => ai.w.z += sign * qi,
                    None => ai = ai.add(subspace(b).scale(qi)),
                }
                data.a[i] = ai;
            }
        }
    }
}

/// Kinetic and potential energy `(T, V)`; potential is zero at the world origin height.
pub fn energy(model: &Model, data: &mut Data, q: &[f64], v: &[f64]) -> (f64, f64) {
    forward_kinematics(model, data, q);
    let mut kin = 0.0;
    let mut pot = 0.0;
    for (i, b) in model.bodies.iter().enumerate() {
        let vj = joint_motion(b, v);
        let vi = match b.parent {
            Some(p) => data.xup[i].apply_motion(data.v[p]).add(vj),
            None => vj,
        };
        data.v[i] = vi;
        kin += 0.5 * vi.dot(b.inertia.mul_motion(vi));
        let m = b.inertia.mass();
        if m > 0.0 {
            let com = b.inertia.first_moment().scale(1.0 / m);
            let world_com = data.pos[i] + data.rot[i].mul_vec(com);
            pot -= m * model.gravity.dot(world_com);
        }
    }
    (kin, pot)
}

/// In-place Cholesky factorisation of a row-major SPD matrix (lower triangle); on failure
/// returns the index of the first pivot not above `min_pivot`.
pub fn cholesky_in_place(m: &mut [f64], n: usize, min_pivot: f64) -> Result<(), usize> {
    for j in 0..n {
        let mut d = m[j * n + j];
        for k in 0..j {
            d -= m[j * n + k] * m[j * n + k];
        }
        if d.partial_cmp(&min_pivot) != Some(std::cmp::Ordering::Greater) {
            return Err(j);
        }
        let d = d.sqrt();
        m[j * n + j] = d;
        for i in j + 1..n {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= m[i * n + k] * m[j * n + k];
            }
            m[i * n + j] = s / d;
        }
    }
    Ok(())
}

/// No parent degree of freedom (a root dof) in [`dof_parents`].
pub const NO_DOF: usize = usize::MAX;

/// The parent of each degree of freedom, `lambda(i) < i` (Featherstone 2008, section 6.5): a
/// joint's dof hangs from the last dof of its parent body's joint, and a free joint's six
/// dofs form a chain. A mass matrix has nonzeros only where one dof is an ancestor of the
/// other, and so does `M + J^T K J` for a point Jacobian `J` (nonzero on one root path).
pub fn dof_parents(model: &Model) -> Vec<usize> {
    let mut lambda = vec![NO_DOF; model.nv];
    for b in &model.bodies {
        let first = match b.parent {
            Some(p) => {
                let pb = &model.bodies[p];
                pb.v_idx + pb.nv() - 1
            }
            None => NO_DOF,
        };
        for k in 0..b.nv() {
            lambda[b.v_idx + k] = if k == 0 { first } else { b.v_idx + k - 1 };
        }
    }
    lambda
}

/// In-place `L^T D L` factorisation of a row-major SPD matrix with the branch-induced sparsity
/// of `lambda` (Featherstone 2008, table 6.3): no fill-in, only ancestor entries of the lower
/// triangle are read and written (`L` unit lower triangular below the diagonal, `D` on it).
/// Returns `false` when a pivot is not positive (the matrix is not positive definite).
pub fn ltdl_in_place(h: &mut [f64], n: usize, lambda: &[usize]) -> bool {
    for k in (0..n).rev() {
        let hkk = h[k * n + k];
        if hkk.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return false;
        }
        let mut i = lambda[k];
        while i != NO_DOF {
            let a = h[k * n + i] / hkk;
            let mut j = i;
            while j != NO_DOF {
                h[i * n + j] -= a * h[k * n + j];
                j = lambda[j];
            }
            h[k * n + i] = a;
            i = lambda[i];
        }
    }
    true
}

/// Solve `L^T D L x = b` in place (`b` becomes `x`) with the factor of [`ltdl_in_place`].
pub fn ltdl_solve(h: &[f64], n: usize, lambda: &[usize], b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut j = lambda[i];
        while j != NO_DOF {
            b[j] -= h[i * n + j] * b[i];
            j = lambda[j];
        }
    }
    for i in 0..n {
        b[i] /= h[i * n + i];
    }
    for i in 0..n {
        let mut j = lambda[i];
        while j != NO_DOF {
            b[i] -= h[i * n + j] * b[j];
            j = lambda[j];
        }
    }
}

/// Configuration rate `dq/dt` for velocity `v`: joint coordinates move with `v`; the
/// free-flyer position with `R v_lin` and its quaternion with `q * (w, 0) / 2`.
pub fn config_rate(model: &Model, q: &[f64], v: &[f64], qdot: &mut [f64]) {
    for b in &model.bodies {
        match b.kind {
            JointKind::Free => {
                let (qi, vi) = (b.q_idx, b.v_idx);
                let quat = base_quat(&q[qi..]);
                let pd = quat
                    .to_mat()
                    .mul_vec(Vec3::new(v[vi], v[vi + 1], v[vi + 2]));
                qdot[qi] = pd.x;
                qdot[qi + 1] = pd.y;
                qdot[qi + 2] = pd.z;
                let qq = Quat::new(q[qi + 3], q[qi + 4], q[qi + 5], q[qi + 6]);
                let d = qq.mul(&Quat::new(v[vi + 3], v[vi + 4], v[vi + 5], 0.0));
                qdot[qi + 3] = 0.5 * d.x;
                qdot[qi + 4] = 0.5 * d.y;
                qdot[qi + 5] = 0.5 * d.z;
                qdot[qi + 6] = 0.5 * d.w;
            }
            _ => qdot[b.q_idx] = v[b.v_idx],
        }
    }
}

/// Renormalise the free-flyer quaternion in place.
pub fn normalize_base(model: &Model, q: &mut [f64]) {
    for b in &model.bodies {
        if let JointKind::Free = b.kind {
            let i = b.q_idx + 3;
            let n = (q[i] * q[i] + q[i + 1] * q[i + 1] + q[i + 2] * q[i + 2] + q[i + 3] * q[i + 3])
                .sqrt();
            for x in q[i..i + 4].iter_mut() {
                *x /= n;
            }
        }
    }
}

/// Configuration update `q <- q (+) dt * v`: joint coordinates add, the free-flyer position
/// moves by the world-frame velocity and its orientation by the exponential map.
pub fn integrate_config(model: &Model, q: &mut [f64], v: &[f64], dt: f64) {
    for b in &model.bodies {
        match b.kind {
            JointKind::Free => {
                let (qi, vi) = (b.q_idx, b.v_idx);
                let quat = base_quat(&q[qi..]);
                let rot = quat.to_mat();
                let dp = rot
                    .mul_vec(Vec3::new(v[vi], v[vi + 1], v[vi + 2]))
                    .scale(dt);
                q[qi] += dp.x;
                q[qi + 1] += dp.y;
                q[qi + 2] += dp.z;
                let dq = Quat::exp(Vec3::new(v[vi + 3], v[vi + 4], v[vi + 5]).scale(dt));
                let nq = quat.mul(&dq).normalized();
                q[qi + 3] = nq.x;
                q[qi + 4] = nq.y;
                q[qi + 5] = nq.z;
                q[qi + 6] = nq.w;
            }
            _ => q[b.q_idx] += dt * v[b.v_idx],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_fast_path_matches_rodrigues() {
        let xml = r#"<robot name="r"><link name="a"/><link name="b"><inertial><mass value="1"/>
            <inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/></inertial></link>
            <joint name="j" type="revolute"><parent link="a"/><child link="b"/>
            <origin xyz="0.1 0.2 0.3" rpy="0.4 -0.5 0.6"/><axis xyz="0 0 1"/></joint></robot>"#;
        let base = Model::from_urdf_str(xml, false).unwrap();
        let axes = [
            (1.0, 0.0, 0.0),
            (-1.0, 0.0, 0.0),
            (0.0, 1.0, 0.0),
            (0.0, -1.0, 0.0),
            (0.0, 0.0, 1.0),
            (0.0, 0.0, -1.0),
        ];
        for (x, y, z) in axes {
            let mut m = base.clone();
            let axis = Vec3::new(x, y, z);
            m.bodies[0].kind = JointKind::Revolute { axis };
            for q in [-2.0, -0.3, 0.0, 0.7, 3.0] {
                let fast = joint_xup(&m.bodies[0], &[q]);
                let slow = Mat3::axis_angle(axis, q).tr_mul(&m.bodies[0].xtree.e);
                for i in 0..3 {
                    for j in 0..3 {
                        assert!(
                            (fast.e.m[i][j] - slow.m[i][j]).abs() < 1e-15,
                            "axis {axis:?} q {q}"
                        );
                    }
                }
            }
        }
    }
}
