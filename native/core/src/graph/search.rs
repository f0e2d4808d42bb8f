//! Machinery shared by the label-setting searches ([`super::boa`], [`super::ltmoa`],
//! [`super::apex`]): cost models, labels, the lexicographic open list, per-query inputs and
//! budgets.

use std::cmp::Ordering;
use std::time::Instant;

use super::csr::TimeProfile;
use super::heuristics::Heuristic;
use super::pareto::ControlFlow;
use super::Graph;

// ---------------------------------------------------------------------------------------------
// Cost models

/// How arc costs are computed for the `K` internal objectives.
pub(crate) trait CostModel<const K: usize>: Sync {
    /// Cost vector after extending `g` by the arc at forward position `pos`.
    fn extend(&self, pos: usize, g: &[f64; K]) -> [f64; K];
    /// An admissible, consistent lower bound of internal objective `i` on the arc.
    fn lower_bound(&self, pos: usize, i: usize) -> f64;
    /// The same lower bounds laid out per objective in reverse-CSR order
    /// ([`Graph::reverse_lower_bounds`]), when the model's bounds are the static costs.
    fn reverse_bounds<'g>(&self, _g: &'g Graph) -> Option<&'g [f32]> {
        None
    }
}

/// Static costs, `K == k`.
pub(crate) struct StaticCosts<'a> {
    pub costs: &'a [f64],
}

impl<const K: usize> CostModel<K> for StaticCosts<'_> {
    #[inline(always)]
    fn extend(&self, pos: usize, g: &[f64; K]) -> [f64; K] {
        let c: &[f64; K] = self.costs[pos * K..pos * K + K].try_into().unwrap();
        let mut n = *g;
        for i in 0..K {
            n[i] += c[i];
        }
        n
    }
    #[inline(always)]
    fn lower_bound(&self, pos: usize, i: usize) -> f64 {
        self.costs[pos * K + i]
    }
    fn reverse_bounds<'g>(&self, g: &'g Graph) -> Option<&'g [f32]> {
        Some(g.reverse_lower_bounds())
    }
}

/// Time-dependent and/or risk-penalised costs.
pub(crate) struct GeneralCosts<'a> {
    pub k: usize,
    pub costs: &'a [f64],
    pub ti: usize,
    pub profile: Option<(&'a TimeProfile, f64)>,
    /// Variances and lambda, when `lambda > 0`.
    pub risk: Option<(&'a [f64], f64)>,
    /// The variance sum is internal objective `k` (time-dependent with risk).
    pub hidden: bool,
}

impl<const K: usize> CostModel<K> for GeneralCosts<'_> {
    #[inline]
    fn extend(&self, pos: usize, g: &[f64; K]) -> [f64; K] {
        let k = self.k;
        let c = &self.costs[pos * k..pos * k + k];
        let mut n = *g;
        for i in 0..k {
            n[i] += c[i];
        }
        if let Some((p, dep)) = self.profile {
            n[self.ti] = g[self.ti] + p.travel_time(pos, dep + g[self.ti]);
        }
        if let Some((var, lambda)) = self.risk {
            if self.hidden {
                n[k] += var[pos];
            } else {
                n[self.ti] = g[self.ti] + (c[self.ti] + lambda * var[pos]);
            }
        }
        n
    }
    #[inline]
    fn lower_bound(&self, pos: usize, i: usize) -> f64 {
        let k = self.k;
        if i == k {
            return self.risk.map_or(0.0, |(v, _)| v[pos]);
        }
        if i == self.ti {
            if let Some((p, _)) = self.profile {
                return p.min.as_slice()[pos];
            }
            if let Some((v, lambda)) = self.risk {
                return self.costs[pos * k + i] + lambda * v[pos];
            }
        }
        self.costs[pos * k + i]
    }
}

// ---------------------------------------------------------------------------------------------
// Labels and the open list

/// A path prefix: its cost vector, its last node, and how it was reached (for path recovery).
#[derive(Clone, Copy)]
pub(crate) struct Label<const K: usize> {
    pub g: [f64; K],
    pub node: u32,
    pub parent: u32,
    pub pos: u32,
}

pub(crate) const NONE: u32 = u32::MAX;

/// Called with each solution label as it is found.
pub(crate) type Emit<'a, const K: usize> =
    &'a mut dyn FnMut(u32, &[Label<K>], &[f64; K]) -> ControlFlow;

/// An open-list entry: `f = g + h` and the label (or apex pair) it stands for.
#[derive(Clone, Copy)]
pub(crate) struct Item<const K: usize> {
    pub f: [f64; K],
    pub idx: u32,
}

impl<const K: usize> PartialEq for Item<K> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl<const K: usize> Eq for Item<K> {}
impl<const K: usize> PartialOrd for Item<K> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<const K: usize> Ord for Item<K> {
    /// Reversed lexicographic order, so `BinaryHeap` pops the smallest `f` first.
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        for i in 0..K {
            match o.f[i].total_cmp(&self.f[i]) {
                Ordering::Equal => continue,
                ord => return ord,
            }
        }
        o.idx.cmp(&self.idx)
    }
}

// ---------------------------------------------------------------------------------------------
// Per-query inputs

/// Per-query inputs shared by the algorithms.
pub(crate) struct Query<'a, const K: usize> {
    pub g: &'a Graph,
    pub s: usize,
    pub t: usize,
    pub bounds: [f64; K],
    /// `(ti, lambda, bound)`: bound on `f[ti] + lambda * f[k]` in hidden-risk mode.
    pub hidden_bound: Option<(usize, f64, f64)>,
    pub eps: f64,
    pub max_solutions: usize,
    pub max_expansions: u64,
    pub deadline: Option<Instant>,
}

impl<const K: usize> Query<'_, K> {
    #[inline(always)]
    pub fn within_bounds(&self, f: &[f64; K]) -> bool {
        for i in 0..K {
            if f[i] > self.bounds[i] {
                return false;
            }
        }
        match self.hidden_bound {
            Some((ti, lambda, b)) => f[ti] + lambda * f[K - 1] <= b,
            None => true,
        }
    }

    /// Checks the budget every 256 pops; returns true when exhausted.
    #[inline]
    pub fn out_of_budget<H: Heuristic<K>>(&self, h: &H, pops: u64, expansions: u64) -> bool {
        if expansions >= self.max_expansions || h.timed_out() {
            return true;
        }
        if pops & 255 == 0 {
            if let Some(d) = self.deadline {
                return Instant::now() >= d;
            }
        }
        false
    }
}

/// What a search hands back: the solution labels in the order found, and the label store.
pub(crate) struct Outcome<const K: usize> {
    pub found: Vec<(u32, [f64; K])>,
    pub labels: Vec<Label<K>>,
    pub truncated: bool,
    pub expansions: u64,
    pub generated: u64,
}

/// Nodes and arc ids of the path ending in label `idx`.
pub(crate) fn path_of<const K: usize>(
    g: &Graph,
    labels: &[Label<K>],
    idx: u32,
) -> (Vec<u32>, Vec<u32>) {
    let ids = g.fwd_id.as_slice();
    let mut nodes = Vec::new();
    let mut arcs = Vec::new();
    let mut i = idx;
    while i != NONE {
        let l = &labels[i as usize];
        nodes.push(l.node);
        if l.pos != NONE {
            arcs.push(ids[l.pos as usize]);
        }
        i = l.parent;
    }
    nodes.reverse();
    arcs.reverse();
    (nodes, arcs)
}
