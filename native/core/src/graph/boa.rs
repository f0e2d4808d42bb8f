//! BOA* (Hernández et al., "Simple and efficient bi-objective search algorithms via fast
//! dominance checks", 2020/2023): exact or target-epsilon search for two objectives.
//!
//! Labels are popped in lexicographic order of `f = g + h` (`h` consistent). At a node, pops then
//! come in non-decreasing `g[0]` order, so a label is weakly dominated by a closed label at its
//! node iff its `g[1]` is not below the smallest `g[1]` closed there (`g2_min`), a constant-time
//! check; at the target `f = g`, so a label whose `f[1]` is not below `g2_min(target)` has only
//! dominated completions. Epsilon: at the target the check is `(1 + eps) f[1] >= g2_min(t)`, which
//! drops only completions `(1 + eps)`-dominated by a found solution (on objective 0 by the pop
//! order), while node checks stay exact.

use super::front::NodeMins;
use super::heuristics::Heuristic;
use super::pareto::ControlFlow;
use super::search::{seed_root, CostModel, Emit, Entry, LexQueue, Outcome, Query, Step};

/// BOA*: exact or epsilon bi-objective search.
/// BOA*; generic over `K` for dispatch, but only `K == 2` is meaningful.
pub(crate) fn boa<const K: usize, C: CostModel<K>, H: Heuristic<K>>(
    q: &Query<'_, K>,
    model: &C,
    heur: &mut H,
    emit: Emit<'_, K>,
) -> Outcome<K> {
    assert_eq!(K, 2, "BOA* is bi-objective");
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut g2_min = NodeMins::take(g.n);
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
        if lg[1] >= g2_min.get(v) || f[1] * scale >= g2_min.get(q.t) {
            continue;
        }
        if q.out_of_budget(heur, pops, expansions) {
            truncated = true;
            break;
        }
        g2_min.set(v, lg[1]);
        expansions += 1;
        if v == q.t {
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
            if ng[1] >= g2_min.get(u) {
                continue;
            }
            let hu = heur.h(u);
            let mut nf = ng;
            for i in 0..K {
                nf[i] += hu[i];
            }
            if nf[1] * scale >= g2_min.get(q.t) || !nf[0].is_finite() || !q.within_bounds(&nf) {
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
    g2_min.give_back();
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}
