//! List commands (Redis's t_list.c): pushes, pops (single, counted, multi-key LMPOP), index
//! access, ranges, trimming, removal, insertion, LPOS, LMOVE/RPOPLPUSH, and the blocking forms
//! BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, which wait through [`crate::blocking`] when every
//! key is missing. A blocked command is re-executed when a key becomes ready, so the handlers
//! below serve both the first call and the wake-up, and rewrite their propagation (a served
//! BLPOP replicates as LPOP, BLMOVE as LMOVE, BLMPOP as LPOP/RPOP with a count).

use bytes::Bytes;

use crate::blocking;
use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::resp::reply::ReplyBuf;
use crate::types::listpack::LpValue;
use crate::types::object::{RObj, Value};
use crate::types::quicklist::Quicklist;

/// Reply with one list element as a bulk string.
#[inline]
fn reply_elem(r: &mut ReplyBuf, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => r.bulk_i64(n),
        LpValue::Str(s) => r.bulk(s),
    }
}

/// Look a list up for reading: WRONGTYPE for other types.
fn read_list<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c Quicklist>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::List(l),
                ..
            }),
            r,
        ) => Ok((Some(l), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

/// Look a list up for writing (lazy expiry, LRU stamp): WRONGTYPE for other types. Returns
/// the reply buffer alongside so handlers can reply while holding the list.
fn write_list<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c mut Quicklist>, &'c mut ReplyBuf), CmdError> {
    if ctx.expire_if_needed(key) {
        return Ok((None, &mut ctx.client.reply));
    }
    let db = ctx.client.db;
    let lru = ctx.srv.lruclock;
    match ctx.srv.dbs[db].keys.get_mut(key) {
        None => Ok((None, &mut ctx.client.reply)),
        Some(o) => {
            o.lru = lru;
            match &mut o.value {
                Value::List(l) => Ok((Some(l), &mut ctx.client.reply)),
                _ => Err(errors::WRONGTYPE),
            }
        }
    }
}

/// Fail with WRONGTYPE when `key` holds something other than a list.
fn check_list_or_missing(ctx: &mut Ctx, key: &[u8]) -> Result<bool, CmdError> {
    Ok(write_list(ctx, key)?.0.is_some())
}

/// A new empty list with the configured fill and compress depth.
fn new_list(ctx: &Ctx) -> Quicklist {
    Quicklist::new(
        ctx.srv.config.list_max_listpack_size,
        ctx.srv.config.list_compress_depth,
    )
}

/// Create the list `key` (which must not exist) and return it.
fn create_list<'c>(ctx: &'c mut Ctx, key: &[u8]) -> &'c mut Quicklist {
    let ql = new_list(ctx);
    let db = ctx.client.db;
    let lru = ctx.srv.lruclock;
    ctx.srv.dbs[db].add(key, RObj::new(Value::List(Box::new(ql)), lru));
    match &mut ctx.srv.dbs[db].keys.get_mut(key).expect("just added").value {
        Value::List(l) => l,
        _ => unreachable!("just added a list"),
    }
}

/// After elements were popped from `key` (Redis's listElementsRemoved): notify, delete the key
/// if the list is now empty, signal, count the changes.
fn elements_removed(ctx: &mut Ctx, key: &[u8], tail: bool, count: usize, now_empty: bool) {
    ctx.notify(notify::LIST, if tail { "rpop" } else { "lpop" }, key);
    if now_empty {
        let db = ctx.client.db;
        ctx.srv.dbs[db].delete(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.signal_modified(key);
    ctx.dirty(count as u64);
}

/// Delete `key` when its list became empty (with the `del` event).
fn delete_if_empty(ctx: &mut Ctx, key: &[u8], now_empty: bool) {
    if now_empty {
        let db = ctx.client.db;
        ctx.srv.dbs[db].delete(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// Reply with the elements `start..=end` (already clamped, non-empty), from the head, or from
/// `end` backwards when `rev` (Redis's addListRangeReply after clamping).
fn reply_range(r: &mut ReplyBuf, l: &Quicklist, start: usize, end: usize, rev: bool) {
    let n = end - start + 1;
    r.array_len(n);
    let mut left = n;
    l.visit(if rev { end } else { start }, rev, |v| {
        reply_elem(r, v);
        left -= 1;
        left > 0
    });
}

/// Clamp Redis-style `start`/`end` indexes against `len`; `None` for an empty range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// Pop up to `count` elements from one end of `key` and reply `[key, [elements]]`
/// (listPopRangeAndReplyWithKey). Returns how many were popped.
fn pop_range_with_key(
    ctx: &mut Ctx,
    key: &[u8],
    tail: bool,
    count: usize,
) -> Result<usize, CmdError> {
    let (Some(l), r) = write_list(ctx, key)? else {
        unreachable!("caller checked the key exists")
    };
    let n = count.min(l.len());
    r.array_len(2);
    r.bulk(key);
    let len = l.len();
    if tail {
        reply_range(r, l, len - n, len - 1, true);
        l.delete_range(len - n, n);
    } else {
        reply_range(r, l, 0, n - 1, false);
        l.delete_range(0, n);
    }
    let empty = l.is_empty();
    elements_removed(ctx, key, tail, n, empty);
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------------------------

/// LPUSH/RPUSH/LPUSHX/RPUSHX (pushGenericCommand).
fn push_generic(ctx: &mut Ctx, tail: bool, only_existing: bool) -> CmdResult {
    let key = ctx.arg(1);
    let exists = check_list_or_missing(ctx, key)?;
    if !exists {
        if only_existing {
            ctx.reply().int(0);
            return Ok(());
        }
        create_list(ctx, key);
    }
    let argv = ctx.argv;
    let (Some(l), r) = write_list(ctx, key)? else {
        unreachable!("created above")
    };
    for v in &argv[2..] {
        l.push(v, tail);
    }
    r.int(l.len() as i64);
    ctx.dirty((argv.len() - 2) as u64);
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, if tail { "rpush" } else { "lpush" }, key);
    Ok(())
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, false)
}
fn rpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, false)
}
fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, true)
}
fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, true)
}

/// LINSERT key BEFORE|AFTER pivot element.
fn linsert(ctx: &mut Ctx) -> CmdResult {
    let after = if is(ctx.arg(2), "after") {
        true
    } else if is(ctx.arg(2), "before") {
        false
    } else {
        return Err(errors::SYNTAX);
    };
    let (key, pivot, elem) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let (Some(l), r) = write_list(ctx, key)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut found = None;
    let mut i = 0;
    l.visit(0, false, |v| {
        if v.eq_bytes(pivot) {
            found = Some(i);
            return false;
        }
        i += 1;
        true
    });
    let Some(at) = found else {
        r.int(-1);
        return Ok(());
    };
    l.insert(at, after, elem);
    r.int(l.len() as i64);
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "linsert", key);
    ctx.dirty(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

fn llen(ctx: &mut Ctx) -> CmdResult {
    match read_list(ctx, ctx.arg(1))? {
        (Some(l), r) => r.int(l.len() as i64),
        (None, r) => r.int(0),
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let (key, argv) = (ctx.arg(1), ctx.argv);
    let (Some(l), r) = read_list(ctx, key)? else {
        ctx.reply().null();
        return Ok(());
    };
    let index = parse_i64(&argv[2])?;
    if l.with_index(index, |v| reply_elem(r, v)).is_none() {
        r.null();
    }
    Ok(())
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let start = parse_i64(ctx.arg(2))?;
    let end = parse_i64(ctx.arg(3))?;
    match read_list(ctx, ctx.arg(1))? {
        (Some(l), r) => match clamp_range(start, end, l.len()) {
            Some((s, e)) => reply_range(r, l, s, e, false),
            None => r.array_len(0),
        },
        (None, r) => r.array_len(0),
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn lpos(ctx: &mut Ctx) -> CmdResult {
    let (mut rank, mut count, mut maxlen): (i64, i64, i64) = (1, -1, 0);
    let argv = ctx.argv;
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        let more = j + 1 < argv.len();
        if is(opt, "rank") && more {
            j += 1;
            rank = parse_i64(&argv[j])?;
            if rank == 0 {
                return Err(CmdError::err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is(opt, "count") && more {
            j += 1;
            count = positive(&argv[j], "ERR COUNT can't be negative")?;
        } else if is(opt, "maxlen") && more {
            j += 1;
            maxlen = positive(&argv[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    let rev = rank < 0;
    let rank = rank.wrapping_abs();
    let elem = ctx.arg(2);
    let (Some(l), r) = read_list(ctx, ctx.arg(1))? else {
        if count != -1 {
            ctx.reply().array_len(0);
        } else {
            ctx.reply().null();
        }
        return Ok(());
    };
    let llen = l.len() as i64;
    let mut found: Vec<i64> = Vec::new();
    let (mut index, mut matches) = (0i64, 0i64);
    if llen > 0 {
        l.visit(if rev { (llen - 1) as usize } else { 0 }, rev, |v| {
            if maxlen != 0 && index >= maxlen {
                return false;
            }
            if v.eq_bytes(elem) {
                matches += 1;
                if matches >= rank {
                    found.push(if rev { llen - index - 1 } else { index });
                    if count == -1 || (count != 0 && matches - rank + 1 >= count) {
                        return false;
                    }
                }
            }
            index += 1;
            true
        });
    }
    if count != -1 {
        r.array_len(found.len());
        for i in found {
            r.int(i);
        }
    } else {
        match found.first() {
            Some(&i) => r.int(i),
            None => r.null(),
        }
    }
    Ok(())
}

/// Parse a non-negative integer (getPositiveLongFromObjectOrReply): `msg` for anything else,
/// non-integers included.
fn positive(b: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match parse_i64(b) {
        Ok(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::Static(msg)),
    }
}

// ---------------------------------------------------------------------------------------------
// Modifications
// ---------------------------------------------------------------------------------------------

fn lset(ctx: &mut Ctx) -> CmdResult {
    let (key, argv) = (ctx.arg(1), ctx.argv);
    let (Some(l), r) = write_list(ctx, key)? else {
        return Err(errors::NO_SUCH_KEY);
    };
    let index = parse_i64(&argv[2])?;
    let Some(i) = l.resolve(index) else {
        return Err(errors::OUT_OF_RANGE);
    };
    l.replace(i, &argv[3]);
    r.ok();
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "lset", key);
    ctx.dirty(1);
    Ok(())
}

fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let start = parse_i64(ctx.arg(2))?;
    let end = parse_i64(ctx.arg(3))?;
    let key = ctx.arg(1);
    let (Some(l), r) = write_list(ctx, key)? else {
        ctx.reply().ok();
        return Ok(());
    };
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((s, e)) => (s, len - e - 1),
    };
    l.delete_range(0, ltrim);
    let len = l.len();
    l.delete_range(len - rtrim, rtrim);
    let empty = l.is_empty();
    r.ok();
    ctx.notify(notify::LIST, "ltrim", key);
    delete_if_empty(ctx, key, empty);
    ctx.signal_modified(key);
    ctx.dirty((ltrim + rtrim) as u64);
    Ok(())
}

fn lrem(ctx: &mut Ctx) -> CmdResult {
    let toremove = parse_i64(ctx.arg(2))?;
    let (key, elem) = (ctx.arg(1), ctx.arg(3));
    let (Some(l), r) = write_list(ctx, key)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let from_tail = toremove < 0;
    let n = toremove.unsigned_abs().min(usize::MAX as u64) as usize;
    let removed = l.remove_matching(elem, n, from_tail);
    let empty = l.is_empty();
    r.int(removed as i64);
    if removed > 0 {
        ctx.dirty(removed as u64);
        ctx.signal_modified(key);
        ctx.notify(notify::LIST, "lrem", key);
    }
    delete_if_empty(ctx, key, empty);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// LPOP/RPOP key [count] (popGenericCommand).
fn pop_generic(ctx: &mut Ctx, tail: bool) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.name
        )));
    }
    let count = match ctx.argv.get(2) {
        Some(c) => Some(positive(c, "ERR value is out of range, must be positive")?),
        None => None,
    };
    let key = ctx.arg(1);
    let (Some(l), r) = write_list(ctx, key)? else {
        match count {
            Some(_) => ctx.reply().null_array(),
            None => ctx.reply().null(),
        }
        return Ok(());
    };
    let n = match count {
        Some(0) => {
            r.array_len(0);
            return Ok(());
        }
        None => {
            let v = l.pop(tail).expect("lists are never empty");
            r.bulk(&v);
            1
        }
        Some(c) => {
            let len = l.len();
            let n = (c as u64).min(len as u64) as usize;
            if tail {
                reply_range(r, l, len - n, len - 1, true);
                l.delete_range(len - n, n);
            } else {
                reply_range(r, l, 0, n - 1, false);
                l.delete_range(0, n);
            }
            n
        }
    };
    let empty = l.is_empty();
    elements_removed(ctx, key, tail, n, empty);
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, false)
}
fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, true)
}

/// LEFT or RIGHT: is it the tail?
fn parse_where(b: &[u8]) -> Result<bool, CmdError> {
    if is(b, "right") {
        Ok(true)
    } else if is(b, "left") {
        Ok(false)
    } else {
        Err(errors::SYNTAX)
    }
}

fn pop_cmd_name(tail: bool) -> Bytes {
    Bytes::from_static(if tail { b"RPOP" } else { b"LPOP" })
}

/// [B]LMPOP's parsed arguments.
struct Mpop {
    keys: std::ops::Range<usize>,
    tail: bool,
    count: usize,
}

/// Parse `numkeys key... LEFT|RIGHT [COUNT count]` from `numkeys_idx` (lmpopGenericCommand).
fn parse_mpop(argv: &[Bytes], numkeys_idx: usize) -> Result<Mpop, CmdError> {
    let numkeys = match parse_i64(&argv[numkeys_idx]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::Static("ERR numkeys should be greater than 0")),
    };
    let where_idx = numkeys_idx as u64 + numkeys + 1;
    if where_idx >= argv.len() as u64 {
        return Err(errors::SYNTAX);
    }
    let where_idx = where_idx as usize;
    let tail = parse_where(&argv[where_idx])?;
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            count = match parse_i64(&argv[j]) {
                Ok(n) if n >= 1 => Some(n as usize),
                _ => return Err(CmdError::Static("ERR count should be greater than 0")),
            };
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(Mpop {
        keys: numkeys_idx + 1..where_idx,
        tail,
        count: count.unwrap_or(1),
    })
}

/// Pop from the first non-empty list among `keys` and reply `[key, [elements]]`; the write
/// propagates as LPOP/RPOP key count. False when every key is missing.
fn mpop_first(
    ctx: &mut Ctx,
    keys: std::ops::Range<usize>,
    tail: bool,
    count: usize,
) -> Result<bool, CmdError> {
    for i in keys {
        let key = ctx.arg(i);
        if !check_list_or_missing(ctx, key)? {
            continue;
        }
        let n = pop_range_with_key(ctx, key, tail, count)?;
        let key = ctx.argv[i].clone();
        ctx.propagate_as(vec![pop_cmd_name(tail), key, Bytes::from(n.to_string())]);
        return Ok(true);
    }
    Ok(false)
}

fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let m = parse_mpop(ctx.argv, 1)?;
    if !mpop_first(ctx, m.keys, m.tail, m.count)? {
        ctx.reply().null_array();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

/// LMOVE / RPOPLPUSH and the served forms of BLMOVE / BRPOPLPUSH (lmoveGenericCommand).
/// Returns false (and replies nothing) when the source is missing.
fn lmove_generic(ctx: &mut Ctx, from_tail: bool, to_tail: bool) -> Result<bool, CmdError> {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if !check_list_or_missing(ctx, src)? {
        return Ok(false);
    }
    let dst_exists = src == dst || check_list_or_missing(ctx, dst)?;
    let (Some(l), _) = write_list(ctx, src)? else {
        unreachable!("checked above")
    };
    let value = l.pop(from_tail).expect("lists are never empty");
    // lmoveHandlePush
    if !dst_exists {
        create_list(ctx, dst);
    }
    ctx.signal_modified(dst);
    let (Some(d), r) = write_list(ctx, dst)? else {
        unreachable!("exists or created")
    };
    d.push(&value, to_tail);
    r.bulk(&value);
    ctx.notify(notify::LIST, if to_tail { "rpush" } else { "lpush" }, dst);
    ctx.notify(notify::LIST, if from_tail { "rpop" } else { "lpop" }, src);
    let empty = matches!(write_list(ctx, src)?.0, Some(l) if l.is_empty());
    delete_if_empty(ctx, src, empty);
    ctx.signal_modified(src);
    ctx.dirty(1);
    match ctx.cmd.name {
        "blmove" => {
            let a = ctx.argv;
            ctx.propagate_as(vec![
                Bytes::from_static(b"LMOVE"),
                a[1].clone(),
                a[2].clone(),
                a[3].clone(),
                a[4].clone(),
            ]);
        }
        "brpoplpush" => {
            let a = ctx.argv;
            ctx.propagate_as(vec![
                Bytes::from_static(b"RPOPLPUSH"),
                a[1].clone(),
                a[2].clone(),
            ]);
        }
        _ => {}
    }
    Ok(true)
}

fn lmove(ctx: &mut Ctx) -> CmdResult {
    let from_tail = parse_where(ctx.arg(3))?;
    let to_tail = parse_where(ctx.arg(4))?;
    if !lmove_generic(ctx, from_tail, to_tail)? {
        ctx.reply().null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    if !lmove_generic(ctx, true, false)? {
        ctx.reply().null();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Blocking
// ---------------------------------------------------------------------------------------------

/// BLPOP/BRPOP/BLMPOP (blockingPopGenericCommand): serve the first non-empty list, or block.
fn blocking_pop(
    ctx: &mut Ctx,
    keys: std::ops::Range<usize>,
    tail: bool,
    timeout_idx: usize,
    count: Option<usize>,
) -> CmdResult {
    let timeout = blocking::parse_timeout(ctx.arg(timeout_idx), ctx.now_ms())?;
    for i in keys.clone() {
        let key = ctx.arg(i);
        if !check_list_or_missing(ctx, key)? {
            continue;
        }
        let keyb = ctx.argv[i].clone();
        match count {
            Some(c) => {
                let n = pop_range_with_key(ctx, key, tail, c)?;
                ctx.propagate_as(vec![pop_cmd_name(tail), keyb, Bytes::from(n.to_string())]);
            }
            None => {
                let (Some(l), r) = write_list(ctx, key)? else {
                    unreachable!("checked above")
                };
                let v = l.pop(tail).expect("lists are never empty");
                let empty = l.is_empty();
                r.array_len(2);
                r.bulk(key);
                r.bulk(&v);
                elements_removed(ctx, key, tail, 1, empty);
                ctx.propagate_as(vec![pop_cmd_name(tail), keyb]);
            }
        }
        return Ok(());
    }
    let argv = ctx.argv;
    blocking::block_on_keys(ctx, &argv[keys], timeout);
    Ok(())
}

fn blpop(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len();
    blocking_pop(ctx, 1..n - 1, false, n - 1, None)
}

fn brpop(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len();
    blocking_pop(ctx, 1..n - 1, true, n - 1, None)
}

fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let m = parse_mpop(ctx.argv, 2)?;
    blocking_pop(ctx, m.keys, m.tail, 1, Some(m.count))
}

/// BLMOVE/BRPOPLPUSH (blmoveGenericCommand).
fn blmove_generic(ctx: &mut Ctx, from_tail: bool, to_tail: bool, timeout_idx: usize) -> CmdResult {
    let timeout = blocking::parse_timeout(ctx.arg(timeout_idx), ctx.now_ms())?;
    if lmove_generic(ctx, from_tail, to_tail)? {
        return Ok(());
    }
    if blocking::deny_blocking(ctx) {
        // Inside MULTI (or a script) there is nothing to wait for: a null reply.
        ctx.reply().null();
        return Ok(());
    }
    let argv = ctx.argv;
    blocking::block_on_keys(ctx, &argv[1..2], timeout);
    Ok(())
}

fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from_tail = parse_where(ctx.arg(3))?;
    let to_tail = parse_where(ctx.arg(4))?;
    blmove_generic(ctx, from_tail, to_tail, 5)
}

fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    blmove_generic(ctx, true, false, 3)
}

/// Key specs of LMPOP/BLMPOP: a key count, then the keys.
fn mpop_keys(numkeys_idx: usize) -> impl Fn(&[Bytes]) -> Vec<(usize, u32)> {
    move |argv: &[Bytes]| match argv
        .get(numkeys_idx)
        .and_then(|b| crate::util::numbers::string2ll(b))
    {
        Some(n) if n > 0 && (numkeys_idx as i64 + n) < argv.len() as i64 => (numkeys_idx + 1
            ..=numkeys_idx + n as usize)
            .map(|i| (i, kf::RW | kf::ACCESS | kf::DELETE))
            .collect(),
        _ => Vec::new(),
    }
}

fn lmpop_keys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    mpop_keys(1)(argv)
}

fn blmpop_keys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    mpop_keys(2)(argv)
}

const L: u64 = acl::LIST;
const RW_INSERT: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::INSERT)];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE)];
const RO: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::DELETE)];
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE),
    KeySpec::one(2, kf::RW | kf::INSERT),
];
const BPOP_KEYS: &[KeySpec] = &[KeySpec::range(1, -2, 1, kf::RW | kf::ACCESS | kf::DELETE)];
const LMPOP_KEYS: &[KeySpec] = &[KeySpec::keynum(
    1,
    0,
    1,
    1,
    kf::RW | kf::ACCESS | kf::DELETE,
)];
const BLMPOP_KEYS: &[KeySpec] = &[KeySpec::keynum(
    2,
    0,
    1,
    1,
    kf::RW | kf::ACCESS | kf::DELETE,
)];

/// List commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, lpush).flags(WRITE | DENYOOM | FAST).acl(L).keys(RW_INSERT).group(Group::List).doc("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").syntax("key:key element:string..."),
    CommandSpec::new("rpush", -3, rpush).flags(WRITE | DENYOOM | FAST).acl(L).keys(RW_INSERT).group(Group::List).doc("Appends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").syntax("key:key element:string..."),
    CommandSpec::new("lpushx", -3, lpushx).flags(WRITE | DENYOOM | FAST).acl(L).keys(RW_INSERT).group(Group::List).since("2.2.0").doc("Prepends one or more elements to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").syntax("key:key element:string..."),
    CommandSpec::new("rpushx", -3, rpushx).flags(WRITE | DENYOOM | FAST).acl(L).keys(RW_INSERT).group(Group::List).since("2.2.0").doc("Appends one or more elements to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").syntax("key:key element:string..."),
    CommandSpec::new("lpop", -2, lpop).flags(WRITE | FAST).acl(L).keys(RW_ACCESS_DELETE).group(Group::List).doc("Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned").syntax("key:key [count:integer]"),
    CommandSpec::new("rpop", -2, rpop).flags(WRITE | FAST).acl(L).keys(RW_ACCESS_DELETE).group(Group::List).doc("Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned").syntax("key:key [count:integer]"),
    CommandSpec::new("llen", 2, llen).flags(READONLY | FAST).acl(L).keys(RO).group(Group::List).doc("Returns the length of a list.", "O(1)").syntax("key:key"),
    CommandSpec::new("lindex", 3, lindex).flags(READONLY).acl(L).keys(RO_ACCESS).group(Group::List).doc("Returns an element from a list by its index.", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).").syntax("key:key index:integer"),
    CommandSpec::new("lset", 4, lset).flags(WRITE | DENYOOM).acl(L).keys(RW_UPDATE).group(Group::List).doc("Sets the value of an element in a list by its index.", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).").syntax("key:key index:integer element:string"),
    CommandSpec::new("lrange", 4, lrange).flags(READONLY).acl(L).keys(RO_ACCESS).group(Group::List).doc("Returns a range of elements from a list.", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.").syntax("key:key start:integer stop:integer"),
    CommandSpec::new("ltrim", 4, ltrim).flags(WRITE).acl(L).keys(RW_DELETE).group(Group::List).doc("Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "O(N) where N is the number of elements to be removed by the operation.").syntax("key:key start:integer stop:integer"),
    CommandSpec::new("lrem", 4, lrem).flags(WRITE).acl(L).keys(RW_DELETE).group(Group::List).doc("Removes elements from a list. Deletes the list if the last element was removed.", "O(N+M) where N is the length of the list and M is the number of elements removed.").syntax("key:key count:integer element:string"),
    CommandSpec::new("linsert", 5, linsert).flags(WRITE | DENYOOM).acl(L).keys(RW_INSERT).group(Group::List).since("2.2.0").doc("Inserts an element before or after another element in a list.", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).").syntax("key:key where=(BEFORE|AFTER) pivot:string element:string"),
    CommandSpec::new("lpos", -3, lpos).flags(READONLY).acl(L).keys(RO_ACCESS).group(Group::List).since("6.0.6").doc("Returns the index of matching elements in a list.", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.").syntax("key:key element:string [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]"),
    CommandSpec::new("lmove", 5, lmove).flags(WRITE | DENYOOM).acl(L).keys(MOVE_KEYS).group(Group::List).since("6.2.0").doc("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "O(1)").syntax("source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT)"),
    CommandSpec::new("rpoplpush", 3, rpoplpush).flags(WRITE | DENYOOM).acl(L).keys(MOVE_KEYS).group(Group::List).since("1.2.0").doc("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "O(1)").syntax("source:key destination:key"),
    CommandSpec::new("lmpop", -4, lmpop).flags(WRITE).acl(L).keys(LMPOP_KEYS).getkeys(lmpop_keys).group(Group::List).since("7.0.0").doc("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned.").syntax("numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]"),
    CommandSpec::new("blpop", -3, blpop).flags(WRITE | NOSCRIPT | BLOCKING).acl(L).keys(BPOP_KEYS).group(Group::List).since("2.0.0").doc("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys.").syntax("key:key... timeout:double"),
    CommandSpec::new("brpop", -3, brpop).flags(WRITE | NOSCRIPT | BLOCKING).acl(L).keys(BPOP_KEYS).group(Group::List).since("2.0.0").doc("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys.").syntax("key:key... timeout:double"),
    CommandSpec::new("blmove", 6, blmove).flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING).acl(L).keys(MOVE_KEYS).group(Group::List).since("6.2.0").doc("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "O(1)").syntax("source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT) timeout:double"),
    CommandSpec::new("brpoplpush", 4, brpoplpush).flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING).acl(L).keys(MOVE_KEYS).group(Group::List).since("2.2.0").doc("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "O(1)").syntax("source:key destination:key timeout:double"),
    CommandSpec::new("blmpop", -5, blmpop).flags(WRITE | BLOCKING).acl(L).keys(BLMPOP_KEYS).getkeys(blmpop_keys).group(Group::List).since("7.0.0").doc("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned.").syntax("timeout:double numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]"),
];
