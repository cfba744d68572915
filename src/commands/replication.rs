//! Replication commands (Redis's replication.c commands): SYNC, PSYNC, REPLCONF, REPLICAOF,
//! SLAVEOF, ROLE, WAIT, FAILOVER. The machinery they drive lives in `crate::replication`.

use crate::command::{acl, flags::*, CmdResult, CommandSpec, Ctx, Group};

fn sync(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.sync_command(ctx.client, ctx.argv)
}

fn replconf(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.replconf_command(ctx.client, ctx.argv)
}

fn replicaof(ctx: &mut Ctx) -> CmdResult {
    crate::replication::replica::replicaof_command(ctx)
}

fn role(ctx: &mut Ctx) -> CmdResult {
    crate::replication::replica::role_command(ctx)
}

fn wait(ctx: &mut Ctx) -> CmdResult {
    crate::server::Server::wait_command(ctx)
}

fn failover(ctx: &mut Ctx) -> CmdResult {
    crate::replication::failover::failover_command(ctx)
}

const REPLICAOF_SYNTAX: &str = "args=(host-port=(host:string port:integer)|no-one=(NO ONE))";

/// Replication commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sync", 1, sync)
        .flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT)
        .group(Group::Server)
        .doc("Internal command used for replication", ""),
    CommandSpec::new("psync", -3, sync)
        .flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT)
        .group(Group::Server)
        .since("2.8.0")
        .doc("Internal command used for replication", "")
        .syntax("replicationid:string offset:integer"),
    CommandSpec::new("replconf", -1, replconf)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .group(Group::Server)
        .since("3.0.0")
        .doc("An internal command for configuring the replication stream", "O(1)"),
    CommandSpec::new("replicaof", 3, replicaof)
        .flags(NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE)
        .group(Group::Server)
        .since("5.0.0")
        .doc(
            "Make the server a replica of another instance, or promote it as master.",
            "O(1)",
        )
        .syntax(REPLICAOF_SYNTAX),
    CommandSpec::new("slaveof", 3, replicaof)
        .flags(NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE)
        .group(Group::Server)
        .doc(
            "Make the server a replica of another instance, or promote it as master.",
            "O(1)",
        )
        .syntax(REPLICAOF_SYNTAX),
    CommandSpec::new("role", 1, role)
        .flags(NOSCRIPT | LOADING | STALE | FAST | SENTINEL)
        .acl(acl::ADMIN | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.8.12")
        .doc(
            "Return the role of the instance in the context of replication",
            "O(1)",
        ),
    CommandSpec::new("wait", 3, wait)
        .flags(NOSCRIPT)
        .acl(acl::CONNECTION)
        .group(Group::Generic)
        .since("3.0.0")
        .doc(
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
            "O(1)",
        )
        .syntax("numreplicas:integer timeout:integer")
        .tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    CommandSpec::new("failover", -1, failover)
        .flags(ADMIN | NOSCRIPT | STALE)
        .group(Group::Server)
        .since("6.2.0")
        .doc(
            "Start a coordinated failover between this server and one of its replicas.",
            "O(1)",
        )
        .syntax("[TO host:string port:integer [FORCE]] [ABORT] [TIMEOUT milliseconds:integer]"),
];
