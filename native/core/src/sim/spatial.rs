//! Spatial (6D) algebra after Featherstone, *Rigid Body Dynamics Algorithms* (2008).
//!
//! Motion vectors are `(angular, linear)`, force vectors `(moment, force)`, both expressed
//! in some body frame. A [`Xform`] `X(E, r)` maps motion vectors from frame A to frame B,
//! where `E` rotates A coordinates into B coordinates and `r` is the origin of B expressed
//! in A. Spatial inertias (rigid and articulated) are stored as symmetric 3x3 blocks.

use super::math::{Mat3, Vec3};

/// A spatial motion vector (velocity or acceleration): angular part `w`, linear part `v`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Motion {
    pub w: Vec3,
    pub v: Vec3,
}

/// A spatial force vector: moment `n`, force `f`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Force {
    pub n: Vec3,
    pub f: Vec3,
}

#[allow(clippy::should_implement_trait)]
impl Motion {
    pub const ZERO: Motion = Motion {
        w: Vec3::ZERO,
        v: Vec3::ZERO,
    };

    #[inline(always)]
    pub fn new(w: Vec3, v: Vec3) -> Self {
        Motion { w, v }
    }
    #[inline(always)]
    pub fn add(self, o: Motion) -> Motion {
        Motion::new(self.w + o.w, self.v + o.v)
    }
    #[inline(always)]
    pub fn scale(self, s: f64) -> Motion {
        Motion::new(self.w.scale(s), self.v.scale(s))
    }
    /// Motion cross product `self x m`.
    #[inline(always)]
    pub fn cross_motion(self, m: Motion) -> Motion {
        Motion::new(self.w.cross(m.w), self.w.cross(m.v) + self.v.cross(m.w))
    }
    /// Force cross product `self x* f`.
    #[inline(always)]
    pub fn cross_force(self, f: Force) -> Force {
        Force {
            n: self.w.cross(f.n) + self.v.cross(f.f),
            f: self.w.cross(f.f),
        }
    }
    /// The power pairing `self . f`.
    #[inline(always)]
    pub fn dot(self, f: Force) -> f64 {
        self.w.dot(f.n) + self.v.dot(f.f)
    }
}

#[allow(clippy::should_implement_trait)]
impl Force {
    pub const ZERO: Force = Force {
        n: Vec3::ZERO,
        f: Vec3::ZERO,
    };

    #[inline(always)]
    pub fn new(n: Vec3, f: Vec3) -> Self {
        Force { n, f }
    }
    #[inline(always)]
    pub fn add(self, o: Force) -> Force {
        Force::new(self.n + o.n, self.f + o.f)
    }
    #[inline(always)]
    pub fn sub(self, o: Force) -> Force {
        Force::new(self.n - o.n, self.f - o.f)
    }
    #[inline(always)]
    pub fn scale(self, s: f64) -> Force {
        Force::new(self.n.scale(s), self.f.scale(s))
    }
}

/// A Plücker transform `X(E, r)` from frame A to frame B.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Xform {
    pub e: Mat3,
    pub r: Vec3,
}

impl Default for Xform {
    fn default() -> Self {
        Xform::IDENTITY
    }
}

impl Xform {
    pub const IDENTITY: Xform = Xform {
        e: Mat3::IDENTITY,
        r: Vec3::ZERO,
    };

    /// The transform from a parent frame to a child frame whose pose in the parent is
    /// `(rotation R, translation p)`, i.e. `x_parent = R x_child + p`.
    pub fn from_pose(rot: Mat3, p: Vec3) -> Xform {
        Xform {
            e: rot.transpose(),
            r: p,
        }
    }
    /// Apply to a motion vector: A coordinates to B coordinates.
    #[inline(always)]
    pub fn apply_motion(&self, m: Motion) -> Motion {
        Motion::new(self.e.mul_vec(m.w), self.e.mul_vec(m.v - self.r.cross(m.w)))
    }
    /// Apply the inverse to a motion vector: B coordinates to A coordinates.
    #[inline(always)]
    pub fn inv_apply_motion(&self, m: Motion) -> Motion {
        let w = self.e.tr_mul_vec(m.w);
        Motion::new(w, self.e.tr_mul_vec(m.v) + self.r.cross(w))
    }
    /// Apply the force transform `X*` to a force: A coordinates to B coordinates.
    #[inline(always)]
    pub fn apply_force(&self, f: Force) -> Force {
        Force::new(self.e.mul_vec(f.n - self.r.cross(f.f)), self.e.mul_vec(f.f))
    }
    /// Apply `X^T` to a force: B coordinates back to A coordinates.
    #[inline(always)]
    pub fn inv_apply_force(&self, f: Force) -> Force {
        let ff = self.e.tr_mul_vec(f.f);
        Force::new(self.e.tr_mul_vec(f.n) + self.r.cross(ff), ff)
    }
    /// Composition: `self` (B to C) after `first` (A to B), giving A to C.
    #[inline(always)]
    pub fn compose(&self, first: &Xform) -> Xform {
        Xform {
            e: self.e.mul(&first.e),
            r: first.r + first.e.tr_mul_vec(self.r),
        }
    }
}

/// A symmetric 6x6 spatial inertia `[[A, B], [B^T, C]]` (A, C symmetric), used for rigid
/// bodies, composite bodies (CRBA) and articulated bodies (ABA).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Inertia6 {
    pub a: Mat3,
    pub b: Mat3,
    pub c: Mat3,
}

impl Inertia6 {
    pub const ZERO: Inertia6 = Inertia6 {
        a: Mat3::ZERO,
        b: Mat3::ZERO,
        c: Mat3::ZERO,
    };

    /// A rigid body of mass `m` with centre of mass `com` and rotational inertia `i_com`
    /// about the centre of mass, all in the body frame.
    pub fn rigid(m: f64, com: Vec3, i_com: &Mat3) -> Inertia6 {
        let cx = Mat3::skew(com);
        Inertia6 {
            a: i_com.add(&cx.mul_tr(&cx).scale(m)),
            b: cx.scale(m),
            c: Mat3::diag(m),
        }
    }
    /// Mass of a rigid-body inertia.
    pub fn mass(&self) -> f64 {
        self.c.m[0][0]
    }
    /// First moment of mass `m * com` of a rigid-body inertia.
    pub fn first_moment(&self) -> Vec3 {
        // b = m [c]x, so c = (b[2][1], b[0][2], b[1][0]) / m
        Vec3::new(self.b.m[2][1], self.b.m[0][2], self.b.m[1][0])
    }
    #[inline(always)]
    pub fn mul_motion(&self, m: Motion) -> Force {
        Force::new(
            self.a.mul_vec(m.w) + self.b.mul_vec(m.v),
            self.b.tr_mul_vec(m.w) + self.c.mul_vec(m.v),
        )
    }
    #[inline(always)]
    pub fn add_assign(&mut self, o: &Inertia6) {
        self.a = self.a.add(&o.a);
        self.b = self.b.add(&o.b);
        self.c = self.c.add(&o.c);
    }
    /// `self - u u^T / d` for a force-like column `u`.
    #[inline(always)]
    pub fn sub_outer(&self, u: Force, inv_d: f64) -> Inertia6 {
        let un = u.n.scale(inv_d);
        let uf = u.f.scale(inv_d);
        Inertia6 {
            a: self.a.sub(&Mat3::outer(un, u.n)),
            b: self.b.sub(&Mat3::outer(un, u.f)),
            c: self.c.sub(&Mat3::outer(uf, u.f)),
        }
    }
    /// Express an inertia given in the child frame B in the parent frame A: `X^T I X`
    /// where `x` maps A to B.
    ///
    /// With `X = diag(E, E) [[1, 0], [-rx, 1]]`: rotate the blocks (`A1 = E^T A E`, ...), then
    /// shift: `A' = A1 - B1 rx + rx B1^T - rx C1 rx` (with `rx B1^T = -(B1 rx)^T`),
    /// `B' = B1 + rx C1`, `C' = C1`. Products with `rx` are written as cross products and the
    /// symmetric blocks are formed from their upper triangles.
    #[inline(always)]
    pub fn to_parent(&self, x: &Xform) -> Inertia6 {
        let e = &x.e;
        let a1 = sym_congruence(e, &self.a);
        let c1 = sym_congruence(e, &self.c);
        let b1 = e.tr_mul(&self.b.mul(e));
        let r = x.r;
        let b1rx = rows_times_skew(&b1, r);
        let rxc1 = skew_times_cols(r, &c1);
        let rxc1rx = rows_times_skew(&rxc1, r);
        let mut a = Mat3::ZERO;
        for i in 0..3 {
            for j in i..3 {
                let v = a1.m[i][j] - b1rx.m[i][j] - b1rx.m[j][i] - rxc1rx.m[i][j];
                a.m[i][j] = v;
                a.m[j][i] = v;
            }
        }
        Inertia6 {
            a,
            b: b1.add(&rxc1),
            c: c1,
        }
    }

    /// Row-major dense 6x6 matrix in `(angular, linear)` order.
    pub fn to_dense(&self) -> [[f64; 6]; 6] {
        let mut d = [[0.0; 6]; 6];
        for i in 0..3 {
            for j in 0..3 {
                d[i][j] = self.a.m[i][j];
                d[i][j + 3] = self.b.m[i][j];
                d[i + 3][j] = self.b.m[j][i];
                d[i + 3][j + 3] = self.c.m[i][j];
            }
        }
        d
    }
}

/// Index of entry `(i, j)` of a symmetric 3x3 matrix in its upper-triangle storage
/// `[xx, xy, xz, yy, yz, zz]`.
const SYM: [[usize; 3]; 3] = [[0, 1, 2], [1, 3, 4], [2, 4, 5]];

/// A symmetric 6x6 articulated-body inertia `[[A, B], [B^T, C]]` with `A` and `C` kept as
/// their six upper-triangle entries (`[xx, xy, xz, yy, yz, zz]`): 21 numbers for the 21 that
/// the articulated-body algorithm needs, so the rank-one update, the accumulation and the
/// transform to the parent never touch (or round) a lower triangle.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ArtInertia {
    pub a: [f64; 6],
    pub b: Mat3,
    pub c: [f64; 6],
}

#[inline(always)]
fn upper(m: &Mat3) -> [f64; 6] {
    let m = &m.m;
    [m[0][0], m[0][1], m[0][2], m[1][1], m[1][2], m[2][2]]
}

/// `S v` for a symmetric `S` in upper-triangle storage.
#[inline(always)]
fn sym_mul_vec(s: &[f64; 6], v: Vec3) -> Vec3 {
    Vec3::new(
        s[0] * v.x + s[1] * v.y + s[2] * v.z,
        s[1] * v.x + s[3] * v.y + s[4] * v.z,
        s[2] * v.x + s[4] * v.y + s[5] * v.z,
    )
}

/// `E^T S E` for a symmetric `S` in upper-triangle storage: `T = S E` (27 products), then
/// the six upper entries of `E^T T` (18).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn sym6_congruence(e: &Mat3, s: &[f64; 6]) -> [f64; 6] {
    let e = &e.m;
    let mut t = [[0.0; 3]; 3];
    for k in 0..3 {
        let (s0, s1, s2) = (s[SYM[k][0]], s[SYM[k][1]], s[SYM[k][2]]);
        for j in 0..3 {
            t[k][j] = s0 * e[0][j] + s1 * e[1][j] + s2 * e[2][j];
        }
    }
    let mut r = [0.0; 6];
    let mut n = 0;
    for i in 0..3 {
        for j in i..3 {
            r[n] = e[0][i] * t[0][j] + e[1][i] * t[1][j] + e[2][i] * t[2][j];
            n += 1;
        }
    }
    r
}

#[allow(clippy::needless_range_loop)]
impl ArtInertia {
    /// The articulated inertia of a lone rigid body (its spatial inertia).
    #[inline(always)]
    pub fn from_rigid(i: &Inertia6) -> ArtInertia {
        ArtInertia {
            a: upper(&i.a),
            b: i.b,
            c: upper(&i.c),
        }
    }
    #[inline(always)]
    pub fn mul_motion(&self, m: Motion) -> Force {
        Force::new(
            sym_mul_vec(&self.a, m.w) + self.b.mul_vec(m.v),
            self.b.tr_mul_vec(m.w) + sym_mul_vec(&self.c, m.v),
        )
    }
    /// `self * S` for the revolute subspace `S = (sign e_k, 0)`: column `k` of `A` and row `k`
    /// of `B`, times the sign (exactly what [`Self::mul_motion`] gives for that `S`).
    #[inline(always)]
    pub fn mul_axis(&self, k: usize, sign: f64) -> Force {
        let a = &self.a;
        let b = &self.b.m[k];
        Force::new(
            Vec3::new(a[SYM[0][k]], a[SYM[1][k]], a[SYM[2][k]]).scale(sign),
            Vec3::new(b[0], b[1], b[2]).scale(sign),
        )
    }
    /// The diagonal entry `A_kk`.
    #[inline(always)]
    pub fn a_diag(&self, k: usize) -> f64 {
        self.a[SYM[k][k]]
    }
    #[inline(always)]
    pub fn add_assign(&mut self, o: &ArtInertia) {
        for n in 0..6 {
            self.a[n] += o.a[n];
            self.c[n] += o.c[n];
        }
        self.b = self.b.add(&o.b);
    }
    /// `self - u u^T / d` for a force-like column `u` (upper triangles only).
    #[inline(always)]
    pub fn sub_outer(&self, u: Force, inv_d: f64) -> ArtInertia {
        let un = u.n.scale(inv_d).to_array();
        let uf = u.f.scale(inv_d).to_array();
        let n = u.n.to_array();
        let f = u.f.to_array();
        let mut out = *self;
        let mut k = 0;
        for i in 0..3 {
            for j in i..3 {
                out.a[k] -= un[i] * n[j];
                out.c[k] -= uf[i] * f[j];
                k += 1;
            }
            for j in 0..3 {
                out.b.m[i][j] -= un[i] * f[j];
            }
        }
        out
    }
    /// Express an articulated inertia given in the child frame B in the parent frame A:
    /// `X^T I X` where `x` maps A to B, with `X = diag(E, E) [[1, 0], [-rx, 1]]`: rotate the
    /// blocks (`A1 = E^T A E`, `B1 = E^T B E`, `C1 = E^T C E`; the symmetric ones from their
    /// upper triangles, 45 products each), then shift: `A' = A1 - B1 rx - (B1 rx)^T - rx C1 rx`,
    /// `B' = B1 + rx C1`, `C' = C1`, the products with `rx` written as cross products and only
    /// the upper triangle of `rx C1 rx` formed. No general 6x6 product.
    #[inline(always)]
    pub fn to_parent(&self, x: &Xform) -> ArtInertia {
        let e = &x.e;
        let a1 = sym6_congruence(e, &self.a);
        let c1 = sym6_congruence(e, &self.c);
        let b1 = e.tr_mul(&self.b.mul(e));
        let r = x.r;
        // B1 rx: row i is b1_i x r
        let b1rx = rows_times_skew(&b1, r);
        // rx C1: column j is r x (C1 column j) (= r x row j, C1 symmetric)
        let mut rxc1 = Mat3::ZERO;
        for j in 0..3 {
            let col = Vec3::new(c1[SYM[0][j]], c1[SYM[1][j]], c1[SYM[2][j]]);
            let v = r.cross(col);
            rxc1.m[0][j] = v.x;
            rxc1.m[1][j] = v.y;
            rxc1.m[2][j] = v.z;
        }
        let mut a = [0.0; 6];
        let mut n = 0;
        for i in 0..3 {
            // row i of rx C1 rx is (row i of rx C1) x r; only components j >= i are used
            let row = Vec3::new(rxc1.m[i][0], rxc1.m[i][1], rxc1.m[i][2]);
            let w = row.cross(r).to_array();
            for j in i..3 {
                a[n] = a1[n] - b1rx.m[i][j] - b1rx.m[j][i] - w[j];
                n += 1;
            }
        }
        ArtInertia {
            a,
            b: b1.add(&rxc1),
            c: c1,
        }
    }
    /// Row-major dense 6x6 matrix in `(angular, linear)` order.
    pub fn to_dense(&self) -> [[f64; 6]; 6] {
        let mut d = [[0.0; 6]; 6];
        for i in 0..3 {
            for j in 0..3 {
                d[i][j] = self.a[SYM[i][j]];
                d[i][j + 3] = self.b.m[i][j];
                d[i + 3][j] = self.b.m[j][i];
                d[i + 3][j + 3] = self.c[SYM[i][j]];
            }
        }
        d
    }
}

/// `E^T S E` for a symmetric `S` (upper triangle computed, mirrored).
#[inline(always)]
fn sym_congruence(e: &Mat3, s: &Mat3) -> Mat3 {
    let t = s.mul(e);
    let mut r = Mat3::ZERO;
    for i in 0..3 {
        for j in i..3 {
            let v = e.m[0][i] * t.m[0][j] + e.m[1][i] * t.m[1][j] + e.m[2][i] * t.m[2][j];
            r.m[i][j] = v;
            r.m[j][i] = v;
        }
    }
    r
}

/// `M [r]x`: row `i` is `m_i x r`.
#[inline(always)]
fn rows_times_skew(m: &Mat3, r: Vec3) -> Mat3 {
    let mut out = Mat3::ZERO;
    for i in 0..3 {
        let row = Vec3::new(m.m[i][0], m.m[i][1], m.m[i][2]);
        out.m[i] = row.cross(r).to_array();
    }
    out
}

/// `[r]x M`: column `j` is `r x m_j`.
#[inline(always)]
fn skew_times_cols(r: Vec3, m: &Mat3) -> Mat3 {
    let mut out = Mat3::ZERO;
    for j in 0..3 {
        let c = r.cross(Vec3::new(m.m[0][j], m.m[1][j], m.m[2][j]));
        out.m[0][j] = c.x;
        out.m[1][j] = c.y;
        out.m[2][j] = c.z;
    }
    out
}

#[allow(clippy::needless_range_loop)]
/// Solve the symmetric positive-definite 6x6 system `a x = b` by Cholesky; `None` when `a`
/// is not positive definite.
pub fn solve_spd6(a: &[[f64; 6]; 6], b: &[f64; 6]) -> Option<[f64; 6]> {
    let mut l = [[0.0f64; 6]; 6];
    for i in 0..6 {
        for j in 0..=i {
            let mut s = a[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    let mut y = [0.0; 6];
    for i in 0..6 {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * y[k];
        }
        y[i] = s / l[i][i];
    }
    let mut x = [0.0; 6];
    for i in (0..6).rev() {
        let mut s = y[i];
        for k in i + 1..6 {
            s -= l[k][i] * x[k];
        }
        x[i] = s / l[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_x(x: &Xform) -> [[f64; 6]; 6] {
        let mut d = [[0.0; 6]; 6];
        let erx = x.e.mul(&Mat3::skew(x.r));
        for i in 0..3 {
            for j in 0..3 {
                d[i][j] = x.e.m[i][j];
                d[i + 3][j + 3] = x.e.m[i][j];
                d[i + 3][j] = -erx.m[i][j];
            }
        }
        d
    }

    #[test]
    fn inertia_transform_matches_dense_product() {
        let inertia = Inertia6::rigid(
            2.5,
            Vec3::new(0.1, -0.2, 0.3),
            &Mat3::sym(0.3, 0.01, -0.02, 0.2, 0.03, 0.1),
        );
        let x = Xform {
            e: Mat3::from_rpy(0.2, -0.4, 0.9),
            r: Vec3::new(0.3, 0.5, -0.7),
        };
        let got = inertia.to_parent(&x).to_dense();
        let xd = dense_x(&x);
        let id = inertia.to_dense();
        for i in 0..6 {
            for j in 0..6 {
                let mut s = 0.0;
                for k in 0..6 {
                    for l in 0..6 {
                        s += xd[k][i] * id[k][l] * xd[l][j];
                    }
                }
                assert!(
                    (s - got[i][j]).abs() < 1e-12,
                    "{i},{j}: {s} vs {}",
                    got[i][j]
                );
            }
        }
    }

    #[test]
    fn articulated_inertia_ops_match_the_full_block_ones() {
        let rigid = Inertia6::rigid(
            2.5,
            Vec3::new(0.1, -0.2, 0.3),
            &Mat3::sym(0.3, 0.01, -0.02, 0.2, 0.03, 0.1),
        );
        let x = Xform {
            e: Mat3::from_rpy(0.2, -0.4, 0.9),
            r: Vec3::new(0.3, 0.5, -0.7),
        };
        let u = Force::new(Vec3::new(0.3, -0.1, 0.2), Vec3::new(0.05, 0.4, -0.25));
        let full = rigid.to_parent(&x).sub_outer(u, 0.7).to_parent(&x);
        let art = ArtInertia::from_rigid(&rigid)
            .to_parent(&x)
            .sub_outer(u, 0.7)
            .to_parent(&x);
        let (a, b) = (full.to_dense(), art.to_dense());
        for i in 0..6 {
            for j in 0..6 {
                assert!(
                    (a[i][j] - b[i][j]).abs() < 1e-13,
                    "{i},{j}: {} vs {}",
                    a[i][j],
                    b[i][j]
                );
                assert_eq!(b[i][j], b[j][i], "symmetric by construction");
            }
        }
        let m = Motion::new(Vec3::new(0.3, -1.0, 2.0), Vec3::new(0.5, 0.6, -0.7));
        let (f1, f2) = (full.mul_motion(m), art.mul_motion(m));
        assert!((f1.n - f2.n).norm() < 1e-13 && (f1.f - f2.f).norm() < 1e-13);
        // the unit-axis column is exactly the product with that subspace
        for k in 0..3 {
            for sign in [1.0, -1.0] {
                let mut w = [0.0; 3];
                w[k] = sign;
                let s = Motion::new(Vec3::new(w[0], w[1], w[2]), Vec3::ZERO);
                assert_eq!(art.mul_axis(k, sign), art.mul_motion(s));
                assert_eq!(art.a_diag(k), s.dot(art.mul_motion(s)));
            }
        }
    }

    #[test]
    fn transforms_preserve_power_and_compose() {
        let x1 = Xform {
            e: Mat3::from_rpy(0.1, 0.2, 0.3),
            r: Vec3::new(1.0, 2.0, 3.0),
        };
        let x2 = Xform {
            e: Mat3::from_rpy(-0.5, 0.4, 0.1),
            r: Vec3::new(-0.3, 0.2, 0.9),
        };
        let m = Motion::new(Vec3::new(0.3, -1.0, 2.0), Vec3::new(0.5, 0.6, -0.7));
        let f = Force::new(Vec3::new(1.0, 0.2, -0.3), Vec3::new(-2.0, 0.1, 0.4));
        // power invariance: (X m) . (X* f) == m . f
        assert!((x1.apply_motion(m).dot(x1.apply_force(f)) - m.dot(f)).abs() < 1e-12);
        let both = x2.compose(&x1);
        let a = both.apply_motion(m);
        let b = x2.apply_motion(x1.apply_motion(m));
        assert!((a.w - b.w).norm() < 1e-12 && (a.v - b.v).norm() < 1e-12);
        let back = x1.inv_apply_motion(x1.apply_motion(m));
        assert!((back.w - m.w).norm() < 1e-12 && (back.v - m.v).norm() < 1e-12);
        let fb = x1.inv_apply_force(x1.apply_force(f));
        assert!((fb.n - f.n).norm() < 1e-12 && (fb.f - f.f).norm() < 1e-12);
    }
}
