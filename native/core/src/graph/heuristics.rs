//! Heuristics of the Pareto searches: per-objective distances to the target.
//!
//! Every heuristic here is the exact backward shortest-path distance to the target under an
//! admissible, consistent lower bound of each objective's arc cost, so it is admissible and
//! consistent itself: `f = g + h` never decreases along an arc, which is what the lexicographic
//! searches rely on (at a node, labels are popped in non-decreasing order of their first cost).
//!
//! * [`two_objective_heuristics`]: two static objectives. Each backward search first runs until
//!   it settles `s`, which yields a path optimal for its objective; with `P0` optimal for objective
//!   0, every path whose objective 1 exceeds `c1(P0)` is dominated by `P0`, and symmetrically, so
//!   each search then stops at that limit (nodes beyond it are on no Pareto-optimal path).
//! * [`Lazy`]: one resumable backward Dijkstra per objective, advanced only as far as the forward
//!   search asks (a node's heuristic is final once the node is settled). A search stops for good
//!   once its smallest open key exceeds the objective's bound (every unsettled node is then beyond
//!   the bound, so its `f` is too). Short queries thus settle a small ball around the target
//!   instead of the whole graph. The state lives in a pooled [`LazySpace`] whose per-node arrays
//!   are validated by an epoch stamp, so a query costs what it touches, not `O(n)`; and the same
//!   state serves further queries to the same target with the same options (see
//!   [`super::pareto::pareto_many`]). The wall-clock deadline is checked every 1024 settled nodes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::time::Instant;

use super::dijkstra::BackwardSearch;
use super::search::CostModel;
use super::Graph;

/// Per-node heuristic vectors for the forward search.
pub(crate) trait Heuristic<const K: usize> {
    /// `h(u)`; a component is `+inf` when `u` cannot reach the target within that objective's
    /// bound (the label is then pruned).
    fn h(&mut self, u: usize) -> [f64; K];
    /// The deadline passed inside the heuristic: the search must stop, truncated.
    fn timed_out(&self) -> bool;
}

/// Precomputed heuristic table.
pub(crate) struct Table<const K: usize>(pub Vec<[f64; K]>);

impl<const K: usize> Heuristic<K> for Table<K> {
    #[inline(always)]
    fn h(&mut self, u: usize) -> [f64; K] {
        self.0[u]
    }
    fn timed_out(&self) -> bool {
        false
    }
}

/// Heuristics for two static objectives, limited to what can matter (module docs). A relative
/// slack of 1e-9 absorbs rounding between forward and backward sums.
pub(crate) fn two_objective_heuristics<const K: usize, C: CostModel<K>>(
    g: &Graph,
    s: usize,
    t: usize,
    model: &C,
    bounds: [f64; 2],
) -> Table<2> {
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
    Table(h0.into_iter().zip(h1).map(|(x, y)| [x, y]).collect())
}

// ---------------------------------------------------------------------------------------------
// Lazy backward searches

#[derive(Clone, Copy)]
struct Open(f64, u32);

impl PartialEq for Open {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Open {}
impl PartialOrd for Open {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Open {
    /// Reversed, so `BinaryHeap` pops the smallest key first.
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0)
    }
}

/// Reusable state of the lazy backward searches; per-node entries are valid only when their stamp
/// equals the current epoch.
#[derive(Default)]
pub(crate) struct LazySpace {
    epoch: u32,
    stamp: Vec<u32>,
    /// `n * K` tentative or final distances.
    dist: Vec<f64>,
    /// Bit `i`: objective `i` is final for the node.
    mask: Vec<u8>,
    heaps: Vec<BinaryHeap<Open>>,
}

static LAZY_POOL: Mutex<Vec<LazySpace>> = Mutex::new(Vec::new());
/// Spaces kept for reuse; more concurrent queries than this allocate and free their own.
const POOL_KEEP: usize = 4;
/// An open list grown beyond this many entries is freed rather than kept for the next query.
const KEEP_HEAP: usize = 1 << 16;

impl LazySpace {
    pub fn take() -> LazySpace {
        LAZY_POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default()
    }

    pub fn give_back(mut self) {
        for h in &mut self.heaps {
            if h.capacity() > KEEP_HEAP {
                *h = BinaryHeap::new();
            } else {
                h.clear();
            }
        }
        if let Ok(mut p) = LAZY_POOL.lock() {
            if p.len() < POOL_KEEP {
                p.push(self);
            }
        }
    }

    fn reset(&mut self, n: usize, k: usize) {
        if self.stamp.len() < n {
            self.stamp = vec![0; n];
            self.mask = vec![0; n];
            self.epoch = 0;
        }
        if self.dist.len() < n * k {
            self.dist = vec![f64::INFINITY; n * k];
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.fill(0);
            self.epoch = 1;
        }
        self.heaps.resize_with(k, BinaryHeap::new);
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
        let mut me = Lazy {
            g,
            model,
            bounds,
            sp,
            done: [false; K],
            deadline: None,
            timed_out: false,
            settled: 0,
        };
        me.touch(t);
        for i in 0..K {
            me.sp.dist[t * K + i] = 0.0;
            me.sp.heaps[i].push(Open(0.0, t as u32));
        }
        me
    }

    /// Sets the deadline of the next query served by this heuristic.
    pub fn set_deadline(&mut self, d: Option<Instant>) {
        self.deadline = d;
        self.timed_out = false;
    }

    /// Nodes settled so far, summed over the objectives.
    pub fn settled(&self) -> u64 {
        self.settled
    }

    pub fn into_space(self) -> LazySpace {
        self.sp
    }

    #[inline(always)]
    fn touch(&mut self, u: usize) {
        let sp = &mut self.sp;
        if sp.stamp[u] != sp.epoch {
            sp.stamp[u] = sp.epoch;
            sp.mask[u] = 0;
            sp.dist[u * K..u * K + K].fill(f64::INFINITY);
        }
    }

    #[cold]
    fn settle(&mut self, u: usize) -> [f64; K] {
        self.touch(u);
        let (off, tail, pos) = (
            self.g.rev_off.as_slice(),
            self.g.rev_tail.as_slice(),
            self.g.rev_pos.as_slice(),
        );
        for i in 0..K {
            let bit = 1u8 << i;
            while self.sp.mask[u] & bit == 0 {
                if self.done[i] {
                    self.sp.dist[u * K + i] = f64::INFINITY;
                    self.sp.mask[u] |= bit;
                    break;
                }
                let top = match self.sp.heaps[i].peek() {
                    Some(&top) if top.0 <= self.bounds[i] => top,
                    _ => {
                        self.done[i] = true;
                        continue;
                    }
                };
                self.sp.heaps[i].pop();
                let v = top.1 as usize;
                if self.sp.mask[v] & bit != 0 {
                    continue; // stale entry
                }
                self.sp.mask[v] |= bit;
                self.settled += 1;
                if self.settled & 1023 == 0 {
                    if let Some(d) = self.deadline {
                        if Instant::now() >= d {
                            self.timed_out = true;
                            return [f64::INFINITY; K];
                        }
                    }
                }
                for r in off[v] as usize..off[v + 1] as usize {
                    let w = tail[r] as usize;
                    let p = pos[r] as usize;
                    self.touch(w);
                    let nd = top.0 + self.model.lower_bound(p, i);
                    let slot = &mut self.sp.dist[w * K + i];
                    if nd < *slot && self.sp.mask[w] & bit == 0 {
                        *slot = nd;
                        self.sp.heaps[i].push(Open(nd, w as u32));
                    }
                }
            }
        }
        self.sp.dist[u * K..u * K + K].try_into().unwrap()
    }
}

impl<const K: usize, C: CostModel<K>> Heuristic<K> for Lazy<'_, K, C> {
    #[inline(always)]
    fn h(&mut self, u: usize) -> [f64; K] {
        let sp = &self.sp;
        if sp.stamp[u] == sp.epoch && sp.mask[u] == ((1u16 << K) - 1) as u8 {
            return sp.dist[u * K..u * K + K].try_into().unwrap();
        }
        self.settle(u)
    }
    fn timed_out(&self) -> bool {
        self.timed_out
    }
}
