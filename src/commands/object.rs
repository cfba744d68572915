//! OBJECT (ENCODING, REFCOUNT, IDLETIME, FREQ) and MEMORY USAGE (Redis's object.c): what the
//! test suite uses to look at how a value is stored.

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::commands::connection::reply_help;
use crate::types::object::{RObj, RString, Value, SHARED_INTEGERS, SHARED_REFCOUNT};

/// Look `key` up without touching statistics or the LRU clock (objectCommandLookup).
fn lookup<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c RObj> {
    if ctx.expire_if_needed(key) {
        return None;
    }
    let db = ctx.client.db;
    ctx.srv.dbs[db].keys.get(key)
}

fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let enc = lookup(ctx, key).map(|o| o.value.encoding());
    match enc {
        Some(e) => ctx.reply().bulk(e.as_bytes()),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    // Integers are not shared under maxmemory with an LRU/LFU policy (tryObjectEncoding).
    let cfg = &ctx.srv.config;
    let shared_ok = cfg.maxmemory == 0 || !cfg.maxmemory_policy.no_shared_integers();
    let rc = lookup(ctx, key).map(|o| match &o.value {
        Value::Str(RString::Int(n)) if shared_ok && (0..SHARED_INTEGERS).contains(n) => {
            SHARED_REFCOUNT
        }
        _ => 1,
    });
    match rc {
        Some(n) => ctx.reply().int(n),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn lfu_selected(ctx: &Ctx) -> bool {
    format!("{:?}", ctx.srv.config.maxmemory_policy)
        .to_ascii_lowercase()
        .contains("lfu")
}

fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let now = ctx.srv.lruclock;
    let Some(lru) = lookup(ctx, key).map(|o| o.lru) else {
        ctx.reply().null();
        return Ok(());
    };
    if lfu_selected(ctx) {
        return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    // The LRU clock wraps; an object stamped "after" now was stamped before the wrap.
    const LRU_CLOCK_MAX: u64 = (1 << 24) - 1;
    let idle = if now >= lru {
        (now - lru) as u64
    } else {
        LRU_CLOCK_MAX - lru as u64 + now as u64
    };
    ctx.reply().int(idle as i64);
    Ok(())
}

fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let Some(lru) = lookup(ctx, key).map(|o| o.lru) else {
        ctx.reply().null();
        return Ok(());
    };
    if !lfu_selected(ctx) {
        return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    ctx.reply().int((lru & 0xff) as i64);
    Ok(())
}

fn object_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "object",
        &[
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
        ],
    );
    Ok(())
}

/// Approximate bytes used by a key and its value (objectComputeSize + the key and dict entry).
fn value_size(v: &Value) -> usize {
    16 + match v {
        Value::Str(s) => s.mem_usage(),
        Value::Set(s) => s.mem_usage(),
        Value::Hash(h) => h.mem_usage(),
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

fn memory_usage(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut j = 3;
    while j < argv.len() {
        if is(&argv[j], "samples") && j + 1 < argv.len() {
            if parse_i64(&argv[j + 1])? < 0 {
                return Err(errors::SYNTAX);
            }
            j += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    let key = ctx.arg(2);
    let size = lookup(ctx, key).map(|o| value_size(&o.value) + key.len() + 24);
    match size {
        Some(n) => ctx.reply().int(n as i64),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn memory_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "memory",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

const KEY2: &[KeySpec] = &[KeySpec::one(2, kf::RO)];

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, object_encoding)
        .flags(READONLY)
        .acl(acl::KEYSPACE)
        .keys(KEY2)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the internal encoding of a Redis object.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("freq", 3, object_freq)
        .flags(READONLY)
        .acl(acl::KEYSPACE)
        .keys(KEY2)
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
        .acl(acl::KEYSPACE)
        .group(Group::Generic)
        .since("6.2.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("idletime", 3, object_idletime)
        .flags(READONLY)
        .acl(acl::KEYSPACE)
        .keys(KEY2)
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
        .acl(acl::KEYSPACE)
        .keys(KEY2)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the reference count of a value of a key.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
];

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, memory_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("usage", -3, memory_usage)
        .flags(READONLY)
        .keys(KEY2)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "Estimates the memory usage of a key.",
            "O(N) where N is the number of samples.",
        )
        .syntax("key:key [SAMPLES count:integer]"),
];

/// OBJECT and MEMORY.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::container("object", OBJECT_SUBCOMMANDS)
        .group(Group::Generic)
        .since("2.2.3")
        .doc(
            "A container for object introspection commands.",
            "Depends on subcommand.",
        ),
    CommandSpec::container("memory", MEMORY_SUBCOMMANDS)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "A container for memory diagnostics commands.",
            "Depends on subcommand.",
        ),
];
