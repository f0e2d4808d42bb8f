//! ALT landmarks: lower bounds on per-objective distances from the triangle inequality
//! (Goldberg & Harrelson 2005), used as the A* heuristic of weighted-sum routes.
//!
//! For landmark `L` and objective `i`, `d_i(v, t) >= max(d_i(L, t) - d_i(L, v), d_i(v, L) - d_i(t, L))`.
//! Tables are stored as `f32`; each bound is reduced by an absolute margin covering the `f32`
//! rounding, so it stays admissible, and the A* search re-opens nodes, so admissibility (not
//! consistency) is all exactness needs. A weighted sum of per-objective bounds bounds the
//! weighted cost.

use crate::parallel;

use super::dijkstra::{backward_dijkstra, NodeHeap};
use super::{Graph, GraphError, Result};

/// Landmark distance tables for some objectives.
#[derive(Debug, Clone)]
pub struct Landmarks {
    n: usize,
    nodes: Vec<u32>,
    objectives: Vec<usize>,
    /// `[objective slot][node][landmark]`: distance from the landmark to the node (one node's
    /// values are contiguous, so a bound touches one or two cache lines).
    from: Vec<f32>,
    /// `[objective slot][node][landmark]`: distance from the node to the landmark.
    to: Vec<f32>,
    /// Per objective slot: absolute margin subtracted from each bound.
    margin: Vec<f64>,
}

/// Distances from `s` under `cost(forward position)`.
pub(crate) fn forward_dijkstra(g: &Graph, s: usize, cost: impl Fn(usize) -> f64) -> Vec<f64> {
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut dist = vec![f64::INFINITY; g.n];
    let mut heap = NodeHeap::new(g.n);
    dist[s] = 0.0;
    heap.push_or_decrease(s as u32, 0.0);
    while let Some((key, node)) = heap.pop() {
        let v = node as usize;
        for p in off[v] as usize..off[v + 1] as usize {
            let u = head[p] as usize;
            let nd = key + cost(p);
            if nd < dist[u] {
                dist[u] = nd;
                heap.push_or_decrease(u as u32, nd);
            }
        }
    }
    dist
}

impl Landmarks {
    /// Picks `count` landmarks by farthest-point selection (objective `objectives[0]`, starting
    /// from a node chosen by `seed`) and computes both tables for every listed objective.
    pub fn build(g: &Graph, count: usize, objectives: &[usize], seed: u64) -> Result<Landmarks> {
        if count == 0 || count > 64 {
            return Err(GraphError::invalid(format!(
                "landmark count must be 1..=64, got {count}"
            )));
        }
        if objectives.is_empty() || objectives.iter().any(|&i| i >= g.k) {
            return Err(GraphError::invalid(format!(
                "landmark objectives must be a non-empty subset of 0..{}, got {objectives:?}",
                g.k
            )));
        }
        let n = g.n;
        if n == 0 {
            return Err(GraphError::invalid("the graph has no nodes"));
        }
        let k = g.k;
        let costs = g.costs.as_slice();
        let o0 = objectives[0];
        // Farthest-point selection on objective o0 forward distances.
        let mut nodes: Vec<u32> = Vec::with_capacity(count);
        let mut mind = vec![f64::INFINITY; n];
        let mut current = (seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            % n as u64) as usize;
        let d = forward_dijkstra(g, current, |p| costs[p * k + o0]);
        let far = |d: &[f64], mind: &[f64]| -> Option<usize> {
            (0..n)
                .filter(|&v| d[v].is_finite() || mind[v].is_finite())
                .max_by(|&a, &b| {
                    let da = if mind[a].is_finite() { mind[a] } else { d[a] };
                    let db = if mind[b].is_finite() { mind[b] } else { d[b] };
                    da.total_cmp(&db)
                })
        };
        if let Some(v) = far(&d, &mind) {
            current = v;
        }
        while nodes.len() < count.min(n) {
            nodes.push(current as u32);
            let d = forward_dijkstra(g, current, |p| costs[p * k + o0]);
            for v in 0..n {
                mind[v] = mind[v].min(d[v]);
            }
            mind[current] = 0.0;
            match (0..n)
                .filter(|&v| mind[v].is_finite() && !nodes.contains(&(v as u32)))
                .max_by(|&a, &b| mind[a].total_cmp(&mind[b]))
            {
                Some(v) if mind[v] > 0.0 => current = v,
                _ => break,
            }
        }
        let jobs: Vec<(usize, usize, bool)> = (0..objectives.len())
            .flat_map(|oi| (0..nodes.len()).flat_map(move |l| [(oi, l, true), (oi, l, false)]))
            .collect();
        let table = |j: usize| -> Vec<f64> {
            let (oi, l, from) = jobs[j];
            let i = objectives[oi];
            let c = |p: usize| costs[p * k + i];
            if from {
                forward_dijkstra(g, nodes[l] as usize, c)
            } else {
                backward_dijkstra(g, nodes[l] as usize, f64::INFINITY, c)
            }
        };
        let tables: Vec<Vec<f64>> = parallel::par_map(parallel::ALL_CORES, jobs.len(), table)
            .unwrap_or_else(|_| (0..jobs.len()).map(table).collect());
        let lcount = nodes.len();
        let mut from = vec![f32::INFINITY; objectives.len() * lcount * n];
        let mut to = vec![f32::INFINITY; objectives.len() * lcount * n];
        let mut margin = vec![0.0; objectives.len()];
        for ((oi, l, is_from), t) in jobs.into_iter().zip(tables) {
            let dst = if is_from { &mut from } else { &mut to };
            let base = oi * n * lcount;
            for (v, &x) in t.iter().enumerate() {
                dst[base + v * lcount + l] = x as f32;
                if x.is_finite() {
                    // Two f32 roundings per bound, each at most half an ulp of the larger value.
                    margin[oi] = f64::max(margin[oi], x * 2.0 * f32::EPSILON as f64);
                }
            }
        }
        Ok(Landmarks {
            n,
            nodes,
            objectives: objectives.to_vec(),
            from,
            to,
            margin,
        })
    }

    pub fn nodes(&self) -> &[u32] {
        &self.nodes
    }
    pub fn objectives(&self) -> &[usize] {
        &self.objectives
    }
    pub fn num_nodes(&self) -> usize {
        self.n
    }
    /// Bytes held by the tables.
    pub fn memory_bytes(&self) -> usize {
        (self.from.len() + self.to.len()) * 4
    }

    /// The target's `(from, to)` distances per objective slot and landmark, fetched once per query.
    pub(crate) fn target_rows(&self, t: usize) -> Vec<(f32, f32)> {
        let lc = self.nodes.len();
        (0..self.objectives.len())
            .flat_map(|oi| {
                let base = (oi * self.n + t) * lc;
                (0..lc).map(move |l| (self.from[base + l], self.to[base + l]))
            })
            .collect()
    }

    /// Admissible lower bound of `sum_i w_i d_i(v, t)`; `w[slot]` weighs objective slot `slot`.
    #[inline]
    pub(crate) fn weighted_bound(&self, v: usize, trow: &[(f32, f32)], w: &[f64]) -> f64 {
        let lc = self.nodes.len();
        let mut total = 0.0;
        for (oi, &wi) in w.iter().enumerate() {
            if wi == 0.0 {
                continue;
            }
            let mut best = 0.0f64;
            let base = (oi * self.n + v) * lc;
            let (fv, tv) = (&self.from[base..base + lc], &self.to[base..base + lc]);
            for l in 0..lc {
                let (lt, tl) = trow[oi * lc + l];
                let (lv, vl) = (fv[l], tv[l]);
                if lt.is_finite() && lv.is_finite() {
                    best = best.max(lt as f64 - lv as f64);
                }
                if vl.is_finite() && tl.is_finite() {
                    best = best.max(vl as f64 - tl as f64);
                }
            }
            total += wi * (best - self.margin[oi]).max(0.0);
        }
        total
    }
}
