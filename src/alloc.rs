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

/// What a `mallctl` call gave back.
pub enum Mallctl<T> {
    /// The (old) value read.
    Value(T),
    /// A write-only setting was written.
    Written,
}

/// The C library's text for an errno (strerror), as Redis replies it.
fn strerror(code: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local string.
    unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

/// Write a mallctl setting without reading it back.
///
/// # Safety
/// `newp` must point to `newlen` readable bytes of the setting's type (or be null with 0).
unsafe fn mallctl_write(name: &std::ffi::CStr, newp: *mut libc::c_void, newlen: usize) -> i32 {
    tikv_jemalloc_sys::mallctl(
        name.as_ptr(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        newp,
        newlen,
    )
}

/// jemalloc's mallctl on an integer setting (DEBUG MALLCTL): read it, writing `new` if
/// given, trying 64-, 32-, 16- and 8-bit sizes until one matches the setting's type.
pub fn mallctl_int(name: &[u8], new: Option<i64>) -> Result<Mallctl<i64>, String> {
    let name = std::ffi::CString::new(name).map_err(|_| strerror(libc::EINVAL))?;
    let mut size = std::mem::size_of::<i64>();
    let mut val = new.unwrap_or(0);
    while size > 0 {
        let mut old: i64 = 0;
        let mut oldlen = size;
        let (newp, newlen) = match new {
            Some(_) => (&mut val as *mut i64 as *mut libc::c_void, size),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: `old` has room for `size` (<= 8) bytes; `newp` points to `newlen` bytes.
        let ret = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                &mut old as *mut i64 as *mut libc::c_void,
                &mut oldlen,
                newp,
                newlen,
            )
        };
        if ret == 0 {
            return Ok(Mallctl::Value(old));
        }
        if ret == libc::EPERM && new.is_some() {
            // A write-only setting: just write it.
            // SAFETY: `newp` points to `newlen` bytes of the value.
            if unsafe { mallctl_write(&name, newp, newlen) } == 0 {
                return Ok(Mallctl::Written);
            }
        }
        if ret != libc::EINVAL {
            return Err(strerror(ret));
        }
        size /= 2;
    }
    Err(strerror(libc::EINVAL))
}

/// jemalloc's mallctl on a string setting (DEBUG MALLCTL-STR): read it, writing `new` if
/// given (`VOID` writes nothing, for settings that are triggers).
pub fn mallctl_str(name: &[u8], new: Option<&[u8]>) -> Result<Mallctl<String>, String> {
    let name = std::ffi::CString::new(name).map_err(|_| strerror(libc::EINVAL))?;
    let mut old: *const libc::c_char = std::ptr::null();
    let mut oldlen = std::mem::size_of::<*const libc::c_char>();
    // SAFETY: reading a `char *` setting into a pointer-sized slot.
    let rret = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            &mut old as *mut *const libc::c_char as *mut libc::c_void,
            &mut oldlen,
            std::ptr::null_mut(),
            0,
        )
    };
    if rret != 0 && !(rret == libc::EPERM && new.is_some()) {
        return Err(strerror(rret));
    }
    let mut wret = 0;
    if let Some(v) = new {
        let v = std::ffi::CString::new(v).map_err(|_| strerror(libc::EINVAL))?;
        let mut p = v.as_ptr();
        let (newp, newlen) = if v.as_bytes() == b"VOID" {
            (std::ptr::null_mut(), 0)
        } else {
            (
                &mut p as *mut *const libc::c_char as *mut libc::c_void,
                std::mem::size_of::<*const libc::c_char>(),
            )
        };
        // SAFETY: writing a pointer to a NUL-terminated string that outlives the call.
        wret = unsafe { mallctl_write(&name, newp, newlen) };
    }
    if rret == 0 {
        let s = if old.is_null() {
            String::new()
        } else {
            // SAFETY: jemalloc returned a pointer to a NUL-terminated string it owns.
            unsafe { std::ffi::CStr::from_ptr(old) }
                .to_string_lossy()
                .into_owned()
        };
        return Ok(Mallctl::Value(s));
    }
    if wret != 0 {
        return Err(strerror(wret));
    }
    Ok(Mallctl::Written)
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

    #[test]
    fn mallctl_reads_settings_and_reports_errors() {
        match super::mallctl_int(b"arenas.page", None) {
            Ok(super::Mallctl::Value(v)) => assert!(v >= 4096, "page size {v}"),
            _ => panic!("arenas.page should read"),
        }
        match super::mallctl_int(b"no.such.setting", None) {
            Err(e) => assert_eq!(e, "No such file or directory"),
            _ => panic!("unknown setting should fail"),
        }
        match super::mallctl_str(b"version", None) {
            Ok(super::Mallctl::Value(v)) => assert!(v.starts_with("5."), "{v}"),
            _ => panic!("version should read"),
        }
    }
}
