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
//! * Costs are read from [`Graph::reverse_lower_bounds`] when the cost model is static: one
//!   record per reverse arc holding its tail and costs (exact `u16` when every cost is a small
//!   integer, the tail then as a 16-bit offset from the head with the rare far tails in a side
//!   list; else `f32` rounded down, so still admissible and consistent), so a settled node's
//!   arcs are one sequential read. The open list is a radix heap on the keys' bit patterns.
//! * The state lives in a [`LazySpace`], laid out per objective so that one search's random
//!   accesses stay in a small region: `n` distances and two state bits a node (unreached,
//!   reached, settled: 66 KB for NY) per objective, plus one bit a node saying that `h(v)` is
//!   final. The distances are exact `u32`s (1 MB for NY) when the reverse arcs are the exact
//!   `u16` records and no objective's simple-path cost plus one arc reaches `u32::MAX` (the sum
//!   over nodes of their largest outgoing cost bounds any shortest path, since it leaves each
//!   node at most once; a tentative distance is a settled one plus one arc): every stored value
//!   is then an integer that `u32` holds exactly, so the searches compute exactly what they
//!   would in `f64` (keys stay `f64` in the heap). Else `f64` (2 MB for NY). The distance
//!   array is anonymous memory ([`Scratch`]) that is never cleared: a distance is read only where the state bits say it was written in this space's
//!   current use, and reusing a space clears only the state words of the nodes it touched (or
//!   the whole bit arrays, 0.2 MB for NY, after a large query), so a query costs what it
//!   touches, not `O(n)`.
//! * Reuse across queries: a space remembers what it was computed for (graph, target, number of
//!   objectives, cost model's lower bounds, bounds: [`HeurKey`]) and is kept, after its query, in a
//!   small process-wide LRU with a byte budget (`RIDGELINE_ROUTING_HEURISTIC_CACHE_MB`, default
//!   4: one NY-sized three-objective space of 3.4 MB, or two of the turn-expanded Andorra graph's
//!   (the routing service raises it to 64); every byte
//!   of a kept space is counted: distances, state bits, touched list and open lists). A later
//!   query with the same key resumes the searches where they stopped: the settled
//!   distances are exact whatever query settled them, and the open lists are exactly the state of
//!   an interrupted Dijkstra, so resuming equals running it further. A cache miss recycles the
//!   least recently used space's memory (its state bits cleared as above). Within one call,
//!   [`super::pareto::pareto_many`] shares the space between the pairs of one target.
//! * The wall-clock deadline is checked every 1024 heap pops, before a pop, so an interrupted
//!   search is left resumable (no node is marked settled without its arcs relaxed).

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::buf::Scratch;
use super::csr::{u16_tail, RevArcs};
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
/// Node state in objective `i`'s search, two bits a node: unreached, reached (tentative
/// distance), settled (final distance).
const REACHED: u64 = 1;
const SETTLED: u64 = 3;

/// Reusable state of the lazy backward searches (module docs).
#[derive(Default)]
pub(crate) struct LazySpace {
    /// Objectives and nodes of the current key.
    k: usize,
    n: usize,
    /// Per objective `i`, `dist[i * n + v]`: `v`'s tentative or final distance, meaningful only
    /// where `v`'s state says reached (or, for a node marked full, its final `h_i`). Never
    /// cleared: the state bits say what is valid. In `dist32` instead when `narrow`.
    dist: Scratch<f64>,
    /// The distances as exact `u32`s (`u32::MAX` for `+inf`): the reverse arcs have exact
    /// integer costs and no simple path's cost plus one arc reaches `u32::MAX`
    /// ([`RevArcs::U16`]'s `narrow`), so every distance the search stores is an integer that
    /// fits. Half the memory of `f64`; the values, and so the search, are identical.
    dist32: Scratch<u32>,
    narrow: bool,
    /// Per objective `i`, `state[i * sw + v / 32]` holds `v`'s two state bits.
    state: Vec<u64>,
    /// `full[v / 64]`: every objective's `h(v)` is final (a lookup is then `K` reads).
    full: Vec<u64>,
    /// Nodes whose state words to clear on reuse, up to `touched_cap`; past it (`overflow`)
    /// the state arrays are cleared whole, which then costs less than the list would.
    touched: Vec<u32>,
    overflow: bool,
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
            .map_or(4 << 20, |mb| (mb * (1u64 << 20) as f64) as usize)
    })
}

/// Most spaces the cache keeps (its lookups scan them).
const CACHE_KEEP: usize = 32;

/// A heap bucket grown beyond this many entries is freed when its space is recycled.
const KEEP_HEAP: usize = 1 << 15;

/// Per-node state of graphs up to this size is pooled between queries by [`super::front`]; a
/// larger graph's is unmapped after each query.
pub(crate) const POOL_BYTES: usize = 4 << 20;

/// Words of a 2-bit-per-node state array of `n` nodes.
fn state_words(n: usize) -> usize {
    n.div_ceil(32)
}

impl LazySpace {
    /// What the space holds (what the cache budget counts): distances, state bits, touched
    /// list and heaps.
    fn bytes(&self) -> usize {
        self.dist.bytes()
            + self.dist32.bytes()
            + (self.state.capacity() + self.full.capacity()) * 8
            + self.touched.capacity() * 4
            + self
                .heaps
                .iter()
                .map(|h| h.buckets.iter().map(|b| b.capacity() * 16).sum::<usize>())
                .sum::<usize>()
    }

    /// Bytes a space for `n` nodes and `k` objectives needs at least.
    fn need(n: usize, k: usize, narrow: bool) -> usize {
        n * k * if narrow { 4 } else { 8 } + (k * state_words(n) + n.div_ceil(64)) * 8
    }

    /// Can this space's distance array hold `len` entries of the given width?
    fn fits(&self, len: usize, narrow: bool) -> bool {
        if narrow {
            self.dist32.len() >= len
        } else {
            self.dist.len() >= len
        }
    }

    #[inline(always)]
    fn get(&self, idx: usize) -> f64 {
        if self.narrow {
            Dist::get(self.dist32[idx])
        } else {
            self.dist[idx]
        }
    }

    #[inline(always)]
    fn put(&mut self, idx: usize, x: f64) {
        if self.narrow {
            self.dist32[idx] = Dist::put(x);
        } else {
            self.dist[idx] = x;
        }
    }

    /// The cached space for `key` (and `true`), else a space to reset: the least recently used
    /// one when keeping another would exceed the budget, else a new one.
    fn take(key: &HeurKey, n: usize, narrow: bool) -> (LazySpace, bool) {
        let Ok(mut c) = CACHE.lock() else {
            return (LazySpace::default(), false);
        };
        if let Some(i) = c.iter().rposition(|s| s.key.as_ref() == Some(key)) {
            return (c.remove(i), true);
        }
        let need = Self::need(n, key.k, narrow);
        let held: usize = c.iter().map(LazySpace::bytes).sum();
        if !c.is_empty() && (held + need > budget() || c.len() >= CACHE_KEEP) {
            // Prefer a space already large enough, so its mapping is reused.
            let i = c
                .iter()
                .position(|s| s.fits(n * key.k, narrow))
                .unwrap_or(0);
            return (c.remove(i), false);
        }
        (LazySpace::default(), false)
    }

    /// Keeps the space for later queries with its key, evicting the least recently used spaces
    /// beyond the budget (their memory is unmapped).
    pub fn give_back(mut self) {
        // The open lists' spare capacity is not state: keep only what resuming needs.
        for h in &mut self.heaps {
            for b in &mut h.buckets {
                b.shrink_to_fit();
            }
        }
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

    fn reset(&mut self, n: usize, k: usize, key: HeurKey, narrow: bool) {
        let sw = state_words(n);
        // Only the width in use is kept (a recycled space of the other width is remapped).
        if narrow {
            self.dist = Scratch::default();
            if self.dist32.len() < n * k {
                self.dist32 = Scratch::zeroed_small_pages(n * k);
            }
        } else {
            self.dist32 = Scratch::default();
            if self.dist.len() < n * k {
                self.dist = Scratch::zeroed_small_pages(n * k);
            }
        }
        self.narrow = narrow;
        if self.n != n || self.k != k || self.overflow {
            // Another shape, or too much touched to clear word by word.
            self.state.clear();
            self.state.resize(k * sw, 0);
            self.full.clear();
            self.full.resize(n.div_ceil(64), 0);
        } else {
            let old_sw = state_words(self.n);
            for &v in &self.touched {
                let v = v as usize;
                for i in 0..self.k {
                    self.state[i * old_sw + v / 32] = 0;
                }
                self.full[v / 64] = 0;
            }
        }
        self.touched.clear();
        // Clearing `touched` words costs `k + 1` stores each; the whole arrays cost `sw * (k + 1)`.
        self.touched.reserve(sw / 2);
        self.overflow = false;
        self.n = n;
        self.k = k;
        self.heaps.resize_with(k, RadixHeap::default);
        for h in &mut self.heaps {
            h.clear();
        }
        self.done = [false; MAX_K];
        self.pops = 0;
        self.key = Some(key);
    }

    #[inline(always)]
    fn touch(&mut self, v: usize) {
        if self.touched.len() < self.touched.capacity() {
            self.touched.push(v as u32);
        } else {
            self.overflow = true;
        }
    }
}

/// A stored backward distance: `f64`, or an exact `u32` ([`LazySpace::dist32`]).
trait Dist: Copy {
    fn get(self) -> f64;
    fn put(x: f64) -> Self;
    /// This width's distance array of a space.
    fn of<'s>(wide: &'s mut Scratch<f64>, narrow: &'s mut Scratch<u32>) -> &'s mut [Self];
}

impl Dist for f64 {
    #[inline(always)]
    fn get(self) -> f64 {
        self
    }
    #[inline(always)]
    fn put(x: f64) -> Self {
        x
    }
    fn of<'s>(wide: &'s mut Scratch<f64>, _: &'s mut Scratch<u32>) -> &'s mut [f64] {
        wide
    }
}

impl Dist for u32 {
    #[inline(always)]
    fn get(self) -> f64 {
        if self == u32::MAX {
            f64::INFINITY
        } else {
            f64::from(self)
        }
    }
    /// `x` is `+inf` or an integer below `u32::MAX` (the `narrow` condition), so exact.
    #[inline(always)]
    fn put(x: f64) -> Self {
        if x.is_finite() {
            x as u32
        } else {
            u32::MAX
        }
    }
    fn of<'s>(_: &'s mut Scratch<f64>, narrow: &'s mut Scratch<u32>) -> &'s mut [u32] {
        narrow
    }
}

#[inline(always)]
fn get2(state: &[u64], v: usize) -> u64 {
    (state[v / 32] >> (2 * (v % 32))) & 3
}

#[inline(always)]
fn set2(state: &mut [u64], v: usize, s: u64) {
    state[v / 32] |= s << (2 * (v % 32));
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
        let narrow = matches!(
            model.reverse_bounds(g),
            Some(RevArcs::U16 { narrow: true, .. })
        );
        let (mut sp, resumed) = LazySpace::take(&key, g.n, narrow);
        if !resumed {
            sp.reset(g.n, K, key, narrow);
            let (n, sw) = (g.n, state_words(g.n));
            for i in 0..K {
                sp.put(i * n + t, 0.0);
                set2(&mut sp.state[i * sw..(i + 1) * sw], t, REACHED);
                sp.heaps[i].push(0.0, t as u32);
            }
            sp.touch(t);
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
        let g: &'a Graph = self.g;
        let model: &'a C = self.model;
        let (tail, pos) = (g.rev_tail.as_slice(), g.rev_pos.as_slice());
        // One record per reverse arc (tail and costs together) when the model's bounds are the
        // static costs; else the tails and the model's bounds.
        match model.reverse_bounds(g) {
            Some(RevArcs::U16 { rec: d, far, .. }) => {
                let st = 1 + g.k;
                let arc = |r: usize, v: usize| {
                    let rec = &d[r * st..r * st + st];
                    (u16_tail(far, r, v, rec[0]), f64::from(rec[1 + i]))
                };
                if self.sp.narrow {
                    self.advance::<u32>(i, u, arc)
                } else {
                    self.advance::<f64>(i, u, arc)
                }
            }
            Some(RevArcs::F32(d)) => {
                let st = 1 + g.k;
                self.advance::<f64>(i, u, |r, _| {
                    (
                        d[r * st] as usize,
                        f64::from(f32::from_bits(d[r * st + 1 + i])),
                    )
                })
            }
            None => self.advance::<f64>(i, u, |r, _| {
                (tail[r] as usize, model.lower_bound(pos[r] as usize, i))
            }),
        }
    }

    /// [`Self::settle_one`] with `arc(r, v)` giving reverse arc `r`'s tail and lower bound
    /// (`v`: the arc's head, the settled node).
    #[inline(always)]
    fn advance<D: Dist>(
        &mut self,
        i: usize,
        u: usize,
        arc: impl Fn(usize, usize) -> (usize, f64),
    ) -> f64 {
        let (n, sw) = (self.g.n, state_words(self.g.n));
        let off = self.g.rev_off.as_slice();
        let sp = &mut self.sp;
        let dist = &mut D::of(&mut sp.dist, &mut sp.dist32)[i * n..(i + 1) * n];
        let state = &mut sp.state[i * sw..(i + 1) * sw];
        let heap = &mut sp.heaps[i];
        let cap = sp.touched.capacity();
        loop {
            if get2(state, u) == SETTLED {
                return dist[u].get();
            }
            if sp.done[i] {
                return f64::INFINITY;
            }
            let key = match heap.peek_key() {
                Some(k) if k <= self.bounds[i] => k,
                _ => {
                    sp.done[i] = true;
                    continue;
                }
            };
            sp.pops += 1;
            if sp.pops & 1023 == 0 {
                if let Some(d) = self.deadline {
                    if Instant::now() >= d {
                        self.timed_out = true;
                        return f64::INFINITY;
                    }
                }
            }
            let v = heap.pop_min() as usize;
            // Stale if settled or improved since it was pushed.
            if get2(state, v) == SETTLED || dist[v].get() != key {
                continue;
            }
            set2(state, v, SETTLED);
            for r in off[v] as usize..off[v + 1] as usize {
                let (w, c) = arc(r, v);
                let nd = key + c;
                match get2(state, w) {
                    0 => {
                        set2(state, w, REACHED);
                        dist[w] = D::put(nd);
                        heap.push(nd, w as u32);
                        if sp.touched.len() < cap {
                            sp.touched.push(w as u32);
                        } else {
                            sp.overflow = true;
                        }
                    }
                    REACHED if nd < dist[w].get() => {
                        dist[w] = D::put(nd);
                        heap.push(nd, w as u32);
                    }
                    _ => {}
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
        // the bounds), so the vector is final: store it and mark `u` full, so the next lookup
        // is `K` reads. (A done search never relaxes again, so overwriting its tentative
        // distance with `+inf` is safe.)
        let n = self.g.n;
        for i in 0..K {
            self.sp.put(i * n + u, h[i]);
        }
        self.sp.full[u / 64] |= 1 << (u % 64);
        self.sp.touch(u);
        h
    }
}

impl<const K: usize, C: CostModel<K>> Heuristic<K> for Lazy<'_, K, C> {
    #[inline(always)]
    fn h(&mut self, u: usize) -> [f64; K] {
        if self.sp.full[u / 64] >> (u % 64) & 1 != 0 {
            let n = self.g.n;
            return std::array::from_fn(|i| self.sp.get(i * n + u));
        }
        self.settle(u)
    }
    #[inline]
    fn bound(&self, u: usize) -> ([f64; K], bool) {
        let n = self.g.n;
        if self.sp.full[u / 64] >> (u % 64) & 1 != 0 {
            return (std::array::from_fn(|i| self.sp.get(i * n + u)), true);
        }
        let sw = state_words(n);
        let b = std::array::from_fn(|i| {
            if get2(&self.sp.state[i * sw..(i + 1) * sw], u) == SETTLED {
                self.sp.get(i * n + u)
            } else if self.sp.done[i] {
                f64::INFINITY
            } else {
                // Every unsettled node is at least as far as the last key settled.
                f64::from_bits(self.sp.heaps[i].last)
            }
        });
        (b, false)
    }
    fn timed_out(&self) -> bool {
        self.timed_out
    }
}
