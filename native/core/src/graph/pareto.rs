//! Multi-objective (Pareto) route search.
//!
//! Algorithms:
//! * two objectives, exact: BOA* (Hernández et al. 2020). Labels are popped in lexicographic order
//!   of `f = g + h`; a label is pruned when its `g2` is not below the best `g2` seen at its node
//!   (`g2_min`, a constant-time dominance check) or its `f2` is not below `g2_min(target)`.
//! * three/four objectives (and two with a hidden risk dimension), exact: an LTMOA*-style search
//!   (Ren et al. 2022): lexicographic order on `f`, per-node frontiers of the closed labels' cost
//!   vectors *without the first objective* (the first is non-decreasing in pop order at a node),
//!   checked lazily when a label is popped and eagerly when generated, and the same check against
//!   the target's frontier with `f`.
//! * epsilon, two static objectives without bounds: A*pex (Zhang et al. 2022), see [`apex`]:
//!   open apex-path pairs at a node are merged when a representative path stays within
//!   `(1 + eps)` of the merged apex, which keeps far fewer labels than exact search.
//! * epsilon otherwise (three/four objectives, bounds, time-dependent or risk costs): the exact
//!   searches, but a label is pruned at the target when some solution `s` already found satisfies
//!   `s <= (1 + eps) * f` in every objective (the BOA*eps rule). Because `f` is a lower bound on
//!   every completion, every Pareto-optimal cost vector is `(1 + eps)`-dominated by a returned
//!   solution; pruning at intermediate nodes stays exact, so the factor does not compound.
//!
//! The epsilon guarantee holds for every result that is not `truncated`.
//!
//! Heuristics are per-objective backward Dijkstra distances to the target (admissible and
//! consistent), computed once per query; with two static objectives each backward search stops
//! once its distances exceed what any Pareto-optimal path can have (see
//! [`two_objective_heuristics`]). Bounds prune every label whose `f` exceeds a bound.
//!
//! Costs are `f64` and summed along the path from the source, so the returned cost vector is the
//! exact floating-point sum of the arc costs in path order. Duplicate cost vectors are reported
//! once (one representative path per non-dominated cost vector).
//!
//! Time-of-day profiles (see [`super::TimeProfile`]): with a departure time, the travel time of an
//! arc on objective `time_index` is evaluated at the time the path enters it. Under FIFO (checked
//! on construction) a label that weakly dominates another at a node still does after any common
//! extension, and the profile minimum is an admissible, consistent lower bound, so the search is
//! exact. Risk: with `risk_aversion = lambda > 0` and arc variances, objective `time_index` becomes
//! `travel time + lambda * sum of arc variances` (the mean-variance penalty for independent arc
//! times; variances add, standard deviations would not). Without a departure time the penalty is
//! folded into the arc cost and the search is exact. With a departure time the variance sum is
//! tracked as an extra hidden objective (so time keeps advancing by travel time only), the search
//! is exact in the extended space, and the result is reduced to the non-dominated set of the
//! reported objectives; in that mode solutions are only streamed once the search has finished.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;

use super::csr::TimeProfile;
use super::dijkstra::{backward_dijkstra, reachable, BackwardSearch};
use super::{Graph, GraphError, Result};

/// Exact or epsilon-approximate search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    Exact,
    /// Every Pareto-optimal cost vector is `(1 + eps)`-dominated by a returned solution.
    Epsilon(f64),
}

/// Options of a Pareto search.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub method: Method,
    /// Upper bounds per objective (`None` = unbounded); empty = no bounds.
    pub bounds: Vec<Option<f64>>,
    pub max_solutions: Option<usize>,
    pub max_expansions: Option<u64>,
    /// Wall-clock budget in seconds, measured from the start of the query (heuristics included);
    /// it is checked every 256 label pops of the search, not during the heuristic precomputation.
    pub time_limit: Option<f64>,
    /// Departure time in seconds after midnight; requires a time profile.
    pub departure: Option<f64>,
    /// Weight of the summed variance added to objective `time_index`; requires variances if > 0.
    pub risk_aversion: f64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            method: Method::Exact,
            bounds: Vec::new(),
            max_solutions: None,
            max_expansions: None,
            time_limit: None,
            departure: None,
            risk_aversion: 0.0,
        }
    }
}

/// One path: its cost vector, its nodes from source to target and the ids of its arcs.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub costs: Vec<f64>,
    pub nodes: Vec<u32>,
    pub arcs: Vec<u32>,
}

/// What a search established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// At least one solution was found.
    Found,
    /// The target is reachable, but no path satisfies the bounds.
    EmptyWithinBounds,
    /// The target is not reachable from the source.
    NoPath,
    /// A budget ran out before any solution was found.
    BudgetExhausted,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::EmptyWithinBounds => "empty_within_bounds",
            Status::NoPath => "no_path",
            Status::BudgetExhausted => "budget_exhausted",
        }
    }
}

/// Whether a streaming consumer wants more solutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlFlow {
    Continue,
    Stop,
}

/// The outcome of one Pareto search.
#[derive(Debug, Clone)]
pub struct ParetoResult {
    /// In the order found: lexicographic by cost vector for the exact and epsilon methods.
    pub solutions: Vec<Solution>,
    pub status: Status,
    /// A limit (solutions, expansions, time) or the consumer stopped the search early: the front
    /// may be incomplete and the epsilon guarantee does not hold.
    pub truncated: bool,
    /// 0 for exact results, else the approximation factor guaranteed when not truncated.
    pub epsilon: f64,
    pub expansions: u64,
    pub generated: u64,
    pub algorithm: &'static str,
    pub heuristic_seconds: f64,
    pub search_seconds: f64,
}

// ---------------------------------------------------------------------------------------------
// Cost models

/// How arc costs are computed for the `K` internal objectives.
trait CostModel<const K: usize>: Sync {
    /// Cost vector after extending `g` by the arc at forward position `pos`.
    fn extend(&self, pos: usize, g: &[f64; K]) -> [f64; K];
    /// An admissible, consistent lower bound of internal objective `i` on the arc.
    fn lower_bound(&self, pos: usize, i: usize) -> f64;
}

/// Static costs, `K == k`.
struct StaticCosts<'a> {
    costs: &'a [f64],
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
    fn lower_bound(&self, pos: usize, i: usize) -> f64 {
        self.costs[pos * K + i]
    }
}

/// Time-dependent and/or risk-penalised costs.
struct GeneralCosts<'a> {
    k: usize,
    costs: &'a [f64],
    ti: usize,
    profile: Option<(&'a TimeProfile, f64)>,
    /// Variances and lambda, when `lambda > 0`.
    risk: Option<(&'a [f64], f64)>,
    /// The variance sum is internal objective `k` (time-dependent with risk).
    hidden: bool,
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
// Search machinery shared by both algorithms

#[derive(Clone, Copy)]
struct Label<const K: usize> {
    g: [f64; K],
    node: u32,
    parent: u32,
    pos: u32,
}

const NONE: u32 = u32::MAX;

/// Called with each solution label as it is found.
type Emit<'a, const K: usize> = &'a mut dyn FnMut(u32, &[Label<K>], &[f64; K]) -> ControlFlow;

#[derive(Clone, Copy)]
struct Item<const K: usize> {
    f: [f64; K],
    idx: u32,
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

/// Per-query inputs shared by the algorithms.
struct Query<'a, const K: usize> {
    g: &'a Graph,
    s: usize,
    t: usize,
    /// Heuristic per node, interleaved.
    h: Vec<[f64; K]>,
    bounds: [f64; K],
    /// `(ti, lambda, bound)`: bound on `f[ti] + lambda * f[k]` in hidden-risk mode.
    hidden_bound: Option<(usize, f64, f64)>,
    eps: f64,
    max_solutions: usize,
    max_expansions: u64,
    deadline: Option<Instant>,
}

impl<const K: usize> Query<'_, K> {
    #[inline(always)]
    fn within_bounds(&self, f: &[f64; K]) -> bool {
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
}

struct Outcome<const K: usize> {
    found: Vec<(u32, [f64; K])>,
    labels: Vec<Label<K>>,
    truncated: bool,
    expansions: u64,
    generated: u64,
}

fn path_of<const K: usize>(g: &Graph, labels: &[Label<K>], idx: u32) -> (Vec<u32>, Vec<u32>) {
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

/// Checks the budget every 256 pops; returns true when exhausted.
#[inline]
fn out_of_budget<const K: usize>(q: &Query<'_, K>, pops: u64, expansions: u64) -> bool {
    if expansions >= q.max_expansions {
        return true;
    }
    if pops & 255 == 0 {
        if let Some(d) = q.deadline {
            return Instant::now() >= d;
        }
    }
    false
}

/// BOA*: exact or epsilon bi-objective search.
fn boa<C: CostModel<2>>(q: &Query<'_, 2>, model: &C, emit: Emit<'_, 2>) -> Outcome<2> {
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut g2_min = vec![f64::INFINITY; g.n];
    let mut labels: Vec<Label<2>> = Vec::new();
    let mut heap: BinaryHeap<Item<2>> = BinaryHeap::new();
    let mut found = Vec::new();
    let scale = 1.0 + q.eps;
    let (mut expansions, mut generated, mut pops) = (0u64, 0u64, 0u64);
    let mut truncated = false;
    let root_f = q.h[q.s];
    if q.within_bounds(&root_f) {
        labels.push(Label {
            g: [0.0; 2],
            node: q.s as u32,
            parent: NONE,
            pos: NONE,
        });
        heap.push(Item { f: root_f, idx: 0 });
        generated = 1;
    }
    while let Some(Item { f, idx }) = heap.pop() {
        pops += 1;
        let l = labels[idx as usize];
        let v = l.node as usize;
        if l.g[1] >= g2_min[v] || f[1] * scale >= g2_min[q.t] {
            continue;
        }
        if out_of_budget(q, pops, expansions) {
            truncated = true;
            break;
        }
        g2_min[v] = l.g[1];
        expansions += 1;
        if v == q.t {
            found.push((idx, l.g));
            if emit(idx, &labels, &l.g) == ControlFlow::Stop || found.len() >= q.max_solutions {
                truncated = !heap.is_empty();
                break;
            }
            continue;
        }
        for pos in off[v] as usize..off[v + 1] as usize {
            let u = head[pos] as usize;
            let ng = model.extend(pos, &l.g);
            if ng[1] >= g2_min[u] {
                continue;
            }
            let hu = q.h[u];
            let nf = [ng[0] + hu[0], ng[1] + hu[1]];
            if nf[1] * scale >= g2_min[q.t] || !nf[0].is_finite() || !q.within_bounds(&nf) {
                continue;
            }
            let nidx = labels.len() as u32;
            labels.push(Label {
                g: ng,
                node: u as u32,
                parent: idx,
                pos: pos as u32,
            });
            heap.push(Item { f: nf, idx: nidx });
            generated += 1;
        }
    }
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}

/// An apex-path pair of A*pex: the component-wise minimum `apex` of the paths it stands for, and
/// one representative path (`label`, cost `g`) whose `f` is within `(1 + eps)` of the apex's `f`.
#[derive(Clone, Copy)]
struct ApexPair {
    apex: [f64; 2],
    g: [f64; 2],
    node: u32,
    label: u32,
    open: bool,
}

/// A*pex (Zhang et al. 2022) for two objectives: epsilon-approximate search that merges open
/// apex-path pairs at the same node when one representative stays within `(1 + eps)` of the
/// merged apex (in `f`), prunes by the apexes (exactly at nodes, `(1 + eps)` against solutions at
/// the target), and returns the representatives. Since `h` is admissible, a representative `p`
/// with `g(p) + h <= (1 + eps) (A + h)` extends to a path within `(1 + eps)` of every extension
/// of the paths merged into the apex `A`.
fn apex<C: CostModel<2>>(q: &Query<'_, 2>, model: &C, emit: Emit<'_, 2>) -> Outcome<2> {
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let scale = 1.0 + q.eps;
    let mut g2_min = vec![f64::INFINITY; g.n];
    let mut sol_g2_min = f64::INFINITY;
    let mut open_at: Vec<Vec<u32>> = vec![Vec::new(); g.n];
    let mut pairs: Vec<ApexPair> = Vec::new();
    let mut labels: Vec<Label<2>> = Vec::new();
    let mut heap: BinaryHeap<Item<2>> = BinaryHeap::new();
    let mut found = Vec::new();
    let (mut expansions, mut generated, mut pops) = (0u64, 0u64, 0u64);
    let mut truncated = false;
    let fo = |a: &[f64; 2], h: &[f64; 2]| [a[0] + h[0], a[1] + h[1]];
    let root_f = q.h[q.s];
    if q.within_bounds(&root_f) {
        labels.push(Label {
            g: [0.0; 2],
            node: q.s as u32,
            parent: NONE,
            pos: NONE,
        });
        pairs.push(ApexPair {
            apex: [0.0; 2],
            g: [0.0; 2],
            node: q.s as u32,
            label: 0,
            open: true,
        });
        open_at[q.s].push(0);
        heap.push(Item { f: root_f, idx: 0 });
        generated = 1;
    }
    while let Some(Item { f, idx }) = heap.pop() {
        pops += 1;
        let ap = pairs[idx as usize];
        if !ap.open {
            continue; // merged away
        }
        let v = ap.node as usize;
        pairs[idx as usize].open = false;
        if let Some(i) = open_at[v].iter().position(|&x| x == idx) {
            open_at[v].swap_remove(i);
        }
        if ap.apex[1] >= g2_min[v] || sol_g2_min <= scale * f[1] {
            continue;
        }
        if out_of_budget(q, pops, expansions) {
            truncated = true;
            break;
        }
        g2_min[v] = ap.apex[1];
        expansions += 1;
        if v == q.t {
            sol_g2_min = sol_g2_min.min(ap.g[1]);
            found.push((ap.label, ap.g));
            if emit(ap.label, &labels, &ap.g) == ControlFlow::Stop || found.len() >= q.max_solutions
            {
                truncated = !heap.is_empty();
                break;
            }
            continue;
        }
        for pos in off[v] as usize..off[v + 1] as usize {
            let u = head[pos] as usize;
            let hu = q.h[u];
            if !hu[0].is_finite() {
                continue;
            }
            let na = model.extend(pos, &ap.apex);
            if na[1] >= g2_min[u] {
                continue;
            }
            let nf = fo(&na, &hu);
            if sol_g2_min <= scale * nf[1] || !q.within_bounds(&nf) {
                continue;
            }
            let ng = model.extend(pos, &ap.g);
            let bounded = |gp: &[f64; 2], m: &[f64; 2]| {
                gp[0] + hu[0] <= scale * (m[0] + hu[0]) && gp[1] + hu[1] <= scale * (m[1] + hu[1])
            };
            // Try to merge with an open pair at u.
            let mut merged = false;
            for j in 0..open_at[u].len() {
                let other_idx = open_at[u][j];
                let other = pairs[other_idx as usize];
                let m = [na[0].min(other.apex[0]), na[1].min(other.apex[1])];
                let keep_other = bounded(&other.g, &m);
                let keep_new = bounded(&ng, &m);
                if !keep_other && !keep_new {
                    continue;
                }
                // Prefer the representative with the smaller first cost.
                let use_new = keep_new && (!keep_other || ng[0] < other.g[0]);
                let (label, rg) = if use_new {
                    labels.push(Label {
                        g: ng,
                        node: u as u32,
                        parent: ap.label,
                        pos: pos as u32,
                    });
                    ((labels.len() - 1) as u32, ng)
                } else {
                    (other.label, other.g)
                };
                pairs[other_idx as usize].open = false;
                let nidx = pairs.len() as u32;
                pairs.push(ApexPair {
                    apex: m,
                    g: rg,
                    node: u as u32,
                    label,
                    open: true,
                });
                open_at[u][j] = nidx;
                heap.push(Item {
                    f: fo(&m, &hu),
                    idx: nidx,
                });
                merged = true;
                break;
            }
            if !merged {
                labels.push(Label {
                    g: ng,
                    node: u as u32,
                    parent: ap.label,
                    pos: pos as u32,
                });
                let nidx = pairs.len() as u32;
                pairs.push(ApexPair {
                    apex: na,
                    g: ng,
                    node: u as u32,
                    label: (labels.len() - 1) as u32,
                    open: true,
                });
                open_at[u].push(nidx);
                heap.push(Item { f: nf, idx: nidx });
            }
            generated += 1;
        }
    }
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}

/// `front` holds cost vectors; is `x` weakly dominated on objectives `1..K` (scaled by `scale`)?
#[inline]
fn dominated_tail<const K: usize>(front: &[[f64; K]], x: &[f64; K], scale: f64) -> bool {
    'outer: for y in front {
        for i in 1..K {
            if y[i] > x[i] * scale {
                continue 'outer;
            }
        }
        return true;
    }
    false
}

#[inline]
fn insert_tail<const K: usize>(front: &mut Vec<[f64; K]>, x: [f64; K]) {
    front.retain(|y| !(1..K).all(|i| x[i] <= y[i]));
    front.push(x);
}

/// LTMOA*-style exact or epsilon search for any `K`.
fn ltmoa<const K: usize, C: CostModel<K>>(
    q: &Query<'_, K>,
    model: &C,
    emit: Emit<'_, K>,
) -> Outcome<K> {
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut fronts: Vec<Vec<[f64; K]>> = vec![Vec::new(); g.n];
    let mut sols: Vec<[f64; K]> = Vec::new();
    let mut labels: Vec<Label<K>> = Vec::new();
    let mut heap: BinaryHeap<Item<K>> = BinaryHeap::new();
    let mut found = Vec::new();
    let scale = 1.0 + q.eps;
    let (mut expansions, mut generated, mut pops) = (0u64, 0u64, 0u64);
    let mut truncated = false;
    let root_f = q.h[q.s];
    if q.within_bounds(&root_f) {
        labels.push(Label {
            g: [0.0; K],
            node: q.s as u32,
            parent: NONE,
            pos: NONE,
        });
        heap.push(Item { f: root_f, idx: 0 });
        generated = 1;
    }
    while let Some(Item { f, idx }) = heap.pop() {
        pops += 1;
        let l = labels[idx as usize];
        let v = l.node as usize;
        if dominated_tail(&sols, &f, scale) || dominated_tail(&fronts[v], &l.g, 1.0) {
            continue;
        }
        if out_of_budget(q, pops, expansions) {
            truncated = true;
            break;
        }
        insert_tail(&mut fronts[v], l.g);
        expansions += 1;
        if v == q.t {
            sols.push(l.g);
            found.push((idx, l.g));
            if emit(idx, &labels, &l.g) == ControlFlow::Stop || found.len() >= q.max_solutions {
                truncated = !heap.is_empty();
                break;
            }
            continue;
        }
        for pos in off[v] as usize..off[v + 1] as usize {
            let u = head[pos] as usize;
            let hu = q.h[u];
            if !hu[0].is_finite() {
                continue;
            }
            let ng = model.extend(pos, &l.g);
            let mut nf = ng;
            for i in 0..K {
                nf[i] += hu[i];
            }
            if !q.within_bounds(&nf)
                || dominated_tail(&sols, &nf, scale)
                || dominated_tail(&fronts[u], &ng, 1.0)
            {
                continue;
            }
            let nidx = labels.len() as u32;
            labels.push(Label {
                g: ng,
                node: u as u32,
                parent: idx,
                pos: pos as u32,
            });
            heap.push(Item { f: nf, idx: nidx });
            generated += 1;
        }
    }
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points

fn validate(g: &Graph, s: i64, t: i64, o: &SearchOptions) -> Result<(usize, usize)> {
    let s = g.check_node("source", s)?;
    let t = g.check_node("target", t)?;
    if let Method::Epsilon(e) = o.method {
        if !(e.is_finite() && e >= 0.0) {
            return Err(GraphError::invalid(format!(
                "epsilon must be finite and >= 0, got {e}"
            )));
        }
    }
    if !o.bounds.is_empty() && o.bounds.len() != g.k {
        return Err(GraphError::invalid(format!(
            "bounds must have one entry per objective (k = {}), got {}",
            g.k,
            o.bounds.len()
        )));
    }
    if let Some(b) = o.bounds.iter().flatten().find(|b| b.is_nan() || **b < 0.0) {
        return Err(GraphError::invalid(format!(
            "bounds must be non-negative numbers or None, got {b}"
        )));
    }
    if o.max_solutions == Some(0) {
        return Err(GraphError::invalid("max_solutions must be at least 1"));
    }
    if let Some(tl) = o.time_limit {
        if tl.is_nan() || tl < 0.0 {
            return Err(GraphError::invalid(format!(
                "time_limit must be >= 0 seconds, got {tl}"
            )));
        }
    }
    if !(o.risk_aversion.is_finite() && o.risk_aversion >= 0.0) {
        return Err(GraphError::invalid(format!(
            "risk_aversion must be finite and >= 0, got {}",
            o.risk_aversion
        )));
    }
    if o.risk_aversion > 0.0 && g.variance.is_none() {
        return Err(GraphError::invalid(
            "risk_aversion > 0 needs a graph built with travel-time variances",
        ));
    }
    if let Some(d) = o.departure {
        if !d.is_finite() {
            return Err(GraphError::invalid(format!(
                "departure must be a finite number of seconds, got {d}"
            )));
        }
        if g.profile.is_none() {
            return Err(GraphError::invalid(
                "a departure time needs a graph built with time-of-day travel-time profiles",
            ));
        }
    }
    Ok((s, t))
}

/// Heuristics for two static objectives, limited to what can matter.
///
/// Each backward search first runs until it settles `s`, which yields a path optimal for its
/// objective. With `P0` optimal for objective 0, every path whose objective 1 exceeds
/// `c1(P0)` is dominated by `P0` (it cannot beat it on objective 0), and symmetrically for `P1`;
/// so nodes whose lower bound exceeds `UB1 = c1(P0)` (resp. `UB0 = c0(P1)`) or the bound are
/// never on a Pareto-optimal path, and each search stops at its limit. A relative slack of 1e-9
/// absorbs rounding between forward and backward sums.
fn two_objective_heuristics<const K: usize, C: CostModel<K>>(
    g: &Graph,
    s: usize,
    t: usize,
    model: &C,
    bounds: [f64; 2],
) -> Vec<Vec<f64>> {
    let cost0 = |p: usize| model.lower_bound(p, 0);
    let cost1 = |p: usize| model.lower_bound(p, 1);
    let ((a, ra), (b, rb)) = rayon::join(
        || {
            let mut a = BackwardSearch::new(g, t);
            let r = a.run_until(bounds[0], &cost0, Some(s));
            (a, r)
        },
        || {
            let mut b = BackwardSearch::new(g, t);
            let r = b.run_until(bounds[1], &cost1, Some(s));
            (b, r)
        },
    );
    let mut limits = bounds;
    if ra && rb {
        let path_cost = |path: &[usize]| {
            let mut c = [0.0; K];
            for &p in path {
                c = model.extend(p, &c);
            }
            c
        };
        let c_p0 = path_cost(&a.path_from(s));
        let c_p1 = path_cost(&b.path_from(s));
        let slack = |x: f64| x * (1.0 + 1e-9) + 1e-12;
        limits[0] = limits[0].min(slack(c_p1[0]));
        limits[1] = limits[1].min(slack(c_p0[1]));
    }
    let (h0, h1) = rayon::join(
        move || a.finish(limits[0], &cost0),
        move || b.finish(limits[1], &cost1),
    );
    vec![h0, h1]
}

const BOA: [&str; 2] = ["boa*", "boa*-eps"];
const LTMOA: [&str; 2] = ["ltmoa*", "ltmoa*-eps"];
const APEX: [&str; 2] = ["a*pex", "a*pex"];

type SearchFn<const K: usize, C> = fn(&Query<'_, K>, &C, Emit<'_, K>) -> Outcome<K>;

#[allow(clippy::too_many_arguments)]
fn run<const K: usize, C: CostModel<K>>(
    g: &Graph,
    s: usize,
    t: usize,
    o: &SearchOptions,
    model: &C,
    hidden: Option<(usize, f64)>,
    search: SearchFn<K, C>,
    names: [&'static str; 2],
    static_costs: bool,
    on_solution: &mut dyn FnMut(&Solution) -> ControlFlow,
) -> ParetoResult {
    let started = Instant::now();
    let k = g.k;
    let mut bounds = [f64::INFINITY; K];
    let mut hidden_bound = None;
    for (i, b) in o.bounds.iter().enumerate() {
        if let Some(b) = *b {
            match hidden {
                Some((ti, lambda)) if i == ti => hidden_bound = Some((ti, lambda, b)),
                _ => bounds[i] = b,
            }
        }
    }
    if let Some((ti, _, b)) = hidden_bound {
        bounds[ti] = b; // travel time alone is also bounded by the penalised bound
    }
    // Heuristics, each limited by its bound (nodes beyond a bound cannot be on a bounded path).
    let hs: Vec<Vec<f64>> = if K == 2 && static_costs && s != t {
        two_objective_heuristics(g, s, t, model, [bounds[0], bounds[1]])
    } else {
        (0..K)
            .into_par_iter()
            .map(|i| backward_dijkstra(g, t, bounds[i], |p| model.lower_bound(p, i)))
            .collect()
    };
    let mut h = vec![[0.0; K]; g.n];
    for (v, hv) in h.iter_mut().enumerate() {
        for i in 0..K {
            hv[i] = hs[i][v];
        }
    }
    drop(hs);
    let heuristic_seconds = started.elapsed().as_secs_f64();
    let eps = match o.method {
        Method::Exact => 0.0,
        Method::Epsilon(e) => e,
    };
    let algorithm = names[(eps > 0.0) as usize];
    let mut result = ParetoResult {
        solutions: Vec::new(),
        status: Status::Found,
        truncated: false,
        epsilon: eps,
        expansions: 0,
        generated: 0,
        algorithm,
        heuristic_seconds,
        search_seconds: 0.0,
    };
    let root = h[s];
    if root.iter().any(|x| !x.is_finite()) || !(0..K).all(|i| root[i] <= bounds[i]) {
        result.status = if reachable(g, s, t) {
            Status::EmptyWithinBounds
        } else {
            Status::NoPath
        };
        return result;
    }
    let q = Query {
        g,
        s,
        t,
        h,
        bounds,
        hidden_bound,
        eps,
        max_solutions: o.max_solutions.unwrap_or(usize::MAX),
        max_expansions: o.max_expansions.unwrap_or(u64::MAX),
        deadline: o
            .time_limit
            .map(|tl| started + std::time::Duration::from_secs_f64(tl.min(1e9))),
    };
    let external = |c: &[f64; K]| -> Vec<f64> {
        let mut e = c[..k].to_vec();
        if let Some((ti, lambda)) = hidden {
            e[ti] += lambda * c[k];
        }
        e
    };
    let search_started = Instant::now();
    let mut emitted = Vec::new();
    let out = {
        let mut emit = |idx: u32, labels: &[Label<K>], c: &[f64; K]| -> ControlFlow {
            if hidden.is_some() {
                return ControlFlow::Continue; // filtered at the end, streamed then
            }
            let (nodes, arcs) = path_of(g, labels, idx);
            let sol = Solution {
                costs: external(c),
                nodes,
                arcs,
            };
            let flow = on_solution(&sol);
            emitted.push(sol);
            flow
        };
        search(&q, model, &mut emit)
    };
    result.search_seconds = search_started.elapsed().as_secs_f64();
    result.truncated = out.truncated;
    result.expansions = out.expansions;
    result.generated = out.generated;
    if hidden.is_some() {
        // Reduce to the non-dominated set of the reported objectives, then stream.
        let ext: Vec<Vec<f64>> = out.found.iter().map(|(_, c)| external(c)).collect();
        let mut keep: Vec<usize> = Vec::new();
        for i in 0..ext.len() {
            let dominated = (0..ext.len()).any(|j| {
                j != i
                    && ext[j].iter().zip(&ext[i]).all(|(a, b)| a <= b)
                    && (ext[j] != ext[i] || j < i)
            });
            if !dominated {
                keep.push(i);
            }
        }
        keep.sort_by(|&a, &b| {
            ext[a]
                .iter()
                .zip(&ext[b])
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
        for i in keep {
            let (nodes, arcs) = path_of(g, &out.labels, out.found[i].0);
            let sol = Solution {
                costs: ext[i].clone(),
                nodes,
                arcs,
            };
            let stop = on_solution(&sol) == ControlFlow::Stop;
            emitted.push(sol);
            if stop {
                break;
            }
        }
    }
    result.solutions = emitted;
    if result.solutions.is_empty() {
        result.status = if result.truncated {
            Status::BudgetExhausted
        } else {
            Status::EmptyWithinBounds
        };
    }
    result
}

/// Pareto search from `s` to `t`; `on_solution` sees every solution as soon as it is final.
pub fn pareto(
    g: &Graph,
    s: i64,
    t: i64,
    o: &SearchOptions,
    on_solution: &mut dyn FnMut(&Solution) -> ControlFlow,
) -> Result<ParetoResult> {
    pareto_impl(g, s, t, o, false, on_solution)
}

pub(crate) fn pareto_impl(
    g: &Graph,
    s: i64,
    t: i64,
    o: &SearchOptions,
    force_generic: bool,
    on_solution: &mut dyn FnMut(&Solution) -> ControlFlow,
) -> Result<ParetoResult> {
    let (s, t) = validate(g, s, t, o)?;
    let risk = o.risk_aversion > 0.0;
    let td = o.departure.is_some();
    let cb = on_solution;
    if !td && !risk {
        let m = StaticCosts {
            costs: g.costs.as_slice(),
        };
        let use_apex = matches!(o.method, Method::Epsilon(e) if e > 0.0)
            && o.bounds.iter().all(Option::is_none);
        return Ok(match (g.k, force_generic) {
            (2, false) if use_apex => {
                run::<2, _>(g, s, t, o, &m, None, apex::<StaticCosts>, APEX, true, cb)
            }
            (2, false) => run::<2, _>(g, s, t, o, &m, None, boa::<StaticCosts>, BOA, true, cb),
            (2, true) => run::<2, _>(g, s, t, o, &m, None, ltmoa::<2, _>, LTMOA, true, cb),
            (3, _) => run::<3, _>(g, s, t, o, &m, None, ltmoa::<3, _>, LTMOA, true, cb),
            _ => run::<4, _>(g, s, t, o, &m, None, ltmoa::<4, _>, LTMOA, true, cb),
        });
    }
    let hidden = td && risk;
    let m = GeneralCosts {
        k: g.k,
        costs: g.costs.as_slice(),
        ti: g.time_index,
        profile: o.departure.and_then(|d| g.profile.as_ref().map(|p| (p, d))),
        risk: if risk {
            g.variance.as_ref().map(|v| (v.as_slice(), o.risk_aversion))
        } else {
            None
        },
        hidden,
    };
    let hid = hidden.then_some((g.time_index, o.risk_aversion));
    Ok(match (g.k + hidden as usize, force_generic) {
        (2, false) => run::<2, _>(g, s, t, o, &m, hid, boa::<GeneralCosts>, BOA, false, cb),
        (2, true) => run::<2, _>(g, s, t, o, &m, hid, ltmoa::<2, _>, LTMOA, false, cb),
        (3, _) => run::<3, _>(g, s, t, o, &m, hid, ltmoa::<3, _>, LTMOA, false, cb),
        (4, _) => run::<4, _>(g, s, t, o, &m, hid, ltmoa::<4, _>, LTMOA, false, cb),
        _ => run::<5, _>(g, s, t, o, &m, hid, ltmoa::<5, _>, LTMOA, false, cb),
    })
}

/// Solves many source/target pairs in parallel (rayon); one result per pair, in order.
pub fn pareto_many(
    g: &Graph,
    pairs: &[(i64, i64)],
    o: &SearchOptions,
) -> Vec<Result<ParetoResult>> {
    pairs
        .par_iter()
        .map(|&(s, t)| pareto(g, s, t, o, &mut |_| ControlFlow::Continue))
        .collect()
}
