//! Stream commands (Redis's t_stream.c command part): XADD, XRANGE, XREVRANGE, XLEN, XDEL,
//! XTRIM, XREAD and XREADGROUP (blocking through [`crate::blocking`]), the consumer group
//! commands XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, and XINFO, XSETID.
//!
//! Propagation follows Redis: XADD goes out with the ID it generated and `~` trimming as
//! exact (`=`) trimming to the resulting length or first ID; XREADGROUP, XCLAIM and
//! XAUTOCLAIM never propagate themselves but the effects on the PEL, as idempotent
//! `XCLAIM ... FORCE JUSTID LASTID` commands, `XGROUP SETID` and `XGROUP CREATECONSUMER`.
//! A blocked XREAD/XREADGROUP is re-executed when a key it waits on is written; `$` was
//! rewritten into the IDs it stood for when the client blocked.

use std::ops::Bound;

use bytes::Bytes;

use crate::blocking;
use crate::client::flags as cf;
use crate::command::args::{is, parse_i64, parse_i64_msg, parse_range};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::commands::connection::{reply_help, subcommand_syntax_error};
use crate::db::notify;
use crate::resp::reply::{Aggregate, ReplyBuf};
use crate::server::mstime;
use crate::types::listpack::LpValue;
use crate::types::object::{RObj, Value};
use crate::types::stream::{
    self, AppendError, Consumer, Entry, NodeLimits, Stream, StreamId, TrimStrategy,
};

const INVALID_ID: CmdError =
    CmdError::Static("ERR Invalid stream ID specified as stream command argument");
const NO_SUCH_KEY_XINFO: CmdError = errors::NO_SUCH_KEY;
/// The COUNT a blocked XREAD without COUNT is served with (XREAD_BLOCKED_DEFAULT_COUNT).
const XREAD_BLOCKED_DEFAULT_COUNT: usize = 1000;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Parse an ID (streamGenericParseIDOrReply); `strict` rejects `-` and `+`.
fn parse_id(arg: &[u8], missing_seq: u64, strict: bool) -> Result<StreamId, CmdError> {
    stream::parse_id(arg, missing_seq, strict, false)
        .map(|(id, _)| id)
        .ok_or(INVALID_ID)
}

/// Parse a range bound, `(` making it exclusive (streamParseIntervalIDOrReply). Returns the
/// ID and whether it is exclusive.
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_id(&arg[1..], missing_seq, true)?, true))
    } else {
        Ok((parse_id(arg, missing_seq, false)?, false))
    }
}

/// Parse start and end bounds of a range, applying exclusivity.
fn parse_range_bounds(start: &[u8], end: &[u8]) -> Result<(StreamId, StreamId), CmdError> {
    let (mut s, sx) = parse_interval(start, 0)?;
    if sx {
        s = s
            .incr()
            .ok_or(CmdError::Static("ERR invalid start ID for the interval"))?;
    }
    let (mut e, ex) = parse_interval(end, u64::MAX)?;
    if ex {
        e = e
            .decr()
            .ok_or(CmdError::Static("ERR invalid end ID for the interval"))?;
    }
    Ok((s, e))
}

fn id_bytes(id: StreamId) -> Bytes {
    Bytes::from(id.to_vec())
}

fn reply_id(r: &mut ReplyBuf, id: StreamId) {
    r.bulk(id.to_string().as_bytes());
}

fn reply_lp(r: &mut ReplyBuf, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => r.bulk_i64(n),
        LpValue::Str(s) => r.bulk(s),
    }
}

/// One entry: `[id, [field, value, ...]]`.
fn reply_entry(r: &mut ReplyBuf, e: &Entry<'_>) {
    r.array_len(2);
    reply_id(r, e.id);
    r.array_len(e.fields.len() * 2);
    for (f, v) in &e.fields {
        reply_lp(r, *f);
        reply_lp(r, *v);
    }
}

/// Entries of `start..=end` as an array, at most `count` (0 = all); returns how many.
fn reply_range(
    r: &mut ReplyBuf,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let mark = r.defer();
    let mut n = 0;
    s.range(start, end, rev, |e| {
        reply_entry(r, e);
        n += 1;
        count == 0 || n < count
    });
    r.set_deferred(mark, Aggregate::Array, n);
    n
}

fn err_fmt(msg: String) -> CmdError {
    CmdError::Owned(msg)
}

/// Look a stream up for reading (lookupKeyRead): WRONGTYPE for other types.
fn read_stream<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c Stream>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::Stream(s),
                ..
            }),
            r,
        ) => Ok((Some(s), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

/// Look a stream up for writing (lookupKeyWrite): WRONGTYPE for other types.
fn write_stream<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c mut Stream>, &'c mut ReplyBuf), CmdError> {
    if ctx.expire_if_needed(key) {
        return Ok((None, &mut ctx.client.reply));
    }
    let db = ctx.client.db;
    let clock = ctx.srv.access_clock();
    match ctx.srv.dbs[db].keys.get_mut(key) {
        None => Ok((None, &mut ctx.client.reply)),
        Some(o) => {
            clock.touch(o);
            match &mut o.value {
                Value::Stream(s) => Ok((Some(s), &mut ctx.client.reply)),
                _ => Err(errors::WRONGTYPE),
            }
        }
    }
}

/// The stream at `key` without any lookup side effect (the caller already looked it up).
fn stream_raw<'c>(ctx: &'c mut Ctx, key: &[u8]) -> (Option<&'c mut Stream>, &'c mut ReplyBuf) {
    let db = ctx.client.db;
    let s = match ctx.srv.dbs[db].keys.get_mut(key).map(|o| &mut o.value) {
        Some(Value::Stream(s)) => Some(&mut **s),
        _ => None,
    };
    (s, &mut ctx.client.reply)
}

/// Create an empty stream at `key` (which must not exist).
fn create_stream(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    let lru = ctx.srv.new_obj_clock();
    ctx.srv.dbs[db].add(key, RObj::new(Value::Stream(Box::new(Stream::new())), lru));
}

fn limits(ctx: &Ctx) -> NodeLimits {
    NodeLimits {
        max_bytes: ctx.srv.config.stream_node_max_bytes,
        max_entries: ctx.srv.config.stream_node_max_entries,
    }
}

/// Commands from the master or the AOF obey without limits (mustObeyClient).
fn must_obey(ctx: &Ctx) -> bool {
    ctx.client.has(cf::MASTER | cf::AOF_CLIENT)
}

/// The XCLAIM that recreates `nack` of `id` on replicas (streamPropagateXCLAIM).
fn xclaim_argv(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: Bytes,
    delivery_time: i64,
    delivery_count: u64,
    last_id: StreamId,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        id,
        Bytes::from_static(b"TIME"),
        Bytes::from(delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bytes(last_id),
    ]
}

/// `XGROUP SETID key group id ENTRIESREAD n` (streamPropagateGroupID).
fn setid_argv(key: &[u8], group: &[u8], last_id: StreamId, entries_read: i64) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        id_bytes(last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.to_string()),
    ]
}

/// `XGROUP CREATECONSUMER key group consumer` (streamPropagateConsumerCreation).
fn createconsumer_argv(key: &[u8], group: &[u8], consumer: &[u8]) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(consumer),
    ]
}

/// Look a consumer up, refreshing its seen time, or create it; true when created
/// (streamLookupConsumer + streamCreateConsumer).
fn lookup_or_create_consumer(g: &mut stream::Group, name: &[u8], now: i64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(
                name.to_vec(),
                Consumer {
                    seen_time: now,
                    pel: Default::default(),
                },
            );
            true
        }
    }
}

// ---------------------------------------------------------------------------------------------
// XADD / XTRIM
// ---------------------------------------------------------------------------------------------

/// The parsed options of XADD / XTRIM (streamAddTrimArgs).
struct AddTrimArgs {
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
    strategy: TrimStrategy,
    /// Index of the MAXLEN/MINID value, for rewriting `~` trims.
    strategy_arg: usize,
    approx: bool,
    limit: i64,
    /// Index of the ID (XADD).
    idpos: usize,
}

/// streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(ctx: &Ctx, xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let argv = ctx.argv;
    let mut a = AddTrimArgs {
        id: None,
        no_mkstream: false,
        strategy: TrimStrategy::None,
        strategy_arg: 0,
        approx: false,
        limit: 0,
        idpos: 0,
    };
    let incompatible = CmdError::Static(
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    );
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let moreargs = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && moreargs > 0 {
            if a.strategy != TrimStrategy::None {
                return Err(incompatible);
            }
            a.approx = false;
            let next = &argv[i + 1][..];
            if moreargs >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                i += 1;
            }
            if is(opt, "maxlen") {
                let n = parse_i64(&argv[i + 1])?;
                if n < 0 {
                    return Err(CmdError::Static("ERR The MAXLEN argument must be >= 0."));
                }
                a.strategy = TrimStrategy::MaxLen(n as u64);
            } else {
                a.strategy = TrimStrategy::MinId(parse_id(&argv[i + 1], 0, true)?);
            }
            i += 1;
            a.strategy_arg = i;
        } else if is(opt, "limit") && moreargs > 0 {
            a.limit = parse_i64(&argv[i + 1])?;
            if a.limit < 0 {
                return Err(CmdError::Static("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            let (id, seq_given) = stream::parse_id(opt, 0, true, true).ok_or(INVALID_ID)?;
            a.id = Some((id, seq_given));
            break;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    a.idpos = i;
    if a.limit != 0 && a.strategy == TrimStrategy::None {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.strategy == TrimStrategy::None {
        return Err(CmdError::Static(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if must_obey(ctx) {
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(CmdError::Static(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if a.approx {
        a.limit = ctx.srv.config.stream_node_max_entries.saturating_mul(100);
        if a.limit <= 0 {
            a.limit = 10000;
        }
        if a.limit > 1_000_000 {
            a.limit = 1_000_000;
        }
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// Rewrite a `~` trim into `= <length or first ID>` in `argv` (streamRewriteApproxSpecifier +
/// streamRewriteTrimArgument).
fn rewrite_trim(argv: &mut [Bytes], s: &Stream, a: &AddTrimArgs) {
    argv[a.strategy_arg - 1] = Bytes::from_static(b"=");
    argv[a.strategy_arg] = match a.strategy {
        TrimStrategy::MaxLen(_) => Bytes::from(s.length.to_string()),
        _ => id_bytes(s.edge_id(true, false)),
    };
}

fn xadd(ctx: &mut Ctx) -> CmdResult {
    let a = parse_add_trim(ctx, true)?;
    let argv = ctx.argv;
    let field_pos = a.idpos + 1;
    if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
        return Err(err_fmt(format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(&argv[0]).to_lowercase()
        )));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(CmdError::Static(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = ctx.arg(1);
    if write_stream(ctx, key)?.0.is_none() {
        if a.no_mkstream {
            ctx.reply().null();
            return Ok(());
        }
        create_stream(ctx, key);
    }
    let lim = limits(ctx);
    let (Some(s), r) = stream_raw(ctx, key) else {
        unreachable!("created above")
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::Static(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id =
        match s.append(&argv[field_pos..], a.id, mstime() as u64, lim) {
            Ok(id) => id,
            Err(AppendError::IdTooSmall) => return Err(CmdError::Static(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )),
            Err(AppendError::TooLarge) => {
                return Err(CmdError::Static("ERR Elements are too large to be stored"))
            }
        };
    reply_id(r, id);
    let trimmed = s.trim(a.strategy, a.approx, a.limit) > 0;
    let mut prop: Option<Vec<Bytes>> = None;
    if a.strategy != TrimStrategy::None && a.approx {
        let mut v = argv.to_vec();
        rewrite_trim(&mut v, s, &a);
        prop = Some(v);
    }
    if !matches!(a.id, Some((_, true))) {
        let mut v = prop.take().unwrap_or_else(|| argv.to_vec());
        v[a.idpos] = id_bytes(id);
        prop = Some(v);
    }
    ctx.signal_modified(key);
    ctx.notify(notify::STREAM, "xadd", key);
    ctx.dirty(1);
    if trimmed {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    if let Some(v) = prop {
        ctx.propagate_as(v);
    }
    Ok(())
}

fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let a = parse_add_trim(ctx, false)?;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (s, r) = write_stream(ctx, key)?;
    let Some(s) = s else {
        r.int(0);
        return Ok(());
    };
    let deleted = s.trim(a.strategy, a.approx, a.limit);
    r.int(deleted);
    if deleted > 0 {
        let prop = a.approx.then(|| {
            let mut v = argv.to_vec();
            rewrite_trim(&mut v, s, &a);
            v
        });
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.signal_modified(key);
        ctx.dirty(deleted as u64);
        if let Some(v) = prop {
            ctx.propagate_as(v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN / XDEL
// ---------------------------------------------------------------------------------------------

fn xrange_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let argv = ctx.argv;
    let (sa, ea) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let (start, end) = parse_range_bounds(sa, ea)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if is(&argv[j], "count") && j + 1 < argv.len() {
            count = parse_i64(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    let key = ctx.arg(1);
    let (s, r) = read_stream(ctx, key)?;
    let Some(s) = s else {
        r.array_len(0);
        return Ok(());
    };
    if count == 0 {
        r.null_array();
    } else {
        reply_range(r, s, start, end, count.max(0) as usize, rev);
    }
    Ok(())
}

fn xrange(ctx: &mut Ctx) -> CmdResult {
    xrange_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    xrange_generic(ctx, true)
}

fn xlen(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (s, r) = read_stream(ctx, key)?;
    r.int(s.map_or(0, |s| s.length as i64));
    Ok(())
}

fn xdel(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (s, r) = write_stream(ctx, key)?;
    let Some(s) = s else {
        r.int(0);
        return Ok(());
    };
    let ids = argv[2..]
        .iter()
        .map(|a| parse_id(a, 0, true))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_entry_id {
                s.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.edge_id(true, true);
        }
    }
    r.int(deleted);
    if deleted > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.dirty(deleted as u64);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XREAD / XREADGROUP
// ---------------------------------------------------------------------------------------------

/// XREAD and XREADGROUP (xreadCommand).
fn xread_generic(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let xreadgroup = argv[0].len() == 10;
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut noack = false;
    let mut group: Option<(&[u8], &[u8])> = None;
    let name = String::from_utf8_lossy(&argv[0]).into_owned();
    let mut i = 1;
    while i < argv.len() {
        let moreargs = argv.len() - i - 1;
        let o = &argv[i][..];
        if is(o, "block") && moreargs > 0 {
            if ctx.client.has(cf::SCRIPT) {
                return Err(err_fmt(format!(
                    "ERR {name} command is not allowed with BLOCK option from scripts"
                )));
            }
            i += 1;
            timeout = Some(blocking::parse_timeout_ms(&argv[i], ctx.now_ms())?);
        } else if is(o, "count") && moreargs > 0 {
            i += 1;
            count = parse_i64(&argv[i])?.max(0) as usize;
        } else if is(o, "streams") && moreargs > 0 {
            streams_arg = i + 1;
            streams_count = argv.len() - streams_arg;
            if streams_count % 2 != 0 {
                return Err(CmdError::Static("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            streams_count /= 2;
            break;
        } else if is(o, "group") && moreargs >= 2 {
            if !xreadgroup {
                return Err(CmdError::Static("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if is(o, "noack") {
            if !xreadgroup {
                return Err(CmdError::Static("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            noack = true;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    // The command propagates through what it does to the groups, never as itself.
    ctx.prop.prevent = true;
    if streams_arg == 0 {
        return Err(errors::SYNTAX);
    }
    if xreadgroup && group.is_none() {
        return Err(CmdError::Static("ERR Missing GROUP option for XREADGROUP"));
    }
    let reexec = blocking::is_reexecuting(ctx.srv);
    if reexec && count == 0 {
        count = XREAD_BLOCKED_DEFAULT_COUNT;
    }
    let keys = &argv[streams_arg..streams_arg + streams_count];
    let mut ids: Vec<StreamId> = Vec::with_capacity(streams_count);
    // `>` is MAX; `$` resolved.
    let mut rewritten: Option<Vec<Bytes>> = None;
    for (k, key) in keys.iter().enumerate() {
        let idarg = &argv[streams_arg + streams_count + k];
        let (s, _) = read_stream(ctx, key)?;
        let last = s.map(|s| s.last_id);
        if let Some((gname, _)) = group {
            let exists = s.is_some_and(|s| s.groups.contains_key(gname));
            if !exists {
                if reexec {
                    return Err(CmdError::Static(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    ));
                }
                return Err(err_fmt(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(gname)
                )));
            }
        }
        if &idarg[..] == b"$" {
            if xreadgroup {
                return Err(CmdError::Static("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            let id = last.unwrap_or(StreamId::MIN);
            ids.push(id);
            rewritten.get_or_insert_with(|| argv.to_vec())[streams_arg + streams_count + k] =
                id_bytes(id);
            continue;
        } else if &idarg[..] == b">" {
            if !xreadgroup {
                return Err(CmdError::Static("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            ids.push(StreamId::MAX);
            continue;
        }
        ids.push(parse_id(idarg, 0, true)?);
    }

    // Serve synchronously what can be served.
    let resp3 = ctx.client.reply.resp >= 3;
    let mut arraylen = 0;
    let mut top = None;
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    let mut created_consumers: Vec<usize> = Vec::new();
    let now = mstime();
    for (k, key) in keys.iter().enumerate() {
        let (Some(s), r) = stream_raw(ctx, key) else {
            continue;
        };
        let mut gt = ids[k];
        let mut serve = false;
        let mut history = false;
        if let Some((gname, _)) = group {
            let Some(g) = s.groups.get(gname) else {
                continue;
            };
            if gt != StreamId::MAX {
                serve = true;
                history = true;
            } else if s.length > 0 {
                let maxid = s.last_valid_id();
                if maxid > g.last_id {
                    serve = true;
                    gt = g.last_id;
                }
            }
        } else if s.length > 0 && s.last_valid_id() > gt {
            serve = true;
        }
        if !serve {
            continue;
        }
        arraylen += 1;
        if arraylen == 1 {
            top = Some(r.defer());
        }
        let start = gt.incr().unwrap_or(StreamId::MIN);
        if !resp3 {
            r.array_len(2);
        }
        r.bulk(key);
        let Some((gname, cname)) = group else {
            reply_range(r, s, start, StreamId::MAX, count, false);
            continue;
        };
        let g = s.groups.get_mut(gname).expect("checked");
        if lookup_or_create_consumer(g, cname, now) {
            created_consumers.push(k);
            if noack {
                props.push(createconsumer_argv(key, gname, cname));
            }
        }
        if history {
            serve_history(r, s, gname, cname, start, count, now);
        } else {
            serve_new(
                r,
                s,
                key,
                (gname, cname),
                start,
                count,
                noack,
                now,
                &mut props,
            );
        }
    }
    for k in created_consumers {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", &keys[k]);
    }
    if arraylen > 0 {
        if group.is_some() {
            ctx.dirty(arraylen as u64);
        }
        let db = ctx.client.db;
        for p in props {
            ctx.also_propagate(db, p);
        }
        let kind = if resp3 {
            Aggregate::Map
        } else {
            Aggregate::Array
        };
        let mark = top.expect("set with the first stream");
        ctx.reply().set_deferred(mark, kind, arraylen);
        return Ok(());
    }
    let db = ctx.client.db;
    for p in props {
        ctx.also_propagate(db, p);
    }
    match timeout {
        Some(t) => {
            if blocking::deny_blocking(ctx) {
                ctx.reply().null_array();
                return Ok(());
            }
            let argv = rewritten.unwrap_or_else(|| argv.to_vec());
            blocking::block_on_keys_with(ctx, keys, t, argv);
        }
        None => ctx.reply().null_array(),
    }
    Ok(())
}

/// Serve a consumer's own pending entries from `start` (streamReplyWithRangeFromConsumerPEL).
fn serve_history(
    r: &mut ReplyBuf,
    s: &mut Stream,
    gname: &[u8],
    cname: &[u8],
    start: StreamId,
    count: usize,
    now: i64,
) {
    let ids: Vec<StreamId> = {
        let c = &s.groups[gname].consumers[cname];
        let it = c.pel.range(start..);
        if count > 0 {
            it.take(count).copied().collect()
        } else {
            it.copied().collect()
        }
    };
    r.array_len(ids.len());
    for id in ids {
        let found = s.with_entry(id, |e| reply_entry(r, e));
        if found {
            if let Some(n) = s.groups.get_mut(gname).and_then(|g| g.pel.get_mut(&id)) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        } else {
            r.array_len(2);
            reply_id(r, id);
            r.null_array();
        }
    }
}

/// Serve new entries to a group consumer from `start`, updating the group and the PEL and
/// collecting what to propagate (streamReplyWithRange with a group).
#[allow(clippy::too_many_arguments)]
fn serve_new(
    r: &mut ReplyBuf,
    s: &mut Stream,
    key: &[u8],
    (gname, cname): (&[u8], &[u8]),
    start: StreamId,
    count: usize,
    noack: bool,
    now: i64,
    props: &mut Vec<Vec<Bytes>>,
) {
    let mut ids = Vec::new();
    let mark = r.defer();
    s.range(start, StreamId::MAX, false, |e| {
        reply_entry(r, e);
        ids.push(e.id);
        count == 0 || ids.len() < count
    });
    r.set_deferred(mark, Aggregate::Array, ids.len());
    let mut propagate_last_id = false;
    for id in ids {
        let tomb = s.range_has_tombstones(Some(id), None);
        let est = s.estimate_distance(id);
        let entries_added = s.entries_added;
        let g = s.groups.get_mut(gname).expect("group checked");
        if id > g.last_id {
            if g.entries_read != -1 && !tomb {
                g.entries_read += 1;
            } else if entries_added != 0 {
                g.entries_read = est;
            }
            g.last_id = id;
            if noack {
                propagate_last_id = true;
            }
        }
        if !noack {
            let nack = g.assign(id, cname);
            nack.delivery_time = now;
            nack.delivery_count = 1;
            let (t, c) = (nack.delivery_time, nack.delivery_count);
            props.push(xclaim_argv(
                key,
                gname,
                cname,
                id_bytes(id),
                t,
                c,
                g.last_id,
            ));
        }
    }
    if propagate_last_id {
        let g = &s.groups[gname];
        props.push(setid_argv(key, gname, g.last_id, g.entries_read));
    }
}

/// Key positions of XREAD/XREADGROUP: the first half of what follows STREAMS (xreadGetKeys).
fn xread_keys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    let mut streams_pos = None;
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i][..];
        if is(a, "block") || is(a, "count") {
            i += 1;
        } else if is(a, "group") {
            i += 2;
        } else if is(a, "noack") {
        } else if is(a, "streams") {
            streams_pos = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(sp) = streams_pos else {
        return Vec::new();
    };
    let num = argv.len() - sp - 1;
    if num == 0 || !num.is_multiple_of(2) {
        return Vec::new();
    }
    // Redis's xreadGetKeys gives these keys no flags.
    (sp + 1..sp + 1 + num / 2).map(|k| (k, 0)).collect()
}

// ---------------------------------------------------------------------------------------------
// XGROUP / XSETID
// ---------------------------------------------------------------------------------------------

/// XGROUP and its subcommands (xgroupCommand).
fn xgroup(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let opt = &argv[1][..];
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut exists = false;
    if argv.len() >= 4 {
        let create = is(opt, "create");
        let setid = is(opt, "setid");
        let mut i = 5;
        while i < argv.len() {
            if create && is(&argv[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && is(&argv[i], "entriesread") && i + 1 < argv.len() {
                entries_read = parse_i64(&argv[i + 1])?;
                if entries_read < 0 && entries_read != -1 {
                    return Err(CmdError::Static(
                        "ERR value for ENTRIESREAD must be positive or -1",
                    ));
                }
                i += 2;
            } else {
                return Err(subcommand_syntax_error(ctx));
            }
        }
        exists = write_stream(ctx, &argv[2])?.0.is_some();
    }
    let key = if argv.len() >= 3 { &argv[2][..] } else { b"" };
    let gname = if argv.len() >= 4 { &argv[3][..] } else { b"" };
    let mut group_exists = false;
    if argv.len() >= 4 && !mkstream {
        if !exists {
            return Err(CmdError::Static("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        let (Some(s), _) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        group_exists = s.groups.contains_key(gname);
        if !group_exists
            && (is(opt, "setid") || is(opt, "createconsumer") || is(opt, "delconsumer"))
        {
            return Err(err_fmt(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(gname),
                String::from_utf8_lossy(key)
            )));
        }
    }
    let n = argv.len();
    if n == 2 && is(opt, "help") {
        reply_help(
            ctx.reply(),
            "xgroup",
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        );
    } else if is(opt, "create") && (5..=8).contains(&n) {
        let id = if &argv[4][..] == b"$" {
            match stream_raw(ctx, key).0 {
                Some(s) => s.last_id,
                None => StreamId::MIN,
            }
        } else {
            parse_id(&argv[4], 0, true)?
        };
        if !exists {
            create_stream(ctx, key);
            ctx.signal_modified(key);
        }
        let (Some(s), r) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        if s.groups.contains_key(gname) {
            return Err(CmdError::Static(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        s.groups
            .insert(gname.to_vec(), stream::Group::new(id, entries_read));
        r.ok();
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-create", key);
    } else if is(opt, "setid") && (n == 5 || n == 7) {
        let (Some(s), r) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        let id = if &argv[4][..] == b"$" {
            s.last_id
        } else {
            parse_id(&argv[4], 0, false)?
        };
        let g = s.groups.get_mut(gname).expect("checked");
        g.last_id = id;
        g.entries_read = entries_read;
        r.ok();
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-setid", key);
    } else if is(opt, "destroy") && n == 4 {
        let (Some(s), r) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        if group_exists {
            s.groups.remove(gname);
            r.int(1);
            ctx.dirty(1);
            ctx.notify(notify::STREAM, "xgroup-destroy", key);
            // Blocked XREADGROUP clients of this group fail with NOGROUP.
            let db = ctx.client.db;
            blocking::signal_key_as_ready(ctx.srv, db, key);
        } else {
            r.int(0);
        }
    } else if is(opt, "createconsumer") && n == 5 {
        let (Some(s), r) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        let g = s.groups.get_mut(gname).expect("checked");
        let cname = &argv[4][..];
        let created = !g.consumers.contains_key(cname);
        if created {
            g.consumers.insert(
                cname.to_vec(),
                Consumer {
                    seen_time: mstime(),
                    pel: Default::default(),
                },
            );
        }
        r.int(created as i64);
        if created {
            ctx.dirty(1);
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
    } else if is(opt, "delconsumer") && n == 5 {
        let (Some(s), r) = stream_raw(ctx, key) else {
            unreachable!("exists")
        };
        let g = s.groups.get_mut(gname).expect("checked");
        match g.delete_consumer(&argv[4]) {
            Some(pending) => {
                r.int(pending as i64);
                ctx.dirty(1);
                ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
            }
            None => r.int(0),
        }
    } else {
        return Err(subcommand_syntax_error(ctx));
    }
    Ok(())
}

fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let id = parse_id(&argv[2], 0, true)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let moreargs = argv.len() - 1 - i;
        if is(&argv[i], "entriesadded") && moreargs > 0 {
            entries_added = parse_i64(&argv[i + 1])?;
            if entries_added < 0 {
                return Err(CmdError::Static("ERR entries_added must be positive"));
            }
            i += 2;
        } else if is(&argv[i], "maxdeletedid") && moreargs > 0 {
            max_xdel = parse_id(&argv[i + 1], 0, true)?;
            if id < max_xdel {
                return Err(CmdError::Static("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
            i += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    let key = ctx.arg(1);
    let (s, r) = write_stream(ctx, key)?;
    let Some(s) = s else {
        return Err(errors::NO_SUCH_KEY);
    };
    if s.length > 0 {
        if id < s.last_valid_id() {
            return Err(CmdError::Static(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err(CmdError::Static("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_entry_id = max_xdel;
    }
    r.ok();
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xsetid", key);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

fn xack(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let has_group = match read_stream(ctx, key)? {
        (Some(s), _) => s.groups.contains_key(&argv[2][..]),
        _ => false,
    };
    if !has_group {
        ctx.reply().int(0);
        return Ok(());
    }
    let ids = argv[3..]
        .iter()
        .map(|a| parse_id(a, 0, true))
        .collect::<Result<Vec<_>, _>>()?;
    let (Some(s), r) = stream_raw(ctx, key) else {
        unreachable!("looked up")
    };
    let g = s.groups.get_mut(&argv[2][..]).expect("checked");
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    r.int(acked as i64);
    ctx.dirty(acked as u64);
    Ok(())
}

fn xpending(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = argv.len();
    let justinfo = n == 3;
    if n != 3 && !(6..=9).contains(&n) {
        return Err(errors::SYNTAX);
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&[u8]> = None;
    if n >= 6 {
        let mut startidx = 3;
        if is(&argv[3], "idle") {
            minidle = parse_i64(&argv[4])?;
            if n < 8 {
                return Err(errors::SYNTAX);
            }
            startidx += 2;
        }
        count = parse_i64(&argv[startidx + 2])?.max(0);
        (start, end) = parse_range_bounds(&argv[startidx], &argv[startidx + 1])?;
        if startidx + 3 < n {
            consumer = Some(&argv[startidx + 3]);
        }
    }
    let key = ctx.arg(1);
    let gname = &argv[2][..];
    let (s, r) = read_stream(ctx, key)?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else {
        return Err(err_fmt(format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(gname)
        )));
    };
    if justinfo {
        r.array_len(4);
        r.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                reply_id(r, *first);
                reply_id(r, *last);
                let with: Vec<(&Vec<u8>, &Consumer)> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                r.array_len(with.len());
                for (name, c) in with {
                    r.array_len(2);
                    r.bulk(name);
                    r.bulk_i64(c.pel.len() as i64);
                }
            }
            _ => {
                r.null();
                r.null();
                r.null_array();
            }
        }
        return Ok(());
    }
    let ids: Vec<StreamId> = match consumer {
        Some(cn) => match g.consumers.get(cn) {
            Some(c) => c.pel.range(start..=end.max(start)).copied().collect(),
            None => {
                r.array_len(0);
                return Ok(());
            }
        },
        None => g
            .pel
            .range(start..=end.max(start))
            .map(|(k, _)| *k)
            .collect(),
    };
    let now = mstime();
    let mark = r.defer();
    let mut len = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if minidle != 0 && now - nack.delivery_time < minidle {
            continue;
        }
        len += 1;
        count -= 1;
        r.array_len(4);
        reply_id(r, id);
        r.bulk(nack.consumer.as_deref().unwrap_or(b""));
        r.int((now - nack.delivery_time).max(0));
        r.int(nack.delivery_count as i64);
    }
    r.set_deferred(mark, Aggregate::Array, len);
    Ok(())
}

fn nogroup_key_group(key: &[u8], g: &[u8]) -> CmdError {
    err_fmt(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(g)
    ))
}

fn xclaim(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let gname = &argv[2][..];
    let cname = &argv[3][..];
    let has_group = match read_stream(ctx, key)? {
        (Some(s), _) => s.groups.contains_key(gname),
        _ => false,
    };
    if !has_group {
        return Err(nogroup_key_group(key, gname));
    }
    let minidle = parse_i64_msg(&argv[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match stream::parse_id(&argv[j], 0, true, false) {
            Some((id, _)) => ids.push((id, j)),
            None => break,
        }
        j += 1;
    }
    let now = mstime();
    let mut last_id = StreamId::MIN;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut force = false;
    let mut justid = false;
    while j < argv.len() {
        let moreargs = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && moreargs > 0 {
            j += 1;
            deliverytime =
                now - parse_i64_msg(&argv[j], "ERR Invalid IDLE option argument for XCLAIM")?;
        } else if is(opt, "time") && moreargs > 0 {
            j += 1;
            deliverytime = parse_i64_msg(&argv[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if is(opt, "retrycount") && moreargs > 0 {
            j += 1;
            retrycount = parse_i64_msg(
                &argv[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
        } else if is(opt, "lastid") && moreargs > 0 {
            j += 1;
            last_id = parse_id(&argv[j], 0, true)?;
        } else {
            return Err(err_fmt(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    ctx.prop.prevent = true;
    let (Some(s), r) = stream_raw(ctx, key) else {
        unreachable!("looked up")
    };
    let mut propagate_last_id = false;
    {
        let g = s.groups.get_mut(gname).expect("checked");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let mut props = Vec::new();
    let mut dirty = 0u64;
    let mut created_consumer = false;
    let mut consumer_ready = false;
    let mark = r.defer();
    let mut len = 0;
    for (id, argj) in ids {
        let exists = s.entry_exists(id);
        let g = s.groups.get_mut(gname).expect("checked");
        if !exists {
            if let Some(nack) = g.pel.get(&id) {
                props.push(xclaim_argv(
                    key,
                    gname,
                    nack.consumer.as_deref().unwrap_or(b""),
                    argv[argj].clone(),
                    nack.delivery_time,
                    nack.delivery_count,
                    g.last_id,
                ));
                propagate_last_id = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                stream::Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: None,
                },
            );
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if nack.consumer.is_some() && minidle != 0 && now - nack.delivery_time < minidle {
            continue;
        }
        if !consumer_ready {
            created_consumer = lookup_or_create_consumer(g, cname, now);
            consumer_ready = true;
        }
        let nack = g.assign(id, cname);
        nack.delivery_time = deliverytime;
        if retrycount >= 0 {
            nack.delivery_count = retrycount as u64;
        } else if !justid {
            nack.delivery_count += 1;
        }
        let (t, c) = (nack.delivery_time, nack.delivery_count);
        let glast = g.last_id;
        if justid {
            reply_id(r, id);
        } else {
            s.with_entry(id, |e| reply_entry(r, e));
        }
        len += 1;
        props.push(xclaim_argv(
            key,
            gname,
            cname,
            argv[argj].clone(),
            t,
            c,
            glast,
        ));
        propagate_last_id = false;
        dirty += 1;
    }
    if propagate_last_id {
        let g = &s.groups[gname];
        props.push(setid_argv(key, gname, g.last_id, g.entries_read));
        dirty += 1;
    }
    r.set_deferred(mark, Aggregate::Array, len);
    finish_claim(ctx, key, created_consumer, dirty, props)
}

/// The common end of XCLAIM and XAUTOCLAIM: count the changes, notify a consumer they
/// created, and propagate what they did (as XCLAIM / XGROUP SETID commands).
fn finish_claim(
    ctx: &mut Ctx,
    key: &[u8],
    created_consumer: bool,
    dirty: u64,
    props: Vec<Vec<Bytes>>,
) -> CmdResult {
    if created_consumer {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    let db = ctx.client.db;
    for p in props {
        ctx.also_propagate(db, p);
    }
    Ok(())
}

fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let gname = &argv[2][..];
    let cname = &argv[3][..];
    let minidle = parse_i64_msg(
        &argv[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0);
    let (mut startid, startex) = parse_interval(&argv[5], 0)?;
    if startex {
        startid = startid
            .incr()
            .ok_or(CmdError::Static("ERR invalid start ID for the interval"))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let moreargs = argv.len() - 1 - j;
        if is(&argv[j], "count") && moreargs > 0 {
            count = parse_range(&argv[j + 1], 1, i64::MAX / 16, "ERR COUNT must be > 0")?;
            j += 1;
        } else if is(&argv[j], "justid") {
            justid = true;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    let has_group = match read_stream(ctx, key)? {
        (Some(s), _) => s.groups.contains_key(gname),
        _ => false,
    };
    if !has_group {
        return Err(nogroup_key_group(key, gname));
    }
    ctx.prop.prevent = true;
    let (Some(s), r) = stream_raw(ctx, key) else {
        unreachable!("looked up")
    };
    let now = mstime();
    let mut attempts = count.saturating_mul(10);
    let mut from = Bound::Included(startid);
    let mut deleted_ids = Vec::new();
    let mut props = Vec::new();
    let mut dirty = 0u64;
    let mut created_consumer = false;
    let mut consumer_ready = false;
    r.array_len(3);
    let mut body = ReplyBuf {
        resp: r.resp,
        ..Default::default()
    };
    let mut len = 0;
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(id) = s.groups[gname]
            .pel
            .range((from, Bound::Unbounded))
            .next()
            .map(|(k, _)| *k)
        else {
            break;
        };
        from = Bound::Excluded(id);
        let exists = s.entry_exists(id);
        let g = s.groups.get_mut(gname).expect("checked");
        if !exists {
            let nack = &g.pel[&id];
            props.push(xclaim_argv(
                key,
                gname,
                nack.consumer.as_deref().unwrap_or(b""),
                id_bytes(id),
                nack.delivery_time,
                nack.delivery_count,
                g.last_id,
            ));
            dirty += 1;
            g.ack(id);
            deleted_ids.push(id);
            count -= 1;
            continue;
        }
        if minidle != 0 && now - g.pel[&id].delivery_time < minidle {
            continue;
        }
        if !consumer_ready {
            created_consumer = lookup_or_create_consumer(g, cname, now);
            consumer_ready = true;
        }
        let nack = g.assign(id, cname);
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count += 1;
        }
        let (t, c) = (nack.delivery_time, nack.delivery_count);
        let glast = g.last_id;
        if justid {
            reply_id(&mut body, id);
        } else {
            s.with_entry(id, |e| reply_entry(&mut body, e));
        }
        len += 1;
        count -= 1;
        props.push(xclaim_argv(key, gname, cname, id_bytes(id), t, c, glast));
        dirty += 1;
    }
    let endid = s.groups[gname]
        .pel
        .range((from, Bound::Unbounded))
        .next()
        .map(|(k, _)| *k)
        .unwrap_or(StreamId::MIN);
    reply_id(r, endid);
    r.array_len(len);
    r.raw(&body.buf);
    r.array_len(deleted_ids.len());
    for id in deleted_ids {
        reply_id(r, id);
    }
    finish_claim(ctx, key, created_consumer, dirty, props)
}

// ---------------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------------

fn xinfo_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "xinfo",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}

fn read_stream_or_nokey<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(&'c Stream, &'c mut ReplyBuf), CmdError> {
    match read_stream(ctx, key)? {
        (Some(s), r) => Ok((s, r)),
        (None, _) => Err(NO_SUCH_KEY_XINFO),
    }
}

fn xinfo_consumers(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let gname = ctx.arg(3);
    let (s, r) = read_stream_or_nokey(ctx, key)?;
    let Some(g) = s.groups.get(gname) else {
        return Err(err_fmt(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(gname),
            String::from_utf8_lossy(key)
        )));
    };
    let now = mstime();
    r.array_len(g.consumers.len());
    for (name, c) in &g.consumers {
        r.map_len(3);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"pending");
        r.int(c.pel.len() as i64);
        r.bulk(b"idle");
        r.int((now - c.seen_time).max(0));
    }
    Ok(())
}

fn reply_entries_read(r: &mut ReplyBuf, n: i64) {
    if n != -1 {
        r.int(n);
    } else {
        r.null();
    }
}

fn reply_lag(r: &mut ReplyBuf, lag: Option<i64>) {
    match lag {
        Some(n) => r.int(n),
        None => r.null(),
    }
}

fn xinfo_groups(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let (s, r) = read_stream_or_nokey(ctx, key)?;
    r.array_len(s.groups.len());
    for (name, g) in &s.groups {
        r.map_len(6);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"consumers");
        r.int(g.consumers.len() as i64);
        r.bulk(b"pending");
        r.int(g.pel.len() as i64);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_entries_read(r, g.entries_read);
        r.bulk(b"lag");
        reply_lag(r, s.group_lag(g));
    }
    Ok(())
}

fn xinfo_stream(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let opts = &argv[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !is(&opts[0], "full") {
            return Err(subcommand_syntax_error(ctx));
        }
        full = true;
        if opts.len() == 3 {
            if !is(&opts[1], "count") {
                return Err(subcommand_syntax_error(ctx));
            }
            count = parse_i64(&opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let key = ctx.arg(2);
    let (s, r) = read_stream_or_nokey(ctx, key)?;
    r.map_len(if full { 9 } else { 10 });
    r.bulk(b"length");
    r.int(s.length as i64);
    r.bulk(b"radix-tree-keys");
    r.int(s.node_count() as i64);
    r.bulk(b"radix-tree-nodes");
    r.int(s.rax_nodes_estimate() as i64);
    r.bulk(b"last-generated-id");
    reply_id(r, s.last_id);
    r.bulk(b"max-deleted-entry-id");
    reply_id(r, s.max_deleted_entry_id);
    r.bulk(b"entries-added");
    r.int(s.entries_added as i64);
    r.bulk(b"recorded-first-entry-id");
    reply_id(r, s.first_id);
    if !full {
        r.bulk(b"groups");
        r.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            r.bulk(name);
            let mut emitted = false;
            s.range(StreamId::MIN, StreamId::MAX, rev, |e| {
                reply_entry(r, e);
                emitted = true;
                false
            });
            if !emitted {
                r.null();
            }
        }
        return Ok(());
    }
    let count = count as usize;
    r.bulk(b"entries");
    reply_range(r, s, StreamId::MIN, StreamId::MAX, count, false);
    r.bulk(b"groups");
    r.array_len(s.groups.len());
    for (name, g) in &s.groups {
        r.map_len(7);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_entries_read(r, g.entries_read);
        r.bulk(b"lag");
        reply_lag(r, s.group_lag(g));
        r.bulk(b"pel-count");
        r.int(g.pel.len() as i64);
        r.bulk(b"pending");
        let pel: Vec<_> = if count > 0 {
            g.pel.iter().take(count).collect()
        } else {
            g.pel.iter().collect()
        };
        r.array_len(pel.len());
        for (id, nack) in pel {
            r.array_len(4);
            reply_id(r, *id);
            r.bulk(nack.consumer.as_deref().unwrap_or(b""));
            r.int(nack.delivery_time);
            r.int(nack.delivery_count as i64);
        }
        r.bulk(b"consumers");
        r.array_len(g.consumers.len());
        for (cname, c) in &g.consumers {
            r.map_len(4);
            r.bulk(b"name");
            r.bulk(cname);
            r.bulk(b"seen-time");
            r.int(c.seen_time);
            r.bulk(b"pel-count");
            r.int(c.pel.len() as i64);
            r.bulk(b"pending");
            let ids: Vec<_> = if count > 0 {
                c.pel.iter().take(count).collect()
            } else {
                c.pel.iter().collect()
            };
            r.array_len(ids.len());
            for id in ids {
                r.array_len(3);
                reply_id(r, *id);
                let nack = g.pel.get(id);
                r.int(nack.map_or(0, |n| n.delivery_time));
                r.int(nack.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const X: u64 = acl::STREAM;
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::DELETE)];
const RO: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const KEY2_RW_INSERT: &[KeySpec] = &[KeySpec::one(2, kf::RW | kf::INSERT)];
const KEY2_RW_DELETE: &[KeySpec] = &[KeySpec::one(2, kf::RW | kf::DELETE)];
const KEY2_RW_UPDATE: &[KeySpec] = &[KeySpec::one(2, kf::RW | kf::UPDATE)];
const KEY2_RO_ACCESS: &[KeySpec] = &[KeySpec::one(2, kf::RO | kf::ACCESS)];
const XREAD_KEYS: &[KeySpec] = &[KeySpec::keyword(
    "STREAMS",
    1,
    -1,
    1,
    2,
    kf::RO | kf::ACCESS,
)];
const XREADGROUP_KEYS: &[KeySpec] = &[KeySpec::keyword(
    "STREAMS",
    4,
    -1,
    1,
    2,
    kf::RW | kf::INSERT,
)];

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, xgroup).flags(WRITE | DENYOOM).acl(X).keys(KEY2_RW_INSERT).group(Group::Stream).since("5.0.0").doc("Creates a consumer group.", "O(1)").syntax("key:key group:string id_selector=(id:string|new_id=$) [MKSTREAM] [ENTRIESREAD entries_read:integer]"),
    CommandSpec::new("createconsumer", 5, xgroup).flags(WRITE | DENYOOM).acl(X).keys(KEY2_RW_INSERT).group(Group::Stream).since("6.2.0").doc("Creates a consumer in a consumer group.", "O(1)").syntax("key:key group:string consumer:string"),
    CommandSpec::new("delconsumer", 5, xgroup).flags(WRITE).acl(X).keys(KEY2_RW_DELETE).group(Group::Stream).since("5.0.0").doc("Deletes a consumer from a consumer group.", "O(1)").syntax("key:key group:string consumer:string"),
    CommandSpec::new("destroy", 4, xgroup).flags(WRITE).acl(X).keys(KEY2_RW_DELETE).group(Group::Stream).since("5.0.0").doc("Destroys a consumer group.", "O(N) where N is the number of entries in the group's pending entries list (PEL).").syntax("key:key group:string"),
    CommandSpec::new("help", 2, xgroup).flags(LOADING | STALE).acl(X).group(Group::Stream).since("5.0.0").doc("Returns helpful text about the different subcommands.", "O(1)"),
    CommandSpec::new("setid", -5, xgroup).flags(WRITE).acl(X).keys(KEY2_RW_UPDATE).group(Group::Stream).since("5.0.0").doc("Sets the last-delivered ID of a consumer group.", "O(1)").syntax("key:key group:string id_selector=(id:string|new_id=$) [ENTRIESREAD entries_read:integer]"),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, xinfo_consumers)
        .flags(READONLY)
        .acl(X)
        .keys(KEY2_RO_ACCESS)
        .group(Group::Stream)
        .since("5.0.0")
        .doc(
            "Returns a list of the consumers in a consumer group.",
            "O(1)",
        )
        .syntax("key:key group:string")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("groups", 3, xinfo_groups)
        .flags(READONLY)
        .acl(X)
        .keys(KEY2_RO_ACCESS)
        .group(Group::Stream)
        .since("5.0.0")
        .doc("Returns a list of the consumer groups of a stream.", "O(1)")
        .syntax("key:key"),
    CommandSpec::new("help", 2, xinfo_help)
        .flags(LOADING | STALE)
        .acl(X)
        .group(Group::Stream)
        .since("5.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("stream", -3, xinfo_stream)
        .flags(READONLY)
        .acl(X)
        .keys(KEY2_RO_ACCESS)
        .group(Group::Stream)
        .since("5.0.0")
        .doc("Returns information about a stream.", "O(1)")
        .syntax("key:key [full_block=(FULL [COUNT count:integer])]"),
];

/// Stream commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, xadd).flags(WRITE | DENYOOM | FAST).acl(X).keys(RW_UPDATE).group(Group::Stream).since("5.0.0").doc("Appends a new message to a stream. Creates the key if it doesn't exist.", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.").syntax("key:key [NOMKSTREAM] [trim=(strategy=MAXLEN|MINID [operator=~|=] threshold:string [LIMIT count:integer])] id_selector=(auto_id=*|id:string) data=(field:string value:string)...").tips(&["nondeterministic_output"]),
    CommandSpec::new("xrange", -4, xrange).flags(READONLY).acl(X).keys(RO_ACCESS).group(Group::Stream).since("5.0.0").doc("Returns the messages from a stream within a range of IDs.", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).").syntax("key:key start:string end:string [COUNT count:integer]"),
    CommandSpec::new("xrevrange", -4, xrevrange).flags(READONLY).acl(X).keys(RO_ACCESS).group(Group::Stream).since("5.0.0").doc("Returns the messages from a stream within a range of IDs in reverse order.", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).").syntax("key:key end:string start:string [COUNT count:integer]"),
    CommandSpec::new("xlen", 2, xlen).flags(READONLY | FAST).acl(X).keys(RO).group(Group::Stream).since("5.0.0").doc("Return the number of messages in a stream.", "O(1)").syntax("key:key"),
    CommandSpec::new("xdel", -3, xdel).flags(WRITE | FAST).acl(X).keys(RW_DELETE).group(Group::Stream).since("5.0.0").doc("Returns the number of messages after removing them from a stream.", "O(1) for each single item to delete in the stream, regardless of the stream size.").syntax("key:key id:string..."),
    CommandSpec::new("xtrim", -4, xtrim).flags(WRITE).acl(X).keys(RW_DELETE).group(Group::Stream).since("5.0.0").doc("Deletes messages from the beginning of a stream.", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.").syntax("key:key trim=(strategy=MAXLEN|MINID [operator=~|=] threshold:string [LIMIT count:integer])").tips(&["nondeterministic_output"]),
    CommandSpec::new("xread", -4, xread_generic).flags(READONLY | BLOCKING).acl(X).keys(XREAD_KEYS).getkeys(xread_keys).group(Group::Stream).since("5.0.0").doc("Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.").syntax("[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS streams=(key:key... id:string...)"),
    CommandSpec::new("xreadgroup", -7, xread_generic).flags(WRITE | BLOCKING).acl(X).keys(XREADGROUP_KEYS).getkeys(xread_keys).group(Group::Stream).since("5.0.0").doc("Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.").syntax("GROUP group:string consumer:string [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] STREAMS streams=(key:key... id:string...)"),
    CommandSpec::container("xgroup", XGROUP_SUBCOMMANDS).group(Group::Stream).since("5.0.0").doc("A container for consumer groups commands.", "Depends on subcommand."),
    CommandSpec::new("xsetid", -3, xsetid).flags(WRITE | DENYOOM | FAST).acl(X).keys(RW_UPDATE).group(Group::Stream).since("5.0.0").doc("An internal command for replicating stream values.", "O(1)").syntax("key:key last-id:string [ENTRIESADDED entries_added:integer] [MAXDELETEDID max_deleted_id:string]"),
    CommandSpec::new("xack", -4, xack).flags(WRITE | FAST).acl(X).keys(RW_UPDATE).group(Group::Stream).since("5.0.0").doc("Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "O(1) for each message ID processed.").syntax("key:key group:string id:string..."),
    CommandSpec::new("xpending", -3, xpending).flags(READONLY).acl(X).keys(RO_ACCESS).group(Group::Stream).since("5.0.0").doc("Returns the information and entries from a stream consumer group's pending entries list.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.").syntax("key:key group:string [filters=([IDLE min-idle-time:integer] start:string end:string count:integer [consumer:string])]").tips(&["nondeterministic_output"]),
    CommandSpec::new("xclaim", -6, xclaim).flags(WRITE | FAST).acl(X).keys(RW_UPDATE).group(Group::Stream).since("5.0.0").doc("Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "O(log N) with N being the number of messages in the PEL of the consumer group.").syntax("key:key group:string consumer:string min-idle-time:string id:string... [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID lastid:string]").tips(&["nondeterministic_output"]),
    CommandSpec::new("xautoclaim", -6, xautoclaim).flags(WRITE | FAST).acl(X).keys(RW_DELETE).group(Group::Stream).since("6.2.0").doc("Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "O(1) if COUNT is small.").syntax("key:key group:string consumer:string min-idle-time:string start:string [COUNT count:integer] [JUSTID]").tips(&["nondeterministic_output"]),
    CommandSpec::container("xinfo", XINFO_SUBCOMMANDS).group(Group::Stream).since("5.0.0").doc("A container for stream introspection commands.", "Depends on subcommand."),
];
