//! Scripting commands (Redis's eval.c and functions.c commands): EVAL, EVALSHA and their
//! read-only forms, SCRIPT, FCALL, FCALL_RO and FUNCTION. The engine behind them lives in
//! `crate::scripting`.

use crate::command::{acl, flags::*, keyflags as kf, CmdResult, CommandSpec, Ctx, Group, KeySpec};
use crate::scripting::{eval, function};

/// The keys of EVAL / FCALL: numkeys at 2, then that many keys. Scripts may do anything
/// with them, so assume the worst.
const SCRIPT_KEYS_RW: &[KeySpec] = &[KeySpec::keynum(
    2,
    0,
    1,
    1,
    kf::RW | kf::ACCESS | kf::UPDATE,
)];
const SCRIPT_KEYS_RO: &[KeySpec] = &[KeySpec::keynum(2, 0, 1, 1, kf::RO | kf::ACCESS)];

const SCRIPT_FLAGS: u64 = NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE;
const SCRIPT_RO_FLAGS: u64 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY;
const S: u64 = acl::SCRIPTING;

fn script_help(ctx: &mut Ctx) -> CmdResult {
    const HELP: &[&str] = &[
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ];
    crate::commands::connection::reply_help(ctx.reply(), "SCRIPT", HELP);
    Ok(())
}

const EVAL_SYNTAX: &str = "script:string numkeys:integer [key:key...] [arg:string...]";
const EVALSHA_SYNTAX: &str = "sha1:string numkeys:integer [key:key...] [arg:string...]";
const FCALL_SYNTAX: &str = "function:string numkeys:integer [key:key...] [arg:string...]";

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", 3, eval::script_debug).flags(NOSCRIPT).acl(S).group(Group::Scripting).since("3.2.0").doc("Set the debug mode for executed scripts.", "O(1)").syntax("mode=(YES|SYNC|NO)"),
    CommandSpec::new("exists", -3, eval::script_exists).flags(NOSCRIPT).acl(S).group(Group::Scripting).since("2.6.0").doc("Check existence of scripts in the script cache.", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).").syntax("sha1:string...").tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
    CommandSpec::new("flush", -2, eval::script_flush).flags(NOSCRIPT).acl(S).group(Group::Scripting).since("2.6.0").doc("Remove all the scripts from the script cache.", "O(N) with N being the number of scripts in cache").syntax("[async=(ASYNC|SYNC)]").tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, script_help).flags(LOADING | STALE).acl(S).group(Group::Scripting).since("5.0.0").doc("Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("kill", 2, eval::script_kill).flags(NOSCRIPT | ALLOW_BUSY).acl(S).group(Group::Scripting).since("2.6.0").doc("Kill the script currently in execution.", "O(1)").tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new("load", 3, eval::script_load).flags(NOSCRIPT | STALE).acl(S).group(Group::Scripting).since("2.6.0").doc("Load the specified Lua script into the script cache.", "O(N) with N being the length in bytes of the script body.").syntax("script:string").tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, function::function_delete)
        .flags(NOSCRIPT | WRITE)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc("Delete a function by name", "O(1)")
        .syntax("library-name:string")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("dump", 2, function::function_dump)
        .flags(NOSCRIPT)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Dump all functions into a serialized binary payload",
            "O(N) where N is the number of functions",
        ),
    CommandSpec::new("flush", -2, function::function_flush)
        .flags(NOSCRIPT | WRITE)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Deleting all functions",
            "O(N) where N is the number of functions deleted",
        )
        .syntax("[async=(ASYNC|SYNC)]")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, function::function_help)
        .flags(LOADING | STALE)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc("Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("kill", 2, function::function_kill)
        .flags(NOSCRIPT | ALLOW_BUSY)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc("Kill the function currently in execution.", "O(1)")
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new("list", -2, function::function_list)
        .flags(NOSCRIPT)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "List information about all the functions",
            "O(N) where N is the number of functions",
        )
        .syntax("[LIBRARYNAME library-name-pattern:string] [withcode=WITHCODE]")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("load", -3, function::function_load)
        .flags(NOSCRIPT | WRITE | DENYOOM)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Create a function with the given arguments (name, code, description)",
            "O(1) (considering compilation time is redundant)",
        )
        .syntax("[replace=REPLACE] function-code:string")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("restore", -3, function::function_restore)
        .flags(NOSCRIPT | WRITE | DENYOOM)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Restore all the functions on the given payload",
            "O(N) where N is the number of functions on the payload",
        )
        .syntax("serialized-value:string [policy=(FLUSH|APPEND|REPLACE)]")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("stats", 2, function::function_stats)
        .flags(NOSCRIPT | ALLOW_BUSY)
        .acl(S)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Return information about the function currently running (name, description, duration)",
            "O(1)",
        )
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
];

/// Scripting commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, eval::eval)
        .flags(SCRIPT_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RW)
        .group(Group::Scripting)
        .since("2.6.0")
        .doc(
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax(EVAL_SYNTAX),
    CommandSpec::new("evalsha", -3, eval::evalsha)
        .flags(SCRIPT_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RW)
        .group(Group::Scripting)
        .since("2.6.0")
        .doc(
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax(EVALSHA_SYNTAX),
    CommandSpec::new("eval_ro", -3, eval::eval_ro)
        .flags(SCRIPT_RO_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RO)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax(EVAL_SYNTAX),
    CommandSpec::new("evalsha_ro", -3, eval::evalsha_ro)
        .flags(SCRIPT_RO_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RO)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax(EVALSHA_SYNTAX),
    CommandSpec::new("fcall", -3, function::fcall)
        .flags(SCRIPT_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RW)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Invoke a function",
            "Depends on the function that is executed.",
        )
        .syntax(FCALL_SYNTAX),
    CommandSpec::new("fcall_ro", -3, function::fcall_ro)
        .flags(SCRIPT_RO_FLAGS)
        .acl(S)
        .keys(SCRIPT_KEYS_RO)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "Invoke a read-only function",
            "Depends on the function that is executed.",
        )
        .syntax(FCALL_SYNTAX),
    CommandSpec::container("script", SCRIPT_SUBCOMMANDS)
        .group(Group::Scripting)
        .since("2.6.0")
        .doc(
            "A container for Lua scripts management commands",
            "Depends on subcommand.",
        ),
    CommandSpec::container("function", FUNCTION_SUBCOMMANDS)
        .group(Group::Scripting)
        .since("7.0.0")
        .doc(
            "A container for function commands",
            "Depends on subcommand.",
        ),
];
