//! Generic keyspace commands (Redis's db.c and expire.c): DEL, UNLINK, EXISTS, TYPE, KEYS,
//! FLUSHDB, FLUSHALL, SWAPDB, MOVE, COPY, RENAME, RENAMENX, RANDOMKEY, TOUCH, SCAN, OBJECT,
//! EXPIRE family, TTL family, PERSIST.

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;

fn del(ctx: &mut Ctx) -> CmdResult {
    // UNLINK frees big values in the background; DEL too with lazyfree-lazy-user-del.
    let lazy = ctx.cmd.name == "unlink" || ctx.srv.config.lazyfree_lazy_user_del;
    let mut n = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        if ctx.delete_key_with(key, lazy) {
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
        if ctx.read_notouch(key).0.is_some() {
            n += 1;
        }
    }
    ctx.reply().int(n);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (o, r) = ctx.read_notouch(key);
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

/// FLUSHDB / FLUSHALL's flag: is the flush asynchronous (ASYNC, or no flag with
/// lazyfree-lazy-user-flush)?
fn flush_args(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.argv.len() {
        1 => Ok(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if is(ctx.arg(1), "async") => Ok(true),
        2 if is(ctx.arg(1), "sync") => Ok(false),
        _ => Err(errors::SYNTAX),
    }
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_args(ctx)?;
    let db = ctx.client.db;
    crate::commands::multi::touch_all_watched_keys_in_db(ctx.srv, db);
    crate::tracking::invalidate_on_flush(ctx.srv, Some(&mut *ctx.client));
    let srv = &mut *ctx.srv;
    let n = srv.dbs[db].clear_with(lazy, &mut srv.lazyfree);
    crate::blocking::scan_database_for_ready_keys(ctx.srv, db);
    ctx.dirty(n as u64);
    // Replicate even when the db was already empty.
    ctx.prop.force = true;
    ctx.reply().ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_args(ctx)?;
    let mut n = 0;
    for db in 0..ctx.srv.dbs.len() {
        crate::commands::multi::touch_all_watched_keys_in_db(ctx.srv, db);
        let srv = &mut *ctx.srv;
        n += srv.dbs[db].clear_with(lazy, &mut srv.lazyfree);
        crate::blocking::scan_database_for_ready_keys(ctx.srv, db);
    }
    crate::tracking::invalidate_on_flush(ctx.srv, Some(&mut *ctx.client));
    ctx.srv.replica_keys_with_expire.flush();
    ctx.dirty(n as u64);
    // A snapshot in progress is of data that is gone (Redis's flushAllDataAndResetRDB).
    ctx.srv.kill_rdb_child();
    // With save points configured, FLUSHALL also writes the (now empty) snapshot, which
    // resets the dirty counter.
    if !ctx.srv.config.save.is_empty() {
        let _ = crate::persistence::rdb::save(ctx.srv);
    }
    ctx.prop.force = true;
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
    if ctx.srv.check_already_expired(when) {
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
    ctx.set_expire(db, key, when);
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
    if ctx.read_notouch(key).0.is_none() {
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

/// Lazily expire `key` in db `db` (not necessarily the client's) and tell whether it exists.
fn exists_in(ctx: &mut Ctx, db: usize, key: &[u8]) -> bool {
    !ctx.srv.expire_if_needed(db, key, Some(&mut *ctx.client))
        && ctx.srv.dbs[db].keys.contains_key(key)
}

/// Fire a keyspace notification in db `db`.
fn notify_in(ctx: &mut Ctx, db: usize, class: u32, event: &str, key: &[u8]) {
    notify::notify_keyspace_event(ctx.srv, Some(&mut *ctx.client), class, event, key, db);
}

/// A DB index argument: an `int`, then in range.
fn parse_db_index(ctx: &Ctx, arg: &[u8], not_int: CmdError) -> Result<usize, CmdError> {
    let id = crate::util::numbers::string2ll(arg)
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or(not_int)?;
    if id < 0 || id as usize >= ctx.srv.dbs.len() {
        return Err(errors::DB_INDEX);
    }
    Ok(id as usize)
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if ctx.write(src).is_none() {
        return Err(errors::NO_SUCH_KEY);
    }
    if src == dst {
        if nx {
            ctx.reply().int(0);
        } else {
            ctx.reply().ok();
        }
        return Ok(());
    }
    let db = ctx.client.db;
    if ctx.exists(dst) {
        if nx {
            ctx.reply().int(0);
            return Ok(());
        }
        ctx.srv.dbs[db].delete(dst);
    }
    let expire = ctx.srv.dbs[db].expire_of(src);
    let (_, obj) = ctx.srv.dbs[db].keys.remove(src).expect("looked up above");
    ctx.srv.dbs[db].remove_expire(src);
    ctx.srv.dbs[db].add(dst, obj);
    ctx.notify(notify::NEW, "new", dst);
    if let Some(when) = expire {
        ctx.set_expire(db, dst, when);
    }
    ctx.signal_modified(src);
    ctx.signal_modified(dst);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        ctx.reply().int(1);
    } else {
        ctx.reply().ok();
    }
    Ok(())
}

fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

fn move_cmd(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let src = ctx.client.db;
    let dst = parse_db_index(ctx, ctx.arg(2), errors::NOT_INTEGER)?;
    if src == dst {
        return Err(errors::SAME_OBJECT);
    }
    if ctx.write(key).is_none() {
        ctx.reply().int(0);
        return Ok(());
    }
    let expire = ctx.srv.dbs[src].expire_of(key);
    if exists_in(ctx, dst, key) {
        ctx.reply().int(0);
        return Ok(());
    }
    let (_, obj) = ctx.srv.dbs[src].keys.remove(key).expect("looked up above");
    ctx.srv.dbs[src].remove_expire(key);
    ctx.srv.dbs[dst].add(key, obj);
    notify_in(ctx, dst, notify::NEW, "new", key);
    if let Some(when) = expire {
        ctx.set_expire(dst, key, when);
    }
    ctx.signal_modified_in(src, key);
    ctx.signal_modified_in(dst, key);
    notify_in(ctx, src, notify::GENERIC, "move_from", key);
    notify_in(ctx, dst, notify::GENERIC, "move_to", key);
    ctx.dirty(1);
    ctx.reply().int(1);
    Ok(())
}

fn copy(ctx: &mut Ctx) -> CmdResult {
    let (key, newkey) = (ctx.arg(1), ctx.arg(2));
    let src = ctx.client.db;
    let mut dst = src;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.argv.len() {
        let a = ctx.arg(j);
        if is(a, "replace") {
            replace = true;
        } else if is(a, "db") && j + 1 < ctx.argv.len() {
            dst = parse_db_index(ctx, ctx.arg(j + 1), errors::NOT_INTEGER)?;
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if src == dst && key == newkey {
        return Err(errors::SAME_OBJECT);
    }
    let obj = match ctx.read(key).0 {
        Some(o) => o.clone(),
        None => {
            ctx.reply().int(0);
            return Ok(());
        }
    };
    let expire = ctx.srv.dbs[src].expire_of(key);
    if exists_in(ctx, dst, newkey) {
        if !replace {
            ctx.reply().int(0);
            return Ok(());
        }
        ctx.srv.dbs[dst].delete(newkey);
    }
    let obj = crate::types::object::RObj::new(obj.value, ctx.srv.new_obj_clock());
    ctx.srv.dbs[dst].add(newkey, obj);
    notify_in(ctx, dst, notify::NEW, "new", newkey);
    if let Some(when) = expire {
        ctx.set_expire(dst, newkey, when);
    }
    ctx.signal_modified_in(dst, newkey);
    notify_in(ctx, dst, notify::GENERIC, "copy_to", newkey);
    ctx.dirty(1);
    ctx.reply().int(1);
    Ok(())
}

fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let a = parse_db_index(
        ctx,
        ctx.arg(1),
        CmdError::Static("ERR invalid first DB index"),
    )?;
    let b = parse_db_index(
        ctx,
        ctx.arg(2),
        CmdError::Static("ERR invalid second DB index"),
    )?;
    if a != b {
        crate::commands::multi::touch_watched_keys_on_swap(ctx.srv, a, b);
        crate::commands::multi::touch_watched_keys_on_swap(ctx.srv, b, a);
        let dbs = &mut ctx.srv.dbs;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        std::mem::swap(&mut x.keys, &mut y.keys);
        std::mem::swap(&mut x.expires, &mut y.expires);
        std::mem::swap(&mut x.avg_ttl, &mut y.avg_ttl);
        std::mem::swap(&mut x.expires_cursor, &mut y.expires_cursor);
        // Clients blocked on keys of either db re-check them (Redis's scanDatabaseForReadyKeys).
        crate::blocking::scan_database_for_ready_keys(ctx.srv, a);
        crate::blocking::scan_database_for_ready_keys(ctx.srv, b);
        ctx.srv.replica_keys_with_expire.swap_dbs(a, b);
    }
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let db = ctx.client.db;
    loop {
        let Some((k, _)) = ctx.srv.dbs[db].keys.fair_random_entry() else {
            ctx.reply().null();
            return Ok(());
        };
        let key = k.clone();
        if ctx.srv.dbs[db].expires.contains_key(&key[..])
            && ctx.srv.expire_if_needed(db, &key, Some(&mut *ctx.client))
        {
            if ctx.srv.is_replica() {
                // A replica never deletes: stop looking if every key is logically expired.
                ctx.reply().bulk(&key);
                return Ok(());
            }
            continue;
        }
        ctx.reply().bulk(&key);
        return Ok(());
    }
}

fn touch(ctx: &mut Ctx) -> CmdResult {
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

fn scan(ctx: &mut Ctx) -> CmdResult {
    let mut cursor = crate::commands::scan::parse_scan_cursor(ctx.arg(1))?;
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut typename: Option<&[u8]> = None;
    let argv = ctx.argv;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i][..];
        let more = argv.len() - i >= 2;
        if is(a, "count") && more {
            count = parse_i64(&argv[i + 1])?;
            if count < 1 {
                return Err(errors::SYNTAX);
            }
        } else if is(a, "match") && more {
            pattern = Some(&argv[i + 1])
                .filter(|p| &p[..] != b"*")
                .map(|p| &p[..]);
        } else if is(a, "type") && more {
            typename = Some(&argv[i + 1]);
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    let db = ctx.client.db;
    let mut keys: Vec<crate::db::Sds> = Vec::new();
    let mut maxiter = count.saturating_mul(10);
    loop {
        cursor = ctx.srv.dbs[db]
            .keys
            .scan(cursor, |k, _| keys.push(k.clone()));
        maxiter -= 1;
        if cursor == 0 || maxiter <= 0 || keys.len() as i64 >= count {
            break;
        }
    }
    keys.retain(|k| pattern.is_none_or(|p| crate::util::glob::string_match(p, k, false)));
    let mut kept = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(t) = typename {
            let name = ctx.srv.dbs[db]
                .keys
                .get(&k[..])
                .map_or("none", |o| o.value.type_name());
            if !t.eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
        }
        if ctx.srv.expire_if_needed(db, &k, Some(&mut *ctx.client)) {
            continue;
        }
        kept.push(k);
    }
    let r = ctx.reply();
    r.array_len(2);
    r.bulk(crate::util::numbers::ull2string(cursor).as_bytes());
    r.array_len(kept.len());
    for k in &kept {
        r.bulk(k);
    }
    Ok(())
}

const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// OBJECT's key lookup: no lazy-expiry notification, no access stamp, null when missing.
fn object_lookup<'c>(ctx: &'c mut Ctx) -> Option<&'c crate::types::object::RObj> {
    let key = ctx.arg(2);
    if ctx.expire_if_needed(key) {
        ctx.reply().null();
        return None;
    }
    let db = ctx.client.db;
    match ctx.srv.dbs[db].keys.get(key) {
        Some(o) => Some(o),
        None => {
            ctx.client.reply.null();
            None
        }
    }
}

fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    if let Some(o) = object_lookup(ctx) {
        let enc = o.value.encoding();
        ctx.reply().bulk(enc.as_bytes());
    }
    Ok(())
}

fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    let shared_ok =
        ctx.srv.config.maxmemory == 0 || !ctx.srv.config.maxmemory_policy.no_shared_integers();
    if let Some(o) = object_lookup(ctx) {
        let rc = match &o.value {
            crate::types::object::Value::Str(crate::types::object::RString::Int(n))
                if shared_ok && (0..crate::types::object::SHARED_INTEGERS).contains(n) =>
            {
                crate::types::object::SHARED_REFCOUNT
            }
            _ => 1,
        };
        ctx.reply().int(rc);
    }
    Ok(())
}

fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let clock = ctx.srv.access_clock();
    let lfu = ctx.srv.lfu_enabled();
    if let Some(o) = object_lookup(ctx) {
        if lfu {
            return Err(CmdError::Static(LFU_SELECTED));
        }
        let idle = clock.idle_ms(o.lru) / 1000;
        ctx.reply().int(idle as i64);
    }
    Ok(())
}

fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let clock = ctx.srv.access_clock();
    let lfu = ctx.srv.lfu_enabled();
    if let Some(o) = object_lookup(ctx) {
        if !lfu {
            return Err(CmdError::Static(LFU_NOT_SELECTED));
        }
        let f = clock.lfu_decr_and_return(o.lru);
        ctx.reply().int(f as i64);
    }
    Ok(())
}

fn object_help(ctx: &mut Ctx) -> CmdResult {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    let r = ctx.reply();
    r.array_len(LINES.len());
    for l in LINES {
        r.simple(l.as_bytes());
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
    CommandSpec::new("del", -2, del).flags(WRITE).acl(KS).keys(DEL_KEYS).group(Group::Generic).doc("Deletes one or more keys.", "O(N) where N is the number of keys that will be removed.").syntax("key:key...").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("unlink", -2, del).flags(WRITE | FAST).acl(KS).keys(DEL_KEYS).group(Group::Generic).since("4.0.0").doc("Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size.").syntax("key:key...").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("exists", -2, exists).flags(READONLY | FAST).acl(KS).keys(RO_KEYS).group(Group::Generic).doc("Determines whether one or more keys exist.", "O(N) where N is the number of keys to check.").syntax("key:key...").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("type", 2, type_cmd).flags(READONLY | FAST).acl(KS).keys(RO_KEY).group(Group::Generic).doc("Determines the type of value stored at a key.", "O(1)").syntax("key:key"),
    CommandSpec::new("keys", 2, keys).flags(READONLY).acl(KS | acl::DANGEROUS).group(Group::Generic).doc("Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database").syntax("pattern:pattern").tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    CommandSpec::new("flushdb", -1, flushdb).flags(WRITE).acl(KS | acl::DANGEROUS).group(Group::Server).doc("Removes all keys from the current database.", "O(N) where N is the number of keys in the selected database").syntax("[flush-type=ASYNC|SYNC]").tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("flushall", -1, flushall).flags(WRITE).acl(KS | acl::DANGEROUS).group(Group::Server).doc("Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases").syntax("[flush-type=ASYNC|SYNC]").tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("expire", -3, expire).flags(WRITE | FAST).acl(KS).keys(RW_UPDATE_KEY).group(Group::Generic).doc("Sets the expiration time of a key in seconds.", "O(1)").syntax(EXPIRE_SYNTAX),
    CommandSpec::new("pexpire", -3, pexpire).flags(WRITE | FAST).acl(KS).keys(RW_UPDATE_KEY).group(Group::Generic).since("2.6.0").doc("Sets the expiration time of a key in milliseconds.", "O(1)").syntax("key:key milliseconds:integer [condition=NX|XX|GT|LT]"),
    CommandSpec::new("expireat", -3, expireat).flags(WRITE | FAST).acl(KS).keys(RW_UPDATE_KEY).group(Group::Generic).since("1.2.0").doc("Sets the expiration time of a key to a Unix timestamp.", "O(1)").syntax("key:key unix-time-seconds:unix-time [condition=NX|XX|GT|LT]"),
    CommandSpec::new("pexpireat", -3, pexpireat).flags(WRITE | FAST).acl(KS).keys(RW_UPDATE_KEY).group(Group::Generic).since("2.6.0").doc("Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)").syntax("key:key unix-time-milliseconds:unix-time [condition=NX|XX|GT|LT]"),
    CommandSpec::new("ttl", 2, ttl).flags(READONLY | FAST).acl(KS).keys(RO_KEY_ACCESS).group(Group::Generic).doc("Returns the expiration time in seconds of a key.", "O(1)").syntax("key:key").tips(&["nondeterministic_output"]),
    CommandSpec::new("pttl", 2, pttl).flags(READONLY | FAST).acl(KS).keys(RO_KEY_ACCESS).group(Group::Generic).since("2.6.0").doc("Returns the expiration time in milliseconds of a key.", "O(1)").syntax("key:key").tips(&["nondeterministic_output"]),
    CommandSpec::new("expiretime", 2, expiretime).flags(READONLY | FAST).acl(KS).keys(RO_KEY_ACCESS).group(Group::Generic).since("7.0.0").doc("Returns the expiration time of a key as a Unix timestamp.", "O(1)").syntax("key:key"),
    CommandSpec::new("pexpiretime", 2, pexpiretime).flags(READONLY | FAST).acl(KS).keys(RO_KEY_ACCESS).group(Group::Generic).since("7.0.0").doc("Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)").syntax("key:key"),
    CommandSpec::new("persist", 2, persist).flags(WRITE | FAST).acl(KS).keys(RW_UPDATE_KEY).group(Group::Generic).since("2.2.0").doc("Removes the expiration time of a key.", "O(1)").syntax("key:key"),
    CommandSpec::new("rename", 3, rename).flags(WRITE).acl(KS).keys(RENAME_KEYS).group(Group::Generic).doc("Renames a key and overwrites the destination.", "O(1)").syntax("key:key newkey:key"),
    CommandSpec::new("renamenx", 3, renamenx).flags(WRITE | FAST).acl(KS).keys(RENAMENX_KEYS).group(Group::Generic).doc("Renames a key only when the target key name doesn't exist.", "O(1)").syntax("key:key newkey:key"),
    CommandSpec::new("move", 3, move_cmd).flags(WRITE | FAST).acl(KS).keys(MOVE_KEYS).group(Group::Generic).doc("Moves a key to another database.", "O(1)").syntax("key:key db:integer"),
    CommandSpec::new("copy", -3, copy).flags(WRITE | DENYOOM).acl(KS).keys(COPY_KEYS).group(Group::Generic).since("6.2.0").doc("Copies the value of a key to a new key.", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.").syntax("source:key destination:key [DB destination-db:integer] [REPLACE]"),
    CommandSpec::new("swapdb", 3, swapdb).flags(WRITE | FAST).acl(KS | acl::DANGEROUS).group(Group::Server).since("4.0.0").doc("Swaps two Redis databases.", "O(N) where N is the count of clients watching or blocking on keys from both databases.").syntax("index1:integer index2:integer"),
    CommandSpec::new("randomkey", 1, randomkey).flags(READONLY | TOUCHES_ARBITRARY_KEYS).acl(KS).group(Group::Generic).doc("Returns a random key name from the database.", "O(1)").tips(&["request_policy:all_shards", "nondeterministic_output"]),
    CommandSpec::new("touch", -2, touch).flags(READONLY | FAST).acl(KS).keys(RO_KEYS).group(Group::Generic).since("3.2.1").doc("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "O(N) where N is the number of keys that will be touched.").syntax("key:key...").tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("scan", -2, scan).flags(READONLY | TOUCHES_ARBITRARY_KEYS).acl(KS).group(Group::Generic).since("2.8.0").doc("Iterates over the key names in the database.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.").syntax("cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type:string]").tips(&["nondeterministic_output", "request_policy:special"]),
    CommandSpec::container("object", OBJECT_SUBCOMMANDS).group(Group::Generic).since("2.2.3").doc("A container for object introspection commands.", "Depends on subcommand."),
];

const OBJECT_KEY: &[KeySpec] = &[KeySpec::one(2, kf::RO)];

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, object_encoding)
        .flags(READONLY)
        .acl(KS)
        .keys(OBJECT_KEY)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the internal encoding of a Redis object.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("freq", 3, object_freq)
        .flags(READONLY)
        .acl(KS)
        .keys(OBJECT_KEY)
        .group(Group::Generic)
        .since("4.0.0")
        .doc(
            "Returns the logarithmic access frequency counter of a Redis object.",
            "O(1)",
        )
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("help", 2, object_help)
        .flags(LOADING | STALE)
        .acl(KS)
        .group(Group::Generic)
        .since("6.2.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("idletime", 3, object_idletime)
        .flags(READONLY)
        .acl(KS)
        .keys(OBJECT_KEY)
        .group(Group::Generic)
        .since("2.2.3")
        .doc(
            "Returns the time since the last access to a Redis object.",
            "O(1)",
        )
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("refcount", 3, object_refcount)
        .flags(READONLY)
        .acl(KS)
        .keys(OBJECT_KEY)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the reference count of a value of a key.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
];

const RENAME_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE),
    KeySpec::one(2, kf::OW | kf::UPDATE),
];
const RENAMENX_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE),
    KeySpec::one(2, kf::OW | kf::INSERT),
];
const MOVE_KEYS: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::UPDATE)];
const COPY_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RO | kf::ACCESS),
    KeySpec::one(2, kf::OW | kf::UPDATE),
];
const RO_KEY_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
