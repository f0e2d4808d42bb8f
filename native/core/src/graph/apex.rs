//! A*pex (Zhang et al., "A*pex: Efficient approximate multi-objective search on graphs", ICAPS
//! 2022) for any number of objectives: epsilon-approximate Pareto search.
//!
//! An apex-path pair stands for a set of paths to one node: its `apex` is their component-wise
//! minimum cost and its representative (`label`, cost `g`) is one of them. Pairs are popped in
//! lexicographic order of `f(apex) = apex + h`. When a new pair is generated at a node with an
//! open pair, the two are merged (apex = component-wise minimum) if one representative `p` stays
//! *bounded*: `g(p)_i + h_i <= (1 + eps) (apex_i + h_i)` for every objective `i`. Dominance is
//! checked on apexes: at a node against the truncated frontier of expanded apexes (exact, as in
//! [`super::ltmoa`]), and at the target against the solutions found, scaled: a pair is pruned
//! when a solution `s` has `s_i <= (1 + eps) f_i(apex)` on objectives `1..K` (on objective 0 by the
//! pop order, since each solution is bounded by its own pair, whose apex was popped earlier).
//!
//! Guarantee: every Pareto-optimal cost vector `c*` is `(1 + eps)`-dominated by a returned
//! solution. Sketch: let `P*` be Pareto-optimal; follow the pairs its prefixes were merged into.
//! The apex is a lower bound on every merged path, extension adds the same costs to apex and
//! representative, and boundedness survives extension because `h` is consistent (both sides of
//! the inequality grow by `c(arc) + h(head) - h(tail) >= 0`, the right side by `(1 + eps)` times
//! that). A prefix's pair is either expanded (and its extension continues to carry `P*`), pruned
//! at a node by an apex that weakly dominates it (the dominating apex carries `P*` on), or pruned
//! at the target by a solution within `(1 + eps)` of `f(apex) <= c*`; at the target the bounded
//! representative is within `(1 + eps)` of `c*`. The factor does not compound because the target
//! test compares solutions with apexes (lower bounds), not with representatives.
//!
//! Objectives that must stay exact (zero slack): the time objective with a departure time (so a
//! representative enters every later arc at the apex's time and time-dependent travel times are
//! applied to both alike), and every objective with a bound (a representative with slack could
//! end beyond the bound while the paths it stands for end within it). With the penalised time of
//! risk plus departure bounded, the hidden variance sum is exact too. Bounds prune on `f(apex)`.
//!
//! A representative weakly dominated by a solution already returned is not returned (the earlier
//! solution covers everything it covers).

use std::collections::BinaryHeap;

use super::front::{Front, NodeFronts, NodeSlots};
use super::heuristics::Heuristic;
use super::pareto::ControlFlow;
use super::search::{CostModel, Emit, Item, Outcome, Query, Step, NONE};

#[derive(Clone, Copy)]
struct Pair<const K: usize> {
    apex: [f64; K],
    g: [f64; K],
    label: u32,
    /// Next pair in the node's list of open pairs.
    next: u32,
    node: u32,
    open: bool,
}

/// A*pex search; `exact[i]`: objective `i` must stay exact (module docs).
pub(crate) fn apex<const K: usize, C: CostModel<K>, H: Heuristic<K>>(
    q: &Query<'_, K>,
    model: &C,
    heur: &mut H,
    exact: [bool; K],
    emit: Emit<'_, K>,
) -> Outcome<K> {
    let g = q.g;
    let (off, head) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let scale = 1.0 + q.eps;
    let mut fronts = NodeFronts::take(g.n, K - 1);
    let mut open_at = NodeSlots::take(g.n);
    let mut sols = Front::new(K - 1);
    let mut pairs: Vec<Pair<K>> = Vec::new();
    let mut labels: Vec<Step> = Vec::new();
    let mut heap: BinaryHeap<Item<K>> = BinaryHeap::new();
    let mut found: Vec<(u32, [f64; K])> = Vec::new();
    let (mut expansions, mut generated, mut pops) = (0u64, 0u64, 0u64);
    let mut truncated = false;
    let fo = |a: &[f64; K], h: &[f64; K]| {
        let mut f = *a;
        for i in 0..K {
            f[i] += h[i];
        }
        f
    };
    let root_f = heur.h(q.s);
    if q.within_bounds(&root_f) && !heur.timed_out() {
        labels.push(Step {
            node: q.s as u32,
            parent: NONE,
            pos: NONE,
        });
        pairs.push(Pair {
            apex: [0.0; K],
            g: [0.0; K],
            label: 0,
            next: NONE,
            node: q.s as u32,
            open: true,
        });
        open_at.set(q.s, 0);
        heap.push(Item { f: root_f, idx: 0 });
        generated = 1;
    }
    while let Some(Item { f, idx }) = heap.pop() {
        pops += 1;
        let ap = pairs[idx as usize];
        if !ap.open {
            continue; // merged into another pair
        }
        pairs[idx as usize].open = false; // unlinked lazily from the node's list
        let v = ap.node as usize;
        if sols.dominated(&f[1..], scale) || fronts.dominated(v, &ap.apex[1..]) {
            continue;
        }
        if q.out_of_budget(heur, pops, expansions) {
            truncated = true;
            break;
        }
        fronts.insert(v, &ap.apex[1..]);
        expansions += 1;
        if v == q.t {
            let covered = found.iter().any(|(_, s)| (0..K).all(|i| s[i] <= ap.g[i]));
            if covered {
                continue;
            }
            if !sols.dominated(&ap.g[1..], 1.0) {
                sols.insert(&ap.g[1..]);
            }
            found.push((ap.label, ap.g));
            if emit(ap.label, &labels, &ap.g) == ControlFlow::Stop || found.len() >= q.max_solutions
            {
                truncated = !heap.is_empty();
                break;
            }
            continue;
        }
        for pos in off[v] as usize..off[v + 1] as usize {
            let u = head[pos] as usize;
            let na = model.extend(pos, &ap.apex);
            if fronts.dominated(u, &na[1..]) {
                continue;
            }
            let (mut hu, exact_h) = heur.bound(u);
            if !exact_h {
                let lb = fo(&na, &hu);
                if !q.within_bounds(&lb) || sols.dominated(&lb[1..], scale) {
                    continue;
                }
                hu = heur.h(u);
            }
            let nf = fo(&na, &hu);
            if !nf.iter().all(|x| x.is_finite())
                || !q.within_bounds(&nf)
                || sols.dominated(&nf[1..], scale)
            {
                continue;
            }
            let ng = model.extend(pos, &ap.g);
            let bounded = |gp: &[f64; K], m: &[f64; K]| {
                (0..K).all(|i| {
                    if exact[i] {
                        gp[i] <= m[i]
                    } else {
                        gp[i] + hu[i] <= scale * (m[i] + hu[i])
                    }
                })
            };
            generated += 1;
            // Merge with the first open pair at u that keeps a bounded representative.
            let mut prev = NONE;
            let mut cur = open_at.get(u);
            let mut merged = false;
            while cur != NONE {
                let other = pairs[cur as usize];
                if !other.open {
                    // Closed or merged away: unlink.
                    if prev == NONE {
                        open_at.set(u, other.next);
                    } else {
                        pairs[prev as usize].next = other.next;
                    }
                    cur = other.next;
                    continue;
                }
                let mut m = na;
                for i in 0..K {
                    m[i] = m[i].min(other.apex[i]);
                }
                let keep_other = bounded(&other.g, &m);
                let keep_new = bounded(&ng, &m);
                if !keep_other && !keep_new {
                    prev = cur;
                    cur = other.next;
                    continue;
                }
                // Prefer the representative with the smaller first cost.
                let use_new = keep_new && (!keep_other || ng[0] < other.g[0]);
                let (label, rg) = if use_new {
                    labels.push(Step {
                        node: u as u32,
                        parent: ap.label,
                        pos: pos as u32,
                    });
                    ((labels.len() - 1) as u32, ng)
                } else {
                    (other.label, other.g)
                };
                pairs[cur as usize].open = false;
                let nidx = pairs.len() as u32;
                pairs.push(Pair {
                    apex: m,
                    g: rg,
                    label,
                    next: other.next,
                    node: u as u32,
                    open: true,
                });
                if prev == NONE {
                    open_at.set(u, nidx);
                } else {
                    pairs[prev as usize].next = nidx;
                }
                heap.push(Item {
                    f: fo(&m, &hu),
                    idx: nidx,
                });
                merged = true;
                break;
            }
            if !merged {
                labels.push(Step {
                    node: u as u32,
                    parent: ap.label,
                    pos: pos as u32,
                });
                let nidx = pairs.len() as u32;
                pairs.push(Pair {
                    apex: na,
                    g: ng,
                    label: (labels.len() - 1) as u32,
                    next: open_at.get(u),
                    node: u as u32,
                    open: true,
                });
                open_at.set(u, nidx);
                heap.push(Item { f: nf, idx: nidx });
            }
        }
    }
    if heur.timed_out() {
        truncated = true;
    }
    fronts.give_back();
    open_at.give_back();
    Outcome {
        found,
        labels,
        truncated,
        expansions,
        generated,
    }
}
