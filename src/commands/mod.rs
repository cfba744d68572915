//! Command families, one file each, as Redis groups them. [`ALL`] is what the command table is
//! built from.

pub mod acl;
pub mod bitops;
pub mod cluster;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keyspace;
pub mod list;
pub mod migrate;
pub mod multi;
pub mod object;
pub mod pubsub;
pub mod replication;
pub mod scan;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tracking;
pub mod zset;

use crate::command::CommandSpec;

/// Every family's commands.
pub static ALL: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    acl::COMMANDS,
    debug::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    keyspace::COMMANDS,
    object::COMMANDS,
    string::COMMANDS,
    list::COMMANDS,
    bitops::COMMANDS,
    multi::COMMANDS,
    pubsub::COMMANDS,
    replication::COMMANDS,
    zset::COMMANDS,
    sort::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    geo::COMMANDS,
    hyperloglog::COMMANDS,
    scripting::COMMANDS,
    cluster::COMMANDS,
    stream::COMMANDS,
];
