//! Sorted set commands (Redis's t_zset.c): ZADD and friends, ranks and ranges by rank, score
//! and lex (with the STORE form), removals by range, pops (blocking too), ZRANDMEMBER, the
//! union/intersection/difference family and ZSCAN. The data structure and its encoding rules
//! are in `types::zset`.

use std::collections::HashMap;

use bytes::Bytes;

use crate::command::args::{is, parse_f64, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::resp::reply::{Aggregate, ReplyBuf};
use crate::server::Server;
use crate::types::listpack::LpValue;
use crate::types::object::{RObj, Value};
use crate::types::zset::{with_member, AddFlags, AddOutcome, LexRange, Limits, ScoreRange, ZSet};

const NAN_ERR: CmdError = CmdError::Static("ERR resulting score is not a number (NaN)");
const NOT_FLOAT_RANGE: CmdError = CmdError::Static("ERR min or max is not a float");
const NOT_LEX_RANGE: CmdError = CmdError::Static("ERR min or max not valid string range item");
const MUST_BE_POSITIVE: CmdError = CmdError::Static("ERR value is out of range, must be positive");

/// The encoding thresholds currently configured.
pub fn limits(srv: &Server) -> Limits {
    Limits {
        max_entries: srv.config.zset_max_listpack_entries as usize,
        max_value: srv.config.zset_max_listpack_value as usize,
    }
}

/// Reply with a member.
#[inline]
fn reply_member(r: &mut ReplyBuf, e: LpValue<'_>) {
    match e {
        LpValue::Int(n) => r.bulk_i64(n),
        LpValue::Str(s) => r.bulk(s),
    }
}

/// Reply with one (member, score) of a range: RESP3 nests pairs when scores are shown.
#[inline]
fn reply_item(r: &mut ReplyBuf, e: LpValue<'_>, s: f64, withscores: bool) {
    if withscores && r.resp > 2 {
        r.array_len(2);
    }
    reply_member(r, e);
    if withscores {
        r.double(s);
    }
}

/// The array length for `n` items.
#[inline]
fn items_len(r: &ReplyBuf, n: usize, withscores: bool) -> usize {
    if withscores && r.resp == 2 {
        n * 2
    } else {
        n
    }
}

/// Look a sorted set up for reading; WRONGTYPE for other types.
fn read_zset<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c ZSet>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::ZSet(z),
                ..
            }),
            r,
        ) => Ok((Some(z), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

/// Look a sorted set up for writing; WRONGTYPE for other types.
fn write_zset<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut ZSet>, CmdError> {
    match ctx.write(key) {
        None => Ok(None),
        Some(RObj {
            value: Value::ZSet(z),
            ..
        }) => Ok(Some(z)),
        Some(_) => Err(errors::WRONGTYPE),
    }
}

/// Delete `key` if its sorted set became empty, notifying `del`. True when deleted.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let db = ctx.client.db;
    let empty = matches!(ctx.srv.dbs[db].keys.get(key), Some(RObj { value: Value::ZSet(z), .. }) if z.is_empty());
    if empty {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    empty
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM
// ---------------------------------------------------------------------------------------------

/// ZADD and ZINCRBY (zaddGenericCommand).
fn zadd_generic(ctx: &mut Ctx, mut f: AddFlags) -> CmdResult {
    let key = ctx.arg(1);
    let mut ch = false;
    let mut idx = 2;
    while idx < ctx.argv.len() {
        let a = ctx.arg(idx);
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = ctx.argv.len() - idx;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Err(errors::SYNTAX);
    }
    let elements = rest / 2;
    if f.nx && f.xx {
        return Err(CmdError::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.gt || f.lt) && f.nx || (f.gt && f.lt) {
        return Err(CmdError::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 1 {
        return Err(CmdError::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(parse_f64(ctx.arg(idx + j * 2))?);
    }
    let lim = limits(ctx.srv);
    let argv = ctx.argv;
    let exists = write_zset(ctx, key)?.is_some();
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last_score = 0.0;
    let mut nan = false;
    if exists || !f.xx {
        if !exists {
            let first = ctx.arg(idx + 1);
            let z = if lim.max_entries == 0 || lim.max_value < first.len() {
                ZSet::new_skiplist()
            } else {
                ZSet::new_listpack()
            };
            ctx.set_key(key, Value::ZSet(z), false);
        }
        let z = write_zset(ctx, key)?.expect("just looked up or created");
        for (j, &score) in scores.iter().enumerate() {
            match z.add(score, &argv[idx + 1 + j * 2], f, lim) {
                AddOutcome::Nan => {
                    nan = true;
                    break;
                }
                AddOutcome::Added(s) => {
                    added += 1;
                    processed += 1;
                    last_score = s;
                }
                AddOutcome::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last_score = s;
                }
                AddOutcome::Same(s) => {
                    processed += 1;
                    last_score = s;
                }
                AddOutcome::Nop(s) => last_score = s,
            }
        }
    }
    if added > 0 || updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if nan {
        ctx.dirty(added + updated);
        return Err(NAN_ERR);
    }
    ctx.dirty(added + updated);
    let r = ctx.reply();
    if f.incr {
        if processed > 0 {
            r.double(last_score);
        } else {
            r.null();
        }
    } else {
        r.int((if ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

fn zadd(ctx: &mut Ctx) -> CmdResult {
    zadd_generic(ctx, AddFlags::default())
}

fn zincrby(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let incr = parse_f64(ctx.arg(2))?;
    let member = ctx.arg(3);
    let lim = limits(ctx.srv);
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    if write_zset(ctx, key)?.is_none() {
        let z = if lim.max_entries == 0 || lim.max_value < member.len() {
            ZSet::new_skiplist()
        } else {
            ZSet::new_listpack()
        };
        ctx.set_key(key, Value::ZSet(z), false);
    }
    let z = write_zset(ctx, key)?.expect("present");
    let out = z.add(incr, member, f, lim);
    let score = match out {
        AddOutcome::Nan => return Err(NAN_ERR),
        AddOutcome::Added(s)
        | AddOutcome::Updated(s)
        | AddOutcome::Same(s)
        | AddOutcome::Nop(s) => s,
    };
    if matches!(out, AddOutcome::Added(_) | AddOutcome::Updated(_)) {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, "zincr", key);
        ctx.dirty(1);
    }
    ctx.reply().double(score);
    Ok(())
}

fn zrem(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let Some(z) = write_zset(ctx, key)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if z.remove(m) {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        ctx.notify(notify::ZSET, "zrem", key);
        delete_if_empty(ctx, key);
        ctx.signal_modified(key);
        ctx.dirty(deleted);
    }
    ctx.reply().int(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Point queries
// ---------------------------------------------------------------------------------------------

fn zcard(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    match read_zset(ctx, key)? {
        (Some(z), r) => r.int(z.len() as i64),
        (None, r) => r.int(0),
    }
    Ok(())
}

fn zscore(ctx: &mut Ctx) -> CmdResult {
    let (key, m) = (ctx.arg(1), ctx.arg(2));
    match read_zset(ctx, key)? {
        (Some(z), r) => match z.score(m) {
            Some(s) => r.double(s),
            None => r.null(),
        },
        (None, r) => r.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (z, r) = read_zset(ctx, key)?;
    r.array_len(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => r.double(s),
            None => r.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let (key, m) = (ctx.arg(1), ctx.arg(2));
    match read_zset(ctx, key)? {
        (Some(z), r) => match z.rank(m, rev) {
            Some((rank, _)) => r.int(rank as i64),
            None => r.null(),
        },
        (None, r) => r.null(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, true)
}

fn zcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let range = ScoreRange::parse(ctx.arg(2), ctx.arg(3)).ok_or(NOT_FLOAT_RANGE)?;
    match read_zset(ctx, key)? {
        (Some(z), r) => r.int(z.count_score(&range) as i64),
        (None, r) => r.int(0),
    }
    Ok(())
}

fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let range = LexRange::parse(ctx.arg(2), ctx.arg(3)).ok_or(NOT_LEX_RANGE)?;
    match read_zset(ctx, key)? {
        (Some(z), r) => r.int(z.count_lex(&range) as i64),
        (None, r) => r.int(0),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeReq {
    range: Range,
    rev: bool,
    offset: i64,
    limit: i64,
}

/// Normalize rank bounds against `len`; `None` when the range is empty.
fn rank_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
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
    Some((start as usize, (end - start + 1) as usize))
}

/// Call `f` for every item of the requested range, in reply order. Returns the rank-range
/// length (for the store destination's encoding hint) when the range is by rank.
fn for_each_in_range<'z>(z: &'z ZSet, q: &'z RangeReq, mut f: impl FnMut(LpValue<'z>, f64)) {
    match &q.range {
        Range::Rank(start, end) => {
            if let Some((start, n)) = rank_bounds(*start, *end, z.len()) {
                z.iter_rank(start, q.rev).take(n).for_each(|(e, s)| f(e, s));
            }
        }
        Range::Score(r) => {
            if (q.offset > 0 && q.offset as u64 >= z.len() as u64) || q.offset < 0 {
                return;
            }
            let take = if q.limit < 0 {
                usize::MAX
            } else {
                q.limit as usize
            };
            z.iter_score(r, q.rev)
                .skip(q.offset as usize)
                .take(take)
                .for_each(|(e, s)| f(e, s));
        }
        Range::Lex(r) => {
            if (q.offset > 0 && q.offset as u64 >= z.len() as u64) || q.offset < 0 {
                return;
            }
            let take = if q.limit < 0 {
                usize::MAX
            } else {
                q.limit as usize
            };
            z.iter_lex(r, q.rev)
                .skip(q.offset as usize)
                .take(take)
                .for_each(|(e, s)| f(e, s));
        }
    }
}

/// ZRANGE and its variants, ZRANGESTORE (zrangeGenericCommand). `start` is the index of the
/// source key; `kind`/`rev` are fixed by the legacy commands and chosen by options otherwise.
fn zrange_generic(
    ctx: &mut Ctx,
    start: usize,
    store: Option<usize>,
    kind: Option<RangeKind>,
    rev: Option<bool>,
) -> CmdResult {
    let key = ctx.arg(start);
    let (mut kind_opt, mut rev_opt) = (kind, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = start + 3;
    let argc = ctx.argv.len();
    while j < argc {
        let a = ctx.arg(j);
        let left = argc - j - 1;
        if store.is_none() && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = parse_i64(ctx.arg(j + 1))?;
            limit = parse_i64(ctx.arg(j + 2))?;
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev_opt = Some(true);
        } else if kind.is_none() && is(a, "bylex") {
            kind_opt = Some(RangeKind::Lex);
        } else if kind.is_none() && is(a, "byscore") {
            kind_opt = Some(RangeKind::Score);
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    let rev = rev_opt.unwrap_or(false);
    let kind = kind_opt.unwrap_or(RangeKind::Rank);
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CmdError::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut minarg, mut maxarg) = (ctx.arg(start + 1), ctx.arg(start + 2));
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut minarg, &mut maxarg);
    }
    let range = match kind {
        RangeKind::Rank => Range::Rank(parse_i64(minarg)?, parse_i64(maxarg)?),
        RangeKind::Score => Range::Score(ScoreRange::parse(minarg, maxarg).ok_or(NOT_FLOAT_RANGE)?),
        RangeKind::Lex => Range::Lex(LexRange::parse(minarg, maxarg).ok_or(NOT_LEX_RANGE)?),
    };
    let q = RangeReq {
        range,
        rev,
        offset,
        limit,
    };
    match store {
        None => {
            match read_zset(ctx, key)? {
                (None, r) => r.array_len(0),
                (Some(z), r) => {
                    let d = r.defer();
                    let mut n = 0;
                    for_each_in_range(z, &q, |e, s| {
                        reply_item(r, e, s, withscores);
                        n += 1;
                    });
                    let len = items_len(r, n, withscores);
                    r.set_deferred(d, Aggregate::Array, len);
                }
            }
            Ok(())
        }
        Some(dst_idx) => {
            let dst = ctx.arg(dst_idx);
            let lim = limits(ctx.srv);
            let (items, hint) = match read_zset(ctx, key)? {
                (None, _) => (Vec::new(), 0),
                (Some(z), _) => {
                    let hint = match &q.range {
                        Range::Rank(s, e) => rank_bounds(*s, *e, z.len()).map_or(0, |(_, n)| n),
                        _ => 0,
                    };
                    let mut items = Vec::new();
                    for_each_in_range(z, &q, |e, s| items.push((e.to_vec(), s)));
                    (items, hint)
                }
            };
            store_result(ctx, dst, items, ZSet::for_len(hint, lim), "zrangestore");
            Ok(())
        }
    }
}

/// Store `items` at `dst` (building on the empty `z`), or delete `dst` when there are none;
/// reply with the count (zrangeResultFinalizeStore and the STORE tail of zunionInterDiff).
fn store_result(ctx: &mut Ctx, dst: &[u8], items: Vec<(Vec<u8>, f64)>, mut z: ZSet, event: &str) {
    let lim = limits(ctx.srv);
    for (e, s) in &items {
        z.add(*s, e, AddFlags::default(), lim);
    }
    store_zset(ctx, dst, z, event);
}

/// Store the set `z` at `dst`, or delete `dst` if `z` is empty; reply with the count.
fn store_zset(ctx: &mut Ctx, dst: &[u8], z: ZSet, event: &str) {
    let n = z.len();
    if n > 0 {
        ctx.set_key(dst, Value::ZSet(z), false);
        ctx.reply().int(n as i64);
        ctx.notify(notify::ZSET, event, dst);
        ctx.dirty(1);
    } else {
        ctx.reply().int(0);
        if ctx.delete_key(dst) {
            ctx.notify(notify::GENERIC, "del", dst);
            ctx.dirty(1);
        }
    }
}

fn zrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, None, None)
}
fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 2, Some(1), None, None)
}
fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Rank), Some(true))
}
fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Score), Some(false))
}
fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Score), Some(true))
}
fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Lex), Some(false))
}
fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Lex), Some(true))
}

/// ZREMRANGEBYRANK/SCORE/LEX (zremrangeGenericCommand).
fn zremrange_generic(ctx: &mut Ctx, kind: RangeKind) -> CmdResult {
    let key = ctx.arg(1);
    let (a, b) = (ctx.arg(2), ctx.arg(3));
    let range = match kind {
        RangeKind::Rank => Range::Rank(parse_i64(a)?, parse_i64(b)?),
        RangeKind::Score => Range::Score(ScoreRange::parse(a, b).ok_or(NOT_FLOAT_RANGE)?),
        RangeKind::Lex => Range::Lex(LexRange::parse(a, b).ok_or(NOT_LEX_RANGE)?),
    };
    let q = RangeReq {
        range,
        rev: false,
        offset: 0,
        limit: -1,
    };
    let Some(z) = write_zset(ctx, key)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut victims = Vec::new();
    for_each_in_range(z, &q, |e, _| victims.push(e.to_vec()));
    let deleted = z.remove_all(&victims);
    if deleted > 0 {
        ctx.signal_modified(key);
        let event = match kind {
            RangeKind::Rank => "zremrangebyrank",
            RangeKind::Score => "zremrangebyscore",
            RangeKind::Lex => "zremrangebylex",
        };
        ctx.notify(notify::ZSET, event, key);
        delete_if_empty(ctx, key);
    }
    ctx.dirty(deleted as u64);
    ctx.reply().int(deleted as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Rank)
}
fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Score)
}
fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Lex)
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// Pop from the existing, non-empty sorted set at `key` and reply (genericZpopCommand's core).
/// `count` of -1 is the single-element form.
fn pop_from(ctx: &mut Ctx, key: &[u8], max: bool, count: i64, emitkey: bool, nested: bool) {
    let count = if count == -1 { 1 } else { count };
    let z = match write_zset(ctx, key) {
        Ok(Some(z)) => z,
        _ => unreachable!("caller checked the key"),
    };
    let n = (count as u64).min(z.len() as u64) as usize;
    let items = ZSet::collect(z.iter(max).take(n));
    for (e, _) in &items {
        z.remove(e);
    }
    ctx.dirty(items.len() as u64);
    ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    ctx.signal_modified(key);
    let r = ctx.reply();
    match (nested, emitkey) {
        (false, false) => r.array_len(n * 2),
        (true, false) => r.array_len(n),
        (false, true) => {
            r.array_len(n * 2 + 1);
            r.bulk(key);
        }
        (true, true) => {
            r.array_len(2);
            r.bulk(key);
            r.array_len(n);
        }
    }
    for (e, s) in &items {
        if nested {
            r.array_len(2);
        }
        r.bulk(e);
        r.double(*s);
    }
    delete_if_empty(ctx, key);
}

/// The first of `keys` holding a sorted set (WRONGTYPE if one before it holds another type).
fn first_nonempty(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Option<usize>, CmdError> {
    for (i, k) in keys.iter().enumerate() {
        if let Some(z) = write_zset(ctx, k)? {
            if !z.is_empty() {
                return Ok(Some(i));
            }
        }
    }
    Ok(None)
}

fn zpop_minmax(ctx: &mut Ctx, max: bool) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(errors::SYNTAX);
    }
    let mut count = -1;
    if ctx.argv.len() == 3 {
        count = parse_i64(ctx.arg(2)).map_err(|_| errors::NOT_INTEGER)?;
        if count < 0 {
            return Err(MUST_BE_POSITIVE);
        }
    }
    let nested = ctx.client.reply.resp > 2 && count != -1;
    let key = ctx.arg(1);
    if write_zset(ctx, key)?.is_none() {
        ctx.reply().array_len(0);
        return Ok(());
    }
    if count == 0 {
        ctx.reply().array_len(0);
        return Ok(());
    }
    pop_from(ctx, key, max, count, false, nested);
    Ok(())
}

fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    zpop_minmax(ctx, false)
}
fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    zpop_minmax(ctx, true)
}

/// BZPOPMIN/BZPOPMAX/BZMPOP (blockingGenericZpopCommand): serve the first non-empty key and
/// propagate as the non-blocking pop, or block.
fn blocking_pop(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    timeout_idx: usize,
    count: i64,
    nested: bool,
) -> CmdResult {
    let timeout = crate::blocking::parse_timeout(ctx.arg(timeout_idx), ctx.now_ms())?;
    if let Some(i) = first_nonempty(ctx, keys)? {
        let key = &keys[i];
        let len = write_zset(ctx, key)?.map_or(0, |z| z.len()) as i64;
        pop_from(ctx, key, max, count, true, nested);
        let name = Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" });
        if count == -1 {
            ctx.propagate_as(vec![name, key.clone()]);
        } else {
            ctx.propagate_as(vec![
                name,
                key.clone(),
                Bytes::from(count.min(len).to_string()),
            ]);
        }
        return Ok(());
    }
    // Inside MULTI/EXEC a blocking pop cannot block (CLIENT_DENY_BLOCKING).
    if crate::blocking::deny_blocking(ctx) {
        ctx.reply().null_array();
        return Ok(());
    }
    crate::blocking::block_on_keys(ctx, keys, timeout);
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    blocking_pop(
        ctx,
        &argv[1..argv.len() - 1],
        false,
        argv.len() - 1,
        -1,
        false,
    )
}
fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    blocking_pop(
        ctx,
        &argv[1..argv.len() - 1],
        true,
        argv.len() - 1,
        -1,
        false,
    )
}

/// ZMPOP and BZMPOP (zmpopGenericCommand).
fn zmpop_generic(ctx: &mut Ctx, numkeys_idx: usize, block: bool) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = match crate::util::numbers::string2ll(&argv[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::Static("ERR numkeys should be greater than 0")),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return Err(errors::SYNTAX);
    }
    let max = if is(&argv[where_idx], "min") {
        false
    } else if is(&argv[where_idx], "max") {
        true
    } else {
        return Err(errors::SYNTAX);
    };
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count == -1 && is(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            count = match crate::util::numbers::string2ll(&argv[j]) {
                Some(n) if n >= 1 => n,
                _ => return Err(CmdError::Static("ERR count should be greater than 0")),
            };
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + numkeys];
    if block {
        return blocking_pop(ctx, keys, max, 1, count, true);
    }
    match first_nonempty(ctx, keys)? {
        None => ctx.reply().null_array(),
        Some(i) => {
            let key = &keys[i];
            let len = write_zset(ctx, key)?.map_or(0, |z| z.len()) as i64;
            pop_from(ctx, key, max, count, true, true);
            let name = Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" });
            ctx.propagate_as(vec![
                name,
                key.clone(),
                Bytes::from(count.min(len).to_string()),
            ]);
        }
    }
    Ok(())
}

fn zmpop(ctx: &mut Ctx) -> CmdResult {
    zmpop_generic(ctx, 1, false)
}
fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    zmpop_generic(ctx, 2, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------------

fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argc = ctx.argv.len();
    if argc >= 3 {
        let l = match crate::util::numbers::string2ll(ctx.arg(2)) {
            Some(n) if n != i64::MIN => n,
            Some(_) => return Err(CmdError::Static("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
            None => return Err(errors::NOT_INTEGER),
        };
        let withscores = if argc > 4 || (argc == 4 && !is(ctx.arg(3), "withscores")) {
            return Err(errors::SYNTAX);
        } else if argc == 4 {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::Static("ERR value is out of range"));
            }
            true
        } else {
            false
        };
        return zrandmember_count(ctx, key, l, withscores);
    }
    match read_zset(ctx, key)? {
        (None, r) => r.null(),
        (Some(z), r) => {
            let pick = z.random_with_repeats(1);
            reply_member(r, LpValue::Str(&pick[0].0));
        }
    }
    Ok(())
}

fn zrandmember_count(ctx: &mut Ctx, key: &[u8], l: i64, withscores: bool) -> CmdResult {
    let stop = ctx.srv.reply_stop_bytes(ctx.client);
    let (z, r) = match read_zset(ctx, key)? {
        (None, r) => {
            r.array_len(0);
            return Ok(());
        }
        (Some(z), r) => (z, r),
    };
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        r.array_len(0);
        return Ok(());
    }
    let size = z.len() as u64;
    if !uniq || count == 1 {
        r.array_len(items_len(r, count as usize, withscores));
        let mut left = count;
        while left > 0 && r.pending() <= stop {
            let batch = left.min(1000);
            left -= batch;
            for (e, s) in z.random_with_repeats(batch as usize) {
                reply_item(r, LpValue::Str(&e), s, withscores);
            }
        }
        return Ok(());
    }
    if count >= size {
        r.array_len(items_len(r, size as usize, withscores));
        // Redis's zuiNext walks sorted sets from the highest score down.
        for (e, s) in z.iter(true) {
            reply_item(r, e, s, withscores);
        }
        return Ok(());
    }
    let picks = z.random_unique(count as usize);
    r.array_len(items_len(r, picks.len(), withscores));
    for (e, s) in &picks {
        reply_item(r, LpValue::Str(e), *s, withscores);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF / ZINTERCARD and the STORE forms
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggr {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, a: Aggr) {
    match a {
        Aggr::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggr::Min => {
            if val < *target {
                *target = val
            }
        }
        Aggr::Max => {
            if val > *target {
                *target = val
            }
        }
    }
}

/// One input of a set operation: a sorted set, or a plain set whose members score 1
/// (zsetopsrc). Plain sets plug in here once `Value::Set` exists.
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a crate::types::set::Set),
}

impl<'a> Src<'a> {
    fn of(o: Option<&'a RObj>) -> Src<'a> {
        match o {
            Some(RObj {
                value: Value::ZSet(z),
                ..
            }) => Src::Z(z),
            Some(RObj {
                value: Value::Set(s),
                ..
            }) => Src::S(s),
            _ => Src::Missing,
        }
    }
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], f64) -> bool) {
        match self {
            Src::Missing => {}
            Src::Z(z) => {
                // Highest first, like Redis's zuiNext.
                for (e, s) in z.iter(true) {
                    if !with_member(e, |b| f(b, s)) {
                        break;
                    }
                }
            }
            Src::S(set) => {
                for m in set.iter() {
                    if !with_member(m, |b| f(b, 1.0)) {
                        break;
                    }
                }
            }
        }
    }
    fn find(&self, e: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(e),
            Src::S(s) => s.contains(e).then_some(1.0),
        }
    }
    fn same(&self, o: &Src) -> bool {
        match (self, o) {
            (Src::Z(a), Src::Z(b)) => std::ptr::eq(*a, *b),
            (Src::S(a), Src::S(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// Is the value a valid set-operation input (a sorted set or a set)?
fn is_setop_input(v: &Value) -> bool {
    matches!(v, Value::ZSet(_) | Value::Set(_))
}

/// zunionInterDiffGenericCommand.
fn zsetop_generic(
    ctx: &mut Ctx,
    dst: Option<usize>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let argv = ctx.argv;
    let setnum = parse_i64(&argv[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{}' command",
            ctx.cmd.name
        )));
    }
    if setnum > (argv.len() - numkeys_idx - 1) as i64 {
        return Err(errors::SYNTAX);
    }
    let setnum = setnum as usize;
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    for k in keys {
        if let (Some(o), _) = ctx.read(k) {
            if !is_setop_input(&o.value) {
                return Err(errors::WRONGTYPE);
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut aggr = Aggr::Sum;
    let mut withscores = false;
    let mut limit = 0u64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = crate::util::numbers::string2d(&argv[j])
                    .ok_or(CmdError::Static("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = &argv[j + 1];
            aggr = if is(v, "sum") {
                Aggr::Sum
            } else if is(v, "min") {
                Aggr::Min
            } else if is(v, "max") {
                Aggr::Max
            } else {
                return Err(errors::SYNTAX);
            };
            j += 2;
        } else if remaining >= 1 && dst.is_none() && !card_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            limit = match crate::util::numbers::string2ll(&argv[j + 1]) {
                Some(n) if n >= 0 => n as u64,
                _ => return Err(CmdError::Static("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }

    let db = ctx.client.db;
    let lim = limits(ctx.srv);
    let dbref = &ctx.srv.dbs[db];
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, &w)| (Src::of(dbref.keys.get(&k[..])), w))
        .collect();
    if op != SetOp::Diff {
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0u64;
    match op {
        SetOp::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, w0) = srcs[0];
                first.for_each(|e, s| {
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for (src, w) in &srcs[1..] {
                        let v = if src.same(&first) {
                            Some(s)
                        } else {
                            src.find(e)
                        };
                        match v {
                            Some(v) => aggregate(&mut score, v * w, aggr),
                            None => return true,
                        }
                    }
                    if card_only {
                        cardinality += 1;
                        return !(limit > 0 && cardinality >= limit);
                    }
                    result.push((e.to_vec(), score));
                    true
                });
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for (src, w) in &srcs {
                src.for_each(|e, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(e) {
                        Some(t) => aggregate(t, score, aggr),
                        None => {
                            acc.insert(e.to_vec(), score);
                        }
                    }
                    true
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let first = srcs[0].0;
            first.for_each(|e, s| {
                if !srcs[1..]
                    .iter()
                    .any(|(o, _)| o.same(&first) || o.find(e).is_some())
                {
                    result.push((e.to_vec(), s));
                }
                true
            });
        }
    }
    if card_only {
        ctx.reply().int(cardinality as i64);
        return Ok(());
    }
    let (maxelelen, totelelen) = result
        .iter()
        .fold((0, 0), |(m, t), (e, _)| (m.max(e.len()), t + e.len()));
    let mut z = ZSet::new_skiplist();
    let none = Limits {
        max_entries: 0,
        max_value: 0,
    };
    for (e, s) in &result {
        z.add(*s, e, AddFlags::default(), none);
    }
    match dst {
        Some(di) => {
            z.convert_to_listpack_if_needed(maxelelen, totelelen, lim);
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_zset(ctx, &argv[di], z, event);
        }
        None => {
            let r = &mut ctx.client.reply;
            r.array_len(items_len(r, z.len(), withscores));
            for (e, s) in z.iter(false) {
                reply_item(r, e, s, withscores);
            }
        }
    }
    Ok(())
}

fn zunion(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, None, 1, SetOp::Union, false)
}
fn zinter(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, None, 1, SetOp::Inter, false)
}
fn zdiff(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, None, 1, SetOp::Diff, false)
}
fn zintercard(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, None, 1, SetOp::Inter, true)
}
fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, Some(1), 2, SetOp::Union, false)
}
fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, Some(1), 2, SetOp::Inter, false)
}
fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    zsetop_generic(ctx, Some(1), 2, SetOp::Diff, false)
}

// ---------------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------------

/// ZSCAN, through the shared scan machinery (the `ScanSource` impl is with the type).
fn zscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = crate::commands::scan::parse_scan_cursor(ctx.arg(2))?;
    let key = ctx.arg(1);
    crate::commands::scan::scan_generic(ctx, Some(key), cursor, |v| match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const Z: u64 = acl::SORTEDSET;
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::UPDATE)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::DELETE)];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE)];
const RO: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const STORE_FROM_KEY: &[KeySpec] = &[
    KeySpec::one(1, kf::OW | kf::UPDATE),
    KeySpec::one(2, kf::RO | kf::ACCESS),
];
const STORE_FROM_KEYNUM: &[KeySpec] = &[
    KeySpec::one(1, kf::OW | kf::UPDATE),
    KeySpec::keynum(2, 0, 1, 1, kf::RO | kf::ACCESS),
];
const KEYNUM_RO: &[KeySpec] = &[KeySpec::keynum(1, 0, 1, 1, kf::RO | kf::ACCESS)];
const KEYNUM_POP: &[KeySpec] = &[KeySpec::keynum(
    1,
    0,
    1,
    1,
    kf::RW | kf::ACCESS | kf::DELETE,
)];
const KEYNUM_BPOP: &[KeySpec] = &[KeySpec::keynum(
    2,
    0,
    1,
    1,
    kf::RW | kf::ACCESS | kf::DELETE,
)];
const BPOP_KEYS: &[KeySpec] = &[KeySpec::range(1, -2, 1, kf::RW | kf::ACCESS | kf::DELETE)];

const RANGE_SYNTAX: &str = "key:key start:string stop:string [sortby=BYSCORE|BYLEX] [REV] [LIMIT offset:integer count:integer] [WITHSCORES]";

/// Sorted set commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, zadd).flags(WRITE | DENYOOM | FAST).acl(Z).keys(RW_UPDATE).group(Group::SortedSet).since("1.2.0").doc("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").syntax("key:key [condition=NX|XX] [comparison=GT|LT] change=[CH] increment=[INCR] score_member=(score:double member:string)..."),
    CommandSpec::new("zincrby", 4, zincrby).flags(WRITE | DENYOOM | FAST).acl(Z).keys(RW_ACCESS_UPDATE).group(Group::SortedSet).since("1.2.0").doc("Increments the score of a member in a sorted set.", "O(log(N)) where N is the number of elements in the sorted set.").syntax("key:key increment:integer member:string"),
    CommandSpec::new("zrem", -3, zrem).flags(WRITE | FAST).acl(Z).keys(RW_DELETE).group(Group::SortedSet).since("1.2.0").doc("Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.").syntax("key:key member:string..."),
    CommandSpec::new("zcard", 2, zcard).flags(READONLY | FAST).acl(Z).keys(RO).group(Group::SortedSet).since("1.2.0").doc("Returns the number of members in a sorted set.", "O(1)").syntax("key:key"),
    CommandSpec::new("zscore", 3, zscore).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("1.2.0").doc("Returns the score of a member in a sorted set.", "O(1)").syntax("key:key member:string"),
    CommandSpec::new("zmscore", -3, zmscore).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("6.2.0").doc("Returns the score of one or more members in a sorted set.", "O(N) where N is the number of members being requested.").syntax("key:key member:string..."),
    CommandSpec::new("zrank", 3, zrank).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.0.0").doc("Returns the index of a member in a sorted set ordered by ascending scores.", "O(log(N))").syntax("key:key member:string"),
    CommandSpec::new("zrevrank", 3, zrevrank).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.0.0").doc("Returns the index of a member in a sorted set ordered by descending scores.", "O(log(N))").syntax("key:key member:string"),
    CommandSpec::new("zcount", 4, zcount).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.0.0").doc("Returns the count of members in a sorted set that have scores within a range.", "O(log(N)) with N being the number of elements in the sorted set.").syntax("key:key min:double max:double"),
    CommandSpec::new("zlexcount", 4, zlexcount).flags(READONLY | FAST).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.8.9").doc("Returns the number of members in a sorted set within a lexicographical range.", "O(log(N)) with N being the number of elements in the sorted set.").syntax("key:key min:string max:string"),
    CommandSpec::new("zrange", -4, zrange).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("1.2.0").doc("Returns members in a sorted set within a range of indexes.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").syntax(RANGE_SYNTAX),
    CommandSpec::new("zrangestore", -5, zrangestore).flags(WRITE | DENYOOM).acl(Z).keys(STORE_FROM_KEY).group(Group::SortedSet).since("6.2.0").doc("Stores a range of members from sorted set in a key.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.").syntax("dst:key src:key min:string max:string [sortby=BYSCORE|BYLEX] [REV] [LIMIT offset:integer count:integer]"),
    CommandSpec::new("zrevrange", -4, zrevrange).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("1.2.0").doc("Returns members in a sorted set within a range of indexes in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").syntax("key:key start:integer stop:integer [WITHSCORES]"),
    CommandSpec::new("zrangebyscore", -4, zrangebyscore).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("1.0.5").doc("Returns members in a sorted set within a range of scores.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").syntax("key:key min:double max:double [WITHSCORES] [LIMIT offset:integer count:integer]"),
    CommandSpec::new("zrevrangebyscore", -4, zrevrangebyscore).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.2.0").doc("Returns members in a sorted set within a range of scores in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").syntax("key:key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]"),
    CommandSpec::new("zrangebylex", -4, zrangebylex).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.8.9").doc("Returns members in a sorted set within a lexicographical range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").syntax("key:key min:string max:string [LIMIT offset:integer count:integer]"),
    CommandSpec::new("zrevrangebylex", -4, zrevrangebylex).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.8.9").doc("Returns members in a sorted set within a lexicographical range in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").syntax("key:key max:string min:string [LIMIT offset:integer count:integer]"),
    CommandSpec::new("zremrangebyrank", 4, zremrangebyrank).flags(WRITE).acl(Z).keys(RW_DELETE).group(Group::SortedSet).since("2.0.0").doc("Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").syntax("key:key start:integer stop:integer"),
    CommandSpec::new("zremrangebyscore", 4, zremrangebyscore).flags(WRITE).acl(Z).keys(RW_DELETE).group(Group::SortedSet).since("1.2.0").doc("Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").syntax("key:key min:double max:double"),
    CommandSpec::new("zremrangebylex", 4, zremrangebylex).flags(WRITE).acl(Z).keys(RW_DELETE).group(Group::SortedSet).since("2.8.9").doc("Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").syntax("key:key min:string max:string"),
    CommandSpec::new("zpopmin", -2, zpopmin).flags(WRITE | FAST).acl(Z).keys(RW_ACCESS_DELETE).group(Group::SortedSet).since("5.0.0").doc("Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").syntax("key:key [count:integer]"),
    CommandSpec::new("zpopmax", -2, zpopmax).flags(WRITE | FAST).acl(Z).keys(RW_ACCESS_DELETE).group(Group::SortedSet).since("5.0.0").doc("Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").syntax("key:key [count:integer]"),
    CommandSpec::new("zmpop", -4, zmpop).flags(WRITE | MOVABLE_KEYS).acl(Z).keys(KEYNUM_POP).group(Group::SortedSet).since("7.0.0").doc("Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").syntax("numkeys:integer key:key... where=MIN|MAX [COUNT count:integer]"),
    CommandSpec::new("bzpopmin", -3, bzpopmin).flags(WRITE | NOSCRIPT | FAST | BLOCKING).acl(Z).keys(BPOP_KEYS).group(Group::SortedSet).since("5.0.0").doc("Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set.").syntax("key:key... timeout:double"),
    CommandSpec::new("bzpopmax", -3, bzpopmax).flags(WRITE | NOSCRIPT | FAST | BLOCKING).acl(Z).keys(BPOP_KEYS).group(Group::SortedSet).since("5.0.0").doc("Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set.").syntax("key:key... timeout:double"),
    CommandSpec::new("bzmpop", -5, bzmpop).flags(WRITE | BLOCKING | MOVABLE_KEYS).acl(Z).keys(KEYNUM_BPOP).group(Group::SortedSet).since("7.0.0").doc("Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").syntax("timeout:double numkeys:integer key:key... where=MIN|MAX [COUNT count:integer]"),
    CommandSpec::new("zrandmember", -2, zrandmember).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("6.2.0").doc("Returns one or more random members from a sorted set.", "O(N) where N is the number of members returned").syntax("key:key [options=[count:integer [WITHSCORES]]]").tips(&["nondeterministic_output"]),
    CommandSpec::new("zunion", -3, zunion).flags(READONLY | MOVABLE_KEYS).acl(Z).keys(KEYNUM_RO).group(Group::SortedSet).since("6.2.0").doc("Returns the union of multiple sorted sets.", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").syntax("numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=SUM|MIN|MAX] [WITHSCORES]"),
    CommandSpec::new("zinter", -3, zinter).flags(READONLY | MOVABLE_KEYS).acl(Z).keys(KEYNUM_RO).group(Group::SortedSet).since("6.2.0").doc("Returns the intersect of multiple sorted sets.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").syntax("numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=SUM|MIN|MAX] [WITHSCORES]"),
    CommandSpec::new("zdiff", -3, zdiff).flags(READONLY | MOVABLE_KEYS).acl(Z).keys(KEYNUM_RO).group(Group::SortedSet).since("6.2.0").doc("Returns the difference between multiple sorted sets.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").syntax("numkeys:integer key:key... [WITHSCORES]"),
    CommandSpec::new("zintercard", -3, zintercard).flags(READONLY | MOVABLE_KEYS).acl(Z).keys(KEYNUM_RO).group(Group::SortedSet).since("7.0.0").doc("Returns the number of members of the intersect of multiple sorted sets.", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.").syntax("numkeys:integer key:key... [LIMIT limit:integer]"),
    CommandSpec::new("zunionstore", -4, zunionstore).flags(WRITE | DENYOOM | MOVABLE_KEYS).acl(Z).keys(STORE_FROM_KEYNUM).group(Group::SortedSet).since("2.0.0").doc("Stores the union of multiple sorted sets in a key.", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").syntax("destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=SUM|MIN|MAX]"),
    CommandSpec::new("zinterstore", -4, zinterstore).flags(WRITE | DENYOOM | MOVABLE_KEYS).acl(Z).keys(STORE_FROM_KEYNUM).group(Group::SortedSet).since("2.0.0").doc("Stores the intersect of multiple sorted sets in a key.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").syntax("destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=SUM|MIN|MAX]"),
    CommandSpec::new("zdiffstore", -4, zdiffstore).flags(WRITE | DENYOOM | MOVABLE_KEYS).acl(Z).keys(STORE_FROM_KEYNUM).group(Group::SortedSet).since("6.2.0").doc("Stores the difference of multiple sorted sets in a key.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").syntax("destination:key numkeys:integer key:key..."),
    CommandSpec::new("zscan", -3, zscan).flags(READONLY).acl(Z).keys(RO_ACCESS).group(Group::SortedSet).since("2.8.0").doc("Iterates over members and scores of a sorted set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.").syntax("key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").tips(&["nondeterministic_output"]),
];
