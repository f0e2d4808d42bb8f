//! LTMOA*-style exact (and target-epsilon) multi-objective search for any `K`
//! (Ren et al., "Enhanced multi-objective A* using balanced binary search trees", SoCS 2022).
//!
//! Labels are popped in lexicographic order of `f = g + h`, with `h` admissible and consistent
//! (see [`super::heuristics`]).
//!
//! Exactness. (1) At a node `v`, pops come in non-decreasing `g[0]` order: two labels at `v` share
//! `h(v)`, and lexicographic order on `f` is then lexicographic order on `g`. So a label popped at
//! `v` is weakly dominated by an earlier closed label at `v` iff it is weakly dominated on the
//! objectives `1..K` (its truncated vector), and the per-node frontier keeps only those truncated
//! vectors ([`super::front`]). A weakly dominated label can be dropped: every extension of it is
//! weakly dominated by the same extension of the dominating label (costs are additive, or FIFO
//! time-dependent, see [`super::pareto`]). (2) At the target, `f = g` and consistency makes `f[0]`
//! non-decreasing over all pops, so the same truncated check against the solutions found so far is
//! exact; a label whose `f` is dominated by a solution has only dominated completions (`f` is a
//! lower bound on each). The check is done eagerly when a label is generated and again lazily when
//! it is popped (the frontier may have grown meanwhile). (3) Duplicate cost vectors are weakly
//! dominated, so one path per non-dominated vector is returned, in lexicographic order.
//!
//! Epsilon (BOA*eps rule): at the target, a label is also pruned when a found solution `s` has
//! `s <= (1 + eps) f` on objectives `1..K` (and on objective 0 by the pop order). Every dropped
//! completion is then `(1 + eps)`-dominated by a returned solution; node frontiers stay exact, so
//! the factor does not compound.
//!
//! Data layout: path steps in one vector (12 bytes: node, parent index, arc position), the open
//! list a [`LexQueue`] (radix buckets on `f[0]`) whose entries carry `f`, `g` and the node, node
//! frontiers in one pooled arena; with `K = 3` each frontier is a sorted 2-D set checked by
//! binary search.

use super::front::{Front, NodeFronts};
use super::heuristics::Heuristic;
use super::pareto::ControlFlow;
use super::search::{seed_root, CostModel, Emit, Entry, LexQueue, Outcome, Query, Step};

pub(crate) fn ltmoa<const K: usize, C: CostModel<K>, H: Heuristic<K>>(
    q: &Query<'_, K>,
    model: &C,
    heur: &mut H,
    emit: Emit<'_, K>,
) -> Outcome<K> {
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut fronts = NodeFronts::take(g.n, K - 1);
    let mut sols = Front::new(K - 1);
    let mut labels: Vec<Step> = Vec::new();
    // Entries carry the label's cost vector and node, so a pop reads no label.
    let mut heap: LexQueue<K, ([f64; K], u32)> = LexQueue::new();
    let mut found = Vec::new();
    let scale = 1.0 + q.eps;
    let (mut expansions, mut generated, mut pops) = (0u64, 0u64, 0u64);
    let mut truncated = false;
    generated += seed_root(q, heur, &mut labels, &mut heap);
    while let Some(Entry {
        f,
        idx,
        p: (lg, node),
    }) = heap.pop()
    {
        pops += 1;
        let v = node as usize;
        if sols.dominated(&f[1..], scale) || fronts.dominated(v, &lg[1..]) {
            continue;
        }
        if q.out_of_budget(heur, pops, expansions) {
            truncated = true;
            break;
        }
        fronts.insert(v, &lg[1..]);
        expansions += 1;
        if v == q.t {
            sols.insert(&lg[1..]);
            found.push((idx, lg));
            if emit(idx, &labels, &lg) == ControlFlow::Stop || found.len() >= q.max_solutions {
                truncated = !heap.is_empty();
                break;
            }
            continue;
        }
        for pos in off[v] as usize..off[v + 1] as usize {
            let u = head[pos] as usize;
            let ng = model.extend(pos, &lg);
            if fronts.dominated(u, &ng[1..]) {
                continue;
            }
            let (mut hu, exact) = heur.bound(u);
            if !exact {
                let mut lb = ng;
                for i in 0..K {
                    lb[i] += hu[i];
                }
                if !q.within_bounds(&lb) || sols.dominated(&lb[1..], scale) {
                    continue;
                }
                hu = heur.h(u);
            }
            let mut nf = ng;
            for i in 0..K {
                nf[i] += hu[i];
            }
            if !nf[0].is_finite() || !q.within_bounds(&nf) || sols.dominated(&nf[1..], scale) {
                continue;
            }
            let nidx = labels.len() as u32;
            labels.push(Step {
                node: u as u32,
                parent: idx,
                pos: pos as u32,
            });
            heap.push(Entry {
                f: nf,
                idx: nidx,
                p: (ng, u as u32),
            });
            generated += 1;
        }
    }
    if heur.timed_out() {
        truncated = true;
    }
    fronts.give_back();
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}
