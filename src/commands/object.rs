//! OBJECT (Redis's object.c objectCommand): ENCODING, REFCOUNT, IDLETIME, FREQ and HELP,
//! introspecting a key's value without touching its access time.

use crate::command::{
    acl, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::commands::connection::reply_help;
use crate::types::object::{RObj, RString, Value, SHARED_INTEGERS, SHARED_REFCOUNT};

/// The object at `key` without lazy-expiry side effects beyond expiring it, nor LRU updates
/// (lookupKeyReadWithFlags with LOOKUP_NOTOUCH).
fn peek<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c RObj> {
    if ctx.expire_if_needed(key) {
        return None;
    }
    let db = ctx.client.db;
    ctx.srv.dbs[db].keys.get(key)
}

fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    match peek(ctx, key).map(|o| o.value.encoding()) {
        Some(e) => ctx.reply().bulk(e.as_bytes()),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let rc = peek(ctx, key).map(|o| match &o.value {
        Value::Str(RString::Int(n)) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
        _ => 1,
    });
    match rc {
        Some(n) => ctx.reply().int(n),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let now = ctx.srv.lruclock;
    let Some(lru) = peek(ctx, key).map(|o| o.lru) else {
        ctx.reply().null();
        return Ok(());
    };
    if ctx.srv.config.maxmemory_policy.is_lfu() {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let idle_ms = if now >= lru {
        (now - lru) as i64
    } else {
        (now as i64) + (crate::server::LRU_CLOCK_MAX as i64 - lru as i64)
    } * crate::server::LRU_CLOCK_RESOLUTION_MS;
    ctx.reply().int(idle_ms / 1000);
    Ok(())
}

fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let Some(lru) = peek(ctx, key).map(|o| o.lru) else {
        ctx.reply().null();
        return Ok(());
    };
    if !ctx.srv.config.maxmemory_policy.is_lfu() {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
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

const RO_KEY2: &[KeySpec] = &[KeySpec::one(2, kf::RO)];

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, object_encoding)
        .flags(READONLY)
        .acl(acl::KEYSPACE)
        .keys(RO_KEY2)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the internal encoding of a Redis object.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("freq", 3, object_freq)
        .flags(READONLY)
        .acl(acl::KEYSPACE)
        .keys(RO_KEY2)
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
        .keys(RO_KEY2)
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
        .keys(RO_KEY2)
        .group(Group::Generic)
        .since("2.2.3")
        .doc("Returns the reference count of a value of a key.", "O(1)")
        .syntax("key:key")
        .tips(&["nondeterministic_output"]),
];

/// OBJECT.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec::container("object", OBJECT_SUBCOMMANDS)
    .group(Group::Generic)
    .since("2.2.3")
    .doc(
        "A container for object introspection commands.",
        "Depends on subcommand.",
    )];
