//! `EmbStr`: an immutable short string behind one thin pointer — a single allocation
//! holding a one-byte length and the bytes (Redis's embstr keeps object header and sds in one
//! allocation for the same reason). It keeps a string value to one word, so a keyspace
//! entry stays small.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

/// The longest string an `EmbStr` holds.
pub const MAX_LEN: usize = u8::MAX as usize;

/// An owned byte string of at most [`MAX_LEN`] bytes, stored as `[len][bytes...]`.
pub struct EmbStr(NonNull<u8>);

// SAFETY: an EmbStr uniquely owns its allocation, like a Box<[u8]>.
unsafe impl Send for EmbStr {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for EmbStr {}

fn layout(len: usize) -> Layout {
    Layout::from_size_align(1 + len, 1).expect("small layout")
}

impl EmbStr {
    /// Copy `b` (at most [`MAX_LEN`] bytes) into a new allocation.
    pub fn new(b: &[u8]) -> EmbStr {
        assert!(b.len() <= MAX_LEN, "embstr too long");
        let l = layout(b.len());
        // SAFETY: the layout has a non-zero size; the allocation is written in full
        // (length byte, then exactly b.len() bytes) before use.
        unsafe {
            let p = alloc(l);
            let Some(p) = NonNull::new(p) else {
                handle_alloc_error(l)
            };
            p.as_ptr().write(b.len() as u8);
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.as_ptr().add(1), b.len());
            EmbStr(p)
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the allocation starts with the length, followed by that many bytes.
        unsafe {
            let len = *self.0.as_ptr() as usize;
            std::slice::from_raw_parts(self.0.as_ptr().add(1), len)
        }
    }
}

impl Drop for EmbStr {
    fn drop(&mut self) {
        let len = self.as_bytes().len();
        // SAFETY: allocated in `new` with this very layout.
        unsafe { dealloc(self.0.as_ptr(), layout(len)) }
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
        for len in [0usize, 1, 10, 44, MAX_LEN] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let e = EmbStr::new(&data);
            assert_eq!(&*e, &data[..]);
            let c = e.clone();
            drop(e);
            assert_eq!(c.as_bytes(), &data[..]);
        }
        assert_eq!(std::mem::size_of::<EmbStr>(), 8);
        assert_eq!(std::mem::size_of::<Option<EmbStr>>(), 8);
    }

    #[test]
    #[should_panic]
    fn refuses_long_strings() {
        EmbStr::new(&[0u8; MAX_LEN + 1]);
    }
}
