//! One parallelism policy for every parallel loop in the core.
//!
//! A job says how many threads it may use with a *thread budget*: a count, `0` meaning all
//! cores ([`ALL_CORES`]). Work with a budget of one runs on the calling thread; any other
//! budget runs on a rayon pool of exactly that many threads which the job holds *exclusively*
//! for the duration of the call. Pools are cached and reused (checked out, then returned), but
//! never shared by two calls at once, so two concurrent jobs each make progress on their own
//! threads (the operating system shares the cores between them) instead of queueing behind
//! each other on rayon's global pool, where the first job's long tasks would starve the second.
//!
//! Use:
//! ```
//! use ridgeline_core::parallel::{par_map, ALL_CORES};
//! let squares = par_map(ALL_CORES, 8, |i| i * i).unwrap();
//! assert_eq!(squares, vec![0, 1, 4, 9, 16, 25, 36, 49]);
//! ```
//! [`par_map`] and [`par_chunks_mut`] cover the core's loops; [`install`] runs arbitrary rayon
//! code (`par_iter` and friends) inside a budgeted pool, for code that wants to adopt the policy
//! without restructuring (the graph searches can move onto it the same way). Results never
//! depend on the budget as long as each item's work is independent of scheduling.

use std::sync::Mutex;

use rayon::prelude::*;

/// Budget meaning "all cores" (the machine's available parallelism).
pub const ALL_CORES: usize = 0;

/// Idle pools kept for reuse (a few sizes are common: 1-2 per job, all cores).
const MAX_IDLE_POOLS: usize = 8;

static IDLE: Mutex<Vec<rayon::ThreadPool>> = Mutex::new(Vec::new());

/// A pool could not be started (the operating system refused the threads).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not start {threads} worker threads: {reason}")]
pub struct PoolError {
    pub threads: usize,
    pub reason: String,
}

/// Number of cores available to this process (at least 1).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The thread count a budget stands for: `0` is [`available`], anything else itself.
pub fn resolve(budget: usize) -> usize {
    if budget == ALL_CORES {
        available()
    } else {
        budget
    }
}

fn checkout(threads: usize) -> Result<rayon::ThreadPool, PoolError> {
    {
        let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = idle.iter().position(|p| p.current_num_threads() == threads) {
            return Ok(idle.swap_remove(i));
        }
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ridgeline-worker-{i}"))
        .build()
        .map_err(|e| PoolError {
            threads,
            reason: e.to_string(),
        })
}

fn give_back(pool: rayon::ThreadPool) {
    let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    if idle.len() < MAX_IDLE_POOLS {
        idle.push(pool);
    }
}

/// Run `f` inside a pool of `resolve(budget)` threads held by this call alone (rayon parallel
/// iterators inside `f` use that pool). With a budget of one the pool has one thread.
pub fn install<R: Send>(budget: usize, f: impl FnOnce() -> R + Send) -> Result<R, PoolError> {
    let pool = checkout(resolve(budget))?;
    let out = pool.install(f);
    give_back(pool);
    Ok(out)
}

/// `(0..n).map(f)` collected in order, on `budget` threads (the calling thread for a budget of
/// one, or when there is at most one item).
pub fn par_map<T: Send>(
    budget: usize,
    n: usize,
    f: impl Fn(usize) -> T + Sync + Send,
) -> Result<Vec<T>, PoolError> {
    if resolve(budget) == 1 || n <= 1 {
        return Ok((0..n).map(f).collect());
    }
    install(budget, || (0..n).into_par_iter().map(&f).collect())
}

/// Call `f(state, chunk_index, chunk)` on consecutive `chunk`-sized pieces of `data`, on
/// `budget` threads; `init` makes one scratch state per worker (per task split).
pub fn par_chunks_mut<T: Send, S>(
    budget: usize,
    data: &mut [T],
    chunk: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) -> Result<(), PoolError> {
    let chunk = chunk.max(1);
    if resolve(budget) == 1 || data.len() <= chunk {
        let mut s = init();
        for (i, c) in data.chunks_mut(chunk).enumerate() {
            f(&mut s, i, c);
        }
        return Ok(());
    }
    install(budget, || {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each_init(&init, |s, (i, c)| f(s, i, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    #[test]
    fn budgets_resolve_and_results_keep_their_order() {
        assert_eq!(resolve(ALL_CORES), available());
        assert_eq!(resolve(3), 3);
        for budget in [ALL_CORES, 1, 2, 5] {
            let out = par_map(budget, 100, |i| i * 3).unwrap();
            assert_eq!(out, (0..100).map(|i| i * 3).collect::<Vec<_>>());
            let mut data = vec![0usize; 1000];
            par_chunks_mut(
                budget,
                &mut data,
                64,
                || (),
                |_, c, xs| {
                    for (k, x) in xs.iter_mut().enumerate() {
                        *x = c * 64 + k;
                    }
                },
            )
            .unwrap();
            assert_eq!(data, (0..1000).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_budget_bounds_the_threads_used() {
        for budget in [1usize, 2, 3] {
            let ids = Mutex::new(std::collections::HashSet::new());
            par_map(budget, 64, |_| {
                ids.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(Duration::from_millis(1));
            })
            .unwrap();
            let n = ids.lock().unwrap().len();
            assert!(n >= 1 && n <= budget, "budget {budget} used {n} threads");
        }
    }

    #[test]
    fn two_concurrent_jobs_both_make_progress() {
        // Job A holds every thread of its pool with long tasks; job B, started while A runs,
        // must finish its work without waiting for A (it has its own pool).
        let a_started = Arc::new(Barrier::new(2));
        let a_done = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(AtomicUsize::new(0));
        let (s, d, r) = (a_started.clone(), a_done.clone(), release.clone());
        let a = std::thread::spawn(move || {
            let first = AtomicUsize::new(0);
            par_map(2, 2, |_| {
                if first.fetch_add(1, Ordering::SeqCst) == 0 {
                    s.wait();
                }
                let t0 = Instant::now();
                while r.load(Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(20) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                d.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        });
        a_started.wait();
        let b = par_map(2, 8, |i| i + 1).unwrap();
        // B finished while A's tasks are still blocked
        assert_eq!(b.iter().sum::<usize>(), 36);
        assert_eq!(a_done.load(Ordering::SeqCst), 0);
        release.store(1, Ordering::SeqCst);
        a.join().unwrap();
        assert_eq!(a_done.load(Ordering::SeqCst), 2);
    }
}
