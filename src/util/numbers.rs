//! Byte-exact re-implementations of the number <-> string conversions Redis
//! 7.0 performs in `util.c`, `object.c`, `networking.c` and `t_zset.c`.
//!
//! Integers follow Redis's strict `string2ll` grammar (no spaces, no `+`, no
//! leading zeros), doubles follow glibc `strtod` (decimal, hexadecimal,
//! `inf`/`infinity`/`nan` in any case, leading C whitespace) wrapped in the
//! exact acceptance rules of each Redis call site, and doubles are printed
//! exactly as glibc's `printf("%.17g")` does.  Formatting functions return a
//! [`NumStr`], a small stack buffer, so the common paths never allocate.
//!
//! The glibc-compatible scanner and the binary rounding helper are also used
//! by the sibling `longdouble` module.

use std::fmt;
use std::ops::Deref;

/// Redis `LONG_STR_SIZE`: `string2ll` rejects inputs of this length or more.
pub const LONG_STR_SIZE: usize = 21;

/// Capacity of a [`NumStr`]; large enough for every fixed-width conversion
/// in this module (`%.17g` needs at most 24 bytes, an `i64` 20).
pub const NUM_STR_CAP: usize = 32;

/// A short number rendered into an inline buffer (no heap allocation).
///
/// Dereferences to the rendered bytes; also usable as `&str`.
#[derive(Clone, Copy)]
pub struct NumStr {
    buf: [u8; NUM_STR_CAP],
    start: u8,
    end: u8,
}

impl NumStr {
    const fn empty() -> Self {
        NumStr {
            buf: [0; NUM_STR_CAP],
            start: 0,
            end: 0,
        }
    }

    /// The rendered bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start as usize..self.end as usize]
    }

    /// The rendered text (always ASCII).
    pub fn as_str(&self) -> &str {
        // Every producer in this module writes ASCII only.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        self.buf[self.end as usize] = b;
        self.end += 1;
    }

    fn push_slice(&mut self, s: &[u8]) {
        let end = self.end as usize;
        self.buf[end..end + s.len()].copy_from_slice(s);
        self.end += s.len() as u8;
    }

    fn from_slice(s: &[u8]) -> Self {
        let mut n = NumStr::empty();
        n.push_slice(s);
        n
    }
}

impl Deref for NumStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for NumStr {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Display for NumStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NumStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<[u8]> for NumStr {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&str> for NumStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Number of decimal digits of `v` (Redis `digits10`).
pub fn digits10(v: u64) -> u32 {
    v.checked_ilog10().unwrap_or(0) + 1
}

/// Number of characters of `v` in decimal, including a leading `-`
/// (Redis `sdigits10`).
pub fn sdigits10(v: i64) -> u32 {
    digits10(v.unsigned_abs()) + u32::from(v < 0)
}

/// Writes the digits of `v` so that they end at `buf.len()`; returns the
/// index of the first digit. `buf` must hold at least 20 bytes.
fn write_u64_tail(mut v: u64, buf: &mut [u8]) -> usize {
    let mut pos = buf.len();
    while v >= 100 {
        let i = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[i..i + 2]);
    }
    if v < 10 {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    } else {
        let i = v as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[i..i + 2]);
    }
    pos
}

/// Renders an unsigned integer in decimal (Redis `ull2string`).
pub fn ull2string(v: u64) -> NumStr {
    let mut n = NumStr::empty();
    let start = write_u64_tail(v, &mut n.buf);
    n.start = start as u8;
    n.end = NUM_STR_CAP as u8;
    n
}

/// Renders a signed integer in decimal (Redis `ll2string`).
pub fn ll2string(v: i64) -> NumStr {
    let mut n = NumStr::empty();
    let mut start = write_u64_tail(v.unsigned_abs(), &mut n.buf);
    if v < 0 {
        start -= 1;
        n.buf[start] = b'-';
    }
    n.start = start as u8;
    n.end = NUM_STR_CAP as u8;
    n
}

/// Appends the decimal form of `v` to `out`.
pub fn append_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&ll2string(v));
}

/// Appends the decimal form of `v` to `out`.
pub fn append_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&ull2string(v));
}

/// Strict integer parsing (Redis `string2ll`, used by
/// `getLongLongFromObject` and therefore by every integer argument).
///
/// Accepts only `-?[1-9][0-9]*` or `0`, shorter than [`LONG_STR_SIZE`] bytes
/// and within `i64` range: no whitespace, no `+`, no leading zeros, and
/// `-0` is rejected.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
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

/// Redis `string2l`. `long` is 64 bits on the platforms Redis targets, so
/// this is identical to [`string2ll`].
pub fn string2l(s: &[u8]) -> Option<i64> {
    string2ll(s)
}

/// C `isspace` in the "C" locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Unsigned parsing (Redis `string2ull`, used for stream IDs and by the
/// module API).
///
/// The input is treated as a C string (it ends at the first NUL byte). It is
/// first tried with [`string2ll`] (negative results rejected); on failure
/// glibc `strtoull(s, &end, 10)` rules apply: leading whitespace and a `+`
/// or `-` sign are allowed (a `-` negates modulo 2^64, so `" -1"` yields
/// `u64::MAX`), leading zeros are fine, all remaining bytes must be digits,
/// and out-of-range values are rejected.
pub fn string2ull(s: &[u8]) -> Option<u64> {
    let s = s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul]);
    if let Some(v) = string2ll(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let Some((&b, tail)) = rest.split_first() {
        if !is_c_space(b) {
            break;
        }
        rest = tail;
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

// ---------------------------------------------------------------------------
// strtod-compatible scanning (shared with `longdouble`)
// ---------------------------------------------------------------------------

/// Syntactic form of a floating point literal recognised by glibc `strtod`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FloatSyntax<'a> {
    /// `inf` or `infinity`.
    Inf,
    /// `nan` or `nan(chars)`.
    Nan,
    /// Decimal digits before/after the point and the decimal exponent.
    Decimal {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    /// Hex digits before/after the point and the binary exponent.
    Hex {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
}

/// A literal found by [`scan_float`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScannedFloat<'a> {
    pub neg: bool,
    pub syntax: FloatSyntax<'a>,
    /// Index just after the leading whitespace (where the sign, if any, is).
    pub start: usize,
    /// Index one past the last byte consumed.
    pub end: usize,
}

/// Exponents are clamped to this magnitude; anything beyond already over-
/// or underflows every supported format.
const EXP_CLAMP: i64 = 1 << 40;

fn count_while(s: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    s.get(from..)
        .map_or(0, |t| t.iter().take_while(|&&b| pred(b)).count())
}

/// Parses `[eE|pP][+-]digits` at `at`; returns the value and the new index,
/// or `None` when no complete exponent is present (then it is not consumed).
fn scan_exponent(s: &[u8], at: usize, marker: u8) -> Option<(i64, usize)> {
    if s.get(at).map(|b| b.to_ascii_lowercase()) != Some(marker) {
        return None;
    }
    let mut i = at + 1;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let n = count_while(s, i, |b| b.is_ascii_digit());
    if n == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in &s[i..i + n] {
        v = (v * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
    }
    Some((if neg { -v } else { v }, i + n))
}

/// Finds the longest prefix of `s` that glibc `strtod`/`strtold` would
/// convert (C locale). Returns `None` when no conversion is performed.
pub(crate) fn scan_float(s: &[u8]) -> Option<ScannedFloat<'_>> {
    let start = count_while(s, 0, is_c_space);
    let mut i = start;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let matches_ci = |at: usize, word: &[u8]| {
        s.get(at..at + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    let found = |syntax, end| {
        Some(ScannedFloat {
            neg,
            syntax,
            start,
            end,
        })
    };
    if matches_ci(i, b"inf") {
        let end = if matches_ci(i + 3, b"inity") {
            i + 8
        } else {
            i + 3
        };
        return found(FloatSyntax::Inf, end);
    }
    if matches_ci(i, b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let n = count_while(s, end + 1, |b| b.is_ascii_alphanumeric() || b == b'_');
            if s.get(end + 1 + n) == Some(&b')') {
                end += n + 2;
            }
        }
        return found(FloatSyntax::Nan, end);
    }
    if s.get(i) == Some(&b'0') && matches!(s.get(i + 1), Some(b'x' | b'X')) {
        let h = i + 2;
        let ni = count_while(s, h, |b| b.is_ascii_hexdigit());
        let mut j = h + ni;
        let mut nf = 0;
        if s.get(j) == Some(&b'.') {
            nf = count_while(s, j + 1, |b| b.is_ascii_hexdigit());
            if ni + nf > 0 {
                j += 1 + nf;
            }
        }
        if ni + nf > 0 {
            let (exp, end) = scan_exponent(s, j, b'p').unwrap_or((0, j));
            let syntax = FloatSyntax::Hex {
                int: &s[h..h + ni],
                frac: &s[j - nf..j],
                exp,
            };
            return found(syntax, end);
        }
        // "0x" without hex digits: only the "0" converts (decimal path).
    }
    let ni = count_while(s, i, |b| b.is_ascii_digit());
    let mut j = i + ni;
    let mut nf = 0;
    if s.get(j) == Some(&b'.') {
        nf = count_while(s, j + 1, |b| b.is_ascii_digit());
        if ni + nf > 0 {
            j += 1 + nf;
        }
    }
    if ni + nf == 0 {
        return None;
    }
    let (exp, end) = scan_exponent(s, j, b'e').unwrap_or((0, j));
    let syntax = FloatSyntax::Decimal {
        int: &s[i..i + ni],
        frac: &s[j - nf..j],
        exp,
    };
    found(syntax, end)
}

/// Parameters of a binary floating point format, with values written as
/// `mant * 2^exp`, `mant < 2^prec`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BinFormat {
    /// Significand bits (53 for `double`, 64 for x87 `long double`).
    pub prec: u32,
    /// Exponent of the least significant bit of subnormals.
    pub min_exp: i32,
    /// Largest exponent (with a `prec`-bit significand) that is finite.
    pub max_exp: i32,
}

/// IEEE binary64.
pub(crate) const F64_FORMAT: BinFormat = BinFormat {
    prec: 53,
    min_exp: -1074,
    max_exp: 971,
};

/// Outcome of [`round_to_format`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rounded {
    /// Rounded to zero (underflow, or a zero input).
    Zero,
    /// `mant * 2^exp`; normal results have bit `prec-1` of `mant` set,
    /// subnormals have `exp == min_exp`.
    Finite { mant: u64, exp: i32 },
    /// Rounded past the largest finite value.
    Overflow,
}

/// Rounds `(q + f) * 2^e2` to nearest-even in `fmt`, where `f` is zero when
/// `!sticky` and strictly between 0 and 1 otherwise.
///
/// When `sticky` is set, `q` must have more than `fmt.prec` bits so that the
/// rounding bit is known. Returns the result and whether it is inexact.
pub(crate) fn round_to_format(q: u128, sticky: bool, e2: i64, fmt: BinFormat) -> (Rounded, bool) {
    if q == 0 {
        return (Rounded::Zero, sticky);
    }
    let bits = i64::from(128 - q.leading_zeros());
    let mut shift = bits - i64::from(fmt.prec);
    if e2 + shift < i64::from(fmt.min_exp) {
        shift = i64::from(fmt.min_exp) - e2;
    }
    let (mut mant, inexact) = if shift <= 0 {
        debug_assert!(!sticky, "round_to_format needs a rounding bit");
        (q << -shift, sticky)
    } else if shift >= 128 {
        // Everything is below half of the smallest subnormal.
        (0, true)
    } else {
        let kept = q >> shift;
        let rem = q & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let round_up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        (kept + u128::from(round_up), rem != 0 || sticky)
    };
    let mut exp = e2 + shift;
    if mant == 0 {
        return (Rounded::Zero, inexact);
    }
    if mant >> fmt.prec != 0 {
        // Rounding carried into a new bit.
        mant >>= 1;
        exp += 1;
    }
    if exp > i64::from(fmt.max_exp) {
        return (Rounded::Overflow, true);
    }
    (
        Rounded::Finite {
            mant: mant as u64,
            exp: exp as i32,
        },
        inexact,
    )
}

/// Accumulates hex digits into a `u128` (up to 31 significant digits, the
/// rest folded into a sticky bit). Returns `(q, sticky, e2)` such that the
/// value is `(q + f) * 2^e2`.
pub(crate) fn hex_digits_to_bits(int: &[u8], frac: &[u8], exp: i64) -> (u128, bool, i64) {
    let mut q: u128 = 0;
    let mut sticky = false;
    let mut e2 = exp;
    let mut significant = 0usize;
    let digits = int
        .iter()
        .map(|&d| (d, true))
        .chain(frac.iter().map(|&d| (d, false)));
    for (d, in_int) in digits {
        let v = (d as char).to_digit(16).unwrap_or(0);
        if significant == 0 && v == 0 {
            if !in_int {
                e2 -= 4;
            }
            continue;
        }
        if significant < 31 {
            q = (q << 4) | u128::from(v);
            significant += 1;
            if !in_int {
                e2 -= 4;
            }
        } else {
            sticky |= v != 0;
            if in_int {
                e2 += 4;
            }
        }
    }
    (q, sticky, e2.clamp(-EXP_CLAMP, EXP_CLAMP))
}

/// Result of [`strtod`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    /// The converted value (0.0 when nothing was converted).
    pub value: f64,
    /// Bytes consumed, including leading whitespace; 0 when no conversion
    /// was performed (C's `endptr == nptr`).
    pub consumed: usize,
    /// Whether glibc would set `errno = ERANGE` (overflow to infinity,
    /// underflow to zero, or an inexact subnormal result).
    pub range_error: bool,
}

fn f64_from_parts(neg: bool, r: Rounded) -> f64 {
    let magnitude = match r {
        Rounded::Zero => 0.0,
        Rounded::Overflow => f64::INFINITY,
        Rounded::Finite { mant, exp } => {
            if mant >> 52 != 0 {
                let biased = (exp + 1075) as u64;
                f64::from_bits((biased << 52) | (mant & ((1 << 52) - 1)))
            } else {
                f64::from_bits(mant)
            }
        }
    };
    if neg {
        -magnitude
    } else {
        magnitude
    }
}

/// glibc `strtod` on a byte slice (the slice end acts as the C terminator):
/// converts the longest valid prefix after optional C whitespace.
///
/// Accepts decimal (`1`, `1.`, `.5`, `1e-3`), hexadecimal (`0x1.8p3`),
/// `inf`/`infinity` and `nan`/`nan(...)` in any letter case, each with an
/// optional sign. Decimal conversion is correctly rounded.
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        consumed: 0,
        range_error: false,
    };
    let Some(sc) = scan_float(s) else {
        return none;
    };
    let sign = |v: f64| if sc.neg { -v } else { v };
    let (value, range_error) = match sc.syntax {
        FloatSyntax::Inf => (sign(f64::INFINITY), false),
        FloatSyntax::Nan => (sign(f64::NAN), false),
        FloatSyntax::Hex { int, frac, exp } => {
            let (q, sticky, e2) = hex_digits_to_bits(int, frac, exp);
            let (r, inexact) = round_to_format(q, sticky, e2, F64_FORMAT);
            let v = f64_from_parts(sc.neg, r);
            let tiny = matches!(r, Rounded::Finite { mant, .. } if mant >> 52 == 0);
            let range = r == Rounded::Overflow || (inexact && (tiny || r == Rounded::Zero));
            (v, range)
        }
        FloatSyntax::Decimal { int, frac, .. } => {
            let text = std::str::from_utf8(&s[sc.start..sc.end]).unwrap_or("0");
            // The scanner only accepts a subset of Rust's float grammar.
            let v: f64 = text.parse().unwrap_or(0.0);
            let nonzero = int.iter().chain(frac).any(|&d| d != b'0');
            let range = v.is_infinite() || (nonzero && (v == 0.0 || v.is_subnormal()));
            (v, range)
        }
    };
    Strtod {
        value,
        consumed: sc.end,
        range_error,
    }
}

/// Strict double parsing (Redis `string2d`, behind `getDoubleFromObject`:
/// ZADD/ZINCRBY scores, weights, GEO coordinates, ...).
///
/// The whole slice must be one `strtod` literal without leading whitespace;
/// NaN and overflowing/underflowing-to-zero literals are rejected, while
/// `inf`, `-Infinity`, hex floats, `+1`, `.5` and `5.` are accepted.
pub fn string2d(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(s);
    if r.consumed != s.len()
        || (r.range_error && (r.value.is_infinite() || r.value == 0.0))
        || r.value.is_nan()
    {
        return None;
    }
    Some(r.value)
}

/// Parses one `ZRANGEBYSCORE`-style bound exactly like `zslParseRange`:
/// an optional leading `(` marks it exclusive, then C `strtod` must stop at
/// the end of the string (or at an embedded NUL). Only NaN is rejected, so
/// leading whitespace, an empty string (= 0), and overflow (= ±inf) are
/// accepted. Returns `(value, exclusive)`.
pub fn parse_range_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, body) = match s.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, s),
    };
    let r = strtod(body);
    if !matches!(body.get(r.consumed), None | Some(0)) || r.value.is_nan() {
        return None;
    }
    Some((r.value, exclusive))
}

/// Reads a score stored in a listpack (Redis `zzlStrtod`): the first 127
/// bytes are converted with `strtod`, ignoring trailing garbage and errors.
pub fn zzl_strtod(s: &[u8]) -> f64 {
    strtod(&s[..s.len().min(127)]).value
}

/// Returns the value as `i64` if the double holds an integer in
/// `[-2^62, 2^62]` (Redis `double2ll`, used to store integral scores
/// compactly).
pub fn double2ll(d: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None;
    }
    let ll = d as i64;
    (ll as f64 == d).then_some(ll)
}

// ---------------------------------------------------------------------------
// Double formatting
// ---------------------------------------------------------------------------

/// `fmt::Write` into a fixed slice, failing when full.
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the `precision` most significant decimal digits of finite `x`
/// (correctly rounded, ties to even) into `digits` and returns the decimal
/// exponent of the first digit. `scratch` must hold `precision + 8` bytes.
fn exp_digits(x: f64, precision: usize, scratch: &mut [u8], digits: &mut [u8]) -> i32 {
    use fmt::Write as _;
    let mut w = SliceWriter {
        buf: scratch,
        len: 0,
    };
    // Rust's `{:e}` with a precision is exact and rounds half to even, the
    // same as glibc. Output looks like "d.ddddde-5".
    let _ = write!(w, "{:.*e}", precision - 1, x.abs());
    let text = &w.buf[..w.len];
    let e_pos = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let mut n = 0;
    for &b in &text[..e_pos] {
        if b.is_ascii_digit() {
            digits[n] = b;
            n += 1;
        }
    }
    debug_assert_eq!(n, precision);
    let exp_text = std::str::from_utf8(&text[e_pos + 1..]).unwrap_or("0");
    exp_text.parse().unwrap_or(0)
}

/// Assembles glibc `%.{P}g` output from `P` rounded digits and the
/// decimal exponent of the first one (shared with `longdouble`).
pub(crate) fn assemble_g(neg: bool, digits: &[u8], exp: i32, out: &mut impl Extend<u8>) {
    let p = digits.len() as i32;
    if neg {
        out.extend([b'-']);
    }
    let trimmed_len = |d: &[u8]| d.len() - d.iter().rev().take_while(|&&b| b == b'0').count();
    if (-4..p).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.extend(digits[..int_len].iter().copied());
            let frac = &digits[int_len..];
            let frac = &frac[..trimmed_len(frac)];
            if !frac.is_empty() {
                out.extend([b'.']);
                out.extend(frac.iter().copied());
            }
        } else {
            let sig = &digits[..trimmed_len(digits)];
            out.extend([b'0', b'.']);
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend(sig.iter().copied());
        }
    } else {
        out.extend([digits[0]]);
        let frac = &digits[1..];
        let frac = &frac[..trimmed_len(frac)];
        if !frac.is_empty() {
            out.extend([b'.']);
            out.extend(frac.iter().copied());
        }
        out.extend([b'e', if exp < 0 { b'-' } else { b'+' }]);
        let e = exp.unsigned_abs();
        if e < 10 {
            out.extend([b'0']);
        }
        out.extend(ull2string(u64::from(e)).iter().copied());
    }
}

/// Non-finite values as glibc prints them: `inf`, `-inf`, `nan`, `-nan`.
fn non_finite_text(x: f64) -> &'static [u8] {
    match (x.is_nan(), x.is_sign_negative()) {
        (true, false) => b"nan",
        (true, true) => b"-nan",
        (false, false) => b"inf",
        (false, true) => b"-inf",
    }
}

impl Extend<u8> for NumStr {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, iter: I) {
        for b in iter {
            self.push(b);
        }
    }
}

/// Formats `x` exactly like glibc `printf("%.17g", x)`: the representation
/// Redis 7.0 uses for double replies (`addReplyDouble`, RESP2 bulk and RESP3
/// `,` alike) and inside `d2string`.
pub fn fmt_g17(x: f64) -> NumStr {
    if !x.is_finite() {
        return NumStr::from_slice(non_finite_text(x));
    }
    let mut scratch = [0u8; 32];
    let mut digits = [0u8; 17];
    let exp = exp_digits(x, 17, &mut scratch, &mut digits);
    let mut out = NumStr::empty();
    assemble_g(x.is_sign_negative(), &digits, exp, &mut out);
    out
}

/// Appends `x` formatted like glibc `printf("%.{precision}g", x)` to `out`
/// (a precision of 0 is treated as 1, as C does).
pub fn format_g(x: f64, precision: usize, out: &mut Vec<u8>) {
    if !x.is_finite() {
        out.extend_from_slice(non_finite_text(x));
        return;
    }
    let p = precision.max(1);
    let mut scratch = vec![0u8; p + 16];
    let mut digits = vec![0u8; p];
    let exp = exp_digits(x, p, &mut scratch, &mut digits);
    assemble_g(x.is_sign_negative(), &digits, exp, out);
}

/// Redis `d2string`: the text stored for sorted-set scores in listpacks and
/// returned by the module API. `nan`, `inf`, `-inf`, `0`, `-0`, integers
/// within ±2^62 without a fraction, otherwise `%.17g`.
pub fn d2string(x: f64) -> NumStr {
    if x.is_nan() {
        NumStr::from_slice(b"nan")
    } else if x.is_infinite() {
        NumStr::from_slice(if x < 0.0 { b"-inf" } else { b"inf" })
    } else if x == 0.0 {
        NumStr::from_slice(if x.is_sign_negative() { b"-0" } else { b"0" })
    } else if let Some(ll) = double2ll(x) {
        ll2string(ll)
    } else {
        fmt_g17(x)
    }
}

/// Redis `fixedpoint_d2string` (used by GEO distance replies with 4 digits):
/// `x * 10^digits` rounded with `llrint` (ties to even) and printed with
/// `digits` fractional digits. Returns `None` when `digits` is not in
/// `1..=17`, like the C function's error path.
///
/// Redis only calls this with 4 digits. For an odd `digits` the C code
/// overwrites its own decimal point (a Redis bug); this function returns
/// the intended text instead.
pub fn fixedpoint_d2string(x: f64, digits: u32) -> Option<NumStr> {
    if !(1..=17).contains(&digits) {
        return None;
    }
    let mut out = NumStr::empty();
    if x == 0.0 {
        out.push_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', digits as usize));
        return Some(out);
    }
    let scaled = (x * 10f64.powi(digits as i32)).round_ties_even();
    // llrint() yields LLONG_MIN for NaN and out-of-range values on x86-64.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let svalue = if (-TWO_POW_63..TWO_POW_63).contains(&scaled) {
        scaled as i64
    } else {
        i64::MIN
    };
    if svalue < 0 {
        out.push(b'-');
    }
    let value = svalue.unsigned_abs();
    let pow = 10u64.pow(digits);
    out.extend(ull2string(value / pow).iter().copied());
    out.push(b'.');
    let frac = ull2string(value % pow);
    out.extend(std::iter::repeat_n(b'0', digits as usize - frac.len()));
    out.extend(frac.iter().copied());
    Some(out)
}

/// Redis `trimDoubleString`: if the text contains a `.`, drops trailing
/// zeros and then a trailing `.`.
pub fn trim_double_string(s: &[u8]) -> &[u8] {
    if !s.contains(&b'.') {
        return s;
    }
    let s = &s[..s.len() - s.iter().rev().take_while(|&&b| b == b'0').count()];
    s.strip_suffix(b".").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_matches_redis_unit_tests() {
        let ok: &[(&[u8], i64)] = &[
            (b"-1", -1),
            (b"0", 0),
            (b"1", 1),
            (b"99", 99),
            (b"-99", -99),
            (b"-9223372036854775808", i64::MIN),
            (b"9223372036854775807", i64::MAX),
        ];
        for &(s, v) in ok {
            assert_eq!(string2ll(s), Some(v), "{:?}", s);
            assert_eq!(string2l(s), Some(v));
        }
        let bad: &[&[u8]] = &[
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"-",
            b"",
            b"-9223372036854775809",
            b"9223372036854775808",
            b"18446744073709551616",
            b"99999999999999999999",
            b"1a",
            b"0x10",
            b"000000000000000000001",
        ];
        for &s in bad {
            assert_eq!(string2ll(s), None, "{:?}", s);
        }
    }

    #[test]
    fn string2ull_quirks() {
        assert_eq!(string2ull(b"0"), Some(0));
        assert_eq!(string2ull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(string2ull(b"18446744073709551616"), None);
        assert_eq!(string2ull(b"-1"), None);
        assert_eq!(string2ull(b" -1"), Some(u64::MAX));
        assert_eq!(string2ull(b"-0"), Some(0));
        assert_eq!(string2ull(b"+5"), Some(5));
        assert_eq!(string2ull(b"007"), Some(7));
        assert_eq!(string2ull(b" 7"), Some(7));
        assert_eq!(string2ull(b"7 "), None);
        assert_eq!(string2ull(b""), None);
        assert_eq!(string2ull(b"  "), None);
        assert_eq!(string2ull(b"12\0junk"), Some(12));
    }

    #[test]
    fn integer_formatting() {
        for v in [
            0i64,
            -1,
            9,
            10,
            99,
            100,
            -2147483648,
            i64::MIN,
            i64::MAX,
            1234567890123,
        ] {
            assert_eq!(ll2string(v).as_str(), v.to_string());
            assert_eq!(sdigits10(v) as usize, v.to_string().len());
        }
        for v in [0u64, 7, 42, 1000, u64::MAX, 10u64.pow(19)] {
            assert_eq!(ull2string(v).as_str(), v.to_string());
            assert_eq!(digits10(v) as usize, v.to_string().len());
        }
        let mut out = b"x".to_vec();
        append_i64(&mut out, -5);
        append_u64(&mut out, 17);
        assert_eq!(out, b"x-517");
    }

    #[test]
    fn strtod_prefixes() {
        let cases: &[(&str, f64, usize)] = &[
            ("0x", 0.0, 1),
            ("0x.", 0.0, 1),
            ("0x.8p1", 1.0, 6),
            ("0x1p", 1.0, 3),
            ("0x1.p", 1.0, 4),
            ("1e", 1.0, 1),
            ("1e+", 1.0, 1),
            (".e5", 0.0, 0),
            (".", 0.0, 0),
            ("-", 0.0, 0),
            ("infin", f64::INFINITY, 3),
            ("-Infinity", f64::NEG_INFINITY, 9),
            (" \x0b1", 1.0, 3),
            ("1.5e3x", 1500.0, 5),
            ("0X1P-1074", 5e-324, 9),
        ];
        for &(s, v, used) in cases {
            let r = strtod(s.as_bytes());
            assert_eq!((r.value, r.consumed), (v, used), "{s:?}");
        }
        let r = strtod(b"nan(abc");
        assert!(r.value.is_nan() && r.consumed == 3);
        let r = strtod(b"-nan(a_1)");
        assert!(r.value.is_nan() && r.value.is_sign_negative() && r.consumed == 9);
        assert!(strtod(b"1e400").range_error);
        assert!(strtod(b"1e-400").range_error);
        assert!(!strtod(b"0e-400").range_error);
        assert!(strtod(b"0x1p-1075").range_error);
        assert!(!strtod(b"0x1p-1074").range_error);
        assert!(strtod(b"1e-310").range_error);
    }

    #[test]
    fn hex_float_rounding() {
        assert_eq!(strtod(b"0x1.fffffffffffff8p0").value, 2.0);
        assert_eq!(
            strtod(b"0x1.fffffffffffff7ffffffffffffffffffp0").value,
            2.0 - f64::EPSILON
        );
        assert_eq!(strtod(b"0x1.00000000000008p0").value, 1.0);
        assert_eq!(
            strtod(b"0x1.000000000000080000000000000000001p0").value,
            1.0 + f64::EPSILON
        );
        assert_eq!(strtod(b"0x1.fffffffffffffp1023").value, f64::MAX);
        assert_eq!(strtod(b"0x1.fffffffffffff8p1023").value, f64::INFINITY);
        assert_eq!(strtod(b"0x0.0000000000001p-1022").value, 5e-324);
        assert_eq!(strtod(b"0x1.8p-1074").value, 1e-323);
        assert_eq!(
            strtod(b"0x0000000000000000000000000000000000001p4").value,
            16.0
        );
        assert_eq!(
            strtod(b"0x100000000000000000000000000000000000000").value,
            2f64.powi(152)
        );
    }

    #[test]
    fn string2d_rules() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("+1", 1.0),
            ("-1.5", -1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("0x10", 16.0),
            ("0x1p3", 8.0),
            ("inf", f64::INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
            ("0e-500", 0.0),
            ("1e-310", 1e-310),
        ];
        for &(s, v) in ok {
            assert_eq!(string2d(s.as_bytes()), Some(v), "{s:?}");
        }
        for s in [
            "", " 1", "1 ", "1e", "nan", "-nan", "1e400", "1e-400", "abc", "1\x002", "infinit",
            "\t1",
        ] {
            assert_eq!(string2d(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn range_bounds() {
        assert_eq!(parse_range_bound(b"1.5"), Some((1.5, false)));
        assert_eq!(parse_range_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_range_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_range_bound(b"(+inf"), Some((f64::INFINITY, true)));
        assert_eq!(parse_range_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_range_bound(b""), Some((0.0, false)));
        assert_eq!(parse_range_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_range_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_range_bound(b"1\0zz"), Some((1.0, false)));
        assert_eq!(parse_range_bound(b"nan"), None);
        assert_eq!(parse_range_bound(b"1 "), None);
        assert_eq!(parse_range_bound(b"  "), None);
        assert_eq!(parse_range_bound(b"[1"), None);
        assert_eq!(zzl_strtod(b"3.25"), 3.25);
        assert_eq!(zzl_strtod(b"junk"), 0.0);
    }

    #[test]
    fn g17_table() {
        // Expected strings produced by glibc printf("%.17g").
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (-2.5, "-2.5"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e-4, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (0.00012345, "0.00012344999999999999"),
            (2.675, "2.6749999999999998"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (100000000001.0 / 1024.0, "97656250.000976562"), // exact tie, to even
            (1e100, "1e+100"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
        ];
        for &(x, want) in cases {
            assert_eq!(fmt_g17(x).as_str(), want, "{x:e}");
            let mut v = Vec::new();
            format_g(x, 17, &mut v);
            assert_eq!(v, want.as_bytes());
        }
    }

    #[test]
    fn general_precision() {
        let cases: &[(f64, usize, &str)] = &[
            (0.1, 30, "0.100000000000000005551115123126"),
            (1234.5, 0, "1e+03"),
            (1234.5, 4, "1234"),
            (1235.5, 4, "1236"),
            (0.5, 0, "0.5"),
            (2.5, 1, "2"),
            (1e-5, 6, "1e-05"),
            (123456.0, 6, "123456"),
            (1234567.0, 6, "1.23457e+06"),
            (9.9999e-5, 3, "0.0001"),
            (1e300, 3, "1e+300"),
        ];
        for &(x, p, want) in cases {
            let mut v = Vec::new();
            format_g(x, p, &mut v);
            assert_eq!(String::from_utf8(v).unwrap(), want, "{x} %.{p}g");
        }
    }

    #[test]
    fn d2string_table() {
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0, "0"),
            (-0.0, "-0"),
            (3.0, "3"),
            (-42.0, "-42"),
            (4611686018427387904.0, "4611686018427387904"),
            (9223372036854775808.0, "9.2233720368547758e+18"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
        ];
        for &(x, want) in cases {
            assert_eq!(d2string(x).as_str(), want);
        }
        assert_eq!(
            double2ll(-4611686018427387904.0),
            Some(-4611686018427387904)
        );
        assert_eq!(double2ll(0.5), None);
        assert_eq!(double2ll(f64::NAN), None);
    }

    #[test]
    fn fixedpoint() {
        let f = |x, d| fixedpoint_d2string(x, d).map(|s| s.as_str().to_owned());
        assert_eq!(f(0.0, 4).as_deref(), Some("0.0000"));
        assert_eq!(f(-0.0, 4).as_deref(), Some("0.0000"));
        assert_eq!(f(1.5, 4).as_deref(), Some("1.5000"));
        assert_eq!(f(-0.00001, 4).as_deref(), Some("0.0000"));
        assert_eq!(f(-0.5, 4).as_deref(), Some("-0.5000"));
        assert_eq!(f(0.00005, 4).as_deref(), Some("0.0000"));
        assert_eq!(f(0.00015, 4).as_deref(), Some("0.0001")); // 1.4999.. after scaling
        assert_eq!(f(123.456789, 4).as_deref(), Some("123.4568"));
        assert_eq!(f(0.1, 16).as_deref(), Some("0.1000000000000000"));
        assert_eq!(f(1.0, 0), None);
        assert_eq!(f(1.0, 18), None);
        assert_eq!(f(1e300, 4).as_deref(), Some("-922337203685477.5808"));
        assert_eq!(trim_double_string(b"1.500"), b"1.5");
        assert_eq!(trim_double_string(b"2.000"), b"2");
        assert_eq!(trim_double_string(b"100"), b"100");
    }
    /// Differential test against glibc `printf("%.*g")` and `strtod` for
    /// random bit patterns and literals. Needs `cc`.
    #[test]
    #[ignore = "needs a C compiler and glibc; run with --ignored"]
    fn compare_with_glibc_double() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        const C_SRC: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
int main(void) {
    unsigned long long bits; int p; char lit[256];
    while (scanf("%llx %d %255s", &bits, &p, lit) == 3) {
        double d, v; char *end;
        memcpy(&d, &bits, 8);
        errno = 0;
        v = strtod(lit, &end);
        memcpy(&bits, &v, 8);
        printf("%.*g %.17g %llx %d %d\n", p, d, d, bits, (int)(end - lit), errno == ERANGE);
    }
    return 0;
}
"#;
        let dir = std::env::temp_dir().join(format!("redust-num-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, bin) = (dir.join("num.c"), dir.join("num"));
        std::fs::write(&src, C_SRC).unwrap();
        let built = Command::new("cc")
            .arg("-O2")
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .status();
        assert!(built.is_ok_and(|s| s.success()), "cc failed");
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let cases: Vec<(f64, usize, String)> = (0..50_000)
            .map(|i| {
                let d = match i % 3 {
                    0 => f64::from_bits(next()),
                    1 => (next() % 1_000_000) as f64 / 1024.0,
                    _ => (next() % 100_000) as f64 * 10f64.powi((next() % 40) as i32 - 20),
                };
                let lit = match i % 4 {
                    0 => format!("{:e}", f64::from_bits(next())),
                    1 => format!(
                        "0x{:x}.{:x}p{}",
                        next() >> (next() % 64),
                        next() >> 40,
                        (next() % 2300) as i64 - 1150
                    ),
                    2 => format!(
                        "{}e{}",
                        next() % 100_000_000_000,
                        (next() % 700) as i64 - 350
                    ),
                    _ => format!(
                        "{}.{}e{}x",
                        next() % 1000,
                        next() % 1000,
                        (next() % 20) as i64 - 10
                    ),
                };
                (d, (next() % 30) as usize, lit)
            })
            .collect();
        let input: String = cases
            .iter()
            .map(|(d, p, lit)| format!("{:x} {p} {lit}\n", d.to_bits()))
            .collect();
        let mut child = Command::new(&bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8(output.stdout).unwrap();
        for ((d, p, lit), want) in cases.iter().zip(text.lines()) {
            let mut got = Vec::new();
            format_g(*d, *p, &mut got);
            let r = strtod(lit.as_bytes());
            let rest = format!(
                " {} {:x} {} {}",
                fmt_g17(*d),
                r.value.to_bits(),
                r.consumed,
                u8::from(r.range_error)
            );
            got.extend_from_slice(rest.as_bytes());
            assert_eq!(String::from_utf8(got).unwrap(), want, "{d:e} {p} {lit}");
        }
    }
}
