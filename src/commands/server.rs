//! Server commands: INFO, CONFIG, COMMAND, DEBUG, SLOWLOG, LATENCY, MONITOR, SHUTDOWN, TIME,
//! DBSIZE, LASTSAVE.

use bytes::Bytes;

use crate::client::{flags as cf, Client};
use crate::command::args::{is, parse_i64};
use crate::command::table::Lookup;
use crate::command::{
    acl, errors, flags::*, keyflags, BeginSearch, CmdError, CmdResult, CommandSpec, Ctx, FindKeys,
    Group,
};
use crate::commands::connection::{reply_help, subcommand_syntax_error};
use crate::resp::reply::ReplyBuf;
use crate::server::Server;

fn info(ctx: &mut Ctx) -> CmdResult {
    let sections: Vec<String> = ctx.argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = crate::info::generate(ctx.srv, Some(ctx.client), &sections);
    ctx.reply().verbatim(text.as_bytes(), "txt");
    Ok(())
}

fn time(ctx: &mut Ctx) -> CmdResult {
    let us = crate::server::ustime();
    let r = ctx.reply();
    r.array_len(2);
    r.bulk_i64(us / 1_000_000);
    r.bulk_i64(us % 1_000_000);
    Ok(())
}

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len() as i64;
    ctx.reply().int(n);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    let t = ctx.srv.lastsave;
    ctx.reply().int(t);
    Ok(())
}

/// Flags of SHUTDOWN.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShutdownFlags {
    pub nosave: bool,
    pub save: bool,
    pub now: bool,
    pub force: bool,
}

impl From<crate::config::ShutdownFlags> for ShutdownFlags {
    /// The flags of `shutdown-on-sigint` / `shutdown-on-sigterm`.
    fn from(f: crate::config::ShutdownFlags) -> Self {
        use crate::config::ShutdownFlags as C;
        ShutdownFlags {
            nosave: f.has(C::NOSAVE),
            save: f.has(C::SAVE),
            now: f.has(C::NOW),
            force: f.has(C::FORCE),
        }
    }
}

fn shutdown(ctx: &mut Ctx) -> CmdResult {
    let mut f = ShutdownFlags::default();
    let mut abort = false;
    for a in &ctx.argv[1..] {
        if is(a, "nosave") {
            f.nosave = true;
        } else if is(a, "save") {
            f.save = true;
        } else if is(a, "now") {
            f.now = true;
        } else if is(a, "force") {
            f.force = true;
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    if (abort && ctx.argv.len() != 2) || (f.nosave && f.save) {
        return Err(errors::SYNTAX);
    }
    if abort {
        if ctx.srv.abort_shutdown() {
            ctx.reply().ok();
            return Ok(());
        }
        return Err(CmdError::err("No shutdown in progress."));
    }
    if ctx.client.has(cf::MULTI) {
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    if !f.now && crate::blocking::deny_blocking(ctx) {
        return Err(CmdError::err(
            "SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client",
        ));
    }
    // A timed-out script leaves nothing consistent to save.
    if !f.nosave && ctx.srv.scripting.is_busy() {
        return Err(CmdError::Static(ctx.srv.scripting.busy_error()));
    }
    if ctx.srv.prepare_for_shutdown(f) {
        crate::event_loop::exit_now(0);
    }
    if ctx.srv.shutdown_initiated() {
        // Waiting for replicas: the reply comes if the shutdown fails or is aborted.
        crate::blocking::block_for_shutdown(ctx);
        return Ok(());
    }
    Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."))
}

// ---- SAVE / BGSAVE ----

fn save(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.has_active_child() {
        return Err(CmdError::err("Background save already in progress"));
    }
    match crate::persistence::rdb::save(ctx.srv) {
        Ok(()) => {
            ctx.reply().ok();
            Ok(())
        }
        Err(_) => Err(CmdError::Static("ERR")),
    }
}

fn bgsave(ctx: &mut Ctx) -> CmdResult {
    let mut schedule = false;
    if ctx.argv.len() > 1 {
        if ctx.argv.len() == 2 && is(ctx.arg(1), "schedule") {
            schedule = true;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    let rdb_child = ctx
        .srv
        .bgsave
        .child
        .as_ref()
        .is_some_and(|c| c.kind != crate::persistence::bgsave::ChildKind::AofRewrite);
    if rdb_child {
        return Err(CmdError::err("Background save already in progress"));
    }
    if ctx.srv.has_active_child() || ctx.srv.in_exec {
        if schedule || ctx.srv.in_exec {
            ctx.srv.bgsave.scheduled = true;
            ctx.reply().simple(b"Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    }
    ctx.srv.bgsave().map_err(|_| CmdError::Static("ERR"))?;
    ctx.reply().simple(b"Background saving started");
    Ok(())
}

/// BGREWRITEAOF (Redis's bgrewriteaofCommand).
fn bgrewriteaof(ctx: &mut Ctx) -> CmdResult {
    let srv = &mut *ctx.srv;
    if srv.bgsave.child.as_ref().map(|c| c.kind)
        == Some(crate::persistence::bgsave::ChildKind::AofRewrite)
    {
        return Err(CmdError::err(
            "Background append only file rewriting already in progress",
        ));
    }
    if srv.has_active_child() || srv.in_exec {
        srv.aof.rewrite_scheduled = true;
        srv.aof.consecutive_failures = 0;
        ctx.reply()
            .simple(b"Background append only file rewriting scheduled");
        return Ok(());
    }
    if srv.aof_rewrite_background().is_ok() {
        ctx.reply()
            .simple(b"Background append only file rewriting started");
        Ok(())
    } else {
        Err(CmdError::err("Can't execute an AOF background rewriting. Please check the server logs for more information."))
    }
}

// ---- CONFIG ----

fn config_get(ctx: &mut Ctx) -> CmdResult {
    let pats: Vec<&[u8]> = ctx.argv[2..].iter().map(|a| &a[..]).collect();
    let pairs = ctx.srv.config.get(&pats);
    let r = ctx.reply();
    r.map_len(pairs.len());
    for (k, v) in pairs {
        r.bulk(k.as_bytes());
        r.bulk(&v);
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx) -> CmdResult {
    if !ctx.argv.len().is_multiple_of(2) {
        return Err(subcommand_syntax_error(ctx));
    }
    for i in (2..ctx.argv.len()).step_by(2) {
        if crate::config::Config::is_sensitive(&ctx.argv[i]) {
            ctx.redact(i + 1);
        }
    }
    let pairs: Vec<(&[u8], &[u8])> = ctx.argv[2..]
        .chunks(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let opts = crate::config::SetOptions {
        client_is_local: crate::dispatch::is_local(ctx.client),
        loading: ctx.srv.persistence.loading,
    };
    let srv = &mut *ctx.srv;
    let mut cfg = std::mem::take(&mut srv.config);
    let res = cfg.set(&pairs, &opts, &mut |new, old, action| {
        crate::config_apply::apply(srv, new, old, action)
    });
    srv.config = cfg;
    crate::config_apply::after_set(srv);
    res.map_err(CmdError::Owned)?;
    ctx.reply().ok();
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.reset_stats();
    ctx.reply().ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx) -> CmdResult {
    let Some(path) = ctx.srv.config_file.clone() else {
        return Err(CmdError::err("The server is running without a config file"));
    };
    let users = ctx.srv.acl.rewrite_lines(&ctx.srv.commands);
    let extras = crate::config::RewriteExtras {
        force_all: false,
        users: Some(&users),
        loadmodules: None,
    };
    match ctx.srv.config.rewrite(std::path::Path::new(&path), &extras) {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            ctx.reply().ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {}", e);
            Err(CmdError::err(format!(
                "Rewriting config file: {}",
                crate::config::strerror(&e)
            )))
        }
    }
}

fn config_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "config",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

impl Server {
    /// CONFIG RESETSTAT.
    pub fn reset_stats(&mut self) {
        let keep_conn = (self.stats.total_connections, self.stats.peak_memory);
        self.stats = Default::default();
        self.stats.peak_memory = crate::alloc::used_memory();
        let _ = keep_conn;
        self.commands.reset_stats();
        self.slowlog.entries.clear();
        self.latency.events.clear();
        self.lazyfree.reset_stats();
    }
}

// ---- COMMAND ----

fn reply_flags(r: &mut ReplyBuf, f: u64) {
    let names: Vec<&str> = crate::command::flags::NAMES
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    r.set_len(names.len());
    for n in names {
        r.simple(n.as_bytes());
    }
}

fn reply_acl(r: &mut ReplyBuf, a: u64) {
    let names: Vec<&str> = acl::NAMES
        .iter()
        .filter(|(b, _)| a & b != 0)
        .map(|(_, n)| *n)
        .collect();
    r.set_len(names.len());
    for n in names {
        r.simple(format!("@{}", n).as_bytes());
    }
}

fn reply_keyflags(r: &mut ReplyBuf, f: u32) {
    let names: Vec<&str> = keyflags::NAMES
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    r.set_len(names.len());
    for n in names {
        r.simple(n.as_bytes());
    }
}

fn reply_key_specs(r: &mut ReplyBuf, spec: &CommandSpec) {
    r.array_len(spec.keys.len());
    for ks in spec.keys {
        r.map_len(3);
        r.bulk(b"flags");
        reply_keyflags(r, ks.flags);
        r.bulk(b"begin_search");
        r.map_len(2);
        match ks.begin {
            BeginSearch::Index(i) => {
                r.bulk(b"type");
                r.bulk(b"index");
                r.bulk(b"spec");
                r.map_len(1);
                r.bulk(b"index");
                r.int(i as i64);
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                r.bulk(b"type");
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map_len(2);
                r.bulk(b"keyword");
                r.bulk(keyword.as_bytes());
                r.bulk(b"startfrom");
                r.int(startfrom as i64);
            }
            BeginSearch::Unknown => {
                r.bulk(b"type");
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
            }
        }
        r.bulk(b"find_keys");
        r.map_len(2);
        match ks.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                r.bulk(b"type");
                r.bulk(b"range");
                r.bulk(b"spec");
                r.map_len(3);
                r.bulk(b"lastkey");
                r.int(lastkey as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
                r.bulk(b"limit");
                r.int(limit as i64);
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                r.bulk(b"type");
                r.bulk(b"keynum");
                r.bulk(b"spec");
                r.map_len(3);
                r.bulk(b"keynumidx");
                r.int(keynumidx as i64);
                r.bulk(b"firstkey");
                r.int(firstkey as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
            }
            FindKeys::Unknown => {
                r.bulk(b"type");
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
            }
        }
    }
}

fn reply_command_info(srv: &Server, r: &mut ReplyBuf, id: usize) {
    let e = &srv.commands.entries[id];
    let spec = e.spec;
    let (first, last, step) = spec.legacy_range();
    r.array_len(10);
    r.bulk(e.fullname.as_bytes());
    r.int(spec.arity as i64);
    let movable = if spec.movable_keys() {
        crate::command::flags::MOVABLE_KEYS
    } else {
        0
    };
    reply_flags(r, spec.flags | movable);
    r.int(first as i64);
    r.int(last as i64);
    r.int(step as i64);
    reply_acl(r, spec.acl_categories());
    r.set_len(spec.tips.len());
    for t in spec.tips {
        r.bulk(t.as_bytes());
    }
    reply_key_specs(r, spec);
    let subs: Vec<usize> = sub_ids(srv, id);
    r.array_len(subs.len());
    for s in subs {
        reply_command_info(srv, r, s);
    }
}

fn sub_ids(srv: &Server, id: usize) -> Vec<usize> {
    let e = &srv.commands.entries[id];
    e.spec
        .subcommands
        .iter()
        .filter_map(|s| e.subs.get(s.name.as_bytes()).copied())
        .collect()
}

fn reply_command_docs(srv: &Server, r: &mut ReplyBuf, id: usize) {
    let e = &srv.commands.entries[id];
    let spec = e.spec;
    let args = crate::command::docs::parse(spec.syntax);
    let subs = sub_ids(srv, id);
    let n = 4 + (!args.is_empty()) as usize + (!subs.is_empty()) as usize;
    r.map_len(n);
    r.bulk(b"summary");
    r.bulk(spec.summary.as_bytes());
    r.bulk(b"since");
    r.bulk(spec.since.as_bytes());
    r.bulk(b"group");
    r.bulk(spec.group.name().as_bytes());
    r.bulk(b"complexity");
    r.bulk(spec.complexity.as_bytes());
    if !args.is_empty() {
        r.bulk(b"arguments");
        r.array_len(args.len());
        for a in &args {
            crate::command::docs::reply_arg(r, a);
        }
    }
    if !subs.is_empty() {
        r.bulk(b"subcommands");
        r.map_len(subs.len());
        for s in subs {
            r.bulk(srv.commands.entries[s].fullname.as_bytes());
            reply_command_docs(srv, r, s);
        }
    }
}

fn visible_top_level(srv: &Server) -> Vec<usize> {
    srv.commands
        .top_level()
        .filter(|&id| srv.commands.is_visible(id))
        .collect()
}

fn command(ctx: &mut Ctx) -> CmdResult {
    let srv = &*ctx.srv;
    let ids = visible_top_level(srv);
    let r = &mut ctx.client.reply;
    r.array_len(ids.len());
    for id in ids {
        reply_command_info(srv, r, id);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx) -> CmdResult {
    let n = visible_top_level(ctx.srv).len();
    ctx.reply().int(n as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx) -> CmdResult {
    let srv = &*ctx.srv;
    let r = &mut ctx.client.reply;
    if ctx.argv.len() == 2 {
        let ids = visible_top_level(srv);
        r.array_len(ids.len());
        for id in ids {
            reply_command_info(srv, r, id);
        }
        return Ok(());
    }
    r.array_len(ctx.argv.len() - 2);
    for a in &ctx.argv[2..] {
        match srv.commands.get_full(a) {
            Some(id) => reply_command_info(srv, r, id),
            None => r.null_array(),
        }
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx) -> CmdResult {
    let srv = &*ctx.srv;
    let r = &mut ctx.client.reply;
    let ids: Vec<usize> = if ctx.argv.len() == 2 {
        visible_top_level(srv)
    } else {
        ctx.argv[2..]
            .iter()
            .filter_map(|a| srv.commands.get_full(a))
            .collect()
    };
    r.map_len(ids.len());
    for id in ids {
        r.bulk(srv.commands.entries[id].fullname.as_bytes());
        reply_command_docs(srv, r, id);
    }
    Ok(())
}

fn command_list(ctx: &mut Ctx) -> CmdResult {
    enum Filter {
        None,
        AclCat(u64),
        Pattern(Vec<u8>),
        Module,
    }
    let filter = match ctx.argv.len() {
        2 => Filter::None,
        5 if is(ctx.arg(2), "filterby") => {
            let (kind, val) = (ctx.arg(3), ctx.arg(4));
            if is(kind, "aclcat") {
                match acl::NAMES
                    .iter()
                    .find(|(_, n)| val.eq_ignore_ascii_case(n.as_bytes()))
                {
                    Some((b, _)) => Filter::AclCat(*b),
                    None => Filter::AclCat(0),
                }
            } else if is(kind, "pattern") {
                Filter::Pattern(val.to_vec())
            } else if is(kind, "module") {
                Filter::Module
            } else {
                return Err(errors::SYNTAX);
            }
        }
        _ => return Err(errors::SYNTAX),
    };
    let srv = &*ctx.srv;
    let mut names: Vec<&str> = Vec::new();
    for id in visible_top_level(srv) {
        let mut consider = vec![id];
        consider.extend(sub_ids(srv, id));
        for cid in consider {
            let e = &srv.commands.entries[cid];
            let ok = match &filter {
                Filter::None => true,
                Filter::AclCat(0) => false,
                Filter::AclCat(b) => e.spec.acl_categories() & b != 0,
                Filter::Pattern(p) => {
                    crate::util::glob::string_match(p, e.fullname.as_bytes(), true)
                }
                Filter::Module => false,
            };
            if ok {
                names.push(&e.fullname);
            }
        }
    }
    let r = &mut ctx.client.reply;
    r.array_len(names.len());
    for n in names {
        r.bulk(n.as_bytes());
    }
    Ok(())
}

fn getkeys_common(ctx: &mut Ctx, with_flags: bool) -> CmdResult {
    let argv = &ctx.argv[2..];
    let id = match ctx.srv.commands.lookup(argv) {
        Lookup::Found(id) => id,
        _ => return Err(CmdError::err("Invalid command specified")),
    };
    let spec = ctx.srv.commands.entries[id].spec;
    if spec.keys.is_empty() && spec.getkeys.is_none() {
        return Err(CmdError::err("The command has no key arguments"));
    }
    let argc = argv.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys = crate::command::keys::get_keys(spec, argv);
    if keys.is_empty() {
        if spec.has(crate::command::flags::NO_MANDATORY_KEYS) {
            ctx.client.reply.array_len(0);
            return Ok(());
        }
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    let r = &mut ctx.client.reply;
    r.array_len(keys.len());
    for (i, f) in keys {
        if with_flags {
            r.array_len(2);
            r.bulk(&argv[i]);
            reply_keyflags(r, f);
        } else {
            r.bulk(&argv[i]);
        }
    }
    Ok(())
}

fn command_getkeys(ctx: &mut Ctx) -> CmdResult {
    getkeys_common(ctx, false)
}

fn command_getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    getkeys_common(ctx, true)
}

fn command_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "command",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

// ---- SLOWLOG ----

fn slowlog_get(ctx: &mut Ctx) -> CmdResult {
    let mut count = 10i64;
    if ctx.argv.len() == 3 {
        count = match parse_i64(ctx.arg(2)) {
            Ok(n) if n >= -1 => n,
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        };
        if count == -1 {
            count = i64::MAX;
        }
    } else if ctx.argv.len() > 3 {
        return Err(subcommand_syntax_error(ctx));
    }
    let entries: Vec<_> = ctx
        .srv
        .slowlog
        .entries
        .iter()
        .take(count as usize)
        .cloned()
        .collect();
    let r = ctx.reply();
    r.array_len(entries.len());
    for e in entries {
        r.array_len(6);
        r.int(e.id as i64);
        r.int(e.time);
        r.int(e.duration_us as i64);
        r.array_len(e.argv.len());
        for a in &e.argv {
            r.bulk(a);
        }
        r.bulk(e.peer.as_bytes());
        r.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.srv.slowlog.entries.len();
    ctx.reply().int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.slowlog.entries.clear();
    ctx.reply().ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "slowlog",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

// ---- LATENCY ----

fn latency_latest(ctx: &mut Ctx) -> CmdResult {
    let rows: Vec<(String, i64, u64, u64)> = ctx
        .srv
        .latency
        .events
        .iter()
        .filter_map(|(k, v)| v.latest().map(|s| (k.clone(), s.time, s.latency, v.max)))
        .collect();
    let r = ctx.reply();
    r.array_len(rows.len());
    for (name, t, l, m) in rows {
        r.array_len(4);
        r.bulk(name.as_bytes());
        r.int(t);
        r.int(l as i64);
        r.int(m as i64);
    }
    Ok(())
}

fn latency_history(ctx: &mut Ctx) -> CmdResult {
    let ev = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let samples = ctx
        .srv
        .latency
        .events
        .get(&ev)
        .map(|s| s.ordered())
        .unwrap_or_default();
    let r = ctx.reply();
    r.array_len(samples.len());
    for s in samples {
        r.array_len(2);
        r.int(s.time);
        r.int(s.latency as i64);
    }
    Ok(())
}

fn latency_reset(ctx: &mut Ctx) -> CmdResult {
    let evs: Vec<String> = ctx.argv[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let n = ctx.srv.latency.reset(&evs);
    ctx.reply().int(n as i64);
    Ok(())
}

fn latency_doctor(ctx: &mut Ctx) -> CmdResult {
    let mut s = String::new();
    if ctx.srv.latency.events.is_empty() {
        s.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep.\n");
    } else {
        s.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (name, ev)) in ctx.srv.latency.events.iter().enumerate() {
            let samples = ev.ordered();
            let avg = samples.iter().map(|x| x.latency).sum::<u64>() / samples.len().max(1) as u64;
            s.push_str(&format!(
                "{}. {}: {} latency spikes (average {}ms, mean deviation 0ms, period 0 sec). Worst all time event {}ms.\n",
                i + 1,
                name,
                samples.len(),
                avg,
                ev.max
            ));
        }
        s.push_str("\nI have a few advices for you:\n\n- Check your system for latency issues.\n");
    }
    ctx.reply().verbatim(s.as_bytes(), "txt");
    Ok(())
}

fn latency_graph(ctx: &mut Ctx) -> CmdResult {
    let ev = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let Some(series) = ctx.srv.latency.events.get(&ev) else {
        return Err(CmdError::err(format!(
            "No samples available for event '{}'",
            ev
        )));
    };
    let samples = series.ordered();
    let max = samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let min = samples.iter().map(|s| s.latency).min().unwrap_or(0);
    let mut out = format!(
        "{} - high {} ms, low {} ms (all time high {} ms)\n",
        ev, max, min, series.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    let rows = 4;
    for row in (0..rows).rev() {
        for s in &samples {
            let h = if max == min {
                rows
            } else {
                ((s.latency - min) * rows as u64 / (max - min).max(1)) as usize
            };
            out.push(if h > row {
                '#'
            } else if h == row {
                '_'
            } else {
                ' '
            });
        }
        out.push('\n');
    }
    ctx.reply().verbatim(out.as_bytes(), "txt");
    Ok(())
}

fn latency_histogram(ctx: &mut Ctx) -> CmdResult {
    let srv = &*ctx.srv;
    let has_data = |id: usize| srv.commands.entries[id].stats.latency.is_some();
    let mut ids: Vec<usize> = Vec::new();
    if ctx.argv.len() == 2 {
        ids.extend((0..srv.commands.entries.len()).filter(|&i| has_data(i)));
    } else {
        for a in &ctx.argv[2..] {
            let Some(id) = srv.commands.get_full(a) else {
                continue;
            };
            // A container stands for its subcommands.
            let mut cands = vec![id];
            cands.extend(sub_ids(srv, id));
            for c in cands {
                if has_data(c) && !ids.contains(&c) {
                    ids.push(c);
                }
            }
        }
    }
    let r = &mut ctx.client.reply;
    r.map_len(ids.len());
    for id in ids {
        let e = &srv.commands.entries[id];
        let Some(h) = &e.stats.latency else { continue };
        r.bulk(e.fullname.as_bytes());
        r.map_len(2);
        r.bulk(b"calls");
        r.int(h.total as i64);
        r.bulk(b"histogram_usec");
        let cdf = h.cumulative_usec();
        r.map_len(cdf.len());
        for (us, n) in cdf {
            r.int(us as i64);
            r.int(n as i64);
        }
    }
    Ok(())
}

fn latency_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "latency",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

// ---- MONITOR ----

fn monitor(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.has(cf::SLAVE) {
        return Ok(());
    }
    ctx.client.flags |= cf::SLAVE | cf::MONITOR;
    ctx.srv.monitors.push(ctx.client.key);
    ctx.reply().ok();
    Ok(())
}

/// Leave MONITOR mode (RESET).
pub fn stop_monitor(srv: &mut Server, c: &mut Client) {
    if c.has(cf::MONITOR) {
        c.flags &= !(cf::SLAVE | cf::MONITOR);
        let key = c.key;
        srv.monitors.retain(|&k| k != key);
    }
}

/// Append `s` quoted as Redis's sdscatrepr does.
pub fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{:02x}", c).as_bytes()),
        }
    }
    out.push(b'"');
}

/// Send a command to every MONITOR client (Redis's replicationFeedMonitors).
pub fn feed_monitors(srv: &mut Server, c: &Client, db: usize, argv: &[Bytes]) {
    let us = crate::server::ustime();
    let mut line = format!("+{}.{:06} [{} ", us / 1_000_000, us % 1_000_000, db).into_bytes();
    if c.has(cf::SCRIPT) {
        line.extend_from_slice(b"lua");
    } else if c.has(cf::UNIX_SOCKET) {
        line.extend_from_slice(
            format!("unix:{}", srv.config.unixsocket.as_deref().unwrap_or("")).as_bytes(),
        );
    } else {
        line.extend_from_slice(c.addr.as_bytes());
    }
    line.push(b']');
    for a in argv {
        line.push(b' ');
        cat_repr(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    let keys = srv.monitors.clone();
    for k in keys {
        if let Some(Some(m)) = srv.clients.get_mut(k) {
            if m.has(crate::client::flags::CLOSE_ASAP) {
                continue;
            }
            m.reply.raw(&line);
            srv.output_appended(k);
        }
    }
}

/// Feed the running command to MONITOR now: EVAL and FCALL are `skip-monitor` so that they
/// show before the commands their script runs (which call() feeds as they finish).
pub fn feed_monitors_now(ctx: &mut Ctx) {
    if !ctx.srv.monitors.is_empty() && !ctx.client.has(cf::AOF_CLIENT) {
        let db = ctx.client.db;
        feed_monitors(ctx.srv, ctx.client, db, ctx.argv);
    }
}

const KS: u64 = acl::KEYSPACE;

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, config_get)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.0.0")
        .doc(
            "Returns the effective values of configuration parameters.",
            "O(N) when N is the number of configuration parameters provided",
        )
        .syntax("parameter:string..."),
    CommandSpec::new("set", -4, config_set)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.0.0")
        .doc(
            "Sets configuration parameters in-flight.",
            "O(N) when N is the number of configuration parameters provided",
        )
        .syntax("(parameter:string value:string)...")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("resetstat", 2, config_resetstat)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.0.0")
        .doc("Resets the server's statistics.", "O(1)")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("rewrite", 2, config_rewrite)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.0")
        .doc("Persists the effective configuration to file.", "O(1)")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, config_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("5.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
];

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, command_count).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("2.8.13").doc("Returns a count of commands.", "O(1)"),
    CommandSpec::new("docs", -2, command_docs).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("7.0.0").doc("Returns documentary information about one, multiple or all commands.", "O(N) where N is the number of commands to look up").syntax("[command-name:string...]").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("getkeys", -4, command_getkeys).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("2.8.13").doc("Extracts the key names from an arbitrary command.", "O(N) where N is the number of arguments to the command").syntax("command:string arg:string..."),
    CommandSpec::new("getkeysandflags", -4, command_getkeysandflags).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("7.0.0").doc("Extracts the key names and access flags for an arbitrary command.", "O(N) where N is the number of arguments to the command").syntax("command:string arg:string..."),
    CommandSpec::new("help", 2, command_help).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("5.0.0").doc("Returns helpful text about the different subcommands.", "O(1)"),
    CommandSpec::new("info", -2, command_info).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("2.8.13").doc("Returns information about one, multiple or all commands.", "O(N) where N is the number of commands to look up").syntax("[command-name:string...]").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("list", -2, command_list).flags(LOADING | STALE).acl(acl::CONNECTION).group(Group::Server).since("7.0.0").doc("Returns a list of command names.", "O(N) where N is the total number of Redis commands").syntax("[FILTERBY filterby=(MODULE module-name:string|ACLCAT category:string|PATTERN pattern:pattern)]").tips(&["nondeterministic_output_order"]),
];

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, slowlog_get)
        .flags(ADMIN | LOADING | STALE)
        .group(Group::Server)
        .since("2.2.12")
        .doc(
            "Returns the slow log's entries.",
            "O(N) where N is the number of entries returned",
        )
        .syntax("[count:integer]")
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    CommandSpec::new("len", 2, slowlog_len)
        .flags(ADMIN | LOADING | STALE)
        .group(Group::Server)
        .since("2.2.12")
        .doc("Returns the number of entries in the slow log.", "O(1)")
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ]),
    CommandSpec::new("reset", 2, slowlog_reset)
        .flags(ADMIN | LOADING | STALE)
        .group(Group::Server)
        .since("2.2.12")
        .doc(
            "Clears all entries from the slow log.",
            "O(N) where N is the number of entries in the slowlog",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, slowlog_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("6.2.0")
        .doc("Show helpful text about the different subcommands", "O(1)"),
];

static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, latency_doctor)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc("Returns a human-readable latency analysis report.", "O(1)")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    CommandSpec::new("graph", 3, latency_graph)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc("Returns a latency graph for an event.", "O(1)")
        .syntax("event:string")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    CommandSpec::new("help", 2, latency_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("histogram", -2, latency_histogram)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("7.0.0")
        .doc(
            "Returns the cumulative distribution of latencies of a subset or all commands.",
            "O(N) where N is the number of commands with latency information being retrieved.",
        )
        .syntax("[command:string...]")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    CommandSpec::new("history", 3, latency_history)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc("Returns timestamp-latency samples for an event.", "O(1)")
        .syntax("event:string")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    CommandSpec::new("latest", 2, latency_latest)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc("Returns the latest latency samples for all events.", "O(1)")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    CommandSpec::new("reset", -2, latency_reset)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .group(Group::Server)
        .since("2.8.13")
        .doc("Resets the latency data for one or more events.", "O(1)")
        .syntax("[event:string...]")
        .tips(&["request_policy:all_nodes", "response_policy:agg_sum"]),
];

/// Server commands.
/// MODULE: Redust loads no modules (they are C shared objects written against Redis's
/// module API), so the list is empty and loading fails as a failed load does in Redis.
static MODULE_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, module_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("5.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("list", 2, module_list)
        .flags(ADMIN | NOSCRIPT)
        .acl(acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "Returns all loaded modules.",
            "O(N) where N is the number of loaded modules.",
        )
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("load", -3, module_load)
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED)
        .acl(acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .doc("Loads a module.", "O(1)")
        .syntax("path:string [arg:string...]"),
    CommandSpec::new("loadex", -3, module_load)
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED)
        .acl(acl::DANGEROUS)
        .group(Group::Server)
        .since("7.0.0")
        .doc("Loads a module using extended parameters.", "O(1)")
        .syntax("path:string [CONFIG name:string value:string...] [ARGS args:string...]"),
    CommandSpec::new("unload", 3, module_unload)
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED)
        .acl(acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .doc("Unloads a module.", "O(1)")
        .syntax("name:string"),
];

fn module_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "module",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    );
    Ok(())
}

fn module_list(ctx: &mut Ctx) -> CmdResult {
    ctx.reply().array_len(0);
    Ok(())
}

fn module_load(ctx: &mut Ctx) -> CmdResult {
    log::warn!(
        "Module {} failed to load: Redust does not load Redis modules",
        String::from_utf8_lossy(ctx.arg(2))
    );
    Err(CmdError::err(
        "Error loading the extension. Please check the server logs.",
    ))
}

fn module_unload(_ctx: &mut Ctx) -> CmdResult {
    Err(CmdError::err(
        "Error unloading module: no such module with that name",
    ))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("info", -1, info).flags(LOADING | STALE | SENTINEL).acl(acl::DANGEROUS).group(Group::Server).doc("Returns information and statistics about the server.", "O(1)").syntax("[section:string...]").tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    CommandSpec::new("time", 1, time).flags(LOADING | STALE | FAST).group(Group::Server).since("2.6.0").doc("Returns the server time.", "O(1)").tips(&["nondeterministic_output"]),
    CommandSpec::new("dbsize", 1, dbsize).flags(READONLY | FAST).acl(KS).group(Group::Server).doc("Returns the number of keys in the database.", "O(1)").tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    CommandSpec::new("lastsave", 1, lastsave).flags(LOADING | STALE | FAST).acl(acl::ADMIN | acl::DANGEROUS).group(Group::Server).doc("Returns the Unix timestamp of the last successful save to disk.", "O(1)").tips(&["nondeterministic_output"]),
    CommandSpec::new("shutdown", -1, shutdown).flags(ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY).group(Group::Server).doc("Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)").syntax("[nosave-save=NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"),
    CommandSpec::new("save", 1, save).flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI).group(Group::Server).doc("Synchronously saves the database(s) to disk.", "O(N) where N is the total number of keys in all databases"),
    CommandSpec::new("bgrewriteaof", 1, bgrewriteaof).flags(NO_ASYNC_LOADING | ADMIN | NOSCRIPT).group(Group::Server).doc("Asynchronously rewrites the append-only file to disk.", "O(1)"),
    CommandSpec::new("bgsave", -1, bgsave).flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING).group(Group::Server).doc("Asynchronously saves the database(s) to disk.", "O(1)").syntax("[SCHEDULE]"),
    CommandSpec::container("config", CONFIG_SUBCOMMANDS).group(Group::Server).since("2.0.0").doc("A container for server configuration commands.", "Depends on subcommand."),
    CommandSpec::new("command", -1, command).flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).group(Group::Server).since("2.8.13").doc("Returns detailed information about all commands.", "O(N) where N is the total number of Redis commands").tips(&["nondeterministic_output_order"]).subcommands_of(COMMAND_SUBCOMMANDS),
    CommandSpec::container("slowlog", SLOWLOG_SUBCOMMANDS).group(Group::Server).since("2.2.12").doc("A container for slow log commands.", "Depends on subcommand."),
    CommandSpec::container("latency", LATENCY_SUBCOMMANDS).group(Group::Server).since("2.8.13").doc("A container for latency diagnostics commands.", "Depends on subcommand."),
    CommandSpec::container("module", MODULE_SUBCOMMANDS).group(Group::Server).since("4.0.0").doc("A container for module commands.", "Depends on subcommand."),
    CommandSpec::new("monitor", 1, monitor).flags(ADMIN | NOSCRIPT | LOADING | STALE).group(Group::Server).doc("Listens for all requests received by the server in real-time.", ""),
];
