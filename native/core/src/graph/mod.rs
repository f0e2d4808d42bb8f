//! Road graphs and multi-objective route search.
//!
//! * [`Graph`]: a compact CSR graph with `k = 2..=4` non-negative costs per arc, optional node
//!   coordinates, optional time-of-day travel-time profiles and travel-time variances. Arc ids are
//!   the positions of the arcs in the arrays the graph was built from.
//! * [`Graph::save`] / [`Graph::load`]: one file, memory-mapped on load.
//! * [`pareto()`]: exact (BOA* for two objectives, an LTMOA*-style lexicographic search with
//!   per-node frontiers for three and four) and epsilon-approximate (A*pex) Pareto search, with
//!   objective bounds and budgets; [`ParetoStream`] iterates over the solutions as they are found.
//!   One algorithm per module: `boa`, `ltmoa`, `apex`, with `heuristics`, `front` (truncated
//!   frontiers) and `search` (shared machinery); `pareto` holds the options, results and entry
//!   points.
//! * [`route`]: single-objective shortest path on a weighted sum of the objectives.

// CSR loops index several parallel arrays by arc position; iterator chains would obscure that.
#![allow(clippy::needless_range_loop)]

mod apex;
mod boa;
mod buf;
mod ch;
mod csr;
mod dijkstra;
mod file;
mod front;
mod heuristics;
mod landmarks;
mod ltmoa;
mod pareto;
mod route;
mod search;
mod stream;
mod turns;

#[cfg(test)]
mod tests;

pub use buf::Buf;
pub use csr::{Graph, GraphBuilder, TimeProfile, SECONDS_PER_DAY};
pub use dijkstra::backward_dijkstra;
pub use landmarks::Landmarks;
pub use pareto::{
    pareto, pareto_many, release_after_large_result, ControlFlow, Method, ParetoResult,
    SearchOptions, Solution, Status,
};
pub use route::{route, RouteOptions, RouteResult};
pub use stream::ParetoStream;
pub use turns::{all_turns, expand_turns, TurnGraph, Turns};

/// Errors raised by graph construction, file I/O and search.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Invalid user input (array shapes, ids, costs, options).
    #[error("{0}")]
    Invalid(String),
    /// A graph file that is truncated, corrupt or of another format/version.
    #[error("invalid graph file {path}: {reason}")]
    BadFile { path: String, reason: String },
    /// Operating system I/O error.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl GraphError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        GraphError::Invalid(msg.into())
    }
}

pub type Result<T> = std::result::Result<T, GraphError>;
