//! The global allocator: jemalloc (as Redis uses), wrapped to count the bytes in use the way
//! Redis's zmalloc does, so `used_memory`, `maxmemory` and `MEMORY USAGE` see real numbers from
//! the first allocation on. The count is of usable sizes (jemalloc's size classes).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use tikv_jemallocator::Jemalloc;

static USED: AtomicUsize = AtomicUsize::new(0);

/// The counting allocator.
pub struct Counting;

#[inline]
fn usable(size: usize, align: usize) -> usize {
    // jemalloc rounds every request up to a size class; nallocx says which, without allocating.
    let flags = if align <= 16 {
        0
    } else {
        align.trailing_zeros() as i32
    };
    // SAFETY: nallocx has no preconditions beyond a non-zero size.
    let n = unsafe { tikv_jemalloc_sys::nallocx(size.max(1), flags) };
    if n == 0 {
        size
    } else {
        n
    }
}

// SAFETY: every method forwards to jemalloc with the same layout and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(usable(layout.size(), layout.align()), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(usable(layout.size(), layout.align()), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(usable(layout.size(), layout.align()), Ordering::Relaxed);
        Jemalloc.dealloc(ptr, layout)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            USED.fetch_sub(usable(layout.size(), layout.align()), Ordering::Relaxed);
            USED.fetch_add(usable(new_size, layout.align()), Ordering::Relaxed);
        }
        p
    }
}

/// Bytes currently allocated (Redis's zmalloc_used_memory).
pub fn used_memory() -> usize {
    USED.load(Ordering::Relaxed)
}

/// Resident set size from /proc (Redis's zmalloc_get_rss).
pub fn rss() -> usize {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: usize = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf is always safe to call.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    pages * page
}

/// jemalloc's allocated / active / resident / retained statistics, refreshed.
pub fn allocator_stats() -> (usize, usize, usize, usize) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    (
        stats::allocated::read().unwrap_or(0),
        stats::active::read().unwrap_or(0),
        stats::resident::read().unwrap_or(0),
        stats::retained::read().unwrap_or(0),
    )
}

/// Total physical memory of the machine.
pub fn total_system_memory() -> u64 {
    // SAFETY: sysconf is always safe to call.
    unsafe {
        (libc::sysconf(libc::_SC_PHYS_PAGES) as u64) * (libc::sysconf(libc::_SC_PAGESIZE) as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_allocations() {
        // Other test threads allocate and free concurrently: one clean attempt in a few
        // must see the megabyte come and go.
        let counted = (0..20).any(|_| {
            let before = super::used_memory();
            // black_box: an unused allocation may otherwise be optimized away.
            let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(1 << 20));
            let during = super::used_memory();
            drop(std::hint::black_box(v));
            let after = super::used_memory();
            during >= before + (1 << 20) && after + (1 << 20) <= during
        });
        assert!(counted);
    }
}
