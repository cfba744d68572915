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
        Value::Stream(s) => s.mem_usage(),
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

/// MEMORY DOCTOR: the report of a healthy or nearly empty instance (the issue detector's
/// heuristics are not reproduced).
fn memory_doctor(ctx: &mut Ctx) -> CmdResult {
    let used = crate::alloc::used_memory();
    let text = if used < 1024 * 1024 * 5 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
    };
    ctx.reply().verbatim(text.as_bytes(), "txt");
    Ok(())
}

/// MEMORY STATS: the main counters of Redis's getMemoryOverheadData.
fn memory_stats(ctx: &mut Ctx) -> CmdResult {
    let used = crate::alloc::used_memory() as i64;
    let peak = (ctx.srv.stats.peak_memory as i64).max(used);
    let startup = ctx.srv.startup_memory as i64;
    let keys: usize = ctx.srv.dbs.iter().map(|d| d.keys.len()).sum();
    let dataset = (used - startup).max(0);
    let ints: [(&str, i64); 11] = [
        ("peak.allocated", peak),
        ("total.allocated", used),
        ("startup.allocated", startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", 0),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
        ("overhead.total", startup),
    ];
    let r = ctx.reply();
    r.map_len(ints.len() + 5);
    for (k, v) in ints {
        r.bulk(k.as_bytes());
        r.int(v);
    }
    r.bulk(b"keys.count");
    r.int(keys as i64);
    r.bulk(b"keys.bytes-per-key");
    r.int(if keys > 0 { dataset / keys as i64 } else { 0 });
    r.bulk(b"dataset.bytes");
    r.int(dataset);
    r.bulk(b"dataset.percentage");
    r.double(dataset as f64 * 100.0 / used.max(1) as f64);
    r.bulk(b"peak.percentage");
    r.double(used as f64 * 100.0 / peak.max(1) as f64);
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx) -> CmdResult {
    ctx.reply()
        .bulk(b"Stats not supported for the current allocator");
    Ok(())
}

fn memory_purge(ctx: &mut Ctx) -> CmdResult {
    ctx.reply().ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "memory",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
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
    CommandSpec::new("doctor", 2, memory_doctor)
        .group(Group::Server)
        .since("4.0.0")
        .doc("Outputs a memory problems report.", "O(1)")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
    CommandSpec::new("malloc-stats", 2, memory_malloc_stats)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "Returns the allocator statistics.",
            "Depends on how much memory is allocated, could be slow",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
    CommandSpec::new("purge", 2, memory_purge)
        .group(Group::Server)
        .since("4.0.0")
        .doc(
            "Asks the allocator to release memory.",
            "Depends on how much memory is allocated, could be slow",
        )
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("stats", 2, memory_stats)
        .group(Group::Server)
        .since("4.0.0")
        .doc("Returns details about memory usage.", "O(1)")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
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
