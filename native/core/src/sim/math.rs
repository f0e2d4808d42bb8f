//! Small fixed-size linear algebra: 3-vectors, 3x3 matrices and unit quaternions.
//!
//! Written out by hand (no generic matrix crate) so that the dynamics inner loops
//! compile to straight-line floating-point code.

use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

/// A 3-vector.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl Vec3 {
    pub const ZERO: Vec3 = Vec3 {
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };

    #[inline(always)]
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }
    #[inline(always)]
    pub fn from_slice(s: &[f64]) -> Self {
        Vec3::new(s[0], s[1], s[2])
    }
    #[inline(always)]
    pub fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    #[inline(always)]
    pub fn cross(self, o: Vec3) -> Vec3 {
        Vec3::new(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }
    #[inline(always)]
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }
    #[inline(always)]
    pub fn scale(self, s: f64) -> Vec3 {
        Vec3::new(self.x * s, self.y * s, self.z * s)
    }
    #[inline(always)]
    pub fn to_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite() && self.z.is_finite()
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn add(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}
impl Sub for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}
impl Neg for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn neg(self) -> Vec3 {
        Vec3::new(-self.x, -self.y, -self.z)
    }
}
impl AddAssign for Vec3 {
    #[inline(always)]
    fn add_assign(&mut self, o: Vec3) {
        self.x += o.x;
        self.y += o.y;
        self.z += o.z;
    }
}
impl SubAssign for Vec3 {
    #[inline(always)]
    fn sub_assign(&mut self, o: Vec3) {
        self.x -= o.x;
        self.y -= o.y;
        self.z -= o.z;
    }
}
impl Mul<f64> for Vec3 {
    type Output = Vec3;
    #[inline(always)]
    fn mul(self, s: f64) -> Vec3 {
        self.scale(s)
    }
}

/// A 3x3 matrix stored row-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mat3 {
    pub m: [[f64; 3]; 3],
}

impl Default for Mat3 {
    fn default() -> Self {
        Mat3::ZERO
    }
}

impl Mat3 {
    pub const ZERO: Mat3 = Mat3 { m: [[0.0; 3]; 3] };
    pub const IDENTITY: Mat3 = Mat3 {
        m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    };

    #[inline(always)]
    pub fn from_rows(r0: [f64; 3], r1: [f64; 3], r2: [f64; 3]) -> Self {
        Mat3 { m: [r0, r1, r2] }
    }
    #[inline(always)]
    pub fn diag(d: f64) -> Self {
        Mat3::from_rows([d, 0.0, 0.0], [0.0, d, 0.0], [0.0, 0.0, d])
    }
    /// Symmetric matrix from the six URDF inertia entries.
    pub fn sym(ixx: f64, ixy: f64, ixz: f64, iyy: f64, iyz: f64, izz: f64) -> Self {
        Mat3::from_rows([ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz])
    }
    /// The skew-symmetric cross-product matrix: `skew(a) * b == a x b`.
    #[inline(always)]
    pub fn skew(a: Vec3) -> Self {
        Mat3::from_rows([0.0, -a.z, a.y], [a.z, 0.0, -a.x], [-a.y, a.x, 0.0])
    }
    /// Outer product `a b^T`.
    #[inline(always)]
    pub fn outer(a: Vec3, b: Vec3) -> Self {
        Mat3::from_rows(
            [a.x * b.x, a.x * b.y, a.x * b.z],
            [a.y * b.x, a.y * b.y, a.y * b.z],
            [a.z * b.x, a.z * b.y, a.z * b.z],
        )
    }
    #[inline(always)]
    pub fn transpose(&self) -> Mat3 {
        let m = &self.m;
        Mat3::from_rows(
            [m[0][0], m[1][0], m[2][0]],
            [m[0][1], m[1][1], m[2][1]],
            [m[0][2], m[1][2], m[2][2]],
        )
    }
    #[inline(always)]
    pub fn mul_vec(&self, v: Vec3) -> Vec3 {
        let m = &self.m;
        Vec3::new(
            m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z,
            m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
            m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z,
        )
    }
    /// `self^T * v`.
    #[inline(always)]
    pub fn tr_mul_vec(&self, v: Vec3) -> Vec3 {
        let m = &self.m;
        Vec3::new(
            m[0][0] * v.x + m[1][0] * v.y + m[2][0] * v.z,
            m[0][1] * v.x + m[1][1] * v.y + m[2][1] * v.z,
            m[0][2] * v.x + m[1][2] * v.y + m[2][2] * v.z,
        )
    }
    #[inline(always)]
    pub fn mul(&self, o: &Mat3) -> Mat3 {
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = self.m[i][0] * o.m[0][j] + self.m[i][1] * o.m[1][j] + self.m[i][2] * o.m[2][j];
            }
        }
        Mat3 { m: r }
    }
    /// `self^T * o`.
    #[inline(always)]
    pub fn tr_mul(&self, o: &Mat3) -> Mat3 {
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = self.m[0][i] * o.m[0][j] + self.m[1][i] * o.m[1][j] + self.m[2][i] * o.m[2][j];
            }
        }
        Mat3 { m: r }
    }
    /// `self * o^T`.
    #[inline(always)]
    pub fn mul_tr(&self, o: &Mat3) -> Mat3 {
        let mut r = [[0.0; 3]; 3];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = self.m[i][0] * o.m[j][0] + self.m[i][1] * o.m[j][1] + self.m[i][2] * o.m[j][2];
            }
        }
        Mat3 { m: r }
    }
    #[inline(always)]
    pub fn add(&self, o: &Mat3) -> Mat3 {
        let mut r = self.m;
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x += o.m[i][j];
            }
        }
        Mat3 { m: r }
    }
    #[inline(always)]
    pub fn sub(&self, o: &Mat3) -> Mat3 {
        let mut r = self.m;
        for (i, row) in r.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x -= o.m[i][j];
            }
        }
        Mat3 { m: r }
    }
    #[inline(always)]
    pub fn scale(&self, s: f64) -> Mat3 {
        let mut r = self.m;
        for row in r.iter_mut() {
            for x in row.iter_mut() {
                *x *= s;
            }
        }
        Mat3 { m: r }
    }
    /// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: `(values, vectors)`
    /// with eigenvector `k` in column `k` of `vectors` (a rotation matrix up to sign).
    #[allow(clippy::needless_range_loop)]
    pub fn sym_eigen(&self) -> ([f64; 3], Mat3) {
        let mut a = self.m;
        let mut v = Mat3::IDENTITY.m;
        for _ in 0..32 {
            let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
            if off <= 1e-15 * (a[0][0].abs() + a[1][1].abs() + a[2][2].abs()) {
                break;
            }
            for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..3 {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..3 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
        ([a[0][0], a[1][1], a[2][2]], Mat3 { m: v })
    }

    /// Eigenvalues of a symmetric matrix, ascending (closed form, trigonometric method).
    pub fn sym_eigenvalues(&self) -> [f64; 3] {
        let m = &self.m;
        let p1 = m[0][1] * m[0][1] + m[0][2] * m[0][2] + m[1][2] * m[1][2];
        let tr = m[0][0] + m[1][1] + m[2][2];
        if p1 == 0.0 {
            let mut d = [m[0][0], m[1][1], m[2][2]];
            d.sort_by(|a, b| a.total_cmp(b));
            return d;
        }
        let q = tr / 3.0;
        let p2 = (m[0][0] - q).powi(2) + (m[1][1] - q).powi(2) + (m[2][2] - q).powi(2) + 2.0 * p1;
        let p = (p2 / 6.0).sqrt();
        let b = self.sub(&Mat3::diag(q)).scale(1.0 / p);
        let r = (b.det() / 2.0).clamp(-1.0, 1.0);
        let phi = r.acos() / 3.0;
        let e_hi = q + 2.0 * p * phi.cos();
        let e_lo = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
        [e_lo, tr - e_hi - e_lo, e_hi]
    }

    pub fn det(&self) -> f64 {
        let m = &self.m;
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }
    /// Rotation matrix from URDF roll-pitch-yaw: `Rz(yaw) * Ry(pitch) * Rx(roll)`.
    pub fn from_rpy(r: f64, p: f64, y: f64) -> Mat3 {
        let (sr, cr) = r.sin_cos();
        let (sp, cp) = p.sin_cos();
        let (sy, cy) = y.sin_cos();
        Mat3::from_rows(
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        )
    }
    /// Rotation by `angle` about the unit vector `axis` (Rodrigues).
    #[inline(always)]
    pub fn axis_angle(axis: Vec3, angle: f64) -> Mat3 {
        let (s, c) = angle.sin_cos();
        let t = 1.0 - c;
        let (x, y, z) = (axis.x, axis.y, axis.z);
        Mat3::from_rows(
            [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
            [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
            [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
        )
    }
    pub fn is_finite(&self) -> bool {
        self.m.iter().all(|r| r.iter().all(|x| x.is_finite()))
    }
}

/// A unit quaternion `(x, y, z, w)` (Pinocchio / Eigen storage order in configuration vectors).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quat {
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub w: f64,
}

impl Quat {
    pub const IDENTITY: Quat = Quat {
        x: 0.0,
        y: 0.0,
        z: 0.0,
        w: 1.0,
    };

    pub fn new(x: f64, y: f64, z: f64, w: f64) -> Self {
        Quat { x, y, z, w }
    }
    pub fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y + self.z * self.z + self.w * self.w).sqrt()
    }
    pub fn normalized(&self) -> Quat {
        let n = self.norm();
        Quat::new(self.x / n, self.y / n, self.z / n, self.w / n)
    }
    /// Hamilton product `self * o`.
    pub fn mul(&self, o: &Quat) -> Quat {
        Quat::new(
            self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
            self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
        )
    }
    /// The exponential map of a rotation vector (angle times axis).
    pub fn exp(rv: Vec3) -> Quat {
        let th = rv.norm();
        let half = 0.5 * th;
        let k = if th < 1e-8 {
            0.5 - th * th / 48.0
        } else {
            half.sin() / th
        };
        Quat::new(rv.x * k, rv.y * k, rv.z * k, half.cos())
    }
    /// Rotation matrix taking body coordinates to world coordinates (assumes unit norm).
    pub fn to_mat(&self) -> Mat3 {
        let (x, y, z, w) = (self.x, self.y, self.z, self.w);
        Mat3::from_rows(
            [
                1.0 - 2.0 * (y * y + z * z),
                2.0 * (x * y - z * w),
                2.0 * (x * z + y * w),
            ],
            [
                2.0 * (x * y + z * w),
                1.0 - 2.0 * (x * x + z * z),
                2.0 * (y * z - x * w),
            ],
            [
                2.0 * (x * z - y * w),
                2.0 * (y * z + x * w),
                1.0 - 2.0 * (x * x + y * y),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpy_matches_axis_angle_composition() {
        let (r, p, y) = (0.3, -0.7, 1.1);
        let want = Mat3::axis_angle(Vec3::new(0.0, 0.0, 1.0), y)
            .mul(&Mat3::axis_angle(Vec3::new(0.0, 1.0, 0.0), p))
            .mul(&Mat3::axis_angle(Vec3::new(1.0, 0.0, 0.0), r));
        let got = Mat3::from_rpy(r, p, y);
        for i in 0..3 {
            for j in 0..3 {
                assert!((want.m[i][j] - got.m[i][j]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn quaternion_exp_matches_axis_angle() {
        let axis = Vec3::new(1.0, 2.0, -2.0).scale(1.0 / 3.0);
        let q = Quat::exp(axis.scale(0.8));
        let a = q.to_mat();
        let b = Mat3::axis_angle(axis, 0.8);
        for i in 0..3 {
            for j in 0..3 {
                assert!((a.m[i][j] - b.m[i][j]).abs() < 1e-14);
            }
        }
    }
}
