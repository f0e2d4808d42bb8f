//! Single-objective routes on a weighted sum of the objectives.
//!
//! Without a departure time the scalar arc cost is `sum_i w_i c_i` (with `risk_aversion * variance`
//! added to objective `time_index` when requested) and the route is found by bidirectional
//! Dijkstra, which is exact, or, when landmarks were prepared, by A* with the weighted sum of the
//! landmark lower bounds of each objective as heuristic (ALT; exact, see [`Landmarks`]). With a departure time, if only the time objective has a non-zero
//! weight, a time-dependent Dijkstra (exact under FIFO) is used; otherwise the route is the best
//! weighted point of the exact time-dependent Pareto front, which is exact but slower.

use std::time::Instant;

use super::dijkstra::NodeHeap;
use super::pareto::{pareto, ControlFlow, SearchOptions, Solution};
use super::{Graph, GraphError, Landmarks, Result};

/// Options of a weighted-sum route.
#[derive(Debug, Clone, Default)]
pub struct RouteOptions {
    pub weights: Vec<f64>,
    pub departure: Option<f64>,
    pub risk_aversion: f64,
    /// ALT landmarks of this graph: static routes then use A* with their lower bounds.
    pub landmarks: Option<std::sync::Arc<Landmarks>>,
}

/// A weighted-sum route: `None` when the target is unreachable.
#[derive(Debug, Clone)]
pub struct RouteResult {
    pub solution: Option<Solution>,
    /// The weighted cost `sum_i w_i costs_i` of the solution (`inf` without one).
    pub cost: f64,
    /// Nodes settled by the search.
    pub settled: u64,
    pub algorithm: &'static str,
    pub seconds: f64,
}

fn path_costs(g: &Graph, arcs_pos: &[u32], o: &RouteOptions) -> Vec<f64> {
    let k = g.k;
    let c = g.costs.as_slice();
    let mut out = vec![0.0; k];
    let mut time = o.departure.unwrap_or(0.0);
    for &p in arcs_pos {
        let p = p as usize;
        for i in 0..k {
            out[i] += c[p * k + i];
        }
        if let (Some(_), Some(prof)) = (o.departure, g.profile.as_ref()) {
            let tt = prof.travel_time(p, time);
            let ti = g.time_index;
            out[ti] = out[ti] - c[p * k + ti] + tt;
            time += tt;
        }
        if o.risk_aversion > 0.0 {
            if let Some(v) = g.variance.as_ref() {
                out[g.time_index] += o.risk_aversion * v.as_slice()[p];
            }
        }
    }
    out
}

/// The best path from `s` to `t` by `sum_i weights[i] * cost_i`.
pub fn route(g: &Graph, s: i64, t: i64, o: &RouteOptions) -> Result<RouteResult> {
    let s = g.check_node("source", s)?;
    let t = g.check_node("target", t)?;
    if o.weights.len() != g.k {
        return Err(GraphError::invalid(format!(
            "weights must have one entry per objective (k = {}), got {}",
            g.k,
            o.weights.len()
        )));
    }
    if o.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(GraphError::invalid(format!(
            "weights must be finite and non-negative, got {:?}",
            o.weights
        )));
    }
    if !(o.risk_aversion.is_finite() && o.risk_aversion >= 0.0) {
        return Err(GraphError::invalid(format!(
            "risk_aversion must be finite and >= 0, got {}",
            o.risk_aversion
        )));
    }
    if o.risk_aversion > 0.0 && g.variance.is_none() {
        return Err(GraphError::invalid(
            "risk_aversion > 0 needs a graph built with travel-time variances",
        ));
    }
    let started = Instant::now();
    if let Some(dep) = o.departure {
        if !dep.is_finite() {
            return Err(GraphError::invalid(
                "departure must be a finite number of seconds",
            ));
        }
        if g.profile.is_none() {
            return Err(GraphError::invalid(
                "a departure time needs a graph built with time-of-day travel-time profiles",
            ));
        }
        let only_time = (0..g.k).all(|i| i == g.time_index || o.weights[i] == 0.0);
        if !only_time || o.risk_aversion > 0.0 {
            let so = SearchOptions {
                departure: Some(dep),
                risk_aversion: o.risk_aversion,
                ..Default::default()
            };
            let res = pareto(g, s as i64, t as i64, &so, &mut |_| ControlFlow::Continue)?;
            let score = |c: &[f64]| c.iter().zip(&o.weights).map(|(a, w)| a * w).sum::<f64>();
            let best = res
                .solutions
                .into_iter()
                .min_by(|a, b| score(&a.costs).total_cmp(&score(&b.costs)));
            return Ok(RouteResult {
                cost: best.as_ref().map_or(f64::INFINITY, |b| score(&b.costs)),
                solution: best,
                settled: res.expansions,
                algorithm: "pareto-front-minimum",
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        return Ok(td_dijkstra(g, s, t, dep, o, started));
    }
    if let Some(lm) = o.landmarks.as_deref() {
        if lm.num_nodes() != g.n {
            return Err(GraphError::invalid(
                "the landmarks were computed for another graph",
            ));
        }
        return Ok(alt_astar(g, s, t, o, lm, started));
    }
    Ok(bidirectional(g, s, t, o, started))
}

fn finish(g: &Graph, s: usize, pos_path: Vec<u32>, o: &RouteOptions) -> Solution {
    let ids = g.fwd_id.as_slice();
    let head = g.fwd_head.as_slice();
    let mut nodes = vec![s as u32];
    nodes.extend(pos_path.iter().map(|&p| head[p as usize]));
    Solution {
        costs: path_costs(g, &pos_path, o),
        arcs: pos_path.iter().map(|&p| ids[p as usize]).collect(),
        nodes,
    }
}

fn scalar_costs<'a>(g: &'a Graph, o: &'a RouteOptions) -> impl Fn(usize) -> f64 + 'a {
    let k = g.k;
    let c = g.costs.as_slice();
    let var = if o.risk_aversion > 0.0 {
        g.variance.as_ref().map(|v| v.as_slice())
    } else {
        None
    };
    let ti = g.time_index;
    move |p: usize| {
        let mut x = 0.0;
        for i in 0..k {
            x += o.weights[i] * c[p * k + i];
        }
        if let Some(v) = var {
            x += o.weights[ti] * o.risk_aversion * v[p];
        }
        x
    }
}

fn bidirectional(g: &Graph, s: usize, t: usize, o: &RouteOptions, started: Instant) -> RouteResult {
    let cost = scalar_costs(g, o);
    let n = g.n;
    let (foff, fhead) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let (roff, rtail, rpos) = (
        g.rev_off.as_slice(),
        g.rev_tail.as_slice(),
        g.rev_pos.as_slice(),
    );
    let mut dist = [vec![f64::INFINITY; n], vec![f64::INFINITY; n]];
    let mut pred = [vec![u32::MAX; n], vec![u32::MAX; n]]; // forward position of the arc used
    let mut heaps = [NodeHeap::new(n), NodeHeap::new(n)];
    dist[0][s] = 0.0;
    dist[1][t] = 0.0;
    heaps[0].push_or_decrease(s as u32, 0.0);
    heaps[1].push_or_decrease(t as u32, 0.0);
    let mut sizes = [1usize, 1usize];
    let mut best = if s == t { 0.0 } else { f64::INFINITY };
    let mut meet = s;
    let mut settled = 0u64;
    loop {
        let (tf, tb) = (heaps[0].peek_key(), heaps[1].peek_key());
        if tf + tb >= best || (tf.is_infinite() && tb.is_infinite()) {
            break;
        }
        // Alternate by settled count: balanced searches settle the fewest nodes overall.
        let side = if (sizes[0] <= sizes[1] && tf.is_finite()) || tb.is_infinite() {
            0
        } else {
            1
        };
        let (key, node) = heaps[side].pop().unwrap();
        let v = node as usize;
        sizes[side] += 1;
        settled += 1;
        if side == 0 {
            for p in foff[v] as usize..foff[v + 1] as usize {
                let u = fhead[p] as usize;
                let nd = key + cost(p);
                if nd < dist[0][u] {
                    dist[0][u] = nd;
                    pred[0][u] = p as u32;
                    heaps[0].push_or_decrease(u as u32, nd);
                }
                let total = nd + dist[1][u];
                if total < best {
                    best = total;
                    meet = u;
                }
            }
        } else {
            for r in roff[v] as usize..roff[v + 1] as usize {
                let u = rtail[r] as usize;
                let p = rpos[r] as usize;
                let nd = key + cost(p);
                if nd < dist[1][u] {
                    dist[1][u] = nd;
                    pred[1][u] = p as u32;
                    heaps[1].push_or_decrease(u as u32, nd);
                }
                let total = nd + dist[0][u];
                if total < best {
                    best = total;
                    meet = u;
                }
            }
        }
    }
    let algorithm = "bidirectional-dijkstra";
    if best.is_infinite() {
        return RouteResult {
            solution: None,
            cost: f64::INFINITY,
            settled,
            algorithm,
            seconds: started.elapsed().as_secs_f64(),
        };
    }
    // Walk back from the meeting node to s, and forward from it to t.
    let rtail_of = |p: usize| -> usize {
        // tail of forward position p: the node whose forward range contains p.
        foff.partition_point(|&o| o as usize <= p) - 1
    };
    let mut path = Vec::new();
    let mut v = meet;
    while v != s {
        let p = pred[0][v] as usize;
        path.push(p as u32);
        v = rtail_of(p);
    }
    path.reverse();
    let mut v = meet;
    while v != t {
        let p = pred[1][v] as usize;
        path.push(p as u32);
        v = fhead[p] as usize;
    }
    let sol = finish(g, s, path, o);
    let w_cost = sol.costs.iter().zip(&o.weights).map(|(a, w)| a * w).sum();
    RouteResult {
        solution: Some(sol),
        cost: w_cost,
        settled,
        algorithm,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn td_dijkstra(
    g: &Graph,
    s: usize,
    t: usize,
    dep: f64,
    o: &RouteOptions,
    started: Instant,
) -> RouteResult {
    let prof = g.profile.as_ref().expect("checked by caller");
    let (foff, fhead) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut dist = vec![f64::INFINITY; g.n];
    let mut pred = vec![u32::MAX; g.n];
    let mut heap = NodeHeap::new(g.n);
    dist[s] = 0.0;
    heap.push_or_decrease(s as u32, 0.0);
    let mut settled = 0u64;
    while let Some((key, node)) = heap.pop() {
        let v = node as usize;
        settled += 1;
        if v == t {
            break;
        }
        for p in foff[v] as usize..foff[v + 1] as usize {
            let u = fhead[p] as usize;
            let nd = key + prof.travel_time(p, dep + key);
            if nd < dist[u] {
                dist[u] = nd;
                pred[u] = p as u32;
                heap.push_or_decrease(u as u32, nd);
            }
        }
    }
    let algorithm = "time-dependent-dijkstra";
    if dist[t].is_infinite() {
        return RouteResult {
            solution: None,
            cost: f64::INFINITY,
            settled,
            algorithm,
            seconds: started.elapsed().as_secs_f64(),
        };
    }
    let mut path = Vec::new();
    let mut v = t;
    while v != s {
        let p = pred[v] as usize;
        path.push(p as u32);
        v = foff.partition_point(|&x| x as usize <= p) - 1;
    }
    path.reverse();
    let sol = finish(g, s, path, o);
    let w_cost = sol.costs.iter().zip(&o.weights).map(|(a, w)| a * w).sum();
    RouteResult {
        solution: Some(sol),
        cost: w_cost,
        settled,
        algorithm,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn alt_astar(
    g: &Graph,
    s: usize,
    t: usize,
    o: &RouteOptions,
    lm: &Landmarks,
    started: Instant,
) -> RouteResult {
    let cost = scalar_costs(g, o);
    let w: Vec<f64> = lm.objectives().iter().map(|&i| o.weights[i]).collect();
    let trow = lm.target_rows(t);
    let (foff, fhead) = (g.fwd_off.as_slice(), g.fwd_head.as_slice());
    let mut dist = vec![f64::INFINITY; g.n];
    let mut pred = vec![u32::MAX; g.n];
    let mut h = vec![f64::NAN; g.n];
    let mut heap = NodeHeap::new(g.n);
    dist[s] = 0.0;
    h[s] = lm.weighted_bound(s, &trow, &w);
    heap.push_or_decrease(s as u32, h[s]);
    let mut settled = 0u64;
    while let Some((_, node)) = heap.pop() {
        let v = node as usize;
        settled += 1;
        if v == t {
            break;
        }
        let dv = dist[v];
        for p in foff[v] as usize..foff[v + 1] as usize {
            let u = fhead[p] as usize;
            let nd = dv + cost(p);
            if nd < dist[u] {
                dist[u] = nd;
                pred[u] = p as u32;
                if h[u].is_nan() {
                    h[u] = lm.weighted_bound(u, &trow, &w);
                }
                heap.push_or_decrease(u as u32, nd + h[u]);
            }
        }
    }
    let algorithm = "alt-a*";
    if dist[t].is_infinite() {
        return RouteResult {
            solution: None,
            cost: f64::INFINITY,
            settled,
            algorithm,
            seconds: started.elapsed().as_secs_f64(),
        };
    }
    let mut path = Vec::new();
    let mut v = t;
    while v != s {
        let p = pred[v] as usize;
        path.push(p as u32);
        v = foff.partition_point(|&x| x as usize <= p) - 1;
    }
    path.reverse();
    let sol = finish(g, s, path, o);
    let w_cost = sol.costs.iter().zip(&o.weights).map(|(a, w)| a * w).sum();
    RouteResult {
        solution: Some(sol),
        cost: w_cost,
        settled,
        algorithm,
        seconds: started.elapsed().as_secs_f64(),
    }
}
