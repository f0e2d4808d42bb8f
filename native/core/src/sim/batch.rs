//! Batched dynamics: ABA or RNEA on many states at once, parallel under a thread budget
//! (see [`crate::parallel`]). Row `i` of the output depends only on row `i` of the inputs, so
//! the results do not depend on the budget.

use super::dynamics::{aba, rnea, Data};
use super::error::{SimError, SimResult};
use super::model::Model;
use crate::parallel;

/// States per task: small enough to balance, large enough to amortise the scratch `Data`.
const CHUNK: usize = 64;

/// Which algorithm a batch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// Forward dynamics: the third input is `tau`, the output `ddq`.
    Aba,
    /// Inverse dynamics: the third input is `a`, the output `tau`.
    Rnea,
}

/// Run `kind` on `n` states given as row-major `(n, nq)`, `(n, nv)`, `(n, nv)` arrays into
/// `out` `(n, nv)`, on `threads` threads (0 = all cores).
pub fn dynamics_batch(
    model: &Model,
    kind: BatchKind,
    q: &[f64],
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> SimResult<()> {
    let (nq, nv) = (model.nq, model.nv);
    let n = q.len().checked_div(nq).unwrap_or(0);
    let third = match kind {
        BatchKind::Aba => "tau",
        BatchKind::Rnea => "a",
    };
    for (what, got, expected) in [
        ("q (rows x nq)", q.len(), n * nq),
        ("v (rows x nv)", v.len(), n * nv),
        (third, x.len(), n * nv),
        ("output (rows x nv)", out.len(), n * nv),
    ] {
        if got != expected {
            return Err(SimError::Shape {
                what: format!("batch {what}"),
                expected,
                got,
            });
        }
    }
    if n == 0 || nv == 0 {
        return Ok(());
    }
    parallel::par_chunks_mut(
        threads,
        out,
        CHUNK * nv,
        || Data::new(model),
        |d, c, o| {
            for (k, row) in o.chunks_mut(nv).enumerate() {
                let i = c * CHUNK + k;
                let (qi, vi, xi) = (
                    &q[i * nq..(i + 1) * nq],
                    &v[i * nv..(i + 1) * nv],
                    &x[i * nv..(i + 1) * nv],
                );
                match kind {
                    BatchKind::Aba => aba(model, d, qi, vi, xi, None, row),
                    BatchKind::Rnea => rnea(model, d, qi, vi, xi, None, row),
                }
            }
        },
    )
    .map_err(|e| SimError::Invalid(e.to_string()))
}

/// Forward dynamics on every row (see [`dynamics_batch`]).
pub fn aba_batch(
    model: &Model,
    q: &[f64],
    v: &[f64],
    tau: &[f64],
    out: &mut [f64],
    threads: usize,
) -> SimResult<()> {
    dynamics_batch(model, BatchKind::Aba, q, v, tau, out, threads)
}

/// Inverse dynamics on every row (see [`dynamics_batch`]).
pub fn rnea_batch(
    model: &Model,
    q: &[f64],
    v: &[f64],
    a: &[f64],
    out: &mut [f64],
    threads: usize,
) -> SimResult<()> {
    dynamics_batch(model, BatchKind::Rnea, q, v, a, out, threads)
}
