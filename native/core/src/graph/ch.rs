//! Contraction-hierarchy potentials ("CH-Potentials", Strasser and Zeitz): exact per-objective
//! distances to the target with no per-target search of the whole graph.
//!
//! Preprocessing, once per graph and objective (cached with the graph, like the reverse arcs):
//! a contraction hierarchy of the objective's static costs. Nodes are contracted one by one in
//! order of a priority (edge difference plus contracted neighbours, updated lazily); contracting
//! `v` adds a shortcut `u -> w` of cost `c(u, v) + c(v, w)` between every remaining in-neighbour
//! `u` and out-neighbour `w` unless a bounded witness search finds a path from `u` to `w` avoiding
//! `v` among the remaining nodes that is no longer. A witness search that gives up early only
//! adds a shortcut more, and every shortcut is the cost of a real path, so for every pair `v, t`
//! with `t` reachable the hierarchy holds an up-down path (ranks rising, then falling) of cost
//! exactly `dist(v, t)`, and no path of it is shorter (the classical CH invariant).
//!
//! Query, per objective: one backward Dijkstra from `t` over the arcs that go up in rank towards
//! `t`'s side (each arc `x -> y` with `rank(x) > rank(y)`, read at `y`) gives `down(x)`, the cost of
//! the cheapest falling path from `x` to `t`, on `t`'s search space (a few hundred nodes). Then
//! `h(v) = min(down(v), min over up arcs v -> w of c(v, w) + h(w))`, memoised per node: the up
//! arcs form a DAG (ranks rise), so the recursion ends, and it evaluates the minimum over every
//! up-down path from `v` to `t`, which is `dist(v, t)` by the invariant. So `h` is the exact
//! shortest distance, the same number the backward Dijkstra of [`super::heuristics::Lazy`]
//! computes, hence admissible and consistent, and the searches' fronts are the same.
//!
//! Exactness of the arithmetic: the hierarchy is used only when the reverse arcs are the exact
//! `u16` records with `narrow` set ([`super::csr::RevArcs::U16`]): every cost is an integer and
//! every shortest-path cost plus one arc stays below `u32::MAX`. All sums here are `u64`
//! integers, so they are exact whatever the summation order; shortcut costs that reach the cap
//! cannot lie on a shortest path and are dropped. A bound per objective is applied as the lazy
//! searches apply it: `h_i(v) = +inf` when `dist_i(v, t)` exceeds the bound. Time-dependent or
//! risk cost models (no static reverse records) keep the lazy searches.
//!
//! Memory per query: for each objective a stamp and a value per node (8 bytes a node), pooled
//! between queries; a query clears nothing (the stamps of an older query do not match).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use rayon::prelude::*;

use super::csr::RevArcs;
use super::heuristics::Heuristic;
use super::search::CostModel;
use super::Graph;

/// Costs at or above this are not stored (no shortest path reaches them: the `narrow` condition).
const CAP: u64 = u32::MAX as u64;
const INF: u32 = u32::MAX;

/// Nodes a witness search settles at most before it gives up (then the shortcut is added).
const WITNESS_SETTLE: usize = 500;

/// One objective's hierarchy: per node, its arcs to higher-ranked nodes (`up`, forward arcs
/// `v -> w`) and from higher-ranked nodes (`down`, arcs `x -> v` stored at `v` as `(x, cost)`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ch {
    up_off: Vec<u32>,
    up: Vec<(u32, u32)>,
    down_off: Vec<u32>,
    down: Vec<(u32, u32)>,
}

impl Ch {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        (self.up_off.capacity() + self.down_off.capacity()) * 4
            + (self.up.capacity() + self.down.capacity()) * 8
    }

    /// Builds the hierarchy of `n` nodes and arcs `(tail, head, cost)` (module docs).
    pub fn build(n: usize, arcs: impl Iterator<Item = (u32, u32, u32)>) -> Ch {
        // Remaining graph: per node, out and in lists of (neighbour, cost), parallel arcs merged.
        let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        let mut inn: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for (u, w, c) in arcs {
            if u != w {
                out[u as usize].push((w, c));
            }
        }
        for (u, l) in out.iter_mut().enumerate() {
            l.sort_unstable();
            l.dedup_by_key(|e| e.0);
            for &(w, c) in l.iter() {
                inn[w as usize].push((u as u32, c));
            }
        }
        let mut ws = Witness::new(n);
        // `deleted[v]`: contracted neighbours; `level[v]`: 1 + the highest level of a contracted
        // neighbour (the hierarchy's depth below `v`). Both spread the order so that upward
        // search spaces stay small.
        let mut deleted = vec![0u32; n];
        let mut level = vec![0u32; n];
        let mut done = vec![false; n];
        let mut prio = vec![0u64; n];
        let mut heap = BinaryHeap::with_capacity(n);
        let mut sc = Vec::new();
        for v in 0..n {
            prio[v] = priority(v, &out, &inn, (&deleted, &level), &done, &mut ws, &mut sc);
            heap.push(Reverse((prio[v], v as u32)));
        }
        let mut up: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        let mut down: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        let mut nbrs: Vec<u32> = Vec::new();
        while let Some(Reverse((p, v))) = heap.pop() {
            let v = v as usize;
            // Stale entry: contracted, or its priority changed since it was pushed.
            if done[v] || p != prio[v] {
                continue;
            }
            // Lazy update: contract `v` only if its fresh priority still is the smallest.
            let q = priority(v, &out, &inn, (&deleted, &level), &done, &mut ws, &mut sc);
            if q > p {
                if let Some(Reverse((next, _))) = heap.peek() {
                    if q > *next {
                        prio[v] = q;
                        heap.push(Reverse((q, v as u32)));
                        continue;
                    }
                }
            }
            shortcuts(v, &out, &inn, &done, &mut ws, &mut sc);
            done[v] = true;
            up[v] = std::mem::take(&mut out[v]);
            down[v] = std::mem::take(&mut inn[v]);
            nbrs.clear();
            for &(w, _) in &up[v] {
                inn[w as usize].retain(|e| e.0 as usize != v);
                nbrs.push(w);
            }
            for &(u, _) in &down[v] {
                out[u as usize].retain(|e| e.0 as usize != v);
                nbrs.push(u);
            }
            for &(u, w, c) in &sc {
                add_arc(&mut out[u as usize], w, c);
                add_arc(&mut inn[w as usize], u, c);
            }
            nbrs.sort_unstable();
            nbrs.dedup();
            for &w in &nbrs {
                let w = w as usize;
                deleted[w] += 1;
                level[w] = level[w].max(level[v] + 1);
            }
            for &w in &nbrs {
                let w = w as usize;
                let q = priority(w, &out, &inn, (&deleted, &level), &done, &mut ws, &mut sc);
                if q != prio[w] {
                    prio[w] = q;
                    heap.push(Reverse((q, w as u32)));
                }
            }
        }
        let pack = |lists: Vec<Vec<(u32, u32)>>| {
            let mut off = Vec::with_capacity(n + 1);
            let mut flat = Vec::with_capacity(lists.iter().map(Vec::len).sum());
            off.push(0u32);
            for l in lists {
                flat.extend_from_slice(&l);
                off.push(flat.len() as u32);
            }
            (off, flat)
        };
        let (up_off, up) = pack(up);
        let (down_off, down) = pack(down);
        Ch {
            up_off,
            up,
            down_off,
            down,
        }
    }
}

/// Sets arc `(to, c)` in a list, keeping the cheaper of parallel arcs.
fn add_arc(l: &mut Vec<(u32, u32)>, to: u32, c: u32) {
    if let Some(e) = l.iter_mut().find(|e| e.0 == to) {
        e.1 = e.1.min(c);
    } else {
        l.push((to, c));
    }
}

/// Contraction priority of `v`: shortcuts it would add minus arcs it removes, plus its contracted
/// neighbours and its level. Edge differences can be negative: offset to `u64`.
fn priority(
    v: usize,
    out: &[Vec<(u32, u32)>],
    inn: &[Vec<(u32, u32)>],
    (deleted, level): (&[u32], &[u32]),
    done: &[bool],
    ws: &mut Witness,
    sc: &mut Vec<(u32, u32, u32)>,
) -> u64 {
    shortcuts(v, out, inn, done, ws, sc);
    let removed = out[v].len() + inn[v].len();
    (1u64 << 32) + 2 * sc.len() as u64 + u64::from(deleted[v]) + u64::from(level[v])
        - 2 * removed as u64
}

/// The shortcuts contracting `v` needs, into `sc` as `(u, w, cost)`.
fn shortcuts(
    v: usize,
    out: &[Vec<(u32, u32)>],
    inn: &[Vec<(u32, u32)>],
    done: &[bool],
    ws: &mut Witness,
    sc: &mut Vec<(u32, u32, u32)>,
) {
    sc.clear();
    if out[v].is_empty() || inn[v].is_empty() {
        return;
    }
    let max_out = out[v].iter().map(|e| u64::from(e.1)).max().unwrap_or(0);
    for &(u, cu) in &inn[v] {
        let limit = u64::from(cu) + max_out;
        ws.run(u as usize, v, limit, out, done);
        for &(w, cw) in &out[v] {
            if w == u {
                continue;
            }
            let via = u64::from(cu) + u64::from(cw);
            if via >= CAP {
                continue;
            }
            if ws.dist(w as usize) > via {
                sc.push((u, w, via as u32));
            }
        }
    }
}

/// Bounded Dijkstra among the remaining nodes, avoiding one node.
struct Witness {
    dist: Vec<u64>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Witness {
    fn new(n: usize) -> Self {
        Witness {
            dist: vec![u64::MAX; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn dist(&self, v: usize) -> u64 {
        self.dist[v]
    }

    fn run(&mut self, s: usize, avoid: usize, limit: u64, out: &[Vec<(u32, u32)>], done: &[bool]) {
        for &v in &self.touched {
            self.dist[v as usize] = u64::MAX;
        }
        self.touched.clear();
        self.heap.clear();
        self.dist[s] = 0;
        self.touched.push(s as u32);
        self.heap.push(Reverse((0, s as u32)));
        let mut settled = 0;
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let v = v as usize;
            if d > self.dist[v] {
                continue;
            }
            if d > limit || settled >= WITNESS_SETTLE {
                break;
            }
            settled += 1;
            for &(w, c) in &out[v] {
                let w = w as usize;
                if w == avoid || done[w] {
                    continue;
                }
                let nd = d + u64::from(c);
                if nd < self.dist[w] {
                    if self.dist[w] == u64::MAX {
                        self.touched.push(w as u32);
                    }
                    self.dist[w] = nd;
                    self.heap.push(Reverse((nd, w as u32)));
                }
            }
        }
    }
}

/// The hierarchies of a graph's objectives, when its static costs allow them (module docs).
pub(crate) type ChSet = Option<Vec<Ch>>;

/// Graphs with fewer nodes keep the lazy searches (they are cheap there, and a hierarchy would
/// cost its build on every freshly built small graph): `RIDGELINE_ROUTING_CH_MIN_NODES`, default
/// 50,000; `RIDGELINE_ROUTING_CH=0` turns the hierarchies off.
fn min_nodes() -> usize {
    static M: OnceLock<usize> = OnceLock::new();
    *M.get_or_init(|| {
        if std::env::var("RIDGELINE_ROUTING_CH").is_ok_and(|v| v.trim() == "0") {
            return usize::MAX;
        }
        std::env::var("RIDGELINE_ROUTING_CH_MIN_NODES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(50_000)
    })
}

/// Whether a query may start the build itself (`RIDGELINE_ROUTING_CH=auto`). By default only
/// [`Graph::prepare_hierarchies`] builds them: they hold 36 MB for NY k = 3, which a process
/// that did not ask for the speed should not pay (issue 20's resident-memory goal).
fn auto_build() -> bool {
    static A: OnceLock<bool> = OnceLock::new();
    *A.get_or_init(|| std::env::var("RIDGELINE_ROUTING_CH").is_ok_and(|v| v.trim() == "auto"))
}

/// How a query asks for the hierarchies ([`Graph::hierarchies`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ChUse {
    /// Graphs from the size threshold on: use them when built (else, with
    /// `RIDGELINE_ROUTING_CH=auto`, start building them in a background thread), and answer
    /// with the lazy searches until then.
    Default,
    /// Whatever the size: build them now if needed (tests, [`Graph::prepare_hierarchies`]).
    Now,
    /// Whatever the size, as `Default` otherwise (tests of the background build).
    #[cfg_attr(not(test), allow(dead_code))]
    Background,
}

/// The hierarchies of `n` nodes from forward CSR arrays and `k` integer costs per arc.
fn build_all(n: usize, k: usize, off: &[u32], head: &[u32], costs: &[u32]) -> ChSet {
    let build = |i: usize| {
        Ch::build(
            n,
            (0..n).flat_map(move |u| {
                (off[u] as usize..off[u + 1] as usize)
                    .map(move |p| (u as u32, head[p], costs[p * k + i]))
            }),
        )
    };
    // One hierarchy per objective, on the core's pool.
    let chs = (0..k).into_par_iter().map(build).collect();
    // The build's adjacency lists (several times the result) are freed by now.
    super::pareto::release_freed_memory();
    Some(chs)
}

impl Graph {
    /// The objectives' hierarchies if they apply and are built (module docs): static exact
    /// narrow integer costs, and a graph of at least the threshold's nodes unless `how` says
    /// otherwise. A query never waits for a build it did not ask for with [`ChUse::Now`]: with
    /// `RIDGELINE_ROUTING_CH=auto` the first query that wants them starts the build in a
    /// background thread (on copies of the arrays, so the thread owns what it reads) and keeps
    /// the lazy searches until it is done.
    pub(crate) fn hierarchies(&self, how: ChUse) -> Option<&[Ch]> {
        if how == ChUse::Default && self.n < min_nodes() {
            return None;
        }
        if let Some(c) = self.ch.get() {
            return c.as_deref();
        }
        let RevArcs::U16 { narrow: true, .. } = self.reverse_lower_bounds() else {
            return None;
        };
        let (n, k) = (self.n, self.k);
        // Exact: every cost is an integer in `0..=65535` (the `U16` records).
        let costs = || -> Vec<u32> { self.costs.as_slice().iter().map(|&c| c as u32).collect() };
        if how == ChUse::Now {
            return self
                .ch
                .get_or_init(|| {
                    build_all(
                        n,
                        k,
                        self.fwd_off.as_slice(),
                        self.fwd_head.as_slice(),
                        &costs(),
                    )
                })
                .as_deref();
        }
        if how == ChUse::Default && !auto_build() {
            return None;
        }
        if !self
            .ch_started
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            let (off, head, costs) = (
                self.fwd_off.as_slice().to_vec(),
                self.fwd_head.as_slice().to_vec(),
                costs(),
            );
            let cell = self.ch.clone();
            let spawned = std::thread::Builder::new()
                .name("ridgeline-ch".into())
                .spawn(move || {
                    cell.get_or_init(|| build_all(n, k, &off, &head, &costs));
                });
            if spawned.is_err() {
                // No thread: a later query may try again.
                self.ch_started
                    .store(false, std::sync::atomic::Ordering::Release);
            }
        }
        None
    }

    /// Builds the hierarchies now if they apply to this graph (a static query would use them;
    /// waits for a background build in progress); returns their bytes (0 when they do not
    /// apply). Load-time work: a server calls it when it loads a large graph.
    pub fn prepare_hierarchies(&self) -> usize {
        if self.n < min_nodes() {
            return 0;
        }
        self.hierarchies(ChUse::Now)
            .map_or(0, |c| c.iter().map(Ch::bytes).sum())
    }

    /// Whether the hierarchies are built (tests of the background build).
    #[cfg(test)]
    pub(crate) fn hierarchies_ready(&self) -> bool {
        self.ch.get().is_some()
    }
}

/// Per-query memo of one objective: `stamp[v] == 2 * epoch` means `val[v]` is `down(v)` (seed
/// from the backward search), `2 * epoch + 1` that it is the final `h(v)`.
#[derive(Default)]
struct Memo {
    stamp: Vec<u32>,
    val: Vec<u32>,
}

/// Pooled per-query state (module docs).
#[derive(Default)]
pub(crate) struct ChSpace {
    memo: Vec<Memo>,
    epoch: u32,
    stack: Vec<(u32, u32, u32)>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
    /// Graph, target and objectives the current epoch's memo is for: a later query with the
    /// same key reuses it (the values depend on nothing else; bounds apply when read).
    key: Option<(u64, usize, usize)>,
}

/// Spaces kept between queries, most recently used last.
static POOL: Mutex<Vec<ChSpace>> = Mutex::new(Vec::new());

const POOL_KEEP: usize = 2;

impl ChSpace {
    /// The space whose memo is for `key` (and `true`), else one to reuse with a new epoch.
    fn take(n: usize, key: (u64, usize, usize)) -> (ChSpace, bool) {
        let k = key.2;
        let mut sp = match POOL.lock() {
            Ok(mut p) => {
                if let Some(i) = p.iter().rposition(|s| s.key == Some(key)) {
                    return (p.remove(i), true);
                }
                // The least recently used one.
                if p.is_empty() {
                    ChSpace::default()
                } else {
                    p.remove(0)
                }
            }
            Err(_) => ChSpace::default(),
        };
        sp.key = Some(key);
        sp.memo.resize_with(k, Memo::default);
        // Epochs advance by one per query; stamps `2e` and `2e + 1` stay below `u32::MAX`.
        sp.epoch += 1;
        let wrap = sp.epoch >= (u32::MAX >> 1) - 1;
        if wrap {
            sp.epoch = 1;
        }
        for m in &mut sp.memo {
            if m.stamp.len() != n || wrap {
                m.stamp.clear();
                m.stamp.resize(n, 0);
                m.val.resize(n, 0);
            }
        }
        (sp, false)
    }

    fn give_back(self) {
        if let Ok(mut p) = POOL.lock() {
            // A NY k = 3 space is 6.3 MB: keep the two most recent targets' memos.
            p.push(self);
            while p.len() > POOL_KEEP {
                p.remove(0);
            }
        }
    }
}

/// Exact heuristics from the hierarchies (module docs).
pub(crate) struct ChHeur<'a, const K: usize> {
    chs: &'a [Ch],
    bounds: [f64; K],
    sp: Option<ChSpace>,
    deadline: Option<Instant>,
    timed_out: bool,
    /// `h` evaluations since the last deadline check.
    work: u32,
}

impl<'a, const K: usize> ChHeur<'a, K> {
    /// The hierarchy heuristic when the model's bounds are the graph's static exact costs.
    pub fn new<C: CostModel<K>>(
        g: &'a Graph,
        t: usize,
        model: &C,
        bounds: [f64; K],
        how: ChUse,
    ) -> Option<Self> {
        // Only the static model has the reverse records; its objectives are the graph's.
        model.reverse_bounds(g)?;
        if K != g.k {
            return None;
        }
        let chs = g.hierarchies(how)?;
        let (mut sp, same_target) = ChSpace::take(g.n, (g.uid, t, K));
        let seed = 2 * sp.epoch;
        // A memo of the same target is valid as it stands (its searches ran to completion).
        for (i, ch) in chs.iter().enumerate().filter(|_| !same_target) {
            let m = &mut sp.memo[i];
            let heap = &mut sp.heap;
            heap.clear();
            m.stamp[t] = seed;
            m.val[t] = 0;
            heap.push(Reverse((0, t as u32)));
            while let Some(Reverse((d, y))) = heap.pop() {
                let y = y as usize;
                if d > m.val[y] {
                    continue;
                }
                for &(x, c) in &ch.down[ch.down_off[y] as usize..ch.down_off[y + 1] as usize] {
                    let nd = u64::from(d) + u64::from(c);
                    if nd >= CAP {
                        continue;
                    }
                    let x = x as usize;
                    if m.stamp[x] != seed || (nd as u32) < m.val[x] {
                        m.stamp[x] = seed;
                        m.val[x] = nd as u32;
                        heap.push(Reverse((nd as u32, x as u32)));
                    }
                }
            }
        }
        Some(ChHeur {
            chs,
            bounds,
            sp: Some(sp),
            deadline: None,
            timed_out: false,
            work: 0,
        })
    }

    pub fn set_deadline(&mut self, d: Option<Instant>) {
        self.deadline = d;
        self.timed_out = false;
    }

    pub fn finish(mut self) {
        if let Some(sp) = self.sp.take() {
            sp.give_back();
        }
    }

    /// Exact `dist_i(u, t)` as an integer (`INF` when unreachable), memoised.
    fn eval(&mut self, i: usize, u: usize) -> u32 {
        let sp = self.sp.as_mut().expect("space held until finish");
        let (seed, fin) = (2 * sp.epoch, 2 * sp.epoch + 1);
        let m = &mut sp.memo[i];
        if m.stamp[u] == fin {
            return m.val[u];
        }
        let ch = &self.chs[i];
        let start = |m: &Memo, v: usize| if m.stamp[v] == seed { m.val[v] } else { INF };
        // Frames (node, next up arc, best so far); the up arcs form a DAG, so no node is on the
        // stack twice.
        let stack = &mut sp.stack;
        stack.clear();
        stack.push((u as u32, ch.up_off[u], start(m, u)));
        loop {
            let top = stack.len() - 1;
            let (v, a, best) = stack[top];
            if a < ch.up_off[v as usize + 1] {
                let (w, c) = ch.up[a as usize];
                stack[top].1 = a + 1;
                let w = w as usize;
                if m.stamp[w] == fin {
                    let hw = m.val[w];
                    if hw != INF {
                        let cand = u64::from(c) + u64::from(hw);
                        if cand < u64::from(best) {
                            stack[top].2 = cand as u32;
                        }
                    }
                } else {
                    stack.push((w as u32, ch.up_off[w], start(m, w)));
                }
                continue;
            }
            // `v` is final.
            m.stamp[v as usize] = fin;
            m.val[v as usize] = best;
            stack.pop();
            let Some(parent) = stack.last_mut() else {
                return best;
            };
            if best != INF {
                let c = ch.up[parent.1 as usize - 1].1;
                let cand = u64::from(c) + u64::from(best);
                if cand < u64::from(parent.2) {
                    parent.2 = cand as u32;
                }
            }
        }
    }
}

impl<const K: usize> Heuristic<K> for ChHeur<'_, K> {
    #[inline]
    fn h(&mut self, u: usize) -> [f64; K] {
        if self.timed_out {
            return [f64::INFINITY; K];
        }
        // The first call and every 1024th check the deadline.
        self.work = self.work.wrapping_add(1);
        if self.work & 1023 == 1 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.timed_out = true;
            return [f64::INFINITY; K];
        }
        std::array::from_fn(|i| {
            let d = self.eval(i, u);
            if d == INF || f64::from(d) > self.bounds[i] {
                f64::INFINITY
            } else {
                f64::from(d)
            }
        })
    }

    #[inline]
    fn bound(&self, u: usize) -> ([f64; K], bool) {
        // Final memo entries are exact; else no search-free bound but zero.
        let sp = self.sp.as_ref().expect("space held until finish");
        let fin = 2 * sp.epoch + 1;
        if sp.memo[..K].iter().all(|m| m.stamp[u] == fin) {
            let h = std::array::from_fn(|i| {
                let d = sp.memo[i].val[u];
                if d == INF || f64::from(d) > self.bounds[i] {
                    f64::INFINITY
                } else {
                    f64::from(d)
                }
            });
            return (h, true);
        }
        ([0.0; K], false)
    }

    fn timed_out(&self) -> bool {
        self.timed_out
    }
}

impl<const K: usize> Drop for ChHeur<'_, K> {
    fn drop(&mut self) {
        if let Some(sp) = self.sp.take() {
            sp.give_back();
        }
    }
}
