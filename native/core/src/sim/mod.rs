//! Rigid-body simulation: URDF models, spatial-algebra dynamics (RNEA, CRBA, ABA), ground
//! contact, reality profiles and batched, deterministic, cancellable rollouts.

pub mod batch;
pub mod contact;
pub mod dynamics;
pub mod error;
pub mod math;
pub mod model;
pub mod pose;
pub mod profile;
pub mod rollout;
pub mod spatial;
pub mod stance;
pub mod urdf;

pub use dynamics::Data;
pub use error::{SimError, SimResult};
pub use model::Model;
pub use profile::Profile;
pub use rollout::{
    rollout, rollout_recorded, Controller, Divergence, Integrator, Recording, Reference,
    RolloutConfig, RolloutControl, MAX_RECORDED_BYTES,
};

#[cfg(test)]
mod tests;
