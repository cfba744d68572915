//! Redis's listpack encoding, byte for byte.
//!
//! A listpack is one contiguous buffer: a 6-byte header (total byte count as
//! `u32` LE, element count as `u16` LE where `65535` means "unknown, count by
//! walking"), a sequence of entries, and a `0xFF` terminator. Each entry is an
//! encoding byte (plus length bytes for strings), the payload, and a
//! "backlen": the size of encoding+payload written as a variable-length
//! big-endian-ish base-128 number that can be decoded right to left, which is
//! what makes backward traversal possible.
//!
//! Strings that strictly look like integers (see [`string_to_i64_strict`]) are
//! stored with the smallest integer encoding, exactly as Redis 7.0 does, so the
//! blobs produced here are identical to Redis's and can be stored verbatim in
//! RDB files and `DUMP` payloads. Blobs from outside (RDB, `RESTORE`) must be
//! checked with [`Listpack::validate`] before being wrapped with
//! [`Listpack::from_bytes`]; with `deep` validation every later operation is
//! guaranteed to stay in bounds. Operations on a corrupt (unvalidated) listpack
//! may panic, mirroring Redis's integrity assertions, but never read out of
//! bounds.
//!
//! Entry positions are [`LpPos`] byte offsets. Any mutation invalidates the
//! positions after the mutated spot unless a method documents otherwise.

use std::alloc::{self, Layout};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ptr::{self, NonNull};

/// Size of the listpack header: `u32` total bytes + `u16` element count.
pub const HEADER_SIZE: usize = 6;
/// The terminator byte that ends every listpack.
pub const EOF: u8 = 0xFF;
/// Header element count meaning "unknown, count by walking the entries".
pub const COUNT_UNKNOWN: u16 = u16::MAX;
/// Redis refuses to grow a listpack beyond this many bytes (1 GiB).
pub const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;
/// Buffer size large enough for the decimal form of any `i64`.
pub const INT_BUF_SIZE: usize = 20;

/// Parses `s` as an `i64` with the strict rules of Redis's `lpStringToInt64`.
///
/// Accepted: an optional `-` followed by decimal digits with no leading zero
/// (the lone string `"0"` is allowed), fitting in `i64`, at most 20 bytes.
/// Rejected: empty strings, `"-"`, `"-0"`, leading/trailing spaces, `+`,
/// leading zeros, overflow. Exactly the strings that round-trip through
/// integer formatting are accepted, so a listpack may store them as integers
/// without losing their textual form.
///
/// `util.c`'s `string2ll` applies the very same rules (same 21-byte length
/// limit, same overflow checks); there is no behavioural difference, so this
/// function can serve both purposes.
pub fn string_to_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > INT_BUF_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// Writes the decimal form of `v` into `buf` and returns the written tail.
fn format_i64(v: i64, buf: &mut [u8; INT_BUF_SIZE]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = INT_BUF_SIZE;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// One listpack (or ziplist) element: an integer or a byte string.
///
/// Equality, ordering and hashing follow the element's *string form*, the way
/// Redis compares elements: `Int(12) == Str(b"12")`, and ordering is the
/// byte-wise (`memcmp`) order of the decimal/string representations.
#[derive(Clone, Copy)]
pub enum LpValue<'a> {
    /// An integer-encoded element.
    Int(i64),
    /// A string-encoded element, borrowed from the containing buffer.
    Str(&'a [u8]),
}

impl<'a> LpValue<'a> {
    /// Returns the byte form of the element, formatting integers into `buf`
    /// (like `lpGet` with an `intbuf`). Never allocates.
    pub fn as_bytes<'b>(&self, buf: &'b mut [u8; INT_BUF_SIZE]) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            LpValue::Int(v) => format_i64(v, buf),
            LpValue::Str(s) => s,
        }
    }

    /// The integer value: integers as-is, strings only if they strictly parse
    /// (see [`string_to_i64_strict`]).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            LpValue::Int(v) => Some(v),
            LpValue::Str(s) => string_to_i64_strict(s),
        }
    }

    /// The element as an owned byte vector (integers formatted in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    /// Appends the element's byte form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; INT_BUF_SIZE];
        out.extend_from_slice(self.as_bytes(&mut buf));
    }

    /// Length in bytes of the element's string form.
    pub fn str_len(&self) -> usize {
        let mut buf = [0u8; INT_BUF_SIZE];
        self.as_bytes(&mut buf).len()
    }

    /// Whether the element equals the string `s` (Redis `lpCompare`
    /// semantics: integers match only the strict decimal form).
    pub fn eq_bytes(&self, s: &[u8]) -> bool {
        match *self {
            LpValue::Str(v) => v == s,
            LpValue::Int(v) => string_to_i64_strict(s) == Some(v),
        }
    }

    /// Byte-wise (`memcmp`, then length) comparison of the element's string
    /// form with `s`, without allocating.
    pub fn cmp_bytes(&self, s: &[u8]) -> Ordering {
        let mut buf = [0u8; INT_BUF_SIZE];
        self.as_bytes(&mut buf).cmp(s)
    }
}

impl PartialEq for LpValue<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (*self, *other) {
            (LpValue::Int(a), LpValue::Int(b)) => a == b,
            (LpValue::Str(a), LpValue::Str(b)) => a == b,
            (LpValue::Int(a), LpValue::Str(b)) | (LpValue::Str(b), LpValue::Int(a)) => {
                string_to_i64_strict(b) == Some(a)
            }
        }
    }
}

impl Eq for LpValue<'_> {}

impl Hash for LpValue<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut buf = [0u8; INT_BUF_SIZE];
        self.as_bytes(&mut buf).hash(state);
    }
}

impl Ord for LpValue<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut buf = [0u8; INT_BUF_SIZE];
        other.cmp_bytes(self.as_bytes(&mut buf)).reverse()
    }
}

impl PartialOrd for LpValue<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for LpValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LpValue::Int(v) => write!(f, "{v}"),
            LpValue::Str(s) => write!(f, "\"{}\"", s.escape_ascii()),
        }
    }
}

impl fmt::Display for LpValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LpValue::Int(v) => write!(f, "{v}"),
            LpValue::Str(s) => f.write_str(&String::from_utf8_lossy(s)),
        }
    }
}

impl From<i64> for LpValue<'_> {
    fn from(v: i64) -> Self {
        LpValue::Int(v)
    }
}

impl<'a> From<&'a [u8]> for LpValue<'a> {
    fn from(s: &'a [u8]) -> Self {
        LpValue::Str(s)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for LpValue<'a> {
    fn from(s: &'a [u8; N]) -> Self {
        LpValue::Str(s)
    }
}

impl<'a> From<&'a Vec<u8>> for LpValue<'a> {
    fn from(s: &'a Vec<u8>) -> Self {
        LpValue::Str(s)
    }
}

impl<'a> From<&'a str> for LpValue<'a> {
    fn from(s: &'a str) -> Self {
        LpValue::Str(s.as_bytes())
    }
}

// ---------------------------------------------------------------------------
// Entry encoding
// ---------------------------------------------------------------------------

/// Number of bytes the backlen of an entry of `l` bytes occupies.
/// (The `< 16383` etc. boundaries are Redis's, off-by-one included.)
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Writes the backlen of `l` into `out`, returning the number of bytes used.
/// The first byte holds the most significant 7 bits; every byte but the first
/// has its high bit set, so the field can be decoded from its last byte.
fn encode_backlen(l: usize, out: &mut [u8; 5]) -> usize {
    let n = backlen_size(l);
    for (i, b) in out[..n].iter_mut().enumerate() {
        let bits = ((l >> (7 * (n - 1 - i))) & 127) as u8;
        *b = if i == 0 { bits } else { bits | 128 };
    }
    n
}

/// Decodes a backlen whose last byte is at `last`, reading right to left.
/// `None` if it runs off the buffer start or uses more than 5 bytes.
fn decode_backlen(buf: &[u8], last: usize) -> Option<usize> {
    let mut val: u64 = 0;
    let mut shift = 0;
    let mut i = last;
    loop {
        let b = *buf.get(i)?;
        val |= u64::from(b & 127) << shift;
        if b & 128 == 0 {
            return usize::try_from(val).ok();
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
        i = i.checked_sub(1)?;
    }
}

/// Writes the smallest integer encoding of `v` into `head`; returns its length.
fn encode_int(v: i64, head: &mut [u8; 9]) -> usize {
    let le = v.to_le_bytes();
    match v {
        0..=127 => {
            head[0] = v as u8;
            1
        }
        -4096..=4095 => {
            let u = (v as u64) & 0x1FFF;
            head[0] = 0xC0 | (u >> 8) as u8;
            head[1] = u as u8;
            2
        }
        -32768..=32767 => {
            head[0] = 0xF1;
            head[1..3].copy_from_slice(&le[..2]);
            3
        }
        -8388608..=8388607 => {
            head[0] = 0xF2;
            head[1..4].copy_from_slice(&le[..3]);
            4
        }
        -2147483648..=2147483647 => {
            head[0] = 0xF3;
            head[1..5].copy_from_slice(&le[..4]);
            5
        }
        _ => {
            head[0] = 0xF4;
            head[1..9].copy_from_slice(&le);
            9
        }
    }
}

/// A fully encoded entry, ready to be copied into a listpack.
struct Encoded<'v> {
    head: [u8; 9],
    head_len: usize,
    payload: &'v [u8],
    back: [u8; 5],
    back_len: usize,
}

impl<'v> Encoded<'v> {
    fn new(value: LpValue<'v>) -> Self {
        let mut head = [0u8; 9];
        let int = match value {
            LpValue::Int(v) => Some(v),
            LpValue::Str(s) => string_to_i64_strict(s),
        };
        let (head_len, payload) = match (int, value) {
            (Some(v), _) => (encode_int(v, &mut head), &[][..]),
            (None, LpValue::Str(s)) => {
                let n = s.len();
                let head_len = if n < 64 {
                    head[0] = 0x80 | n as u8;
                    1
                } else if n < 4096 {
                    head[0] = 0xE0 | (n >> 8) as u8;
                    head[1] = n as u8;
                    2
                } else {
                    let n = u32::try_from(n).expect("listpack string longer than 4 GiB");
                    head[0] = 0xF0;
                    head[1..5].copy_from_slice(&n.to_le_bytes());
                    5
                };
                (head_len, s)
            }
            (None, LpValue::Int(_)) => unreachable!("integers always have an encoding"),
        };
        let mut back = [0u8; 5];
        let back_len = encode_backlen(head_len + payload.len(), &mut back);
        Encoded {
            head,
            head_len,
            payload,
            back,
            back_len,
        }
    }

    fn len(&self) -> usize {
        self.head_len + self.payload.len() + self.back_len
    }

    fn write(&self, dst: &mut [u8]) {
        let (h, rest) = dst.split_at_mut(self.head_len);
        h.copy_from_slice(&self.head[..self.head_len]);
        let (p, b) = rest.split_at_mut(self.payload.len());
        p.copy_from_slice(self.payload);
        b.copy_from_slice(&self.back[..self.back_len]);
    }
}

// ---------------------------------------------------------------------------
// Entry decoding
// ---------------------------------------------------------------------------

/// Bytes taken by the encoding byte plus string-length bytes of the entry
/// starting with `b` (`lpCurrentEncodedSizeBytes`); `None` for invalid bytes
/// and for the terminator.
fn header_bytes(b: u8) -> Option<usize> {
    match b {
        0xE0..=0xEF => Some(2),
        0xF0 => Some(5),
        0x00..=0xDF | 0xF1..=0xF4 => Some(1),
        _ => None,
    }
}

/// Encoding + payload size of the entry at `off` (no backlen). `None` if the
/// encoding is invalid or its length bytes are not in `buf`.
fn encoded_size(buf: &[u8], off: usize) -> Option<usize> {
    let b = *buf.get(off)?;
    Some(match b {
        0x00..=0x7F => 1,
        0x80..=0xBF => 1 + usize::from(b & 0x3F),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 2 + ((usize::from(b & 0x0F) << 8) | usize::from(*buf.get(off + 1)?)),
        0xF0 => {
            let n = u32::from_le_bytes(buf.get(off + 1..off + 5)?.try_into().ok()?);
            5usize.checked_add(usize::try_from(n).ok()?)?
        }
        0xF1 => 3,
        0xF2 => 4,
        0xF3 => 5,
        0xF4 => 9,
        _ => return None,
    })
}

/// Total size (encoding + payload + backlen) of the entry at `off`.
/// Panics on a corrupt entry.
fn entry_size(buf: &[u8], off: usize) -> usize {
    let enc = encoded_size(buf, off).unwrap_or_else(|| corrupt(off));
    enc + backlen_size(enc)
}

#[cold]
#[track_caller]
fn corrupt(off: usize) -> ! {
    panic!("corrupt listpack entry at offset {off}")
}

fn sign_extend(u: u64, bits: u32) -> i64 {
    ((u << (64 - bits)) as i64) >> (64 - bits)
}

/// Decodes the entry at `off`, returning its value and total size.
/// Panics (never reads out of bounds) on a corrupt entry.
fn decode(buf: &[u8], off: usize) -> (LpValue<'_>, usize) {
    let b = buf[off];
    let le = |n: usize| {
        let mut x = [0u8; 8];
        x[..n].copy_from_slice(&buf[off + 1..off + 1 + n]);
        u64::from_le_bytes(x)
    };
    let (value, enc) = match b {
        0x00..=0x7F => (LpValue::Int(i64::from(b)), 1),
        0x80..=0xBF => {
            let n = usize::from(b & 0x3F);
            (LpValue::Str(&buf[off + 1..off + 1 + n]), 1 + n)
        }
        0xC0..=0xDF => {
            let u = (u64::from(b & 0x1F) << 8) | u64::from(buf[off + 1]);
            (LpValue::Int(sign_extend(u, 13)), 2)
        }
        0xE0..=0xEF => {
            let n = (usize::from(b & 0x0F) << 8) | usize::from(buf[off + 1]);
            (LpValue::Str(&buf[off + 2..off + 2 + n]), 2 + n)
        }
        0xF0 => {
            let n = le(4) as usize;
            (LpValue::Str(&buf[off + 5..off + 5 + n]), 5 + n)
        }
        0xF1 => (LpValue::Int(sign_extend(le(2), 16)), 3),
        0xF2 => (LpValue::Int(sign_extend(le(3), 24)), 4),
        0xF3 => (LpValue::Int(sign_extend(le(4), 32)), 5),
        0xF4 => (LpValue::Int(le(8) as i64), 9),
        _ => corrupt(off),
    };
    (value, enc + backlen_size(enc))
}

/// Validates the entry at `p` (which must be in bounds and not the
/// terminator) the way `lpValidateNext` does; returns the next offset.
fn validate_entry(buf: &[u8], p: usize) -> Option<usize> {
    let last = buf.len() - 1;
    let lenbytes = header_bytes(buf[p])?;
    if p + lenbytes > last {
        return None;
    }
    let enc = encoded_size(buf, p)?;
    let next = p.checked_add(enc)?.checked_add(backlen_size(enc))?;
    if next > last {
        return None;
    }
    (decode_backlen(buf, next - 1)? == enc).then_some(next)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

// ---------------------------------------------------------------------------
// Listpack
// ---------------------------------------------------------------------------

/// Position of an entry inside a [`Listpack`]: a byte offset.
///
/// Positions are only meaningful for the listpack they came from and are
/// invalidated by mutations (see each method for what stays valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LpPos(usize);

impl LpPos {
    /// Byte offset of the entry from the start of the listpack.
    pub fn offset(self) -> usize {
        self.0
    }
}

/// The bytes of a listpack in one heap allocation exactly as long as the listpack: one
/// pointer, with the length kept where Redis keeps it, in the header's total-bytes field.
/// Every size change reallocates to the new exact length, as Redis's `lpInsert` does; the
/// allocator resizes in place within a size class, so a small listpack takes the size class
/// of its bytes and nothing for spare capacity or a separate length. The allocation is
/// 2-aligned, which leaves the pointer's low bit free for a tag (see `types::thin`).
#[repr(transparent)]
struct LpBuf(NonNull<u8>);

// SAFETY: an `LpBuf` uniquely owns its allocation, like a `Box<[u8]>`.
unsafe impl Send for LpBuf {}
// SAFETY: shared access only reads, as for `Box<[u8]>`.
unsafe impl Sync for LpBuf {}

/// The layout of an `LpBuf` of `len` bytes.
fn lp_layout(len: usize) -> Layout {
    Layout::from_size_align(len, 2).expect("listpack layout")
}

impl LpBuf {
    /// Copies `bytes`, a listpack whose header total equals its length (at least 7).
    fn from_slice(bytes: &[u8]) -> LpBuf {
        assert!(
            bytes.len() > HEADER_SIZE && read_u32(bytes, 0) as usize == bytes.len(),
            "listpack buffer needs its own length in its header"
        );
        let layout = lp_layout(bytes.len());
        // SAFETY: the layout has a non-zero size; the allocation is written in full.
        unsafe {
            let p = alloc::alloc(layout);
            let Some(p) = NonNull::new(p) else {
                alloc::handle_alloc_error(layout)
            };
            ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr(), bytes.len());
            LpBuf(p)
        }
    }

    /// Gives the bytes back as a vector.
    fn into_vec(self) -> Vec<u8> {
        self.to_vec()
    }

    fn len(&self) -> usize {
        let mut total = [0u8; 4];
        // SAFETY: the allocation is always longer than the header.
        unsafe { ptr::copy_nonoverlapping(self.0.as_ptr(), total.as_mut_ptr(), 4) };
        u32::from_le_bytes(total) as usize
    }

    /// Grows (with zero bytes) or shrinks to `new_len` bytes and records the new length.
    fn resize(&mut self, new_len: usize) {
        assert!(new_len > HEADER_SIZE, "a listpack is at least 7 bytes");
        let total = u32::try_from(new_len).expect("listpack larger than 4 GiB");
        let old = self.len();
        if new_len != old {
            // SAFETY: `self.0` was allocated by the global allocator with
            // `lp_layout(old)` (the length is always the allocation's), and `new_len` is
            // non-zero.
            let p = unsafe { alloc::realloc(self.0.as_ptr(), lp_layout(old), new_len) };
            let Some(p) = NonNull::new(p) else {
                alloc::handle_alloc_error(lp_layout(new_len));
            };
            self.0 = p;
            if new_len > old {
                // SAFETY: bytes old..new_len are inside the new allocation.
                unsafe { ptr::write_bytes(p.as_ptr().add(old), 0, new_len - old) };
            }
        }
        self[0..4].copy_from_slice(&total.to_le_bytes());
    }

    fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.resize(len);
        }
    }

    /// Removes the bytes in `range`, moving the rest down.
    fn drain(&mut self, range: std::ops::Range<usize>) {
        let len = self.len();
        self.copy_within(range.end..len, range.start);
        self.resize(len - range.len());
    }
}

impl std::ops::Deref for LpBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the allocation holds `len()` initialized bytes, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr(), self.len()) }
    }
}

impl std::ops::DerefMut for LpBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `deref`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr(), self.len()) }
    }
}

impl Drop for LpBuf {
    fn drop(&mut self) {
        // SAFETY: allocated by the global allocator with exactly this layout.
        unsafe { alloc::dealloc(self.0.as_ptr(), lp_layout(self.len())) };
    }
}

impl Clone for LpBuf {
    fn clone(&self) -> LpBuf {
        LpBuf::from_slice(self)
    }
}

impl PartialEq for LpBuf {
    fn eq(&self, other: &LpBuf) -> bool {
        **self == **other
    }
}

impl Eq for LpBuf {}

/// A listpack: a compact, byte-exact Redis list of strings and integers.
///
/// One pointer wide: the blob is the whole state. Like Redis, the element count lives in the
/// header; from 65535 entries on the header says "unknown" and [`len`] counts the entries
/// (Redis's `lpLength`), and an insertion keeps it unknown while a deletion recounts.
///
/// [`len`]: Listpack::len
#[derive(Clone, PartialEq, Eq)]
#[repr(transparent)]
pub struct Listpack {
    buf: LpBuf,
}

// SAFETY: `Listpack` is `repr(transparent)` over `LpBuf`, itself over the `NonNull<u8>` of
// a 2-aligned allocation (`lp_layout`), so its address is even and never null.
unsafe impl crate::types::thin::Thin for Listpack {}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Listpack {
    /// Creates an empty listpack (7 bytes: header and terminator).
    pub fn new() -> Self {
        Listpack {
            buf: LpBuf::from_slice(&[7, 0, 0, 0, 0, 0, EOF]),
        }
    }

    /// Wraps a listpack blob, e.g. one loaded from an RDB file.
    ///
    /// The blob is trusted: call [`Listpack::validate`] first for external
    /// input. If the header count is [`COUNT_UNKNOWN`] the entries are counted
    /// (stopping at the first malformed entry, never panicking) and the count is
    /// written back when it is below 65535.
    ///
    /// # Panics
    /// If the blob fails the shallow (header/terminator) validation.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        assert!(
            Self::validate(&bytes, false),
            "listpack blob fails header validation"
        );
        let mut lp = Listpack {
            buf: LpBuf::from_slice(&bytes),
        };
        // An "unknown" header on a listpack of fewer entries gets its count (as Redis's
        // lpLength does on first use): from here on "unknown" means 65535 or more.
        if read_u16(&lp.buf, 4) == COUNT_UNKNOWN {
            let n = lp.count_entries();
            lp.set_len(n);
        }
        lp
    }

    /// Counts the entries by walking them (stopping at the first malformed entry, never
    /// panicking): the length when the header count is [`COUNT_UNKNOWN`].
    fn count_entries(&self) -> usize {
        let bytes = &self.buf;
        let mut p = HEADER_SIZE;
        let mut n = 0;
        while bytes[p] != EOF {
            match validate_entry(bytes, p) {
                Some(next) => p = next,
                None => break,
            }
            n += 1;
        }
        n
    }

    /// Records the element count in the header.
    fn set_len(&mut self, n: usize) {
        let count = u16::try_from(n).unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
    }

    /// Adjusts the header count after `added` insertions and `removed` deletions.
    fn adjust_len(&mut self, added: usize, removed: usize) {
        let header = read_u16(&self.buf, 4);
        if header != COUNT_UNKNOWN {
            self.set_len(usize::from(header) + added - removed);
        } else if removed > 0 {
            let n = self.count_entries();
            self.set_len(n);
        }
    }

    /// Checks `bytes` like Redis's `lpValidateIntegrity`.
    ///
    /// Shallow: the size is at least 7, the header's byte count equals
    /// `bytes.len()` and the last byte is the terminator. Deep additionally
    /// walks every entry checking its encoding, bounds and backlen, that the
    /// walk ends exactly at the terminator and that the header count matches
    /// (unless it is [`COUNT_UNKNOWN`]). Never panics, whatever the input.
    pub fn validate(bytes: &[u8], deep: bool) -> bool {
        Self::validate_impl(bytes, deep, &mut |_| true)
    }

    /// Deep validation that also calls `f` on every entry, in order, after
    /// that entry has been checked; returning `false` from `f` fails the
    /// validation (e.g. to reject duplicate hash fields).
    pub fn validate_with<'a, F>(bytes: &'a [u8], mut f: F) -> bool
    where
        F: FnMut(LpValue<'a>) -> bool,
    {
        Self::validate_impl(bytes, true, &mut f)
    }

    /// Validation for hash / sorted-set listpacks (Redis's
    /// `lpPairsValidateIntegrityAndDups`): when `deep`, also requires an even
    /// number of entries and no duplicate field (even-indexed) entries.
    pub fn validate_pairs(bytes: &[u8], deep: bool) -> bool {
        if !deep {
            return Self::validate(bytes, false);
        }
        let mut seen = HashSet::new();
        let mut count = 0usize;
        let ok = Self::validate_with(bytes, |v| {
            let fresh = count % 2 == 1 || seen.insert(v);
            count += 1;
            fresh
        });
        ok && count.is_multiple_of(2)
    }

    fn validate_impl<'a>(
        bytes: &'a [u8],
        deep: bool,
        f: &mut dyn FnMut(LpValue<'a>) -> bool,
    ) -> bool {
        if bytes.len() < HEADER_SIZE + 1
            || usize::try_from(read_u32(bytes, 0)).ok() != Some(bytes.len())
            || bytes[bytes.len() - 1] != EOF
        {
            return false;
        }
        if !deep {
            return true;
        }
        let header = read_u16(bytes, 4);
        let mut p = HEADER_SIZE;
        let mut count: u64 = 0;
        while bytes[p] != EOF {
            let Some(next) = validate_entry(bytes, p) else {
                return false;
            };
            if !f(decode(bytes, p).0) {
                return false;
            }
            count += 1;
            p = next;
        }
        p == bytes.len() - 1 && (header == COUNT_UNKNOWN || u64::from(header) == count)
    }

    /// The raw blob, exactly as Redis stores it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Consumes the listpack, returning the raw blob.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf.into_vec()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match read_u16(&self.buf, 4) {
            COUNT_UNKNOWN => self.count_entries(),
            n => usize::from(n),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.buf[HEADER_SIZE] == EOF
    }

    /// Total size of the blob in bytes (the header's byte count).
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Whether `add` more bytes keep the listpack within
    /// [`LISTPACK_MAX_SAFETY_SIZE`] (Redis's `lpSafeToAdd`).
    pub fn safe_to_add(&self, add: usize) -> bool {
        self.buf
            .len()
            .checked_add(add)
            .is_some_and(|n| n <= LISTPACK_MAX_SAFETY_SIZE)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.buf.resize(HEADER_SIZE + 1);
        self.buf[HEADER_SIZE] = EOF;
        self.set_len(0);
    }

    fn eof_offset(&self) -> usize {
        self.buf.len() - 1
    }

    // -- navigation ---------------------------------------------------------

    /// Position of the first entry, if any.
    pub fn first(&self) -> Option<LpPos> {
        (self.buf[HEADER_SIZE] != EOF).then_some(LpPos(HEADER_SIZE))
    }

    /// Position of the last entry, if any.
    pub fn last(&self) -> Option<LpPos> {
        self.prev_offset(self.eof_offset()).map(LpPos)
    }

    /// Position of the entry after `pos`, or `None` if `pos` is the last.
    pub fn next(&self, pos: LpPos) -> Option<LpPos> {
        let next = pos.0 + entry_size(&self.buf, pos.0);
        (self.buf[next] != EOF).then_some(LpPos(next))
    }

    /// Position of the entry before `pos`, or `None` if `pos` is the first.
    pub fn prev(&self, pos: LpPos) -> Option<LpPos> {
        self.prev_offset(pos.0).map(LpPos)
    }

    fn prev_offset(&self, off: usize) -> Option<usize> {
        if off <= HEADER_SIZE {
            return None;
        }
        let enc = decode_backlen(&self.buf, off - 1).unwrap_or_else(|| corrupt(off));
        off.checked_sub(enc + backlen_size(enc))
            .filter(|&p| p >= HEADER_SIZE)
            .or_else(|| corrupt(off))
    }

    /// Position of the entry at `index`; negative indexes count from the tail
    /// (`-1` is the last entry). Walks from whichever end is nearer, like
    /// Redis's `lpSeek`. `None` when out of range.
    pub fn seek(&self, index: i64) -> Option<LpPos> {
        let n = i64::try_from(self.len()).ok()?;
        let index = if index < 0 { index + n } else { index };
        if !(0..n).contains(&index) {
            return None;
        }
        if index > n / 2 {
            let mut pos = self.last()?;
            for _ in index..n - 1 {
                pos = self.prev(pos)?;
            }
            Some(pos)
        } else {
            let mut pos = self.first()?;
            for _ in 0..index {
                pos = self.next(pos)?;
            }
            Some(pos)
        }
    }

    /// The value of the entry at `pos`.
    pub fn get(&self, pos: LpPos) -> LpValue<'_> {
        decode(&self.buf, pos.0).0
    }

    /// The value at `index` (negative from the tail), if in range.
    pub fn get_index(&self, index: i64) -> Option<LpValue<'_>> {
        self.seek(index).map(|p| self.get(p))
    }

    /// Finds the first entry equal to `needle` starting at `start`, comparing
    /// only every `skip + 1`-th entry (`skip = 1` searches the fields of a
    /// field/value listpack). Equality is Redis's `lpFind` semantics, i.e.
    /// the same as [`LpValue`]'s `==`.
    pub fn find<'v>(
        &self,
        start: LpPos,
        needle: impl Into<LpValue<'v>>,
        skip: usize,
    ) -> Option<LpPos> {
        let needle = needle.into();
        let needle_int = needle.as_i64();
        let mut ibuf = [0u8; INT_BUF_SIZE];
        let needle_bytes = needle.as_bytes(&mut ibuf);
        let mut p = start.0;
        let mut skipcnt = 0;
        while self.buf[p] != EOF {
            if skipcnt == 0 {
                let (value, size) = decode(&self.buf, p);
                let hit = match value {
                    LpValue::Int(v) => needle_int == Some(v),
                    LpValue::Str(s) => s == needle_bytes,
                };
                if hit {
                    return Some(LpPos(p));
                }
                skipcnt = skip;
                p += size;
            } else {
                skipcnt -= 1;
                p += entry_size(&self.buf, p);
            }
        }
        None
    }

    // -- iteration ----------------------------------------------------------

    /// Iterates the values front to back (double-ended: `.rev()` works).
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries())
    }

    /// Iterates the values back to front.
    pub fn iter_rev(&self) -> std::iter::Rev<Iter<'_>> {
        self.iter().rev()
    }

    /// Iterates `(position, value)` pairs front to back (double-ended).
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            buf: &self.buf,
            front: HEADER_SIZE,
            back: self.eof_offset(),
            remaining: self.len(),
        }
    }

    /// Iterates consecutive `(field, value)` pairs, as stored by hashes and
    /// sorted sets (double-ended). A trailing odd entry is not yielded.
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs(self.iter())
    }

    // -- insertion ----------------------------------------------------------

    /// Replaces `remove` bytes at `at` with the encoded entry.
    fn splice_encoded(&mut self, at: usize, remove: usize, enc: &Encoded<'_>) {
        let add = enc.len();
        let old_len = self.buf.len();
        match add.cmp(&remove) {
            Ordering::Greater => {
                self.buf.resize(old_len + add - remove);
                self.buf.copy_within(at + remove..old_len, at + add);
            }
            Ordering::Less => {
                self.buf.copy_within(at + remove..old_len, at + add);
                self.buf.truncate(old_len - (remove - add));
            }
            Ordering::Equal => {}
        }
        enc.write(&mut self.buf[at..at + add]);
    }

    fn insert_at<'v>(&mut self, at: usize, value: impl Into<LpValue<'v>>) {
        let enc = Encoded::new(value.into());
        self.splice_encoded(at, 0, &enc);
        self.adjust_len(1, 0);
    }

    /// Appends an element at the tail. Strings that strictly parse as
    /// integers are stored as integers, like `lpAppend`.
    ///
    /// # Panics
    /// If the blob would exceed 4 GiB (callers should check
    /// [`safe_to_add`](Listpack::safe_to_add) first).
    pub fn append<'v>(&mut self, value: impl Into<LpValue<'v>>) {
        self.insert_at(self.eof_offset(), value);
    }

    /// Inserts an element at the head.
    pub fn prepend<'v>(&mut self, value: impl Into<LpValue<'v>>) {
        self.insert_at(HEADER_SIZE, value);
    }

    /// Inserts an element before `pos`; returns the new element's position
    /// (which equals `pos`; the old entry moves to `next` of it).
    pub fn insert_before<'v>(&mut self, pos: LpPos, value: impl Into<LpValue<'v>>) -> LpPos {
        self.insert_at(pos.0, value);
        pos
    }

    /// Inserts an element after `pos`; returns the new element's position.
    /// `pos` stays valid.
    pub fn insert_after<'v>(&mut self, pos: LpPos, value: impl Into<LpValue<'v>>) -> LpPos {
        let at = pos.0 + entry_size(&self.buf, pos.0);
        self.insert_at(at, value);
        LpPos(at)
    }

    /// Replaces the element at `pos` in place; `pos` stays valid.
    pub fn replace<'v>(&mut self, pos: LpPos, value: impl Into<LpValue<'v>>) {
        let old = entry_size(&self.buf, pos.0);
        let enc = Encoded::new(value.into());
        self.splice_encoded(pos.0, old, &enc);
    }

    /// Appends all entries of `other` (Redis's `lpMerge`, without consuming).
    pub fn append_listpack(&mut self, other: &Listpack) {
        let entries = &other.buf[HEADER_SIZE..other.buf.len() - 1];
        let at = self.eof_offset();
        self.buf.resize(at + entries.len() + 1);
        self.buf[at..at + entries.len()].copy_from_slice(entries);
        self.buf[at + entries.len()] = EOF;
        self.adjust_len(other.len(), 0);
    }

    // -- deletion -----------------------------------------------------------

    /// Deletes the element at `pos`; returns the position of the element that
    /// followed it (now at the same offset), or `None` if it was the last.
    pub fn delete(&mut self, pos: LpPos) -> Option<LpPos> {
        self.delete_range_at(pos, 1)
    }

    /// Deletes up to `count` elements starting at `pos` (stopping at the
    /// tail); returns the position of the following element, if any.
    pub fn delete_range_at(&mut self, pos: LpPos, count: usize) -> Option<LpPos> {
        let mut end = pos.0;
        let mut deleted = 0;
        while deleted < count && self.buf[end] != EOF {
            end += entry_size(&self.buf, end);
            deleted += 1;
        }
        if deleted > 0 {
            self.buf.drain(pos.0..end);
            self.adjust_len(0, deleted);
        }
        (self.buf[pos.0] != EOF).then_some(pos)
    }

    /// Deletes up to `count` elements starting at `index` (negative counts
    /// from the tail), like `lpDeleteRange`. Returns how many were deleted.
    pub fn delete_range(&mut self, index: i64, count: usize) -> usize {
        if count == 0 {
            return 0;
        }
        let before = self.len();
        if let Some(pos) = self.seek(index) {
            self.delete_range_at(pos, count);
        }
        before - self.len()
    }

    /// Deletes the elements at `positions`, which must be strictly ascending
    /// positions of this listpack (e.g. collected while iterating), in one
    /// pass. Useful for `LREM` from the tail or `ZREMRANGEBY*`.
    ///
    /// # Panics
    /// If the positions are not strictly ascending.
    pub fn delete_many(&mut self, positions: &[LpPos]) {
        let Some(first) = positions.first() else {
            return;
        };
        let mut w = first.0;
        let mut prev_end = first.0;
        for (i, p) in positions.iter().enumerate() {
            assert!(p.0 >= prev_end, "delete_many positions must be ascending");
            let seg_start = p.0 + entry_size(&self.buf, p.0);
            let seg_end = positions.get(i + 1).map_or(self.buf.len(), |n| n.0);
            assert!(
                seg_end >= seg_start,
                "delete_many positions must be ascending"
            );
            self.buf.copy_within(seg_start..seg_end, w);
            w += seg_end - seg_start;
            prev_end = seg_start;
        }
        self.buf.truncate(w);
        self.adjust_len(0, positions.len());
    }

    /// Keeps only the elements for which `keep` returns `true`, in one pass.
    /// Returns the number of removed elements.
    pub fn retain<F: FnMut(LpValue<'_>) -> bool>(&mut self, mut keep: F) -> usize {
        let (mut r, mut w, mut removed) = (HEADER_SIZE, HEADER_SIZE, 0);
        while self.buf[r] != EOF {
            let (value, size) = decode(&self.buf, r);
            if keep(value) {
                if w != r {
                    self.buf.copy_within(r..r + size, w);
                }
                w += size;
            } else {
                removed += 1;
            }
            r += size;
        }
        if removed > 0 {
            self.buf[w] = EOF;
            self.buf.truncate(w + 1);
            self.adjust_len(0, removed);
        }
        removed
    }

    // -- random sampling ----------------------------------------------------

    /// A random `(field, value)` pair chosen with the random number `r`
    /// (`lpRandomPair`). `None` if there is no complete pair.
    pub fn random_pair(&self, r: u64) -> Option<(LpValue<'_>, LpValue<'_>)> {
        let pairs = (self.len() / 2) as u64;
        if pairs == 0 {
            return None;
        }
        let pos = self.seek(i64::try_from((r % pairs) * 2).ok()?)?;
        Some((self.get(pos), self.get(self.next(pos)?)))
    }

    /// `count` random pairs, repetitions allowed, in random order
    /// (`lpRandomPairs`); `rng` supplies random numbers. One pass over the
    /// listpack. Empty if there is no complete pair.
    pub fn random_pairs(
        &self,
        count: usize,
        mut rng: impl FnMut() -> u64,
    ) -> Vec<(LpValue<'_>, LpValue<'_>)> {
        let pairs = self.len() / 2;
        if pairs == 0 || count == 0 {
            return Vec::new();
        }
        let mut picks: Vec<(usize, usize)> = (0..count)
            .map(|order| ((rng() % pairs as u64) as usize, order))
            .collect();
        picks.sort_unstable();
        let mut out = vec![(LpValue::Int(0), LpValue::Int(0)); count];
        let mut picks = picks.into_iter().peekable();
        for (i, pair) in self.pairs().enumerate() {
            while let Some((_, order)) = picks.next_if(|&(idx, _)| idx == i) {
                out[order] = pair;
            }
            if picks.peek().is_none() {
                break;
            }
        }
        out
    }

    /// Up to `count` distinct random pairs, in listpack order
    /// (`lpRandomPairsUnique`, selection sampling in one pass).
    pub fn random_pairs_unique(
        &self,
        count: usize,
        mut rng: impl FnMut() -> u64,
    ) -> Vec<(LpValue<'_>, LpValue<'_>)> {
        let pairs = self.len() / 2;
        let mut needed = count.min(pairs);
        let mut out = Vec::with_capacity(needed);
        for (i, pair) in self.pairs().enumerate() {
            if needed == 0 {
                break;
            }
            if rng() % ((pairs - i) as u64) < needed as u64 {
                out.push(pair);
                needed -= 1;
            }
        }
        out
    }
}

impl<'v, T: Into<LpValue<'v>>> Extend<T> for Listpack {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for v in iter {
            self.append(v);
        }
    }
}

impl<'v, T: Into<LpValue<'v>>> FromIterator<T> for Listpack {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut lp = Listpack::new();
        lp.extend(iter);
        lp
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over `(position, value)` of a [`Listpack`].
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (LpPos, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let pos = self.front;
        let (value, size) = decode(self.buf, pos);
        self.front += size;
        self.remaining -= 1;
        Some((LpPos(pos), value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Entries<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let enc = decode_backlen(self.buf, self.back - 1).unwrap_or_else(|| corrupt(self.back));
        let pos = self
            .back
            .checked_sub(enc + backlen_size(enc))
            .filter(|&p| p >= HEADER_SIZE)
            .unwrap_or_else(|| corrupt(self.back));
        self.back = pos;
        self.remaining -= 1;
        Some((LpPos(pos), decode(self.buf, pos).0))
    }
}

impl ExactSizeIterator for Entries<'_> {}

/// Iterator over the values of a [`Listpack`].
#[derive(Clone, Debug)]
pub struct Iter<'a>(Entries<'a>);

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        self.0.next().map(|(_, v)| v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(_, v)| v)
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Iterator over consecutive `(field, value)` pairs of a [`Listpack`].
#[derive(Clone, Debug)]
pub struct Pairs<'a>(Iter<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.len() < 2 {
            return None;
        }
        Some((self.0.next()?, self.0.next()?))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.len() / 2;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Pairs<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.0.len() < 2 {
            return None;
        }
        if self.0.len() % 2 == 1 {
            self.0.next_back();
        }
        let value = self.0.next_back()?;
        Some((self.0.next_back()?, value))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a hex string into bytes.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// FNV-1a 64, to compare big blobs against Redis without embedding them.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        })
    }

    /// Small deterministic xorshift generator.
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn values(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_vec()).collect()
    }

    fn check_consistent(lp: &Listpack) {
        assert!(Listpack::validate(lp.as_bytes(), true), "{lp:?}");
        let fwd: Vec<_> = lp.entries().collect();
        let mut back: Vec<_> = lp.entries().rev().collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(fwd.len(), lp.len());
        let mut p = lp.first();
        for (pos, _) in &fwd {
            assert_eq!(p, Some(*pos));
            p = lp.next(*pos);
        }
        assert_eq!(p, None);
        assert_eq!(lp.last(), fwd.last().map(|e| e.0));
        let header = read_u16(lp.as_bytes(), 4);
        assert_eq!(header, u16::try_from(lp.len()).unwrap_or(COUNT_UNKNOWN));
        assert_eq!(read_u32(lp.as_bytes(), 0) as usize, lp.bytes_len());
    }

    #[test]
    fn strict_int_parsing() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("1", 1),
            ("-1", -1),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("12345678901234567", 12345678901234567),
        ];
        for (s, v) in ok {
            assert_eq!(string_to_i64_strict(s.as_bytes()), Some(*v), "{s}");
        }
        for s in [
            "",
            "-",
            "-0",
            "00",
            "01",
            "-01",
            " 1",
            "1 ",
            "+1",
            "1a",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "123456789012345678901",
            "1.0",
            "0x10",
        ] {
            assert_eq!(string_to_i64_strict(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn value_semantics() {
        assert_eq!(LpValue::Int(12), LpValue::Str(b"12"));
        assert_ne!(LpValue::Int(12), LpValue::Str(b"012"));
        assert_ne!(LpValue::Int(0), LpValue::Str(b"-0"));
        assert!(LpValue::Int(-5).eq_bytes(b"-5"));
        assert!(!LpValue::Int(5).eq_bytes(b"+5"));
        assert_eq!(LpValue::Int(10).cmp_bytes(b"9"), Ordering::Less);
        assert!(LpValue::Str(b"a") > LpValue::Int(99));
        assert_eq!(LpValue::Int(i64::MIN).to_vec(), b"-9223372036854775808");
        assert_eq!(LpValue::Int(7).str_len(), 1);
        assert_eq!(LpValue::Str(b"42").as_i64(), Some(42));
        let mut set = HashSet::new();
        set.insert(LpValue::Int(77));
        assert!(set.contains(&LpValue::Str(b"77")));
        assert_eq!(format!("{:?}", LpValue::Str(b"a\"\n")), "\"a\\\"\\n\"");
    }

    #[test]
    fn backlen_encoding() {
        for l in [
            0usize,
            1,
            127,
            128,
            16382,
            16383,
            2097150,
            2097151,
            268435454,
            268435455,
            u32::MAX as usize,
        ] {
            let mut b = [0u8; 5];
            let n = encode_backlen(l, &mut b);
            assert_eq!(n, backlen_size(l));
            assert_eq!(decode_backlen(&b, n - 1), Some(l), "{l}");
            assert_eq!(b[0] & 128, 0);
        }
        assert_eq!(backlen_size(16383), 3);
        assert_eq!(decode_backlen(&[0x81; 6], 5), None);
        assert_eq!(decode_backlen(&[0x81], 0), None);
    }

    #[test]
    fn empty_listpack() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), [7, 0, 0, 0, 0, 0, 0xFF]);
        assert!(lp.is_empty());
        assert_eq!(lp.first(), None);
        assert_eq!(lp.last(), None);
        assert_eq!(lp.seek(0), None);
        assert_eq!(lp.seek(-1), None);
        assert_eq!(lp.iter().count(), 0);
        assert!(Listpack::validate(lp.as_bytes(), true));
        assert_eq!(Listpack::default(), lp);
    }

    #[test]
    fn integer_boundaries() {
        let cases: &[(i64, usize)] = &[
            (0, 2),
            (127, 2),
            (128, 3),
            (-1, 3),
            (4095, 3),
            (-4096, 3),
            (4096, 4),
            (-4097, 4),
            (32767, 4),
            (-32768, 4),
            (32768, 5),
            (-32769, 5),
            (8388607, 5),
            (-8388608, 5),
            (8388608, 6),
            (-8388609, 6),
            (i32::MAX as i64, 6),
            (i32::MIN as i64, 6),
            (i32::MAX as i64 + 1, 10),
            (i32::MIN as i64 - 1, 10),
            (i64::MAX, 10),
            (i64::MIN, 10),
        ];
        for &(v, size) in cases {
            for as_string in [false, true] {
                let mut lp = Listpack::new();
                let s = v.to_string();
                if as_string {
                    lp.append(s.as_str());
                } else {
                    lp.append(v);
                }
                assert_eq!(lp.bytes_len(), 7 + size, "{v}");
                assert_eq!(lp.get(lp.first().unwrap()), LpValue::Int(v));
                assert!(matches!(lp.get_index(0), Some(LpValue::Int(x)) if x == v));
                check_consistent(&lp);
            }
        }
        let lp: Listpack = cases.iter().map(|c| c.0).collect();
        let back: Vec<i64> = lp.iter_rev().map(|v| v.as_i64().unwrap()).collect();
        let want: Vec<i64> = cases.iter().rev().map(|c| c.0).collect();
        assert_eq!(back, want);
        check_consistent(&lp);
    }

    #[test]
    fn string_boundaries() {
        // (string length, expected entry size including backlen)
        let cases: &[(usize, usize)] = &[
            (0, 2),
            (1, 3),
            (63, 65),
            (64, 67),
            (125, 128), // encoded 127 -> 1-byte backlen
            (126, 130), // encoded 128 -> 2-byte backlen
            (4095, 4099),
            (4096, 4103),
            (16377, 16384), // encoded 16382 -> 2-byte backlen
            (16378, 16386), // encoded 16383 -> 3-byte backlen
            (70000, 70008),
            (2097145, 2097153), // encoded 2097150 -> 3-byte backlen
            (2097146, 2097155), // encoded 2097151 -> 4-byte backlen
        ];
        let mut all = Listpack::new();
        for &(n, size) in cases {
            let s = vec![b'x'; n];
            let mut lp = Listpack::new();
            lp.append(&s);
            assert_eq!(lp.bytes_len(), 7 + size, "len {n}");
            assert_eq!(lp.get(lp.first().unwrap()), LpValue::Str(&s));
            check_consistent(&lp);
            all.append(&s);
            all.prepend(&s);
        }
        check_consistent(&all);
        assert_eq!(all.len(), 2 * cases.len());
        // Layout: prepended copies (reversed), then appended copies.
        for (i, &(n, _)) in cases.iter().rev().enumerate() {
            assert_eq!(all.get_index(-1 - i as i64).unwrap().str_len(), n);
            assert_eq!(all.get_index(i as i64).unwrap().str_len(), n);
        }
    }

    /// `RPUSH l_ints ...` on redis-server 7.0.15, listpack taken from `DUMP`.
    const REDIS_L_INTS: &str = "e00000002300000101017f01c08002dfff02cfff02d00002f1001003f1ffef03f1ff7f03f1008003f200800004f2ff7fff04f2ffff7f04f200008004f30000800005f3ffff7fff05f3ffffff7f05f30000008005f4000000800000000009f4ffffff7fffffffff09f4ffffffffffffff7f09f4000000000000008009933932323333373230333638353437373538303814942d3932323333373230333638353437373538303915822d300382303103823030038220310382312003822b31038001812d02836162630494313233343536373839303132333435363738393015ff";
    const L_INTS: &[&str] = &[
        "0",
        "1",
        "127",
        "128",
        "-1",
        "4095",
        "-4096",
        "4096",
        "-4097",
        "32767",
        "-32768",
        "32768",
        "-32769",
        "8388607",
        "-8388608",
        "8388608",
        "-8388609",
        "2147483647",
        "-2147483648",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "-0",
        "01",
        "00",
        " 1",
        "1 ",
        "+1",
        "",
        "-",
        "abc",
        "12345678901234567890",
    ];

    #[test]
    fn byte_exact_against_redis() {
        let lp: Listpack = L_INTS.iter().copied().collect();
        assert_eq!(lp.as_bytes(), hex(REDIS_L_INTS));
        let loaded = Listpack::from_bytes(hex(REDIS_L_INTS));
        assert_eq!(loaded.len(), L_INTS.len());
        for (v, s) in loaded.iter().zip(L_INTS) {
            assert!(v.eq_bytes(s.as_bytes()));
            assert_eq!(v.to_vec(), s.as_bytes());
        }
        check_consistent(&loaded);

        // HSET h_small f1 v1 f2 123 f3 -5
        let h: Listpack = ["f1", "v1", "f2", "123", "f3", "-5"].into_iter().collect();
        assert_eq!(
            h.as_bytes(),
            hex("1c00000006008266310382763103826632037b0182663303dffb02ff")
        );
        assert!(Listpack::validate_pairs(h.as_bytes(), true));

        // ZADD z_small 1 a 2.5 b -3 c 1e20 d (sorted by score: member, score)
        let z: Listpack = ["c", "-3", "a", "1", "b", "2.5", "d", "1e+20"]
            .into_iter()
            .collect();
        assert_eq!(
            z.as_bytes(),
            hex("240000000800816302dffd02816102010181620283322e35048164028531652b323006ff")
        );

        // RPUSH l_strs "" a*63 b*64 c*127 d*128 e*4095 f*4096 g*16380
        let strs: Vec<Vec<u8>> = [
            (b'a', 63),
            (b'b', 64),
            (b'c', 127),
            (b'd', 128),
            (b'e', 4095),
            (b'f', 4096),
            (b'g', 16380),
        ]
        .iter()
        .map(|&(c, n)| vec![c; n])
        .collect();
        let mut l = Listpack::new();
        l.append("");
        l.extend(&strs);
        assert_eq!(
            (l.bytes_len(), fnv1a(l.as_bytes())),
            (24994, 0x285e989b3cb291e1)
        );

        // RPUSH l_big h*70000
        let big: Listpack = [vec![b'h'; 70000]].iter().collect();
        assert_eq!(
            (big.bytes_len(), fnv1a(big.as_bytes())),
            (70015, 0xb54b3ae54b2c093f)
        );
    }

    #[test]
    fn byte_exact_after_edits() {
        // RPUSH l_ops a b c d e f g h i j 1 2 3 b b; LREM l_ops 2 b;
        // LTRIM l_ops 1 -2; LINSERT l_ops BEFORE e ins; LSET l_ops 0 12345
        let mut lp: Listpack = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "1", "2", "3", "b", "b",
        ]
        .into_iter()
        .collect();
        let mut removed = 0;
        lp.retain(|v| {
            let hit = removed < 2 && v.eq_bytes(b"b");
            removed += usize::from(hit);
            !hit
        });
        assert_eq!(lp.delete_range(0, 1), 1);
        assert_eq!(lp.delete_range(-1, 1), 1);
        let e = lp.find(lp.first().unwrap(), "e", 0).unwrap();
        lp.insert_before(e, "ins");
        lp.replace(lp.seek(0).unwrap(), "12345");
        assert_eq!(
            lp.as_bytes(),
            hex(
                "2b0000000c00f139300381640283696e7304816502816602816702816802816902816a02010102010301ff"
            )
        );
        check_consistent(&lp);
    }

    #[test]
    fn huge_listpack_unknown_count() {
        // HSET h_huge k0 0 k1 1 ... k39999 39999 (80000 entries, count 65535)
        let mut lp = Listpack::new();
        for i in 0..40000 {
            lp.append(format!("k{i}").as_str());
            lp.append(i64::from(i));
        }
        assert_eq!(read_u16(lp.as_bytes(), 4), COUNT_UNKNOWN);
        assert_eq!(
            (lp.bytes_len(), fnv1a(lp.as_bytes())),
            (471905, 0x59f2d1dc8c0e7dd7)
        );
        assert_eq!(lp.len(), 80000);
        assert!(Listpack::validate_pairs(lp.as_bytes(), true));
        let loaded = Listpack::from_bytes(lp.as_bytes().to_vec());
        assert_eq!(loaded.len(), 80000);
        assert_eq!(loaded.get_index(-1), Some(LpValue::Int(39999)));
        assert_eq!(loaded.get_index(40001), Some(LpValue::Int(20000)));
        assert_eq!(loaded.get_index(-80000), Some(LpValue::Str(b"k0")));
        assert_eq!(loaded.get_index(-80001), None);
        let f = loaded.find(loaded.first().unwrap(), "k39998", 1).unwrap();
        assert_eq!(loaded.get(loaded.next(f).unwrap()), LpValue::Int(39998));
        assert_eq!(loaded.find(loaded.first().unwrap(), "39998", 1), None);

        // Shrinking back below 65535 restores an exact header count.
        lp.delete_range(0, 20000);
        assert_eq!(lp.len(), 60000);
        check_consistent(&lp);
        assert_eq!(lp.get_index(0), Some(LpValue::Str(b"k10000")));
    }

    #[test]
    fn unknown_count_header_with_few_entries() {
        let mut bytes = Listpack::from_iter(["a", "b", "3"]).into_bytes();
        bytes[4] = 0xFF;
        bytes[5] = 0xFF;
        assert!(Listpack::validate(&bytes, true));
        let mut lp = Listpack::from_bytes(bytes.clone());
        assert_eq!(lp.len(), 3);
        assert_eq!(lp.get_index(-1), Some(LpValue::Int(3)));
        lp.append("d");
        assert_eq!(read_u16(lp.as_bytes(), 4), 4);
        // A wrong explicit count is rejected by deep validation only.
        bytes[4] = 2;
        bytes[5] = 0;
        assert!(Listpack::validate(&bytes, false));
        assert!(!Listpack::validate(&bytes, true));
    }

    #[test]
    fn seek_both_directions() {
        let lp: Listpack = (0..101i64).collect();
        for i in 0..101i64 {
            assert_eq!(lp.get_index(i), Some(LpValue::Int(i)));
            assert_eq!(lp.get_index(i - 101), Some(LpValue::Int(i)));
        }
        assert_eq!(lp.seek(101), None);
        assert_eq!(lp.seek(-102), None);
        assert_eq!(lp.seek(i64::MIN), None);
        assert_eq!(lp.seek(i64::MAX), None);
    }

    #[test]
    fn insert_replace_delete() {
        let mut lp: Listpack = ["a", "b", "c"].into_iter().collect();
        let b = lp.seek(1).unwrap();
        let x = lp.insert_after(b, "x");
        assert_eq!(lp.get(x), LpValue::Str(b"x"));
        assert_eq!(lp.get(b), LpValue::Str(b"b"));
        let y = lp.insert_before(b, 77);
        assert_eq!(lp.get(y), LpValue::Int(77));
        assert_eq!(values(&lp), [&b"a"[..], b"77", b"b", b"x", b"c"]);
        // Replacement changing the entry size in both directions.
        let p = lp.seek(2).unwrap();
        lp.replace(p, vec![b'z'; 5000].as_slice());
        check_consistent(&lp);
        lp.replace(p, 1i64);
        assert_eq!(lp.get(p), LpValue::Int(1));
        lp.replace(p, "-123456789012");
        assert_eq!(lp.get(p), LpValue::Int(-123456789012));
        check_consistent(&lp);
        let next = lp.delete(p).unwrap();
        assert_eq!(lp.get(next), LpValue::Str(b"x"));
        let last = lp.last().unwrap();
        assert_eq!(lp.delete(last), None);
        assert_eq!(values(&lp), [&b"a"[..], b"77", b"x"]);
        check_consistent(&lp);
        lp.clear();
        assert_eq!(lp, Listpack::new());
    }

    #[test]
    fn delete_ranges() {
        let base: Listpack = (0..10i64).collect();
        let ints = |lp: &Listpack| lp.iter().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>();
        let mut lp = base.clone();
        assert_eq!(lp.delete_range(2, 3), 3);
        assert_eq!(ints(&lp), [0, 1, 5, 6, 7, 8, 9]);
        assert_eq!(lp.delete_range(-2, 100), 2);
        assert_eq!(ints(&lp), [0, 1, 5, 6, 7]);
        assert_eq!(lp.delete_range(10, 1), 0);
        assert_eq!(lp.delete_range(0, 0), 0);
        assert_eq!(lp.delete_range(-5, 5), 5);
        assert!(lp.is_empty());
        check_consistent(&lp);

        let mut lp = base.clone();
        let p = lp.seek(8).unwrap();
        assert_eq!(lp.delete_range_at(p, 5), None);
        assert_eq!(ints(&lp), [0, 1, 2, 3, 4, 5, 6, 7]);

        let mut lp = base.clone();
        let pos: Vec<LpPos> = lp
            .entries()
            .filter(|(_, v)| v.as_i64().unwrap() % 3 == 0)
            .map(|e| e.0)
            .collect();
        lp.delete_many(&pos);
        assert_eq!(ints(&lp), [1, 2, 4, 5, 7, 8]);
        check_consistent(&lp);
        lp.delete_many(&[]);
        let all: Vec<LpPos> = lp.entries().map(|e| e.0).collect();
        lp.delete_many(&all);
        assert!(lp.is_empty());
        check_consistent(&lp);

        let mut lp = base.clone();
        assert_eq!(lp.retain(|v| v.as_i64().unwrap() >= 7), 7);
        assert_eq!(ints(&lp), [7, 8, 9]);
        assert_eq!(lp.retain(|_| true), 0);
        check_consistent(&lp);
    }

    #[test]
    fn find_with_skip() {
        let lp: Listpack = ["f1", "v1", "2", "f1", "v2", "x"].into_iter().collect();
        let first = lp.first().unwrap();
        assert_eq!(lp.find(first, "f1", 0), Some(first));
        assert_eq!(lp.find(first, "v2", 1), Some(lp.seek(4).unwrap()));
        assert_eq!(lp.find(first, "f1", 1), Some(first));
        assert_eq!(
            lp.find(lp.seek(1).unwrap(), "f1", 1),
            Some(lp.seek(3).unwrap())
        );
        assert_eq!(lp.find(first, "x", 1), None);
        assert_eq!(lp.find(first, "2", 1), Some(lp.seek(2).unwrap()));
        assert_eq!(lp.find(first, 2i64, 0), Some(lp.seek(2).unwrap()));
        assert_eq!(lp.find(first, "02", 0), None);
        // A string entry that looks like an integer (possible in foreign
        // blobs) still matches by bytes.
        let mut bytes = Listpack::new().into_bytes();
        bytes.truncate(6);
        bytes.extend_from_slice(&[0x82, b'1', b'2', 3, EOF]);
        bytes[0] = bytes.len() as u8;
        bytes[4] = 1;
        assert!(Listpack::validate(&bytes, true));
        let odd = Listpack::from_bytes(bytes);
        assert_eq!(odd.find(odd.first().unwrap(), "12", 0), odd.first());
        assert_eq!(odd.find(odd.first().unwrap(), 12i64, 0), odd.first());
    }

    #[test]
    fn pairs_and_random() {
        let lp: Listpack = ["a", "1", "b", "2", "c", "3", "d"].into_iter().collect();
        let pairs: Vec<_> = lp
            .pairs()
            .map(|(k, v)| (k.to_vec(), v.as_i64().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [(b"a".to_vec(), 1), (b"b".to_vec(), 2), (b"c".to_vec(), 3)]
        );
        let rev: Vec<_> = lp.pairs().rev().map(|(k, _)| k.to_vec()).collect();
        assert_eq!(rev, [b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]);
        assert_eq!(lp.pairs().len(), 3);

        assert_eq!(
            lp.random_pair(4),
            Some((LpValue::Str(b"b"), LpValue::Int(2)))
        );
        assert_eq!(Listpack::from_iter(["x"]).random_pair(0), None);
        let mut rng = Rng(42);
        let picks = lp.random_pairs(50, || rng.next());
        assert_eq!(picks.len(), 50);
        for (k, v) in &picks {
            assert_eq!(
                lp.find(lp.first().unwrap(), *k, 1)
                    .map(|p| lp.get(lp.next(p).unwrap())),
                Some(*v)
            );
        }
        let uniq = lp.random_pairs_unique(2, || rng.next());
        assert_eq!(uniq.len(), 2);
        assert_ne!(uniq[0], uniq[1]);
        assert_eq!(lp.random_pairs_unique(10, || rng.next()).len(), 3);
    }

    #[test]
    fn append_listpack_and_safety() {
        let mut a: Listpack = ["a", "1"].into_iter().collect();
        let b: Listpack = ["b", "2", "c"].into_iter().collect();
        a.append_listpack(&b);
        let want: Listpack = ["a", "1", "b", "2", "c"].into_iter().collect();
        assert_eq!(a, want);
        a.append_listpack(&Listpack::new());
        assert_eq!(a, want);
        assert!(a.safe_to_add(1000));
        assert!(!a.safe_to_add(LISTPACK_MAX_SAFETY_SIZE));
        assert!(!a.safe_to_add(usize::MAX));
    }

    #[test]
    fn validate_rejects_truncated_and_garbled() {
        let good = hex(REDIS_L_INTS);
        assert!(Listpack::validate(&good, true));
        for n in 0..good.len() {
            assert!(!Listpack::validate(&good[..n], false), "prefix {n}");
            // Even with a patched header a truncated walk must fail.
            let mut t = good[..n].to_vec();
            if n >= 7 {
                t[0..4].copy_from_slice(&(n as u32).to_le_bytes());
                t[n - 1] = EOF;
                assert!(!Listpack::validate(&t, true), "patched prefix {n}");
            }
        }
        // Invalid encoding byte.
        let mut bad = Listpack::from_iter(["a"]).into_bytes();
        bad[6] = 0xF5;
        assert!(!Listpack::validate(&bad, true));
        // Mismatching backlen.
        let mut bad = Listpack::from_iter(["a"]).into_bytes();
        bad[8] = 3;
        assert!(!Listpack::validate(&bad, true));
        // Early terminator.
        let mut bad = Listpack::from_iter(["a", "b"]).into_bytes();
        bad[9] = EOF;
        assert!(!Listpack::validate(&bad, true));
        // Duplicate hash fields / odd pair count.
        let dup: Listpack = ["f", "1", "f", "2"].into_iter().collect();
        assert!(Listpack::validate(dup.as_bytes(), true));
        assert!(!Listpack::validate_pairs(dup.as_bytes(), true));
        assert!(Listpack::validate_pairs(dup.as_bytes(), false));
        let dup_int: Listpack = ["7", "1", "x", "2", "7", "3"].into_iter().collect();
        assert!(!Listpack::validate_pairs(dup_int.as_bytes(), true));
        let odd: Listpack = ["f", "1", "g"].into_iter().collect();
        assert!(!Listpack::validate_pairs(odd.as_bytes(), true));
        let mut seen = Vec::new();
        assert!(Listpack::validate_with(dup.as_bytes(), |v| {
            seen.push(v);
            true
        }));
        assert_eq!(seen.len(), 4);
        assert!(!Listpack::validate_with(dup.as_bytes(), |v| !v.eq_bytes(b"2")));
    }

    /// Exercises everything a validated listpack may be used for.
    fn use_fully(bytes: Vec<u8>) {
        let mut lp = Listpack::from_bytes(bytes);
        let n = lp.len();
        assert_eq!(lp.iter().count(), n);
        assert_eq!(lp.iter_rev().count(), n);
        for i in 0..n as i64 {
            let v = lp.get_index(i).unwrap();
            assert_eq!(Some(v), lp.get_index(i - n as i64));
        }
        if let Some(first) = lp.first() {
            let _ = lp.find(first, "zz", 1);
            lp.delete(first);
            lp.append("tail");
            check_consistent(&lp);
        }
    }

    #[test]
    fn fuzz_validate_never_panics() {
        let mut seeds: Vec<Vec<u8>> = vec![
            hex(REDIS_L_INTS),
            Listpack::new().into_bytes(),
            Listpack::from_iter(&[vec![b'q'; 70], vec![b'r'; 5000], b"s".to_vec()]).into_bytes(),
        ];
        let mixed: Listpack = (0..300i64)
            .map(|i| i * 7919 - 1_000_000)
            .chain([i64::MIN, i64::MAX])
            .collect();
        seeds.push(mixed.into_bytes());
        let mut rng = Rng(0x9E3779B97F4A7C15);
        let mut accepted = 0;
        for round in 0..20000 {
            let mut b = seeds[round % seeds.len()].clone();
            let edits = 1 + rng.next() % 4;
            for _ in 0..edits {
                let i = (rng.next() as usize) % b.len();
                match rng.next() % 4 {
                    0 => b[i] = rng.next() as u8,
                    1 => b[i] ^= 1 << (rng.next() % 8),
                    2 => {
                        b[i] = [
                            0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
                        ][(rng.next() % 11) as usize]
                    }
                    _ => {
                        let cut = (rng.next() as usize) % (b.len() + 1);
                        b.truncate(cut.max(1));
                    }
                }
            }
            // Fix the header half of the time so the deep walk is exercised.
            if rng.next().is_multiple_of(2) && b.len() >= 7 {
                let n = b.len() as u32;
                b[0..4].copy_from_slice(&n.to_le_bytes());
                let last = b.len() - 1;
                b[last] = EOF;
            }
            let shallow = Listpack::validate(&b, false);
            let deep = Listpack::validate(&b, true);
            let _ = Listpack::validate_pairs(&b, true);
            assert!(!deep || shallow);
            if deep {
                accepted += 1;
                use_fully(b);
            }
        }
        assert!(accepted > 100, "fuzzer too destructive: {accepted}");
    }

    #[test]
    fn random_operations_match_model() {
        let mut rng = Rng(7);
        let mut lp = Listpack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        let sample = |rng: &mut Rng| -> Vec<u8> {
            match rng.next() % 5 {
                0 => (rng.next() as i64 >> (rng.next() % 64))
                    .to_string()
                    .into_bytes(),
                1 => vec![b'a' + (rng.next() % 26) as u8; (rng.next() % 200) as usize],
                2 => vec![b'b'; (rng.next() % 5000) as usize],
                3 => format!("{}", rng.next() % 300).into_bytes(),
                _ => b"-0".to_vec(),
            }
        };
        for step in 0..3000 {
            let v = sample(&mut rng);
            let n = model.len() as i64;
            match rng.next() % 7 {
                0 => {
                    lp.append(&v);
                    model.push(v);
                }
                1 => {
                    lp.prepend(&v);
                    model.insert(0, v);
                }
                2 if n > 0 => {
                    let i = (rng.next() % n as u64) as usize;
                    let p = lp.seek(i as i64).unwrap();
                    if rng.next().is_multiple_of(2) {
                        lp.insert_before(p, &v);
                        model.insert(i, v);
                    } else {
                        lp.insert_after(p, &v);
                        model.insert(i + 1, v);
                    }
                }
                3 if n > 0 => {
                    let i = (rng.next() % n as u64) as usize;
                    lp.replace(lp.seek(i as i64 - n).unwrap(), &v);
                    model[i] = v;
                }
                4 if n > 0 => {
                    let i = (rng.next() % n as u64) as usize;
                    let cnt = (rng.next() % 4) as usize;
                    lp.delete_range(i as i64, cnt);
                    model.drain(i..(i + cnt).min(model.len()));
                }
                5 if n > 0 => {
                    let target = model[(rng.next() % n as u64) as usize].clone();
                    lp.retain(|x| !x.eq_bytes(&target));
                    model.retain(|x| *x != target);
                }
                _ => {
                    lp.append(&v);
                    model.push(v);
                }
            }
            assert_eq!(values(&lp), model, "step {step}");
            if step % 97 == 0 {
                check_consistent(&lp);
                // Rebuilding from scratch yields the same bytes.
                let rebuilt: Listpack = model.iter().collect();
                assert_eq!(rebuilt.as_bytes(), lp.as_bytes());
            }
        }
    }
}
