//! Cluster commands (Redis's cluster.c commands): CLUSTER and its subcommands, ASKING,
//! READONLY and READWRITE. Redust runs standalone only, like a Redis with
//! `cluster-enabled no`, where each of these answers that cluster support is disabled; the
//! table entries still carry Redis's flags, so COMMAND, ACL rules and scripts see them as
//! Redis declares them.

use crate::command::{acl, flags::*, CmdError, CmdResult, CommandSpec, Ctx, Group};

fn cluster_disabled(_ctx: &mut Ctx) -> CmdResult {
    Err(CmdError::err("This instance has cluster support disabled"))
}

static CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("addslots", -3, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Assign new hash slots to receiving node", "O(N) where N is the total number of hash slot arguments").syntax("slot:integer..."),
    CommandSpec::new("addslotsrange", -4, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("7.0.0").doc("Assign new hash slots to receiving node", "O(N) where N is the total number of the slots between the start slot and end slot arguments.").syntax("(start-slot:integer end-slot:integer)..."),
    CommandSpec::new("bumpepoch", 2, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Advance the cluster config epoch", "O(1)").tips(&["nondeterministic_output"]),
    CommandSpec::new("count-failure-reports", 3, cluster_disabled).flags(ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Return the number of failure reports active for a given node", "O(N) where N is the number of failure reports").syntax("node-id:string").tips(&["nondeterministic_output"]),
    CommandSpec::new("countkeysinslot", 3, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Return the number of local keys in the specified hash slot", "O(1)").syntax("slot:integer"),
    CommandSpec::new("delslots", -3, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Set hash slots as unbound in receiving node", "O(N) where N is the total number of hash slot arguments").syntax("slot:integer..."),
    CommandSpec::new("delslotsrange", -4, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("7.0.0").doc("Set hash slots as unbound in receiving node", "O(N) where N is the total number of the slots between the start slot and end slot arguments.").syntax("(start-slot:integer end-slot:integer)..."),
    CommandSpec::new("failover", -2, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Forces a replica to perform a manual failover of its master.", "O(1)").syntax("[options=(FORCE|TAKEOVER)]"),
    CommandSpec::new("flushslots", 2, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Delete a node's own slots information", "O(1)"),
    CommandSpec::new("forget", 3, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Remove a node from the nodes table", "O(1)").syntax("node-id:string"),
    CommandSpec::new("getkeysinslot", 4, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Return local key names in the specified hash slot", "O(log(N)) where N is the number of requested keys").syntax("slot:integer count:integer").tips(&["nondeterministic_output"]),
    CommandSpec::new("help", 2, cluster_disabled).flags(LOADING | STALE).group(Group::Cluster).since("5.0.0").doc("Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("info", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Provides info about Redis Cluster node state", "O(1)").tips(&["nondeterministic_output"]),
    CommandSpec::new("keyslot", 3, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Returns the hash slot of the specified key", "O(N) where N is the number of bytes in the key").syntax("key:string"),
    CommandSpec::new("links", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("7.0.0").doc("Returns a list of all TCP links to and from peer nodes in cluster", "O(N) where N is the total number of Cluster nodes").tips(&["nondeterministic_output"]),
    CommandSpec::new("meet", -4, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Force a node cluster to handshake with another node", "O(1)").syntax("ip:string port:integer [cluster_bus_port:integer]"),
    CommandSpec::new("myid", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Return the node id", "O(1)"),
    CommandSpec::new("nodes", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Get Cluster config for the node", "O(N) where N is the total number of Cluster nodes").tips(&["nondeterministic_output"]),
    CommandSpec::new("replicas", 3, cluster_disabled).flags(ADMIN | STALE).group(Group::Cluster).since("5.0.0").doc("List replica nodes of the specified master node", "O(1)").syntax("node-id:string").tips(&["nondeterministic_output"]),
    CommandSpec::new("replicate", 3, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Reconfigure a node as a replica of the specified master node", "O(1)").syntax("node-id:string"),
    CommandSpec::new("reset", -2, cluster_disabled).flags(ADMIN | STALE | NOSCRIPT).group(Group::Cluster).since("3.0.0").doc("Reset a Redis Cluster node", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.").syntax("[hard_soft=(HARD|SOFT)]"),
    CommandSpec::new("saveconfig", 2, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Forces the node to save cluster state on disk", "O(1)"),
    CommandSpec::new("set-config-epoch", 3, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Set the configuration epoch in a new node", "O(1)").syntax("config-epoch:integer"),
    CommandSpec::new("setslot", -4, cluster_disabled).flags(NO_ASYNC_LOADING | ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("Bind a hash slot to a specific node", "O(1)"),
    CommandSpec::new("shards", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("7.0.0").doc("Get array of cluster slots to node mappings", "O(N) where N is the total number of cluster nodes").tips(&["nondeterministic_output"]),
    CommandSpec::new("slaves", 3, cluster_disabled).flags(ADMIN | STALE).group(Group::Cluster).since("3.0.0").doc("List replica nodes of the specified master node", "O(1)").syntax("node-id:string").tips(&["nondeterministic_output"]),
    CommandSpec::new("slots", 2, cluster_disabled).flags(STALE).group(Group::Cluster).since("3.0.0").doc("Get array of Cluster slot to node mappings", "O(N) where N is the total number of Cluster nodes").tips(&["nondeterministic_output"]),
];

/// Cluster commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::container("cluster", CLUSTER_SUBCOMMANDS)
        .group(Group::Cluster)
        .since("3.0.0")
        .doc("A container for cluster commands", "Depends on subcommand."),
    CommandSpec::new("asking", 1, cluster_disabled)
        .flags(FAST)
        .acl(acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .doc("Sent by cluster clients after an -ASK redirect", "O(1)"),
    CommandSpec::new("readonly", 1, cluster_disabled)
        .flags(FAST | LOADING | STALE)
        .acl(acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .doc(
            "Enables read queries for a connection to a cluster replica node",
            "O(1)",
        ),
    CommandSpec::new("readwrite", 1, cluster_disabled)
        .flags(FAST | LOADING | STALE)
        .acl(acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .doc(
            "Disables read queries for a connection to a cluster replica node",
            "O(1)",
        ),
];
