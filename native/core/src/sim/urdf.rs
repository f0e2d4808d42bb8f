//! URDF parsing (XML via `roxmltree`) into a plain description, before any tree building.

use super::error::{SimError, SimResult};
use super::math::{Mat3, Vec3};

/// A pose `x_parent = rot * x_child + xyz` from a URDF `<origin>`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub rot: Mat3,
    pub xyz: Vec3,
}

impl Default for Pose {
    fn default() -> Self {
        Pose {
            rot: Mat3::IDENTITY,
            xyz: Vec3::ZERO,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrdfInertial {
    pub origin: Pose,
    pub mass: f64,
    /// Rotational inertia about the centre of mass, in the inertial frame.
    pub inertia: Mat3,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    Sphere {
        radius: f64,
    },
    Cylinder {
        radius: f64,
        length: f64,
    },
    Box {
        size: Vec3,
    },
    /// Mesh collision shapes are not used for contact.
    Mesh,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrdfCollision {
    pub origin: Pose,
    pub geometry: Geometry,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrdfLink {
    pub name: String,
    pub inertial: Option<UrdfInertial>,
    pub collisions: Vec<UrdfCollision>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrdfJointType {
    Revolute,
    Continuous,
    Prismatic,
    Fixed,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrdfJoint {
    pub name: String,
    pub kind: UrdfJointType,
    pub parent: String,
    pub child: String,
    pub origin: Pose,
    pub axis: Vec3,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub effort: Option<f64>,
    pub velocity: Option<f64>,
    pub damping: f64,
    pub friction: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrdfRobot {
    pub name: String,
    pub links: Vec<UrdfLink>,
    pub joints: Vec<UrdfJoint>,
}

fn parse_f64(s: &str, ctx: &dyn Fn() -> String) -> SimResult<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| SimError::Urdf(format!("{}: '{}' is not a number", ctx(), s)))?;
    if !v.is_finite() {
        return Err(SimError::Urdf(format!(
            "{}: value '{}' is not finite",
            ctx(),
            s
        )));
    }
    Ok(v)
}

fn parse_vec3(s: &str, ctx: &dyn Fn() -> String) -> SimResult<Vec3> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 3 {
        return Err(SimError::Urdf(format!(
            "{}: expected 3 numbers, got '{}'",
            ctx(),
            s
        )));
    }
    Ok(Vec3::new(
        parse_f64(parts[0], ctx)?,
        parse_f64(parts[1], ctx)?,
        parse_f64(parts[2], ctx)?,
    ))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.has_tag_name(tag))
}

fn attr_f64(
    node: roxmltree::Node,
    name: &str,
    default: Option<f64>,
    ctx: &dyn Fn() -> String,
) -> SimResult<f64> {
    match node.attribute(name) {
        Some(s) => parse_f64(s, &|| format!("{} attribute '{}'", ctx(), name)),
        None => default
            .ok_or_else(|| SimError::Urdf(format!("{}: missing attribute '{}'", ctx(), name))),
    }
}

fn parse_origin(node: roxmltree::Node, ctx: &dyn Fn() -> String) -> SimResult<Pose> {
    let Some(o) = child(node, "origin") else {
        return Ok(Pose::default());
    };
    let xyz = match o.attribute("xyz") {
        Some(s) => parse_vec3(s, &|| format!("{} <origin xyz>", ctx()))?,
        None => Vec3::ZERO,
    };
    let rpy = match o.attribute("rpy") {
        Some(s) => parse_vec3(s, &|| format!("{} <origin rpy>", ctx()))?,
        None => Vec3::ZERO,
    };
    Ok(Pose {
        rot: Mat3::from_rpy(rpy.x, rpy.y, rpy.z),
        xyz,
    })
}

fn parse_link(node: roxmltree::Node) -> SimResult<UrdfLink> {
    let name = node
        .attribute("name")
        .ok_or_else(|| SimError::Urdf("a <link> has no name attribute".into()))?
        .to_string();
    let ctx = || format!("link '{}'", name);
    let inertial = match child(node, "inertial") {
        None => None,
        Some(inode) => {
            let origin = parse_origin(inode, &|| format!("{} <inertial>", ctx()))?;
            let mass = match child(inode, "mass") {
                Some(m) => attr_f64(m, "value", None, &|| format!("{} <mass>", ctx()))?,
                None => {
                    return Err(SimError::BadLink {
                        link: name.clone(),
                        reason: "<inertial> has no <mass>".into(),
                    })
                }
            };
            let inertia = match child(inode, "inertia") {
                Some(i) => {
                    let c = || format!("{} <inertia>", ctx());
                    Mat3::sym(
                        attr_f64(i, "ixx", Some(0.0), &c)?,
                        attr_f64(i, "ixy", Some(0.0), &c)?,
                        attr_f64(i, "ixz", Some(0.0), &c)?,
                        attr_f64(i, "iyy", Some(0.0), &c)?,
                        attr_f64(i, "iyz", Some(0.0), &c)?,
                        attr_f64(i, "izz", Some(0.0), &c)?,
                    )
                }
                None => Mat3::ZERO,
            };
            Some(UrdfInertial {
                origin,
                mass,
                inertia,
            })
        }
    };
    let mut collisions = Vec::new();
    for c in node
        .children()
        .filter(|c| c.is_element() && c.has_tag_name("collision"))
    {
        let origin = parse_origin(c, &|| format!("{} <collision>", ctx()))?;
        let Some(g) = child(c, "geometry") else {
            continue;
        };
        let Some(shape) = g.children().find(|n| n.is_element()) else {
            continue;
        };
        let gc = || format!("{} <collision> <{}>", ctx(), shape.tag_name().name());
        let geometry = match shape.tag_name().name() {
            "sphere" => Geometry::Sphere {
                radius: attr_f64(shape, "radius", None, &gc)?,
            },
            "cylinder" => Geometry::Cylinder {
                radius: attr_f64(shape, "radius", None, &gc)?,
                length: attr_f64(shape, "length", None, &gc)?,
            },
            "box" => Geometry::Box {
                size: parse_vec3(
                    shape.attribute("size").ok_or_else(|| {
                        SimError::Urdf(format!("{}: missing attribute 'size'", gc()))
                    })?,
                    &gc,
                )?,
            },
            _ => Geometry::Mesh,
        };
        collisions.push(UrdfCollision { origin, geometry });
    }
    Ok(UrdfLink {
        name,
        inertial,
        collisions,
    })
}

fn parse_joint(node: roxmltree::Node) -> SimResult<UrdfJoint> {
    let name = node
        .attribute("name")
        .ok_or_else(|| SimError::Urdf("a <joint> has no name attribute".into()))?
        .to_string();
    let ctx = || format!("joint '{}'", name);
    let type_str = node.attribute("type").ok_or_else(|| SimError::BadJoint {
        joint: name.clone(),
        reason: "missing attribute 'type'".into(),
    })?;
    let kind = match type_str {
        "revolute" => UrdfJointType::Revolute,
        "continuous" => UrdfJointType::Continuous,
        "prismatic" => UrdfJointType::Prismatic,
        "fixed" => UrdfJointType::Fixed,
        other => {
            return Err(SimError::UnknownJointType {
                joint: name.clone(),
                kind: other.to_string(),
            })
        }
    };
    let link_of = |tag: &str| -> SimResult<String> {
        child(node, tag)
            .and_then(|n| n.attribute("link"))
            .map(str::to_string)
            .ok_or_else(|| SimError::BadJoint {
                joint: name.clone(),
                reason: format!("missing <{tag} link=...>"),
            })
    };
    let parent = link_of("parent")?;
    let child_link = link_of("child")?;
    let origin = parse_origin(node, &ctx)?;
    let axis = match child(node, "axis").and_then(|a| a.attribute("xyz")) {
        Some(s) => parse_vec3(s, &|| format!("{} <axis>", ctx()))?,
        None => Vec3::new(1.0, 0.0, 0.0),
    };
    let (mut lower, mut upper, mut effort, mut velocity) = (None, None, None, None);
    if let Some(l) = child(node, "limit") {
        let c = || format!("{} <limit>", ctx());
        if l.attribute("lower").is_some() || l.attribute("upper").is_some() {
            lower = Some(attr_f64(l, "lower", Some(0.0), &c)?);
            upper = Some(attr_f64(l, "upper", Some(0.0), &c)?);
        }
        if l.attribute("effort").is_some() {
            effort = Some(attr_f64(l, "effort", None, &c)?);
        }
        if l.attribute("velocity").is_some() {
            velocity = Some(attr_f64(l, "velocity", None, &c)?);
        }
    }
    let (mut damping, mut friction) = (0.0, 0.0);
    if let Some(d) = child(node, "dynamics") {
        let c = || format!("{} <dynamics>", ctx());
        damping = attr_f64(d, "damping", Some(0.0), &c)?;
        friction = attr_f64(d, "friction", Some(0.0), &c)?;
        // negative damping or friction would inject energy: refuse rather than clamp
        for (what, x) in [("damping", damping), ("friction", friction)] {
            if x < 0.0 {
                return Err(SimError::BadJoint {
                    joint: name.clone(),
                    reason: format!("<dynamics {what}=\"{x}\"> is negative"),
                });
            }
        }
    }
    Ok(UrdfJoint {
        name,
        kind,
        parent,
        child: child_link,
        origin,
        axis,
        lower,
        upper,
        effort,
        velocity,
        damping,
        friction,
    })
}

/// Parse URDF text. Only structure and values are checked here; the tree is checked by
/// [`super::model::Model::from_urdf_robot`].
pub fn parse_urdf(xml: &str) -> SimResult<UrdfRobot> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| SimError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !root.has_tag_name("robot") {
        return Err(SimError::Urdf(format!(
            "the root element is <{}>, expected <robot>",
            root.tag_name().name()
        )));
    }
    let name = root.attribute("name").unwrap_or("robot").to_string();
    let mut links = Vec::new();
    let mut joints = Vec::new();
    for n in root.children().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "link" => links.push(parse_link(n)?),
            "joint" => joints.push(parse_joint(n)?),
            _ => {}
        }
    }
    if links.is_empty() {
        return Err(SimError::Urdf("the robot has no <link>".into()));
    }
    Ok(UrdfRobot {
        name,
        links,
        joints,
    })
}
