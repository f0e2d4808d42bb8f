//! ridgeline-core: the compiled heart of Ridgeline.
//!
//! Pure Rust with no Python dependency: `graph` (CSR road graph and Pareto
//! search), `terrain` (DEM grids and sampling) and `sim` (rigid-body dynamics)
//! live here with their own `cargo test`. `parallel` is the one thread-budget policy every
//! parallel loop uses. The PyO3 bindings in `native/py` only
//! convert arguments and call into this crate.

pub mod build;
pub mod graph;
pub mod parallel;
pub mod sim;
pub mod terrain;
