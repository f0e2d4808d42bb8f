//! Heuristics of the Pareto searches: per-objective distances to the target.
//!
//! Every heuristic here is the exact backward shortest-path distance to the target under an
//! admissible, consistent lower bound of each objective's arc cost, so it is admissible and
//! consistent itself: `f = g + h` never decreases along an arc, which is what the lexicographic
//! searches rely on (at a node, labels are popped in non-decreasing order of their first cost).
//!
//! [`Lazy`] runs one resumable backward Dijkstra per objective, advanced only as far as the
//! forward search asks (a node's heuristic is final once the node is settled):
//!
//! * A search stops for good once its smallest open key exceeds the objective's bound (every
//!   unsettled node is then beyond the bound, so its `f` is too).
//! * Before a node's searches are extended, [`Heuristic::bound`] gives the radius each search has
//!   reached (a lower bound of `h` at unsettled nodes); a label whose `g` plus that bound is out of
//!   bounds or dominated at the target is dropped without extending anything. So the searches
//!   settle what the front can use: a ball around the target of radius about the source's
//!   distance, plus what the surviving labels need, not the whole graph.
//! * Costs are read from [`Graph::reverse_lower_bounds`] (sequential, `f32` rounded down, so
//!   still admissible and consistent) when the cost model is static; the open list is a radix
//!   heap on the keys' bit patterns.
//! * The state lives in a [`LazySpace`] of zero-filled anonymous memory ([`Scratch`]) whose
//!   per-node entries are validated by an epoch stamp, so a query costs what it touches, not
//!   `O(n)`; spaces of small graphs are pooled, large ones unmapped after the query. The same
//!   state serves further queries to the same target with the same options
//!   ([`super::pareto::pareto_many`]).
//! * The wall-clock deadline is checked every 1024 settled nodes.

use std::sync::Mutex;
use std::time::Instant;

use super::buf::Scratch;
use super::search::CostModel;
use super::Graph;

/// Per-node heuristic vectors for the forward search.
pub(crate) trait Heuristic<const K: usize> {
    /// `h(u)`; a component is `+inf` when `u` cannot reach the target within that objective's
    /// bound (the label is then pruned).
    fn h(&mut self, u: usize) -> [f64; K];
    /// A lower bound of `h(u)` that costs no search, and whether it is `h(u)` itself: for a lazy
    /// heuristic, the radius each backward search has reached where `u` is not settled yet. A
    /// label whose `g + bound` is already out of bounds or dominated at the target can be dropped
    /// without extending the backward searches (what the front cannot use is never computed).
    fn bound(&self, u: usize) -> ([f64; K], bool);
    /// The deadline passed inside the heuristic: the search must stop, truncated.
    fn timed_out(&self) -> bool;
}

// ---------------------------------------------------------------------------------------------
// Lazy backward searches

/// A radix heap over non-negative `f64` keys (their bit patterns order like the values), with
/// duplicates allowed: Dijkstra's keys are monotone, so each entry moves down at most 64 buckets.
#[derive(Default)]
pub(crate) struct RadixHeap {
    last: u64,
    len: usize,
    buckets: Vec<Vec<(u64, u32)>>,
}

impl RadixHeap {
    fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        if self.buckets.len() != 65 {
            self.buckets = (0..65).map(|_| Vec::new()).collect();
        }
        for b in &mut self.buckets {
            if b.capacity() > KEEP_HEAP {
                *b = Vec::new();
            } else {
                b.clear();
            }
        }
    }

    #[inline(always)]
    fn bucket(last: u64, key: u64) -> usize {
        (64 - (key ^ last).leading_zeros()) as usize
    }

    #[inline]
    fn push(&mut self, key: f64, node: u32) {
        let k = key.to_bits();
        self.buckets[Self::bucket(self.last, k)].push((k, node));
        self.len += 1;
    }

    /// The smallest key, moving entries so that it sits in bucket 0.
    #[inline]
    fn peek_key(&mut self) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..65).find(|&i| !self.buckets[i].is_empty()).unwrap();
            let b = std::mem::take(&mut self.buckets[i]);
            let last = b.iter().map(|e| e.0).min().unwrap();
            self.last = last;
            for &e in &b {
                self.buckets[Self::bucket(last, e.0)].push(e);
            }
            let mut b = b;
            b.clear();
            self.buckets[i] = b;
        }
        Some(f64::from_bits(self.last))
    }

    /// Pops an entry of the smallest key; call after `peek_key` returned `Some`.
    #[inline]
    fn pop_min(&mut self) -> u32 {
        self.len -= 1;
        self.buckets[0].pop().unwrap().1
    }
}

/// Per-node state of one objective's backward search (all-zero = untouched).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct NodeState {
    dist: f64,
    /// Epoch in which `dist` is valid; the top bit marks the node settled.
    stamp: u32,
    _pad: u32,
}

// SAFETY: `repr(C)` with no implicit padding (8 + 4 + 4 bytes) and only plain numbers.
unsafe impl bytemuck::Zeroable for NodeState {}
unsafe impl bytemuck::Pod for NodeState {}

const SETTLED: u32 = 1 << 31;

/// Reusable state of the lazy backward searches; per-node entries are valid only when their stamp
/// equals the current epoch (epochs stay below `2^31`).
#[derive(Default)]
pub(crate) struct LazySpace {
    epoch: u32,
    /// Objectives of the last query (the cache stride is `k + 1`).
    k: usize,
    /// Per objective, per node.
    state: Vec<Scratch<NodeState>>,
    /// Final heuristic vectors, `K + 1` values per node: the epoch in which the vector is valid
    /// (as `f64` bits), then the vector; one cache line per lookup.
    cache: Scratch<f64>,
    heaps: Vec<RadixHeap>,
}

static LAZY_POOL: Mutex<Vec<LazySpace>> = Mutex::new(Vec::new());
/// Spaces kept for reuse; more concurrent queries than this allocate and free their own.
const POOL_KEEP: usize = 4;
/// Only spaces of small graphs are kept: a large graph's space is unmapped after its query, so
/// the process does not keep tens of MB per thread between queries (a query pays the page faults
/// of what it touches instead).
pub(crate) const POOL_BYTES: usize = 4 << 20;
/// A heap bucket grown beyond this many entries is freed rather than kept for the next query.
const KEEP_HEAP: usize = 1 << 15;

impl LazySpace {
    pub fn take() -> LazySpace {
        LAZY_POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default()
    }

    pub fn give_back(mut self) {
        let bytes: usize =
            self.state.iter().map(Scratch::bytes).sum::<usize>() + self.cache.bytes();
        if bytes > POOL_BYTES {
            return;
        }
        for h in &mut self.heaps {
            h.clear();
        }
        if let Ok(mut p) = LAZY_POOL.lock() {
            if p.len() < POOL_KEEP {
                p.push(self);
            }
        }
    }

    fn reset(&mut self, n: usize, k: usize) {
        // A larger graph, more objectives or another cache stride: start from clean arrays (stale
        // cache slots of another stride could otherwise read as a valid epoch).
        let fits = self.state.len() >= k && self.state[0].len() >= n;
        if !fits || self.k != k || self.cache.len() < n * (k + 1) {
            self.state = (0..k).map(|_| Scratch::zeroed(n)).collect();
            self.cache = Scratch::zeroed(n * (k + 1));
            self.k = k;
            self.epoch = 0;
        }
        self.epoch += 1;
        if self.epoch >= SETTLED {
            self.cache.fill(0.0);
            for s in &mut self.state {
                s.fill(NodeState::default());
            }
            self.epoch = 1;
        }
        self.heaps.resize_with(k, RadixHeap::default);
        for h in &mut self.heaps[..k] {
            h.clear();
        }
    }
}

/// Lazily advanced backward searches to one target (module docs).
pub(crate) struct Lazy<'a, const K: usize, C> {
    g: &'a Graph,
    model: &'a C,
    bounds: [f64; K],
    sp: LazySpace,
    /// Objective `i`'s search can settle nothing more within its bound.
    done: [bool; K],
    deadline: Option<Instant>,
    timed_out: bool,
    settled: u64,
}

impl<'a, const K: usize, C: CostModel<K>> Lazy<'a, K, C> {
    pub fn new(g: &'a Graph, t: usize, model: &'a C, bounds: [f64; K]) -> Self {
        let mut sp = LazySpace::take();
        sp.reset(g.n, K);
        let e = sp.epoch;
        for i in 0..K {
            sp.state[i][t] = NodeState {
                dist: 0.0,
                stamp: e,
                _pad: 0,
            };
            sp.heaps[i].push(0.0, t as u32);
        }
        Lazy {
            g,
            model,
            bounds,
            sp,
            done: [false; K],
            deadline: None,
            timed_out: false,
            settled: 0,
        }
    }

    /// Sets the deadline of the next query served by this heuristic.
    pub fn set_deadline(&mut self, d: Option<Instant>) {
        self.deadline = d;
        self.timed_out = false;
    }

    pub fn into_space(self) -> LazySpace {
        self.sp
    }

    /// Advances objective `i`'s search until `u` is settled or cannot be within the bound;
    /// returns `h_i(u)` (`+inf` beyond the bound, unreachable, or on timeout).
    fn settle_one(&mut self, i: usize, u: usize) -> f64 {
        let e = self.sp.epoch;
        let (off, tail, pos) = (
            self.g.rev_off.as_slice(),
            self.g.rev_tail.as_slice(),
            self.g.rev_pos.as_slice(),
        );
        let m = self.g.m;
        let rev = self.model.reverse_bounds(self.g);
        let state = &mut self.sp.state[i];
        let heap = &mut self.sp.heaps[i];
        loop {
            let su = state[u];
            if su.stamp == e | SETTLED {
                return su.dist;
            }
            if self.done[i] {
                return f64::INFINITY;
            }
            let key = match heap.peek_key() {
                Some(k) if k <= self.bounds[i] => k,
                _ => {
                    self.done[i] = true;
                    continue;
                }
            };
            let v = heap.pop_min() as usize;
            if state[v].stamp != e || state[v].dist != key {
                continue; // stale entry
            }
            state[v].stamp = e | SETTLED;
            self.settled += 1;
            if self.settled & 1023 == 0 {
                if let Some(d) = self.deadline {
                    if Instant::now() >= d {
                        self.timed_out = true;
                        return f64::INFINITY;
                    }
                }
            }
            for r in off[v] as usize..off[v + 1] as usize {
                let w = tail[r] as usize;
                let c = match rev {
                    Some(rc) => rc[i * m + r] as f64,
                    None => self.model.lower_bound(pos[r] as usize, i),
                };
                let nd = key + c;
                let sw = &mut state[w];
                if sw.stamp != e {
                    if sw.stamp == e | SETTLED {
                        continue;
                    }
                    *sw = NodeState {
                        dist: nd,
                        stamp: e,
                        _pad: 0,
                    };
                    heap.push(nd, w as u32);
                } else if nd < sw.dist {
                    sw.dist = nd;
                    heap.push(nd, w as u32);
                }
            }
        }
    }

    #[cold]
    fn settle(&mut self, u: usize) -> [f64; K] {
        let mut h = [0.0; K];
        for i in 0..K {
            h[i] = self.settle_one(i, u);
            if self.timed_out {
                return [f64::INFINITY; K];
            }
        }
        let c = &mut self.sp.cache[u * (K + 1)..(u + 1) * (K + 1)];
        c[0] = f64::from_bits(u64::from(self.sp.epoch));
        c[1..].copy_from_slice(&h);
        h
    }
}

impl<const K: usize, C: CostModel<K>> Heuristic<K> for Lazy<'_, K, C> {
    #[inline(always)]
    fn h(&mut self, u: usize) -> [f64; K] {
        let c = &self.sp.cache[u * (K + 1)..(u + 1) * (K + 1)];
        if c[0].to_bits() == u64::from(self.sp.epoch) {
            return c[1..].try_into().unwrap();
        }
        self.settle(u)
    }
    #[inline]
    fn bound(&self, u: usize) -> ([f64; K], bool) {
        let c = &self.sp.cache[u * (K + 1)..(u + 1) * (K + 1)];
        if c[0].to_bits() == u64::from(self.sp.epoch) {
            return (c[1..].try_into().unwrap(), true);
        }
        let e = self.sp.epoch;
        let mut b = [0.0; K];
        for i in 0..K {
            let st = self.sp.state[i][u];
            b[i] = if st.stamp == e | SETTLED {
                st.dist
            } else if self.done[i] {
                f64::INFINITY
            } else {
                // Every unsettled node is at least as far as the last key settled.
                f64::from_bits(self.sp.heaps[i].last)
            };
        }
        (b, false)
    }
    fn timed_out(&self) -> bool {
        self.timed_out
    }
}
