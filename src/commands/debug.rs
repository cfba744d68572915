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
            let d = key_digest(db, k, o, true);
            for (a, b) in out.iter_mut().zip(d.iter()) {
                *a ^= b;
            }
        }
    }
    out
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back.
fn debug_reload(ctx: &mut Ctx) -> CmdResult {
    let (mut flush, mut save) = (true, true);
    for a in &ctx.argv[2..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "merge" => {}
            "noflush" => flush = false,
            "nosave" => save = false,
            _ => return Err(CmdError::err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")),
        }
    }
    if save && crate::persistence::rdb::save(ctx.srv).is_err() {
        return Err(CmdError::Static("ERR"));
    }
    if flush {
        for db in &mut ctx.srv.dbs {
            db.clear();
        }
    }
    let path = ctx.srv.config.dbfilename.clone();
    if let Err(e) = crate::persistence::rdb::load(ctx.srv, &path) {
        log::warn!("Error loading the RDB dump in DEBUG RELOAD: {}", e);
        return Err(CmdError::err("Error trying to load the RDB dump"));
    }
    log::warn!("DB reloaded by DEBUG RELOAD");
    ctx.reply().ok();
    Ok(())
}


fn debug(ctx: &mut Ctx) -> CmdResult {
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
        ("sleep", 3) => {
            let secs = crate::util::numbers::strtod(ctx.arg(2)).value;
            let us = (secs * 1e6) as i64;
            if us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(us as u64));
            }
            ctx.reply().ok();
        }
        ("set-active-expire", 3) => {
            ctx.srv.active_expire_enabled = crate::util::numbers::string2ll(ctx.arg(2)).unwrap_or(0) != 0;
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
            ctx.reply().ok();
        }
        ("jmap", _) => {
            ctx.reply().ok();
        }
        ("object", 3) => {
            let key = ctx.argv[2].clone();
            let (o, r) = ctx.read(&key);
            let Some(o) = o else {
                return Err(errors::NO_SUCH_KEY);
            };
            let s = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:0",
                o.value.encoding(),
                crate::persistence::rdb::serialized_len(&o.value),
                o.lru
            );
            r.simple(s.as_bytes());
        }
        ("reload", _) => debug_reload(ctx)?,
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
                ctx.client.reply.simple(crate::util::digest::hex(&d).as_bytes());
            }
        }
        ("htstats", 3) => {
            let db = parse_i64(ctx.arg(2))?;
            if db < 0 || db as usize >= ctx.srv.dbs.len() {
                return Err(CmdError::err("Out of range database"));
            }
            let d = &ctx.srv.dbs[db as usize];
            let s = format!("[Dictionary HT]\n{}[Expires HT]\n{}", d.keys.stats(), d.expires.stats());
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
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", -2, debug).flags(ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED).group(Group::Server).doc("A container for debugging commands.", "Depends on subcommand."),
];
