//! Arrays that are either owned or views into a shared read-only memory map.

use std::sync::Arc;

use bytemuck::Pod;
use memmap2::Mmap;

/// A read-only array of `T`: owned, or a checked, aligned view into a memory-mapped file.
#[derive(Debug, Clone)]
pub enum Buf<T: Pod> {
    Owned(Vec<T>),
    Mapped {
        map: Arc<Mmap>,
        start: usize,
        len: usize,
    },
}

impl<T: Pod> Buf<T> {
    /// A mapped view; fails if the range is out of bounds or misaligned for `T`.
    pub fn mapped(map: Arc<Mmap>, start: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(std::mem::size_of::<T>())?;
        let end = start.checked_add(bytes)?;
        if end > map.len() {
            return None;
        }
        bytemuck::try_cast_slice::<u8, T>(&map[start..end]).ok()?;
        Some(Buf::Mapped { map, start, len })
    }

    #[inline]
    pub fn as_slice(&self) -> &[T] {
        match self {
            Buf::Owned(v) => v,
            Buf::Mapped { map, start, len } => {
                let bytes = &map[*start..*start + *len * std::mem::size_of::<T>()];
                // Alignment and length were checked in `mapped`; the map never moves.
                bytemuck::cast_slice(bytes)
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Buf::Owned(v) => v.len(),
            Buf::Mapped { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self, Buf::Mapped { .. })
    }

    /// For a mapped view, drops the pages wholly inside it from the process's resident set:
    /// they stay in the page cache and are faulted back in (minor faults, same contents) when
    /// next read. For arrays a loaded graph reads rarely. An owned array is left alone.
    pub fn release_pages(&self) {
        #[cfg(unix)]
        if let Buf::Mapped { map, start, len } = self {
            const PAGE: usize = 4096;
            let from = start.div_ceil(PAGE) * PAGE;
            let to = (start + len * std::mem::size_of::<T>()) / PAGE * PAGE;
            if to > from {
                // SAFETY: a read-only file mapping (never written through), so DONTNEED discards
                // nothing: later reads fault the same file contents back in. The map's base is
                // page-aligned, so page-aligned offsets are page-aligned addresses.
                let _ = unsafe {
                    map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
                };
            }
        }
    }
}

impl<T: Pod> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Self {
        Buf::Owned(v)
    }
}

/// A zero-filled scratch array in anonymous memory, for per-query per-node state.
///
/// The kernel supplies zero pages as they are first touched, so a query that touches a few
/// nodes of a large graph pays for a few pages, not for clearing `n` entries; and dropping the
/// array unmaps it, so its memory goes back to the system instead of staying in the allocator's
/// free lists (which is how per-query `n`-sized vectors made the process grow over queries).
pub(crate) struct Scratch<T: Pod> {
    map: Option<memmap2::MmapMut>,
    len: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T: Pod> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            map: None,
            len: 0,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: Pod> Scratch<T> {
    /// `len` zero-valued entries (all-zero bytes; `T: Pod` makes that a valid value).
    pub fn zeroed(len: usize) -> Self {
        Self::zeroed_with(len, true)
    }

    /// [`Scratch::zeroed`] without the huge-page advice, for arrays touched sparsely (a 2 MB
    /// huge page would make one touched entry cost 2 MB of resident memory).
    pub fn zeroed_small_pages(len: usize) -> Self {
        Self::zeroed_with(len, false)
    }

    fn zeroed_with(len: usize, huge: bool) -> Self {
        let bytes = len * std::mem::size_of::<T>();
        if bytes == 0 {
            return Scratch::default();
        }
        let map = memmap2::MmapMut::map_anon(bytes).expect("out of memory for search scratch");
        // Large arrays: ask for transparent huge pages, so a query that touches much of the
        // graph takes one fault per 2 MB instead of one per 4 KB (advisory; ignored without THP).
        #[cfg(target_os = "linux")]
        if huge && bytes >= 4 << 20 {
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        Scratch {
            map: Some(map),
            len,
            _t: std::marker::PhantomData,
        }
    }

    pub fn bytes(&self) -> usize {
        self.len * std::mem::size_of::<T>()
    }

    /// Returns the array's pages to the system, keeping the mapping: every entry reads as zero
    /// again and costs a page fault when next touched. For pooled scratch after a query that
    /// touched much of it, so the pool keeps the mapping but no resident memory.
    pub fn release_pages(&mut self) {
        let Some(m) = &mut self.map else {
            return;
        };
        // SAFETY: a private anonymous mapping owned by `self`, borrowed mutably (no slice into
        // it is alive); DONTNEED makes its pages read back as zeros, a valid `Pod` value.
        #[cfg(unix)]
        if unsafe { m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) }.is_ok() {
            return;
        }
        m.fill(0);
    }
}

impl<T: Pod> std::ops::Deref for Scratch<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        match &self.map {
            // Page-aligned and exactly `len` entries long.
            Some(m) => bytemuck::cast_slice(&m[..self.len * std::mem::size_of::<T>()]),
            None => &[],
        }
    }
}

impl<T: Pod> std::ops::DerefMut for Scratch<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        let bytes = self.len * std::mem::size_of::<T>();
        match &mut self.map {
            Some(m) => bytemuck::cast_slice_mut(&mut m[..bytes]),
            None => &mut [],
        }
    }
}
