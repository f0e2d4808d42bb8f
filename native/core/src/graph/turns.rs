//! Turn costs as a graph transformation: the turn-expanded (edge-based) graph.
//!
//! [`expand_turns`] builds, from a graph `G` (`n` nodes, `m` arcs) and a list of allowed turns with
//! their cost vectors, a new [`Graph`] on which every existing search (Dijkstra, BOA*, LTMOA*,
//! A*pex, streams, time-dependent profiles, risk) runs unchanged:
//!
//! * node `a` (`0..m`) for each arc `a` of `G`: "having just driven along `a`";
//! * node `m + v` (`0..n`): the *origin* `v`, with an entry arc to node `b` for every arc `b` leaving
//!   `v` (costs of `b`); a search from `v` in `G` is a search from [`TurnGraph::source`]`(v)`;
//! * node `m + n + v`: the *destination* `v`, reached from node `a` for every arc `a` entering `v`
//!   by a zero-cost exit arc; a search to `v` is a search to [`TurnGraph::target`]`(v)`.
//!
//! Virtual origin and destination nodes (rather than seeding every out-arc of the origin) keep the
//! searches untouched and the heuristics exact: the backward searches from the destination node see
//! all in-arcs of `v` at once. They cost `2n` nodes and `2m` arcs.
//!
//! Each allowed turn `a -> b` (`head(a) = tail(b)`) becomes an arc `a -> b` with the costs of `b`
//! plus the turn's cost vector. A turn not listed is forbidden. With a time profile, the turn arc's
//! knots are `b`'s knots plus the turn's time-objective cost (the turn time is added to `b`'s travel
//! time as it is priced when `b` is entered, which keeps the profile FIFO); variances are `b`'s.
//!
//! Arc ids of the expanded graph: `0..T` the turns in the order given, `T..T+m` the entry arc into
//! each arc `b` of `G` (id `T + b`), `T+m..T+2m` the exit arc of each arc `a` (id `T + m + a`).
//! [`TurnGraph::original_arcs`] maps an expanded path back to the arc ids of `G`.

use super::{Graph, GraphBuilder, GraphError, Result};

/// Allowed turns: `from[i] -> to[i]` (arc ids of the original graph) with `k` costs each
/// (row-major `costs[i * k .. (i + 1) * k]`).
#[derive(Debug, Clone, Copy)]
pub struct Turns<'a> {
    pub from: &'a [i64],
    pub to: &'a [i64],
    pub costs: &'a [f64],
}

/// A turn-expanded graph and the maps back to the graph it was built from.
#[derive(Debug, Clone)]
pub struct TurnGraph {
    pub graph: Graph,
    /// Nodes and arcs of the original graph.
    pub n: usize,
    pub m: usize,
    /// Per expanded arc id: the original arc it drives along (`None` for exit arcs).
    pub arc_of: Vec<Option<u32>>,
}

impl TurnGraph {
    /// The expanded node a search from original node `v` starts at.
    pub fn source(&self, v: usize) -> usize {
        self.m + v
    }
    /// The expanded node a search to original node `v` ends at.
    pub fn target(&self, v: usize) -> usize {
        self.m + self.n + v
    }
    /// The original arc ids of an expanded path (exit arcs dropped).
    pub fn original_arcs(&self, arcs: &[u32]) -> Vec<u32> {
        arcs.iter()
            .filter_map(|&a| self.arc_of[a as usize])
            .collect()
    }
}

/// Every pair `(a, b)` of arcs with `head(a) = tail(b)` (U-turns and self-loops included), by `a`
/// then `b` id: the turns of a graph without restrictions.
pub fn all_turns(g: &Graph) -> (Vec<i64>, Vec<i64>) {
    let (tails, heads, _) = g.arcs_by_id();
    let mut out_by_node = vec![Vec::new(); g.n];
    for (b, &t) in tails.iter().enumerate() {
        out_by_node[t as usize].push(b as i64);
    }
    let (mut from, mut to) = (Vec::new(), Vec::new());
    for (a, &h) in heads.iter().enumerate() {
        for &b in &out_by_node[h as usize] {
            from.push(a as i64);
            to.push(b);
        }
    }
    (from, to)
}

/// The turn-expanded graph of `g` with the allowed `turns` (see the module documentation).
pub fn expand_turns(g: &Graph, turns: &Turns<'_>) -> Result<TurnGraph> {
    let (n, m, k) = (g.n, g.m, g.k);
    let nt = turns.from.len();
    if turns.to.len() != nt || turns.costs.len() != nt * k {
        return Err(GraphError::invalid(format!(
            "turns need from/to of equal length and (turns, k = {k}) costs; got {} from, {} to, {} costs",
            nt,
            turns.to.len(),
            turns.costs.len()
        )));
    }
    if let Some(i) = turns
        .costs
        .iter()
        .position(|c| !(c.is_finite() && *c >= 0.0))
    {
        return Err(GraphError::invalid(format!(
            "turn costs must be finite and non-negative; turn {} (column {}) has {}",
            i / k,
            i % k,
            turns.costs[i]
        )));
    }
    let (tails, heads, costs) = g.arcs_by_id();
    for i in 0..nt {
        let (a, b) = (turns.from[i], turns.to[i]);
        for (name, x) in [("from", a), ("to", b)] {
            if x < 0 || x as u64 >= m as u64 {
                return Err(GraphError::invalid(format!(
                    "turn {i}: {name} arc {x} is out of range for a graph of {m} arcs"
                )));
            }
        }
        if heads[a as usize] != tails[b as usize] {
            return Err(GraphError::invalid(format!(
                "turn {i}: arc {a} ends at node {} but arc {b} starts at node {}",
                heads[a as usize], tails[b as usize]
            )));
        }
    }
    let total = nt + 2 * m;
    let mut tail = Vec::with_capacity(total);
    let mut head = Vec::with_capacity(total);
    let mut cost = Vec::with_capacity(total * k);
    let mut arc_of = Vec::with_capacity(total);
    for i in 0..nt {
        let (a, b) = (turns.from[i] as usize, turns.to[i] as usize);
        tail.push(a as i64);
        head.push(b as i64);
        for j in 0..k {
            cost.push(costs[b * k + j] + turns.costs[i * k + j]);
        }
        arc_of.push(Some(b as u32));
    }
    for b in 0..m {
        tail.push((m + tails[b] as usize) as i64);
        head.push(b as i64);
        cost.extend_from_slice(&costs[b * k..(b + 1) * k]);
        arc_of.push(Some(b as u32));
    }
    for a in 0..m {
        tail.push(a as i64);
        head.push((m + n + heads[a] as usize) as i64);
        cost.extend(std::iter::repeat_n(0.0, k));
        arc_of.push(None);
    }

    // CSR position of each original arc id, to read its profile and variance.
    let mut pos_of = vec![0usize; m];
    for (p, &a) in g.fwd_id.as_slice().iter().enumerate() {
        pos_of[a as usize] = p;
    }
    let ti = g.time_index;
    let profile = g.profile.as_ref().map(|prof| {
        let slots = prof.slots;
        let v = prof.values.as_slice();
        let knots = |b: usize| &v[pos_of[b] * slots..(pos_of[b] + 1) * slots];
        let mut out = Vec::with_capacity(total * slots);
        for i in 0..nt {
            let extra = turns.costs[i * k + ti];
            out.extend(
                knots(turns.to[i] as usize)
                    .iter()
                    .map(|&x| x as f64 + extra),
            );
        }
        for b in 0..m {
            out.extend(knots(b).iter().map(|&x| x as f64));
        }
        out.extend(std::iter::repeat_n(0.0, m * slots));
        (out, slots)
    });
    let variance = g.variance.as_ref().map(|var| {
        let v = var.as_slice();
        let mut out = Vec::with_capacity(total);
        out.extend((0..nt).map(|i| v[pos_of[turns.to[i] as usize]]));
        out.extend((0..m).map(|b| v[pos_of[b]]));
        out.extend(std::iter::repeat_n(0.0, m));
        out
    });
    let coords = g.coords().map(|c| {
        // An arc's node sits at the arc's head, origin and destination nodes at their node: a
        // coordinate heuristic stays consistent (an expanded arc is as long as an original one).
        let mut out = Vec::with_capacity((m + 2 * n) * 2);
        for &h in &heads {
            out.extend_from_slice(&c[h as usize * 2..h as usize * 2 + 2]);
        }
        out.extend_from_slice(c);
        out.extend_from_slice(c);
        out
    });
    let graph = GraphBuilder {
        n: Some(m + 2 * n),
        tail: &tail,
        head: &head,
        costs: &cost,
        k,
        coords: coords.as_deref(),
        profile: profile.as_ref().map(|(p, s)| (&p[..], *s)),
        variance: variance.as_deref(),
        time_index: ti,
    }
    .build()?;
    Ok(TurnGraph {
        graph,
        n,
        m,
        arc_of,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::graph::{pareto, route, ControlFlow, RouteOptions, SearchOptions};

    const SLOTS: usize = 4;

    #[derive(Debug, Clone)]
    struct Case {
        n: usize,
        k: usize,
        tail: Vec<i64>,
        head: Vec<i64>,
        costs: Vec<f64>,
        profile: Vec<f64>,
        /// Per candidate turn of `all_turns`: allowed, and its cost vector.
        allowed: Vec<bool>,
        turn_costs: Vec<f64>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (2usize..6, 2usize..=3, 0usize..10).prop_flat_map(|(n, k, m)| {
            (
                proptest::collection::vec((0..n as i64, 0..n as i64), m),
                proptest::collection::vec(0u8..6, m * k),
                proptest::collection::vec(0u32..20_000, m * SLOTS),
                // Enough turn entries for any graph of m arcs (at most m * m turns).
                proptest::collection::vec(proptest::bool::weighted(0.8), m * m),
                proptest::collection::vec(0u8..4, m * m * k),
            )
                .prop_map(move |(arcs, c, p, allowed, tc)| Case {
                    n,
                    k,
                    tail: arcs.iter().map(|a| a.0).collect(),
                    head: arcs.iter().map(|a| a.1).collect(),
                    costs: c.into_iter().map(f64::from).collect(),
                    profile: p.into_iter().map(f64::from).collect(),
                    allowed,
                    turn_costs: tc.into_iter().map(f64::from).collect(),
                })
        })
    }

    fn build(c: &Case, profile: bool) -> Graph {
        GraphBuilder {
            n: Some(c.n),
            tail: &c.tail,
            head: &c.head,
            costs: &c.costs,
            k: c.k,
            profile: profile.then_some((&c.profile[..], SLOTS)),
            time_index: 1,
            ..Default::default()
        }
        .build()
        .unwrap()
    }

    /// The allowed turns of a case, with costs (`zero`: all turns allowed at zero cost).
    fn turns_of(c: &Case, g: &Graph, zero: bool) -> (Vec<i64>, Vec<i64>, Vec<f64>) {
        let (from, to) = all_turns(g);
        let (mut f, mut t, mut tc) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..from.len() {
            if zero || c.allowed[i] {
                f.push(from[i]);
                t.push(to[i]);
                for j in 0..c.k {
                    tc.push(if zero { 0.0 } else { c.turn_costs[i * c.k + j] });
                }
            }
        }
        (f, t, tc)
    }

    /// The turn cost of `a -> b` by lookup in the explicit turn list (None: forbidden).
    fn turn_cost(
        t: &(Vec<i64>, Vec<i64>, Vec<f64>),
        k: usize,
        a: usize,
        b: usize,
    ) -> Option<Vec<f64>> {
        (0..t.0.len())
            .find(|&i| t.0[i] == a as i64 && t.1[i] == b as i64)
            .map(|i| t.2[i * k..(i + 1) * k].to_vec())
    }

    /// Node-based pricing of an arc walk with explicit turn costs (and the time profile of
    /// objective 1 when `dep` is given: turn time added to the next arc's travel time).
    fn walk_cost(
        c: &Case,
        g: &Graph,
        turns: &(Vec<i64>, Vec<i64>, Vec<f64>),
        walk: &[usize],
        dep: Option<f64>,
    ) -> Option<Vec<f64>> {
        let k = c.k;
        let mut out = vec![0.0; k];
        let pos: Vec<usize> = (0..c.tail.len())
            .map(|a| {
                g.fwd_id
                    .as_slice()
                    .iter()
                    .position(|&x| x as usize == a)
                    .unwrap()
            })
            .collect();
        for (i, &b) in walk.iter().enumerate() {
            let extra = if i == 0 {
                vec![0.0; k]
            } else {
                turn_cost(turns, k, walk[i - 1], b)?
            };
            for j in 0..k {
                if dep.is_some() && j == 1 {
                    continue;
                }
                out[j] += c.costs[b * k + j] + extra[j];
            }
            if let Some(d) = dep {
                let prof = g.profile.as_ref().unwrap();
                // Profile knots are f32; the expanded graph adds the turn time to them.
                let tt = prof.travel_time(pos[b], d + out[1]) + extra[1];
                out[1] += tt;
            }
        }
        Some(out)
    }

    /// Every arc walk s -> t that uses no arc twice, by brute force.
    fn arc_simple_walks(c: &Case, s: usize, t: usize) -> Vec<Vec<usize>> {
        fn dfs(
            c: &Case,
            v: usize,
            t: usize,
            used: &mut Vec<bool>,
            walk: &mut Vec<usize>,
            out: &mut Vec<Vec<usize>>,
        ) {
            if v == t && !walk.is_empty() {
                out.push(walk.clone());
            }
            for a in 0..c.tail.len() {
                if c.tail[a] as usize == v && !used[a] {
                    used[a] = true;
                    walk.push(a);
                    dfs(c, c.head[a] as usize, t, used, walk, out);
                    walk.pop();
                    used[a] = false;
                }
            }
        }
        let mut out = Vec::new();
        dfs(
            c,
            s,
            t,
            &mut vec![false; c.tail.len()],
            &mut Vec::new(),
            &mut out,
        );
        out
    }

    fn front(mut v: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v.dedup();
        let all = v.clone();
        v.retain(|x| {
            !all.iter()
                .any(|y| y != x && y.iter().zip(x).all(|(p, q)| p <= q))
        });
        v
    }

    fn search(g: &Graph, s: usize, t: usize, dep: Option<f64>) -> Vec<Vec<f64>> {
        let o = SearchOptions {
            departure: dep,
            ..Default::default()
        };
        let r = pareto(g, s as i64, t as i64, &o, &mut |_| ControlFlow::Continue).unwrap();
        let mut v: Vec<Vec<f64>> = r.solutions.into_iter().map(|s| s.costs).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    }

    fn close(a: &[Vec<f64>], b: &[Vec<f64>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.iter()
                    .zip(y)
                    .all(|(p, q)| (p - q).abs() <= 1e-3 * (1.0 + p.abs()))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// The front on the expanded graph equals the front of all arc walks priced node-based
        /// with the explicit turn costs; each returned walk maps back to arcs that chain and
        /// whose recomputed cost is the reported one.
        #[test]
        fn expanded_front_equals_brute_force(c in case(), s in 0usize..6, t in 0usize..6, dep in proptest::option::of(0u32..86_400)) {
            let (s, t) = (s % c.n, t % c.n);
            let dep = dep.map(f64::from);
            let g = build(&c, dep.is_some());
            let turns = turns_of(&c, &g, false);
            let tg = expand_turns(&g, &Turns { from: &turns.0, to: &turns.1, costs: &turns.2 }).unwrap();
            let walks = arc_simple_walks(&c, s, t);
            let brute = front(walks.iter().filter_map(|w| walk_cost(&c, &g, &turns, w, dep)).collect());
            let o = SearchOptions { departure: dep, ..Default::default() };
            let r = pareto(&tg.graph, tg.source(s) as i64, tg.target(t) as i64, &o, &mut |_| ControlFlow::Continue).unwrap();
            for sol in &r.solutions {
                let w: Vec<usize> = tg.original_arcs(&sol.arcs).into_iter().map(|a| a as usize).collect();
                prop_assert_eq!(c.tail[w[0]] as usize, s);
                prop_assert_eq!(c.head[*w.last().unwrap()] as usize, t);
                let cost = walk_cost(&c, &g, &turns, &w, dep).expect("a forbidden turn was used");
                prop_assert!(close(std::slice::from_ref(&cost), std::slice::from_ref(&sol.costs)), "{:?} vs {:?}", cost, sol.costs);
            }
            let got = search(&tg.graph, tg.source(s), tg.target(t), dep);
            prop_assert!(close(&got, &brute), "{:?} vs {:?}", got, brute);
        }

        /// Zero turn costs with every turn allowed give exactly the node-based answer: the same
        /// front and the same weighted-sum optimum.
        #[test]
        fn zero_turn_costs_equal_node_based(c in case(), s in 0usize..6, t in 0usize..6, dep in proptest::option::of(0u32..86_400)) {
            let (s, t) = (s % c.n, t % c.n);
            prop_assume!(s != t);
            let dep = dep.map(f64::from);
            let g = build(&c, dep.is_some());
            let turns = turns_of(&c, &g, true);
            let tg = expand_turns(&g, &Turns { from: &turns.0, to: &turns.1, costs: &turns.2 }).unwrap();
            prop_assert_eq!(search(&tg.graph, tg.source(s), tg.target(t), dep), search(&g, s, t, dep));
            let w: Vec<f64> = (0..c.k).map(|i| 1.0 + i as f64).collect();
            let o = RouteOptions { weights: w, departure: dep, ..Default::default() };
            let a = route(&g, s as i64, t as i64, &o).unwrap();
            let b = route(&tg.graph, tg.source(s) as i64, tg.target(t) as i64, &o).unwrap();
            prop_assert_eq!(a.solution.is_some(), b.solution.is_some());
            prop_assert!((a.cost - b.cost).abs() <= 1e-9 * (1.0 + a.cost.abs()) || a.cost == b.cost);
        }
    }

    /// A junction with a dead-end spur: the U-turn at node 1 is forbidden, so the way back turns at
    /// the dead end.
    #[test]
    fn forbidden_u_turn_is_never_taken() {
        // 0 -> 1 -> 2 and back 2 -> 1 -> 0; 1 -> 3 -> 0 the detour.
        let tail = [0, 1, 2, 1, 1, 3];
        let head = [1, 2, 1, 0, 3, 0];
        let costs = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0];
        let g = GraphBuilder {
            tail: &tail,
            head: &head,
            costs: &costs,
            k: 2,
            ..Default::default()
        }
        .build()
        .unwrap();
        let (from, to) = all_turns(&g);
        // Forbid the U-turn 0->1 then 1->0 (arc 0 then arc 3).
        let keep: Vec<usize> = (0..from.len())
            .filter(|&i| !(from[i] == 0 && to[i] == 3))
            .collect();
        let f: Vec<i64> = keep.iter().map(|&i| from[i]).collect();
        let t: Vec<i64> = keep.iter().map(|&i| to[i]).collect();
        let tc = vec![0.0; f.len() * 2];
        let tg = expand_turns(
            &g,
            &Turns {
                from: &f,
                to: &t,
                costs: &tc,
            },
        )
        .unwrap();
        // 0 -> 0 round trip: via the dead end 2 (arcs 0 1 2 3, U-turn at 2 allowed) or via 3
        // (arcs 0 4 5); never 0 3.
        let o = RouteOptions {
            weights: vec![1.0, 0.0],
            ..Default::default()
        };
        let r = route(&tg.graph, tg.source(0) as i64, tg.target(0) as i64, &o).unwrap();
        let arcs = tg.original_arcs(&r.solution.unwrap().arcs);
        assert_eq!(arcs, vec![0, 1, 2, 3]);
        assert_eq!(r.cost, 4.0);
        // Without the restriction the U-turn 0 3 is the best round trip.
        let (f, t) = all_turns(&g);
        let tc = vec![0.0; f.len() * 2];
        let tg = expand_turns(
            &g,
            &Turns {
                from: &f,
                to: &t,
                costs: &tc,
            },
        )
        .unwrap();
        let r = route(&tg.graph, tg.source(0) as i64, tg.target(0) as i64, &o).unwrap();
        assert_eq!(tg.original_arcs(&r.solution.unwrap().arcs), vec![0, 3]);
        assert_eq!(tg.graph.num_nodes(), 6 + 2 * 4);
        assert_eq!(tg.graph.num_arcs(), f.len() + 12);
    }

    #[test]
    fn rejects_turns_that_do_not_chain() {
        let g = GraphBuilder {
            tail: &[0, 1],
            head: &[1, 2],
            costs: &[1.0, 1.0, 1.0, 1.0],
            k: 2,
            ..Default::default()
        }
        .build()
        .unwrap();
        let e = expand_turns(
            &g,
            &Turns {
                from: &[1],
                to: &[0],
                costs: &[0.0, 0.0],
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("ends at node 2"), "{e}");
        let e = expand_turns(
            &g,
            &Turns {
                from: &[0],
                to: &[5],
                costs: &[0.0, 0.0],
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = expand_turns(
            &g,
            &Turns {
                from: &[0],
                to: &[1],
                costs: &[-1.0, 0.0],
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("turn costs must be finite"), "{e}");
    }
}
