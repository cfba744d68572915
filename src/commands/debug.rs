//! DEBUG: the introspection and fault-injection subcommands the test suite and operators use
//! (Redis's debug.c), including the dataset digest that lets two servers compare their data.

use crate::command::args::parse_i64;
use crate::command::{errors, flags::*, CmdError, CmdResult, CommandSpec, Ctx, Group};
use crate::commands::connection::{reply_help, subcommand_syntax_error};
use crate::db::Db;
use crate::server::Server;
use crate::types::object::RObj;
use crate::util::digest::{mix_digest, xor_digest, Digest20};

/// The digest of one key and its value (the per-key part of computeDatasetDigest). With
/// `with_key` the key name is mixed in first, as the dataset digest does.
pub fn key_digest(db: &Db, key: &[u8], o: &RObj, with_key: bool) -> Digest20 {
    let mut d = [0u8; 20];
    if with_key {
        mix_digest(&mut d, key);
    }
    o.value.digest(&mut d);
    if db.expire_of(key).is_some() {
        xor_digest(&mut d, b"!!expire!!");
    }
    d
}

/// DEBUG DIGEST: all zeros for an empty dataset.
pub fn dataset_digest(srv: &Server) -> Digest20 {
    let mut out = [0u8; 20];
    for (i, db) in srv.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut out, &(i as u32).to_be_bytes());
        for (k, o) in db.keys.iter() {
            // Each key's digest goes in through SHA1, as computeDatasetDigest's xorDigest.
            let d = key_digest(db, k, o, true);
            xor_digest(&mut out, &d);
        }
    }
    out
}

/// DEBUG POPULATE count [prefix] [size]: create `prefix:N` keys (default prefix `key`) with
/// values `value:N`, padded or cut to `size`; existing keys are left alone.
fn debug_populate(ctx: &mut Ctx) -> CmdResult {
    let count = parse_i64(ctx.arg(2))?;
    if count < 0 {
        return Err(CmdError::err("count can't be negative"));
    }
    let prefix: Vec<u8> = ctx
        .argv
        .get(3)
        .map(|b| b.to_vec())
        .unwrap_or_else(|| b"key".to_vec());
    let size = match ctx.argv.get(4) {
        Some(b) => Some(parse_i64(b)?.max(0) as usize),
        None => None,
    };
    let db = ctx.client.db;
    let want = ctx.srv.dbs[db].len() + count as usize;
    ctx.srv.dbs[db].keys.expand(want);
    for j in 0..count {
        let mut key = prefix.clone();
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if ctx.srv.dbs[db].keys.contains_key(&key[..]) {
            continue;
        }
        let mut val = format!("value:{}", j).into_bytes();
        if let Some(sz) = size {
            val.resize(sz, 0);
        }
        let obj = RObj::string(
            crate::types::object::RString::from_bytes(&val),
            ctx.srv.lruclock,
        );
        ctx.srv.dbs[db].add(&key, obj);
    }
    ctx.reply().ok();
    Ok(())
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back.
fn debug_reload(ctx: &mut Ctx) -> CmdResult {
    let (mut flush, mut save, mut merge) = (true, true, false);
    for a in &ctx.argv[2..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "merge" => merge = true,
            "noflush" => flush = false,
            "nosave" => save = false,
            _ => {
                return Err(CmdError::err(
                    "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ))
            }
        }
    }
    if save && crate::persistence::rdb::save(ctx.srv).is_err() {
        return Err(CmdError::Static("ERR"));
    }
    if flush {
        ctx.srv.empty_data(true);
    }
    let path = ctx.srv.config.dbfilename.clone();
    if let Err(e) = crate::persistence::rdb::load_file(ctx.srv, &path, merge) {
        log::warn!("Error loading the RDB dump in DEBUG RELOAD: {}", e);
        return Err(CmdError::err("Error trying to load the RDB dump"));
    }
    log::warn!("DB reloaded by DEBUG RELOAD");
    ctx.reply().ok();
    Ok(())
}

/// DEBUG LOADAOF: flush the AOF, empty the dataset and load it back from the AOF.
fn debug_loadaof(ctx: &mut Ctx) -> CmdResult {
    use crate::persistence::aof::LoadResult;
    if ctx.srv.aof_active() {
        ctx.srv.aof_flush(true);
    }
    ctx.srv.empty_data(true);
    ctx.srv.aof_load_manifest_from_disk();
    ctx.srv.aof_del_history_files();
    let ret = ctx.srv.aof_load_files();
    if ret != LoadResult::Ok && ret != LoadResult::Empty {
        crate::event_loop::exit_now(1);
    }
    // What was loaded is no change to save or propagate.
    ctx.srv.dirty = 0;
    log::warn!("Append Only File loaded by DEBUG LOADAOF");
    ctx.reply().ok();
    Ok(())
}

/// DEBUG. Named as Redis's handler, so crash and watchdog stack traces read the same.
#[allow(non_snake_case)]
#[inline(never)]
fn debugCommand(ctx: &mut Ctx) -> CmdResult {
    let sub = String::from_utf8_lossy(ctx.arg(1)).to_ascii_lowercase();
    let argc = ctx.argv.len();
    match (sub.as_str(), argc) {
        ("help", 2) => {
            reply_help(
                ctx.reply(),
                "debug",
                &[
                    "CHANGE-REPL-ID",
                    "    Change the replication IDs of the instance.",
                    "LOG <message>",
                    "    Write <message> to the server log.",
                    "PAUSE-CRON <0|1>",
                    "    Stop periodic cron job processing.",
                    "PROTOCOL <type>",
                    "    Reply with a test value of the specified type.",
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                    "SLEEP <seconds>",
                    "    Stop the server for <seconds>. Decimals allowed.",
                    "STRINGMATCH-LEN",
                    "    Run a fuzz tester against the stringmatchlen() function.",
                ],
            );
        }
        ("segfault", _) | ("panic", _) | ("assert", _) => {
            crate::crash::report_and_abort(&format!("DEBUG {}", sub.to_ascii_uppercase()));
        }
        ("log", 3) => {
            log::warn!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.arg(2)));
            ctx.reply().ok();
        }
        ("mallctl", 3..) => {
            let new = match ctx.argv.get(3) {
                Some(v) => Some(parse_i64(v)?),
                None => None,
            };
            match crate::alloc::mallctl_int(ctx.arg(2), new) {
                Ok(crate::alloc::Mallctl::Value(v)) => ctx.reply().int(v),
                Ok(crate::alloc::Mallctl::Written) => ctx.reply().ok(),
                Err(e) => return Err(CmdError::err(e)),
            }
        }
        ("mallctl-str", 3..) => {
            let new = ctx.argv.get(3).cloned();
            match crate::alloc::mallctl_str(ctx.arg(2), new.as_deref()) {
                Ok(crate::alloc::Mallctl::Value(v)) => ctx.reply().bulk(v.as_bytes()),
                Ok(crate::alloc::Mallctl::Written) => ctx.reply().ok(),
                Err(e) => return Err(CmdError::err(e)),
            }
        }
        ("replicate", 3..) => {
            // Feed the arguments to the replicas as if a command had produced them, in the
            // stream's current db, and nowhere else (not executed, not in the AOF).
            let args = ctx.argv[2..].to_vec();
            let db = ctx.srv.repl.slaveseldb;
            ctx.srv.feed_replicas(db, &args);
            ctx.reply().ok();
        }
        ("sleep", 3) => {
            let secs = crate::util::numbers::strtod(ctx.arg(2)).value;
            let us = (secs * 1e6) as i64;
            if us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(us as u64));
            }
            ctx.reply().ok();
        }
        ("set-active-expire", 3) => {
            ctx.srv.active_expire_enabled =
                crate::util::numbers::string2ll(ctx.arg(2)).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        ("pause-cron", 3) => {
            ctx.srv.cron_paused = crate::util::numbers::string2ll(ctx.arg(2)).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        ("change-repl-id", 2) => {
            ctx.srv.change_repl_id();
            ctx.reply().ok();
        }
        ("protocol", 3) => debug_protocol(ctx)?,
        ("stringmatch-len", 2) => {
            let p = vec![b'a'; 1 << 14];
            let mut pat = Vec::new();
            for _ in 0..1000 {
                pat.extend_from_slice(b"*a");
            }
            let _ = crate::util::glob::string_match(&pat, &p, false);
            ctx.reply().raw(b"+OK\r\n");
        }
        ("replybuffer", 4) => {
            let what = ctx.arg(2).to_ascii_lowercase();
            let v = ctx.arg(3);
            match &what[..] {
                b"peak-reset-time" => {
                    ctx.srv.reply_buffer_peak_reset_ms = if crate::command::args::is(v, "never") {
                        -1
                    } else if crate::command::args::is(v, "reset") {
                        crate::server::REPLY_BUFFER_PEAK_RESET_MS
                    } else {
                        parse_i64(v)?
                    };
                }
                b"resizing" => ctx.srv.reply_buffer_resizing = parse_i64(v)? != 0,
                _ => return Err(CmdError::err("Wrong argument to REPLYBUFFER")),
            }
            ctx.reply().ok();
        }
        ("jmap", _) => {
            ctx.reply().ok();
        }
        ("object", 3) => {
            let key = ctx.argv[2].clone();
            let compress = ctx.srv.config.rdbcompression;
            // A raw lookup, as Redis's: no lazy expiry, no access stamp.
            let db = ctx.client.db;
            let Some(o) = ctx.srv.dbs[db].keys.get(&key[..]) else {
                return Err(errors::NO_SUCH_KEY);
            };
            let r = &mut ctx.client.reply;
            let mut s = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:0",
                o.value.encoding(),
                crate::persistence::rdb::serialized_len(&o.value, compress),
                o.lru
            );
            if let crate::types::object::Value::List(ql) = &o.value {
                s.push_str(&format!(
                    " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
                    ql.node_count(),
                    ql.len() as f64 / ql.node_count() as f64,
                    ql.fill(),
                    (ql.compress_depth() != 0) as i32,
                    ql.uncompressed_size()
                ));
            }
            r.simple(s.as_bytes());
        }
        ("reload", _) => debug_reload(ctx)?,
        ("loadaof", 2) => debug_loadaof(ctx)?,
        ("aof-flush-sleep", 3) => {
            ctx.srv.aof.flush_sleep_us = crate::util::numbers::string2l(ctx.arg(2)).unwrap_or(0);
            ctx.reply().ok();
        }
        ("set-disable-deny-scripts", 3) => {
            ctx.srv.scripting.disable_deny_scripts =
                crate::util::numbers::string2ll(ctx.arg(2)).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        ("set-skip-checksum-validation", 3) => {
            ctx.srv.skip_checksum_validation =
                crate::util::numbers::string2ll(ctx.arg(2)).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        ("quicklist-packed-threshold", 3) => {
            let ok = crate::config::parse_memory(ctx.arg(2))
                .is_some_and(crate::types::quicklist::set_packed_threshold);
            if !ok {
                return Err(CmdError::err(
                    "argument must be a memory value bigger than 1 and smaller than 4gb",
                ));
            }
            ctx.reply().ok();
        }
        ("listpack", 3) | ("quicklist", 3) | ("quicklist", 4) => {
            let key = ctx.argv[2].clone();
            let (o, r) = ctx.read(&key);
            let Some(o) = o else {
                return Err(errors::NO_SUCH_KEY);
            };
            match (&o.value, sub.as_str()) {
                (crate::types::object::Value::List(ql), "quicklist") => {
                    log::info!(
                        "{{quicklist}} count: {} len: {} fill: {} compress: {}",
                        ql.len(),
                        ql.node_count(),
                        ql.fill(),
                        ql.compress_depth()
                    );
                    r.simple(b"Quicklist structure printed on stdout");
                }
                (_, "quicklist") => return Err(CmdError::err("Not a quicklist encoded object.")),
                _ => return Err(CmdError::err("Not a listpack encoded object.")),
            }
        }
        ("config-rewrite-force-all", 2) => {
            let Some(path) = ctx.srv.config_file.clone() else {
                return Err(CmdError::err(
                    "CONFIG-REWRITE-FORCE-ALL failed: The server is running without a config file",
                ));
            };
            let users = ctx.srv.acl.rewrite_lines(&ctx.srv.commands);
            let extras = crate::config::RewriteExtras {
                force_all: true,
                users: Some(&users),
                loadmodules: None,
            };
            ctx.srv
                .config
                .rewrite(std::path::Path::new(&path), &extras)
                .map_err(|e| {
                    CmdError::err(format!(
                        "CONFIG-REWRITE-FORCE-ALL failed: {}",
                        crate::config::strerror(&e)
                    ))
                })?;
            ctx.reply().ok();
        }
        ("populate", 3..=5) => debug_populate(ctx)?,
        ("digest", 2) => {
            let d = dataset_digest(ctx.srv);
            ctx.reply().simple(crate::util::digest::hex(&d).as_bytes());
        }
        ("digest-value", _) => {
            let n = ctx.argv.len() - 2;
            ctx.client.reply.array_len(n);
            for i in 2..ctx.argv.len() {
                let db = &ctx.srv.dbs[ctx.client.db];
                let d = match db.keys.get(ctx.arg(i)) {
                    Some(o) => key_digest(db, ctx.arg(i), o, false),
                    None => [0u8; 20],
                };
                ctx.client
                    .reply
                    .simple(crate::util::digest::hex(&d).as_bytes());
            }
        }
        ("htstats-key", n) if n >= 3 => {
            let key = ctx.argv[2].clone();
            let db = ctx.client.db;
            ctx.expire_if_needed(&key);
            let stats = match ctx.srv.dbs[db].keys.get(&key[..]) {
                None => return Err(errors::NO_SUCH_KEY),
                Some(o) => match &o.value {
                    crate::types::object::Value::Set(s) => match &**s {
                        crate::types::set::Set::Table(d) => Some(d.stats()),
                        _ => None,
                    },
                    crate::types::object::Value::Hash(h) => h.table().map(|d| d.stats()),
                    _ => None,
                },
            };
            match stats {
                Some(s) => ctx.client.reply.verbatim(s.as_bytes(), "txt"),
                None => return Err(CmdError::err(
                    "The value stored at the specified key is not represented using an hash table",
                )),
            }
        }
        ("htstats", 3) => {
            let db = parse_i64(ctx.arg(2))?;
            if db < 0 || db as usize >= ctx.srv.dbs.len() {
                return Err(CmdError::err("Out of range database"));
            }
            let d = &ctx.srv.dbs[db as usize];
            let s = format!(
                "[Dictionary HT]\n{}[Expires HT]\n{}",
                d.keys.stats(),
                d.expires.stats()
            );
            ctx.client.reply.verbatim(s.as_bytes(), "txt");
        }
        _ => return Err(subcommand_syntax_error(ctx)),
    }
    Ok(())
}

fn debug_protocol(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(ctx.arg(2)).to_ascii_lowercase();
    let r = ctx.reply();
    match name.as_str() {
        "string" => r.bulk(b"Hello World"),
        "integer" => r.int(12345),
        // Redis's own test value for the double type, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        "double" => r.double(3.141),
        "bignum" => r.big_number(b"1234567999999999999999999999999999999"),
        "null" => r.null(),
        "array" => {
            r.array_len(3);
            for j in 0..3 {
                r.int(j);
            }
        }
        "set" => {
            r.set_len(3);
            for j in 0..3 {
                r.int(j);
            }
        }
        "map" => {
            r.map_len(3);
            for j in 0..3 {
                r.int(j);
                r.bool(j == 1);
            }
        }
        "attrib" => {
            if r.resp >= 3 {
                r.attribute_len(1);
                r.bulk(b"key-popularity");
                r.array_len(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if r.resp < 3 {
                return Err(CmdError::err("RESP2 is not supported by this command"));
            }
            r.push_len(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            r.bulk(b"Some real reply following the push reply");
        }
        "true" => r.bool(true),
        "false" => r.bool(false),
        "verbatim" => r.verbatim(b"This is a verbatim\nstring", "txt"),
        _ => return Err(CmdError::err("Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")),
    }
    Ok(())
}

/// The DEBUG command.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("debug", -2, debugCommand)
    .flags(ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED)
    .group(Group::Server)
    .doc(
        "A container for debugging commands.",
        "Depends on subcommand.",
    )];
