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
//! * The state lives in a [`LazySpace`]: `K + 1` words per node (a stamp word holding the epoch
//!   and the mask of objectives whose search settled the node, then the `K` distances), so a
//!   lookup reads one cache line; the array is zero-filled anonymous memory ([`Scratch`]) whose
//!   entries are valid only under the current epoch, so a query costs what it touches, not `O(n)`.
//! * Reuse across queries: a space remembers what it was computed for (graph, target, number of
//!   objectives, cost model's lower bounds, bounds: [`HeurKey`]) and is kept, after its query, in a
//!   small process-wide LRU with a byte budget (`RIDGELINE_ROUTING_HEURISTIC_CACHE_MB`, default
//!   16). A later query with the same key resumes the searches where they stopped: the settled
//!   distances are exact whatever query settled them, and the open lists are exactly the state of
//!   an interrupted Dijkstra, so resuming equals running it further. A cache miss recycles the
//!   least recently used space's memory (a new epoch; no clearing). Within one call,
//!   [`super::pareto::pareto_many`] shares the space between the pairs of one target.
//! * The wall-clock deadline is checked every 1024 heap pops, before a pop, so an interrupted
//!   search is left resumable (no node is marked settled without its arcs relaxed).

use std::sync::{Mutex, OnceLock};
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

/// What a [`LazySpace`]'s distances were computed for; equal keys give equal distances.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct HeurKey {
    graph: u64,
    t: usize,
    k: usize,
    model: [u64; 2],
    /// Per objective, the bound's bits (`+inf` when unbounded); unused slots zero.
    bounds: [u64; MAX_K],
}

const MAX_K: usize = 5;
/// Bit of objective `i` in a node's stamp word: `1 << (MASK_SHIFT + i)`.
const MASK_SHIFT: u32 = 32;
const EPOCH_BITS: u64 = 0xffff_ffff;

/// Reusable state of the lazy backward searches (module docs).
#[derive(Default)]
pub(crate) struct LazySpace {
    /// Current epoch, `1..2^31`; a node's entries are valid only when its stamp's low 32 bits
    /// equal it.
    epoch: u32,
    /// Objectives of the current key (the stride is `k + 1`).
    k: usize,
    /// Per node `k + 1` words: the stamp (epoch | settled mask << 32, as `f64` bits), then the
    /// tentative or final distance per objective.
    node: Scratch<f64>,
    heaps: Vec<RadixHeap>,
    /// Objective `i`'s search can settle nothing more within its bound.
    done: [bool; MAX_K],
    /// Heap pops, for the deadline check.
    pops: u64,
    key: Option<HeurKey>,
}

/// Most recently used last.
static CACHE: Mutex<Vec<LazySpace>> = Mutex::new(Vec::new());

/// Bytes of heuristic state the cache keeps between queries.
fn budget() -> usize {
    static B: OnceLock<usize> = OnceLock::new();
    *B.get_or_init(|| {
        std::env::var("RIDGELINE_ROUTING_HEURISTIC_CACHE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|mb| mb.is_finite() && *mb >= 0.0)
            .map_or(16 << 20, |mb| (mb * (1u64 << 20) as f64) as usize)
    })
}

/// Most spaces the cache keeps (its lookups scan them).
const CACHE_KEEP: usize = 32;

/// A heap bucket grown beyond this many entries is freed when its space is recycled.
const KEEP_HEAP: usize = 1 << 15;

/// Per-node state of graphs up to this size is pooled between queries by [`super::front`]; a
/// larger graph's is unmapped after each query.
pub(crate) const POOL_BYTES: usize = 4 << 20;

impl LazySpace {
    fn bytes(&self) -> usize {
        self.node.bytes()
            + self
                .heaps
                .iter()
                .map(|h| h.buckets.iter().map(|b| b.capacity() * 12).sum::<usize>())
                .sum::<usize>()
    }

    /// The cached space for `key` (and `true`), else a space to reset: the least recently used
    /// one when keeping another would exceed the budget, else a new one.
    fn take(key: &HeurKey, n: usize) -> (LazySpace, bool) {
        let Ok(mut c) = CACHE.lock() else {
            return (LazySpace::default(), false);
        };
        if let Some(i) = c.iter().rposition(|s| s.key.as_ref() == Some(key)) {
            return (c.remove(i), true);
        }
        let need = n * (key.k + 1) * 8;
        let held: usize = c.iter().map(LazySpace::bytes).sum();
        if !c.is_empty() && (held + need > budget() || c.len() >= CACHE_KEEP) {
            // Prefer a space already large enough, so its mapping is reused.
            let i = c
                .iter()
                .position(|s| s.node.len() >= n * (key.k + 1))
                .unwrap_or(0);
            return (c.remove(i), false);
        }
        (LazySpace::default(), false)
    }

    /// Keeps the space for later queries with its key, evicting the least recently used spaces
    /// beyond the budget (their memory is unmapped).
    pub fn give_back(self) {
        if self.key.is_none() || self.bytes() > budget() {
            return;
        }
        if let Ok(mut c) = CACHE.lock() {
            c.push(self);
            let mut held: usize = c.iter().map(LazySpace::bytes).sum();
            while held > budget() || c.len() > CACHE_KEEP {
                held -= c.remove(0).bytes();
            }
        }
    }

    fn reset(&mut self, n: usize, k: usize, key: HeurKey) {
        if self.node.len() < n * (k + 1) {
            self.node = Scratch::zeroed(n * (k + 1));
            self.epoch = 0;
        }
        self.k = k;
        self.epoch += 1;
        if self.epoch >= 1 << 31 {
            self.node.fill(0.0);
            self.epoch = 1;
        }
        self.heaps.resize_with(k, RadixHeap::default);
        for h in &mut self.heaps {
            h.clear();
        }
        self.done = [false; MAX_K];
        self.pops = 0;
        self.key = Some(key);
    }
}

/// Lazily advanced backward searches to one target (module docs).
pub(crate) struct Lazy<'a, const K: usize, C> {
    g: &'a Graph,
    model: &'a C,
    bounds: [f64; K],
    sp: LazySpace,
    deadline: Option<Instant>,
    timed_out: bool,
}

impl<'a, const K: usize, C: CostModel<K>> Lazy<'a, K, C> {
    const FULL: u64 = ((1u64 << K) - 1) << MASK_SHIFT;

    pub fn new(g: &'a Graph, t: usize, model: &'a C, bounds: [f64; K]) -> Self {
        assert!(K <= MAX_K);
        let mut kb = [0u64; MAX_K];
        for i in 0..K {
            kb[i] = bounds[i].to_bits();
        }
        let key = HeurKey {
            graph: g.uid,
            t,
            k: K,
            model: model.heuristic_key(),
            bounds: kb,
        };
        let (mut sp, resumed) = LazySpace::take(&key, g.n);
        if !resumed {
            sp.reset(g.n, K, key);
            let e = f64::from_bits(u64::from(sp.epoch));
            let row = &mut sp.node[t * (K + 1)..(t + 1) * (K + 1)];
            row[0] = e;
            row[1..].fill(0.0);
            for h in &mut sp.heaps {
                h.push(0.0, t as u32);
            }
        }
        Lazy {
            g,
            model,
            bounds,
            sp,
            deadline: None,
            timed_out: false,
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
        let e = u64::from(self.sp.epoch);
        let bit = 1u64 << (MASK_SHIFT + i as u32);
        let st = K + 1;
        let (off, tail, pos) = (
            self.g.rev_off.as_slice(),
            self.g.rev_tail.as_slice(),
            self.g.rev_pos.as_slice(),
        );
        let m = self.g.m;
        let rev = self.model.reverse_bounds(self.g);
        let node = &mut self.sp.node[..];
        let heap = &mut self.sp.heaps[i];
        loop {
            let su = node[u * st].to_bits();
            if su & EPOCH_BITS == e && su & bit != 0 {
                return node[u * st + 1 + i];
            }
            if self.sp.done[i] {
                return f64::INFINITY;
            }
            let key = match heap.peek_key() {
                Some(k) if k <= self.bounds[i] => k,
                _ => {
                    self.sp.done[i] = true;
                    continue;
                }
            };
            self.sp.pops += 1;
            if self.sp.pops & 1023 == 0 {
                if let Some(d) = self.deadline {
                    if Instant::now() >= d {
                        self.timed_out = true;
                        return f64::INFINITY;
                    }
                }
            }
            let v = heap.pop_min() as usize;
            let sv = node[v * st].to_bits();
            // Pushed in this epoch, so stamped with it; stale if settled or improved since.
            if sv & bit != 0 || node[v * st + 1 + i] != key {
                continue;
            }
            node[v * st] = f64::from_bits(sv | bit);
            for r in off[v] as usize..off[v + 1] as usize {
                let w = tail[r] as usize;
                let c = match rev {
                    Some(rc) => rc[i * m + r] as f64,
                    None => self.model.lower_bound(pos[r] as usize, i),
                };
                let nd = key + c;
                let row = &mut node[w * st..(w + 1) * st];
                let sw = row[0].to_bits();
                if sw & EPOCH_BITS != e {
                    row[0] = f64::from_bits(e);
                    row[1..].fill(f64::INFINITY);
                } else if sw & bit != 0 {
                    continue;
                }
                if nd < row[1 + i] {
                    row[1 + i] = nd;
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
        // Every search has settled `u` or is done (then `h_i(u) = +inf` for good: the key fixes
        // the bounds), so the vector is final: mark it so the next lookup is one read.
        let e = u64::from(self.sp.epoch);
        let row = &mut self.sp.node[u * (K + 1)..(u + 1) * (K + 1)];
        row[0] = f64::from_bits(e | Self::FULL);
        row[1..].copy_from_slice(&h);
        h
    }
}

impl<const K: usize, C: CostModel<K>> Heuristic<K> for Lazy<'_, K, C> {
    #[inline(always)]
    fn h(&mut self, u: usize) -> [f64; K] {
        let row = &self.sp.node[u * (K + 1)..(u + 1) * (K + 1)];
        if row[0].to_bits() == u64::from(self.sp.epoch) | Self::FULL {
            return row[1..].try_into().unwrap();
        }
        self.settle(u)
    }
    #[inline]
    fn bound(&self, u: usize) -> ([f64; K], bool) {
        let e = u64::from(self.sp.epoch);
        let row = &self.sp.node[u * (K + 1)..(u + 1) * (K + 1)];
        let su = row[0].to_bits();
        if su == e | Self::FULL {
            return (row[1..].try_into().unwrap(), true);
        }
        let valid = su & EPOCH_BITS == e;
        let mut b = [0.0; K];
        for i in 0..K {
            b[i] = if valid && su & (1u64 << (MASK_SHIFT + i as u32)) != 0 {
                row[1 + i]
            } else if self.sp.done[i] {
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
