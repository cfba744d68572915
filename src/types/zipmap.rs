//! Read-only support for Redis's legacy zipmap encoding.
//!
//! Zipmaps were the small-hash encoding of Redis ≤ 2.4. Redis 7.0 still loads
//! them from RDB files (`RDB_TYPE_HASH_ZIPMAP`) and immediately converts them
//! to listpacks; this module does the same: [`validate`] mirrors
//! `zipmapValidateIntegrity`, [`iter`] walks the field/value pairs and
//! [`to_listpack`] performs the checked conversion.
//!
//! Layout: one count byte (`254` or more means "unknown"), then for each pair
//! `<len>field<len><free>value<free bytes>`, then `0xFF`. A `<len>` is one
//! byte below 254, otherwise `0xFE` followed by a `u32` (little endian, as
//! written by every x86/ARM Redis build); `<free>` is one byte counting unused
//! bytes after the value.
//!
//! Nothing here panics on malformed input.

use std::collections::HashSet;

use super::listpack::{Listpack, LpValue};

/// Terminator byte (also ends the pair list when found in a key position).
pub const END: u8 = 0xFF;
/// Length bytes at or above this value introduce a 4-byte length.
const BIGLEN: u8 = 254;

/// Decodes a `<len>` field at `p`: `(length, size of the field)`.
fn decode_len(zm: &[u8], p: usize) -> Option<(usize, usize)> {
    let b = *zm.get(p)?;
    if b < BIGLEN {
        Some((usize::from(b), 1))
    } else {
        let x = zm.get(p + 1..p + 5)?;
        Some((u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize, 5))
    }
}

/// Checks `zm` like Redis's `zipmapValidateIntegrity`.
///
/// Shallow: at least 2 bytes and a `0xFF` terminator. Deep: every length is
/// in bounds and minimally encoded, the walk ends exactly at the terminator,
/// the map is not empty and the count byte matches (unless ≥ 254).
/// Never panics.
pub fn validate(zm: &[u8], deep: bool) -> bool {
    let size = zm.len();
    if size < 2 || zm[size - 1] != END {
        return false;
    }
    if !deep {
        return true;
    }
    let last = size - 1;
    let mut p = 1usize;
    let mut count = 0usize;
    // One step: a length field in bounds and minimally encoded.
    let read_len = |p: usize| -> Option<(usize, usize)> {
        let s = if zm[p] < BIGLEN { 1 } else { 5 };
        if p + s > last {
            return None;
        }
        let (l, s) = decode_len(zm, p)?;
        (l >= usize::from(BIGLEN) || s == 1).then_some((l, s))
    };
    while zm[p] != END {
        let Some((klen, s)) = read_len(p) else {
            return false;
        };
        p = match (p + s).checked_add(klen) {
            Some(n) if n <= last => n,
            _ => return false,
        };
        let Some((vlen, s)) = read_len(p) else {
            return false;
        };
        p += s;
        let free = usize::from(zm[p]);
        p = match (p + 1).checked_add(vlen).and_then(|n| n.checked_add(free)) {
            Some(n) if n <= last => n,
            _ => return false,
        };
        count += 1;
    }
    count != 0 && (zm[0] == BIGLEN || usize::from(zm[0]) == count)
}

/// Iterates the `(field, value)` pairs. Intended for validated blobs; stops
/// early on malformed input instead of panicking.
pub fn iter(zm: &[u8]) -> Iter<'_> {
    Iter { zm, p: 1 }
}

/// Number of pairs: the count byte when below 254, otherwise a walk.
pub fn len(zm: &[u8]) -> usize {
    match zm.first() {
        Some(&n) if n < BIGLEN => usize::from(n),
        Some(_) => iter(zm).count(),
        None => 0,
    }
}

/// Validates (deep) and converts a zipmap to a field/value listpack the way
/// Redis's RDB loader does: rejects duplicate fields and results larger than
/// the listpack safety limit. `None` if invalid.
pub fn to_listpack(zm: &[u8]) -> Option<Listpack> {
    if !validate(zm, true) {
        return None;
    }
    let mut lp = Listpack::new();
    let mut fields = HashSet::new();
    for (field, value) in iter(zm) {
        if !lp.safe_to_add(field.len() + value.len()) || !fields.insert(field) {
            return None;
        }
        lp.append(LpValue::Str(field));
        lp.append(LpValue::Str(value));
    }
    Some(lp)
}

/// Iterator over the `(field, value)` pairs of a zipmap.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    zm: &'a [u8],
    p: usize,
}

impl<'a> Iter<'a> {
    fn step(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let zm = self.zm;
        if *zm.get(self.p)? == END {
            return None;
        }
        let (klen, s) = decode_len(zm, self.p)?;
        let kstart = self.p + s;
        let field = zm.get(kstart..kstart.checked_add(klen)?)?;
        let vp = kstart + klen;
        let (vlen, s) = decode_len(zm, vp)?;
        let free = usize::from(*zm.get(vp + s)?);
        let vstart = vp + s + 1;
        let value = zm.get(vstart..vstart.checked_add(vlen)?)?;
        self.p = vstart + vlen + free;
        Some((field, value))
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step();
        if item.is_none() {
            self.p = usize::MAX;
        }
        item
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a zipmap, optionally with `free` trailing bytes per value.
    fn build(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut zm = vec![u8::try_from(pairs.len()).unwrap_or(BIGLEN).min(BIGLEN)];
        let push_len = |zm: &mut Vec<u8>, n: usize| {
            if n < usize::from(BIGLEN) {
                zm.push(n as u8);
            } else {
                zm.push(BIGLEN);
                zm.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (k, v) in pairs {
            push_len(&mut zm, k.len());
            zm.extend_from_slice(k);
            push_len(&mut zm, v.len());
            zm.push(free);
            zm.extend_from_slice(v);
            zm.extend(std::iter::repeat_n(0xAA, usize::from(free)));
        }
        zm.push(END);
        zm
    }

    /// From tests/assets/hash-zipmap.rdb: hash {f1: v1, f2: v2}.
    const REDIS_ZIPMAP: &[u8] = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";

    #[test]
    fn redis_fixture() {
        assert!(validate(REDIS_ZIPMAP, true));
        assert_eq!(len(REDIS_ZIPMAP), 2);
        let pairs: Vec<_> = iter(REDIS_ZIPMAP).collect();
        assert_eq!(pairs, [(&b"f1"[..], &b"v1"[..]), (&b"f2"[..], &b"v2"[..])]);
        assert_eq!(build(&pairs, 0), REDIS_ZIPMAP);
        let lp = to_listpack(REDIS_ZIPMAP).unwrap();
        assert_eq!(lp, Listpack::from_iter(["f1", "v1", "f2", "v2"]));
    }

    #[test]
    fn long_lengths_free_space_and_ints() {
        let big = vec![b'k'; 300];
        let huge = vec![b'v'; 70000];
        let pairs: Vec<(&[u8], &[u8])> =
            vec![(&big, b"1"), (b"x", &huge), (b"n", b"-42"), (b"", b"")];
        for free in [0u8, 3] {
            let zm = build(&pairs, free);
            assert!(validate(&zm, true));
            assert_eq!(iter(&zm).collect::<Vec<_>>(), pairs);
            let lp = to_listpack(&zm).unwrap();
            assert_eq!(lp.get_index(1), Some(LpValue::Int(1)));
            assert_eq!(lp.get_index(5), Some(LpValue::Int(-42)));
            assert_eq!(lp.len(), 8);
        }
        // Count byte 254 means unknown.
        let mut zm = build(&pairs, 0);
        zm[0] = BIGLEN;
        assert!(validate(&zm, true));
        assert_eq!(len(&zm), 4);
        zm[0] = 3;
        assert!(validate(&zm, false) && !validate(&zm, true));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(!validate(b"\x00\xff", true)); // empty map
        assert!(validate(b"\x00\xff", false));
        assert!(!validate(b"\xff", false));
        // Non-minimal 5-byte length for a short field.
        let zm = b"\x01\xfe\x01\x00\x00\x00a\x01\x00b\xff";
        assert!(!validate(zm, true));
        // Duplicate field names.
        let dup = build(&[(b"a", b"1"), (b"a", b"2")], 0);
        assert!(validate(&dup, true));
        assert!(to_listpack(&dup).is_none());
        let good = build(&[(b"abc", b"def"), (b"g", b"hij")], 2);
        for n in 0..good.len() {
            let mut t = good[..n].to_vec();
            t.push(END);
            if n + 1 < good.len() {
                assert!(!validate(&t, true), "prefix {n}");
            }
        }
        let mut state = 77u64;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = [
            REDIS_ZIPMAP.to_vec(),
            good,
            build(&[(&[b'q'; 260], b"v"), (b"k", b"")], 1),
        ];
        for round in 0..30000 {
            let mut b = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng() % 3 {
                let i = (rng() as usize) % b.len();
                b[i] = match rng() % 2 {
                    0 => rng() as u8,
                    _ => [0x00, 0x01, 0xFD, 0xFE, 0xFF][(rng() % 5) as usize],
                };
            }
            if rng() % 4 == 0 {
                b.truncate((rng() as usize) % (b.len() + 1));
            }
            let _ = len(&b);
            let n = iter(&b).count();
            if validate(&b, true) {
                assert!(n > 0);
                if b[0] < BIGLEN {
                    assert_eq!(n, usize::from(b[0]));
                }
                let _ = to_listpack(&b);
            }
        }
    }
}
