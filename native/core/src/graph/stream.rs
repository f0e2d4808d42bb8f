//! Streaming Pareto search: a search running in its own thread whose solutions are received as
//! soon as the search proves them, with cancellation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use super::pareto::{pareto, ControlFlow, ParetoResult, SearchOptions, Solution};
use super::{Graph, GraphError, Result};

enum Msg {
    Solution(Solution),
    Done(Result<ParetoResult>),
}

/// Solutions of a running search, in the order found ([`Iterator`] over [`Solution`]).
///
/// The search runs in a background thread and blocks once `capacity` solutions wait unread, so
/// a slow consumer holds at most that many. After the iterator ends, [`ParetoStream::result`]
/// holds the search's outcome (or its input error). Dropping the stream, or
/// [`ParetoStream::cancel`], stops the search at its next solution.
pub struct ParetoStream {
    rx: Option<Receiver<Msg>>,
    cancel: Arc<AtomicBool>,
    result: Option<Result<ParetoResult>>,
}

impl ParetoStream {
    /// Starts the search from `s` to `t`; input errors are reported by [`ParetoStream::result`]
    /// once the (then empty) iteration ends.
    pub fn start(
        g: Arc<Graph>,
        s: i64,
        t: i64,
        o: SearchOptions,
        capacity: usize,
    ) -> Result<ParetoStream> {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let (tx, rx) = sync_channel::<Msg>(capacity.max(1));
        std::thread::Builder::new()
            .name("ridgeline-pareto".into())
            .spawn(move || {
                let r = pareto(&g, s, t, &o, &mut |sol| {
                    if flag.load(Ordering::Relaxed) || tx.send(Msg::Solution(sol.clone())).is_err()
                    {
                        ControlFlow::Stop
                    } else {
                        ControlFlow::Continue
                    }
                });
                let _ = tx.send(Msg::Done(r));
            })
            .map_err(|e| GraphError::Io {
                context: "cannot start the search thread".into(),
                source: e,
            })?;
        Ok(ParetoStream {
            rx: Some(rx),
            cancel,
            result: None,
        })
    }

    /// Asks the search to stop; solutions not yet received are discarded.
    pub fn cancel(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.rx = None;
    }

    /// The search's outcome once the iteration has ended (None before, or after `cancel`).
    pub fn result(&self) -> Option<&Result<ParetoResult>> {
        self.result.as_ref()
    }

    /// Takes the outcome out (see [`ParetoStream::result`]).
    pub fn take_result(&mut self) -> Option<Result<ParetoResult>> {
        self.result.take()
    }
}

impl Iterator for ParetoStream {
    type Item = Solution;

    /// Blocks until the next solution is proven or the search ends.
    fn next(&mut self) -> Option<Solution> {
        let rx = self.rx.as_ref()?;
        match rx.recv() {
            Ok(Msg::Solution(s)) => Some(s),
            Ok(Msg::Done(r)) => {
                self.result = Some(r);
                self.rx = None;
                None
            }
            Err(_) => {
                // The search thread ended without a result: it panicked.
                self.result = Some(Err(GraphError::invalid(
                    "the search thread ended unexpectedly",
                )));
                self.rx = None;
                None
            }
        }
    }
}

impl Drop for ParetoStream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;

    fn grid(side: i64) -> Graph {
        let (mut tail, mut head, mut costs) = (vec![], vec![], vec![]);
        for r in 0..side {
            for c in 0..side {
                let v = r * side + c;
                if c + 1 < side {
                    tail.push(v);
                    head.push(v + 1);
                    costs.extend([1.0 + ((v * 7) % 5) as f64, 1.0 + ((v * 3) % 4) as f64]);
                    costs.push(1.0 + ((v * 13) % 7) as f64);
                }
                if r + 1 < side {
                    tail.push(v);
                    head.push(v + side);
                    costs.extend([1.0 + ((v * 5) % 3) as f64, 1.0 + ((v * 11) % 6) as f64]);
                    costs.push(1.0 + ((v * 17) % 5) as f64);
                }
            }
        }
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
    fn stream_yields_the_front_in_order_then_the_result() {
        let g = Arc::new(grid(7));
        let o = SearchOptions::default();
        let direct = pareto(&g, 0, 48, &o, &mut |_| ControlFlow::Continue).unwrap();
        assert!(direct.solutions.len() > 3);
        let mut st = ParetoStream::start(g.clone(), 0, 48, o, 2).unwrap();
        let got: Vec<Solution> = st.by_ref().collect();
        assert_eq!(got, direct.solutions);
        let r = st.take_result().unwrap().unwrap();
        assert_eq!(r.solutions, direct.solutions);
        assert!(!r.truncated);
    }

    #[test]
    fn cancelled_stream_stops_the_search() {
        let g = Arc::new(grid(7));
        let mut st = ParetoStream::start(g, 0, 48, SearchOptions::default(), 1).unwrap();
        assert!(st.next().is_some());
        st.cancel();
        assert!(st.next().is_none());
        assert!(st.result().is_none());
    }

    #[test]
    fn input_errors_arrive_as_the_result() {
        let g = Arc::new(grid(3));
        let mut st = ParetoStream::start(g, 0, 99, SearchOptions::default(), 4).unwrap();
        assert!(st.next().is_none());
        let e = st.take_result().unwrap().unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
