//! Multi-objective (Pareto) route search: options, results and entry points.
//!
//! Algorithms (one per module, each with its exactness or approximation proof):
//! * two static objectives, exact: BOA* ([`super::boa`]), with a constant-time dominance check.
//! * three/four objectives (and two with a hidden risk dimension), exact: an LTMOA*-style search
//!   ([`super::ltmoa`]) with truncated per-node frontiers ([`super::front`]); with three
//!   objectives each frontier is a sorted 2-D set checked by binary search.
//! * epsilon, any number of objectives, with bounds, time-of-day profiles and risk: A*pex
//!   ([`super::apex`]), which merges open apex-path pairs at a node while a representative stays
//!   within `(1 + eps)`, so pruning is approximate everywhere, not only at the target.
//! * the exact searches with the BOA*eps rule (pruning within `(1 + eps)` only at the target) are
//!   kept for comparison (`pareto_impl(.., force_generic = true)`).
//!
//! The epsilon guarantee (every Pareto-optimal cost vector is `(1 + eps)`-dominated by a returned
//! solution) holds for every result that is not `truncated`.
//!
//! Heuristics ([`super::heuristics`]) are per-objective backward Dijkstra distances to the target
//! (admissible and consistent), computed lazily, as far as the search asks, stopping at the bounds;
//! [`pareto_many`] reuses them across pairs with the same target, and a small process-wide cache
//! across calls with the same graph, target, cost model and bounds (the searches are resumed where
//! an earlier query left them). Bounds prune every label whose `f` exceeds a bound.
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
//! is exact (or epsilon) in the extended space, and the result is reduced to the non-dominated set
//! of the reported objectives; in that mode solutions are only streamed once the search has
//! finished.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::Instant;

use crate::parallel;

use super::apex::apex;
use super::boa::boa;
use super::ch::{ChHeur, ChUse};
use super::dijkstra::reachable;
use super::heuristics::{Heuristic, Lazy};
use super::ltmoa::ltmoa;
use super::search::{path_of, CostModel, GeneralCosts, Outcome, Query, StaticCosts, Step};
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
    /// it is checked every 256 label pops and every 1024 heap pops of the lazy heuristics
    /// (the up-front two-objective heuristics of BOA* are not interrupted).
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
    /// In the order found: lexicographic by cost vector for the exact methods; by the apex that
    /// produced it for A*pex.
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
    /// Up-front heuristic time; with lazy heuristics, the time until the source's heuristic was
    /// known (the rest of the backward searches is counted in `search_seconds`).
    pub heuristic_seconds: f64,
    pub search_seconds: f64,
}

// ---------------------------------------------------------------------------------------------
// Running one target's queries

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algo {
    Boa,
    Ltmoa,
    Apex,
}

impl Algo {
    fn name(self, eps: f64) -> &'static str {
        match (self, eps > 0.0) {
            (Algo::Boa, false) => "boa*",
            (Algo::Boa, true) => "boa*-eps",
            (Algo::Ltmoa, false) => "ltmoa*",
            (Algo::Ltmoa, true) => "ltmoa*-eps",
            (Algo::Apex, _) => "a*pex",
        }
    }
}

/// What the queries to one target with one set of options share.
struct Plan<'a, const K: usize, C> {
    g: &'a Graph,
    t: usize,
    o: &'a SearchOptions,
    model: &'a C,
    /// `(time_index, lambda)` when the variance sum is hidden objective `K - 1`.
    hidden: Option<(usize, f64)>,
    algo: Algo,
    bounds: [f64; K],
    hidden_bound: Option<(usize, f64, f64)>,
    eps: f64,
    /// Objectives A*pex must keep exact (see [`super::apex`]).
    exact: [bool; K],
}

impl<'a, const K: usize, C: CostModel<K>> Plan<'a, K, C> {
    fn new(
        g: &'a Graph,
        t: usize,
        o: &'a SearchOptions,
        model: &'a C,
        hidden: Option<(usize, f64)>,
        algo: Algo,
    ) -> Self {
        let mut bounds = [f64::INFINITY; K];
        let mut hidden_bound = None;
        let mut exact = [false; K];
        for (i, b) in o.bounds.iter().enumerate() {
            if let Some(b) = *b {
                exact[i] = true;
                match hidden {
                    Some((ti, lambda)) if i == ti => {
                        hidden_bound = Some((ti, lambda, b));
                        exact[K - 1] = true;
                    }
                    _ => bounds[i] = b,
                }
            }
        }
        if let Some((ti, _, b)) = hidden_bound {
            bounds[ti] = b; // travel time alone is also bounded by the penalised bound
        }
        if o.departure.is_some() {
            exact[g.time_index] = true;
        }
        let eps = match o.method {
            Method::Exact => 0.0,
            Method::Epsilon(e) => e,
        };
        Plan {
            g,
            t,
            o,
            model,
            hidden,
            algo,
            bounds,
            hidden_bound,
            eps,
            exact,
        }
    }

    fn external(&self, c: &[f64; K]) -> Vec<f64> {
        let mut e = c[..self.g.k].to_vec();
        if let Some((ti, lambda)) = self.hidden {
            e[ti] += lambda * c[self.g.k];
        }
        e
    }

    /// One query from `s`; `started` is when the query began (its heuristic work included).
    fn solve<H: Heuristic<K>>(
        &self,
        s: usize,
        heur: &mut H,
        started: Instant,
        deadline: Option<Instant>,
        on_solution: &mut dyn FnMut(&Solution) -> ControlFlow,
    ) -> ParetoResult {
        let (g, t) = (self.g, self.t);
        let root = heur.h(s);
        let mut result = ParetoResult {
            solutions: Vec::new(),
            status: Status::Found,
            truncated: false,
            epsilon: self.eps,
            expansions: 0,
            generated: 0,
            algorithm: self.algo.name(self.eps),
            heuristic_seconds: started.elapsed().as_secs_f64(),
            search_seconds: 0.0,
        };
        if heur.timed_out() {
            result.truncated = true;
            result.status = Status::BudgetExhausted;
            return result;
        }
        if root.iter().any(|x| !x.is_finite()) || !(0..K).all(|i| root[i] <= self.bounds[i]) {
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
            bounds: self.bounds,
            hidden_bound: self.hidden_bound,
            eps: self.eps,
            max_solutions: self.o.max_solutions.unwrap_or(usize::MAX),
            max_expansions: self.o.max_expansions.unwrap_or(u64::MAX),
            deadline,
        };
        let search_started = Instant::now();
        let mut emitted = Vec::new();
        let hidden = self.hidden.is_some();
        let out: Outcome<K> = {
            let mut emit = |idx: u32, labels: &[Step], c: &[f64; K]| -> ControlFlow {
                if hidden {
                    return ControlFlow::Continue; // filtered at the end, streamed then
                }
                let (nodes, arcs) = path_of(g, labels, idx);
                let sol = Solution {
                    costs: self.external(c),
                    nodes,
                    arcs,
                };
                let flow = on_solution(&sol);
                emitted.push(sol);
                flow
            };
            match self.algo {
                Algo::Boa => boa(&q, self.model, heur, &mut emit),
                Algo::Ltmoa => ltmoa(&q, self.model, heur, &mut emit),
                Algo::Apex => apex(&q, self.model, heur, self.exact, &mut emit),
            }
        };
        result.search_seconds = search_started.elapsed().as_secs_f64();
        result.truncated = out.truncated;
        result.expansions = out.expansions;
        result.generated = out.generated;
        if hidden {
            // Reduce to the non-dominated set of the reported objectives, then stream.
            let ext: Vec<Vec<f64>> = out.found.iter().map(|(_, c)| self.external(c)).collect();
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
}

/// Solves the queries from `sources` to `t` in order, sharing the heuristics (the hierarchy
/// potentials of [`super::ch`] where they apply, else the lazy backward searches); `on_solution`
/// gets the source's position and each solution as soon as it is final.
fn run<const K: usize, C: CostModel<K>>(
    plan: Plan<'_, K, C>,
    sources: &[usize],
    on_solution: &mut dyn FnMut(usize, &Solution) -> ControlFlow,
) -> Vec<ParetoResult> {
    let (g, t, model) = (plan.g, plan.t, plan.model);
    if let Some(mut ch) = ChHeur::new(g, t, model, plan.bounds, force_ch()) {
        let out = run_with(&plan, sources, on_solution, &mut ch, |h, d| {
            h.set_deadline(d)
        });
        ch.finish();
        return out;
    }
    let mut lazy = Lazy::new(g, t, model, plan.bounds);
    let out = run_with(&plan, sources, on_solution, &mut lazy, |h, d| {
        h.set_deadline(d)
    });
    lazy.into_space().give_back();
    out
}

#[cfg(test)]
thread_local! {
    /// Tests use the hierarchies on this thread's graphs below the size threshold.
    pub(crate) static FORCE_CH: std::cell::Cell<ChUse> = const { std::cell::Cell::new(ChUse::Default) };
}

fn force_ch() -> ChUse {
    #[cfg(test)]
    return FORCE_CH.with(|f| f.get());
    #[cfg(not(test))]
    ChUse::Default
}

fn run_with<const K: usize, C: CostModel<K>, H: Heuristic<K>>(
    plan: &Plan<'_, K, C>,
    sources: &[usize],
    on_solution: &mut dyn FnMut(usize, &Solution) -> ControlFlow,
    heur: &mut H,
    set_deadline: impl Fn(&mut H, Option<Instant>),
) -> Vec<ParetoResult> {
    let (g, o) = (plan.g, plan.o);
    let mut out = Vec::with_capacity(sources.len());
    for (j, &s) in sources.iter().enumerate() {
        let started = Instant::now();
        let deadline = o
            .time_limit
            .map(|tl| started + std::time::Duration::from_secs_f64(tl.min(1e9)));
        let mut cb = |sol: &Solution| on_solution(j, sol);
        // A result with many path entries handed out earlier (its paths, and the caller's
        // copies of them) has usually been freed by the caller since, in the middle of the heap
        // where glibc does not trim by itself: give those pages back before this query
        // allocates. Only after such results: a trim costs about 1 ms of CPU on a NY-sized
        // heap, which a small query must not pay after every medium one.
        if LARGE_RESULT_OUT.swap(false, AtomicOrdering::Relaxed) {
            release_freed_memory();
        }
        set_deadline(heur, deadline);
        let r = plan.solve(s, heur, started, deadline, &mut cb);
        // The query's label store and open list are freed by now; after a large query, hand the
        // freed memory back to the system (glibc keeps up to its dynamic trim threshold, tens of
        // MB, per arena otherwise, and the process grew by that over queries).
        if r.generated >= TRIM_AFTER_LABELS {
            release_freed_memory();
            let entries: usize = r
                .solutions
                .iter()
                .map(|s| s.nodes.len() + s.arcs.len())
                .sum();
            if entries >= PRE_TRIM_PATH_ENTRIES {
                LARGE_RESULT_OUT.store(true, AtomicOrdering::Relaxed);
            }
            // The paths read arc ids from the mapped file; many paths make much of it resident.
            g.fwd_id.release_pages();
        }
        out.push(r);
    }
    out
}

/// Queries generating at least this many labels (a few MB of labels and open list) trim the
/// allocator afterwards; after a result with many paths, the next query trims it again before
/// it starts (the result has usually been dropped by then).
const TRIM_AFTER_LABELS: u64 = 20_000;

/// A query returned a result of [`PRE_TRIM_PATH_ENTRIES`] or more since the last trim.
static LARGE_RESULT_OUT: AtomicBool = AtomicBool::new(false);

/// Path entries (nodes plus arcs) of a result after which the next query trims first: 4 MB of
/// `u32`s, whose `int64` copies in the bindings are 8 MB more.
const PRE_TRIM_PATH_ENTRIES: usize = 1 << 20;

/// Returns the allocator's free memory to the system after a result of a large query was
/// converted by a caller (the bindings): its paths were freed then, and glibc keeps freed
/// memory in the middle of the heap until trimmed.
pub fn release_after_large_result(generated: u64) {
    if generated >= TRIM_AFTER_LABELS {
        release_freed_memory();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_freed_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: glibc's malloc_trim only returns free heap pages to the kernel; it is thread-safe.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_freed_memory() {}

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
    let mut cb = |_: usize, sol: &Solution| on_solution(sol);
    Ok(dispatch(g, t, &[s], o, force_generic, &mut cb).remove(0))
}

/// Picks the cost model and algorithm and runs the queries from `sources` to `t`.
fn dispatch(
    g: &Graph,
    t: usize,
    sources: &[usize],
    o: &SearchOptions,
    force_generic: bool,
    cb: &mut dyn FnMut(usize, &Solution) -> ControlFlow,
) -> Vec<ParetoResult> {
    let risk = o.risk_aversion > 0.0;
    let td = o.departure.is_some();
    let epsilon = matches!(o.method, Method::Epsilon(e) if e > 0.0);
    let algo = |k: usize| match (force_generic, epsilon, k) {
        (true, _, _) => Algo::Ltmoa,
        (false, true, _) => Algo::Apex,
        (false, false, 2) => Algo::Boa,
        _ => Algo::Ltmoa,
    };
    if !td && !risk {
        let m = StaticCosts {
            costs: g.costs.as_slice(),
        };
        let a = algo(g.k);
        return match g.k {
            2 => run(Plan::<2, _>::new(g, t, o, &m, None, a), sources, cb),
            3 => run(Plan::<3, _>::new(g, t, o, &m, None, a), sources, cb),
            _ => run(Plan::<4, _>::new(g, t, o, &m, None, a), sources, cb),
        };
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
    let k = g.k + hidden as usize;
    let a = algo(k);
    match k {
        2 => run(Plan::<2, _>::new(g, t, o, &m, hid, a), sources, cb),
        3 => run(Plan::<3, _>::new(g, t, o, &m, hid, a), sources, cb),
        4 => run(Plan::<4, _>::new(g, t, o, &m, hid, a), sources, cb),
        _ => run(Plan::<5, _>::new(g, t, o, &m, hid, a), sources, cb),
    }
}

/// Solves many source/target pairs; one result per pair, in order.
///
/// Pairs are grouped by target; the groups run in parallel ([`crate::parallel`]) and the pairs of a group one
/// after another, sharing the lazily computed heuristics of their target.
pub fn pareto_many(
    g: &Graph,
    pairs: &[(i64, i64)],
    o: &SearchOptions,
) -> Vec<Result<ParetoResult>> {
    let mut out: Vec<Option<Result<ParetoResult>>> = (0..pairs.len()).map(|_| None).collect();
    let mut groups: std::collections::BTreeMap<usize, Vec<(usize, usize)>> = Default::default();
    for (i, &(s, t)) in pairs.iter().enumerate() {
        match validate(g, s, t, o) {
            Ok((s, t)) => groups.entry(t).or_default().push((i, s)),
            Err(e) => out[i] = Some(Err(e)),
        }
    }
    let groups: Vec<(usize, Vec<(usize, usize)>)> = groups.into_iter().collect();
    let solve = |gi: usize| -> Vec<(usize, ParetoResult)> {
        let (t, members) = &groups[gi];
        let sources: Vec<usize> = members.iter().map(|m| m.1).collect();
        let res = dispatch(g, *t, &sources, o, false, &mut |_, _| ControlFlow::Continue);
        members.iter().map(|m| m.0).zip(res).collect()
    };
    // The core's one parallelism policy; if no pool can be had, the groups run here, in order.
    let solved = parallel::par_map(parallel::ALL_CORES, groups.len(), solve)
        .unwrap_or_else(|_| (0..groups.len()).map(solve).collect());
    for (i, r) in solved.into_iter().flatten() {
        out[i] = Some(Ok(r));
    }
    out.into_iter().map(|r| r.unwrap()).collect()
}
