//! Times Pareto queries on a saved graph (profiling aid):
//! `cargo run --release -p ridgeline-core --example pareto_timing -- GRAPH QUERIES [INDICES] [EPS]`.
//! QUERIES holds 1-based `s t` lines (DIMACS query format); INDICES is e.g. `0,3,8`
//! (default: all); EPS > 0 runs the epsilon method.

use std::time::Instant;

use ridgeline_core::graph::{pareto, ControlFlow, Graph, Method, SearchOptions};

/// CPU seconds of this thread (utime + stime from procfs; the machine may be shared).
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size in MB (procfs).
fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let g = Graph::load(std::path::Path::new(&args[1])).expect("graph");
    println!("rss after load {:.1} MB", rss_mb());
    let text = std::fs::read_to_string(&args[2]).expect("queries");
    let pairs: Vec<(i64, i64)> = text
        .lines()
        .filter_map(|l| {
            let mut it = l.split([' ', ',']).filter(|x| !x.is_empty());
            Some((
                it.next()?.parse::<i64>().ok()? - 1,
                it.next()?.parse::<i64>().ok()? - 1,
            ))
        })
        .collect();
    let idx: Vec<usize> = match args.get(3) {
        Some(s) if s != "all" => s.split(',').map(|x| x.parse().unwrap()).collect(),
        _ => (0..pairs.len()).collect(),
    };
    let eps: f64 = args.get(4).map_or(0.0, |e| e.parse().unwrap());
    let o = SearchOptions {
        method: if eps > 0.0 {
            Method::Epsilon(eps)
        } else {
            Method::Exact
        },
        ..Default::default()
    };
    for i in idx {
        let (s, t) = pairs[i];
        let c0 = cpu_seconds();
        let t0 = Instant::now();
        let r = pareto(&g, s, t, &o, &mut |_| ControlFlow::Continue).unwrap();
        println!(
            "{i} {} {} sols={} exp={} gen={} total={:.4} cpu={:.2} heur={:.4} search={:.4} {} rss={:.1}",
            s + 1,
            t + 1,
            r.solutions.len(),
            r.expansions,
            r.generated,
            t0.elapsed().as_secs_f64(),
            cpu_seconds() - c0,
            r.heuristic_seconds,
            r.search_seconds,
            r.algorithm,
            rss_mb()
        );
    }
}
