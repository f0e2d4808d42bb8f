//! Graph file bytes -> `Graph::load` (memory-mapped), then the accesses a route query makes, because
//! the loader promises that a file it accepts keeps every later index in range. Any panic is a bug.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use ridgeline_core::graph::{pareto, ControlFlow, Graph, SearchOptions};

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile();
    file.1.write_all(data).unwrap();
    file.1.sync_all().unwrap();
    if let Ok(g) = Graph::load(&file.0) {
        let _ = g.arcs_by_id();
        let n = g.num_nodes() as i64;
        if n > 0 {
            let o = SearchOptions {
                max_expansions: Some(2_000),
                departure: g.profile_slots().map(|_| 3600.0),
                ..Default::default()
            };
            let _ = pareto(&g, 0, n - 1, &o, &mut |_| ControlFlow::Continue);
        }
    }
    let _ = std::fs::remove_file(&file.0);
});

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!("rdgl-fuzz-{}.rdgl", std::process::id()));
    let f = std::fs::File::create(&path).unwrap();
    (path, f)
}
