//! Errors of the simulation core. Every model error names the offending link or joint.

/// An error from model loading, dynamics calls or rollouts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("malformed URDF XML: {0}")]
    Xml(String),
    #[error("could not read '{path}': {msg}")]
    Io { path: String, msg: String },
    #[error("invalid URDF: {0}")]
    Urdf(String),
    #[error("joint '{joint}' has unknown type '{kind}' (supported: revolute, continuous, prismatic, fixed)")]
    UnknownJointType { joint: String, kind: String },
    #[error("joint '{joint}' refers to {role} link '{link}', which is not defined in the URDF")]
    MissingLink {
        joint: String,
        role: &'static str,
        link: String,
    },
    #[error("kinematic cycle: joint '{joint}' closes a loop through link '{link}'")]
    Cycle { joint: String, link: String },
    #[error("link '{link}': {reason}")]
    BadLink { link: String, reason: String },
    #[error("joint '{joint}': {reason}")]
    BadJoint { joint: String, reason: String },
    #[error("{what}: expected length {expected}, got {got}")]
    Shape {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("unknown reality profile '{name}' (known: {known})")]
    UnknownProfile { name: String, known: String },
    /// A state or option given by the caller does not fit the model; `field` names it
    /// (`initial_q`, `initial_v`, `pose`, ...).
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("invalid argument: {0}")]
    Invalid(String),
}

pub type SimResult<T> = Result<T, SimError>;
