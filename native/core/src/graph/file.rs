//! One-file graph format, memory-mapped on load.
//!
//! Layout (little-endian): a 256-byte header, then 11 sections each aligned to 64 bytes. The header
//! holds the magic `RDGLGRPH`, format version, an endianness probe, `n`, `m`, `k`, flags (1 coords,
//! 2 time profile, 4 variance), profile slots, time index, and a table of `(offset, byte length)`
//! per section: forward offsets/heads/arc ids/costs, reverse offsets/tails/positions, coords,
//! profile knots, profile minima, variances. Loading maps the file read-only, checks every length
//! and offset, and validates the structure (ids in range, offsets monotone, arc ids a permutation,
//! costs finite and non-negative), so a corrupt file is an error, never undefined behaviour. The
//! file must not be modified while a graph loaded from it is alive.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use bytemuck::Pod;
use memmap2::Mmap;

use super::csr::TimeProfile;
use super::{Buf, Graph, GraphError, Result};

const MAGIC: &[u8; 8] = b"RDGLGRPH";
const VERSION: u32 = 1;
const ENDIAN: u32 = 0x0102_0304;
const HEADER: usize = 256;
const ALIGN: usize = 64;
const NSECT: usize = 11;

fn io(context: String) -> impl FnOnce(std::io::Error) -> GraphError {
    move |source| GraphError::Io { context, source }
}

impl Graph {
    /// Writes the graph to `path` (via a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let empty_f64: Buf<f64> = Buf::Owned(Vec::new());
        let empty_f32: Buf<f32> = Buf::Owned(Vec::new());
        let sections: [&[u8]; NSECT] = [
            bytemuck::cast_slice(self.fwd_off.as_slice()),
            bytemuck::cast_slice(self.fwd_head.as_slice()),
            bytemuck::cast_slice(self.fwd_id.as_slice()),
            bytemuck::cast_slice(self.costs.as_slice()),
            bytemuck::cast_slice(self.rev_off.as_slice()),
            bytemuck::cast_slice(self.rev_tail.as_slice()),
            bytemuck::cast_slice(self.rev_pos.as_slice()),
            bytemuck::cast_slice(self.coords.as_ref().unwrap_or(&empty_f64).as_slice()),
            bytemuck::cast_slice(
                self.profile
                    .as_ref()
                    .map(|p| &p.values)
                    .unwrap_or(&empty_f32)
                    .as_slice(),
            ),
            bytemuck::cast_slice(
                self.profile
                    .as_ref()
                    .map(|p| &p.min)
                    .unwrap_or(&empty_f64)
                    .as_slice(),
            ),
            bytemuck::cast_slice(self.variance.as_ref().unwrap_or(&empty_f64).as_slice()),
        ];
        let flags = (self.coords.is_some() as u32)
            | ((self.profile.is_some() as u32) << 1)
            | ((self.variance.is_some() as u32) << 2);
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&ENDIAN.to_le_bytes());
        header.extend_from_slice(&(self.n as u64).to_le_bytes());
        header.extend_from_slice(&(self.m as u64).to_le_bytes());
        header.extend_from_slice(&(self.k as u32).to_le_bytes());
        header.extend_from_slice(&flags.to_le_bytes());
        header.extend_from_slice(
            &(self.profile.as_ref().map_or(0, |p| p.slots) as u32).to_le_bytes(),
        );
        header.extend_from_slice(&(self.time_index as u32).to_le_bytes());
        let mut offset = HEADER;
        for s in &sections {
            header.extend_from_slice(&(offset as u64).to_le_bytes());
            header.extend_from_slice(&(s.len() as u64).to_le_bytes());
            offset = (offset + s.len()).div_ceil(ALIGN) * ALIGN;
        }
        header.resize(HEADER, 0);

        let tmp = path.with_extension(format!(
            "{}.tmp{}",
            path.extension().and_then(|e| e.to_str()).unwrap_or(""),
            std::process::id()
        ));
        let ctx = || format!("cannot write graph file {}", path.display());
        let write = || -> std::io::Result<()> {
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            w.write_all(&header)?;
            let mut pos = HEADER;
            let zeros = [0u8; ALIGN];
            for s in &sections {
                w.write_all(s)?;
                pos += s.len();
                let pad = pos.div_ceil(ALIGN) * ALIGN - pos;
                w.write_all(&zeros[..pad])?;
                pos += pad;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(ctx())(e)
        })
    }

    /// Memory-maps a graph written by [`Graph::save`].
    pub fn load(path: &Path) -> Result<Graph> {
        let file =
            File::open(path).map_err(io(format!("cannot open graph file {}", path.display())))?;
        // SAFETY: the map is read-only; the format documents that the file must not change while
        // mapped. Every view into it is bounds- and alignment-checked below.
        let map = unsafe { Mmap::map(&file) }.map_err(io(format!(
            "cannot memory-map graph file {}",
            path.display()
        )))?;
        let bad = |reason: &str| GraphError::BadFile {
            path: path.display().to_string(),
            reason: reason.to_string(),
        };
        if map.len() < HEADER || &map[..8] != MAGIC {
            return Err(bad("not a Ridgeline graph file (bad magic)"));
        }
        let map = Arc::new(map);
        let hdr: [u8; HEADER] = map[..HEADER].try_into().unwrap();
        let u32_at = |o: usize| u32::from_le_bytes(hdr[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(hdr[o..o + 8].try_into().unwrap());
        if u32_at(8) != VERSION {
            return Err(bad(&format!("unsupported format version {}", u32_at(8))));
        }
        if u32::from_ne_bytes(map[12..16].try_into().unwrap()) != ENDIAN {
            return Err(bad("written on a machine of different endianness"));
        }
        let n = u64_at(16) as usize;
        let m = u64_at(24) as usize;
        let k = u32_at(32) as usize;
        let flags = u32_at(36);
        let slots = u32_at(40) as usize;
        let time_index = u32_at(44) as usize;
        if !(2..=4).contains(&k) || n >= u32::MAX as usize || m >= u32::MAX as usize {
            return Err(bad("header has impossible sizes"));
        }
        if flags & !7 != 0 || (flags & 2 != 0 && slots == 0) || time_index >= k {
            return Err(bad(
                "header has unknown flags or an invalid profile description",
            ));
        }
        let has = |bit: u32| flags & bit != 0;
        // `m * slots` can exceed usize for a hostile header (tests/fuzz_regressions.rs): size the
        // profile section with checked arithmetic; the others fit, since n, m < 2^32 and k <= 4.
        let profile_len = if has(2) {
            m.checked_mul(slots)
                .and_then(|x| x.checked_mul(4))
                .ok_or_else(|| bad("header has impossible sizes"))?
        } else {
            0
        };
        let expected: [usize; NSECT] = [
            (n + 1) * 4,
            m * 4,
            m * 4,
            m * k * 8,
            (n + 1) * 4,
            m * 4,
            m * 4,
            if has(1) { n * 2 * 8 } else { 0 },
            profile_len,
            if has(2) { m * 8 } else { 0 },
            if has(4) { m * 8 } else { 0 },
        ];
        let mut table = [(0usize, 0usize); NSECT];
        for (i, e) in expected.iter().enumerate() {
            let off = u64_at(48 + 16 * i) as usize;
            let len = u64_at(56 + 16 * i) as usize;
            if len != *e || off < HEADER || off.checked_add(len).is_none_or(|end| end > map.len()) {
                return Err(bad(&format!(
                    "section {i} has a wrong size or lies outside the file"
                )));
            }
            table[i] = (off, len);
        }
        fn view<T: Pod>(map: &Arc<Mmap>, (off, len): (usize, usize)) -> Option<Buf<T>> {
            Buf::mapped(map.clone(), off, len / std::mem::size_of::<T>())
        }
        let misaligned = || bad("misaligned section");
        let g = Graph {
            n,
            m,
            k,
            fwd_off: view(&map, table[0]).ok_or_else(misaligned)?,
            fwd_head: view(&map, table[1]).ok_or_else(misaligned)?,
            fwd_id: view(&map, table[2]).ok_or_else(misaligned)?,
            costs: view(&map, table[3]).ok_or_else(misaligned)?,
            rev_off: view(&map, table[4]).ok_or_else(misaligned)?,
            rev_tail: view(&map, table[5]).ok_or_else(misaligned)?,
            rev_pos: view(&map, table[6]).ok_or_else(misaligned)?,
            coords: if has(1) {
                Some(view(&map, table[7]).ok_or_else(misaligned)?)
            } else {
                None
            },
            profile: if has(2) {
                Some(TimeProfile {
                    slots,
                    values: view(&map, table[8]).ok_or_else(misaligned)?,
                    min: view(&map, table[9]).ok_or_else(misaligned)?,
                })
            } else {
                None
            },
            variance: if has(4) {
                Some(view(&map, table[10]).ok_or_else(misaligned)?)
            } else {
                None
            },
            time_index,
            rev_lb: Default::default(),
            ch: Default::default(),
            ch_started: Default::default(),
            uid: super::csr::next_uid(),
        };
        g.validate().map_err(|r| bad(&r))?;
        Ok(g)
    }

    /// Structural checks that make every later index access in range.
    fn validate(&self) -> std::result::Result<(), String> {
        let (n, m) = (self.n, self.m);
        for (name, off) in [("forward", &self.fwd_off), ("reverse", &self.rev_off)] {
            let off = off.as_slice();
            if off[0] != 0 || off[n] as usize != m || off.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("{name} offsets are not monotone from 0 to m"));
            }
        }
        if self.fwd_head.as_slice().iter().any(|&h| h as usize >= n)
            || self.rev_tail.as_slice().iter().any(|&t| t as usize >= n)
        {
            return Err("node id out of range".into());
        }
        let mut seen = vec![false; m];
        for &a in self.fwd_id.as_slice() {
            if a as usize >= m || std::mem::replace(&mut seen[a as usize], true) {
                return Err("arc ids are not a permutation".into());
            }
        }
        seen.iter_mut().for_each(|s| *s = false);
        for &p in self.rev_pos.as_slice() {
            if p as usize >= m || std::mem::replace(&mut seen[p as usize], true) {
                return Err("reverse arc positions are not a permutation".into());
            }
        }
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !self.costs.as_slice().iter().all(|&c| ok(c)) {
            return Err("costs are not finite and non-negative".into());
        }
        if let Some(c) = &self.coords {
            if !c.as_slice().iter().all(|x| x.is_finite()) {
                return Err("coordinates are not finite".into());
            }
        }
        if let Some(p) = &self.profile {
            if !p.values.as_slice().iter().all(|&x| ok(x as f64))
                || !p.min.as_slice().iter().all(|&x| ok(x))
            {
                return Err("time profile values are not finite and non-negative".into());
            }
        }
        if let Some(v) = &self.variance {
            if !v.as_slice().iter().all(|&x| ok(x)) {
                return Err("variances are not finite and non-negative".into());
            }
        }
        Ok(())
    }
}
