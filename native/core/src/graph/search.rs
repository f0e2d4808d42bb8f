//! Machinery shared by the label-setting searches ([`super::boa`], [`super::ltmoa`],
//! [`super::apex`]): cost models, labels, the lexicographic open list, per-query inputs and
//! budgets.

use std::cmp::Ordering;
use std::time::Instant;

use super::csr::{RevArcs, TimeProfile};
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
    fn reverse_bounds<'g>(&self, _g: &'g Graph) -> Option<&'g RevArcs> {
        None
    }
    /// Identifies the lower bounds of [`CostModel::lower_bound`] for a graph: two models with the
    /// same key have the same bounds, so cached heuristics of one serve the other.
    fn heuristic_key(&self) -> [u64; 2] {
        [0, 0]
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
    fn reverse_bounds<'g>(&self, g: &'g Graph) -> Option<&'g RevArcs> {
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
    fn heuristic_key(&self) -> [u64; 2] {
        // The departure time does not enter the bounds (the profile minimum does).
        let flags = 1
            | u64::from(self.profile.is_some()) << 1
            | u64::from(self.hidden) << 2
            | u64::from(self.risk.is_some()) << 3;
        [flags, self.risk.map_or(0, |(_, l)| l.to_bits())]
    }
}

// ---------------------------------------------------------------------------------------------
// Labels and the open list

/// A path prefix for path recovery: its last node and how it was reached (the parent's index and
/// the arc's forward position). Cost vectors travel in the open lists, not here, so the store a
/// search appends to stays at 12 bytes per generated label.
#[derive(Clone, Copy)]
pub(crate) struct Step {
    pub node: u32,
    pub parent: u32,
    pub pos: u32,
}

pub(crate) const NONE: u32 = u32::MAX;

/// Called with each solution label as it is found.
pub(crate) type Emit<'a, const K: usize> =
    &'a mut dyn FnMut(u32, &[Step], &[f64; K]) -> ControlFlow;

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
    pub labels: Vec<Step>,
    pub truncated: bool,
    pub expansions: u64,
    pub generated: u64,
}

/// Nodes and arc ids of the path ending in label `idx`.
pub(crate) fn path_of(g: &Graph, labels: &[Step], idx: u32) -> (Vec<u32>, Vec<u32>) {
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

// ---------------------------------------------------------------------------------------------
// A lexicographic open list bucketed on the first key

/// An open-list entry of [`LexQueue`]: `f`, a tie-break index and a payload.
#[derive(Clone, Copy)]
pub(crate) struct Entry<const K: usize, P: Copy> {
    pub f: [f64; K],
    pub idx: u32,
    pub p: P,
}

impl<const K: usize, P: Copy> Entry<K, P> {
    /// Lexicographic on `f`, then on `idx` (the order of [`Item`]).
    #[inline(always)]
    fn less(&self, o: &Self) -> bool {
        for i in 0..K {
            match self.f[i].total_cmp(&o.f[i]) {
                Ordering::Equal => continue,
                ord => return ord == Ordering::Less,
            }
        }
        self.idx < o.idx
    }
}

/// A min-queue in lexicographic order of `f` (then `idx`) for searches whose `f[0]` never
/// decreases below the last popped one (consistent heuristics): a radix heap on the bit pattern
/// of `f[0]` (non-negative `f64`s order like their bits), whose bucket 0 (entries with the
/// smallest `f[0]`) is a binary heap on the full order. Pushing into a higher bucket is an
/// append, and each entry moves down at most a few buckets, instead of sifting through a heap of
/// millions of entries. An entry below the last popped `f[0]` (possible only through rounding)
/// goes to bucket 0, which keeps the full order, so the pop order is exactly that of a binary
/// heap over all entries.
pub(crate) struct LexQueue<const K: usize, P: Copy> {
    last: u64,
    len: usize,
    b0: Vec<Entry<K, P>>,
    buckets: Vec<Vec<Entry<K, P>>>,
}

impl<const K: usize, P: Copy> LexQueue<K, P> {
    pub fn new() -> Self {
        LexQueue {
            last: 0,
            len: 0,
            b0: Vec::new(),
            buckets: (0..64).map(|_| Vec::new()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn push(&mut self, e: Entry<K, P>) {
        self.len += 1;
        let k = e.f[0].to_bits();
        if k <= self.last {
            self.b0_push(e);
        } else {
            let i = 63 - (k ^ self.last).leading_zeros() as usize;
            self.buckets[i].push(e);
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Entry<K, P>> {
        if self.len == 0 {
            return None;
        }
        if self.b0.is_empty() {
            let j = (0..64).find(|&j| !self.buckets[j].is_empty()).unwrap();
            let b = std::mem::take(&mut self.buckets[j]);
            let m = b.iter().map(|e| e.f[0].to_bits()).min().unwrap();
            self.last = m;
            for &e in &b {
                let k = e.f[0].to_bits();
                if k == m {
                    self.b0_push(e);
                } else {
                    self.buckets[63 - (k ^ m).leading_zeros() as usize].push(e);
                }
            }
            let mut b = b;
            b.clear();
            self.buckets[j] = b;
        }
        self.len -= 1;
        Some(self.b0_pop())
    }

    #[inline]
    fn b0_push(&mut self, e: Entry<K, P>) {
        let h = &mut self.b0;
        h.push(e);
        let mut i = h.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !e.less(&h[parent]) {
                break;
            }
            h[i] = h[parent];
            i = parent;
        }
        h[i] = e;
    }

    #[inline]
    fn b0_pop(&mut self) -> Entry<K, P> {
        let h = &mut self.b0;
        let top = h[0];
        let last = h.pop().unwrap();
        let n = h.len();
        if n > 0 {
            let mut i = 0;
            loop {
                let l = 2 * i + 1;
                if l >= n {
                    break;
                }
                let c = if l + 1 < n && h[l + 1].less(&h[l]) {
                    l + 1
                } else {
                    l
                };
                if !h[c].less(&last) {
                    break;
                }
                h[i] = h[c];
                i = c;
            }
            h[i] = last;
        }
        top
    }
}

/// Seeds a label search (BOA*, LTMOA*) with the source's root label, when the source's heuristic is
/// within the bounds and the heuristics finished in time. Returns the labels generated (0 or 1).
pub(crate) fn seed_root<const K: usize, H: Heuristic<K>>(
    q: &Query<'_, K>,
    heur: &mut H,
    labels: &mut Vec<Step>,
    heap: &mut LexQueue<K, ([f64; K], u32)>,
) -> u64 {
    let root_f = heur.h(q.s);
    if !q.within_bounds(&root_f) || heur.timed_out() {
        return 0;
    }
    labels.push(Step {
        node: q.s as u32,
        parent: NONE,
        pos: NONE,
    });
    heap.push(Entry {
        f: root_f,
        idx: labels.len() as u32 - 1,
        p: ([0.0; K], q.s as u32),
    });
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BinaryHeap;

    proptest! {
        /// Pops in the order of a binary heap over all entries, with pushes between pops that
        /// never go below the last popped first key (and some that do, by a rounding step).
        #[test]
        fn lex_queue_pops_like_a_binary_heap(ops in proptest::collection::vec((0u8..4, 0u16..40, 0u8..5, 0u8..5, any::<bool>()), 1..300)) {
            let mut q: LexQueue<3, ()> = LexQueue::new();
            let mut h: BinaryHeap<Item<3>> = BinaryHeap::new();
            let mut floor = 0.0f64;
            let mut idx = 0u32;
            for (op, a, b, c, below) in ops {
                if op == 0 {
                    let x = q.pop().map(|e| (e.f, e.idx));
                    let y = h.pop().map(|e| (e.f, e.idx));
                    prop_assert_eq!(x, y);
                    if let Some((f, _)) = x {
                        floor = f[0];
                    }
                } else {
                    let mut f0 = floor + f64::from(a) * 0.25;
                    if below && floor > 0.0 {
                        f0 = f64::from_bits(floor.to_bits() - 1);
                    }
                    let f = [f0, f64::from(b), f64::from(c)];
                    q.push(Entry { f, idx, p: () });
                    h.push(Item { f, idx });
                    idx += 1;
                }
            }
            while let Some(e) = h.pop() {
                let x = q.pop().unwrap();
                prop_assert_eq!((x.f, x.idx), (e.f, e.idx));
            }
            prop_assert!(q.is_empty());
        }
    }
}
