//! Command families, one file each, as Redis groups them. [`ALL`] is what the command table is
//! built from.

pub mod bitops;
pub mod connection;
pub mod debug;
pub mod keyspace;
pub mod multi;
pub mod pubsub;
pub mod server;
pub mod string;

use crate::command::CommandSpec;

/// Every family's commands.
pub static ALL: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    debug::COMMANDS,
    keyspace::COMMANDS,
    string::COMMANDS,
    bitops::COMMANDS,
    multi::COMMANDS,
    pubsub::COMMANDS,
];
