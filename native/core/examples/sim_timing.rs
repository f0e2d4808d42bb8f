//! Quick single-thread timing of the dynamics kernels on a URDF:
//! `cargo run --release -p ridgeline-core --example sim_timing -- path/to/robot.urdf [floating]`.

use std::time::Instant;

use ridgeline_core::sim::dynamics::{aba, crba, rnea, Data};
use ridgeline_core::sim::{rollout, Controller, Model, Profile, RolloutConfig, RolloutControl};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: sim_timing <urdf> [floating]");
    let floating = args.get(2).is_some_and(|a| a == "floating");
    let m = Model::from_urdf_file(path, floating).expect("model");
    let mut d = Data::new(&m);
    let mut q = m.neutral();
    for (i, x) in q.iter_mut().enumerate().skip(if floating { 7 } else { 0 }) {
        *x = 0.1 * (i as f64).sin();
    }
    let v: Vec<f64> = (0..m.nv).map(|i| 0.2 * (i as f64).cos()).collect();
    let tau: Vec<f64> = (0..m.nv).map(|i| 0.3 * (i as f64 * 0.7).sin()).collect();
    let mut out = vec![0.0; m.nv];
    let mut mm = vec![0.0; m.nv * m.nv];
    let n = 200_000;
    for (name, which) in [("aba", 0), ("rnea", 1), ("crba", 2)] {
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..n {
                match which {
                    0 => aba(
                        &m,
                        &mut d,
                        std::hint::black_box(&q),
                        &v,
                        &tau,
                        None,
                        &mut out,
                    ),
                    1 => rnea(
                        &m,
                        &mut d,
                        std::hint::black_box(&q),
                        &v,
                        &tau,
                        None,
                        &mut out,
                    ),
                    _ => crba(&m, &mut d, std::hint::black_box(&q), &mut mm),
                }
                std::hint::black_box(&out);
            }
            best = best.min(t.elapsed().as_secs_f64() / n as f64);
        }
        println!("{name}: {:.3} us/call (nv = {})", best * 1e6, m.nv);
    }
    let prof = Profile::builtin("default").expect("profile");
    for threads in [1, 0] {
        let mut cfg = RolloutConfig::new(&m, 1000, 0.002, 0, 64);
        cfg.threads = threads;
        cfg.contact = false;
        let t = Instant::now();
        let res = rollout(
            &m,
            &prof,
            &Controller::Zero,
            None,
            &cfg,
            &RolloutControl::default(),
        )
        .expect("rollout");
        let dt = t.elapsed().as_secs_f64();
        println!(
            "rollout threads={threads:?}: {:.0} steps/s ({:.3} us/step/thread as measured per episode)",
            64.0 * 1000.0 / dt,
            res[0].metrics.time_per_step * 1e6
        );
    }
}
