//! Generic keyspace commands (Redis's db.c and expire.c): DEL, UNLINK, EXISTS, TYPE, KEYS,
//! FLUSHDB, FLUSHALL, EXPIRE family, TTL family, PERSIST.

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;

fn del(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        if ctx.delete_key(key) {
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
            n += 1;
        }
    }
    ctx.reply().int(n);
    Ok(())
}

fn exists(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        if ctx.read(key).0.is_some() {
            n += 1;
        }
    }
    ctx.reply().int(n);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (o, r) = ctx.read(key);
    let t = o.map(|o| o.value.type_name()).unwrap_or("none");
    r.simple(t.as_bytes());
    Ok(())
}

fn keys(ctx: &mut Ctx) -> CmdResult {
    let pat = ctx.arg(1);
    let all = pat == b"*";
    let db = ctx.client.db;
    let now = ctx.srv.cmd_time_ms;
    let d = &ctx.srv.dbs[db];
    let r = &mut ctx.client.reply;
    let mark = r.defer();
    let mut n = 0;
    for (k, _) in d.keys.iter() {
        if (all || crate::util::glob::string_match(pat, k, false)) && !d.is_expired(k, now) {
            r.bulk(k);
            n += 1;
        }
    }
    r.set_deferred(mark, crate::resp::reply::Aggregate::Array, n);
    Ok(())
}

fn flush_args(ctx: &Ctx) -> Result<(), CmdError> {
    match ctx.argv.len() {
        1 => Ok(()),
        2 if is(ctx.arg(1), "async") || is(ctx.arg(1), "sync") => Ok(()),
        _ => Err(errors::SYNTAX),
    }
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    flush_args(ctx)?;
    let db = ctx.client.db;
    crate::commands::multi::touch_all_watched_keys_in_db(ctx.srv, db);
    let n = ctx.srv.dbs[db].clear();
    ctx.dirty(n as u64 + 1);
    ctx.reply().ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    flush_args(ctx)?;
    let mut n = 0;
    for db in 0..ctx.srv.dbs.len() {
        crate::commands::multi::touch_all_watched_keys_in_db(ctx.srv, db);
        n += ctx.srv.dbs[db].clear();
    }
    ctx.dirty(n as u64 + 1);
    ctx.reply().ok();
    Ok(())
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX|XX|GT|LT (Redis's expireGenericCommand).
fn expire_generic(ctx: &mut Ctx, basetime_ms: i64, unit_ms: bool) -> CmdResult {
    let key = ctx.arg(1);
    let mut when = parse_i64(ctx.arg(2))?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &ctx.argv[3..] {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            return Err(CmdError::err(format!(
                "Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    let name = ctx.cmd.name;
    let invalid = || CmdError::err(format!("invalid expire time in '{}' command", name));
    if !unit_ms {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    when = when.checked_add(basetime_ms).ok_or_else(invalid)?;
    if !ctx.exists(key) {
        ctx.reply().int(0);
        return Ok(());
    }
    let db = ctx.client.db;
    let cur = ctx.srv.dbs[db].expire_of(key);
    if nx && cur.is_some() || xx && cur.is_none() {
        ctx.reply().int(0);
        return Ok(());
    }
    if gt {
        // No TTL counts as infinite.
        match cur {
            None => {
                ctx.reply().int(0);
                return Ok(());
            }
            Some(c) if when <= c => {
                ctx.reply().int(0);
                return Ok(());
            }
            _ => {}
        }
    }
    if lt {
        if let Some(c) = cur {
            if when >= c {
                ctx.reply().int(0);
                return Ok(());
            }
        }
    }
    if when <= ctx.now_ms() && !ctx.srv.is_replica() {
        ctx.srv.dbs[db].delete(key);
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "del", key);
        ctx.dirty(1);
        let cmd: &'static [u8] = if ctx.srv.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(vec![bytes::Bytes::from_static(cmd), ctx.argv[1].clone()]);
        ctx.reply().int(1);
        return Ok(());
    }
    ctx.srv.dbs[db].set_expire(key, when);
    ctx.signal_modified(key);
    ctx.notify(notify::GENERIC, "expire", key);
    ctx.dirty(1);
    ctx.propagate_as(vec![
        bytes::Bytes::from_static(b"PEXPIREAT"),
        ctx.argv[1].clone(),
        bytes::Bytes::from(when.to_string()),
    ]);
    ctx.reply().int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms();
    expire_generic(ctx, now, false)
}
fn pexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms();
    expire_generic(ctx, now, true)
}
fn expireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, false)
}
fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, true)
}

fn ttl_generic(ctx: &mut Ctx, ms: bool, absolute: bool) -> CmdResult {
    let key = ctx.arg(1);
    if ctx.read(key).0.is_none() {
        ctx.reply().int(-2);
        return Ok(());
    }
    let db = ctx.client.db;
    let now = ctx.now_ms();
    let v = match ctx.srv.dbs[db].expire_of(key) {
        None => -1,
        Some(when) if absolute => {
            if ms {
                when
            } else {
                when / 1000
            }
        }
        Some(when) => {
            let left = (when - now).max(0);
            if ms {
                left
            } else {
                (left + 500) / 1000
            }
        }
    };
    ctx.reply().int(v);
    Ok(())
}

fn ttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, false)
}
fn pttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, false)
}
fn expiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, true)
}
fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, true)
}

fn persist(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    if !ctx.exists(key) {
        ctx.reply().int(0);
        return Ok(());
    }
    let db = ctx.client.db;
    if ctx.srv.dbs[db].remove_expire(key) {
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "persist", key);
        ctx.dirty(1);
        ctx.reply().int(1);
    } else {
        ctx.reply().int(0);
    }
    Ok(())
}

const KS: u64 = acl::KEYSPACE;
const DEL_KEYS: &[KeySpec] = &[KeySpec::range(1, -1, 1, kf::RM | kf::DELETE)];
const RO_KEYS: &[KeySpec] = &[KeySpec::range(1, -1, 1, kf::RO)];
const RO_KEY: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
const RW_UPDATE_KEY: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
const EXPIRE_SYNTAX: &str = "key:key seconds:integer [condition=NX|XX|GT|LT]";

/// Keyspace commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, del)
        .flags(WRITE)
        .acl(KS)
        .keys(DEL_KEYS)
        .group(Group::Generic)
        .doc(
            "Deletes one or more keys.",
            "O(N) where N is the number of keys that will be removed.",
        )
        .syntax("key:key...")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("unlink", -2, del)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(DEL_KEYS)
        .group(Group::Generic)
        .since("4.0.0")
        .doc(
            "Asynchronously deletes one or more keys.",
            "O(1) for each key removed regardless of its size.",
        )
        .syntax("key:key...")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("exists", -2, exists)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEYS)
        .group(Group::Generic)
        .doc(
            "Determines whether one or more keys exist.",
            "O(N) where N is the number of keys to check.",
        )
        .syntax("key:key...")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("type", 2, type_cmd)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEY)
        .group(Group::Generic)
        .doc("Determines the type of value stored at a key.", "O(1)")
        .syntax("key:key"),
    CommandSpec::new("keys", 2, keys)
        .flags(READONLY)
        .acl(KS | acl::DANGEROUS)
        .group(Group::Generic)
        .doc(
            "Returns all key names that match a pattern.",
            "O(N) with N being the number of keys in the database",
        )
        .syntax("pattern:pattern")
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    CommandSpec::new("flushdb", -1, flushdb)
        .flags(WRITE)
        .acl(KS | acl::DANGEROUS)
        .group(Group::Server)
        .doc(
            "Removes all keys from the current database.",
            "O(N) where N is the number of keys in the selected database",
        )
        .syntax("[flush-type=ASYNC|SYNC]")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("flushall", -1, flushall)
        .flags(WRITE)
        .acl(KS | acl::DANGEROUS)
        .group(Group::Server)
        .doc(
            "Removes all keys from all databases.",
            "O(N) where N is the total number of keys in all databases",
        )
        .syntax("[flush-type=ASYNC|SYNC]")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("expire", -3, expire)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(RW_UPDATE_KEY)
        .group(Group::Generic)
        .doc("Sets the expiration time of a key in seconds.", "O(1)")
        .syntax(EXPIRE_SYNTAX),
    CommandSpec::new("pexpire", -3, pexpire)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(RW_UPDATE_KEY)
        .group(Group::Generic)
        .since("2.6.0")
        .doc("Sets the expiration time of a key in milliseconds.", "O(1)")
        .syntax("key:key milliseconds:integer [condition=NX|XX|GT|LT]"),
    CommandSpec::new("expireat", -3, expireat)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(RW_UPDATE_KEY)
        .group(Group::Generic)
        .since("1.2.0")
        .doc(
            "Sets the expiration time of a key to a Unix timestamp.",
            "O(1)",
        )
        .syntax("key:key unix-time-seconds:unix-time [condition=NX|XX|GT|LT]"),
    CommandSpec::new("pexpireat", -3, pexpireat)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(RW_UPDATE_KEY)
        .group(Group::Generic)
        .since("2.6.0")
        .doc(
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            "O(1)",
        )
        .syntax("key:key unix-time-milliseconds:unix-time [condition=NX|XX|GT|LT]"),
    CommandSpec::new("ttl", 2, ttl)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEY_ACCESS)
        .group(Group::Generic)
        .doc("Returns the expiration time in seconds of a key.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("pttl", 2, pttl)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEY_ACCESS)
        .group(Group::Generic)
        .since("2.6.0")
        .doc(
            "Returns the expiration time in milliseconds of a key.",
            "O(1)",
        )
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("expiretime", 2, expiretime)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEY_ACCESS)
        .group(Group::Generic)
        .since("7.0.0")
        .doc(
            "Returns the expiration time of a key as a Unix timestamp.",
            "O(1)",
        )
        .syntax("key:key"),
    CommandSpec::new("pexpiretime", 2, pexpiretime)
        .flags(READONLY | FAST)
        .acl(KS)
        .keys(RO_KEY_ACCESS)
        .group(Group::Generic)
        .since("7.0.0")
        .doc(
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "O(1)",
        )
        .syntax("key:key"),
    CommandSpec::new("persist", 2, persist)
        .flags(WRITE | FAST)
        .acl(KS)
        .keys(RW_UPDATE_KEY)
        .group(Group::Generic)
        .since("2.2.0")
        .doc("Removes the expiration time of a key.", "O(1)")
        .syntax("key:key"),
];

const RO_KEY_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
