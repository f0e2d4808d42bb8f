//! Compliant ground contact against the plane z = 0 with a regularised Coulomb friction cone.
//!
//! Each contact sphere (centre `c`, radius `r`, attached to a body) touches the ground when its
//! penetration `d = r - c_z` is positive. At the lowest point `p` of the sphere, with `v_p` the
//! point's world velocity:
//!
//! * normal force `f_n = max(0, k d - b v_p,z)` (spring-damper, never pulling);
//! * tangential force `f_t = -mu f_n v_t / sqrt(|v_t|^2 + v_s^2)`, with `v_t` the tangential
//!   velocity. `|f_t| < mu f_n` always (the force lies inside the friction cone), it approaches
//!   the cone boundary when the point slides faster than the regularisation speed `v_s`, and
//!   it behaves as a stiff viscous stick below it. With a low `mu` the cone is narrow and a
//!   driven wheel or a pushing foot slides.
//!
//! Defaults come from the robot's weight ([`ContactParams::for_model`]): with `n` contacts in
//! the stance of the `stand` pose (those within [`STANCE_BAND`] of the lowest one) sharing the
//! weight `m g`, each contact gets `k = m g / (n d0)`, so the robot sinks by
//! `d0 = STATIC_SINKAGE` (1 mm) under its own weight, whatever its size; the stance is then an
//! oscillator of natural frequency `sqrt(g / d0)` (99 rad/s, 15.8 Hz). Each contact's damping
//! is critical for its share of the mass: `b = 2 zeta sqrt(k m / n)`, `zeta = DAMPING_RATIO`.
//! `v_s = 0.01` m/s. A profile scales `k` and `b` per episode (`contact_stiffness_scale`,
//! `contact_damping_scale`); a rollout can also set them outright.

use super::dynamics::Data;
use super::math::Vec3;
use super::model::{JointKind, Model};
use super::spatial::Force;

/// Parameters of the ground contact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContactParams {
    pub stiffness: f64,
    pub damping: f64,
    pub slip_velocity: f64,
}

/// Static deflection of the default contact under the robot's weight (m).
pub const STATIC_SINKAGE: f64 = 1.0e-3;

/// Damping ratio of the default contact (1 = critical) for its share of the robot's mass.
pub const DAMPING_RATIO: f64 = 1.0;

/// Contacts whose lowest point is within this height of the lowest one carry the stance (m).
pub const STANCE_BAND: f64 = 0.01;

/// Default regularisation speed of the friction cone (m/s).
pub const SLIP_VELOCITY: f64 = 0.01;

impl ContactParams {
    /// Defaults from the robot's weight and stance (see the module documentation).
    pub fn for_model(model: &Model) -> ContactParams {
        let m = model.total_mass().max(1e-3);
        let g = model.gravity.norm().max(1e-3);
        let n = stance_contacts(model).len().max(1) as f64;
        let stiffness = m * g / (n * STATIC_SINKAGE);
        ContactParams {
            stiffness,
            damping: 2.0 * DAMPING_RATIO * (stiffness * m / n).sqrt(),
            slip_velocity: SLIP_VELOCITY,
        }
    }

    /// These parameters with stiffness and damping scaled (a profile's per-episode draw).
    pub fn scaled(&self, stiffness: f64, damping: f64) -> ContactParams {
        ContactParams {
            stiffness: self.stiffness * stiffness,
            damping: self.damping * damping,
            slip_velocity: self.slip_velocity,
        }
    }
}

/// Indices of the contact points carrying the `stand` pose: within [`STANCE_BAND`] of the
/// lowest one.
pub fn stance_contacts(model: &Model) -> Vec<usize> {
    let q = super::pose::pose(model, "stand").expect("built-in pose");
    stance_contacts_at(model, &mut Data::new(model), &q)
}

/// Contact points within [`STANCE_BAND`] of the lowest one at configuration `q`.
pub fn stance_contacts_at(model: &Model, data: &mut Data, q: &[f64]) -> Vec<usize> {
    super::dynamics::forward_kinematics(model, data, q);
    let z: Vec<f64> = model
        .contacts
        .iter()
        .map(|c| (data.pos[c.body] + data.rot[c.body].mul_vec(c.pos)).z - c.radius)
        .collect();
    let lowest = z.iter().copied().fold(f64::INFINITY, f64::min);
    (0..z.len())
        .filter(|&i| z[i] <= lowest + STANCE_BAND)
        .collect()
}

/// World-frame linear-velocity Jacobian of the world point `point` fixed to `body`: one
/// `[x, y, z]` column per velocity coordinate on the path to the root (`jac` has `nv` columns;
/// the other columns are left untouched). Needs `data.rot` and `data.pos`.
pub fn point_jacobian(model: &Model, data: &Data, body: usize, point: Vec3, jac: &mut [[f64; 3]]) {
    let mut cur = Some(body);
    while let Some(j) = cur {
        let b = &model.bodies[j];
        let rot = &data.rot[j];
        let r = point - data.pos[j];
        match b.kind {
            JointKind::Revolute { axis } => {
                let col = rot.mul_vec(axis).cross(r);
                jac[b.v_idx] = [col.x, col.y, col.z];
            }
            JointKind::Prismatic { axis } => {
                let col = rot.mul_vec(axis);
                jac[b.v_idx] = [col.x, col.y, col.z];
            }
            JointKind::Free => {
                for k in 0..3 {
                    let e = Vec3::new(rot.m[0][k], rot.m[1][k], rot.m[2][k]);
                    jac[b.v_idx + k] = [e.x, e.y, e.z];
                    let col = e.cross(r);
                    jac[b.v_idx + 3 + k] = [col.x, col.y, col.z];
                }
            }
        }
        cur = b.parent;
    }
}

/// Contact statistics of one evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ContactStats {
    pub active: usize,
    /// Sum over active contacts of the tangential (slip) speed.
    pub slip_speed_sum: f64,
}

/// An active contact: body, world contact point and the secant friction coefficient `c` of
/// `f_t = -c v_t` (used by the integrator to treat friction implicitly).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActiveContact {
    pub body: usize,
    pub point: Vec3,
    pub friction_coefficient: f64,
    /// The normal damping `b` acting on the contact point's vertical velocity.
    pub normal_damping: f64,
    /// The normal stiffness `k` (the integrator adds `dt k` to the damping: an implicit spring).
    pub normal_stiffness: f64,
}

/// Compute contact forces into `fext` (body frames) and list the active contacts. Needs
/// `data.rot`, `data.pos` and the body velocities `data.v` for the current state.
pub fn contact_forces(
    model: &Model,
    data: &Data,
    params: &ContactParams,
    mu: f64,
    fext: &mut [Force],
    active: &mut Vec<ActiveContact>,
) -> ContactStats {
    active.clear();
    let mut stats = ContactStats::default();
    for f in fext.iter_mut() {
        *f = Force::ZERO;
    }
    for cp in &model.contacts {
        let b = cp.body;
        let rot = &data.rot[b];
        let centre = data.pos[b] + rot.mul_vec(cp.pos);
        let depth = cp.radius - centre.z;
        if depth <= 0.0 {
            continue;
        }
        // contact point: lowest point of the sphere, in body coordinates
        let p_body = cp.pos + rot.tr_mul_vec(Vec3::new(0.0, 0.0, -cp.radius));
        let vb = data.v[b];
        let vp = rot.mul_vec(vb.v + vb.w.cross(p_body));
        let fn_ = (params.stiffness * depth - params.damping * vp.z).max(0.0);
        if fn_ == 0.0 {
            continue;
        }
        let vt = Vec3::new(vp.x, vp.y, 0.0);
        let speed = vt.norm();
        let c = mu * fn_ / (speed * speed + params.slip_velocity * params.slip_velocity).sqrt();
        let k = -c;
        active.push(ActiveContact {
            body: b,
            point: centre + Vec3::new(0.0, 0.0, -cp.radius),
            friction_coefficient: c,
            normal_damping: params.damping,
            normal_stiffness: params.stiffness,
        });
        let fw = Vec3::new(k * vt.x, k * vt.y, fn_);
        let fb = rot.tr_mul_vec(fw);
        fext[b] = fext[b].add(Force::new(p_body.cross(fb), fb));
        stats.active += 1;
        stats.slip_speed_sum += speed;
    }
    stats
}
