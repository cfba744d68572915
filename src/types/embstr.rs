//! `EmbStr`: an immutable short string in 15 bytes of its own. Up to [`INLINE_MAX`] bytes
//! sit inline, beside the length; longer ones (up to [`MAX_LEN`]) live in one allocation of
//! exactly their length, whose pointer the 15 bytes hold instead. Redis's embstr keeps the
//! object header and the sds in one allocation; this goes one step further for the common
//! short value, which costs no allocation at all. The type has alignment 1, so a string
//! value (tag + `EmbStr`) is two words and a keyspace object stays at 24 bytes.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::mem::MaybeUninit;

/// The longest string an `EmbStr` holds.
pub const MAX_LEN: usize = u8::MAX as usize;
/// The longest string kept inline.
pub const INLINE_MAX: usize = 14;

/// An owned byte string of at most [`MAX_LEN`] bytes; see the module docs.
pub struct EmbStr {
    len: u8,
    /// Inline: the bytes. On the heap: the allocation's pointer, unaligned, in the first
    /// 8 bytes. `MaybeUninit` so that copying the pointer's bytes keeps it a pointer.
    data: [MaybeUninit<u8>; INLINE_MAX],
}

// SAFETY: an EmbStr uniquely owns its bytes, like a Box<[u8]>.
unsafe impl Send for EmbStr {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for EmbStr {}

fn layout(len: usize) -> Layout {
    Layout::from_size_align(len, 1).expect("small layout")
}

impl EmbStr {
    /// Copy `b` (at most [`MAX_LEN`] bytes).
    pub fn new(b: &[u8]) -> EmbStr {
        assert!(b.len() <= MAX_LEN, "embstr too long");
        let mut data = [MaybeUninit::new(0u8); INLINE_MAX];
        if b.len() <= INLINE_MAX {
            for (d, &x) in data.iter_mut().zip(b) {
                *d = MaybeUninit::new(x);
            }
        } else {
            let l = layout(b.len());
            // SAFETY: the layout has a non-zero size (more than INLINE_MAX bytes); the
            // allocation is written in full before use, and its pointer is stored in the
            // first 8 of the 14 data bytes (unaligned).
            unsafe {
                let p = alloc(l);
                if p.is_null() {
                    handle_alloc_error(l)
                }
                std::ptr::copy_nonoverlapping(b.as_ptr(), p, b.len());
                data.as_mut_ptr().cast::<*mut u8>().write_unaligned(p);
            }
        }
        EmbStr {
            len: b.len() as u8,
            data,
        }
    }

    #[inline]
    fn heap_ptr(&self) -> *mut u8 {
        // SAFETY: only called in the heap form, where the first 8 data bytes are the
        // pointer written by `new`.
        unsafe { self.data.as_ptr().cast::<*mut u8>().read_unaligned() }
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.len as usize;
        // SAFETY: inline, the first `len` data bytes are initialized; on the heap, the
        // pointer owns exactly `len` initialized bytes.
        unsafe {
            if len <= INLINE_MAX {
                std::slice::from_raw_parts(self.data.as_ptr().cast::<u8>(), len)
            } else {
                std::slice::from_raw_parts(self.heap_ptr(), len)
            }
        }
    }

    /// Bytes allocated outside the struct (0 when inline), for memory reports.
    pub fn heap_size(&self) -> usize {
        if self.len as usize <= INLINE_MAX {
            0
        } else {
            self.len as usize
        }
    }
}

impl Drop for EmbStr {
    fn drop(&mut self) {
        let len = self.len as usize;
        if len > INLINE_MAX {
            // SAFETY: heap form: allocated in `new` with this very layout.
            unsafe { dealloc(self.heap_ptr(), layout(len)) }
        }
    }
}

impl Clone for EmbStr {
    fn clone(&self) -> EmbStr {
        EmbStr::new(self.as_bytes())
    }
}

impl std::ops::Deref for EmbStr {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for EmbStr {
    fn eq(&self, other: &EmbStr) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for EmbStr {}

impl std::fmt::Debug for EmbStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmbStr({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl From<&[u8]> for EmbStr {
    fn from(b: &[u8]) -> EmbStr {
        EmbStr::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_clones() {
        for len in [0usize, 1, 10, 14, 15, 44, MAX_LEN] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let e = EmbStr::new(&data);
            assert_eq!(&*e, &data[..]);
            assert_eq!(e.heap_size(), if len <= INLINE_MAX { 0 } else { len });
            let c = e.clone();
            drop(e);
            assert_eq!(c.as_bytes(), &data[..]);
        }
        assert_eq!(std::mem::size_of::<EmbStr>(), 15);
        assert_eq!(std::mem::align_of::<EmbStr>(), 1);
    }

    #[test]
    #[should_panic]
    fn refuses_long_strings() {
        EmbStr::new(&[0u8; MAX_LEN + 1]);
    }
}
