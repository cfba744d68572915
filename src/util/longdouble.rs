//! Software emulation of the x87 80-bit `long double` that Redis 7.0 uses
//! for `INCRBYFLOAT` and `HINCRBYFLOAT` on x86-64 Linux.
//!
//! [`LongDouble`] has a 64-bit significand and a 15-bit exponent (normal
//! range 2^-16382 ..< 2^16384, subnormals down to 2^-16445). Parsing
//! ([`strtold`], [`string2ld`]) is correctly rounded like glibc `strtold`,
//! addition is correctly rounded (nearest-even), and printing reproduces
//! glibc's `%.NLf`, `%.NLg` and `%La` byte for byte by expanding the exact
//! binary value with a small private bignum. [`ld2string`] adds Redis's
//! `LD_STR_HUMAN` trimming on top, which is what the two commands reply
//! with and store.
//!
//! Redis flow for `INCRBYFLOAT key incr`: parse the current value and the
//! increment with [`string2ld`] (error "value is not a valid float"), add,
//! reject a NaN or infinite sum ("increment would produce NaN or
//! Infinity"), and store/reply `ld2string(sum, LdStrMode::Human)`.

use std::cmp::Ordering;
use std::ops::{Add, Neg};

use super::numbers::{
    assemble_g, hex_digits_to_bits, is_c_space, round_to_format, scan_float, BinFormat,
    FloatSyntax, Rounded, F64_FORMAT,
};

/// Redis `MAX_LONG_DOUBLE_CHARS`: the buffer size used around long doubles.
/// `string2ld` rejects inputs of this length or longer.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// x87 extended precision: 64-bit significand with explicit integer bit.
const F80_FORMAT: BinFormat = BinFormat {
    prec: 64,
    min_exp: -16445,
    max_exp: 16320,
};

/// Significant decimal digits kept while parsing; the rest only sets a
/// sticky digit. Any midpoint between two `LongDouble`s has fewer
/// significant digits than this, so rounding stays exact.
const MAX_SIG_DIGITS: usize = 11_800;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Zero,
    /// `mant * 2^exp`, normalised as by [`round_to_format`] for F80.
    Finite {
        mant: u64,
        exp: i32,
    },
    Inf,
    Nan,
}

/// An x87 80-bit extended precision value (`long double` on x86-64).
#[derive(Clone, Copy, Debug)]
pub struct LongDouble {
    neg: bool,
    kind: Kind,
}

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Zero,
    };
    /// Positive infinity.
    pub const INFINITY: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Inf,
    };
    /// A quiet NaN (positive sign).
    pub const NAN: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Nan,
    };

    fn from_rounded(neg: bool, r: Rounded) -> Self {
        let kind = match r {
            Rounded::Zero => Kind::Zero,
            Rounded::Finite { mant, exp } => Kind::Finite { mant, exp },
            Rounded::Overflow => Kind::Inf,
        };
        LongDouble { neg, kind }
    }

    /// Exact value `mant * 2^exp` (normalising, rounding if needed).
    fn from_parts(neg: bool, mant: u64, exp: i64) -> Self {
        let (r, _) = round_to_format(u128::from(mant), false, exp, F80_FORMAT);
        Self::from_rounded(neg, r)
    }

    /// Converts exactly from a `double` (every `f64` is representable).
    pub fn from_f64(x: f64) -> Self {
        let neg = x.is_sign_negative();
        if x.is_nan() {
            return LongDouble {
                neg,
                kind: Kind::Nan,
            };
        }
        if x.is_infinite() {
            return LongDouble {
                neg,
                kind: Kind::Inf,
            };
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        if biased == 0 {
            if frac == 0 {
                return LongDouble {
                    neg,
                    kind: Kind::Zero,
                };
            }
            Self::from_parts(neg, frac, -1074)
        } else {
            Self::from_parts(neg, frac | (1 << 52), biased - 1075)
        }
    }

    /// Converts exactly from an integer (like C's `(long double)ll`).
    pub fn from_i64(v: i64) -> Self {
        if v == 0 {
            return Self::ZERO;
        }
        Self::from_parts(v < 0, v.unsigned_abs(), 0)
    }

    /// Rounds to the nearest `double` (ties to even), like a C cast.
    pub fn to_f64(self) -> f64 {
        let magnitude = match self.kind {
            Kind::Zero => 0.0,
            Kind::Inf => f64::INFINITY,
            Kind::Nan => f64::NAN,
            Kind::Finite { mant, exp } => {
                let (r, _) = round_to_format(u128::from(mant), false, i64::from(exp), F64_FORMAT);
                match r {
                    Rounded::Zero => 0.0,
                    Rounded::Overflow => f64::INFINITY,
                    Rounded::Finite { mant, exp } if mant >> 52 != 0 => {
                        let biased = (exp + 1075) as u64;
                        f64::from_bits((biased << 52) | (mant & ((1 << 52) - 1)))
                    }
                    Rounded::Finite { mant, .. } => f64::from_bits(mant),
                }
            }
        };
        if self.neg {
            -magnitude
        } else {
            magnitude
        }
    }

    /// True for NaN.
    pub fn is_nan(self) -> bool {
        matches!(self.kind, Kind::Nan)
    }

    /// True for ±infinity.
    pub fn is_infinite(self) -> bool {
        matches!(self.kind, Kind::Inf)
    }

    /// True unless NaN or infinite.
    pub fn is_finite(self) -> bool {
        matches!(self.kind, Kind::Zero | Kind::Finite { .. })
    }

    /// True for ±0.
    pub fn is_zero(self) -> bool {
        matches!(self.kind, Kind::Zero)
    }

    /// The sign bit (also set for `-0` and negative NaN).
    pub fn is_sign_negative(self) -> bool {
        self.neg
    }

    /// The significand and binary exponent of a finite non-zero value
    /// (`value = ±mant * 2^exp`), mainly for tests and debugging.
    pub fn to_parts(self) -> Option<(bool, u64, i32)> {
        match self.kind {
            Kind::Finite { mant, exp } => Some((self.neg, mant, exp)),
            _ => None,
        }
    }

    /// Appends glibc `printf("%.{precision}Lf", self)`.
    pub fn fmt_fixed(self, precision: usize, out: &mut Vec<u8>) {
        let (mant, exp) = match self.kind {
            Kind::Nan | Kind::Inf => return self.push_non_finite(out),
            Kind::Zero => (0, 0),
            Kind::Finite { mant, exp } => (mant, exp),
        };
        if self.neg {
            out.push(b'-');
        }
        // round(value * 10^precision) as an integer, ties to even on the
        // exact value; its last `precision` digits are the fraction.
        let mut scaled = Big::from_u64(mant);
        scaled.mul_pow10(precision);
        let rounded = if exp >= 0 {
            scaled.shl(exp as u32);
            scaled
        } else {
            scaled.shr_round_even(u64::from(exp.unsigned_abs()))
        };
        let mut digits = Vec::new();
        rounded.write_decimal(&mut digits);
        if digits.len() <= precision {
            let pad = precision + 1 - digits.len();
            digits.splice(0..0, std::iter::repeat_n(b'0', pad));
        }
        let int_len = digits.len() - precision;
        out.extend_from_slice(&digits[..int_len]);
        if precision > 0 {
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }

    /// Appends glibc `printf("%.{precision}Lg", self)` (precision 0 acts
    /// as 1).
    pub fn fmt_general(self, precision: usize, out: &mut Vec<u8>) {
        let p = precision.max(1);
        let (mant, exp) = match self.kind {
            Kind::Nan | Kind::Inf => return self.push_non_finite(out),
            Kind::Zero => {
                out.extend_from_slice(if self.neg { b"-0" } else { b"0" });
                return;
            }
            Kind::Finite { mant, exp } => (mant, exp),
        };
        let (digits, x) = significant_digits(mant, exp, p);
        // |x| <= 4951 for every finite long double.
        assemble_g(self.neg, &digits, x as i32, out);
    }

    /// Appends glibc `printf("%La", self)` for the x87 format, e.g.
    /// `0xa.8p+0` for 10.5 (the leading hex digit holds the top four bits).
    pub fn fmt_hex(self, out: &mut Vec<u8>) {
        let (mant, exp) = match self.kind {
            Kind::Nan | Kind::Inf => return self.push_non_finite(out),
            Kind::Zero => (0, -60),
            Kind::Finite { mant, exp } => (mant, exp),
        };
        if self.neg {
            out.push(b'-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"0x");
        out.push(HEX[(mant >> 60) as usize]);
        let mut rest = mant << 4;
        if rest != 0 {
            out.push(b'.');
            while rest != 0 {
                out.push(HEX[(rest >> 60) as usize]);
                rest <<= 4;
            }
        }
        let e = i64::from(exp) + 60;
        out.push(b'p');
        out.push(if e < 0 { b'-' } else { b'+' });
        out.extend_from_slice(e.unsigned_abs().to_string().as_bytes());
    }

    fn push_non_finite(self, out: &mut Vec<u8>) {
        if self.neg {
            out.push(b'-');
        }
        out.extend_from_slice(if self.is_nan() { b"nan" } else { b"inf" });
    }
}

impl Add for LongDouble {
    type Output = LongDouble;

    /// Correctly rounded IEEE addition (round to nearest, ties to even),
    /// like x87 `long double` addition.
    fn add(self, other: LongDouble) -> LongDouble {
        let (a, b) = (self, other);
        match (a.kind, b.kind) {
            (Kind::Nan, _) => a,
            (_, Kind::Nan) => b,
            (Kind::Inf, Kind::Inf) if a.neg != b.neg => LongDouble {
                neg: true,
                kind: Kind::Nan,
            },
            (Kind::Inf, _) => a,
            (_, Kind::Inf) => b,
            (Kind::Zero, Kind::Zero) => LongDouble {
                neg: a.neg && b.neg,
                kind: Kind::Zero,
            },
            (Kind::Zero, _) => b,
            (_, Kind::Zero) => a,
            (Kind::Finite { mant: ma, exp: ea }, Kind::Finite { mant: mb, exp: eb }) => {
                add_finite((a.neg, ma, ea), (b.neg, mb, eb))
            }
        }
    }
}

impl Neg for LongDouble {
    type Output = LongDouble;
    fn neg(self) -> LongDouble {
        LongDouble {
            neg: !self.neg,
            kind: self.kind,
        }
    }
}

impl PartialEq for LongDouble {
    /// IEEE equality: NaN is unequal to everything, `0 == -0`.
    fn eq(&self, other: &Self) -> bool {
        match (self.kind, other.kind) {
            (Kind::Nan, _) | (_, Kind::Nan) => false,
            (Kind::Zero, Kind::Zero) => true,
            (Kind::Inf, Kind::Inf) => self.neg == other.neg,
            (Kind::Finite { mant: a, exp: x }, Kind::Finite { mant: b, exp: y }) => {
                self.neg == other.neg && a == b && x == y
            }
            _ => false,
        }
    }
}

impl From<f64> for LongDouble {
    fn from(x: f64) -> Self {
        LongDouble::from_f64(x)
    }
}

impl From<i64> for LongDouble {
    fn from(v: i64) -> Self {
        LongDouble::from_i64(v)
    }
}

/// The `p` leading significant decimal digits of `mant * 2^exp` (> 0),
/// rounded half-to-even on the exact value, and the decimal exponent of the
/// first digit (after rounding, as `%e`/`%g` report it).
fn significant_digits(mant: u64, exp: i32, p: usize) -> (Vec<u8>, i64) {
    if exp < 0 {
        // Scale by 10^s so that p digits land left of the binary point,
        // correcting the logarithm estimate if it was off by one.
        let bits = i64::from(64 - mant.leading_zeros()) - 1 + i64::from(exp);
        let mut x = (bits as f64 * std::f64::consts::LOG10_2).floor() as i64;
        loop {
            let s = p as i64 - 1 - x;
            if s < 0 {
                break; // integer-sized value: use the exact expansion
            }
            let mut scaled = Big::from_u64(mant);
            scaled.mul_pow10(s as usize);
            let q = scaled.shr_round_even(u64::from(exp.unsigned_abs()));
            let mut digits = Vec::new();
            q.write_decimal(&mut digits);
            match digits.len().cmp(&p) {
                Ordering::Greater => x += 1,
                Ordering::Less => x -= 1,
                Ordering::Equal if q.is_zero() => x -= 1,
                Ordering::Equal => return (digits, x),
            }
        }
    }
    // Exact decimal expansion: value = all * 10^-point_shift.
    let mut big = Big::from_u64(mant);
    let point_shift = if exp >= 0 {
        big.shl(exp as u32);
        0
    } else {
        big.mul_pow5(exp.unsigned_abs() as usize);
        i64::from(exp.unsigned_abs())
    };
    let mut all = Vec::new();
    big.write_decimal(&mut all);
    let mut x = all.len() as i64 - 1 - point_shift;
    let mut digits: Vec<u8> = all.iter().take(p).copied().collect();
    digits.resize(p, b'0');
    if all.len() > p {
        let rest = &all[p..];
        let tail_nonzero = rest[1..].iter().any(|&d| d != b'0');
        let last_odd = (digits[p - 1] - b'0') % 2 == 1;
        if rest[0] > b'5' || (rest[0] == b'5' && (tail_nonzero || last_odd)) {
            // Propagate the carry; all nines become 10...0.
            match digits.iter().rposition(|&d| d != b'9') {
                Some(i) => {
                    digits[i] += 1;
                    digits[i + 1..].fill(b'0');
                }
                None => {
                    digits.fill(b'0');
                    digits[0] = b'1';
                    x += 1;
                }
            }
        }
    }
    (digits, x)
}

/// Adds two finite non-zero values with a single rounding.
fn add_finite(a: (bool, u64, i32), b: (bool, u64, i32)) -> LongDouble {
    // Order by exponent so that `hi` has the larger one.
    let (hi, lo) = if a.2 >= b.2 { (a, b) } else { (b, a) };
    let d = i64::from(hi.2) - i64::from(lo.2);
    // hi's significand gets 63 guard bits; lo is aligned to it. When more
    // than 63 bits of lo fall off, hi is normal (>= 2^126 here), so the
    // lost bits only matter as a sticky bit far below the rounding point.
    let big_hi = u128::from(hi.1) << 63;
    let (lo_floor, lost) = if d <= 63 {
        (u128::from(lo.1) << (63 - d), false)
    } else if d < 127 {
        let s = (d - 63) as u32;
        (u128::from(lo.1 >> s), lo.1 & ((1u64 << s) - 1) != 0)
    } else {
        (0, true)
    };
    let e2 = i64::from(hi.2) - 63;
    let (neg, q, sticky) = if hi.0 == lo.0 {
        (hi.0, big_hi + lo_floor, lost)
    } else {
        match big_hi.cmp(&lo_floor) {
            Ordering::Greater => {
                // Exact difference minus the lost fraction of lo.
                (hi.0, big_hi - lo_floor - u128::from(lost), lost)
            }
            Ordering::Less => (lo.0, lo_floor - big_hi, false),
            Ordering::Equal => return LongDouble::ZERO,
        }
    };
    let (r, _) = round_to_format(q, sticky, e2, F80_FORMAT);
    LongDouble::from_rounded(neg, r)
}

/// Result of [`strtold`].
#[derive(Clone, Copy, Debug)]
pub struct Strtold {
    /// The converted value (zero when nothing was converted).
    pub value: LongDouble,
    /// Bytes consumed including leading whitespace; 0 if no conversion.
    pub consumed: usize,
    /// Whether glibc would set `errno = ERANGE` (overflow, or an inexact
    /// result below the normal range, including underflow to zero).
    pub range_error: bool,
}

/// glibc `strtold` on a byte slice (the slice end acts as the C
/// terminator): converts the longest valid prefix after optional C
/// whitespace, correctly rounded to the x87 format.
pub fn strtold(s: &[u8]) -> Strtold {
    let Some(sc) = scan_float(s) else {
        return Strtold {
            value: LongDouble::ZERO,
            consumed: 0,
            range_error: false,
        };
    };
    let (value, range_error) = match sc.syntax {
        FloatSyntax::Inf => (
            LongDouble {
                neg: sc.neg,
                kind: Kind::Inf,
            },
            false,
        ),
        FloatSyntax::Nan => (
            LongDouble {
                neg: sc.neg,
                kind: Kind::Nan,
            },
            false,
        ),
        FloatSyntax::Hex { int, frac, exp } => {
            let (q, sticky, e2) = hex_digits_to_bits(int, frac, exp);
            let (r, inexact) = round_to_format(q, sticky, e2, F80_FORMAT);
            (LongDouble::from_rounded(sc.neg, r), range_flag(r, inexact))
        }
        FloatSyntax::Decimal { int, frac, exp } => {
            let (r, inexact) = decimal_to_f80(int, frac, exp);
            (LongDouble::from_rounded(sc.neg, r), range_flag(r, inexact))
        }
    };
    Strtold {
        value,
        consumed: sc.end,
        range_error,
    }
}

fn range_flag(r: Rounded, inexact: bool) -> bool {
    match r {
        Rounded::Overflow => true,
        Rounded::Zero => inexact,
        Rounded::Finite { mant, .. } => inexact && mant >> 63 == 0,
    }
}

/// Correctly rounded decimal -> x87 conversion of `0.int frac * 10^exp`
/// digits. Returns the rounded value and whether it is inexact.
fn decimal_to_f80(int: &[u8], frac: &[u8], exp: i64) -> (Rounded, bool) {
    let all = || int.iter().chain(frac.iter()).copied();
    let lead = all().take_while(|&d| d == b'0').count();
    let total = int.len() + frac.len();
    let nonzero_end = total - all().rev().take_while(|&d| d == b'0').count();
    if lead == total {
        return (Rounded::Zero, false);
    }
    let sig_len = nonzero_end - lead;
    let kept = sig_len.min(MAX_SIG_DIGITS);
    let sticky = all()
        .skip(lead + kept)
        .take(nonzero_end - lead - kept)
        .any(|d| d != b'0');
    // value = N * 10^e10 with N the kept significant digits.
    let mut e10 = exp + int.len() as i64 - (lead + kept) as i64;
    // Decimal position of the leading digit.
    let magnitude = e10 + kept as i64 - 1;
    if magnitude > 4933 {
        return (Rounded::Overflow, true);
    }
    if magnitude < -4952 {
        return (Rounded::Zero, true);
    }
    let mut n = Big::from_digits(all().skip(lead).take(kept));
    if sticky {
        // A trailing 1 stands for the dropped non-zero tail; no rounding
        // boundary has this many significant digits.
        n.mul_small(10);
        n.add_small(1);
        e10 -= 1;
    }
    if e10 >= 0 {
        // value = N * 5^e * 2^e
        n.mul_pow5(e10 as usize);
        let (q, sticky) = n.top_bits();
        let extra = n.bit_len().saturating_sub(128) as i64;
        round_to_format(q, sticky, e10 + extra, F80_FORMAT)
    } else {
        // value = N / 5^k * 2^-k
        let k = e10.unsigned_abs() as usize;
        let mut d = Big::from_u64(1);
        d.mul_pow5(k);
        let shift = d.bit_len() as i64 - n.bit_len() as i64 + 66;
        if shift >= 0 {
            n.shl(shift as u32);
        } else {
            d.shl((-shift) as u32);
        }
        let (q, rem_nonzero) = n.div_small_quotient(&d, 67);
        round_to_format(q, rem_nonzero, -shift - k as i64, F80_FORMAT)
    }
}

/// Strict long double parsing (Redis `string2ld`, behind
/// `getLongDoubleFromObject`).
///
/// Rejects empty input, inputs of [`MAX_LONG_DOUBLE_CHARS`] bytes or more,
/// leading whitespace, anything `strtold` does not consume completely
/// (including embedded NULs), overflow, underflow to zero, and NaN.
/// Infinity literals are accepted (the commands then report
/// "increment would produce NaN or Infinity").
pub fn string2ld(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || is_c_space(s[0]) {
        return None;
    }
    let r = strtold(s);
    if r.consumed != s.len()
        || (r.range_error && (r.value.is_infinite() || r.value.is_zero()))
        || r.value.is_nan()
    {
        return None;
    }
    Some(r.value)
}

/// Output styles of Redis `ld2string`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LdStrMode {
    /// `LD_STR_AUTO`: `%.17Lg`.
    Auto,
    /// `LD_STR_HUMAN`: `%.17Lf` with trailing zeros (and a bare `.`)
    /// removed, and `-0` turned into `0`. Used by INCRBYFLOAT/HINCRBYFLOAT.
    Human,
    /// `LD_STR_HEX`: `%La`.
    Hex,
}

/// Redis `ld2string`: formats `value` in the given mode.
///
/// Infinities are always `inf`/`-inf`; NaN prints as glibc does
/// (`nan`/`-nan`). Redis returns an empty string when the text would not fit
/// in [`MAX_LONG_DOUBLE_CHARS`]` - 1` bytes; that is reproduced here,
/// although `%.17Lf` of the largest long double is only ~4950 bytes.
pub fn ld2string(value: LongDouble, mode: LdStrMode) -> Vec<u8> {
    let mut out = Vec::new();
    if value.is_infinite() {
        value.push_non_finite(&mut out);
        return out;
    }
    match mode {
        LdStrMode::Auto => value.fmt_general(17, &mut out),
        LdStrMode::Hex => value.fmt_hex(&mut out),
        LdStrMode::Human => {
            value.fmt_fixed(17, &mut out);
            if out.contains(&b'.') {
                let zeros = out.iter().rev().take_while(|&&b| b == b'0').count();
                out.truncate(out.len() - zeros);
                if out.last() == Some(&b'.') {
                    out.pop();
                }
            }
            if out == b"-0" {
                out = b"0".to_vec();
            }
        }
    }
    if out.len() + 1 > MAX_LONG_DOUBLE_CHARS {
        out.clear();
    }
    out
}

// ---------------------------------------------------------------------------
// Minimal unsigned bignum (little-endian base 2^32 limbs, no high zeros).
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Big {
    limbs: Vec<u32>,
}

impl Big {
    fn zero() -> Self {
        Big { limbs: Vec::new() }
    }

    fn from_u64(v: u64) -> Self {
        let mut b = Big {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn from_digits(digits: impl Iterator<Item = u8>) -> Self {
        let mut b = Big::zero();
        let (mut chunk, mut len) = (0u32, 0);
        for d in digits {
            chunk = chunk * 10 + u32::from(d - b'0');
            len += 1;
            if len == 9 {
                b.mul_small(1_000_000_000);
                b.add_small(chunk);
                (chunk, len) = (0, 0);
            }
        }
        if len > 0 {
            b.mul_small(10u32.pow(len));
            b.add_small(chunk);
        }
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn bit_len(&self) -> u64 {
        self.limbs.last().map_or(0, |&top| {
            self.limbs.len() as u64 * 32 - u64::from(top.leading_zeros())
        })
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let v = u64::from(*limb) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_pow5(&mut self, mut k: usize) {
        while k >= 13 {
            self.mul_small(1_220_703_125); // 5^13
            k -= 13;
        }
        if k > 0 {
            self.mul_small(5u32.pow(k as u32));
        }
    }

    fn mul_pow10(&mut self, mut k: usize) {
        while k >= 9 {
            self.mul_small(1_000_000_000);
            k -= 9;
        }
        if k > 0 {
            self.mul_small(10u32.pow(k as u32));
        }
    }

    fn shl(&mut self, bits: u32) {
        if self.is_zero() {
            return;
        }
        let (words, rem) = ((bits / 32) as usize, bits % 32);
        if rem != 0 {
            let mut carry = 0u32;
            for limb in &mut self.limbs {
                let v = (*limb << rem) | carry;
                carry = *limb >> (32 - rem);
                *limb = v;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        self.limbs.splice(0..0, std::iter::repeat_n(0, words));
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.limbs.iter_mut().rev() {
            let v = (*limb >> 1) | carry;
            carry = *limb << 31;
            *limb = v;
        }
        self.trim();
    }

    fn bit(&self, i: u64) -> bool {
        self.limbs
            .get((i / 32) as usize)
            .is_some_and(|&l| (l >> (i % 32)) & 1 == 1)
    }

    fn any_bits_below(&self, i: u64) -> bool {
        let words = (i / 32) as usize;
        self.limbs.iter().take(words).any(|&l| l != 0)
            || (!i.is_multiple_of(32)
                && self
                    .limbs
                    .get(words)
                    .is_some_and(|&l| l & ((1u32 << (i % 32)) - 1) != 0))
    }

    /// `round(self / 2^k)`, ties to even.
    fn shr_round_even(&self, k: u64) -> Big {
        let words = (k / 32) as usize;
        let rem = (k % 32) as u32;
        let mut q = Big {
            limbs: self.limbs.iter().skip(words).copied().collect(),
        };
        if rem != 0 {
            let len = q.limbs.len();
            for i in 0..len {
                let hi = q.limbs.get(i + 1).copied().unwrap_or(0);
                q.limbs[i] = (q.limbs[i] >> rem) | (hi << (32 - rem));
            }
        }
        q.trim();
        if k > 0 && self.bit(k - 1) {
            let odd = q.limbs.first().is_some_and(|&l| l & 1 == 1);
            if self.any_bits_below(k - 1) || odd {
                q.add_small(1);
            }
        }
        q
    }

    /// The top 128 bits (all bits if fewer) and whether any lower bit is set.
    fn top_bits(&self) -> (u128, bool) {
        let len = self.bit_len();
        let drop = len.saturating_sub(128);
        let mut q = 0u128;
        for i in (drop..len).rev() {
            q = (q << 1) | u128::from(self.bit(i));
        }
        (q, self.any_bits_below(drop))
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// `self -= other`; requires `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let o = i64::from(other.limbs.get(i).copied().unwrap_or(0));
            let mut v = i64::from(*limb) - o - borrow;
            borrow = i64::from(v < 0);
            if v < 0 {
                v += 1 << 32;
            }
            *limb = v as u32;
        }
        self.trim();
    }

    /// Restoring division for a quotient known to be below
    /// `2^(qbits + 1)`: returns `(quotient, remainder != 0)`.
    fn div_small_quotient(mut self, d: &Big, qbits: u32) -> (u128, bool) {
        let mut dsh = d.clone();
        dsh.shl(qbits);
        let mut q = 0u128;
        for i in (0..=qbits).rev() {
            if self.cmp(&dsh) != Ordering::Less {
                self.sub_assign(&dsh);
                q |= 1u128 << i;
            }
            dsh.shr1();
        }
        (q, !self.is_zero())
    }

    /// Divides in place by 10^9, returning the remainder. (A constant
    /// divisor lets the compiler use multiplications instead of `div`.)
    fn divrem_1e9(&mut self) -> u32 {
        const D: u64 = 1_000_000_000;
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / D) as u32;
            rem = cur % D;
        }
        self.trim();
        rem as u32
    }

    fn write_decimal(&self, out: &mut Vec<u8>) {
        if self.limbs.len() <= 2 {
            let v = self
                .limbs
                .iter()
                .rev()
                .fold(0u64, |acc, &l| (acc << 32) | u64::from(l));
            out.extend_from_slice(v.to_string().as_bytes());
            return;
        }
        let mut chunks = Vec::with_capacity(self.limbs.len() * 32 / 29 + 1);
        let mut n = self.clone();
        while !n.is_zero() {
            chunks.push(n.divrem_1e9());
        }
        let mut iter = chunks.iter().rev();
        if let Some(first) = iter.next() {
            out.extend_from_slice(first.to_string().as_bytes());
        }
        for &c in iter {
            let mut buf = [b'0'; 9];
            let mut v = c;
            for slot in buf.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.extend_from_slice(&buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(s: &str) -> String {
        let v = string2ld(s.as_bytes()).expect(s);
        String::from_utf8(ld2string(v, LdStrMode::Human)).unwrap()
    }

    fn incr(cur: &str, by: &str) -> Result<String, &'static str> {
        let a = string2ld(cur.as_bytes()).ok_or("value is not a valid float")?;
        let b = string2ld(by.as_bytes()).ok_or("value is not a valid float")?;
        let sum = a + b;
        if !sum.is_finite() {
            return Err("increment would produce NaN or Infinity");
        }
        Ok(String::from_utf8(ld2string(sum, LdStrMode::Human)).unwrap())
    }

    #[test]
    fn incrbyfloat_matches_real_redis() {
        // Observed with redis-server 7.0.15 on x86-64.
        assert_eq!(incr("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(incr("10.5", "1.1").unwrap(), "11.6");
        assert_eq!(incr("17179869184", "1.5").unwrap(), "17179869185.5");
        assert_eq!(incr("5.0e3", "2.0e2").unwrap(), "5200");
        assert_eq!(incr("0", "1e-20").unwrap(), "0");
        assert_eq!(incr("-10", "0.0000001").unwrap(), "-9.9999999");
        assert_eq!(incr("0", "0x10").unwrap(), "16");
        assert_eq!(incr("0", "0x1p3").unwrap(), "8");
        assert_eq!(incr("0", "+1").unwrap(), "1");
        assert_eq!(incr("0", ".5").unwrap(), "0.5");
        assert_eq!(incr("0", "5.").unwrap(), "5");
        assert_eq!(incr("0", "-0").unwrap(), "0");
        assert_eq!(incr("1.1", "-1.1").unwrap(), "0");
        assert_eq!(incr("3.0000000000000000001", "0").unwrap(), "3");
        assert_eq!(incr("0", "0e-5000").unwrap(), "0");
        assert_eq!(incr("0", "1e-4940").unwrap(), "0");
        let big = incr("0", "1e300").unwrap();
        assert_eq!(big.len(), 301);
        assert!(big.starts_with("1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260"));
        let huge = incr("0", "1e4000").unwrap();
        assert_eq!(huge.len(), 4000);
        assert!(huge.starts_with("9999999999999999999965463873099623784932492583506957631301508333043261943306342355481821641865509279862764452073123673"));
        for (a, b) in [
            ("1e4932", "1e4932"),
            ("0", "inf"),
            ("0", "INFINITY"),
            ("0", "-inf"),
        ] {
            assert_eq!(incr(a, b), Err("increment would produce NaN or Infinity"));
        }
        for (a, b) in [
            ("0", "nan"),
            ("0", "1e"),
            ("0", " 1"),
            ("0", "1 "),
            ("0", "1e-5000"),
            ("0", ""),
            ("x", "1"),
        ] {
            assert_eq!(incr(a, b), Err("value is not a valid float"), "{a} {b}");
        }
    }

    #[test]
    fn human_format() {
        assert_eq!(human("1"), "1");
        assert_eq!(human("-1.5"), "-1.5");
        assert_eq!(human("0.1"), "0.1");
        assert_eq!(human("-0.000000000000000001"), "0");
        assert_eq!(human("0.000000000000000005"), "0");
        assert_eq!(human("0.000000000000000015"), "0.00000000000000002");
        assert_eq!(human("1.00000000000000000000001"), "1");
        assert_eq!(human("123456789.123456789"), "123456789.12345678899873747");
        assert_eq!(human("3.6451995318824746025e-4951"), "0");
        assert_eq!(human("1.18973149535723176502e+4932").len(), 4933);
        let inf = LongDouble::INFINITY;
        assert_eq!(ld2string(inf, LdStrMode::Human), b"inf");
        assert_eq!(ld2string(-inf, LdStrMode::Auto), b"-inf");
        assert_eq!(ld2string(LongDouble::NAN, LdStrMode::Human), b"nan");
    }

    #[test]
    fn auto_and_hex_format() {
        let f =
            |s: &str, m| String::from_utf8(ld2string(string2ld(s.as_bytes()).unwrap(), m)).unwrap();
        // Expected strings from glibc printf("%.17Lg") / printf("%La").
        assert_eq!(f("0.1", LdStrMode::Auto), "0.1");
        assert_eq!(f("10.5", LdStrMode::Auto), "10.5");
        assert_eq!(f("1e300", LdStrMode::Auto), "1e+300");
        assert_eq!(
            f("123456789.123456789", LdStrMode::Auto),
            "123456789.12345679"
        );
        assert_eq!(f("1e-4950", LdStrMode::Auto), "1.0935598595647424e-4950");
        assert_eq!(f("-0", LdStrMode::Auto), "-0");
        assert_eq!(f("1e-5", LdStrMode::Auto), "1e-05");
        assert_eq!(f("10.5", LdStrMode::Hex), "0xa.8p+0");
        assert_eq!(f("1", LdStrMode::Hex), "0x8p-3");
        assert_eq!(f("-0", LdStrMode::Hex), "-0x0p+0");
        assert_eq!(f("1e-4950", LdStrMode::Hex), "0x0.000000000000003p-16385");
        assert_eq!(f("1e400", LdStrMode::Hex), "0xd.a763fc8cb9ff9e6p+1325");
    }

    #[test]
    fn strtold_edges() {
        let r = strtold(b"1e-4950");
        assert!(r.range_error && !r.value.is_zero());
        let r = strtold(b"1e-4960");
        assert!(r.range_error && r.value.is_zero());
        assert!(!strtold(b"1e-310").range_error);
        assert!(strtold(b"1e5000").value.is_infinite());
        assert_eq!(strtold(b" 12abc").consumed, 3);
        assert_eq!(strtold(b"abc").consumed, 0);
        assert!(string2ld(b"1e-4950").is_some());
        assert!(string2ld(b"1e-4960").is_none());
        assert!(string2ld(b"1\x002").is_none());
        assert!(string2ld(&vec![b'1'; MAX_LONG_DOUBLE_CHARS]).is_none());
        let mut long = b"0.".to_vec();
        long.resize(MAX_LONG_DOUBLE_CHARS - 1, b'1');
        assert!(string2ld(&long).is_some());
        long.push(b'1');
        assert!(string2ld(&long).is_none());
    }

    #[test]
    fn conversions() {
        for x in [
            0.0,
            1.0,
            -2.5,
            0.1,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(LongDouble::from_f64(x).to_f64().to_bits(), x.to_bits());
        }
        assert!(LongDouble::from_f64(f64::NAN).is_nan());
        assert_eq!(
            LongDouble::from_i64(i64::MIN).to_parts(),
            Some((true, 1 << 63, 0))
        );
        assert_eq!(
            LongDouble::from_i64(3).to_parts(),
            Some((false, 3 << 62, -62))
        );
        let tenth = string2ld(b"0.1").unwrap();
        assert_eq!(tenth.to_f64(), 0.1);
        assert_eq!(string2ld(b"1e5000"), None);
        assert_eq!(string2ld(b"1e4932").unwrap().to_f64(), f64::INFINITY);
    }

    #[test]
    fn addition_rounding() {
        let one = LongDouble::from_i64(1);
        let eps = LongDouble::from_parts(false, 1, -63); // ulp(1)
        let half_ulp = LongDouble::from_parts(false, 1, -64);
        assert_eq!(one + half_ulp, one); // tie -> even
        assert_eq!((one + eps) + half_ulp, one + eps + eps); // tie -> even (up)
        let tiny = LongDouble::from_parts(false, 1, -200);
        assert_eq!(one + tiny, one);
        assert_eq!(one + (-tiny), one);
        let below_one = LongDouble::from_parts(false, u64::MAX, -64);
        assert_eq!(one + -LongDouble::from_parts(false, 1, -65), one); // tie -> even
        assert_eq!(one + -LongDouble::from_parts(false, 3, -66), below_one);
        assert_eq!(one + -LongDouble::from_parts(false, 3, -67), one);
        assert_eq!(one + -LongDouble::from_parts(false, 5, -67), below_one);
        assert!(!(one + (-one)).is_sign_negative());
        let nz = -LongDouble::ZERO;
        assert!((nz + nz).is_sign_negative());
        assert!((LongDouble::INFINITY + -LongDouble::INFINITY).is_nan());
        let max = LongDouble::from_parts(false, u64::MAX, 16320);
        assert!((max + max).is_infinite());
        let min_sub = LongDouble::from_parts(false, 1, -16445);
        assert_eq!((min_sub + min_sub).to_parts(), Some((false, 2, -16445)));
    }
    /// Random decimal literal covering tiny to huge magnitudes.
    fn random_literal(state: &mut u64) -> String {
        let mut next = || {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        };
        let digits = next() % 10u64.pow((next() % 19 + 1) as u32);
        let exp = match next() % 4 {
            0 => (next() % 60) as i64 - 30,
            1 => (next() % 9900) as i64 - 4950,
            _ => (next() % 24) as i64 - 12,
        };
        let sign = if next() % 3 == 0 { "-" } else { "" };
        format!("{sign}{digits}e{exp}")
    }

    /// Differential test against the platform's real `long double`
    /// (`strtold`, `+`, `printf`). Needs `cc` and x86-64 glibc.
    #[test]
    #[ignore = "needs a C compiler and x86-64 glibc; run with --ignored"]
    fn compare_with_glibc_long_double() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        const C_SRC: &str = r#"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    char a[256], b[256];
    while (scanf("%255s %255s", a, b) == 2) {
        long double x = strtold(a, NULL), y = strtold(b, NULL), s = x + y;
        printf("%.17Lf %.17Lg %La %.17Lg\n", s, s, s, x);
    }
    return 0;
}
"#;
        let dir = std::env::temp_dir().join(format!("redust-ld-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, bin) = (dir.join("ld.c"), dir.join("ld"));
        std::fs::write(&src, C_SRC).unwrap();
        let built = Command::new("cc")
            .arg("-O2")
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .status();
        assert!(built.is_ok_and(|s| s.success()), "cc failed");
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let pairs: Vec<(String, String)> = (0..20_000)
            .map(|_| (random_literal(&mut state), random_literal(&mut state)))
            .collect();
        let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
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
        for ((a, b), want) in pairs.iter().zip(text.lines()) {
            let x = strtold(a.as_bytes()).value;
            let sum = x + strtold(b.as_bytes()).value;
            let mut got = Vec::new();
            sum.fmt_fixed(17, &mut got);
            got.push(b' ');
            sum.fmt_general(17, &mut got);
            got.push(b' ');
            sum.fmt_hex(&mut got);
            got.push(b' ');
            x.fmt_general(17, &mut got);
            assert_eq!(String::from_utf8(got).unwrap(), want, "{a} + {b}");
        }
    }
}
