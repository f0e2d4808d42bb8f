//! Single-objective Dijkstra searches over the CSR graph.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Graph;

/// Min-heap entry keyed by a non-negative, non-NaN `f64`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MinItem {
    pub key: f64,
    pub node: u32,
}

impl PartialEq for MinItem {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for MinItem {}
impl PartialOrd for MinItem {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for MinItem {
    fn cmp(&self, o: &Self) -> Ordering {
        o.key
            .total_cmp(&self.key)
            .then_with(|| o.node.cmp(&self.node))
    }
}

/// Distances from every node *to* `target` under the arc cost `cost(forward_position)`.
///
/// Nodes that cannot reach `target`, or whose distance exceeds `limit`, get `+inf`.
pub fn backward_dijkstra(
    g: &Graph,
    target: usize,
    limit: f64,
    cost: impl Fn(usize) -> f64,
) -> Vec<f64> {
    let (off, tail, pos) = (
        g.rev_off.as_slice(),
        g.rev_tail.as_slice(),
        g.rev_pos.as_slice(),
    );
    let mut dist = vec![f64::INFINITY; g.n];
    let mut heap = BinaryHeap::new();
    dist[target] = 0.0;
    heap.push(MinItem {
        key: 0.0,
        node: target as u32,
    });
    while let Some(MinItem { key, node }) = heap.pop() {
        let v = node as usize;
        if key > dist[v] {
            continue;
        }
        for r in off[v] as usize..off[v + 1] as usize {
            let u = tail[r] as usize;
            let nd = key + cost(pos[r] as usize);
            if nd < dist[u] && nd <= limit {
                dist[u] = nd;
                heap.push(MinItem {
                    key: nd,
                    node: u as u32,
                });
            }
        }
    }
    dist
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
