//! Initial states: named poses, resting on the ground, and validation of a caller's state.
//!
//! Poses (`POSES`):
//! * `neutral`: every joint at zero, base at the origin with identity orientation (the raw
//!   URDF configuration; a floating base may start inside the ground).
//! * `stand`: every joint at zero moved inside its limits (by [`LIMIT_MARGIN`] of the range when
//!   zero is outside), and a floating base lifted so that its lowest collision point is at
//!   `z = 0` ([`REST_CLEARANCE`]): the robot rests on the ground and sinks by the contact's
//!   static deflection. For a fixed base only the joints change.
//!
//! The default initial state of a rollout is `stand` (for a fixed base that only moves joints
//! whose zero lies outside their limits, such as panda's fourth joint, inside them).

use super::dynamics::{forward_kinematics, Data};
use super::error::{SimError, SimResult};
use super::model::Model;

/// The named poses.
pub const POSES: &[&str] = &["neutral", "stand"];

/// Height of the lowest collision point above the ground in the `stand` pose (m).
pub const REST_CLEARANCE: f64 = 0.0;

/// Fraction of a joint's range by which `stand` keeps a joint off a limit it had to move to.
pub const LIMIT_MARGIN: f64 = 0.02;

/// Largest accepted deviation of the base quaternion's norm from 1.
pub const QUATERNION_TOLERANCE: f64 = 1e-6;

/// Joint positions may exceed a limit by this much (rad or m) and still count as inside it.
pub const LIMIT_TOLERANCE: f64 = 1e-9;

/// The lowest point of the contact geometry (sphere bottoms, box corners) at `q`, if any.
pub fn lowest_point(model: &Model, q: &[f64]) -> Option<f64> {
    let mut d = Data::new(model);
    lowest_point_with(model, &mut d, q)
}

pub(crate) fn lowest_point_with(model: &Model, d: &mut Data, q: &[f64]) -> Option<f64> {
    forward_kinematics(model, d, q);
    model
        .contacts
        .iter()
        .map(|c| (d.pos[c.body] + d.rot[c.body].mul_vec(c.pos)).z - c.radius)
        .min_by(|a, b| a.total_cmp(b))
}

/// A named pose (see the module documentation).
pub fn pose(model: &Model, name: &str) -> SimResult<Vec<f64>> {
    let mut q = model.neutral();
    match name {
        "neutral" => {}
        "stand" => {
            for b in &model.bodies {
                if let (Some(lo), Some(hi)) = (b.lower, b.upper) {
                    let x = &mut q[b.q_idx];
                    let m = LIMIT_MARGIN * (hi - lo);
                    if *x < lo {
                        *x = lo + m;
                    } else if *x > hi {
                        *x = hi - m;
                    }
                }
            }
            if model.floating_base {
                if let Some(z) = lowest_point(model, &q) {
                    q[2] = REST_CLEARANCE - z;
                }
            }
        }
        other => {
            return Err(SimError::Field {
                field: "pose".into(),
                reason: format!("unknown pose '{other}' (known: {})", POSES.join(", ")),
            })
        }
    }
    Ok(q)
}

/// The default initial configuration: the `stand` pose.
pub fn default_configuration(model: &Model) -> Vec<f64> {
    pose(model, "stand").expect("built-in pose")
}

fn field(name: &str, reason: String) -> SimError {
    SimError::Field {
        field: name.to_string(),
        reason,
    }
}

/// Check an initial state against the model: lengths, finite values, a unit base quaternion,
/// and (with `limits`) joint positions inside their URDF limits. Errors name `q_field` or
/// `v_field` and the offending joint.
pub fn check_state(
    model: &Model,
    q: &[f64],
    v: &[f64],
    q_field: &str,
    v_field: &str,
    limits: bool,
) -> SimResult<()> {
    if q.len() != model.nq {
        return Err(field(
            q_field,
            format!("expected length {}, got {}", model.nq, q.len()),
        ));
    }
    if v.len() != model.nv {
        return Err(field(
            v_field,
            format!("expected length {}, got {}", model.nv, v.len()),
        ));
    }
    if let Some(i) = q.iter().position(|x| !x.is_finite()) {
        return Err(field(
            q_field,
            format!("value {i} is not finite ({})", q[i]),
        ));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(field(
            v_field,
            format!("value {i} is not finite ({})", v[i]),
        ));
    }
    if model.floating_base {
        let n = (q[3] * q[3] + q[4] * q[4] + q[5] * q[5] + q[6] * q[6]).sqrt();
        if (n - 1.0).abs() > QUATERNION_TOLERANCE {
            return Err(field(
                q_field,
                format!("the base quaternion q[3:7] must have unit norm, got norm {n}"),
            ));
        }
    }
    if limits {
        for b in &model.bodies {
            if let (Some(lo), Some(hi)) = (b.lower, b.upper) {
                let x = q[b.q_idx];
                if x < lo - LIMIT_TOLERANCE || x > hi + LIMIT_TOLERANCE {
                    return Err(field(
                        q_field,
                        format!(
                            "joint '{}' at {x} is outside its limits [{lo}, {hi}] (value {})",
                            b.joint, b.q_idx
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
