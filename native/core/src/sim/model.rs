//! Articulated-body models built from URDF.
//!
//! Bodies are the links that move with their own joint; links attached by `fixed` joints are
//! merged into the body they hang from (their inertia is added, their frames kept). Bodies are
//! numbered depth-first from the root, visiting each link's child joints in the order they
//! appear in the URDF document, so the joint order matches Pinocchio's URDF parser.
//!
//! Configuration layout: a revolute, continuous or prismatic joint has one coordinate (a
//! continuous joint is an unbounded angle, not Pinocchio's (cos, sin) pair). The optional
//! free-flyer base comes first with `q = [x, y, z, qx, qy, qz, qw]` (position in the world,
//! unit quaternion body-to-world) and `v = [v_lin, w]` in the base frame (Pinocchio LOCAL).

use std::collections::HashMap;

use super::error::{SimError, SimResult};
use super::math::{Mat3, Vec3};
use super::spatial::{Inertia6, Xform};
use super::urdf::{parse_urdf, Geometry, UrdfJointType, UrdfRobot};

/// The kind of joint connecting a body to its parent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JointKind {
    /// Rotation about a unit axis in the joint frame.
    Revolute { axis: Vec3 },
    /// Translation along a unit axis in the joint frame.
    Prismatic { axis: Vec3 },
    /// Six-dof free-flyer (the floating base only).
    Free,
}

/// One moving body and the joint that connects it to its parent.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub link: String,
    pub joint: String,
    pub kind: JointKind,
    /// `true` for a URDF `continuous` joint (no position limits).
    pub continuous: bool,
    pub parent: Option<usize>,
    /// Transform from the parent body frame to this joint's frame at q = 0.
    pub xtree: Xform,
    /// Spatial inertia in the body frame, including merged fixed children.
    pub inertia: Inertia6,
    pub q_idx: usize,
    pub v_idx: usize,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub effort: Option<f64>,
    pub velocity: Option<f64>,
    pub damping: f64,
    pub friction: f64,
    /// The joint's diagonal mass-matrix entry at the neutral configuration, which scales the
    /// position-limit spring (see `rollout`).
    pub limit_inertia: f64,
}

impl Body {
    pub fn nq(&self) -> usize {
        match self.kind {
            JointKind::Free => 7,
            _ => 1,
        }
    }
    pub fn nv(&self) -> usize {
        match self.kind {
            JointKind::Free => 6,
            _ => 1,
        }
    }
}

/// A named link frame rigidly attached to a body (`body == None`: the fixed world/base).
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub link: String,
    pub body: Option<usize>,
    /// Transform from the body frame to the link frame.
    pub placement: Xform,
}

/// A contact sphere (radius 0: a point) attached to a body, used against the ground plane.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactPoint {
    pub link: String,
    pub body: usize,
    /// Centre in body coordinates.
    pub pos: Vec3,
    pub radius: f64,
}

/// A rigid-body tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub bodies: Vec<Body>,
    pub nq: usize,
    pub nv: usize,
    pub floating_base: bool,
    /// Gravity in world coordinates (default `(0, 0, -9.81)`).
    pub gravity: Vec3,
    pub frames: Vec<Frame>,
    pub contacts: Vec<ContactPoint>,
    pub root_link: String,
}

/// Principal moments may break the triangle inequality by this fraction of their sum (the
/// rounding of inertias printed with few digits), not more.
pub const TRIANGLE_TOLERANCE: f64 = 1e-2;

/// Heaviest link mass accepted (kg): more is a unit error, not a robot.
pub const MAX_LINK_MASS: f64 = 1.0e6;

/// Check that a link's inertia is physically meaningful; names the link on failure.
fn check_inertia(link: &str, mass: f64, i: &Mat3) -> SimResult<()> {
    let bad = |reason: String| {
        Err(SimError::BadLink {
            link: link.to_string(),
            reason,
        })
    };
    if !mass.is_finite() {
        return bad(format!("mass {mass} is not finite"));
    }
    if mass < 0.0 {
        return bad(format!("negative mass {mass}"));
    }
    if mass > MAX_LINK_MASS {
        return bad(format!(
            "mass {mass} kg is absurd for a robot link (limit {MAX_LINK_MASS:e} kg; is the unit wrong?)"
        ));
    }
    if !i.is_finite() {
        return bad("inertia matrix has non-finite entries".into());
    }
    let m = &i.m;
    let minor1 = m[0][0];
    let minor2 = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let det = i.det();
    let zero = m.iter().all(|r| r.iter().all(|&x| x == 0.0));
    if mass > 0.0 {
        if !(minor1 > 0.0 && minor2 > 0.0 && det > 0.0) {
            return bad(format!(
                "inertia matrix is not positive definite (mass {mass}, ixx={}, ixy={}, ixz={}, iyy={}, iyz={}, izz={}, det={det:e})",
                m[0][0], m[0][1], m[0][2], m[1][1], m[1][2], m[2][2]
            ));
        }
    } else if !zero {
        // a massless link may carry rotational inertia, but it must be positive semi-definite
        let d = [m[0][0], m[1][1], m[2][2]];
        if d.iter().any(|&x| x < 0.0) || det < -1e-12 {
            return bad("inertia matrix of a massless link is not positive semi-definite".into());
        }
    }
    if mass > 0.0 || !zero {
        // principal moments of a rigid body satisfy I_a <= I_b + I_c (the mass lies in space)
        let [e0, e1, e2] = i.sym_eigenvalues();
        let tol = TRIANGLE_TOLERANCE * (e0.abs() + e1.abs() + e2.abs());
        if e0 >= 0.0 && e2 > e0 + e1 + tol {
            return bad(format!(
                "inertia violates the triangle inequality: principal moments {e0:e}, {e1:e}, {e2:e} \
                 (the largest must not exceed the sum of the other two)"
            ));
        }
    }
    Ok(())
}

/// Corners, in the link frame, of the uniform box with the inertial's mass and principal
/// moments (`I_x = m (b^2 + c^2) / 12`, ...), centred on the centre of mass along the
/// principal axes.
fn equivalent_box_corners(inl: &super::urdf::UrdfInertial) -> Vec<Vec3> {
    let (moments, axes) = inl.inertia.sym_eigen();
    let m = inl.mass;
    let [a, b, c] = moments;
    let half = |x: f64| 0.5 * (6.0 * x.max(0.0) / m).sqrt();
    let ext = [half(b + c - a), half(a + c - b), half(a + b - c)];
    let mut out = Vec::with_capacity(8);
    for sx in [-1.0, 1.0] {
        for sy in [-1.0, 1.0] {
            for sz in [-1.0, 1.0] {
                let local = axes.mul_vec(Vec3::new(sx * ext[0], sy * ext[1], sz * ext[2]));
                out.push(inl.origin.xyz + inl.origin.rot.mul_vec(local));
            }
        }
    }
    out
}

impl Model {
    /// Load a model from a URDF file.
    pub fn from_urdf_file(path: &str, floating_base: bool) -> SimResult<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.to_string(),
            msg: e.to_string(),
        })?;
        Model::from_urdf_str(&text, floating_base)
    }

    /// Build a model from URDF text.
    pub fn from_urdf_str(xml: &str, floating_base: bool) -> SimResult<Model> {
        Model::from_urdf_robot(&parse_urdf(xml)?, floating_base)
    }

    /// Build the tree: validate names, parents, cycles and inertias, merge fixed joints.
    pub fn from_urdf_robot(robot: &UrdfRobot, floating_base: bool) -> SimResult<Model> {
        let mut link_idx: HashMap<&str, usize> = HashMap::new();
        for (i, l) in robot.links.iter().enumerate() {
            if link_idx.insert(l.name.as_str(), i).is_some() {
                return Err(SimError::BadLink {
                    link: l.name.clone(),
                    reason: "defined more than once".into(),
                });
            }
            if let Some(inl) = &l.inertial {
                check_inertia(&l.name, inl.mass, &inl.inertia)?;
            }
        }
        let mut seen_joint: HashMap<&str, ()> = HashMap::new();
        let mut parent_joint: Vec<Option<usize>> = vec![None; robot.links.len()];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); robot.links.len()];
        for (ji, j) in robot.joints.iter().enumerate() {
            if seen_joint.insert(j.name.as_str(), ()).is_some() {
                return Err(SimError::BadJoint {
                    joint: j.name.clone(),
                    reason: "defined more than once".into(),
                });
            }
            let p = *link_idx
                .get(j.parent.as_str())
                .ok_or_else(|| SimError::MissingLink {
                    joint: j.name.clone(),
                    role: "parent",
                    link: j.parent.clone(),
                })?;
            let c = *link_idx
                .get(j.child.as_str())
                .ok_or_else(|| SimError::MissingLink {
                    joint: j.name.clone(),
                    role: "child",
                    link: j.child.clone(),
                })?;
            if p == c {
                return Err(SimError::Cycle {
                    joint: j.name.clone(),
                    link: j.child.clone(),
                });
            }
            if let Some(prev) = parent_joint[c] {
                return Err(SimError::BadLink {
                    link: j.child.clone(),
                    reason: format!(
                        "has two parent joints '{}' and '{}' (a kinematic loop; only trees are supported)",
                        robot.joints[prev].name, j.name
                    ),
                });
            }
            parent_joint[c] = Some(ji);
            children[p].push(ji);
            if j.kind != UrdfJointType::Fixed && j.axis.norm() < 1e-12 {
                return Err(SimError::BadJoint {
                    joint: j.name.clone(),
                    reason: "axis is the zero vector".into(),
                });
            }
        }
        let roots: Vec<usize> = (0..robot.links.len())
            .filter(|&i| parent_joint[i].is_none())
            .collect();
        if roots.is_empty() {
            // every link has a parent: the joints form a cycle; report the first joint of it
            let j = &robot.joints[parent_joint[0].unwrap_or(0)];
            return Err(SimError::Cycle {
                joint: j.name.clone(),
                link: j.child.clone(),
            });
        }
        // walk from the first root; anything unreached is either another root or on a cycle
        let root = roots[0];
        let mut reached = vec![false; robot.links.len()];
        let mut stack = vec![root];
        while let Some(l) = stack.pop() {
            reached[l] = true;
            for &ji in &children[l] {
                stack.push(link_idx[robot.joints[ji].child.as_str()]);
            }
        }
        if let Some(un) = (0..robot.links.len()).find(|&i| !reached[i]) {
            if let Some(ji) = parent_joint[un] {
                // follow parents until a link repeats: that link is on the cycle
                let mut cur = un;
                let mut visited = vec![false; robot.links.len()];
                while !visited[cur] {
                    visited[cur] = true;
                    let pj = parent_joint[cur].unwrap_or(ji);
                    cur = link_idx[robot.joints[pj].parent.as_str()];
                }
                let j = &robot.joints[parent_joint[cur].unwrap_or(ji)];
                return Err(SimError::Cycle {
                    joint: j.name.clone(),
                    link: j.child.clone(),
                });
            }
            return Err(SimError::BadLink {
                link: robot.links[un].name.clone(),
                reason: format!(
                    "is not connected to the root link '{}' (the URDF has several root links)",
                    robot.links[root].name
                ),
            });
        }

        let mut model = Model {
            name: robot.name.clone(),
            bodies: Vec::new(),
            nq: 0,
            nv: 0,
            floating_base,
            gravity: Vec3::new(0.0, 0.0, -9.81),
            frames: Vec::new(),
            contacts: Vec::new(),
            root_link: robot.links[root].name.clone(),
        };
        let link_inertia = |li: usize| -> Option<Inertia6> {
            robot.links[li].inertial.as_ref().map(|inl| {
                let i_com = inl.origin.rot.mul(&inl.inertia).mul_tr(&inl.origin.rot);
                Inertia6::rigid(inl.mass, inl.origin.xyz, &i_com)
            })
        };
        let root_body = if floating_base {
            model.bodies.push(Body {
                link: robot.links[root].name.clone(),
                joint: "root_joint".into(),
                kind: JointKind::Free,
                continuous: false,
                parent: None,
                xtree: Xform::IDENTITY,
                // the root link's own inertia is added below with every other link
                inertia: Inertia6::ZERO,
                q_idx: 0,
                v_idx: 0,
                lower: None,
                upper: None,
                effort: None,
                velocity: None,
                damping: 0.0,
                friction: 0.0,
                limit_inertia: 0.0,
            });
            model.nq = 7;
            model.nv = 6;
            Some(0)
        } else {
            None
        };
        // (link index, body it belongs to, transform body -> link frame)
        let mut link_attach: Vec<(usize, Option<usize>, Xform)> = Vec::new();
        let mut stack: Vec<(usize, Option<usize>, Xform)> =
            vec![(root, root_body, Xform::IDENTITY)];
        while let Some((li, body, place)) = stack.pop() {
            link_attach.push((li, body, place));
            model.frames.push(Frame {
                link: robot.links[li].name.clone(),
                body,
                placement: place,
            });
            // push children in reverse so the first child in document order is visited first
            let mut next = Vec::with_capacity(children[li].len());
            for &ji in &children[li] {
                let j = &robot.joints[ji];
                let ci = link_idx[j.child.as_str()];
                let origin = Xform::from_pose(j.origin.rot, j.origin.xyz);
                let to_joint = origin.compose(&place);
                if j.kind == UrdfJointType::Fixed {
                    next.push((ci, body, to_joint));
                    continue;
                }
                let axis = j.axis.scale(1.0 / j.axis.norm());
                let kind = match j.kind {
                    UrdfJointType::Prismatic => JointKind::Prismatic { axis },
                    _ => JointKind::Revolute { axis },
                };
                let continuous = j.kind == UrdfJointType::Continuous;
                let (lower, upper) = match (continuous, j.lower, j.upper) {
                    // lower >= upper (e.g. "0 0") is read as "no position limit"
                    (false, Some(lo), Some(hi)) if lo < hi => (Some(lo), Some(hi)),
                    _ => (None, None),
                };
                let bi = model.bodies.len();
                model.bodies.push(Body {
                    link: j.child.clone(),
                    joint: j.name.clone(),
                    kind,
                    continuous,
                    parent: body,
                    xtree: to_joint,
                    inertia: Inertia6::ZERO,
                    q_idx: 0,
                    v_idx: 0,
                    lower,
                    upper,
                    effort: j.effort.filter(|&e| e > 0.0),
                    velocity: j.velocity.filter(|&e| e > 0.0),
                    damping: j.damping,
                    friction: j.friction,
                    limit_inertia: 0.0,
                });
                next.push((ci, Some(bi), Xform::IDENTITY));
            }
            // bodies were numbered in document order above, but a depth-first numbering is
            // needed: renumbering happens below, so here only the visit order matters
            for n in next.into_iter().rev() {
                stack.push(n);
            }
        }
        // Renumber bodies depth-first (the loop above creates a body when its parent link is
        // expanded, which is breadth-wise within one link). Visit order of links is depth-first.
        let mut order: Vec<usize> = Vec::new();
        if let Some(r) = root_body {
            order.push(r);
        }
        for (li, body, _) in &link_attach {
            if let Some(b) = body {
                if model.bodies[*b].link == robot.links[*li].name && !order.contains(b) {
                    order.push(*b);
                }
            }
        }
        let mut new_of_old = vec![usize::MAX; model.bodies.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of_old[old] = new;
        }
        let mut bodies: Vec<Body> = order.iter().map(|&o| model.bodies[o].clone()).collect();
        for b in bodies.iter_mut() {
            b.parent = b.parent.map(|p| new_of_old[p]);
        }
        let (mut nq, mut nv) = (0, 0);
        for b in bodies.iter_mut() {
            b.q_idx = nq;
            b.v_idx = nv;
            nq += b.nq();
            nv += b.nv();
        }
        model.nq = nq;
        model.nv = nv;
        for f in model.frames.iter_mut() {
            f.body = f.body.map(|b| new_of_old[b]);
        }
        for (li, body, place) in link_attach.iter_mut() {
            *body = body.map(|b| new_of_old[b]);
            let Some(b) = *body else { continue };
            if let Some(inertia) = link_inertia(*li) {
                // the link's inertia is in the link frame; express it in the body frame
                let mut acc = bodies[b].inertia;
                acc.add_assign(&inertia.to_parent(place));
                bodies[b].inertia = acc;
            }
            let link = &robot.links[*li];
            let mut push = |pos: Vec3, radius: f64| {
                model.contacts.push(ContactPoint {
                    link: link.name.clone(),
                    body: b,
                    pos,
                    radius,
                });
            };
            for c in &link.collisions {
                let shape = Xform::from_pose(c.origin.rot, c.origin.xyz).compose(place);
                // a point given in the shape frame, expressed in the body frame
                let to_body = |p: Vec3| shape.e.tr_mul_vec(p) + shape.r;
                match c.geometry {
                    Geometry::Sphere { radius } => push(to_body(Vec3::ZERO), radius),
                    // wheels: a sphere of the cylinder radius rolls like the wheel on a plane
                    Geometry::Cylinder { radius, .. } => push(to_body(Vec3::ZERO), radius),
                    Geometry::Box { size } => {
                        for sx in [-0.5, 0.5] {
                            for sy in [-0.5, 0.5] {
                                for sz in [-0.5, 0.5] {
                                    push(
                                        to_body(Vec3::new(sx * size.x, sy * size.y, sz * size.z)),
                                        0.0,
                                    );
                                }
                            }
                        }
                    }
                    Geometry::Mesh => {}
                }
            }
        }
        model.bodies = bodies;
        if model.contacts.is_empty() {
            // no collision geometry at all (inertia-only URDFs): every moving link's frame origin
            // (joints, feet, hands, the base) becomes a contact point, and every leaf link (feet,
            // hands, head) also gets the corners of its equivalent-inertia box, so that a foot
            // has a sole to stand on
            for (li, body, place) in &link_attach {
                if let Some(b) = body {
                    let link = &robot.links[*li];
                    model.contacts.push(ContactPoint {
                        link: link.name.clone(),
                        body: *b,
                        pos: place.e.tr_mul_vec(Vec3::ZERO) + place.r,
                        radius: 0.0,
                    });
                    if !children[*li].is_empty() {
                        continue;
                    }
                    let Some(inl) = link.inertial.as_ref().filter(|i| i.mass > 0.0) else {
                        continue;
                    };
                    for p in equivalent_box_corners(inl) {
                        model.contacts.push(ContactPoint {
                            link: link.name.clone(),
                            body: *b,
                            pos: place.e.tr_mul_vec(p) + place.r,
                            radius: 0.0,
                        });
                    }
                }
            }
        }
        model.check_mass_matrix()?;
        Ok(model)
    }

    /// Fail with the name of the first joint whose motion carries no inertia (a singular
    /// mass matrix), checked at the zero configuration.
    fn check_mass_matrix(&mut self) -> SimResult<()> {
        if self.nv == 0 {
            return Ok(());
        }
        let q = self.neutral();
        let mut data = super::dynamics::Data::new(self);
        let mut m = vec![0.0; self.nv * self.nv];
        super::dynamics::crba(self, &mut data, &q, &mut m);
        let nv = self.nv;
        for b in self.bodies.iter_mut() {
            b.limit_inertia = m[b.v_idx * nv + b.v_idx];
        }
        let max_diag = (0..self.nv)
            .map(|i| m[i * self.nv + i])
            .fold(0.0f64, f64::max);
        if let Err(k) = super::dynamics::cholesky_in_place(&mut m, self.nv, 1e-10 * max_diag) {
            let body = self
                .bodies
                .iter()
                .find(|b| k >= b.v_idx && k < b.v_idx + b.nv())
                .expect("dof index");
            let massless_base = self.floating_base && self.bodies[0].inertia.mass() <= 0.0;
            let reason = if massless_base && body.parent == Some(0) {
                format!(
                    "the mass matrix is singular along this joint: the floating base link '{}' has no mass, so this \
                     joint's motion cannot be told apart from the base's (give the root link an inertial, or load \
                     the model with a fixed base)",
                    self.bodies[0].link
                )
            } else {
                format!(
                    "the mass matrix is singular along this joint: the subtree of link '{}' has no mass or inertia about its axis",
                    body.link
                )
            };
            return Err(SimError::BadJoint {
                joint: body.joint.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// The neutral configuration: zeros, identity base orientation.
    pub fn neutral(&self) -> Vec<f64> {
        let mut q = vec![0.0; self.nq];
        if self.floating_base {
            q[6] = 1.0;
        }
        q
    }

    /// Joint names in configuration order (the free-flyer is `root_joint`).
    pub fn joint_names(&self) -> Vec<String> {
        self.bodies.iter().map(|b| b.joint.clone()).collect()
    }

    /// Number of actuated velocity coordinates (all but the free-flyer).
    pub fn n_actuated(&self) -> usize {
        if self.floating_base {
            self.nv - 6
        } else {
            self.nv
        }
    }

    /// Offset of the actuated coordinates in q and in v.
    pub fn actuated_offsets(&self) -> (usize, usize) {
        if self.floating_base {
            (7, 6)
        } else {
            (0, 0)
        }
    }

    pub fn total_mass(&self) -> f64 {
        self.bodies.iter().map(|b| b.inertia.mass()).sum()
    }
}
