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
//! Defaults scale with the robot: `k = 2500 * m_total` N/m per contact (about 1 mm of static
//! sinkage on four contacts, natural frequency ~100 rad/s per contact), critical damping
//! `b = 2 sqrt(k m_total / 4)`, `v_s = 0.01` m/s.

use super::dynamics::Data;
use super::math::Vec3;
use super::model::Model;
use super::spatial::Force;

/// Parameters of the ground contact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContactParams {
    pub stiffness: f64,
    pub damping: f64,
    pub slip_velocity: f64,
}

impl ContactParams {
    pub fn for_model(model: &Model) -> ContactParams {
        let m = model.total_mass().max(1e-3);
        let stiffness = 2500.0 * m;
        ContactParams {
            stiffness,
            damping: 2.0 * (stiffness * m / 4.0).sqrt(),
            slip_velocity: 0.01,
        }
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
