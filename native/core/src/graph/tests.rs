//! Property tests: searches against brute-force enumeration of simple paths.

use proptest::prelude::*;

use super::pareto::pareto_impl;
use super::*;

#[derive(Debug, Clone)]
struct Case {
    n: usize,
    k: usize,
    tail: Vec<i64>,
    head: Vec<i64>,
    costs: Vec<f64>,
    profile: Vec<f64>,
    variance: Vec<f64>,
}

const SLOTS: usize = 4;

fn case() -> impl Strategy<Value = Case> {
    (2usize..7, 2usize..=4, 0usize..16).prop_flat_map(|(n, k, m)| {
        (
            proptest::collection::vec((0..n as i64, 0..n as i64), m),
            proptest::collection::vec(0u8..6, m * k),
            proptest::collection::vec(0u32..20_000, m * SLOTS),
            proptest::collection::vec(0u8..4, m),
        )
            .prop_map(move |(arcs, c, p, v)| Case {
                n,
                k,
                tail: arcs.iter().map(|a| a.0).collect(),
                head: arcs.iter().map(|a| a.1).collect(),
                costs: c.into_iter().map(f64::from).collect(),
                // Knots differ by < 21,600 s per 6 h slot, so every profile is FIFO.
                profile: p.into_iter().map(f64::from).collect(),
                variance: v.into_iter().map(f64::from).collect(),
            })
    })
}

fn build(c: &Case, extras: bool) -> Graph {
    GraphBuilder {
        n: Some(c.n),
        tail: &c.tail,
        head: &c.head,
        costs: &c.costs,
        k: c.k,
        profile: extras.then_some((&c.profile[..], SLOTS)),
        variance: extras.then_some(&c.variance[..]),
        time_index: 1,
        ..Default::default()
    }
    .build()
    .unwrap()
}

/// Cost vector of a path given as arc ids, with optional departure and risk.
fn path_cost(c: &Case, g: &Graph, arcs: &[usize], dep: Option<f64>, lambda: f64) -> Vec<f64> {
    let k = c.k;
    let mut out = vec![0.0; k];
    let mut var = 0.0;
    for &a in arcs {
        for (i, o) in out.iter_mut().enumerate() {
            if dep.is_some() && i == 1 {
                continue;
            }
            if lambda > 0.0 && dep.is_none() && i == 1 {
                *o += c.costs[a * k + i] + lambda * c.variance[a];
                continue;
            }
            *o += c.costs[a * k + i];
        }
        if let Some(d) = dep {
            let pos = g
                .fwd_id
                .as_slice()
                .iter()
                .position(|&x| x as usize == a)
                .unwrap();
            let tt = g.profile.as_ref().unwrap().travel_time(pos, d + out[1]);
            out[1] += tt;
        }
        var += c.variance[a];
    }
    if dep.is_some() && lambda > 0.0 {
        out[1] += lambda * var;
    }
    out
}

/// All simple paths s -> t as arc id lists.
fn simple_paths(c: &Case, s: usize, t: usize) -> Vec<Vec<usize>> {
    fn dfs(
        c: &Case,
        v: usize,
        t: usize,
        seen: &mut Vec<bool>,
        path: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if v == t {
            out.push(path.clone());
            return;
        }
        for a in 0..c.tail.len() {
            let (x, y) = (c.tail[a] as usize, c.head[a] as usize);
            if x == v && !seen[y] {
                seen[y] = true;
                path.push(a);
                dfs(c, y, t, seen, path, out);
                path.pop();
                seen[y] = false;
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = vec![false; c.n];
    seen[s] = true;
    dfs(c, s, t, &mut seen, &mut Vec::new(), &mut out);
    out
}

fn dominates_weakly(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

fn front(mut v: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.dedup();
    let all = v.clone();
    v.retain(|x| !all.iter().any(|y| y != x && dominates_weakly(y, x)));
    v
}

fn sorted(mut v: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

fn check_paths(
    c: &Case,
    g: &Graph,
    s: usize,
    t: usize,
    r: &ParetoResult,
    dep: Option<f64>,
    lambda: f64,
) {
    for sol in &r.solutions {
        assert_eq!(sol.nodes[0] as usize, s);
        assert_eq!(*sol.nodes.last().unwrap() as usize, t);
        assert_eq!(sol.arcs.len() + 1, sol.nodes.len());
        for (i, &a) in sol.arcs.iter().enumerate() {
            assert_eq!(c.tail[a as usize], sol.nodes[i] as i64);
            assert_eq!(c.head[a as usize], sol.nodes[i + 1] as i64);
        }
        let arcs: Vec<usize> = sol.arcs.iter().map(|&a| a as usize).collect();
        let cost = path_cost(c, g, &arcs, dep, lambda);
        for (x, y) in cost.iter().zip(&sol.costs) {
            assert!(
                (x - y).abs() <= 1e-6 * (1.0 + x.abs()),
                "{cost:?} vs {:?}",
                sol.costs
            );
        }
    }
}

fn exact(g: &Graph, s: usize, t: usize, o: &SearchOptions, generic: bool) -> ParetoResult {
    pareto_impl(g, s as i64, t as i64, o, generic, &mut |_| {
        ControlFlow::Continue
    })
    .unwrap()
}

fn costs_of(r: &ParetoResult) -> Vec<Vec<f64>> {
    r.solutions.iter().map(|s| s.costs.clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn exact_front_equals_brute_force(c in case(), s in 0usize..7, t in 0usize..7) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, false);
        let paths = simple_paths(&c, s, t);
        let brute = front(paths.iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        for generic in [false, true] {
            let r = exact(&g, s, t, &SearchOptions::default(), generic);
            check_paths(&c, &g, s, t, &r, None, 0.0);
            prop_assert_eq!(sorted(costs_of(&r)), brute.clone());
            prop_assert!(!r.truncated);
            let want = if paths.is_empty() { Status::NoPath } else { Status::Found };
            prop_assert_eq!(r.status, want);
        }
    }

    #[test]
    fn epsilon_front_meets_guarantee(c in case(), s in 0usize..7, t in 0usize..7, e in 0.0f64..1.0) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, false);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let o = SearchOptions { method: Method::Epsilon(e), ..Default::default() };
        let r = exact(&g, s, t, &o, false);
        check_paths(&c, &g, s, t, &r, None, 0.0);
        prop_assert_eq!(r.epsilon, e);
        for p in &brute {
            prop_assert!(r.solutions.iter().any(|s| s.costs.iter().zip(p).all(|(a, b)| *a <= (1.0 + e) * b)));
        }
        prop_assert!(r.solutions.len() <= brute.len().max(1));
    }

    #[test]
    fn bounded_front_is_filtered_exact_front(c in case(), s in 0usize..7, t in 0usize..7,
                                             b in proptest::collection::vec(proptest::option::of(0.0f64..15.0), 4)) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, false);
        let bounds: Vec<Option<f64>> = b[..c.k].to_vec();
        let full = exact(&g, s, t, &SearchOptions::default(), false);
        let o = SearchOptions { bounds: bounds.clone(), ..Default::default() };
        for generic in [false, true] {
            let r = exact(&g, s, t, &o, generic);
            let want: Vec<Vec<f64>> = costs_of(&full).into_iter()
                .filter(|c| c.iter().zip(&bounds).all(|(x, b)| b.is_none_or(|b| *x <= b))).collect();
            prop_assert_eq!(sorted(costs_of(&r)), sorted(want.clone()));
            if full.status == Status::NoPath {
                prop_assert_eq!(r.status, Status::NoPath);
            } else if want.is_empty() {
                prop_assert_eq!(r.status, Status::EmptyWithinBounds);
            }
        }
    }

    #[test]
    fn route_is_best_weighted_point_of_front(c in case(), s in 0usize..7, t in 0usize..7,
                                             w in proptest::collection::vec(0.0f64..3.0, 4)) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, false);
        let w = w[..c.k].to_vec();
        let full = exact(&g, s, t, &SearchOptions::default(), false);
        let r = route(&g, s as i64, t as i64, &RouteOptions { weights: w.clone(), ..Default::default() }).unwrap();
        let best = full.solutions.iter()
            .map(|s| s.costs.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>())
            .fold(f64::INFINITY, f64::min);
        if best.is_infinite() {
            prop_assert!(r.solution.is_none());
        } else {
            prop_assert!((r.cost - best).abs() <= 1e-9 * (1.0 + best));
            let sol = r.solution.unwrap();
            let fake = ParetoResult { solutions: vec![sol], ..full.clone() };
            check_paths(&c, &g, s, t, &fake, None, 0.0);
        }
        let objs: Vec<usize> = (0..c.k).collect();
        let lm = std::sync::Arc::new(Landmarks::build(&g, 3, &objs, s as u64).unwrap());
        let o = RouteOptions { weights: w.clone(), landmarks: Some(lm), ..Default::default() };
        let a = route(&g, s as i64, t as i64, &o).unwrap();
        prop_assert_eq!(a.algorithm, "alt-a*");
        if best.is_infinite() {
            prop_assert!(a.solution.is_none());
        } else {
            prop_assert!((a.cost - best).abs() <= 1e-9 * (1.0 + best), "{} vs {}", a.cost, best);
        }
    }

    #[test]
    fn time_dependent_and_risk_fronts_equal_brute_force(c in case(), s in 0usize..7, t in 0usize..7,
                                                        dep in 0.0f64..86_400.0, lam in 0.0f64..2.0,
                                                        with_dep in any::<bool>()) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, true);
        let dep = with_dep.then_some(dep);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, dep, lam)).collect());
        let o = SearchOptions { departure: dep, risk_aversion: lam, ..Default::default() };
        let r = exact(&g, s, t, &o, false);
        check_paths(&c, &g, s, t, &r, dep, lam);
        let got = sorted(costs_of(&r));
        prop_assert_eq!(got.len(), brute.len());
        for (x, y) in got.iter().zip(&brute) {
            for (a, b) in x.iter().zip(y) {
                prop_assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{:?} vs {:?}", got, brute);
            }
        }
    }

    #[test]
    fn save_load_roundtrip(c in case(), s in 0usize..7, t in 0usize..7) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, true);
        let dir = std::env::temp_dir().join(format!("rdgl-test-{}-{}", std::process::id(), rand_id()));
        g.save(&dir).unwrap();
        let h = Graph::load(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        prop_assert!(h.is_mapped());
        prop_assert_eq!(g.arcs_by_id(), h.arcs_by_id());
        let o = SearchOptions { departure: Some(3600.0), ..Default::default() };
        prop_assert_eq!(costs_of(&exact(&g, s, t, &o, false)), costs_of(&exact(&h, s, t, &o, false)));
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn bad_input_is_rejected() {
    let ok = |k: usize, tail: &[i64], head: &[i64], costs: &[f64]| {
        GraphBuilder {
            tail,
            head,
            costs,
            k,
            ..Default::default()
        }
        .build()
    };
    assert!(ok(1, &[0], &[1], &[1.0])
        .unwrap_err()
        .to_string()
        .contains("k = 2..4"));
    assert!(ok(5, &[0], &[1], &[1.0; 5]).is_err());
    assert!(ok(2, &[0, 1], &[1], &[1.0; 4])
        .unwrap_err()
        .to_string()
        .contains("same length"));
    assert!(ok(2, &[-1], &[1], &[1.0; 2])
        .unwrap_err()
        .to_string()
        .contains("negative node id"));
    assert!(ok(2, &[0], &[1], &[1.0, f64::NAN])
        .unwrap_err()
        .to_string()
        .contains("NaN"));
    assert!(ok(2, &[0], &[1], &[1.0, -2.0])
        .unwrap_err()
        .to_string()
        .contains("negative"));
    let g = ok(2, &[0], &[1], &[1.0, 2.0]).unwrap();
    let e = pareto(&g, 0, 5, &SearchOptions::default(), &mut |_| {
        ControlFlow::Continue
    });
    assert!(e.unwrap_err().to_string().contains("out of range"));
    let fifo = GraphBuilder {
        tail: &[0],
        head: &[1],
        costs: &[1.0, 1.0],
        k: 2,
        profile: Some((&[50_000.0, 0.0], 2)),
        time_index: 1,
        ..Default::default()
    }
    .build();
    assert!(fifo.unwrap_err().to_string().contains("FIFO"));
    let p = std::env::temp_dir().join(format!("rdgl-bad-{}", std::process::id()));
    std::fs::write(&p, b"not a graph").unwrap();
    assert!(matches!(Graph::load(&p), Err(GraphError::BadFile { .. })));
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn budgets_truncate() {
    // A grid with many Pareto-optimal paths.
    let side = 6i64;
    let (mut tail, mut head, mut costs) = (vec![], vec![], vec![]);
    for r in 0..side {
        for c in 0..side {
            let v = r * side + c;
            if c + 1 < side {
                tail.push(v);
                head.push(v + 1);
                costs.extend([1.0 + ((v * 7) % 5) as f64, 1.0 + ((v * 3) % 4) as f64]);
            }
            if r + 1 < side {
                tail.push(v);
                head.push(v + side);
                costs.extend([1.0 + ((v * 5) % 3) as f64, 1.0 + ((v * 11) % 6) as f64]);
            }
        }
    }
    let g = GraphBuilder {
        tail: &tail,
        head: &head,
        costs: &costs,
        k: 2,
        ..Default::default()
    }
    .build()
    .unwrap();
    let full = pareto(
        &g,
        0,
        side * side - 1,
        &SearchOptions::default(),
        &mut |_| ControlFlow::Continue,
    )
    .unwrap();
    assert!(full.solutions.len() > 2 && !full.truncated);
    let o = SearchOptions {
        max_solutions: Some(2),
        ..Default::default()
    };
    let r = pareto(&g, 0, side * side - 1, &o, &mut |_| ControlFlow::Continue).unwrap();
    assert_eq!(r.solutions.len(), 2);
    assert!(r.truncated);
    assert_eq!(r.solutions[..], full.solutions[..2]);
    let o = SearchOptions {
        max_expansions: Some(3),
        ..Default::default()
    };
    let r = pareto(&g, 0, side * side - 1, &o, &mut |_| ControlFlow::Continue).unwrap();
    assert!(r.truncated && r.solutions.is_empty());
    assert_eq!(r.status, Status::BudgetExhausted);
    let mut seen = 0;
    let r = pareto(
        &g,
        0,
        side * side - 1,
        &SearchOptions::default(),
        &mut |_| {
            seen += 1;
            if seen == 1 {
                ControlFlow::Stop
            } else {
                ControlFlow::Continue
            }
        },
    )
    .unwrap();
    assert_eq!(r.solutions.len(), 1);
    assert!(r.truncated);
}

fn dense_case() -> impl Strategy<Value = Case> {
    (4usize..9, 8usize..26).prop_flat_map(|(n, m)| {
        (
            proptest::collection::vec((0..n as i64, 0..n as i64), m),
            proptest::collection::vec(0.0f64..20.0, m * 2),
        )
            .prop_map(move |(arcs, c)| Case {
                n,
                k: 2,
                tail: arcs.iter().map(|a| a.0).collect(),
                head: arcs.iter().map(|a| a.1).collect(),
                costs: c,
                profile: vec![],
                variance: vec![0.0; m],
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A*pex on denser two-objective graphs with real-valued costs.
    #[test]
    fn apex_meets_guarantee(c in dense_case(), s in 0usize..9, t in 0usize..9, e in 0.001f64..0.5) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, false);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let o = SearchOptions { method: Method::Epsilon(e), ..Default::default() };
        let r = exact(&g, s, t, &o, false);
        prop_assert_eq!(r.algorithm, "a*pex");
        check_paths(&c, &g, s, t, &r, None, 0.0);
        for p in &brute {
            prop_assert!(
                r.solutions.iter().any(|s| s.costs.iter().zip(p).all(|(a, b)| *a <= (1.0 + e) * b + 1e-9)),
                "{:?} not covered by {:?}", p, costs_of(&r)
            );
        }
        prop_assert_eq!(r.solutions.is_empty(), brute.is_empty());
    }
}

fn dense_case_k(k: usize) -> impl Strategy<Value = Case> {
    (4usize..9, 8usize..24).prop_flat_map(move |(n, m)| {
        (
            proptest::collection::vec((0..n as i64, 0..n as i64), m),
            proptest::collection::vec(0u8..12, m * k),
            proptest::collection::vec(0u32..20_000, m * SLOTS),
            proptest::collection::vec(0u8..4, m),
        )
            .prop_map(move |(arcs, c, p, v)| Case {
                n,
                k,
                tail: arcs.iter().map(|a| a.0).collect(),
                head: arcs.iter().map(|a| a.1).collect(),
                costs: c.into_iter().map(f64::from).collect(),
                profile: p.into_iter().map(f64::from).collect(),
                variance: v.into_iter().map(f64::from).collect(),
            })
    })
}

fn covered(sols: &[Vec<f64>], p: &[f64], e: f64) -> bool {
    sols.iter()
        .any(|s| s.iter().zip(p).all(|(a, b)| *a <= (1.0 + e) * b + 1e-9))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The LTMOA*-style search on denser graphs with many Pareto-optimal paths (large 2-D and 3-D
    /// truncated fronts) returns exactly the brute-force front.
    #[test]
    fn ltmoa_dense_front_equals_brute_force(c in prop_oneof![dense_case_k(3), dense_case_k(4)]) {
        let g = build(&c, false);
        let (s, t) = (0, c.n - 1);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let r = exact(&g, s, t, &SearchOptions::default(), false);
        prop_assert_eq!(r.algorithm, "ltmoa*");
        check_paths(&c, &g, s, t, &r, None, 0.0);
        prop_assert_eq!(sorted(costs_of(&r)), brute);
    }

    /// The backward searches read their costs from one of two record layouts
    /// (`Graph::reverse_lower_bounds`): exact `u16` for small integer costs (every other test's
    /// graphs) and `f32` rounded down otherwise; fractional and large costs take the second, and
    /// the front is still exactly the brute-force one.
    #[test]
    fn ltmoa_front_with_f32_lower_bounds_equals_brute_force(
        c in prop_oneof![dense_case_k(3), dense_case_k(4)], large in proptest::bool::ANY,
    ) {
        let mut c = c;
        for x in &mut c.costs {
            *x = if large { *x * 40_000.0 } else { *x * 0.37 + 0.013 };
        }
        let g = build(&c, false);
        let is_f32 = matches!(g.reverse_lower_bounds(), crate::graph::csr::RevArcs::F32(_));
        // All-zero costs stay small integers even when scaled.
        prop_assert_eq!(is_f32, !large || c.costs.iter().any(|&x| x > 65535.0));
        let (s, t) = (0, c.n - 1);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let r = exact(&g, s, t, &SearchOptions::default(), false);
        check_paths(&c, &g, s, t, &r, None, 0.0);
        prop_assert_eq!(sorted(costs_of(&r)), brute);
    }

    /// A*pex for k = 2..4 with bounds, departures and risk: every Pareto-optimal vector within
    /// the bounds is (1 + eps)-dominated by a returned solution, and every returned solution is a
    /// real path within the bounds.
    #[test]
    fn apex_with_bounds_profiles_and_risk_meets_guarantee(
        c in case(), s in 0usize..7, t in 0usize..7, e in 0.001f64..0.5,
        dep in 0.0f64..86_400.0, lam in 0.0f64..2.0, with_dep in any::<bool>(),
        b in proptest::collection::vec(proptest::option::of(0.0f64..15.0), 4),
    ) {
        let (s, t) = (s % c.n, t % c.n);
        let g = build(&c, true);
        let dep = with_dep.then_some(dep);
        let bounds: Vec<Option<f64>> = b[..c.k].to_vec();
        let within = |x: &[f64]| x.iter().zip(&bounds).all(|(v, b)| b.is_none_or(|b| *v <= b));
        let brute: Vec<Vec<f64>> = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, dep, lam)).collect())
            .into_iter().filter(|x| within(x)).collect();
        let o = SearchOptions { method: Method::Epsilon(e), departure: dep, risk_aversion: lam,
                                bounds: bounds.clone(), ..Default::default() };
        let r = exact(&g, s, t, &o, false);
        prop_assert_eq!(r.algorithm, "a*pex");
        prop_assert!(!r.truncated);
        check_paths(&c, &g, s, t, &r, dep, lam);
        let got = costs_of(&r);
        for x in &got {
            prop_assert!(x.iter().zip(&bounds).all(|(v, b)| b.is_none_or(|b| *v <= b + 1e-9)), "{:?} beyond {:?}", x, bounds);
        }
        for p in &brute {
            prop_assert!(covered(&got, p, e), "{:?} not covered by {:?}", p, got);
        }
        prop_assert_eq!(got.is_empty(), brute.is_empty());
    }

    /// A*pex on denser three- and four-objective graphs against the brute-force front.
    #[test]
    fn apex_dense_meets_guarantee(c in prop_oneof![dense_case_k(3), dense_case_k(4)], e in 0.001f64..0.5) {
        let g = build(&c, false);
        let (s, t) = (0, c.n - 1);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let o = SearchOptions { method: Method::Epsilon(e), ..Default::default() };
        let r = exact(&g, s, t, &o, false);
        check_paths(&c, &g, s, t, &r, None, 0.0);
        let got = costs_of(&r);
        for p in &brute {
            prop_assert!(covered(&got, p, e), "{:?} not covered by {:?}", p, got);
        }
        prop_assert!(got.len() <= brute.len().max(1));
    }

    /// Pairs sharing a target reuse the lazy heuristics; results equal separate queries.
    #[test]
    fn pareto_many_with_shared_targets_equals_single_queries(c in case(), seed in 0usize..50) {
        let g = build(&c, true);
        let n = c.n as i64;
        let pairs: Vec<(i64, i64)> = (0..6).map(|i| (((seed + i * 3) as i64) % n, (seed as i64 + (i as i64 % 2)) % n)).collect();
        for o in [SearchOptions::default(), SearchOptions { departure: Some(1000.0), ..Default::default() },
                  SearchOptions { method: Method::Epsilon(0.1), ..Default::default() }] {
            let many = pareto_many(&g, &pairs, &o);
            for (&(s, t), r) in pairs.iter().zip(many) {
                let one = pareto(&g, s, t, &o, &mut |_| ControlFlow::Continue).unwrap();
                let r = r.unwrap();
                prop_assert_eq!(costs_of(&r), costs_of(&one));
                prop_assert_eq!(r.status, one.status);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Separate calls to one target resume the cached backward searches (heuristics.rs): every
    /// source, in any order, with options that share the cache entry (exact and epsilon) or not
    /// (bounds, departures, risk), still gets the brute-force front.
    #[test]
    fn cached_heuristics_across_calls_give_brute_force_fronts(
        c in dense_case_k(3), t in 0usize..9, order in proptest::collection::vec(0usize..9, 12),
        b in 0.0f64..20.0, e in 0.001f64..0.5,
    ) {
        let t = t % c.n;
        let g = build(&c, true);
        let opts = [
            SearchOptions::default(),
            SearchOptions { method: Method::Epsilon(e), ..Default::default() },
            SearchOptions { bounds: vec![None, Some(b), None], ..Default::default() },
            SearchOptions { departure: Some(3600.0), ..Default::default() },
            SearchOptions { risk_aversion: 0.5, ..Default::default() },
        ];
        for (j, &s) in order.iter().enumerate() {
            let s = s % c.n;
            let o = &opts[j % opts.len()];
            let r = exact(&g, s, t, o, j % 2 == 1);
            let lambda = o.risk_aversion;
            let costs: Vec<Vec<f64>> = simple_paths(&c, s, t)
                .iter()
                .map(|p| path_cost(&c, &g, p, o.departure, lambda))
                .filter(|x| o.bounds.is_empty() || o.bounds.iter().zip(x).all(|(b, v)| b.is_none_or(|b| *v <= b)))
                .collect();
            let brute = front(costs);
            check_paths(&c, &g, s, t, &r, o.departure, lambda);
            prop_assert!(!r.truncated);
            match o.method {
                Method::Epsilon(e) => {
                    for p in &brute {
                        prop_assert!(covered(&costs_of(&r), p, e), "{:?} not covered", p);
                    }
                }
                Method::Exact => {
                    let got = sorted(costs_of(&r));
                    prop_assert_eq!(got.len(), brute.len());
                    for (x, y) in got.iter().zip(&brute) {
                        for (a, b) in x.iter().zip(y) {
                            prop_assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{:?} vs {:?}", got, brute);
                        }
                    }
                }
            }
        }
    }
}

/// A path of `n` nodes with three integer objectives (1 + i mod 7): every backward search has to
/// settle all of it.
fn long_path_k3(n: i64) -> Graph {
    let tail: Vec<i64> = (0..n - 1).collect();
    let head: Vec<i64> = (1..n).collect();
    let costs: Vec<f64> = (0..(n - 1) * 3).map(|i| 1.0 + (i % 7) as f64).collect();
    GraphBuilder {
        tail: &tail,
        head: &head,
        costs: &costs,
        k: 3,
        ..Default::default()
    }
    .build()
    .unwrap()
}

#[test]
fn time_limit_stops_the_lazy_heuristics() {
    // A long three-objective path: the lazy backward searches have to settle every node.
    let n = 5000i64;
    let g = long_path_k3(n);
    let o = SearchOptions {
        time_limit: Some(0.0),
        ..Default::default()
    };
    let r = pareto(&g, 0, n - 1, &o, &mut |_| ControlFlow::Continue).unwrap();
    assert!(r.truncated);
    assert_eq!(r.status, Status::BudgetExhausted);
    assert_eq!(r.expansions, 0);
    let full = pareto(&g, 0, n - 1, &SearchOptions::default(), &mut |_| {
        ControlFlow::Continue
    })
    .unwrap();
    assert_eq!(full.solutions.len(), 1);
    assert!(!full.truncated);
    // The interrupted backward searches were cached and resumed by `full`. On a graph built
    // afresh (another cache key), interrupt them again part-way, then resume them from several
    // sources: each front is still the exact one.
    let fresh = long_path_k3(n);
    let cut = pareto(&fresh, 0, n - 1, &o, &mut |_| ControlFlow::Continue).unwrap();
    assert!(cut.truncated);
    let want = pareto(&fresh, 0, n - 1, &SearchOptions::default(), &mut |_| {
        ControlFlow::Continue
    })
    .unwrap();
    assert_eq!(costs_of(&full), costs_of(&want));
    assert_eq!(full.solutions[0].nodes.len(), n as usize);
    for s in [n / 2, 10, n - 2, 0] {
        let r = pareto(&fresh, s, n - 1, &SearchOptions::default(), &mut |_| {
            ControlFlow::Continue
        })
        .unwrap();
        assert_eq!(r.solutions.len(), 1);
        assert_eq!(r.solutions[0].nodes.len(), (n - s) as usize);
    }
}

/// Reverse arcs whose tail is 32,768 or more ids from the head are kept in the `u16` records'
/// side list: every record decodes to its tail, and a front whose paths need such arcs is exact.
#[test]
fn far_tails_in_u16_records() {
    let n = 100_000usize;
    // 0 -> 1 directly (costs 10, 1, 1), or 0 -> 70,000 -> 1 (costs 1 + 1, 5 + 5, 1 + 1), plus a
    // chain so most arcs are near.
    let (mut tail, mut head, mut costs) = (vec![0i64, 0, 70_000], vec![1i64, 70_000, 1], vec![]);
    costs.extend_from_slice(&[10.0, 1.0, 1.0, 1.0, 5.0, 1.0, 1.0, 5.0, 1.0]);
    for v in 2..n as i64 - 1 {
        tail.push(v);
        head.push(v + 1);
        costs.extend_from_slice(&[1.0, 2.0, 3.0]);
    }
    let g = GraphBuilder {
        n: Some(n),
        tail: &tail,
        head: &head,
        costs: &costs,
        k: 3,
        ..Default::default()
    }
    .build()
    .unwrap();
    let csr::RevArcs::U16 { rec, far, .. } = g.reverse_lower_bounds() else {
        panic!("integer costs take the u16 records");
    };
    assert_eq!(far.len(), 2);
    let (off, rt) = (g.rev_off.as_slice(), g.rev_tail.as_slice());
    for v in 0..n {
        for r in off[v] as usize..off[v + 1] as usize {
            assert_eq!(csr::u16_tail(far, r, v, rec[r * 4]), rt[r] as usize);
        }
    }
    let r = pareto(&g, 0, 1, &SearchOptions::default(), &mut |_| {
        ControlFlow::Continue
    })
    .unwrap();
    let mut fronts: Vec<Vec<f64>> = r.solutions.iter().map(|s| s.costs.clone()).collect();
    fronts.sort_by(|a, b| a[0].total_cmp(&b[0]));
    assert_eq!(fronts, vec![vec![2.0, 10.0, 2.0], vec![10.0, 1.0, 1.0]]);
}

/// Runs `f` with the contraction-hierarchy heuristics forced on this thread's queries.
fn with_ch<T>(f: impl FnOnce() -> T) -> T {
    with_ch_use(super::ch::ChUse::Now, f)
}

fn with_ch_use<T>(how: super::ch::ChUse, f: impl FnOnce() -> T) -> T {
    super::pareto::FORCE_CH.with(|c| c.set(how));
    let r = f();
    super::pareto::FORCE_CH.with(|c| c.set(super::ch::ChUse::Default));
    r
}

fn random_graph_k3() -> impl Strategy<Value = Case> {
    (2usize..60, 0usize..240).prop_flat_map(|(n, m)| {
        (
            proptest::collection::vec((0..n as i64, 0..n as i64), m),
            // Zero costs and repeated values: ties and zero-cost cycles for the witness searches.
            proptest::collection::vec(0u16..40, m * 3),
        )
            .prop_map(move |(arcs, c)| Case {
                n,
                k: 3,
                tail: arcs.iter().map(|a| a.0).collect(),
                head: arcs.iter().map(|a| a.1).collect(),
                costs: c.into_iter().map(f64::from).collect(),
                profile: Vec::new(),
                variance: Vec::new(),
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The hierarchy potentials equal the backward Dijkstra distance on every node, with and
    /// without a bound (`+inf` beyond it, as the lazy searches give).
    #[test]
    fn ch_heuristic_equals_backward_dijkstra(c in random_graph_k3(), t in 0usize..60, b in 0.0f64..80.0) {
        use super::heuristics::Heuristic;
        let t = t % c.n;
        let g = build(&c, false);
        let model = super::search::StaticCosts { costs: g.costs.as_slice() };
        let dij: Vec<Vec<f64>> = (0..3)
            .map(|i| backward_dijkstra(&g, t, f64::INFINITY, |p| g.costs.as_slice()[p * 3 + i]))
            .collect();
        for bounds in [[f64::INFINITY; 3], [b, f64::INFINITY, b / 2.0]] {
            let mut h = super::ch::ChHeur::<3>::new(&g, t, &model, bounds, super::ch::ChUse::Now).expect("static integer costs");
            // Visit the nodes in a scrambled order: memoised values must not depend on it.
            for j in 0..c.n {
                let v = (j * 7 + t) % c.n;
                let hv = h.h(v);
                for i in 0..3 {
                    let want = if dij[i][v] <= bounds[i] { dij[i][v] } else { f64::INFINITY };
                    prop_assert_eq!(hv[i], want, "node {} objective {}", v, i);
                }
                prop_assert_eq!(h.bound(v), (hv, true));
            }
        }
    }

    /// With the hierarchies, exact, bounded and epsilon fronts are those of the lazy searches
    /// (and the exact ones the brute-force front).
    #[test]
    fn ch_fronts_equal_lazy_fronts(c in prop_oneof![dense_case_k(3), dense_case_k(4), case()],
                                   b in proptest::collection::vec(proptest::option::of(0.0f64..30.0), 4),
                                   e in 0.001f64..0.3) {
        let g = build(&c, false);
        let (s, t) = (0, c.n - 1);
        let brute = front(simple_paths(&c, s, t).iter().map(|p| path_cost(&c, &g, p, None, 0.0)).collect());
        let opts = [
            SearchOptions::default(),
            SearchOptions { bounds: b[..c.k].to_vec(), ..Default::default() },
            SearchOptions { method: Method::Epsilon(e), ..Default::default() },
        ];
        for (j, o) in opts.iter().enumerate() {
            let lazy = exact(&g, s, t, o, false);
            let ch = with_ch(|| exact(&g, s, t, o, false));
            check_paths(&c, &g, s, t, &ch, None, 0.0);
            prop_assert_eq!(sorted(costs_of(&ch)), sorted(costs_of(&lazy)));
            prop_assert_eq!(ch.status, lazy.status);
            if j == 0 {
                prop_assert_eq!(sorted(costs_of(&ch)), brute.clone());
            }
        }
    }
}

/// A zero time limit stops a query served by the hierarchy heuristics before it expands.
#[test]
fn time_limit_stops_the_ch_heuristics() {
    let n = 3000i64;
    let g = long_path_k3(n);
    let o = SearchOptions {
        time_limit: Some(0.0),
        ..Default::default()
    };
    let r = with_ch(|| pareto(&g, 0, n - 1, &o, &mut |_| ControlFlow::Continue).unwrap());
    assert!(r.truncated);
    assert_eq!(r.status, Status::BudgetExhausted);
    assert_eq!(r.expansions, 0);
    let full = with_ch(|| {
        pareto(&g, 0, n - 1, &SearchOptions::default(), &mut |_| {
            ControlFlow::Continue
        })
        .unwrap()
    });
    assert_eq!(full.solutions.len(), 1);
    assert_eq!(full.solutions[0].nodes.len(), n as usize);
}

/// The first query that wants the hierarchies starts their build in the background and is
/// answered by the lazy searches; once built, queries use them, with the same fronts.
#[test]
fn hierarchies_build_in_the_background() {
    use super::ch::ChUse;
    // A 40 x 40 grid, both directions, three objectives.
    let w = 40i64;
    let (mut tail, mut head, mut costs) = (Vec::new(), Vec::new(), Vec::new());
    for y in 0..w {
        for x in 0..w {
            let v = y * w + x;
            for (dx, dy) in [(1, 0), (0, 1)] {
                if x + dx < w && y + dy < w {
                    let u = (y + dy) * w + x + dx;
                    for (a, b) in [(v, u), (u, v)] {
                        tail.push(a);
                        head.push(b);
                        for i in 0..3 {
                            costs.push(((a * 7 + b * 13 + i * 5) % 9 + 1) as f64);
                        }
                    }
                }
            }
        }
    }
    let g = GraphBuilder {
        tail: &tail,
        head: &head,
        costs: &costs,
        k: 3,
        ..Default::default()
    }
    .build()
    .unwrap();
    let (s, t) = (0, w * w - 1);
    let o = SearchOptions::default();
    let run = || pareto(&g, s, t, &o, &mut |_| ControlFlow::Continue).unwrap();
    let lazy = run();
    assert!(!g.hierarchies_ready());
    let first = with_ch_use(ChUse::Background, run);
    let started = std::time::Instant::now();
    while !g.hierarchies_ready() {
        assert!(
            started.elapsed().as_secs() < 120,
            "background build did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let built = with_ch_use(ChUse::Background, run);
    assert_eq!(sorted(costs_of(&first)), sorted(costs_of(&lazy)));
    assert_eq!(sorted(costs_of(&built)), sorted(costs_of(&lazy)));
    assert!(!lazy.solutions.is_empty());
}
