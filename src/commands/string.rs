//! String commands (Redis's t_string.c): SET and its variants, GET, GETSET, GETDEL, MGET,
//! MSET, MSETNX, INCR/DECR family, APPEND, STRLEN.

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::types::object::{RString, Value};

/// Reply with a string value as a bulk.
fn reply_string(r: &mut crate::resp::reply::ReplyBuf, s: &RString) {
    match s {
        RString::Int(n) => r.bulk_i64(*n),
        RString::Emb(b) => r.bulk(b),
        RString::Raw(v) => r.bulk(v),
    }
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    match ctx.read_string(key)? {
        (Some(s), r) => reply_string(r, s),
        (None, r) => r.null(),
    }
    Ok(())
}

/// SET's parsed options.
#[derive(Default)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    expire_ms: Option<i64>,
}

/// Parse SET options from argument `start` (Redis's parseExtendedStringArgumentsOrReply):
/// NX/XX exclude each other, KEEPTTL excludes the expiry options, and of EX/PX/EXAT/PXAT only
/// one kind may appear (repeating the same one keeps the last value).
fn parse_set_opts(ctx: &Ctx, start: usize) -> Result<SetOpts, CmdError> {
    let mut o = SetOpts::default();
    let argv = ctx.argv;
    // (absolute, milliseconds) of the expiry option seen, and its argument.
    let mut unit: Option<(bool, bool)> = None;
    let mut expire_arg: &[u8] = b"";
    let mut i = start;
    while i < argv.len() {
        let a = &argv[i][..];
        let has_next = i + 1 < argv.len();
        let kind = if is(a, "ex") {
            Some((false, false))
        } else if is(a, "px") {
            Some((false, true))
        } else if is(a, "exat") {
            Some((true, false))
        } else if is(a, "pxat") {
            Some((true, true))
        } else {
            None
        };
        if is(a, "nx") && !o.xx {
            o.nx = true;
        } else if is(a, "xx") && !o.nx {
            o.xx = true;
        } else if is(a, "get") {
            o.get = true;
        } else if is(a, "keepttl") && unit.is_none() {
            o.keepttl = true;
        } else if let Some(k) =
            kind.filter(|k| has_next && !o.keepttl && unit.is_none_or(|u| u == *k))
        {
            unit = Some(k);
            expire_arg = &argv[i + 1];
            i += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    if let Some((abs, ms)) = unit {
        let name = ctx.cmd.name;
        let bad = || CmdError::err(format!("invalid expire time in '{}' command", name));
        let v = parse_i64(expire_arg)?;
        if v <= 0 || (!ms && v > i64::MAX / 1000) {
            return Err(bad());
        }
        let mut when = if ms { v } else { v * 1000 };
        if !abs {
            when = when.checked_add(ctx.now_ms()).ok_or_else(bad)?;
        }
        o.expire_ms = Some(when);
    }
    Ok(o)
}

/// The core of SET/SETNX/SETEX/PSETEX (Redis's setGenericCommand).
fn set_generic(ctx: &mut Ctx, key: &[u8], val: &[u8], o: &SetOpts) -> Result<bool, CmdError> {
    if o.get {
        match ctx.read_string(key)? {
            (Some(s), r) => reply_string(r, s),
            (None, r) => r.null(),
        }
    }
    // Only NX and XX need to know whether the key is there; otherwise SET only expires an
    // expired key first (as lookupKeyWrite would) and overwrites in one lookup.
    let exists = if o.nx || o.xx {
        ctx.exists(key)
    } else {
        ctx.expire_if_needed(key);
        false
    };
    if (o.nx && exists) || (o.xx && !exists) {
        if !o.get {
            ctx.reply().null();
        }
        return Ok(false);
    }
    ctx.set_key(key, Value::Str(RString::from_bytes(val)), o.keepttl);
    ctx.dirty(1);
    if let Some(when) = o.expire_ms {
        let db = ctx.client.db;
        ctx.set_expire(db, key, when);
    }
    ctx.notify(notify::STRING, "set", key);
    if let Some(when) = o.expire_ms {
        ctx.notify(notify::GENERIC, "expire", key);
        // Any expiry propagates as an absolute PXAT, without the other options.
        ctx.propagate_as(vec![
            Bytes::from_static(b"SET"),
            Bytes::copy_from_slice(key),
            Bytes::copy_from_slice(val),
            Bytes::from_static(b"PXAT"),
            Bytes::from(when.to_string()),
        ]);
    } else if o.get {
        // Replicas need no GET.
        let argv: Vec<Bytes> = ctx
            .argv
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !is(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate_as(argv);
    }
    if !o.get {
        ctx.reply().ok();
    }
    Ok(true)
}

fn set(ctx: &mut Ctx) -> CmdResult {
    let o = parse_set_opts(ctx, 3)?;
    let (k, v) = (ctx.arg(1), ctx.arg(2));
    set_generic(ctx, k, v, &o)?;
    Ok(())
}

fn setnx(ctx: &mut Ctx) -> CmdResult {
    let (k, v) = (ctx.arg(1), ctx.arg(2));
    if ctx.exists(k) {
        ctx.reply().int(0);
        return Ok(());
    }
    ctx.set_key(k, Value::Str(RString::from_bytes(v)), false);
    ctx.dirty(1);
    ctx.notify(notify::STRING, "set", k);
    ctx.reply().int(1);
    Ok(())
}

fn setex_generic(ctx: &mut Ctx, ms: bool) -> CmdResult {
    let (k, v) = (ctx.arg(1), ctx.arg(3));
    let t = parse_i64(ctx.arg(2))?;
    let name = ctx.cmd.name;
    let bad = || CmdError::err(format!("invalid expire time in '{}' command", name));
    if t <= 0 {
        return Err(bad());
    }
    let rel = if ms { Some(t) } else { t.checked_mul(1000) };
    let when = rel
        .and_then(|r| r.checked_add(ctx.now_ms()))
        .ok_or_else(bad)?;
    ctx.set_key(k, Value::Str(RString::from_bytes(v)), false);
    let db = ctx.client.db;
    ctx.set_expire(db, k, when);
    ctx.dirty(1);
    ctx.notify(notify::STRING, "set", k);
    ctx.notify(notify::GENERIC, "expire", k);
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        ctx.argv[1].clone(),
        ctx.argv[3].clone(),
        Bytes::from_static(b"PXAT"),
        Bytes::from(when.to_string()),
    ]);
    ctx.reply().ok();
    Ok(())
}

fn setex(ctx: &mut Ctx) -> CmdResult {
    setex_generic(ctx, false)
}

fn psetex(ctx: &mut Ctx) -> CmdResult {
    setex_generic(ctx, true)
}

fn getset(ctx: &mut Ctx) -> CmdResult {
    let (k, v) = (ctx.arg(1), ctx.arg(2));
    match ctx.read_string(k)? {
        (Some(s), r) => reply_string(r, s),
        (None, r) => r.null(),
    }
    ctx.set_key(k, Value::Str(RString::from_bytes(v)), false);
    ctx.dirty(1);
    ctx.notify(notify::STRING, "set", k);
    // Propagated as SET.
    if ctx.srv.should_propagate() {
        ctx.propagate_as(vec![
            Bytes::from_static(b"SET"),
            ctx.argv[1].clone(),
            ctx.argv[2].clone(),
        ]);
    }
    Ok(())
}

fn getdel(ctx: &mut Ctx) -> CmdResult {
    let k = ctx.arg(1);
    let found = match ctx.read_string(k)? {
        (Some(s), r) => {
            reply_string(r, s);
            true
        }
        (None, r) => {
            r.null();
            false
        }
    };
    if found {
        ctx.delete_key(k);
        // Propagated as DEL (or UNLINK with lazyfree-lazy-user-del).
        let del: &'static [u8] = if ctx.srv.config.lazyfree_lazy_user_del {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(vec![Bytes::from_static(del), ctx.argv[1].clone()]);
        ctx.notify(notify::GENERIC, "del", k);
        ctx.dirty(1);
    }
    Ok(())
}

fn mget(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len() - 1;
    ctx.reply().array_len(n);
    for i in 1..ctx.argv.len() {
        let k = ctx.arg(i);
        match ctx.read(k) {
            (
                Some(crate::types::object::RObj {
                    value: Value::Str(s),
                    ..
                }),
                r,
            ) => reply_string(r, s),
            #[allow(unreachable_patterns)]
            (_, r) => r.null(),
        }
    }
    Ok(())
}

fn mset_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    if ctx.argv.len().is_multiple_of(2) {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.name
        )));
    }
    if nx {
        for i in (1..ctx.argv.len()).step_by(2) {
            let k = ctx.arg(i);
            if ctx.exists(k) {
                ctx.reply().int(0);
                return Ok(());
            }
        }
    }
    for i in (1..ctx.argv.len()).step_by(2) {
        let (k, v) = (ctx.arg(i), ctx.arg(i + 1));
        ctx.set_key(k, Value::Str(RString::from_bytes(v)), false);
        ctx.notify(notify::STRING, "set", k);
    }
    ctx.dirty(((ctx.argv.len() - 1) / 2) as u64);
    if nx {
        ctx.reply().int(1);
    } else {
        ctx.reply().ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)
}

fn msetnx(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, true)
}

/// INCR/DECR/INCRBY/DECRBY (Redis's incrDecrCommand).
fn incr_decr(ctx: &mut Ctx, by: i64) -> CmdResult {
    let k = ctx.arg(1);
    // An existing value is updated in place, found by one lookup.
    let updated = match ctx.write(k) {
        None => None,
        Some(o) => match &mut o.value {
            Value::Str(s) => {
                let cur = s.as_i64().ok_or(errors::NOT_INTEGER)?;
                let new = cur.checked_add(by).ok_or(errors::OVERFLOW)?;
                *s = RString::Int(new);
                Some(new)
            }
            #[allow(unreachable_patterns)]
            _ => return Err(errors::WRONGTYPE),
        },
    };
    let new = match updated {
        Some(new) => {
            ctx.signal_modified(k);
            new
        }
        None => {
            ctx.set_key(k, Value::Str(RString::Int(by)), false);
            by
        }
    };
    ctx.dirty(1);
    ctx.notify(notify::STRING, "incrby", k);
    ctx.reply().int(new);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_decr(ctx, 1)
}
fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_decr(ctx, -1)
}
fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = parse_i64(ctx.arg(2))?;
    incr_decr(ctx, by)
}
fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = parse_i64(ctx.arg(2))?;
    if by == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_decr(ctx, -by)
}

/// Refuse strings past `proto-max-bulk-len` (Redis's checkStringLength).
fn check_string_length(ctx: &Ctx, size: u64) -> Result<(), CmdError> {
    if size > ctx.srv.config.proto_max_bulk_len as u64 {
        return Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

fn append(ctx: &mut Ctx) -> CmdResult {
    let (k, v) = (ctx.arg(1), ctx.arg(2));
    let cur_len = match ctx.write(k) {
        None => None,
        Some(o) => match &o.value {
            Value::Str(s) => Some(s.len()),
            #[allow(unreachable_patterns)]
            _ => return Err(errors::WRONGTYPE),
        },
    };
    let total = match cur_len {
        None => {
            ctx.set_key(k, Value::Str(RString::from_bytes(v)), false);
            v.len()
        }
        Some(len) => {
            check_string_length(ctx, (len + v.len()) as u64)?;
            let Some(o) = ctx.write(k) else {
                unreachable!("checked above")
            };
            let Value::Str(s) = &mut o.value else {
                return Err(errors::WRONGTYPE);
            };
            let buf = s.make_raw();
            buf.extend_from_slice(v);
            let n = buf.len();
            ctx.signal_modified(k);
            n
        }
    };
    ctx.dirty(1);
    ctx.notify(notify::STRING, "append", k);
    ctx.reply().int(total as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx) -> CmdResult {
    let k = ctx.arg(1);
    match ctx.read_string(k)? {
        (Some(s), r) => r.int(s.len() as i64),
        (None, r) => r.int(0),
    }
    Ok(())
}

/// GETEX: GET, then optionally change the TTL (EX/PX/EXAT/PXAT) or drop it (PERSIST).
fn getex(ctx: &mut Ctx) -> CmdResult {
    #[derive(PartialEq, Clone, Copy)]
    enum Ttl {
        Keep,
        Persist,
        Set { ms: bool, abs: bool },
    }
    let argv = ctx.argv;
    let mut ttl = Ttl::Keep;
    let mut expire_arg: &[u8] = b"";
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i][..];
        let has_next = i + 1 < argv.len();
        if is(a, "persist") && ttl == Ttl::Keep {
            ttl = Ttl::Persist;
        } else if has_next && (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat")) {
            let ms = is(a, "px") || is(a, "pxat");
            let abs = is(a, "exat") || is(a, "pxat");
            // The same option may repeat; a different one is a syntax error.
            match ttl {
                Ttl::Keep => {}
                Ttl::Set { ms: m, abs: b } if m == ms && b == abs => {}
                _ => return Err(errors::SYNTAX),
            }
            ttl = Ttl::Set { ms, abs };
            expire_arg = &argv[i + 1];
            i += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    let k = ctx.arg(1);
    let now = ctx.now_ms();
    let name = ctx.cmd.name;
    let (s, r) = ctx.read_string(k)?;
    let Some(s) = s else {
        r.null();
        return Ok(());
    };
    let mut when = 0;
    if let Ttl::Set { ms, abs } = ttl {
        let bad = || CmdError::err(format!("invalid expire time in '{}' command", name));
        let v = parse_i64(expire_arg)?;
        if v <= 0 || (!ms && v > i64::MAX / 1000) {
            return Err(bad());
        }
        when = if ms { v } else { v * 1000 };
        if !abs {
            when = when.checked_add(now).ok_or_else(bad)?;
        }
    }
    reply_string(r, s);
    let db = ctx.client.db;
    match ttl {
        Ttl::Set { abs: true, .. } if ctx.srv.check_already_expired(when) => {
            ctx.srv.dbs[db].delete(k);
            let cmd: &'static [u8] = if ctx.srv.config.lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.propagate_as(vec![Bytes::from_static(cmd), argv[1].clone()]);
            ctx.signal_modified(k);
            ctx.notify(notify::GENERIC, "del", k);
            ctx.dirty(1);
        }
        Ttl::Set { .. } => {
            ctx.set_expire(db, k, when);
            ctx.propagate_as(vec![
                Bytes::from_static(b"PEXPIREAT"),
                argv[1].clone(),
                Bytes::from(when.to_string()),
            ]);
            ctx.signal_modified(k);
            ctx.notify(notify::GENERIC, "expire", k);
            ctx.dirty(1);
        }
        Ttl::Persist => {
            if ctx.srv.dbs[db].remove_expire(k) {
                ctx.signal_modified(k);
                ctx.propagate_as(vec![Bytes::from_static(b"PERSIST"), argv[1].clone()]);
                ctx.notify(notify::GENERIC, "persist", k);
                ctx.dirty(1);
            }
        }
        Ttl::Keep => {}
    }
    Ok(())
}

/// Refuse `offset + len` past `proto-max-bulk-len` (Redis's checkStringLength with an offset).
fn check_range_length(ctx: &Ctx, offset: i64, len: usize) -> Result<(), CmdError> {
    match offset.checked_add(len as i64) {
        Some(total) if total >= 0 => check_string_length(ctx, total as u64),
        _ => Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

fn setrange(ctx: &mut Ctx) -> CmdResult {
    let (k, v) = (ctx.arg(1), ctx.arg(3));
    let offset = parse_i64(ctx.arg(2))?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let cur_len = match ctx.write(k) {
        None => None,
        Some(o) => match &o.value {
            Value::Str(s) => Some(s.len()),
            #[allow(unreachable_patterns)]
            _ => return Err(errors::WRONGTYPE),
        },
    };
    if v.is_empty() {
        ctx.reply().int(cur_len.unwrap_or(0) as i64);
        return Ok(());
    }
    check_range_length(ctx, offset, v.len())?;
    let offset = offset as usize;
    if cur_len.is_none() {
        ctx.set_key(k, Value::Str(RString::raw(Vec::new())), false);
    }
    let db = ctx.client.db;
    let Some(crate::types::object::RObj {
        value: Value::Str(s),
        ..
    }) = ctx.srv.dbs[db].keys.get_mut(k)
    else {
        unreachable!("string present")
    };
    let buf = s.make_raw();
    if buf.len() < offset + v.len() {
        buf.resize(offset + v.len(), 0);
    }
    buf[offset..offset + v.len()].copy_from_slice(v);
    let n = buf.len();
    ctx.signal_modified(k);
    ctx.notify(notify::STRING, "setrange", k);
    ctx.dirty(1);
    ctx.reply().int(n as i64);
    Ok(())
}

fn getrange(ctx: &mut Ctx) -> CmdResult {
    let k = ctx.arg(1);
    let start = parse_i64(ctx.arg(2))?;
    let end = parse_i64(ctx.arg(3))?;
    let (s, r) = ctx.read_string(k)?;
    let Some(s) = s else {
        r.bulk(b"");
        return Ok(());
    };
    s.with_bytes(|b| {
        let len = b.len() as i64;
        if start < 0 && end < 0 && start > end {
            r.bulk(b"");
            return;
        }
        let mut start = if start < 0 { len + start } else { start };
        let mut end = if end < 0 { len + end } else { end };
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            r.bulk(b"");
        } else {
            r.bulk(&b[start as usize..=end as usize]);
        }
    });
    Ok(())
}

fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    use crate::util::longdouble::{ld2string, string2ld, LdStrMode};
    let k = ctx.arg(1);
    let exists = match ctx.write(k) {
        None => None,
        Some(o) => match &o.value {
            Value::Str(s) => Some(s.with_bytes(string2ld)),
            #[allow(unreachable_patterns)]
            _ => return Err(errors::WRONGTYPE),
        },
    };
    let cur = match exists {
        None => crate::util::longdouble::LongDouble::from_i64(0),
        Some(v) => v.ok_or(errors::NOT_FLOAT)?,
    };
    let incr = string2ld(ctx.arg(2)).ok_or(errors::NOT_FLOAT)?;
    let sum = cur + incr;
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = ld2string(sum, LdStrMode::Human);
    ctx.set_key(k, Value::Str(RString::from_bytes_no_int(&text)), true);
    ctx.notify(notify::STRING, "incrbyfloat", k);
    ctx.dirty(1);
    ctx.reply().bulk(&text);
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        ctx.argv[1].clone(),
        Bytes::from(text),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    Ok(())
}

/// LCS: longest common subsequence of two strings, as the string, its length (LEN), or the
/// matching ranges (IDX, with MINMATCHLEN and WITHMATCHLEN).
fn lcs(ctx: &mut Ctx) -> CmdResult {
    const TYPE_ERR: CmdError =
        CmdError::Static("ERR The specified keys must contain string values");
    let argv = ctx.argv;
    let fetch = |ctx: &mut Ctx, key: &[u8]| -> Result<Vec<u8>, CmdError> {
        match ctx.read(key).0 {
            None => Ok(Vec::new()),
            Some(crate::types::object::RObj {
                value: Value::Str(s),
                ..
            }) => Ok(s.to_vec()),
            #[allow(unreachable_patterns)]
            Some(_) => Err(TYPE_ERR),
        }
    };
    let a = fetch(ctx, &argv[1]);
    let b = fetch(ctx, &argv[2]);
    let (a, b) = (a?, b?);
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j][..];
        if is(opt, "idx") {
            getidx = true;
        } else if is(opt, "len") {
            getlen = true;
        } else if is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is(opt, "minmatchlen") && j + 1 < argv.len() {
            minmatchlen = parse_i64(&argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.srv.config.proto_max_bulk_len as u64 {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for jj in 1..=blen {
            t[i * w + jj] = if a[i - 1] == b[jj - 1] {
                t[(i - 1) * w + jj - 1] + 1
            } else {
                t[(i - 1) * w + jj].max(t[i * w + jj - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    let r = &mut ctx.client.reply;
    if getlen {
        r.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and the ranges where both strings match.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<[usize; 4]> = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = jj - 1;
                b_end = jj - 1;
            } else if a_start == i && b_start == jj {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if t[(i - 1) * w + jj] > t[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = a_end - a_start + 1;
            if minmatchlen == 0 || match_len as i64 >= minmatchlen {
                ranges.push([a_start, a_end, b_start, b_end]);
            }
            a_start = alen;
        }
    }
    if !getidx {
        r.bulk(&result);
        return Ok(());
    }
    r.map_len(2);
    r.bulk(b"matches");
    r.array_len(ranges.len());
    for [as_, ae, bs, be] in ranges {
        r.array_len(2 + withmatchlen as usize);
        r.array_len(2);
        r.int(as_ as i64);
        r.int(ae as i64);
        r.array_len(2);
        r.int(bs as i64);
        r.int(be as i64);
        if withmatchlen {
            r.int((ae - as_ + 1) as i64);
        }
    }
    r.bulk(b"len");
    r.int(total as i64);
    Ok(())
}

/// SET's key flags (setGetKeys): read-write with GET, overwrite otherwise.
fn set_getkeys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    let get = argv.iter().skip(3).any(|a| is(a, "get"));
    let flags = if get {
        kf::RW | kf::ACCESS | kf::UPDATE
    } else {
        kf::OW | kf::UPDATE
    };
    vec![(1, flags)]
}

const S: u64 = acl::STRING;
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const OW_UPDATE: &[KeySpec] = &[KeySpec::one(
    1,
    kf::RW | kf::ACCESS | kf::UPDATE | kf::VARIABLE_FLAGS,
)];
const OW_ONLY: &[KeySpec] = &[KeySpec::one(1, kf::OW | kf::UPDATE)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::UPDATE)];
const RW_INSERT: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::INSERT)];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE)];
const RO_MULTI: &[KeySpec] = &[KeySpec::range(1, -1, 1, kf::RO | kf::ACCESS)];
const OW_PAIRS: &[KeySpec] = &[KeySpec::range(1, -1, 2, kf::OW | kf::UPDATE)];
const OW_PAIRS_INSERT: &[KeySpec] = &[KeySpec::range(1, -1, 2, kf::OW | kf::INSERT)];

/// String commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, get).flags(READONLY | FAST).acl(S).keys(RO_ACCESS).group(Group::String).doc("Returns the string value of a key.", "O(1)").syntax("key:key"),
    CommandSpec::new("set", -3, set).flags(WRITE | DENYOOM).acl(S).keys(OW_UPDATE).varflags(set_getkeys).group(Group::String).doc("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)").syntax("key:key value:string [condition=NX|XX] [GET] [expiration=[EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]]"),
    CommandSpec::new("setnx", 3, setnx).flags(WRITE | DENYOOM | FAST).acl(S).keys(OW_INSERT_KEY).group(Group::String).doc("Set the string value of a key only when the key doesn't exist.", "O(1)").syntax("key:key value:string"),
    CommandSpec::new("setex", 4, setex).flags(WRITE | DENYOOM).acl(S).keys(OW_ONLY).group(Group::String).since("2.0.0").doc("Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "O(1)").syntax("key:key seconds:integer value:string"),
    CommandSpec::new("psetex", 4, psetex).flags(WRITE | DENYOOM).acl(S).keys(OW_ONLY).group(Group::String).since("2.6.0").doc("Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "O(1)").syntax("key:key milliseconds:integer value:string"),
    CommandSpec::new("getset", 3, getset).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).doc("Returns the previous string value of a key after setting it to a new value.", "O(1)").syntax("key:key value:string"),
    CommandSpec::new("getdel", 2, getdel).flags(WRITE | FAST).acl(S).keys(RW_ACCESS_DELETE).group(Group::String).since("6.2.0").doc("Returns the string value of a key after deleting the key.", "O(1)").syntax("key:key"),
    CommandSpec::new("mget", -2, mget).flags(READONLY | FAST).acl(S).keys(RO_MULTI).group(Group::String).doc("Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve.").syntax("key:key...").tips(&["request_policy:multi_shard"]),
    CommandSpec::new("mset", -3, mset).flags(WRITE | DENYOOM).acl(S).keys(OW_PAIRS).group(Group::String).since("1.0.1").doc("Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set.").syntax("(key:key value:string)...").tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]),
    CommandSpec::new("msetnx", -3, msetnx).flags(WRITE | DENYOOM).acl(S).keys(OW_PAIRS_INSERT).group(Group::String).since("1.0.1").doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set.").syntax("(key:key value:string)...").tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    CommandSpec::new("incr", 2, incr).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).doc("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)").syntax("key:key"),
    CommandSpec::new("decr", 2, decr).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).doc("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)").syntax("key:key"),
    CommandSpec::new("incrby", 3, incrby).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).doc("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)").syntax("key:key increment:integer"),
    CommandSpec::new("decrby", 3, decrby).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).doc("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)").syntax("key:key decrement:integer"),
    CommandSpec::new("append", 3, append).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_INSERT).group(Group::String).since("2.0.0").doc("Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.").syntax("key:key value:string"),
    CommandSpec::new("strlen", 2, strlen).flags(READONLY | FAST).acl(S).keys(RO_KEY).group(Group::String).since("2.2.0").doc("Returns the length of a string value.", "O(1)").syntax("key:key"),
    CommandSpec::new("getex", -2, getex).flags(WRITE | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).since("6.2.0").doc("Returns the string value of a key after setting its expiration time.", "O(1)").syntax("key:key [expiration=EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]"),
    CommandSpec::new("setrange", 4, setrange).flags(WRITE | DENYOOM).acl(S).keys(RW_UPDATE).group(Group::String).since("2.2.0").doc("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.").syntax("key:key offset:integer value:string"),
    CommandSpec::new("getrange", 4, getrange).flags(READONLY).acl(S).keys(RO_ACCESS).group(Group::String).since("2.4.0").doc("Returns a substring of the string stored at a key.", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.").syntax("key:key start:integer end:integer"),
    CommandSpec::new("substr", 4, getrange).flags(READONLY).acl(S).keys(RO_ACCESS).group(Group::String).doc("Returns a substring from a string value.", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.").syntax("key:key start:integer end:integer"),
    CommandSpec::new("incrbyfloat", 3, incrbyfloat).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_ACCESS_UPDATE).group(Group::String).since("2.6.0").doc("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)").syntax("key:key increment:double"),
    CommandSpec::new("lcs", -3, lcs).flags(READONLY).acl(S).keys(LCS_KEYS).group(Group::String).since("7.0.0").doc("Finds the longest common substring.", "O(N*M) where N and M are the lengths of s1 and s2, respectively").syntax("key1:key key2:key [LEN] [IDX] [MINMATCHLEN min-match-len:integer] [WITHMATCHLEN]"),
];

const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const LCS_KEYS: &[KeySpec] = &[KeySpec::range(1, 1, 1, kf::RO | kf::ACCESS)];
const OW_INSERT_KEY: &[KeySpec] = &[KeySpec::one(1, kf::OW | kf::INSERT)];
const RO_KEY: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
