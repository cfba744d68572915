//! `Sds`: an owned, immutable byte string in two words that keeps short strings inline.
//!
//! Keys are the most numerous strings a server holds, and most are short (`user:1234`,
//! `session:ab12cd`). A `Box<[u8]>` is two words *plus* an allocation of at least 16 bytes;
//! an `Sds` of up to [`INLINE_MAX`] bytes is the same two words and nothing else, so a
//! keyspace entry (key, object, next pointer) is one 48-byte allocation rather than two.
//! Longer strings live in a heap allocation of exactly their length, as before.
//!
//! Layout (16 bytes, 8-aligned): inline, bytes 0..15 hold the data and byte 15 holds
//! `INLINE_TAG | len`; on the heap, the first word is the pointer and the second the
//! length as little-endian bytes, whose top byte is therefore 0 for any real length.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

/// The longest string kept inline.
pub const INLINE_MAX: usize = 15;
const INLINE_TAG: u8 = 0x80;

#[derive(Clone, Copy)]
#[repr(C)]
struct Heap {
    ptr: NonNull<u8>,
    len_le: [u8; 8],
}

#[repr(C)]
union Repr {
    inline: [u8; 16],
    heap: Heap,
}

/// An owned byte string; see the module docs.
pub struct Sds(Repr);

// SAFETY: an Sds uniquely owns its bytes (inline or in its own allocation), like a Box<[u8]>.
unsafe impl Send for Sds {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for Sds {}

impl Sds {
    /// A copy of `b`.
    pub fn new(b: &[u8]) -> Sds {
        if b.len() <= INLINE_MAX {
            let mut inline = [0u8; 16];
            inline[..b.len()].copy_from_slice(b);
            inline[15] = INLINE_TAG | b.len() as u8;
            Sds(Repr { inline })
        } else {
            Sds::from_box(b.into())
        }
    }

    fn from_box(b: Box<[u8]>) -> Sds {
        if b.len() <= INLINE_MAX {
            return Sds::new(&b);
        }
        let len = b.len() as u64;
        let raw = Box::into_raw(b) as *mut u8;
        // SAFETY: Box::into_raw never returns null.
        let ptr = unsafe { NonNull::new_unchecked(raw) };
        Sds(Repr {
            heap: Heap {
                ptr,
                len_le: len.to_le_bytes(),
            },
        })
    }

    #[inline]
    fn is_inline(&self) -> bool {
        // SAFETY: byte 15 is initialized in both forms (inline tag, or the top byte of the
        // heap length, which is 0).
        unsafe { self.0.inline[15] & INLINE_TAG != 0 }
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the tag says which field of the union is live. Inline, the first `len`
        // bytes are the data; on the heap, `ptr` owns exactly `len` bytes.
        unsafe {
            if self.is_inline() {
                let len = (self.0.inline[15] & !INLINE_TAG) as usize;
                self.0.inline.get_unchecked(..len)
            } else {
                let h = self.0.heap;
                std::slice::from_raw_parts(h.ptr.as_ptr(), u64::from_le_bytes(h.len_le) as usize)
            }
        }
    }

    /// Bytes allocated outside the two words (0 when inline), for memory reports.
    pub fn heap_size(&self) -> usize {
        if self.is_inline() {
            0
        } else {
            self.len()
        }
    }

    /// The bytes as an owned vector.
    pub fn into_vec(self) -> Vec<u8> {
        if self.is_inline() {
            return self.as_bytes().to_vec();
        }
        let me = ManuallyDrop::new(self);
        // SAFETY: heap form: rebuild the Box this Sds was made from; `me` is not dropped.
        unsafe { me.take_box() }.into_vec()
    }

    /// Rebuild the heap form's Box. The caller must not use or drop `self` afterwards.
    unsafe fn take_box(&self) -> Box<[u8]> {
        let h = self.0.heap;
        let len = u64::from_le_bytes(h.len_le) as usize;
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(h.ptr.as_ptr(), len))
    }
}

impl Drop for Sds {
    fn drop(&mut self) {
        if !self.is_inline() {
            // SAFETY: heap form, made from a Box<[u8]> of this length; dropped once.
            drop(unsafe { self.take_box() });
        }
    }
}

impl Deref for Sds {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Sds {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Sds {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Clone for Sds {
    fn clone(&self) -> Sds {
        if self.is_inline() {
            // SAFETY: inline form: all 16 bytes are plain data.
            Sds(Repr {
                inline: unsafe { self.0.inline },
            })
        } else {
            Sds::new(self.as_bytes())
        }
    }
}

impl Default for Sds {
    fn default() -> Sds {
        Sds::new(b"")
    }
}

/// Hashes exactly as `[u8]` does, so that a dict keyed by `Sds` can be looked up by `&[u8]`.
impl Hash for Sds {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialEq for Sds {
    #[inline]
    fn eq(&self, other: &Sds) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Sds {}

impl PartialOrd for Sds {
    fn partial_cmp(&self, other: &Sds) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sds {
    fn cmp(&self, other: &Sds) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for Sds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl From<&[u8]> for Sds {
    fn from(b: &[u8]) -> Sds {
        Sds::new(b)
    }
}

impl<const N: usize> From<&[u8; N]> for Sds {
    fn from(b: &[u8; N]) -> Sds {
        Sds::new(b)
    }
}

impl From<Vec<u8>> for Sds {
    fn from(v: Vec<u8>) -> Sds {
        if v.len() <= INLINE_MAX {
            Sds::new(&v)
        } else {
            Sds::from_box(v.into_boxed_slice())
        }
    }
}

impl From<Box<[u8]>> for Sds {
    fn from(b: Box<[u8]>) -> Sds {
        Sds::from_box(b)
    }
}

impl From<&Vec<u8>> for Sds {
    fn from(v: &Vec<u8>) -> Sds {
        Sds::new(v)
    }
}

impl From<&bytes::Bytes> for Sds {
    fn from(b: &bytes::Bytes) -> Sds {
        Sds::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn two_words() {
        assert_eq!(std::mem::size_of::<Sds>(), 16);
        assert_eq!(std::mem::align_of::<Sds>(), 8);
    }

    #[test]
    fn round_trips_inline_and_heap() {
        for len in [0usize, 1, 10, 14, 15, 16, 17, 100, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8 | 0x80).collect();
            let s = Sds::new(&data);
            assert_eq!(s.is_inline(), len <= INLINE_MAX, "len {len}");
            assert_eq!(&*s, &data[..]);
            assert_eq!(s.heap_size(), if len <= INLINE_MAX { 0 } else { len });
            let c = s.clone();
            drop(s);
            assert_eq!(c.as_bytes(), &data[..]);
            assert_eq!(hash_of(&c), hash_of(&data[..]));
            assert_eq!(Sds::from(data.clone()), c);
            assert_eq!(Sds::from(data.clone().into_boxed_slice()), c);
            assert_eq!(c.into_vec(), data);
        }
    }

    #[test]
    fn orders_as_bytes() {
        let mut v: Vec<Sds> = [&b"b"[..], b"a", b"aaaaaaaaaaaaaaaaaaaaaaaa", b""]
            .iter()
            .map(|b| Sds::new(b))
            .collect();
        v.sort();
        let got: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(got, vec![&b""[..], b"a", b"aaaaaaaaaaaaaaaaaaaaaaaa", b"b"]);
    }
}
