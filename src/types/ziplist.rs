//! Read-only support for Redis's legacy ziplist encoding.
//!
//! Redis 7.0 no longer creates ziplists but still loads them from older RDB
//! files (`RDB_TYPE_LIST_ZIPLIST`, `RDB_TYPE_HASH_ZIPLIST`,
//! `RDB_TYPE_ZSET_ZIPLIST` and the nodes of `RDB_TYPE_LIST_QUICKLIST`) and
//! converts them to listpacks. This module validates such blobs exactly like
//! `ziplistValidateIntegrity`, iterates their entries as [`LpValue`]s and
//! converts them to [`Listpack`]s.
//!
//! Layout: `u32` LE total bytes, `u32` LE offset of the last entry, `u16` LE
//! entry count (`65535` = unknown), entries, `0xFF`. Each entry is
//! `<prevlen><encoding><data>`: `prevlen` is one byte (< 254) or `0xFE`
//! followed by a `u32` LE; string encodings carry 6-bit, 14-bit (big endian)
//! or 32-bit (big endian) lengths; integer encodings are 8/16/24/32/64-bit
//! little-endian or a 4-bit immediate 0..=12.
//!
//! Nothing here panics on malformed input: validation reports it and the
//! iterator simply stops at the first malformed entry.

use std::collections::HashSet;

use super::listpack::{Listpack, LpValue};

/// Size of the ziplist header (bytes, tail offset, count).
pub const HEADER_SIZE: usize = 10;
/// The terminator byte of a ziplist.
pub const END: u8 = 0xFF;
/// Header count meaning "unknown, count by walking".
pub const COUNT_UNKNOWN: u16 = u16::MAX;

/// A decoded entry header.
struct RawEntry {
    /// Length of the previous entry as recorded in this entry.
    prevlen: usize,
    /// `prevlen` field size + encoding/length field size.
    header: usize,
    /// Size of the data following the header.
    len: usize,
    /// The encoding byte (string encodings masked to their top two bits).
    encoding: u8,
}

impl RawEntry {
    fn size(&self) -> usize {
        self.header + self.len
    }
}

/// Decodes the entry at `p` like `zipEntrySafe` (with prevlen validation),
/// checking that the whole entry lies within `[HEADER_SIZE, len - 1]` (i.e.
/// it may end right at the terminator) and that the recorded previous-entry
/// length does not point before the first entry.
fn entry_safe(zl: &[u8], p: usize) -> Option<RawEntry> {
    let last = zl.len().checked_sub(1)?;
    let in_range = |x: usize| (HEADER_SIZE..=last).contains(&x);
    if !in_range(p) {
        return None;
    }
    let prevlen_size = if zl[p] < 254 { 1 } else { 5 };
    if !in_range(p + prevlen_size) {
        return None;
    }
    let raw = zl[p + prevlen_size];
    let encoding = if raw < 0xC0 { raw & 0xC0 } else { raw };
    let lensize = match encoding {
        0x00 => 1,
        0x40 => 2,
        0x80 => 5,
        0xC0 | 0xD0 | 0xE0 | 0xF0 | 0xFE | 0xF1..=0xFD => 1,
        _ => return None,
    };
    let enc_at = p + prevlen_size;
    if !in_range(enc_at + lensize) {
        return None;
    }
    let prevlen = if prevlen_size == 1 {
        usize::from(zl[p])
    } else {
        u32::from_le_bytes([zl[p + 1], zl[p + 2], zl[p + 3], zl[p + 4]]) as usize
    };
    let len = match encoding {
        0x00 => usize::from(raw & 0x3F),
        0x40 => (usize::from(raw & 0x3F) << 8) | usize::from(zl[enc_at + 1]),
        0x80 => u32::from_be_bytes([
            zl[enc_at + 1],
            zl[enc_at + 2],
            zl[enc_at + 3],
            zl[enc_at + 4],
        ]) as usize,
        0xFE => 1,
        0xC0 => 2,
        0xF0 => 3,
        0xD0 => 4,
        0xE0 => 8,
        _ => 0, // 4-bit immediate
    };
    let entry = RawEntry {
        prevlen,
        header: prevlen_size + lensize,
        len,
        encoding,
    };
    let end = p.checked_add(entry.size())?;
    if !in_range(end) || p - HEADER_SIZE < prevlen {
        return None;
    }
    Some(entry)
}

/// The value of an entry previously checked by [`entry_safe`].
fn value<'a>(zl: &'a [u8], p: usize, e: &RawEntry) -> LpValue<'a> {
    let data = &zl[p + e.header..p + e.size()];
    let int = |n: usize| {
        let mut x = [0u8; 8];
        x[..n].copy_from_slice(&data[..n]);
        let shift = 64 - 8 * n as u32;
        (i64::from_le_bytes(x) << shift) >> shift
    };
    match e.encoding {
        0x00 | 0x40 | 0x80 => LpValue::Str(data),
        0xFE => LpValue::Int(int(1)),
        0xC0 => LpValue::Int(int(2)),
        0xF0 => LpValue::Int(int(3)),
        0xD0 => LpValue::Int(int(4)),
        0xE0 => LpValue::Int(int(8)),
        imm => LpValue::Int(i64::from(imm & 0x0F) - 1),
    }
}

fn read_u32(zl: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([zl[at], zl[at + 1], zl[at + 2], zl[at + 3]])
}

/// Checks `zl` like Redis's `ziplistValidateIntegrity`.
///
/// Shallow: the size covers the header and terminator, matches the header's
/// byte count, ends with `0xFF`, and the tail offset is in range. Deep also
/// walks every entry (valid encodings, in bounds, each `prevlen` equal to the
/// previous entry's size), checks that the walk ends at the terminator, that
/// the tail offset points at the last entry and that the count matches
/// (unless unknown). Never panics.
pub fn validate(zl: &[u8], deep: bool) -> bool {
    validate_impl(zl, deep, &mut |_| true)
}

/// Deep validation calling `f` on every entry after it has been checked;
/// `false` from `f` fails the validation.
pub fn validate_with<'a, F>(zl: &'a [u8], mut f: F) -> bool
where
    F: FnMut(LpValue<'a>) -> bool,
{
    validate_impl(zl, true, &mut f)
}

fn validate_impl<'a>(zl: &'a [u8], deep: bool, f: &mut dyn FnMut(LpValue<'a>) -> bool) -> bool {
    let size = zl.len();
    if size < HEADER_SIZE + 1
        || read_u32(zl, 0) as usize != size
        || zl[size - 1] != END
        || read_u32(zl, 4) as usize > size - 1
    {
        return false;
    }
    if !deep {
        return true;
    }
    let header_count = u16::from_le_bytes([zl[8], zl[9]]);
    let (mut p, mut prev, mut prev_size, mut count) = (HEADER_SIZE, None, 0, 0u64);
    while zl[p] != END {
        let Some(e) = entry_safe(zl, p) else {
            return false;
        };
        if e.prevlen != prev_size || !f(value(zl, p, &e)) {
            return false;
        }
        prev_size = e.size();
        prev = Some(p);
        p += e.size();
        count += 1;
    }
    p == size - 1
        && prev.is_none_or(|last| last == read_u32(zl, 4) as usize)
        && (header_count == COUNT_UNKNOWN || u64::from(header_count) == count)
}

/// Iterates the entries of a ziplist front to back. Intended for validated
/// blobs; on malformed input it stops early instead of panicking.
pub fn iter(zl: &[u8]) -> Iter<'_> {
    Iter { zl, p: HEADER_SIZE }
}

/// Number of entries: the header count, or a walk when it is unknown.
pub fn len(zl: &[u8]) -> usize {
    match zl.get(8..10) {
        Some(&[a, b]) if u16::from_le_bytes([a, b]) != COUNT_UNKNOWN => {
            usize::from(u16::from_le_bytes([a, b]))
        }
        Some(_) => iter(zl).count(),
        None => 0,
    }
}

/// Validates (deep) and converts a ziplist to a listpack holding the same
/// elements, byte-identical to Redis's conversion. `None` if invalid.
pub fn to_listpack(zl: &[u8]) -> Option<Listpack> {
    let mut lp = Listpack::new();
    validate_with(zl, |v| {
        lp.append(v);
        true
    })
    .then_some(lp)
}

/// Like [`to_listpack`] for hash and sorted-set ziplists (Redis's
/// `ziplistPairsConvertAndValidateIntegrity`): additionally requires an even
/// number of entries and no duplicate field (even-indexed) entries.
pub fn pairs_to_listpack(zl: &[u8]) -> Option<Listpack> {
    let mut lp = Listpack::new();
    let mut fields = HashSet::new();
    let mut count = 0usize;
    let ok = validate_with(zl, |v| {
        if count.is_multiple_of(2) && !fields.insert(v) {
            return false;
        }
        count += 1;
        lp.append(v);
        true
    });
    (ok && count.is_multiple_of(2)).then_some(lp)
}

/// Iterator over the entries of a ziplist.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    zl: &'a [u8],
    p: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        if *self.zl.get(self.p)? == END {
            return None;
        }
        match entry_safe(self.zl, self.p) {
            Some(e) => {
                let v = value(self.zl, self.p, &e);
                self.p += e.size();
                Some(v)
            }
            None => {
                self.p = usize::MAX;
                None
            }
        }
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Builds a ziplist the way Redis's `ziplistPush` would (no cascade
    /// quirks), to test decoding of every encoding.
    fn build(values: &[LpValue<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = HEADER_SIZE;
        for v in values {
            let start = body.len();
            tail = HEADER_SIZE + start;
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match v.as_i64().filter(|_| v.str_len() < 32) {
                Some(i @ 0..=12) => body.push(0xF1 + i as u8),
                Some(i) if i8::try_from(i).is_ok() => {
                    body.push(0xFE);
                    body.push(i as u8);
                }
                Some(i) if i16::try_from(i).is_ok() => {
                    body.push(0xC0);
                    body.extend_from_slice(&(i as i16).to_le_bytes());
                }
                Some(i) if (-(1 << 23)..(1 << 23)).contains(&i) => {
                    body.push(0xF0);
                    body.extend_from_slice(&i.to_le_bytes()[..3]);
                }
                Some(i) if i32::try_from(i).is_ok() => {
                    body.push(0xD0);
                    body.extend_from_slice(&(i as i32).to_le_bytes());
                }
                Some(i) => {
                    body.push(0xE0);
                    body.extend_from_slice(&i.to_le_bytes());
                }
                None => {
                    let s = v.to_vec();
                    let n = s.len();
                    if n <= 0x3F {
                        body.push(n as u8);
                    } else if n <= 0x3FFF {
                        body.push(0x40 | (n >> 8) as u8);
                        body.push(n as u8);
                    } else {
                        body.push(0x80);
                        body.extend_from_slice(&(n as u32).to_be_bytes());
                    }
                    body.extend_from_slice(&s);
                }
            }
            prev = body.len() - start;
        }
        let total = HEADER_SIZE + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(
            &u16::try_from(values.len())
                .unwrap_or(COUNT_UNKNOWN)
                .to_le_bytes(),
        );
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    /// From tests/assets/hash-ziplist.rdb: hash {f1: v1, f2: v2}.
    const HASH_ZL: &str = concat!(
        "1b000000", "16000000", "0400", "00026631", "04027631", "04026632", "04027632", "ff"
    );
    /// From tests/assets/zset-ziplist.rdb: zset {one: 1, two: 2}.
    const ZSET_ZL: &str = concat!(
        "19000000",
        "16000000",
        "0400",
        "00036f6e65",
        "05f2",
        "020374776f",
        "05f3",
        "ff"
    );
    /// From tests/assets/list-quicklist.rdb: quicklist node holding [7].
    const LIST_ZL: &str = concat!("0d000000", "0a000000", "0100", "00f8", "ff");

    #[test]
    fn redis_fixtures() {
        let h = hex(HASH_ZL);
        assert!(validate(&h, true));
        let vals: Vec<Vec<u8>> = iter(&h).map(|v| v.to_vec()).collect();
        assert_eq!(vals, [b"f1", b"v1", b"f2", b"v2"]);
        assert_eq!(len(&h), 4);
        let lp = pairs_to_listpack(&h).unwrap();
        let want: Listpack = ["f1", "v1", "f2", "v2"].into_iter().collect();
        assert_eq!(lp, want);

        let z = hex(ZSET_ZL);
        assert!(validate(&z, true));
        let vals: Vec<LpValue> = iter(&z).collect();
        assert_eq!(
            vals,
            [
                LpValue::Str(b"one"),
                LpValue::Int(1),
                LpValue::Str(b"two"),
                LpValue::Int(2)
            ]
        );
        assert_eq!(
            pairs_to_listpack(&z).unwrap(),
            Listpack::from_iter(["one", "1", "two", "2"])
        );

        let l = hex(LIST_ZL);
        assert!(validate(&l, true));
        assert_eq!(iter(&l).collect::<Vec<_>>(), [LpValue::Int(7)]);
        assert_eq!(to_listpack(&l).unwrap(), Listpack::from_iter([7i64]));
        assert_eq!(build(&[LpValue::Int(7)]), l);
        assert_eq!(
            build(&[
                LpValue::Str(b"f1"),
                LpValue::Str(b"v1"),
                LpValue::Str(b"f2"),
                LpValue::Str(b"v2")
            ]),
            h
        );
    }

    #[test]
    fn every_encoding_round_trips() {
        let long = vec![b'x'; 300];
        let longer = vec![b'y'; 20000];
        let ints = [
            0i64,
            12,
            13,
            -1,
            127,
            -128,
            128,
            -129,
            32767,
            -32768,
            32768,
            8388607,
            -8388608,
            8388608,
            -8388609,
            i32::MAX as i64,
            i32::MIN as i64,
            1 << 40,
            i64::MIN,
            i64::MAX,
        ];
        let mut values: Vec<LpValue> = ints.iter().map(|&i| LpValue::Int(i)).collect();
        values.extend([
            LpValue::Str(b""),
            LpValue::Str(&long[..63]),
            LpValue::Str(&long[..64]),
            LpValue::Str(&long),
            LpValue::Str(&longer),
            LpValue::Str(b"tail"),
        ]);
        let zl = build(&values);
        assert!(validate(&zl, true));
        assert_eq!(iter(&zl).collect::<Vec<_>>(), values);
        assert_eq!(len(&zl), values.len());
        let lp = to_listpack(&zl).unwrap();
        assert_eq!(lp, values.iter().copied().collect::<Listpack>());
        let mut seen = 0;
        assert!(validate_with(&zl, |_| {
            seen += 1;
            true
        }));
        assert_eq!(seen, values.len());
        assert!(!validate_with(&zl, |v| v != LpValue::Str(b"tail")));
        // Empty ziplist.
        let empty = build(&[]);
        assert!(validate(&empty, true));
        assert_eq!(iter(&empty).count(), 0);
        assert_eq!(to_listpack(&empty).unwrap(), Listpack::new());
    }

    #[test]
    fn unknown_count_and_bad_headers() {
        let mut zl = build(&[LpValue::Int(1), LpValue::Str(b"a")]);
        zl[8] = 0xFF;
        zl[9] = 0xFF;
        assert!(validate(&zl, true));
        assert_eq!(len(&zl), 2);
        zl[8] = 3;
        zl[9] = 0;
        assert!(validate(&zl, false) && !validate(&zl, true));
        let mut zl = build(&[LpValue::Int(1), LpValue::Str(b"a")]);
        zl[4] = HEADER_SIZE as u8; // tail points at the first entry
        assert!(validate(&zl, false) && !validate(&zl, true));
        zl[4] = 200; // tail out of range
        assert!(!validate(&zl, false));
        let zl = build(&[
            LpValue::Str(b"f"),
            LpValue::Int(1),
            LpValue::Str(b"f"),
            LpValue::Int(2),
        ]);
        assert!(to_listpack(&zl).is_some());
        assert!(pairs_to_listpack(&zl).is_none());
        let zl = build(&[LpValue::Str(b"f"), LpValue::Int(1), LpValue::Str(b"g")]);
        assert!(pairs_to_listpack(&zl).is_none());
        // Wrong prevlen.
        let mut zl = build(&[LpValue::Int(1), LpValue::Int(2)]);
        zl[12] = 3;
        assert!(!validate(&zl, true));
    }

    #[test]
    fn fuzz_never_panics() {
        let long = vec![b'z'; 300];
        let seeds = [
            hex(HASH_ZL),
            hex(ZSET_ZL),
            build(&[
                LpValue::Int(5),
                LpValue::Int(-100000),
                LpValue::Int(1 << 50),
                LpValue::Str(&long),
                LpValue::Int(300),
                LpValue::Str(b"x"),
            ]),
        ];
        let mut state = 0x0123_4567_89AB_CDEF_u64;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for round in 0..30000 {
            let mut b = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng() % 3 {
                let i = (rng() as usize) % b.len();
                b[i] = match rng() % 3 {
                    0 => rng() as u8,
                    1 => b[i] ^ (1 << (rng() % 8)),
                    _ => [
                        0x00, 0x3F, 0x40, 0x80, 0xC0, 0xD0, 0xE0, 0xF0, 0xFD, 0xFE, 0xFF,
                    ][(rng() % 11) as usize],
                };
            }
            if rng() % 4 == 0 {
                b.truncate((rng() as usize) % (b.len() + 1));
            }
            if rng() % 2 == 0 && b.len() >= 11 {
                let n = b.len() as u32;
                b[0..4].copy_from_slice(&n.to_le_bytes());
            }
            let _ = len(&b);
            let _ = iter(&b).count();
            let _ = pairs_to_listpack(&b);
            if validate(&b, true) {
                accepted += 1;
                assert!(validate(&b, false));
                let lp = to_listpack(&b).unwrap();
                assert_eq!(lp.len(), iter(&b).count());
                assert_eq!(len(&b), lp.len());
            }
        }
        assert!(accepted > 100, "{accepted}");
    }
}
