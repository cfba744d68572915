//! Redis's intset encoding, byte for byte.
//!
//! An intset is a sorted array of distinct integers stored in one buffer: a
//! `u32` LE encoding (the element width in bytes: 2, 4 or 8), a `u32` LE
//! element count, then the elements in ascending order as little-endian
//! two's-complement integers of that width. Inserting a value that does not
//! fit the current width upgrades the whole set to the wider encoding; the
//! set is never downgraded, matching Redis so that blobs stay identical.
//! The blob is stored verbatim in RDB files (`RDB_TYPE_SET_INTSET`); untrusted
//! blobs must pass [`IntSet::validate`] before use.

use std::fmt;

/// Size of the intset header (encoding + length).
pub const HEADER_SIZE: usize = 8;

/// Element width (2, 4 or 8 bytes) needed to store `v`.
pub fn required_encoding(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads the element at `index` of a `width`-byte encoded body.
fn read_at(body: &[u8], width: usize, index: usize) -> i64 {
    let b = &body[index * width..(index + 1) * width];
    match width {
        2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
        4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => i64::from_le_bytes(b.try_into().expect("8-byte intset element")),
    }
}

/// A sorted set of distinct integers in Redis's intset format.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IntSet {
    buf: Vec<u8>,
}

impl Default for IntSet {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for IntSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl IntSet {
    /// Creates an empty set with the 16-bit encoding.
    pub fn new() -> Self {
        IntSet {
            buf: vec![2, 0, 0, 0, 0, 0, 0, 0],
        }
    }

    /// Wraps an intset blob (trusted; call [`IntSet::validate`] first for
    /// external input). An empty set is accepted here.
    ///
    /// # Panics
    /// If the encoding is not 2, 4 or 8 or the size does not match the count.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        assert!(
            Self::check_header(&bytes).is_some(),
            "intset blob has an inconsistent header"
        );
        IntSet { buf: bytes }
    }

    /// Returns `(width, count)` if the header is coherent with the size.
    fn check_header(bytes: &[u8]) -> Option<(usize, usize)> {
        if bytes.len() < HEADER_SIZE {
            return None;
        }
        let width = match read_u32(bytes, 0) {
            w @ (2 | 4 | 8) => w as usize,
            _ => return None,
        };
        let count = usize::try_from(read_u32(bytes, 4)).ok()?;
        let body = count.checked_mul(width)?.checked_add(HEADER_SIZE)?;
        (body == bytes.len()).then_some((width, count))
    }

    /// Checks `bytes` like Redis's `intsetValidateIntegrity`: a known
    /// encoding, a size matching the count, and a non-empty set. With `deep`
    /// the elements must also be strictly ascending (sorted, no duplicates).
    /// Never panics.
    pub fn validate(bytes: &[u8], deep: bool) -> bool {
        let Some((width, count)) = Self::check_header(bytes) else {
            return false;
        };
        if count == 0 {
            return false;
        }
        if !deep {
            return true;
        }
        let body = &bytes[HEADER_SIZE..];
        (1..count).all(|i| read_at(body, width, i - 1) < read_at(body, width, i))
    }

    /// The raw blob, exactly as Redis stores it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Consumes the set, returning the raw blob.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Size of the blob in bytes (`intsetBlobLen`).
    pub fn blob_len(&self) -> usize {
        self.buf.len()
    }

    /// Current element width in bytes: 2, 4 or 8.
    pub fn encoding(&self) -> usize {
        read_u32(&self.buf, 0) as usize
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        read_u32(&self.buf, 4) as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn body(&self) -> &[u8] {
        &self.buf[HEADER_SIZE..]
    }

    fn set_len(&mut self, len: usize) {
        let len = u32::try_from(len).expect("intset holds at most u32::MAX elements");
        self.buf[4..8].copy_from_slice(&len.to_le_bytes());
    }

    /// The element at `index` (ascending order), if in range.
    pub fn get(&self, index: usize) -> Option<i64> {
        (index < self.len()).then(|| read_at(self.body(), self.encoding(), index))
    }

    /// Binary search: `Ok(index)` if present, else `Err(insertion index)`.
    pub fn search(&self, value: i64) -> Result<usize, usize> {
        let width = self.encoding();
        if required_encoding(value) > width {
            // Out of range of every stored value.
            return Err(if value < 0 { 0 } else { self.len() });
        }
        let body = self.body();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match read_at(body, width, mid).cmp(&value) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Whether `value` is in the set.
    pub fn contains(&self, value: i64) -> bool {
        self.search(value).is_ok()
    }

    /// Inserts `value`; returns `false` if it was already present. Upgrades
    /// the encoding when `value` needs a wider one.
    pub fn insert(&mut self, value: i64) -> bool {
        let width = self.encoding();
        let need = required_encoding(value);
        if need > width {
            self.upgrade_and_add(need, value);
            return true;
        }
        match self.search(value) {
            Ok(_) => false,
            Err(index) => {
                let at = HEADER_SIZE + index * width;
                let bytes = value.to_le_bytes();
                self.buf.splice(at..at, bytes[..width].iter().copied());
                self.set_len(self.len() + 1);
                true
            }
        }
    }

    /// Re-encodes every element with width `need` and adds `value`, which
    /// is necessarily smaller or larger than all current elements.
    fn upgrade_and_add(&mut self, need: usize, value: i64) {
        let (width, len) = (self.encoding(), self.len());
        let mut buf = Vec::with_capacity(HEADER_SIZE + (len + 1) * need);
        buf.extend_from_slice(&(need as u32).to_le_bytes());
        buf.extend_from_slice(&((len + 1) as u32).to_le_bytes());
        let push = |buf: &mut Vec<u8>, v: i64| buf.extend_from_slice(&v.to_le_bytes()[..need]);
        if value < 0 {
            push(&mut buf, value);
        }
        for i in 0..len {
            push(&mut buf, read_at(self.body(), width, i));
        }
        if value >= 0 {
            push(&mut buf, value);
        }
        self.buf = buf;
    }

    /// Removes `value`; returns whether it was present. Never downgrades
    /// the encoding.
    pub fn remove(&mut self, value: i64) -> bool {
        match self.search(value) {
            Ok(index) => {
                let width = self.encoding();
                let at = HEADER_SIZE + index * width;
                self.buf.drain(at..at + width);
                self.set_len(self.len() - 1);
                true
            }
            Err(_) => false,
        }
    }

    /// A random element chosen with the random number `r` (`intsetRandom`).
    pub fn random(&self, r: u64) -> Option<i64> {
        let len = self.len() as u64;
        (len > 0).then(|| read_at(self.body(), self.encoding(), (r % len) as usize))
    }

    /// Smallest element.
    pub fn min(&self) -> Option<i64> {
        self.get(0)
    }

    /// Largest element.
    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Iterates the elements in ascending order (double-ended).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            body: self.body(),
            width: self.encoding(),
            front: 0,
            back: self.len(),
        }
    }

    /// Releases unused buffer capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

impl Extend<i64> for IntSet {
    fn extend<I: IntoIterator<Item = i64>>(&mut self, iter: I) {
        for v in iter {
            self.insert(v);
        }
    }
}

impl FromIterator<i64> for IntSet {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        let mut set = IntSet::new();
        set.extend(iter);
        set
    }
}

impl<'a> IntoIterator for &'a IntSet {
    type Item = i64;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Ascending iterator over an [`IntSet`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    body: &'a [u8],
    width: usize,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        (self.front < self.back).then(|| {
            self.front += 1;
            read_at(self.body, self.width, self.front - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        (self.front < self.back).then(|| {
            self.back -= 1;
            read_at(self.body, self.width, self.back)
        })
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(required_encoding(-32768), 2);
        assert_eq!(required_encoding(32767), 2);
        assert_eq!(required_encoding(-32769), 4);
        assert_eq!(required_encoding(32768), 4);
        assert_eq!(required_encoding(i32::MIN.into()), 4);
        assert_eq!(required_encoding(i32::MAX.into()), 4);
        assert_eq!(required_encoding(i64::from(i32::MIN) - 1), 8);
        assert_eq!(required_encoding(i64::from(i32::MAX) + 1), 8);
        assert_eq!(required_encoding(i64::MIN), 8);
        assert_eq!(required_encoding(i64::MAX), 8);
    }

    /// Blobs from `DUMP` on redis-server 7.0.15.
    #[test]
    fn byte_exact_against_redis() {
        // SADD s16 1 2 3 -32768 32767
        let s: IntSet = [1, 2, 3, -32768, 32767].into_iter().collect();
        assert_eq!(s.as_bytes(), hex("02000000050000000080010002000300ff7f"));
        // SADD s32 5 70000 -70000
        let s: IntSet = [5, 70000, -70000].into_iter().collect();
        assert_eq!(
            s.as_bytes(),
            hex("040000000300000090eefeff0500000070110100")
        );
        // SADD s64 -5 5000000000 7
        let s: IntSet = [-5, 5000000000, 7].into_iter().collect();
        assert_eq!(
            s.as_bytes(),
            hex("0800000003000000fbffffffffffffff070000000000000000f2052a01000000")
        );
        // SADD s64b 1 2; SADD s64b 9223372036854775807; SREM s64b 9223372036854775807
        let mut s: IntSet = [1, 2].into_iter().collect();
        assert!(s.insert(i64::MAX));
        assert!(s.remove(i64::MAX));
        assert_eq!(
            s.as_bytes(),
            hex("080000000200000001000000000000000200000000000000")
        );
        assert_eq!(s.encoding(), 8);

        let loaded = IntSet::from_bytes(hex("040000000300000090eefeff0500000070110100"));
        assert!(IntSet::validate(loaded.as_bytes(), true));
        assert_eq!(loaded.iter().collect::<Vec<_>>(), [-70000, 5, 70000]);
    }

    #[test]
    fn insert_remove_upgrade() {
        let mut s = IntSet::new();
        assert_eq!(s.as_bytes(), [2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(s.is_empty());
        assert_eq!(
            (s.min(), s.max(), s.random(3), s.get(0)),
            (None, None, None, None)
        );
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert!(s.insert(-3));
        assert!(s.insert(100));
        assert_eq!(s.encoding(), 2);
        assert!(s.insert(-40000)); // prepend upgrade to 32-bit
        assert_eq!(s.encoding(), 4);
        assert!(s.insert(1 << 40)); // append upgrade to 64-bit
        assert_eq!(s.encoding(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), [-40000, -3, 5, 100, 1 << 40]);
        assert_eq!(s.iter().next_back(), Some(1 << 40));
        assert_eq!(s.blob_len(), 8 + 5 * 8);
        assert!(s.contains(100) && !s.contains(101) && !s.contains(i64::MIN));
        assert_eq!((s.min(), s.max()), (Some(-40000), Some(1 << 40)));
        assert_eq!(s.random(7), Some(5)); // 7 % 5 = index 2
        assert!(s.remove(1 << 40));
        assert!(!s.remove(1 << 40));
        assert!(!s.remove(12345));
        assert_eq!(s.encoding(), 8);
        assert!(IntSet::validate(s.as_bytes(), true));
        // Wider values than the encoding are neither found nor removed.
        let mut small: IntSet = [1, 2].into_iter().collect();
        assert!(!small.contains(1 << 33) && !small.remove(-(1 << 33)));
        assert_eq!(small.search(1 << 33), Err(2));
        assert_eq!(small.search(-(1 << 33)), Err(0));
    }

    #[test]
    fn matches_btreeset_model() {
        let mut rng = Rng(99);
        let mut s = IntSet::new();
        let mut model = std::collections::BTreeSet::new();
        for step in 0..5000 {
            let v = (rng.next() as i64) >> (rng.next() % 64);
            if rng.next().is_multiple_of(3) {
                assert_eq!(s.remove(v), model.remove(&v));
                let w = *model.iter().next().unwrap_or(&0);
                assert_eq!(s.remove(w), model.remove(&w));
            } else {
                assert_eq!(s.insert(v), model.insert(v));
            }
            if step % 250 == 0 {
                assert!(s.iter().eq(model.iter().copied()));
                assert!(s.is_empty() || IntSet::validate(s.as_bytes(), true));
            }
        }
        assert_eq!(s.len(), model.len());
        assert!(s.iter().rev().eq(model.iter().rev().copied()));
    }

    #[test]
    fn validation() {
        let good = IntSet::from_iter([1, 2, 3]).into_bytes();
        assert!(IntSet::validate(&good, true));
        assert!(!IntSet::validate(IntSet::new().as_bytes(), false)); // empty
        for n in 0..good.len() {
            assert!(!IntSet::validate(&good[..n], false));
        }
        let mut bad = good.clone();
        bad[0] = 3; // bad encoding
        assert!(!IntSet::validate(&bad, false));
        let mut bad = good.clone();
        bad[4] = 4; // count mismatch
        assert!(!IntSet::validate(&bad, false));
        let mut bad = good.clone();
        bad[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!IntSet::validate(&bad, true));
        let unsorted = hex("0200000003000000010003000200");
        assert!(IntSet::validate(&unsorted, false));
        assert!(!IntSet::validate(&unsorted, true));
        let dup = hex("020000000200000001000100");
        assert!(!IntSet::validate(&dup, true));
        let mut rng = Rng(5);
        for _ in 0..20000 {
            let mut b = good.clone();
            for _ in 0..1 + rng.next() % 3 {
                let i = (rng.next() as usize) % b.len();
                b[i] = rng.next() as u8;
            }
            if rng.next().is_multiple_of(4) {
                b.truncate((rng.next() as usize) % (b.len() + 1));
            }
            if IntSet::validate(&b, true) {
                let s = IntSet::from_bytes(b);
                assert!(s.iter().zip(s.iter().skip(1)).all(|(a, b)| a < b));
            }
        }
    }
}
