//! `Enc<A, B>`: a collection value in one of its two encodings, in one word.
//!
//! A hash or sorted set is either compact (a listpack) or expanded (a hash table, a skiplist).
//! As a Rust `enum` that is a tag plus a pointer, 16 bytes, which does not fit beside the
//! string encodings in a keyspace object's one word of payload and so needed a box of its
//! own: 16 more bytes for every small collection in the keyspace. `Enc` instead keeps the
//! encoding in the pointer's low bit: the compact form is a [`Thin`] pointer stored as it is
//! (its address is even), the expanded one a `Box<B>` with the bit set.

use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A type that is exactly one non-null pointer to a 2-aligned address, so that a word
/// holding its bits with the low bit clear is a valid value of it.
///
/// # Safety
/// Implementors must be `repr(transparent)` over a `NonNull<u8>` (or a chain of such
/// wrappers) whose address is always even.
pub unsafe trait Thin: Sized {}

/// Either an `A` (compact) or a `Box<B>` (expanded), in one word; see the module docs.
pub struct Enc<A: Thin, B> {
    word: NonNull<u8>,
    _owns: PhantomData<(A, Box<B>)>,
}

// SAFETY: an `Enc` owns either an `A` or a `Box<B>`, and is Send/Sync when both are.
unsafe impl<A: Thin + Send, B: Send> Send for Enc<A, B> {}
// SAFETY: as above; shared access hands out only shared references.
unsafe impl<A: Thin + Sync, B: Sync> Sync for Enc<A, B> {}

/// A shared view of an [`Enc`].
pub enum Ref<'a, A, B> {
    Small(&'a A),
    Big(&'a B),
}

/// A unique view of an [`Enc`].
pub enum Mut<'a, A, B> {
    Small(&'a mut A),
    Big(&'a mut B),
}

/// An [`Enc`] taken apart.
pub enum Owned<A, B> {
    Small(A),
    Big(Box<B>),
}

const BIG: usize = 1;

impl<A: Thin, B> Enc<A, B> {
    const CHECK: () = {
        assert!(std::mem::size_of::<A>() == std::mem::size_of::<usize>());
        assert!(std::mem::align_of::<B>() >= 2);
    };

    /// The compact form.
    pub fn small(a: A) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        let a = std::mem::ManuallyDrop::new(a);
        // SAFETY: `A: Thin` is a transparent non-null pointer, so its bits are a NonNull;
        // ownership moves into `word` (`a` is not dropped).
        let word = unsafe { std::ptr::read((&*a as *const A).cast::<NonNull<u8>>()) };
        debug_assert_eq!(word.as_ptr() as usize & BIG, 0, "Thin address must be even");
        Enc {
            word,
            _owns: PhantomData,
        }
    }

    /// The expanded form.
    pub fn big(b: Box<B>) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        let raw = Box::into_raw(b).cast::<u8>();
        // The box is at least 2-aligned (CHECK), so its low bit is free; setting it keeps
        // the pointer non-null and keeps its provenance.
        let word = raw.map_addr(|a| a | BIG);
        Enc {
            // SAFETY: `raw` is non-null, so `raw | 1` is too.
            word: unsafe { NonNull::new_unchecked(word) },
            _owns: PhantomData,
        }
    }

    /// Is this the expanded form?
    #[inline]
    pub fn is_big(&self) -> bool {
        self.word.as_ptr().addr() & BIG != 0
    }

    #[inline]
    fn big_ptr(&self) -> *mut B {
        self.word.as_ptr().map_addr(|a| a & !BIG).cast::<B>()
    }

    /// The value, by reference.
    #[inline]
    pub fn get(&self) -> Ref<'_, A, B> {
        if self.is_big() {
            // SAFETY: the expanded form owns a live `B` at the untagged address.
            Ref::Big(unsafe { &*self.big_ptr() })
        } else {
            // SAFETY: the compact form's word is exactly an `A`'s bits (`Thin`), so the
            // word's storage can be read as that `A`.
            Ref::Small(unsafe { &*(&self.word as *const NonNull<u8>).cast::<A>() })
        }
    }

    /// The value, by unique reference.
    #[inline]
    pub fn get_mut(&mut self) -> Mut<'_, A, B> {
        if self.is_big() {
            // SAFETY: as in `get`, and `&mut self` makes the access unique.
            Mut::Big(unsafe { &mut *self.big_ptr() })
        } else {
            // SAFETY: as in `get`. Whatever the caller stores through the reference is an
            // `A`, whose address is even, so the word stays in the compact form.
            Mut::Small(unsafe { &mut *(&mut self.word as *mut NonNull<u8>).cast::<A>() })
        }
    }

    /// Takes the value apart.
    pub fn into_owned(self) -> Owned<A, B> {
        let me = std::mem::ManuallyDrop::new(self);
        if me.is_big() {
            // SAFETY: the expanded form came from `Box::into_raw`; `me` is not dropped.
            Owned::Big(unsafe { Box::from_raw(me.big_ptr()) })
        } else {
            // SAFETY: the compact form is an `A`'s bits; `me` is not dropped.
            Owned::Small(unsafe { std::ptr::read((&me.word as *const NonNull<u8>).cast::<A>()) })
        }
    }
}

impl<A: Thin, B> Drop for Enc<A, B> {
    fn drop(&mut self) {
        if self.is_big() {
            // SAFETY: the expanded form came from `Box::into_raw` and is freed once.
            drop(unsafe { Box::from_raw(self.big_ptr()) });
        } else {
            // SAFETY: the compact form's word is an `A`, dropped once, here.
            unsafe { std::ptr::drop_in_place((&mut self.word as *mut NonNull<u8>).cast::<A>()) }
        }
    }
}

impl<A: Thin + Clone, B: Clone> Clone for Enc<A, B> {
    fn clone(&self) -> Self {
        match self.get() {
            Ref::Small(a) => Enc::small(a.clone()),
            Ref::Big(b) => Enc::big(Box::new(b.clone())),
        }
    }
}

impl<A: Thin + fmt::Debug, B: fmt::Debug> fmt::Debug for Enc<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Ref::Small(a) => f.debug_tuple("Small").field(a).finish(),
            Ref::Big(b) => f.debug_tuple("Big").field(b).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::listpack::Listpack;

    type E = Enc<Listpack, Vec<u64>>;

    #[test]
    fn one_word_both_ways() {
        assert_eq!(std::mem::size_of::<E>(), 8);
        let mut lp = Listpack::new();
        lp.append(&b"hello"[..]);
        let mut e = E::small(lp);
        assert!(!e.is_big());
        match e.get_mut() {
            Mut::Small(lp) => lp.append(&b"a longer entry that makes the listpack grow"[..]),
            Mut::Big(_) => panic!("small"),
        }
        let c = e.clone();
        match c.get() {
            Ref::Small(lp) => assert_eq!(lp.len(), 2),
            Ref::Big(_) => panic!("small"),
        }
        e = E::big(Box::new(vec![1, 2, 3]));
        assert!(e.is_big());
        if let Mut::Big(v) = e.get_mut() {
            v.push(4);
        }
        match e.clone().into_owned() {
            Owned::Big(v) => assert_eq!(*v, vec![1, 2, 3, 4]),
            Owned::Small(_) => panic!("big"),
        }
        match c.into_owned() {
            Owned::Small(lp) => assert_eq!(lp.len(), 2),
            Owned::Big(_) => panic!("small"),
        }
    }
}
