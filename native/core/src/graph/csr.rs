//! The CSR road graph and its construction from arrays.

use super::{Buf, GraphError, Result};

/// Length of the periodic day used by time-of-day profiles, in seconds.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// Time-of-day travel times for one objective (`index`), `slots` knots per arc.
///
/// Knot `i` is the travel time when departing at `i * 86400 / slots` seconds after midnight; between
/// knots the travel time is linearly interpolated, periodically over the day. Construction checks the
/// FIFO property (`p[i+1] - p[i] >= -86400/slots` for every arc, wrapping around midnight), which
/// makes the arrival time a non-decreasing function of the departure time.
#[derive(Debug, Clone)]
pub struct TimeProfile {
    pub slots: usize,
    /// Knots in CSR order, `m * slots` values.
    pub values: Buf<f32>,
    /// Per-arc minimum over the knots (CSR order): the admissible lower bound used by heuristics.
    pub min: Buf<f64>,
}

impl TimeProfile {
    /// Travel time of the arc at CSR position `pos` when entered at absolute time `t` (seconds).
    #[inline]
    pub fn travel_time(&self, pos: usize, t: f64) -> f64 {
        let slots = self.slots;
        let v = &self.values.as_slice()[pos * slots..(pos + 1) * slots];
        if slots == 1 {
            return v[0] as f64;
        }
        let x = t.rem_euclid(SECONDS_PER_DAY) * (slots as f64 / SECONDS_PER_DAY);
        let i = (x.floor() as usize).min(slots - 1);
        let fr = x - i as f64;
        let a = v[i] as f64;
        let b = v[(i + 1) % slots] as f64;
        a + (b - a) * fr
    }
}

/// A directed graph in compressed sparse row form with `k` costs per arc.
///
/// Forward arcs are grouped by tail; within a tail they keep the order of their arc ids. A reverse
/// CSR (grouped by head) serves the backward searches that compute heuristics.
#[derive(Debug, Clone)]
pub struct Graph {
    pub(crate) n: usize,
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) fwd_off: Buf<u32>,
    pub(crate) fwd_head: Buf<u32>,
    pub(crate) fwd_id: Buf<u32>,
    /// `m * k` costs in CSR order.
    pub(crate) costs: Buf<f64>,
    pub(crate) rev_off: Buf<u32>,
    pub(crate) rev_tail: Buf<u32>,
    /// Forward CSR position of each reverse arc.
    pub(crate) rev_pos: Buf<u32>,
    /// `n * 2` (x/lon, y/lat) per node.
    pub(crate) coords: Option<Buf<f64>>,
    pub(crate) profile: Option<TimeProfile>,
    /// Travel-time variance per arc (CSR order).
    pub(crate) variance: Option<Buf<f64>>,
    /// The objective that profiles and variances refer to.
    pub(crate) time_index: usize,
    /// Reverse arcs with their static costs (see [`Graph::reverse_lower_bounds`]); built on
    /// first use.
    pub(crate) rev_lb: std::sync::OnceLock<RevArcs>,
    /// Per-objective contraction hierarchies of the static costs ([`super::ch`]); built on
    /// first use by a large enough graph's static queries.
    /// Shared with the background thread that builds them (a clone of the graph has the same
    /// contents, so it shares them too).
    pub(crate) ch: std::sync::Arc<std::sync::OnceLock<super::ch::ChSet>>,
    /// A build of `ch` was started.
    pub(crate) ch_started: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Identity of the graph's contents for the heuristic cache ([`super::heuristics`]): unique
    /// per built or loaded graph (a clone has the same contents, so it keeps the id).
    pub(crate) uid: u64,
}

/// Reverse-CSR records of the backward searches ([`Graph::reverse_lower_bounds`]).
#[derive(Debug, Clone)]
pub(crate) enum RevArcs {
    /// Records of `1 + k` `u16`s: the tail as a signed offset from the head (the reverse
    /// arc's node), then the costs, exactly. An offset of [`FAR_TAIL`] means the tail is in
    /// `far`, the `(record, tail)` pairs of the arcs whose offset does not fit, by record.
    /// `narrow`: every objective's simple-path costs plus one arc stay below `u32::MAX` (the
    /// sum over nodes of their largest outgoing cost, plus 65,535), so backward distances fit
    /// `u32`.
    U16 {
        rec: Vec<u16>,
        far: Vec<(u32, u32)>,
        narrow: bool,
    },
    /// Records of `1 + k` `u32`s: tail, then the costs' `f32` bits, rounded down.
    F32(Vec<u32>),
}

/// The tail offset of a [`RevArcs::U16`] record whose tail is in its `far` list.
pub(crate) const FAR_TAIL: i16 = i16::MIN;

/// The tail of [`RevArcs::U16`] record `r` of head `v` (`off`: the record's offset field).
#[inline(always)]
pub(crate) fn u16_tail(far: &[(u32, u32)], r: usize, v: usize, off: u16) -> usize {
    let d = off as i16;
    if d != FAR_TAIL {
        (v as isize + d as isize) as usize
    } else {
        far_tail(far, r)
    }
}

#[cold]
fn far_tail(far: &[(u32, u32)], r: usize) -> usize {
    let i = far.partition_point(|&(q, _)| (q as usize) < r);
    far[i].1 as usize
}

/// A fresh [`Graph::uid`].
pub(crate) fn next_uid() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Arrays to build a [`Graph`] from. Ids are signed so negative input can be reported clearly.
#[derive(Debug, Clone, Default)]
pub struct GraphBuilder<'a> {
    /// Number of nodes; defaults to the coordinate count or `max(id) + 1`.
    pub n: Option<usize>,
    pub tail: &'a [i64],
    pub head: &'a [i64],
    /// Row-major `m x k` costs, indexed by arc id.
    pub costs: &'a [f64],
    pub k: usize,
    /// Row-major `n x 2` node coordinates.
    pub coords: Option<&'a [f64]>,
    /// Row-major `m x slots` time-of-day travel times for objective `time_index`.
    pub profile: Option<(&'a [f64], usize)>,
    /// Travel-time variance per arc for objective `time_index`.
    pub variance: Option<&'a [f64]>,
    pub time_index: usize,
}

fn check_values(name: &str, v: &[f64], width: usize) -> Result<()> {
    for (i, &c) in v.iter().enumerate() {
        if !c.is_finite() || c < 0.0 {
            let what = if c.is_nan() {
                "NaN"
            } else if c.is_infinite() {
                "infinite"
            } else {
                "negative"
            };
            let (row, col) = (i / width.max(1), i % width.max(1));
            return Err(GraphError::invalid(format!(
                "{name} must be finite and non-negative; arc {row} (column {col}) has a {what} value {c}"
            )));
        }
    }
    Ok(())
}

impl<'a> GraphBuilder<'a> {
    pub fn build(self) -> Result<Graph> {
        let k = self.k;
        if !(2..=4).contains(&k) {
            return Err(GraphError::invalid(format!(
                "costs must have k = 2..4 columns (objectives), got k = {k}"
            )));
        }
        let m = self.tail.len();
        if self.head.len() != m {
            return Err(GraphError::invalid(format!(
                "tail and head must have the same length, got {} and {}",
                m,
                self.head.len()
            )));
        }
        if self.costs.len() != m * k {
            return Err(GraphError::invalid(format!(
                "costs must have shape (m, k) = ({m}, {k}); got {} values",
                self.costs.len()
            )));
        }
        if m >= u32::MAX as usize {
            return Err(GraphError::invalid(format!("too many arcs: {m}")));
        }
        let n_coords = match self.coords {
            Some(c) => {
                if c.len() % 2 != 0 {
                    return Err(GraphError::invalid("coords must have shape (n, 2)"));
                }
                if let Some(i) = c.iter().position(|x| !x.is_finite()) {
                    return Err(GraphError::invalid(format!(
                        "coords must be finite; node {} has a non-finite coordinate",
                        i / 2
                    )));
                }
                Some(c.len() / 2)
            }
            None => None,
        };
        let mut max_id: i64 = -1;
        for (name, ids) in [("tail", self.tail), ("head", self.head)] {
            for (i, &v) in ids.iter().enumerate() {
                if v < 0 {
                    return Err(GraphError::invalid(format!(
                        "{name}[{i}] = {v} is a negative node id"
                    )));
                }
                max_id = max_id.max(v);
            }
        }
        let n = match (self.n, n_coords) {
            (Some(n), Some(nc)) if n != nc => {
                return Err(GraphError::invalid(format!(
                    "n = {n} but coords has {nc} rows"
                )))
            }
            (Some(n), _) => n,
            (None, Some(nc)) => nc,
            (None, None) => (max_id + 1) as usize,
        };
        if n >= u32::MAX as usize {
            return Err(GraphError::invalid(format!("too many nodes: {n}")));
        }
        if max_id >= n as i64 {
            for (name, ids) in [("tail", self.tail), ("head", self.head)] {
                if let Some(i) = ids.iter().position(|&v| v >= n as i64) {
                    return Err(GraphError::invalid(format!(
                        "{name}[{i}] = {} is out of range for a graph of {n} nodes",
                        ids[i]
                    )));
                }
            }
        }
        check_values("costs", self.costs, k)?;
        if (self.profile.is_some() || self.variance.is_some()) && self.time_index >= k {
            return Err(GraphError::invalid(format!(
                "time_index = {} is not an objective of a k = {k} graph",
                self.time_index
            )));
        }
        if let Some((p, slots)) = self.profile {
            if slots == 0 || p.len() != m * slots {
                return Err(GraphError::invalid(format!(
                    "time profile must have shape (m, slots) = ({m}, slots >= 1); got {} values for {slots} slots",
                    p.len()
                )));
            }
            check_values("time profile", p, slots)?;
            let dt = SECONDS_PER_DAY / slots as f64;
            for a in 0..m {
                let row = &p[a * slots..(a + 1) * slots];
                for i in 0..slots {
                    let (x, y) = (row[i] as f32 as f64, row[(i + 1) % slots] as f32 as f64);
                    if slots > 1 && y - x < -dt {
                        return Err(GraphError::invalid(format!(
                            "time profile of arc {a} violates FIFO between slots {i} and {}: travel time drops \
                             from {x} to {y} s within {dt} s",
                            (i + 1) % slots
                        )));
                    }
                }
            }
        }
        if let Some(v) = self.variance {
            if v.len() != m {
                return Err(GraphError::invalid(format!(
                    "variance must have length m = {m}, got {}",
                    v.len()
                )));
            }
            check_values("variance", v, 1)?;
        }

        // Forward CSR: stable counting sort by tail.
        let mut fwd_off = vec![0u32; n + 1];
        for &t in self.tail {
            fwd_off[t as usize + 1] += 1;
        }
        for i in 0..n {
            fwd_off[i + 1] += fwd_off[i];
        }
        let mut fill: Vec<u32> = fwd_off[..n].to_vec();
        let mut fwd_head = vec![0u32; m];
        let mut fwd_id = vec![0u32; m];
        let mut pos_of = vec![0u32; m];
        for a in 0..m {
            let t = self.tail[a] as usize;
            let p = fill[t] as usize;
            fill[t] += 1;
            fwd_head[p] = self.head[a] as u32;
            fwd_id[p] = a as u32;
            pos_of[a] = p as u32;
        }
        let mut costs = vec![0f64; m * k];
        for p in 0..m {
            let a = fwd_id[p] as usize;
            costs[p * k..(p + 1) * k].copy_from_slice(&self.costs[a * k..(a + 1) * k]);
        }
        // Reverse CSR by head, referencing forward positions.
        let mut rev_off = vec![0u32; n + 1];
        for &h in self.head {
            rev_off[h as usize + 1] += 1;
        }
        for i in 0..n {
            rev_off[i + 1] += rev_off[i];
        }
        let mut fill: Vec<u32> = rev_off[..n].to_vec();
        let mut rev_tail = vec![0u32; m];
        let mut rev_pos = vec![0u32; m];
        for a in 0..m {
            let h = self.head[a] as usize;
            let r = fill[h] as usize;
            fill[h] += 1;
            rev_tail[r] = self.tail[a] as u32;
            rev_pos[r] = pos_of[a];
        }
        let profile = self.profile.map(|(p, slots)| {
            let mut values = vec![0f32; m * slots];
            let mut min = vec![0f64; m];
            for pos in 0..m {
                let a = fwd_id[pos] as usize;
                let src = &p[a * slots..(a + 1) * slots];
                let dst = &mut values[pos * slots..(pos + 1) * slots];
                let mut lo = f64::INFINITY;
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = s as f32;
                    lo = lo.min(*d as f64);
                }
                min[pos] = lo;
            }
            TimeProfile {
                slots,
                values: values.into(),
                min: min.into(),
            }
        });
        let variance = self
            .variance
            .map(|v| Buf::Owned((0..m).map(|p| v[fwd_id[p] as usize]).collect()));
        Ok(Graph {
            n,
            m,
            k,
            fwd_off: fwd_off.into(),
            fwd_head: fwd_head.into(),
            fwd_id: fwd_id.into(),
            costs: costs.into(),
            rev_off: rev_off.into(),
            rev_tail: rev_tail.into(),
            rev_pos: rev_pos.into(),
            coords: self.coords.map(|c| Buf::Owned(c.to_vec())),
            profile,
            variance,
            time_index: self.time_index,
            rev_lb: Default::default(),
            ch: Default::default(),
            ch_started: Default::default(),
            uid: next_uid(),
        })
    }
}

impl Graph {
    pub fn num_nodes(&self) -> usize {
        self.n
    }
    pub fn num_arcs(&self) -> usize {
        self.m
    }
    pub fn num_objectives(&self) -> usize {
        self.k
    }
    pub fn coords(&self) -> Option<&[f64]> {
        self.coords.as_ref().map(|c| c.as_slice())
    }
    pub fn time_index(&self) -> usize {
        self.time_index
    }
    pub fn profile_slots(&self) -> Option<usize> {
        self.profile.as_ref().map(|p| p.slots)
    }
    pub fn has_variance(&self) -> bool {
        self.variance.is_some()
    }
    /// True when the arrays are views into a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        self.costs.is_mapped()
    }

    /// Tail, head and row-major costs of every arc, indexed by arc id.
    pub fn arcs_by_id(&self) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        let (off, head, id, c) = (
            self.fwd_off.as_slice(),
            self.fwd_head.as_slice(),
            self.fwd_id.as_slice(),
            self.costs.as_slice(),
        );
        let k = self.k;
        let mut tails = vec![0u32; self.m];
        let mut heads = vec![0u32; self.m];
        let mut costs = vec![0f64; self.m * k];
        for v in 0..self.n {
            for p in off[v] as usize..off[v + 1] as usize {
                let a = id[p] as usize;
                tails[a] = v as u32;
                heads[a] = head[p];
                costs[a * k..(a + 1) * k].copy_from_slice(&c[p * k..(p + 1) * k]);
            }
        }
        (tails, heads, costs)
    }

    /// The reverse arcs with their static costs as lower bounds, one record per reverse-CSR
    /// position (the tail, then the `k` costs), so a backward search reads a settled node's arcs
    /// and costs in one sequential run instead of gathering `costs` through `rev_pos` (a cache
    /// miss per arc) and the tails from a second array. Built on first use: `(1 + k) * 2 * m`
    /// bytes (plus 8 per arc whose tail is 32,768 or more ids from its head: 0.2 % of NY's) when
    /// every cost is an integer in `0..=65535` (stored exactly), else `(1 + k) * 4 * m`
    /// (costs as `f32` rounded down, so every distance computed from them is still an admissible,
    /// consistent lower bound; exact for integer costs below 2^24).
    pub(crate) fn reverse_lower_bounds(&self) -> &RevArcs {
        self.rev_lb.get_or_init(|| {
            let (k, m) = (self.k, self.m);
            let (costs, pos, tail) = (
                self.costs.as_slice(),
                self.rev_pos.as_slice(),
                self.rev_tail.as_slice(),
            );
            let small = costs
                .iter()
                .all(|&c| (0.0..=65535.0).contains(&c) && c.fract() == 0.0);
            if small && self.n <= u32::MAX as usize {
                let st = 1 + k;
                let mut out = vec![0u16; m * st];
                let mut far = Vec::new();
                let rev_off = self.rev_off.as_slice();
                for v in 0..self.n {
                    for r in rev_off[v] as usize..rev_off[v + 1] as usize {
                        let rec = &mut out[r * st..(r + 1) * st];
                        let d = tail[r] as i64 - v as i64;
                        rec[0] = if d > i64::from(FAR_TAIL) && d <= i64::from(i16::MAX) {
                            d as i16 as u16
                        } else {
                            far.push((r as u32, tail[r]));
                            FAR_TAIL as u16
                        };
                        for i in 0..k {
                            rec[1 + i] = costs[pos[r] as usize * k + i] as u16;
                        }
                    }
                }
                // A shortest path is simple: it leaves each node at most once, so its cost is
                // at most the sum of the nodes' largest outgoing costs.
                let off = self.fwd_off.as_slice();
                let narrow = (0..k).all(|i| {
                    let b: u64 = (0..self.n)
                        .map(|v| {
                            (off[v] as usize..off[v + 1] as usize)
                                .map(|p| costs[p * k + i] as u64)
                                .max()
                                .unwrap_or(0)
                        })
                        .sum();
                    b + 65_535 < u64::from(u32::MAX)
                });
                self.release_cold_pages();
                return RevArcs::U16 {
                    rec: out,
                    far,
                    narrow,
                };
            }
            let st = 1 + k;
            let mut out = vec![0u32; m * st];
            for r in 0..m {
                let rec = &mut out[r * st..(r + 1) * st];
                rec[0] = tail[r];
                for i in 0..k {
                    let c = costs[pos[r] as usize * k + i];
                    let mut f = c as f32;
                    if f as f64 > c {
                        f = f32::from_bits(f.to_bits() - 1);
                    }
                    rec[1 + i] = f.to_bits();
                }
            }
            self.release_cold_pages();
            RevArcs::F32(out)
        })
    }

    /// Drops from the resident set the pages of the memory-mapped arrays that searches read
    /// rarely once the reverse-arc records exist: the arc ids (read only for a result's paths)
    /// and the reverse tails and positions (copied into [`Graph::reverse_lower_bounds`] when it
    /// is built, then read only by time-dependent or risk cost models). They stay in the page
    /// cache and fault back in when read. A no-op for a graph built in memory.
    pub fn release_cold_pages(&self) {
        self.fwd_id.release_pages();
        self.rev_tail.release_pages();
        self.rev_pos.release_pages();
    }

    pub(crate) fn check_node(&self, what: &str, v: i64) -> Result<usize> {
        if v < 0 || v as u64 >= self.n as u64 {
            return Err(GraphError::invalid(format!(
                "{what} node {v} is out of range for a graph of {} nodes",
                self.n
            )));
        }
        Ok(v as usize)
    }
}
