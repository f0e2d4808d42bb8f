//! Truncated Pareto frontiers: the closed labels' cost vectors *without the first objective*.
//!
//! The lexicographic searches pop labels in non-decreasing order of the first cost at each node
//! (and at the target, of the first component of `f`), so a new vector is dominated by an earlier
//! one iff it is dominated on the remaining `D = K - 1` objectives. The representation depends on
//! `D`:
//!
//! * `D = 1`: the minimum.
//! * `D = 2`: the 2-D non-dominated set sorted by the first remaining cost (strictly ascending;
//!   the second is then strictly descending). `x` is weakly dominated iff the last entry whose
//!   first cost is `<= x[0]` has second cost `<= x[1]` (a binary search); inserting `x` removes the
//!   contiguous run of entries it dominates, which starts where `x` goes.
//! * `D >= 3`: an unordered list scanned linearly.
//!
//! [`NodeFronts`] keeps one front per node in a single arena (each node's entries are contiguous;
//! a full node moves to a region of twice the size at the arena's end), so a query makes no
//! per-node allocations; per-node headers live in zero-filled anonymous memory validated by an
//! epoch stamp, so a query costs what it touches (pooled up to graphs of about 500k nodes,
//! unmapped after the query for larger ones).

use std::sync::Mutex;

use super::buf::Scratch;
use super::heuristics::POOL_BYTES;

/// Is `x` (the `D` remaining costs, each scaled by `scale`) weakly dominated by an entry of the
/// sorted 2-D front `f` (flat pairs)?
#[inline]
fn dominated2(f: &[f64], x0: f64, x1: f64) -> bool {
    // Last entry with first cost <= x0.
    let n = f.len() / 2;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if f[2 * mid] <= x0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && f[2 * (lo - 1) + 1] <= x1
}

/// Where `(x0, x1)` goes in a sorted 2-D front, and how many following entries it dominates.
#[inline]
fn place2(f: &[f64], x0: f64, x1: f64) -> (usize, usize) {
    let n = f.len() / 2;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if f[2 * mid] < x0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut end = lo;
    while end < n && f[2 * end + 1] >= x1 {
        end += 1;
    }
    (lo, end - lo)
}

#[inline]
fn dominated_linear(f: &[f64], d: usize, x: &[f64]) -> bool {
    'outer: for y in f.chunks_exact(d) {
        for i in 0..d {
            if y[i] > x[i] {
                continue 'outer;
            }
        }
        return true;
    }
    false
}

/// A single growable truncated front (the target's solutions).
#[derive(Default)]
pub(crate) struct Front {
    d: usize,
    v: Vec<f64>,
}

impl Front {
    pub fn new(d: usize) -> Self {
        Front { d, v: Vec::new() }
    }

    /// Is `x` weakly dominated by an entry after scaling `x` by `scale`?
    #[inline]
    pub fn dominated(&self, x: &[f64], scale: f64) -> bool {
        match self.d {
            1 => self.v.first().is_some_and(|&m| m <= x[0] * scale),
            2 => dominated2(&self.v, x[0] * scale, x[1] * scale),
            d => {
                let mut y = [0.0; 8];
                for i in 0..d {
                    y[i] = x[i] * scale;
                }
                dominated_linear(&self.v, d, &y[..d])
            }
        }
    }

    /// Inserts `x`, which no entry weakly dominates, removing the entries it dominates.
    pub fn insert(&mut self, x: &[f64]) {
        match self.d {
            1 => {
                self.v.clear();
                self.v.push(x[0]);
            }
            2 => {
                let (at, len) = place2(&self.v, x[0], x[1]);
                self.v.splice(2 * at..2 * (at + len), [x[0], x[1]]);
            }
            d => {
                let mut i = 0;
                while i < self.v.len() {
                    if (0..d).all(|j| x[j] <= self.v[i + j]) {
                        let last = self.v.len() - d;
                        self.v.copy_within(last.., i);
                        self.v.truncate(last);
                    } else {
                        i += d;
                    }
                }
                self.v.extend_from_slice(x);
            }
        }
    }
}

#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Hdr {
    /// Offset of the node's region in the arena, in entries.
    off: u32,
    len: u32,
    cap: u32,
    /// The header is valid only in this epoch (one cache line holds stamp and extent).
    stamp: u32,
}

// SAFETY: `repr(C)`, four `u32`s, no padding.
unsafe impl bytemuck::Zeroable for Hdr {}
unsafe impl bytemuck::Pod for Hdr {}

/// One truncated front per node, in one arena (module docs).
#[derive(Default)]
pub(crate) struct NodeFronts {
    d: usize,
    epoch: u32,
    hdr: Scratch<Hdr>,
    /// Nodes whose header this query initialised (to decide what the pool keeps resident).
    touched: usize,
    arena: Vec<f64>,
}

static POOL: Mutex<Vec<NodeFronts>> = Mutex::new(Vec::new());
const POOL_KEEP: usize = 4;
/// An arena grown beyond this many values (256 KB) is freed rather than kept for the next query
/// (a large query regrows its arena at amortised cost; a kept one stays resident).
const KEEP_ARENA: usize = 1 << 15;
/// A pooled header array of which a query initialised more than this many bytes' worth of
/// headers has its pages returned to the system after the query: the pool keeps the mapping (a
/// small query then faults in only the few pages it touches) but not the resident memory of the
/// last large query (up to 4.2 MB for NY). Re-faulting costs such a query about a page fault
/// per 256 nodes it touches, small against its search (it touched over 16,000 nodes). Zero
/// pages read as stamp 0, which no epoch uses.
const KEEP_TOUCHED_BYTES: usize = 1 << 18;

impl NodeFronts {
    /// Pooled fronts for a graph of `n` nodes and `d` remaining objectives, all empty.
    pub fn take(n: usize, d: usize) -> NodeFronts {
        let mut f = POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        if f.hdr.len() < n {
            f.hdr = Scratch::zeroed_small_pages(n);
            f.epoch = 0;
        }
        f.epoch = f.epoch.wrapping_add(1);
        if f.epoch == 0 {
            f.hdr.fill(Hdr::default());
            f.epoch = 1;
        }
        f.d = d;
        f.touched = 0;
        f.arena.clear();
        f
    }

    pub fn give_back(mut self) {
        // Headers are 16 bytes per node: pooled up to 2 * POOL_BYTES (a 500k-node graph), since
        // mapping and faulting in a fresh header array cost a small query more than its search.
        if self.hdr.bytes() > 2 * POOL_BYTES {
            return;
        }
        if self.arena.capacity() > KEEP_ARENA {
            self.arena = Vec::new();
        }
        if self.touched * std::mem::size_of::<Hdr>() > KEEP_TOUCHED_BYTES {
            self.hdr.release_pages();
        }
        if let Ok(mut p) = POOL.lock() {
            if p.len() < POOL_KEEP {
                p.push(self);
            }
        }
    }

    #[inline(always)]
    fn entries(&self, u: usize) -> &[f64] {
        let h = self.hdr[u];
        if h.stamp != self.epoch {
            return &[];
        }
        let d = self.d;
        &self.arena[h.off as usize * d..(h.off + h.len) as usize * d]
    }

    /// Is `x` (the `d` remaining costs) weakly dominated by the front of `u`?
    #[inline(always)]
    pub fn dominated(&self, u: usize, x: &[f64]) -> bool {
        let f = self.entries(u);
        match self.d {
            1 => f.first().is_some_and(|&m| m <= x[0]),
            2 => dominated2(f, x[0], x[1]),
            d => dominated_linear(f, d, x),
        }
    }

    /// Inserts `x`, which the front of `u` does not weakly dominate.
    pub fn insert(&mut self, u: usize, x: &[f64]) {
        let d = self.d;
        let mut h = self.hdr[u];
        if h.stamp != self.epoch {
            h = Hdr {
                stamp: self.epoch,
                ..Hdr::default()
            };
            self.touched += 1;
        }
        if d == 1 {
            if h.cap == 0 {
                h = self.grow(h, 1);
            }
            self.arena[h.off as usize] = x[0];
            h.len = 1;
            self.hdr[u] = h;
            return;
        }
        let base = h.off as usize * d;
        let (at, removed) = if d == 2 {
            place2(&self.arena[base..base + h.len as usize * 2], x[0], x[1])
        } else {
            let f = &mut self.arena[base..base + h.len as usize * d];
            let mut len = h.len as usize;
            let mut i = 0;
            while i < len {
                if (0..d).all(|j| x[j] <= f[i * d + j]) {
                    f.copy_within((len - 1) * d..len * d, i * d);
                    len -= 1;
                } else {
                    i += 1;
                }
            }
            h.len = len as u32;
            (len, 0)
        };
        let len = h.len as usize;
        if removed == 0 && len == h.cap as usize {
            h = self.grow(h, (2 * h.cap).max(2));
        }
        let base = h.off as usize * d;
        let f = &mut self.arena[base..base + h.cap as usize * d];
        if removed == 0 {
            f.copy_within(at * d..len * d, (at + 1) * d);
        } else if removed > 1 {
            f.copy_within((at + removed) * d..len * d, (at + 1) * d);
        }
        f[at * d..at * d + d].copy_from_slice(&x[..d]);
        h.len = (len + 1 - removed) as u32;
        self.hdr[u] = h;
    }

    /// Moves the region of `h` to a new one of `cap` entries at the end of the arena.
    #[cold]
    fn grow(&mut self, h: Hdr, cap: u32) -> Hdr {
        let d = self.d;
        let new_off = self.arena.len() / d;
        self.arena.resize(self.arena.len() + cap as usize * d, 0.0);
        let (src, len) = (h.off as usize * d, h.len as usize * d);
        self.arena.copy_within(src..src + len, new_off * d);
        Hdr {
            off: new_off as u32,
            len: h.len,
            cap,
            stamp: h.stamp,
        }
    }
}

/// A pooled per-node `u32` slot (default `u32::MAX`), validated by an epoch stamp.
#[derive(Default)]
pub(crate) struct NodeSlots {
    epoch: u32,
    stamp: Scratch<u32>,
    val: Scratch<u32>,
}

static SLOTS_POOL: Mutex<Vec<NodeSlots>> = Mutex::new(Vec::new());

impl NodeSlots {
    pub fn take(n: usize) -> NodeSlots {
        let mut s = SLOTS_POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        if s.stamp.len() < n {
            s.stamp = Scratch::zeroed(n);
            s.val = Scratch::zeroed(n);
            s.epoch = 0;
        }
        s.epoch = s.epoch.wrapping_add(1);
        if s.epoch == 0 {
            s.stamp.fill(0);
            s.epoch = 1;
        }
        s
    }

    pub fn give_back(self) {
        if self.stamp.bytes() * 2 > POOL_BYTES {
            return;
        }
        if let Ok(mut p) = SLOTS_POOL.lock() {
            if p.len() < POOL_KEEP {
                p.push(self);
            }
        }
    }

    #[inline(always)]
    pub fn get(&self, u: usize) -> u32 {
        if self.stamp[u] == self.epoch {
            self.val[u]
        } else {
            u32::MAX
        }
    }

    #[inline(always)]
    pub fn set(&mut self, u: usize, v: u32) {
        self.stamp[u] = self.epoch;
        self.val[u] = v;
    }
}

/// A pooled per-node minimum (default `+inf`), validated by an epoch stamp: BOA*'s `g2_min`.
#[derive(Default)]
pub(crate) struct NodeMins {
    epoch: u32,
    v: Scratch<MinSlot>,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct MinSlot {
    x: f64,
    stamp: u32,
    _pad: u32,
}

// SAFETY: `repr(C)` with no implicit padding (8 + 4 + 4 bytes) and only plain numbers.
unsafe impl bytemuck::Zeroable for MinSlot {}
unsafe impl bytemuck::Pod for MinSlot {}

static MINS_POOL: Mutex<Vec<NodeMins>> = Mutex::new(Vec::new());

impl NodeMins {
    pub fn take(n: usize) -> NodeMins {
        let mut s = MINS_POOL
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        if s.v.len() < n {
            s.v = Scratch::zeroed(n);
            s.epoch = 0;
        }
        s.epoch = s.epoch.wrapping_add(1);
        if s.epoch == 0 {
            s.v.fill(MinSlot {
                x: 0.0,
                stamp: 0,
                _pad: 0,
            });
            s.epoch = 1;
        }
        s
    }

    pub fn give_back(self) {
        if self.v.bytes() > POOL_BYTES {
            return;
        }
        if let Ok(mut p) = MINS_POOL.lock() {
            if p.len() < POOL_KEEP {
                p.push(self);
            }
        }
    }

    #[inline(always)]
    pub fn get(&self, u: usize) -> f64 {
        let m = self.v[u];
        if m.stamp == self.epoch {
            m.x
        } else {
            f64::INFINITY
        }
    }

    #[inline(always)]
    pub fn set(&mut self, u: usize, x: f64) {
        self.v[u] = MinSlot {
            x,
            stamp: self.epoch,
            _pad: 0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn weakly_dominated(set: &[Vec<f64>], x: &[f64]) -> bool {
        set.iter().any(|y| y.iter().zip(x).all(|(a, b)| a <= b))
    }

    /// A header array whose pages were returned after a large query reads as empty fronts
    /// (stamp 0) in the next epochs, and stays usable.
    #[test]
    fn released_headers_read_empty() {
        let n = 100_000; // 1.6 MB of headers, above KEEP_TOUCHED_BYTES once all are touched
        let mut nf = NodeFronts {
            d: 2,
            epoch: 1,
            hdr: Scratch::zeroed_small_pages(n),
            touched: 0,
            arena: Vec::new(),
        };
        for u in 0..n {
            nf.insert(u, &[u as f64, 1.0]);
        }
        assert_eq!(nf.touched, n);
        nf.hdr.release_pages();
        assert!(nf.hdr.iter().all(|h| h.stamp == 0 && h.len == 0));
        nf.epoch = 2;
        nf.arena.clear();
        for u in (0..n).step_by(7) {
            assert!(!nf.dominated(u, &[0.0, 0.0]));
            nf.insert(u, &[1.0, 2.0]);
            assert!(nf.dominated(u, &[1.0, 2.0]));
        }
    }

    proptest! {
        /// The single front agrees with a plain list of non-dominated vectors, with scaling.
        #[test]
        fn front_matches_a_plain_list(d in 1usize..5, xs in proptest::collection::vec(proptest::collection::vec(0u8..12, 4), 1..80)) {
            let mut single = Front::new(d);
            let mut plain: Vec<Vec<f64>> = Vec::new();
            for x in &xs {
                let x: Vec<f64> = x[..d].iter().map(|&v| f64::from(v)).collect();
                let scaled: Vec<f64> = x.iter().map(|v| v * 1.25).collect();
                prop_assert_eq!(single.dominated(&x, 1.25), weakly_dominated(&plain, &scaled));
                let want = weakly_dominated(&plain, &x);
                prop_assert_eq!(single.dominated(&x, 1.0), want);
                if !want {
                    plain.retain(|y| !x.iter().zip(y).all(|(a, b)| a <= b));
                    plain.push(x.clone());
                    single.insert(&x);
                }
                prop_assert_eq!(single.v.len(), plain.len() * d);
            }
        }

        #[test]
        fn node_fronts_match_plain_lists(d in 1usize..5, xs in proptest::collection::vec((0usize..4, proptest::collection::vec(0u8..12, 4)), 1..120)) {
            let mut nf = NodeFronts::take(4, d);
            let mut plain: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 4];
            for (u, x) in &xs {
                let x: Vec<f64> = x[..d].iter().map(|&v| f64::from(v)).collect();
                let want = weakly_dominated(&plain[*u], &x);
                prop_assert_eq!(nf.dominated(*u, &x), want);
                if !want {
                    plain[*u].retain(|y| !x.iter().zip(y).all(|(a, b)| a <= b));
                    plain[*u].push(x.clone());
                    nf.insert(*u, &x);
                }
                for v in 0..4 {
                    prop_assert_eq!(nf.entries(v).len(), plain[v].len() * d);
                }
            }
            nf.give_back();
        }
    }
}
