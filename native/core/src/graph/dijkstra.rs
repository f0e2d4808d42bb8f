//! Single-objective Dijkstra searches over the CSR graph.

use super::Graph;

/// Distances from every node *to* `target` under the arc cost `cost(forward_position)`.
///
/// Nodes that cannot reach `target`, or whose distance exceeds `limit`, get `+inf`.
pub fn backward_dijkstra(
    g: &Graph,
    target: usize,
    limit: f64,
    cost: impl Fn(usize) -> f64,
) -> Vec<f64> {
    BackwardSearch::new(g, target).finish(limit, &cost)
}

/// A resumable backward Dijkstra: settle up to a key limit, or until a node is settled.
pub(crate) struct BackwardSearch<'g> {
    g: &'g Graph,
    pub dist: Vec<f64>,
    heap: NodeHeap,
}

impl<'g> BackwardSearch<'g> {
    pub fn new(g: &'g Graph, target: usize) -> Self {
        let mut dist = vec![f64::INFINITY; g.n];
        let mut heap = NodeHeap::new(g.n);
        dist[target] = 0.0;
        heap.push_or_decrease(target as u32, 0.0);
        BackwardSearch { g, dist, heap }
    }

    /// Settles nodes while their key is `<= limit`; stops early once `stop_at` is settled.
    /// Returns true if `stop_at` was settled.
    pub fn run_until(
        &mut self,
        limit: f64,
        cost: &impl Fn(usize) -> f64,
        stop_at: Option<usize>,
    ) -> bool {
        let g = self.g;
        let (off, tail, pos) = (
            g.rev_off.as_slice(),
            g.rev_tail.as_slice(),
            g.rev_pos.as_slice(),
        );
        while !self.heap.is_empty() && self.heap.peek_key() <= limit {
            let (key, node) = self.heap.pop().unwrap();
            let v = node as usize;
            for r in off[v] as usize..off[v + 1] as usize {
                let u = tail[r] as usize;
                let p = pos[r] as usize;
                let nd = key + cost(p);
                if nd < self.dist[u] {
                    self.dist[u] = nd;
                    self.heap.push_or_decrease(u as u32, nd);
                }
            }
            if stop_at == Some(v) {
                return true;
            }
        }
        false
    }

    /// Settles every node within `limit`; the others get `+inf`.
    pub fn finish(mut self, limit: f64, cost: &impl Fn(usize) -> f64) -> Vec<f64> {
        self.run_until(limit, cost, None);
        // Every node left in the heap has a tentative distance above `limit`.
        for d in self.dist.iter_mut() {
            if *d > limit {
                *d = f64::INFINITY;
            }
        }
        self.dist
    }
}

/// Whether `t` is reachable from `s` (breadth-first over forward arcs).
pub(crate) fn reachable(g: &Graph, s: usize, t: usize) -> bool {
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut seen = vec![false; g.n];
    let mut stack = vec![s];
    seen[s] = true;
    while let Some(v) = stack.pop() {
        if v == t {
            return true;
        }
        for p in off[v] as usize..off[v + 1] as usize {
            let u = head[p] as usize;
            if !seen[u] {
                seen[u] = true;
                stack.push(u);
            }
        }
    }
    false
}

const ABSENT: u32 = u32::MAX;

/// An indexed 4-ary min-heap over node ids with decrease-key (no stale entries).
pub(crate) struct NodeHeap {
    items: Vec<(f64, u32)>,
    pos: Vec<u32>,
}

impl NodeHeap {
    pub fn new(n: usize) -> Self {
        NodeHeap {
            items: Vec::new(),
            pos: vec![ABSENT; n],
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[inline]
    pub fn peek_key(&self) -> f64 {
        self.items.first().map_or(f64::INFINITY, |i| i.0)
    }

    /// Inserts `node` or lowers its key (the caller guarantees the key only decreases).
    #[inline]
    pub fn push_or_decrease(&mut self, node: u32, key: f64) {
        let p = self.pos[node as usize];
        let i = if p == ABSENT {
            self.items.push((key, node));
            self.items.len() - 1
        } else {
            self.items[p as usize].0 = key;
            p as usize
        };
        self.sift_up(i);
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        let top = *self.items.first()?;
        self.pos[top.1 as usize] = ABSENT;
        let last = self.items.pop().unwrap();
        if !self.items.is_empty() {
            self.items[0] = last;
            self.sift_down(0);
        }
        Some(top)
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        let item = self.items[i];
        while i > 0 {
            let parent = (i - 1) / 4;
            let p = self.items[parent];
            if p.0 <= item.0 {
                break;
            }
            self.items[i] = p;
            self.pos[p.1 as usize] = i as u32;
            i = parent;
        }
        self.items[i] = item;
        self.pos[item.1 as usize] = i as u32;
    }

    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let item = self.items[i];
        let len = self.items.len();
        loop {
            let first = 4 * i + 1;
            if first >= len {
                break;
            }
            let mut best = first;
            let mut best_key = self.items[first].0;
            for c in first + 1..(first + 4).min(len) {
                let key = self.items[c].0;
                if key < best_key {
                    best = c;
                    best_key = key;
                }
            }
            if best_key >= item.0 {
                break;
            }
            self.items[i] = self.items[best];
            self.pos[self.items[i].1 as usize] = i as u32;
            i = best;
        }
        self.items[i] = item;
        self.pos[item.1 as usize] = i as u32;
    }
}
