//! Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. Bitmaps are plain strings; bit 0 is the most significant bit of byte 0. Writes
//! grow the string with zero bytes (as `raw`), bounded by `proto-max-bulk-len`.

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::types::object::{RObj, RString, Value};

const BIT_OFFSET_ERR: CmdError =
    CmdError::Static("ERR bit offset is not an integer or out of range");
const BIT_VALUE_ERR: CmdError = CmdError::Static("ERR bit is not an integer or out of range");
const BITFIELD_TYPE_ERR: CmdError = CmdError::Static("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");

/// Parse a bit offset (Redis's getBitOffsetFromArgument); `#N` means N*bits when `bits > 0`.
fn parse_bit_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let (hash, digits) = match arg.first() {
        Some(b'#') if bits > 0 => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut off = crate::util::numbers::string2ll(digits).ok_or(BIT_OFFSET_ERR)?;
    if hash {
        off = off.wrapping_mul(bits as i64);
    }
    if off < 0 || (off >> 3) >= ctx.srv.config.proto_max_bulk_len {
        return Err(BIT_OFFSET_ERR);
    }
    Ok(off as u64)
}

/// Parse a BITFIELD type (`i1`..`i64`, `u1`..`u63`) into (signed, bits).
fn parse_bitfield_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BITFIELD_TYPE_ERR),
    };
    match crate::util::numbers::string2ll(&arg[1..]) {
        Some(b) if b >= 1 && (signed && b <= 64 || !signed && b <= 63) => Ok((signed, b as u32)),
        _ => Err(BITFIELD_TYPE_ERR),
    }
}

/// Make sure `key` holds a `raw` string of at least `maxbit/8 + 1` bytes (Redis's
/// lookupStringForBitCommand). Returns whether the string was created or grown.
fn string_for_bit_write(ctx: &mut Ctx, key: &[u8], maxbit: u64) -> Result<bool, CmdError> {
    let need = (maxbit >> 3) as usize + 1;
    match ctx.write(key) {
        None => {
            ctx.set_key(key, Value::Str(RString::raw(vec![0; need])), true);
            Ok(true)
        }
        Some(RObj {
            value: Value::Str(s),
            ..
        }) => {
            let buf = s.make_raw();
            if buf.len() < need {
                buf.resize(need, 0);
                Ok(true)
            } else {
                Ok(false)
            }
        }
        #[allow(unreachable_patterns)]
        Some(_) => Err(errors::WRONGTYPE),
    }
}

/// The raw buffer of a string key known to exist as `raw`.
fn raw_buf<'a>(ctx: &'a mut Ctx, key: &[u8]) -> &'a mut Vec<u8> {
    let db = ctx.client.db;
    match ctx.srv.dbs[db].keys.get_mut(key) {
        Some(RObj {
            value: Value::Str(s),
            ..
        }) => s.make_raw(),
        _ => unreachable!("string_for_bit_write created it"),
    }
}

fn setbit(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let off = parse_bit_offset(ctx, ctx.arg(2), 0)?;
    let on = match crate::util::numbers::string2ll(ctx.arg(3)) {
        Some(v @ (0 | 1)) => v as u8,
        _ => return Err(BIT_VALUE_ERR),
    };
    let grown = string_for_bit_write(ctx, key, off)?;
    let buf = raw_buf(ctx, key);
    let byte = (off >> 3) as usize;
    let shift = 7 - (off & 7) as u8;
    let old = (buf[byte] >> shift) & 1;
    if grown || old != on {
        buf[byte] = (buf[byte] & !(1 << shift)) | (on << shift);
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(1);
    }
    ctx.reply().int(old as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let off = parse_bit_offset(ctx, ctx.arg(2), 0)?;
    let (s, r) = ctx.read_string(key)?;
    let bit = s.map_or(0, |s| {
        s.with_bytes(|b| {
            let byte = (off >> 3) as usize;
            if byte < b.len() {
                (b[byte] >> (7 - (off & 7))) & 1
            } else {
                0
            }
        })
    });
    r.int(bit as i64);
    Ok(())
}

/// Count set bits, a word at a time (Redis's redisPopcount).
pub fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from_ne_bytes(c.try_into().expect("8 bytes")).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

/// Resolve a BYTE|BIT range against a string of `len` bytes the way BITCOUNT/BITPOS do:
/// negative indexes count from the end, then clamp. Returns (start, end) in the range's unit.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> (i64, i64) {
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start, end)
}

/// Parse an optional trailing BYTE|BIT (true for BIT).
fn parse_unit(arg: Option<&[u8]>) -> Result<bool, CmdError> {
    match arg {
        None => Ok(false),
        Some(a) if is(a, "bit") => Ok(true),
        Some(a) if is(a, "byte") => Ok(false),
        Some(_) => Err(errors::SYNTAX),
    }
}

fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (s, r) = ctx.read_string(key)?;
    let Some(s) = s else {
        r.int(0);
        return Ok(());
    };
    let (range, isbit) = match argv.len() {
        2 => (None, false),
        4 | 5 => {
            let start = parse_i64(&argv[2])?;
            let end = parse_i64(&argv[3])?;
            if start < 0 && end < 0 && start > end {
                r.int(0);
                return Ok(());
            }
            (Some((start, end)), parse_unit(argv.get(4).map(|a| &a[..]))?)
        }
        _ => return Err(errors::SYNTAX),
    };
    let n = s.with_bytes(|p| {
        let len = p.len() as i64;
        let Some((start, end)) = range else {
            return popcount(p);
        };
        let total = if isbit { len << 3 } else { len };
        let (start, end) = clamp_range(start, end, total);
        if start > end {
            return 0;
        }
        if !isbit {
            return popcount(&p[start as usize..=end as usize]);
        }
        let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
        let mut n = popcount(&p[sb..=eb]);
        let first_mask = !(0xffu8 >> (start & 7));
        let last_mask = (0xffu8 >> (end & 7)) >> 1;
        n -= (p[sb] & first_mask).count_ones() as u64;
        n -= (p[eb] & last_mask).count_ones() as u64;
        n
    });
    r.int(n as i64);
    Ok(())
}

/// First bit equal to `bit` in bits `start..=end` of `p` (both in range), if any.
fn find_bit(p: &[u8], start: u64, end: u64, bit: bool) -> Option<u64> {
    let want = |b: u8| if bit { b } else { !b };
    let mut pos = start;
    // Leading partial byte, bit by bit.
    while pos <= end && pos & 7 != 0 {
        if want(p[(pos >> 3) as usize]) & (0x80 >> (pos & 7)) != 0 {
            return Some(pos);
        }
        pos += 1;
    }
    // Whole words, then whole bytes.
    let skip: u8 = if bit { 0 } else { 0xff };
    while pos + 64 <= end + 1 {
        let i = (pos >> 3) as usize;
        let w = u64::from_be_bytes(p[i..i + 8].try_into().expect("8 bytes"));
        let w = if bit { w } else { !w };
        if w != 0 {
            return Some(pos + w.leading_zeros() as u64);
        }
        pos += 64;
    }
    while pos + 8 <= end + 1 {
        let b = p[(pos >> 3) as usize];
        if b != skip {
            return Some(pos + want(b).leading_zeros() as u64);
        }
        pos += 8;
    }
    while pos <= end {
        if want(p[(pos >> 3) as usize]) & (0x80 >> (pos & 7)) != 0 {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let argc = argv.len();
    let bit = match parse_i64(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let (s, r) = ctx.read_string(key)?;
    let Some(s) = s else {
        r.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let len = s.len() as i64;
    let (mut start, mut end, isbit, end_given) = match argc {
        3 => (0, len - 1, false, false),
        4..=6 => {
            let start = parse_i64(&argv[3])?;
            let isbit = if argc == 6 {
                parse_unit(Some(&argv[5]))?
            } else {
                false
            };
            let (end, given) = if argc >= 5 {
                (parse_i64(&argv[4])?, true)
            } else if isbit {
                ((len << 3) + 7, false)
            } else {
                (len - 1, false)
            };
            (start, end, isbit, given)
        }
        _ => return Err(errors::SYNTAX),
    };
    if argc > 3 {
        let total = if isbit { len << 3 } else { len };
        (start, end) = clamp_range(start, end, total);
    }
    if start > end {
        r.int(-1);
        return Ok(());
    }
    let (sbit, ebit) = if isbit {
        (start as u64, end as u64)
    } else {
        ((start as u64) << 3, ((end as u64) << 3) + 7)
    };
    let pos = match s.with_bytes(|p| find_bit(p, sbit, ebit, bit)) {
        Some(p) => p as i64,
        None if bit || end_given => -1,
        // Looking for a clear bit past the end of the string: the string is
        // conceptually padded with zeros.
        None => ((ebit >> 3) as i64 + 1) << 3,
    };
    r.int(pos);
    Ok(())
}

fn bitop(ctx: &mut Ctx) -> CmdResult {
    #[derive(PartialEq, Clone, Copy)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match ctx.arg(1) {
        a if is(a, "and") => Op::And,
        a if is(a, "or") => Op::Or,
        a if is(a, "xor") => Op::Xor,
        a if is(a, "not") => Op::Not,
        _ => return Err(errors::SYNTAX),
    };
    if op == Op::Not && ctx.argv.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let target = ctx.arg(2);
    let mut srcs: Vec<Option<Vec<u8>>> = Vec::with_capacity(ctx.argv.len() - 3);
    for i in 3..ctx.argv.len() {
        let k = ctx.arg(i);
        let (s, _) = ctx.read_string(k)?;
        srcs.push(s.map(|s| s.to_vec()));
    }
    let maxlen = srcs
        .iter()
        .map(|s| s.as_ref().map_or(0, |v| v.len()))
        .max()
        .unwrap_or(0);
    if maxlen > 0 {
        let byte_at =
            |s: &Option<Vec<u8>>, j: usize| s.as_ref().and_then(|v| v.get(j).copied()).unwrap_or(0);
        let mut res = vec![0u8; maxlen];
        match op {
            Op::Not => {
                for (j, r) in res.iter_mut().enumerate() {
                    *r = !byte_at(&srcs[0], j);
                }
            }
            _ => {
                let first = srcs[0].as_deref().unwrap_or(&[]);
                res[..first.len()].copy_from_slice(first);
                for s in &srcs[1..] {
                    let s = s.as_deref().unwrap_or(&[]);
                    for (j, r) in res.iter_mut().enumerate() {
                        let b = s.get(j).copied().unwrap_or(0);
                        match op {
                            Op::And => *r &= b,
                            Op::Or => *r |= b,
                            _ => *r ^= b,
                        }
                    }
                }
            }
        }
        ctx.set_key(target, Value::Str(RString::raw(res)), false);
        ctx.notify(notify::STRING, "set", target);
        ctx.dirty(1);
    } else if ctx.delete_key(target) {
        ctx.notify(notify::GENERIC, "del", target);
        ctx.dirty(1);
    }
    ctx.reply().int(maxlen as i64);
    Ok(())
}

/// Read `bits` bits at bit offset `off` of `p` as an unsigned number; bytes past the end are 0.
fn get_unsigned(p: &[u8], off: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for i in 0..bits as u64 {
        let o = off + i;
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (o & 7))) & 1) as u64;
    }
    v
}

fn get_signed(p: &[u8], off: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, off, bits);
    if bits == 64 {
        return v as i64;
    }
    // Sign-extend.
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn set_bits(p: &mut [u8], off: u64, bits: u32, v: u64) {
    for i in 0..bits as u64 {
        let bit = (v >> (bits as u64 - 1 - i)) & 1;
        let o = off + i;
        let byte = &mut p[(o >> 3) as usize];
        let shift = 7 - (o & 7);
        *byte = (*byte & !(1 << shift)) | ((bit as u8) << shift);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Add `incr` to an unsigned field value; Some(result) unless it overflowed under FAIL.
/// (Redis's checkUnsignedBitfieldOverflow.)
fn unsigned_add(value: u64, incr: i64, bits: u32, ow: Overflow) -> (u64, bool) {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap => (wrap(), true),
            Overflow::Sat => (max, true),
            Overflow::Fail => (0, true),
        }
    } else if incr < 0 && incr < minincr {
        match ow {
            Overflow::Wrap => (wrap(), true),
            Overflow::Sat => (0, true),
            Overflow::Fail => (0, true),
        }
    } else {
        (value.wrapping_add(incr as u64), false)
    }
}

/// The signed counterpart (Redis's checkSignedBitfieldOverflow).
fn signed_add(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i64, bool) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap => (wrap(), true),
            Overflow::Sat => (max, true),
            Overflow::Fail => (0, true),
        }
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        match ow {
            Overflow::Wrap => (wrap(), true),
            Overflow::Sat => (min, true),
            Overflow::Fail => (0, true),
        }
    } else {
        (value.wrapping_add(incr), false)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

struct BitfieldOp {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

fn bitfield_generic(ctx: &mut Ctx, readonly_cmd: bool) -> CmdResult {
    let key = ctx.arg(1);
    let mut ops: Vec<BitfieldOp> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest_write: u64 = 0;
    let argc = ctx.argv.len();
    let mut j = 2;
    while j < argc {
        let rem = argc - j - 1;
        let sub = ctx.arg(j);
        let op = if is(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if is(sub, "set") && rem >= 3 {
            FieldOp::Set
        } else if is(sub, "incrby") && rem >= 3 {
            FieldOp::Incrby
        } else if is(sub, "overflow") && rem >= 1 {
            let t = ctx.arg(j + 1);
            overflow = if is(t, "wrap") {
                Overflow::Wrap
            } else if is(t, "sat") {
                Overflow::Sat
            } else if is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(errors::SYNTAX);
        };
        let (signed, bits) = parse_bitfield_type(ctx.arg(j + 1))?;
        let offset = parse_bit_offset(ctx, ctx.arg(j + 2), bits)?;
        let mut value = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest_write = highest_write.max(offset + bits as u64 - 1);
            value = parse_i64(ctx.arg(j + 3))?;
        }
        ops.push(BitfieldOp {
            op,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    if readonly {
        let (s, r) = ctx.read_string(key)?;
        r.array_len(ops.len());
        let empty: &[u8] = &[];
        let reply_gets = |p: &[u8], r: &mut crate::resp::reply::ReplyBuf| {
            for o in &ops {
                if o.signed {
                    r.int(get_signed(p, o.offset, o.bits));
                } else {
                    r.int(get_unsigned(p, o.offset, o.bits) as i64);
                }
            }
        };
        match s {
            Some(s) => s.with_bytes(|p| reply_gets(p, r)),
            None => reply_gets(empty, r),
        }
        return Ok(());
    }
    if readonly_cmd {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let grown = string_for_bit_write(ctx, key, highest_write)?;
    let db = ctx.client.db;
    let Some(RObj {
        value: Value::Str(RString::Raw(p)),
        ..
    }) = ctx.srv.dbs[db].keys.get_mut(key)
    else {
        unreachable!("string_for_bit_write made it raw")
    };
    let r = &mut ctx.client.reply;
    r.array_len(ops.len());
    let mut changes = 0u64;
    for o in &ops {
        match o.op {
            FieldOp::Get => {
                if o.signed {
                    r.int(get_signed(p, o.offset, o.bits));
                } else {
                    r.int(get_unsigned(p, o.offset, o.bits) as i64);
                }
            }
            FieldOp::Set | FieldOp::Incrby => {
                let (old, new, ret, overflowed) = if o.signed {
                    let old = get_signed(p, o.offset, o.bits);
                    let (new, of) = if o.op == FieldOp::Incrby {
                        signed_add(old, o.value, o.bits, o.overflow)
                    } else {
                        signed_add(o.value, 0, o.bits, o.overflow)
                    };
                    let ret = if o.op == FieldOp::Incrby { new } else { old };
                    (old as u64, new as u64, ret, of)
                } else {
                    let old = get_unsigned(p, o.offset, o.bits);
                    let (new, of) = if o.op == FieldOp::Incrby {
                        unsigned_add(old, o.value, o.bits, o.overflow)
                    } else {
                        unsigned_add(o.value as u64, 0, o.bits, o.overflow)
                    };
                    let ret = if o.op == FieldOp::Incrby {
                        new as i64
                    } else {
                        old as i64
                    };
                    (old, new, ret, of)
                };
                if overflowed && o.overflow == Overflow::Fail {
                    r.null();
                } else {
                    r.int(ret);
                    set_bits(p, o.offset, o.bits, new);
                    let mask = if o.bits == 64 {
                        u64::MAX
                    } else {
                        (1u64 << o.bits) - 1
                    };
                    if grown || (old & mask) != (new & mask) {
                        changes += 1;
                    }
                }
            }
        }
    }
    if changes > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.dirty(changes);
    }
    Ok(())
}

fn bitfield(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, true)
}

/// BITFIELD's key flags (bitfieldGetKeys): read-only when it only GETs.
fn bitfield_getkeys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    let mut readonly = true;
    let mut i = 2;
    while i < argv.len() {
        let rem = argv.len() - i - 1;
        let a = &argv[i];
        if is(a, "get") && rem >= 2 {
            i += 3;
        } else if (is(a, "set") || is(a, "incrby")) && rem >= 3 {
            readonly = false;
            break;
        } else if is(a, "overflow") && rem >= 1 {
            i += 2;
        } else {
            readonly = false;
            break;
        }
    }
    let flags = if readonly {
        kf::RO | kf::ACCESS
    } else {
        kf::RW | kf::ACCESS | kf::UPDATE
    };
    vec![(1, flags)]
}

const B: u64 = acl::BITMAP;
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::UPDATE)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const BITOP_KEYS: &[KeySpec] = &[
    KeySpec::one(2, kf::OW | kf::UPDATE),
    KeySpec::range(3, -1, 1, kf::RO | kf::ACCESS),
];
const BITFIELD_KEYS: &[KeySpec] = &[KeySpec::one(
    1,
    kf::RW | kf::UPDATE | kf::ACCESS | kf::VARIABLE_FLAGS,
)];

/// Bitmap commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, setbit).flags(WRITE | DENYOOM).acl(B).keys(RW_ACCESS_UPDATE).group(Group::Bitmap).since("2.2.0").doc("Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "O(1)").syntax("key:key offset:integer value:integer"),
    CommandSpec::new("getbit", 3, getbit).flags(READONLY | FAST).acl(B).keys(RO_ACCESS).group(Group::Bitmap).since("2.2.0").doc("Returns a bit value by offset.", "O(1)").syntax("key:key offset:integer"),
    CommandSpec::new("bitcount", -2, bitcount).flags(READONLY).acl(B).keys(RO_ACCESS).group(Group::Bitmap).since("2.6.0").doc("Counts the number of set bits (population counting) in a string.", "O(N)").syntax("key:key [index=start:integer end:integer [unit=BYTE|BIT]]"),
    CommandSpec::new("bitpos", -3, bitpos).flags(READONLY).acl(B).keys(RO_ACCESS).group(Group::Bitmap).since("2.8.7").doc("Finds the first set (1) or clear (0) bit in a string.", "O(N)").syntax("key:key bit:integer [index=start:integer [end-unit-block=end:integer [unit=BYTE|BIT]]]"),
    CommandSpec::new("bitop", -4, bitop).flags(WRITE | DENYOOM).acl(B).keys(BITOP_KEYS).group(Group::Bitmap).since("2.6.0").doc("Performs bitwise operations on multiple strings, and stores the result.", "O(N)").syntax("operation=AND|OR|XOR|NOT destkey:key key:key..."),
    CommandSpec::new("bitfield", -2, bitfield).flags(WRITE | DENYOOM).acl(B).keys(BITFIELD_KEYS).varflags(bitfield_getkeys).group(Group::Bitmap).since("3.2.0").doc("Performs arbitrary bitfield integer operations on strings.", "O(1) for each subcommand specified").syntax("key:key [operation=GET encoding:string offset:integer|write=[overflow-block=OVERFLOW WRAP|SAT|FAIL] write-operation=SET encoding:string offset:integer value:integer|INCRBY encoding:string offset:integer increment:integer]..."),
    CommandSpec::new("bitfield_ro", -2, bitfield_ro).flags(READONLY | FAST).acl(B).keys(RO_ACCESS).group(Group::Bitmap).since("6.0.0").doc("Performs arbitrary read-only bitfield integer operations on strings.", "O(1)").syntax("key:key [GET encoding:string offset:integer...]"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_bit_matches_naive() {
        let data: Vec<u8> = (0..40u32)
            .map(|i| (i.wrapping_mul(37) ^ 0x5a) as u8)
            .collect();
        for &bit in &[false, true] {
            for s in 0..data.len() as u64 * 8 {
                for e in (s..data.len() as u64 * 8).step_by(13) {
                    let naive = (s..=e)
                        .find(|&p| ((data[(p >> 3) as usize] >> (7 - (p & 7))) & 1 == 1) == bit);
                    assert_eq!(find_bit(&data, s, e, bit), naive);
                }
            }
        }
    }

    #[test]
    fn bitfield_roundtrip_and_overflow() {
        let mut p = vec![0u8; 16];
        set_bits(&mut p, 5, 13, 0x1abc);
        assert_eq!(get_unsigned(&p, 5, 13), 0x1abc);
        assert_eq!(get_signed(&p, 5, 13), 0x1abc - 0x2000);
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Wrap), (4, true));
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Sat), (255, true));
        assert_eq!(signed_add(120, 10, 8, Overflow::Wrap), (-126, true));
        assert_eq!(signed_add(-120, -10, 8, Overflow::Sat), (-128, true));
        assert_eq!(signed_add(i64::MAX, 1, 64, Overflow::Sat), (i64::MAX, true));
        assert_eq!(popcount(&[0xff; 19]), 152);
    }
}
