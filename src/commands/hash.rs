//! Hash commands (Redis's t_hash.c): HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN,
//! HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN. The value and
//! its encodings live in `types::hash`.

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::resp::reply::ReplyBuf;
use crate::types::hash::{Hash, Limits};
use crate::types::listpack::LpValue;
use crate::types::object::{RObj, Value};
use crate::types::thin::Ref;

/// Reply with one element as a bulk string.
pub fn reply_lp(r: &mut ReplyBuf, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => r.bulk_i64(n),
        LpValue::Str(s) => r.bulk(s),
    }
}

/// Read the hash at `key`: `Ok(None)` when missing, WRONGTYPE for another type.
fn read_hash<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c Hash>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::Hash(h),
                ..
            }),
            r,
        ) => Ok((Some(h), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

/// The hash at `key` for writing (lookupKeyWrite + type check); with `create`, a missing key
/// gets an empty hash first (hashTypeLookupWriteOrCreate).
fn write_hash<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    create: bool,
) -> Result<Option<&'c mut Hash>, CmdError> {
    let exists = match ctx.write(key) {
        Some(RObj {
            value: Value::Hash(_),
            ..
        }) => true,
        Some(_) => return Err(errors::WRONGTYPE),
        None => false,
    };
    let db = ctx.client.db;
    if !exists {
        if !create {
            return Ok(None);
        }
        let lru = ctx.srv.lruclock;
        ctx.srv.dbs[db].add(key, RObj::new(Value::Hash(Hash::new()), lru));
    }
    match ctx.srv.dbs[db].keys.get_mut(key) {
        Some(RObj {
            value: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        _ => unreachable!("checked or created above"),
    }
}

fn limits(ctx: &Ctx) -> Limits {
    Limits::of(&ctx.srv.config)
}

/// HSET and HMSET (hsetCommand): they differ only in the reply.
fn hset(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() % 2 == 1 {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.name
        )));
    }
    let key = ctx.arg(1);
    let lim = limits(ctx);
    let argv = ctx.argv;
    let h = write_hash(ctx, key, true)?.expect("created");
    h.try_conversion(&argv[2..], lim);
    let mut created = 0;
    for pair in argv[2..].chunks_exact(2) {
        if !h.set(&pair[0], &pair[1], lim) {
            created += 1;
        }
    }
    if ctx.cmd.name == "hset" {
        ctx.reply().int(created);
    } else {
        ctx.reply().ok();
    }
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hset", key);
    ctx.dirty(((argv.len() - 2) / 2) as u64);
    Ok(())
}

fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let lim = limits(ctx);
    let argv = ctx.argv;
    let h = write_hash(ctx, key, true)?.expect("created");
    if h.contains(field) {
        ctx.reply().int(0);
        return Ok(());
    }
    h.try_conversion(&argv[2..4], lim);
    h.set(field, value, lim);
    ctx.reply().int(1);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hset", key);
    ctx.dirty(1);
    Ok(())
}

fn hget(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    match read_hash(ctx, key)? {
        (Some(h), r) => match h.get(field) {
            Some(v) => reply_lp(r, v),
            None => r.null(),
        },
        (None, r) => r.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (h, r) = read_hash(ctx, key)?;
    r.array_len(argv.len() - 2);
    for f in &argv[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => reply_lp(r, v),
            None => r.null(),
        }
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let Some(h) = write_hash(ctx, key, false)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for f in &argv[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if emptied {
        let db = ctx.client.db;
        ctx.srv.dbs[db].delete(key);
    }
    if deleted > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::HASH, "hdel", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.dirty(deleted as u64);
    }
    ctx.reply().int(deleted);
    Ok(())
}

fn hlen(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (h, r) = read_hash(ctx, key)?;
    r.int(h.map_or(0, |h| h.len() as i64));
    Ok(())
}

fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (h, r) = read_hash(ctx, key)?;
    r.int(
        h.and_then(|h| h.get(field))
            .map_or(0, |v| v.str_len() as i64),
    );
    Ok(())
}

fn hexists(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (h, r) = read_hash(ctx, key)?;
    r.int(h.is_some_and(|h| h.contains(field)) as i64);
    Ok(())
}

/// HKEYS / HVALS / HGETALL (genericHgetallCommand).
fn getall_generic(ctx: &mut Ctx, keys: bool, values: bool) -> CmdResult {
    let key = ctx.arg(1);
    let both = keys && values;
    let (h, r) = read_hash(ctx, key)?;
    let Some(h) = h else {
        if both {
            r.map_len(0);
        } else {
            r.array_len(0);
        }
        return Ok(());
    };
    if both {
        r.map_len(h.len());
    } else {
        r.array_len(h.len());
    }
    for (f, v) in h.iter() {
        if keys {
            reply_lp(r, f);
        }
        if values {
            reply_lp(r, v);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx) -> CmdResult {
    getall_generic(ctx, true, false)
}
fn hvals(ctx: &mut Ctx) -> CmdResult {
    getall_generic(ctx, false, true)
}
fn hgetall(ctx: &mut Ctx) -> CmdResult {
    getall_generic(ctx, true, true)
}

fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let incr = parse_i64(ctx.arg(3))?;
    let lim = limits(ctx);
    let h = write_hash(ctx, key, true)?.expect("created");
    let old = match h.get(field) {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| CmdError::err("hash value is not an integer"))?,
    };
    let new = old
        .checked_add(incr)
        .ok_or_else(|| CmdError::err("increment or decrement would overflow"))?;
    h.set(field, crate::util::numbers::ll2string(new).as_bytes(), lim);
    ctx.reply().int(new);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrby", key);
    ctx.dirty(1);
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    use crate::util::longdouble::{ld2string, string2ld, LdStrMode, LongDouble};
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let incr = string2ld(ctx.arg(3)).ok_or(errors::NOT_FLOAT)?;
    if incr.is_nan() || incr.is_infinite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let lim = limits(ctx);
    let h = write_hash(ctx, key, true)?.expect("created");
    let old = match h.get(field) {
        None => LongDouble::from_i64(0),
        Some(LpValue::Int(n)) => LongDouble::from_i64(n),
        Some(LpValue::Str(s)) => {
            string2ld(s).ok_or_else(|| CmdError::err("hash value is not a float"))?
        }
    };
    let value = old + incr;
    if value.is_nan() || value.is_infinite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = ld2string(value, LdStrMode::Human);
    h.set(field, &text, lim);
    ctx.reply().bulk(&text);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    ctx.dirty(1);
    // Replicate the result, not the increment, so float formatting cannot diverge.
    ctx.propagate_as(vec![
        Bytes::from_static(b"HSET"),
        ctx.argv[1].clone(),
        ctx.argv[2].clone(),
        Bytes::from(text),
    ]);
    Ok(())
}

/// Pairs SAMPLE_LIMIT at a time for a large negative HRANDFIELD count on a listpack.
const HRANDFIELD_RANDOM_SAMPLE_LIMIT: usize = 1000;
/// Above count * this many fields, HRANDFIELD picks random fields instead of removing some.
const HRANDFIELD_SUB_STRATEGY_MUL: u64 = 3;

/// Let a hash that is sampled make progress on its rehash, as Redis's sampling does: every
/// fair random pick (dictGetFairRandomKey) runs 15 rehash steps in dictGetSomeKeys.
fn rehash_on_sample(ctx: &mut Ctx, key: &[u8], samples: u64) {
    let db = ctx.client.db;
    if let Some(RObj {
        value: Value::Hash(h),
        ..
    }) = ctx.srv.dbs[db].keys.get_mut(key)
    {
        h.rehash_steps(samples.clamp(1, 1000) as usize * 15);
    }
}

fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    if ctx.argv.len() >= 3 {
        let l = parse_i64(ctx.arg(2))?;
        if l < -i64::MAX {
            return Err(CmdError::err(format!(
                "value is out of range, value must between {} and {}",
                -i64::MAX,
                i64::MAX
            )));
        }
        let withvalues = match ctx.argv.len() {
            3 => false,
            4 if is(ctx.arg(3), "withvalues") => {
                if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
                    return Err(CmdError::err("value is out of range"));
                }
                true
            }
            _ => return Err(errors::SYNTAX),
        };
        rehash_on_sample(ctx, key, l.unsigned_abs());
        return hrandfield_count(ctx, key, l, withvalues);
    }
    rehash_on_sample(ctx, key, 1);
    match read_hash(ctx, key)? {
        (Some(h), r) => {
            let (f, _) = h.random_pair().expect("stored hashes are not empty");
            reply_lp(r, f);
        }
        (None, r) => r.null(),
    }
    Ok(())
}

/// HRANDFIELD with a count (hrandfieldWithCountCommand) and its four strategies.
fn hrandfield_count(ctx: &mut Ctx, key: &[u8], l: i64, withvalues: bool) -> CmdResult {
    let stop = ctx.srv.reply_stop_bytes(ctx.client);
    let (h, r) = read_hash(ctx, key)?;
    let Some(h) = h else {
        r.array_len(0);
        return Ok(());
    };
    let size = h.len() as u64;
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        r.array_len(0);
        return Ok(());
    }
    let resp3 = r.resp > 2;
    let entry = |r: &mut ReplyBuf, f: LpValue<'_>, v: LpValue<'_>| {
        if withvalues && resp3 {
            r.array_len(2);
        }
        reply_lp(r, f);
        if withvalues {
            reply_lp(r, v);
        }
    };

    // CASE 1: a negative count, repetitions allowed, in random order.
    if !uniq || count == 1 {
        r.array_len(if withvalues && !resp3 {
            count as usize * 2
        } else {
            count as usize
        });
        match h.enc() {
            Ref::Big(_) => {
                for _ in 0..count {
                    let (f, v) = h.random_pair().expect("not empty");
                    entry(r, f, v);
                    if r.pending() > stop {
                        break;
                    }
                }
            }
            Ref::Small(lp) => {
                let mut left = count as usize;
                while left > 0 && r.pending() <= stop {
                    let n = left.min(HRANDFIELD_RANDOM_SAMPLE_LIMIT);
                    left -= n;
                    for (f, v) in lp.random_pairs(n, crate::db::dict::next_rand) {
                        entry(r, f, v);
                    }
                }
            }
        }
        return Ok(());
    }

    let reply_size = count.min(size) as usize;
    r.array_len(if withvalues && !resp3 {
        reply_size * 2
    } else {
        reply_size
    });

    // CASE 2: at least as many as there are: the whole hash.
    if count >= size {
        for (f, v) in h.iter() {
            entry(r, f, v);
        }
        return Ok(());
    }

    // CASE 3: close to the size: copy everything, then remove random fields.
    if count * HRANDFIELD_SUB_STRATEGY_MUL > size {
        let mut d: crate::db::dict::Dict<Vec<u8>, Vec<u8>> =
            crate::db::dict::Dict::with_capacity(size as usize);
        for (f, v) in h.iter() {
            d.insert(f.to_vec(), if withvalues { v.to_vec() } else { Vec::new() });
        }
        let mut left = size;
        while left > count {
            let k = d.fair_random_entry().expect("not empty").0.clone();
            d.remove(&k);
            left -= 1;
        }
        for (f, v) in d.iter() {
            entry(r, LpValue::Str(f), LpValue::Str(v));
        }
        return Ok(());
    }

    // CASE 4: few out of many: pick random fields until enough distinct ones.
    match h.enc() {
        Ref::Small(lp) => {
            for (f, v) in lp.random_pairs_unique(count as usize, crate::db::dict::next_rand) {
                entry(r, f, v);
            }
        }
        Ref::Big(_) => {
            let mut seen = std::collections::HashSet::with_capacity(count as usize);
            while (seen.len() as u64) < count {
                let (f, v) = h.random_pair().expect("not empty");
                if seen.insert(f.to_vec()) {
                    entry(r, f, v);
                }
            }
        }
    }
    Ok(())
}

fn hscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = crate::commands::scan::parse_scan_cursor(ctx.arg(2))?;
    let key = ctx.arg(1);
    crate::commands::scan::scan_generic(ctx, Some(key), cursor, |v| match v {
        Value::Hash(h) => Some(h),
        _ => None,
    })
}

const H: u64 = acl::HASH;
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const RW_INSERT: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::INSERT)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::DELETE)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::UPDATE)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const RO: &[KeySpec] = &[KeySpec::one(1, kf::RO)];

/// Hash commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, hset).flags(WRITE | DENYOOM | FAST).acl(H).keys(RW_UPDATE).group(Group::Hash).since("2.0.0").doc("Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.").syntax("key:key field_value=(field:string value:string)..."),
    CommandSpec::new("hsetnx", 4, hsetnx).flags(WRITE | DENYOOM | FAST).acl(H).keys(RW_INSERT).group(Group::Hash).since("2.0.0").doc("Sets the value of a field in a hash only when the field doesn't exist.", "O(1)").syntax("key:key field:string value:string"),
    CommandSpec::new("hmset", -4, hset).flags(WRITE | DENYOOM | FAST).acl(H).keys(RW_UPDATE).group(Group::Hash).since("2.0.0").doc("Sets the values of multiple fields.", "O(N) where N is the number of fields being set.").syntax("key:key field_value=(field:string value:string)..."),
    CommandSpec::new("hget", 3, hget).flags(READONLY | FAST).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.0.0").doc("Returns the value of a field in a hash.", "O(1)").syntax("key:key field:string"),
    CommandSpec::new("hmget", -3, hmget).flags(READONLY | FAST).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.0.0").doc("Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested.").syntax("key:key field:string..."),
    CommandSpec::new("hdel", -3, hdel).flags(WRITE | FAST).acl(H).keys(RW_DELETE).group(Group::Hash).since("2.0.0").doc("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "O(N) where N is the number of fields to be removed.").syntax("key:key field:string..."),
    CommandSpec::new("hlen", 2, hlen).flags(READONLY | FAST).acl(H).keys(RO).group(Group::Hash).since("2.0.0").doc("Returns the number of fields in a hash.", "O(1)").syntax("key:key"),
    CommandSpec::new("hstrlen", 3, hstrlen).flags(READONLY | FAST).acl(H).keys(RO).group(Group::Hash).since("3.2.0").doc("Returns the length of the value of a field.", "O(1)").syntax("key:key field:string"),
    CommandSpec::new("hexists", 3, hexists).flags(READONLY | FAST).acl(H).keys(RO).group(Group::Hash).since("2.0.0").doc("Determines whether a field exists in a hash.", "O(1)").syntax("key:key field:string"),
    CommandSpec::new("hkeys", 2, hkeys).flags(READONLY).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.0.0").doc("Returns all fields in a hash.", "O(N) where N is the size of the hash.").syntax("key:key").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hvals", 2, hvals).flags(READONLY).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.0.0").doc("Returns all values in a hash.", "O(N) where N is the size of the hash.").syntax("key:key").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hgetall", 2, hgetall).flags(READONLY).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.0.0").doc("Returns all fields and values in a hash.", "O(N) where N is the size of the hash.").syntax("key:key").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hincrby", 4, hincrby).flags(WRITE | DENYOOM | FAST).acl(H).keys(RW_ACCESS_UPDATE).group(Group::Hash).since("2.0.0").doc("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)").syntax("key:key field:string increment:integer"),
    CommandSpec::new("hincrbyfloat", 4, hincrbyfloat).flags(WRITE | DENYOOM | FAST).acl(H).keys(RW_ACCESS_UPDATE).group(Group::Hash).since("2.6.0").doc("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)").syntax("key:key field:string increment:double"),
    CommandSpec::new("hrandfield", -2, hrandfield).flags(READONLY).acl(H).keys(RO_ACCESS).group(Group::Hash).since("6.2.0").doc("Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned").syntax("key:key options=[count:integer [WITHVALUES]]").tips(&["nondeterministic_output"]),
    CommandSpec::new("hscan", -3, hscan).flags(READONLY).acl(H).keys(RO_ACCESS).group(Group::Hash).since("2.8.0").doc("Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.").syntax("key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").tips(&["nondeterministic_output"]),
];
