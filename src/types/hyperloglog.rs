//! HyperLogLog values (Redis's hyperloglog.c): an HLL is a plain string value laid out byte for
//! byte as Redis lays it out, so DEBUG DIGEST, DUMP/RESTORE and RDB files agree with Redis.
//!
//! The string starts with a 16-byte header: `"HYLL"`, the encoding (0 dense, 1 sparse), three
//! zero bytes, and the cached cardinality as 8 little-endian bytes whose top bit set means "stale".
//! 16384 registers of 6 bits follow, either
//! - *dense*: 12288 bytes, register `i` in bits `6i..6i+6` counting from each byte's LSB, or
//! - *sparse*: run-length opcodes: `00xxxxxx` ZERO (1..64 zero registers), `01xxxxxx yyyyyyyy`
//!   XZERO (1..16384 zero registers), `1vvvvvxx` VAL (1..4 registers of value 1..32).
//!
//! A sparse HLL turns dense when a register needs a value above 32 or the string would grow
//! past `hll-sparse-max-bytes`. Elements are hashed with MurmurHash64A (seed `0xadc83b19`): the
//! low 14 bits pick the register, the run of zeros above them (plus one) is the candidate value.
//! The cardinality estimate is Ertl's improved estimator, as Redis computes it.
//!
//! Every reader here checks run lengths against the register count, so a corrupted string is
//! reported as [`Corrupt`] and never read out of bounds.

/// Size of the header.
pub const HDR_SIZE: usize = 16;
/// log2 of the number of registers.
const P: u32 = 14;
/// Bits of the hash used for the zero run.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const REGISTER_MAX: u32 = 63;
/// Length of a dense HLL string.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * 6).div_ceil(8);
/// Encoding byte of a dense HLL.
pub const DENSE: u8 = 0;
/// Encoding byte of a sparse HLL.
pub const SPARSE: u8 = 1;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The HLL's registers do not add up: a corrupted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version, endian neutral (Redis's MurmurHash64A).
pub fn murmurhash64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000..1` pattern (hllPatLen).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    // The sentinel bit bounds the count to Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

/// A new, empty HLL: sparse, one XZERO opcode covering every register (createHLLObject).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    // One XZERO covers all the registers.
    const _: () = assert!(REGISTERS == SPARSE_XZERO_MAX_LEN);
    v.extend_from_slice(&xzero_op(SPARSE_XZERO_MAX_LEN));
    v
}

/// Does the string look like an HLL (isHLLObjectOrReply's checks): long enough, magic, a known
/// encoding, and the exact size when dense.
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HDR_SIZE
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// The encoding byte of a valid HLL.
#[inline]
pub fn encoding(b: &[u8]) -> u8 {
    b[4]
}

/// The cached cardinality, unless it is stale.
pub fn cached_card(b: &[u8]) -> Option<u64> {
    (b[15] & 0x80 == 0).then(|| u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")))
}

/// Cache a cardinality in the header.
pub fn set_cached_card(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Mark the cached cardinality stale.
#[inline]
pub fn invalidate_cache(b: &mut [u8]) {
    b[15] |= 0x80;
}

// ---------------------------------------------------------------------------------------------
// Dense registers
// ---------------------------------------------------------------------------------------------

/// Register `i` of a dense register array. The last register's second byte would be past the
/// end (Redis reads the string's terminator there): it counts as zero.
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

/// Set register `i` of a dense register array to `val` (at most 63).
#[inline]
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let fb8 = 8 - fb;
    let v = u32::from(val);
    regs[byte] &= !((REGISTER_MAX << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX >> fb8) as u8);
        *b |= (v >> fb8) as u8;
    }
}

/// Raise dense register `i` to `count` if it is lower; true when it changed (hllDenseSet).
#[inline]
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

/// Histogram of the dense register values, four registers per three bytes.
fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    for c in regs.chunks_exact(3) {
        let (a, b, d) = (c[0], c[1], c[2]);
        histo[usize::from(a & 63)] += 1;
        histo[usize::from((a >> 6 | b << 2) & 63)] += 1;
        histo[usize::from((b >> 4 | d << 4) & 63)] += 1;
        histo[usize::from(d >> 2)] += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse opcodes
// ---------------------------------------------------------------------------------------------

#[inline]
fn is_zero_op(b: u8) -> bool {
    b & 0xc0 == 0
}
#[inline]
fn is_xzero_op(b: u8) -> bool {
    b & 0xc0 == 0x40
}
#[inline]
fn is_val_op(b: u8) -> bool {
    b & 0x80 != 0
}
#[inline]
fn zero_len(b: u8) -> usize {
    usize::from(b & 0x3f) + 1
}
#[inline]
fn xzero_len(b0: u8, b1: u8) -> usize {
    ((usize::from(b0 & 0x3f) << 8) | usize::from(b1)) + 1
}
#[inline]
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
#[inline]
fn val_len(b: u8) -> usize {
    usize::from(b & 3) + 1
}
#[inline]
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | 0x80
}
#[inline]
fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}
#[inline]
fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// One decoded sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    /// Registers covered and their value.
    fn run(self) -> (usize, u8) {
        match self {
            Op::Zero(n) | Op::XZero(n) => (n, 0),
            Op::Val(v, n) => (n, v),
        }
    }
}

/// The opcodes of a sparse body. An XZERO cut short by the end of the string reads its second
/// byte as zero, as Redis reads the string terminator.
struct Ops<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Iterator for Ops<'_> {
    type Item = Op;
    fn next(&mut self) -> Option<Op> {
        let b = *self.data.get(self.pos)?;
        if is_zero_op(b) {
            self.pos += 1;
            Some(Op::Zero(zero_len(b)))
        } else if is_xzero_op(b) {
            let b1 = self.data.get(self.pos + 1).copied().unwrap_or(0);
            self.pos += 2;
            Some(Op::XZero(xzero_len(b, b1)))
        } else {
            self.pos += 1;
            Some(Op::Val(val_value(b), val_len(b)))
        }
    }
}

fn ops(body: &[u8]) -> Ops<'_> {
    Ops { data: body, pos: 0 }
}

/// Call `f(first_register, run_length, value)` for every run of a sparse body, checking that
/// the runs cover exactly the registers.
fn for_each_run(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0;
    for op in ops(body) {
        let (n, v) = op.run();
        if idx + n > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, n, v);
        idx += n;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Convert a sparse HLL to dense in place; dense ones are left alone (hllSparseToDense). The
/// header, cached cardinality included, is kept.
pub fn sparse_to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    if encoding(hll) == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    for_each_run(&hll[HDR_SIZE..], |first, n, v| {
        if v > 0 {
            for i in first..first + n {
                dense_set(regs, i, v);
            }
        }
    })?;
    *hll = dense;
    Ok(())
}

/// Raise register `index` of a sparse HLL to `count` (hllSparseSet), editing the opcodes in
/// place, or promoting to dense when the value or the size requires it. True when a register
/// changed.
fn sparse_raise(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = hll.len();
    let mut p = HDR_SIZE;
    let mut first = 0;
    let mut prev = None;
    let mut span = 0;
    while p < end {
        let b = hll[p];
        let oplen;
        (span, oplen) = if is_zero_op(b) {
            (zero_len(b), 1)
        } else if is_val_op(b) {
            (val_len(b), 1)
        } else {
            (xzero_len(b, hll.get(p + 1).copied().unwrap_or(0)), 2)
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = hll[p];
    let (is_zero, is_xzero) = (is_zero_op(b), is_xzero_op(b));

    // Step 2: the trivial updates in place.
    let mut in_place = false;
    if is_val_op(b) {
        if val_value(b) >= count {
            return Ok(false);
        }
        in_place = span == 1;
    } else if is_zero {
        in_place = span == 1;
    }
    if in_place {
        hll[p] = val_op(count, 1);
    } else {
        // Split the opcode around our register: at worst XZERO-VAL-XZERO, 5 bytes.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        let push_zeros = |seq: &mut [u8; 5], n: &mut usize, len: usize| {
            if len > SPARSE_ZERO_MAX_LEN {
                seq[*n..*n + 2].copy_from_slice(&xzero_op(len));
                *n += 2;
            } else {
                seq[*n] = zero_op(len);
                *n += 1;
            }
        };
        if is_zero || is_xzero {
            if index != first {
                push_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                push_zeros(&mut seq, &mut n, last - index);
            }
        } else {
            let curval = val_value(b);
            if index != first {
                seq[n] = val_op(curval, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(curval, last - index);
                n += 1;
            }
        }
        // Step 3: substitute the sequence for the old opcode.
        let oldlen = if is_xzero { 2 } else { 1 };
        if n > oldlen && hll.len() + (n - oldlen) > sparse_max {
            return promote(hll, index, count);
        }
        let old_end = (p + oldlen).min(hll.len());
        hll.splice(p..old_end, seq[..n].iter().copied());
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the one
    // before the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scanlen = 5;
    while p < hll.len() {
        if scanlen == 0 {
            break;
        }
        scanlen -= 1;
        let b = hll[p];
        if is_xzero_op(b) {
            p += 2;
            continue;
        } else if is_zero_op(b) {
            p += 1;
            continue;
        }
        if p + 1 < hll.len() && is_val_op(hll[p + 1]) {
            let b1 = hll[p + 1];
            let v = val_value(b);
            if v == val_value(b1) {
                let len = val_len(b) + val_len(b1);
                if len <= SPARSE_VAL_MAX_LEN {
                    hll[p + 1] = val_op(v, len);
                    hll.remove(p);
                    // Try the merged opcode against its right neighbour too.
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(hll);
    Ok(true)
}

/// Promote to dense and then set the register (the `promote:` path of hllSparseSet).
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(hll)?;
    Ok(dense_raise(&mut hll[HDR_SIZE..], index, count))
}

/// Raise register `index` to `count` in either encoding; true when the register changed. A
/// sparse HLL may turn dense (`sparse_max` is `hll-sparse-max-bytes`).
pub fn raise_register(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    match encoding(hll) {
        DENSE => Ok(dense_raise(&mut hll[HDR_SIZE..], index, count)),
        SPARSE => sparse_raise(hll, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// Add an element (hllAdd); true when a register changed.
pub fn add(hll: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    raise_register(hll, index, count, sparse_max)
}

/// Merge an HLL into `max`, one byte per register, keeping the maximum (hllMerge).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if encoding(hll) == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate() {
            let v = dense_get(regs, i);
            if v > *m {
                *m = v;
            }
        }
        Ok(())
    } else {
        for_each_run(&hll[HDR_SIZE..], |first, n, v| {
            for m in &mut max[first..first + n] {
                if v > *m {
                    *m = v;
                }
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------------

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        z -= (1.0 - x).powf(2.0) * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from the register histogram (the tail of hllCount).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histo[Q + 1])) / m);
    for &h in histo[1..=Q].iter().rev() {
        z += f64::from(h);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a valid HLL (hllCount); `Corrupt` when sparse runs do not add
/// up.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if encoding(hll) == DENSE {
        dense_histogram(&hll[HDR_SIZE..], &mut histo);
    } else {
        for_each_run(&hll[HDR_SIZE..], |_, n, v| {
            histo[usize::from(v)] += n as u32
        })?;
    }
    Ok(estimate(&histo))
}

/// The estimated cardinality of registers held one per byte (PFCOUNT of several keys).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in regs.iter() {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:len`, `Z:len`, `v:value,len` separated by spaces.
pub fn decode_sparse(hll: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for op in ops(&hll[HDR_SIZE..]) {
        let _ = match op {
            Op::Zero(n) => write!(out, "z:{n} "),
            Op::XZero(n) => write!(out, "Z:{n} "),
            Op::Val(v, n) => write!(out, "v:{v},{n} "),
        };
    }
    out.trim_matches(' ').to_string()
}

/// PFSELFTEST: register access on random values, then the estimate's error and the agreement
/// of both encodings over ten million elements. `Err` holds the failure text.
pub fn selftest(sparse_max: usize, mut rand: impl FnMut() -> u64) -> Result<(), String> {
    const CYCLES: usize = 1000;
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[4] = DENSE;
    let mut expected = [0u8; REGISTERS];
    for _ in 0..CYCLES {
        for (i, e) in expected.iter_mut().enumerate() {
            let r = (rand() & u64::from(REGISTER_MAX)) as u8;
            *e = r;
            dense_set(&mut dense[HDR_SIZE..], i, r);
        }
        for (i, &e) in expected.iter().enumerate() {
            let v = dense_get(&dense[HDR_SIZE..], i);
            if v != e {
                return Err(format!("TESTFAILED Register {i} should be {e} but is {v}"));
            }
        }
    }

    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, c) = pat_len(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, c);
        let _ = add(&mut sparse, &ele, sparse_max);
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max / 2) as u64 && encoding(&sparse) != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if count(&sparse) != Ok(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs_of(hll: &[u8]) -> Vec<u8> {
        let mut h = hll.to_vec();
        sparse_to_dense(&mut h).unwrap();
        (0..REGISTERS)
            .map(|i| dense_get(&h[HDR_SIZE..], i))
            .collect()
    }

    #[test]
    fn hash_matches_redis() {
        // Register and run length Redis 7.0.15 derives (PFADD then PFDEBUG DECODE), covering
        // the empty input, a tail-only input, a whole 8-byte block, and block plus tail.
        assert_eq!(pat_len(b""), (5938, 2));
        assert_eq!(pat_len(b"a"), (12711, 2));
        assert_eq!(pat_len(b"abcdefgh"), (1383, 1));
        assert_eq!(pat_len(b"hello world!"), (8716, 3));
    }

    #[test]
    fn bytes_match_redis() {
        // `PFADD h a b c` then GET h, from Redis 7.0.15.
        let mut h = new_sparse();
        for e in [&b"a"[..], b"b", b"c"] {
            assert_eq!(add(&mut h, e, 3000), Ok(true));
        }
        invalidate_cache(&mut h);
        let redis =
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ";
        assert_eq!(&h[..], &redis[..]);
        assert_eq!(count(&h), Ok(3));
    }

    #[test]
    fn empty_sparse_layout() {
        let h = new_sparse();
        assert_eq!(h, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_valid(&h));
        assert_eq!(count(&h), Ok(0));
        assert_eq!(decode_sparse(&h), "Z:16384");
        assert_eq!(cached_card(&h), Some(0));
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
        dense_set(&mut regs, REGISTERS - 1, 0);
        assert_eq!(dense_get(&regs, REGISTERS - 1), 0);
        assert_eq!(
            dense_get(&regs, REGISTERS - 2),
            ((REGISTERS - 2) % 64) as u8
        );
    }

    #[test]
    fn sparse_edits_and_merges() {
        let mut h = new_sparse();
        assert_eq!(raise_register(&mut h, 0, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:3,1 Z:16383");
        assert_eq!(raise_register(&mut h, 1, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:3,2 Z:16382");
        assert_eq!(raise_register(&mut h, 1, 2, 3000), Ok(false));
        assert_eq!(raise_register(&mut h, 100, 5, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:3,2 Z:98 v:5,1 Z:16283");
        assert_eq!(raise_register(&mut h, 3, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:3,2 z:1 v:3,1 Z:96 v:5,1 Z:16283");
        assert_eq!(raise_register(&mut h, 2, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:3,4 Z:96 v:5,1 Z:16283");
        let regs = regs_of(&h);
        assert_eq!(&regs[..5], &[3, 3, 3, 3, 0]);
        assert_eq!(regs[100], 5);
        assert_eq!(regs.iter().filter(|&&r| r != 0).count(), 5);
        // A value above 32 forces the dense encoding.
        assert_eq!(raise_register(&mut h, 7, 40, 3000), Ok(true));
        assert_eq!(encoding(&h), DENSE);
        assert_eq!(h.len(), DENSE_SIZE);
        assert_eq!(regs_of(&h)[7], 40);
        assert_eq!(regs_of(&h)[100], 5);
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).unwrap();
        for i in 0..5000u32 {
            let e = i.to_string();
            let a = add(&mut sparse, e.as_bytes(), 1 << 20).unwrap();
            let b = add(&mut dense, e.as_bytes(), 1 << 20).unwrap();
            assert_eq!(a, b);
        }
        assert_eq!(encoding(&sparse), SPARSE);
        assert_eq!(regs_of(&sparse), regs_of(&dense));
        let c = count(&sparse).unwrap();
        assert_eq!(c, count(&dense).unwrap());
        assert!((c as f64 - 5000.0).abs() < 5000.0 * 0.05, "{c}");
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &sparse).unwrap();
        assert_eq!(count_registers(&max), c);
    }

    #[test]
    fn size_limit_promotes() {
        let mut h = new_sparse();
        for i in 0..2000u32 {
            add(&mut h, &i.to_le_bytes(), 300).unwrap();
            assert!(encoding(&h) == DENSE || h.len() <= 300);
        }
        assert_eq!(encoding(&h), DENSE);
    }

    #[test]
    fn corruption_is_detected() {
        let mut h = new_sparse();
        add(&mut h, b"a", 3000).unwrap();
        let mut bad = h.clone();
        bad.extend_from_slice(b"hello");
        assert_eq!(count(&bad), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut bad), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &bad), Err(Corrupt));
        // A truncated XZERO at the end must not read out of bounds.
        let mut cut = h.clone();
        cut.pop();
        let _ = count(&cut);
        let _ = add(&mut cut, b"zzz", 3000);
        assert!(!is_valid(b"HYLL\x00"));
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).unwrap();
        assert!(is_valid(&dense));
        dense.push(0);
        assert!(!is_valid(&dense));
    }

    #[test]
    fn random_corruption_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let mut h = new_sparse();
            for i in 0..(rnd() % 3000) {
                add(&mut h, &(i ^ round).to_le_bytes(), 3000).unwrap();
            }
            for _ in 0..1 + rnd() % 5 {
                let pos = (rnd() as usize) % h.len();
                h[pos] = rnd() as u8;
            }
            if !is_valid(&h) {
                continue;
            }
            let _ = count(&h);
            let mut max = [0u8; REGISTERS];
            let _ = merge_into(&mut max, &h);
            let _ = decode_sparse(&h);
            let mut edited = h.clone();
            for i in 0..20u32 {
                let _ = add(&mut edited, &i.to_le_bytes(), 3000);
            }
            let _ = raise_register(&mut edited, REGISTERS - 1, 40, 3000);
            let _ = sparse_to_dense(&mut h);
        }
    }

    #[test]
    fn cache_bits() {
        let mut h = new_sparse();
        set_cached_card(&mut h, 5);
        assert_eq!(cached_card(&h), Some(5));
        invalidate_cache(&mut h);
        assert_eq!(cached_card(&h), None);
        assert_eq!(h[15], 0x80);
    }
}
