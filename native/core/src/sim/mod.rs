//! Rigid-body simulation: URDF models, spatial-algebra dynamics (RNEA, CRBA, ABA), ground
//! contact, reality profiles and batched, deterministic, cancellable rollouts.

pub mod batch;
pub mod contact;
pub mod dynamics;
pub mod error;
pub mod math;
pub mod model;
pub mod profile;
pub mod rollout;
pub mod spatial;
pub mod urdf;

pub use dynamics::Data;
pub use error::{SimError, SimResult};
pub use model::Model;
pub use profile::Profile;
pub use rollout::{rollout, Controller, Integrator, Reference, RolloutConfig, RolloutControl};

#[cfg(test)]
mod tests;
