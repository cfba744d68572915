//! Command families, one file each, as Redis groups them. [`ALL`] is what the command table is
//! built from.

pub mod connection;
pub mod debug;
pub mod hash;
pub mod keyspace;
pub mod multi;
pub mod object;
pub mod pubsub;
pub mod scan;
pub mod server;
pub mod set;
pub mod string;

use crate::command::CommandSpec;

/// Every family's commands.
pub static ALL: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    debug::COMMANDS,
    keyspace::COMMANDS,
    string::COMMANDS,
    multi::COMMANDS,
    pubsub::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    object::COMMANDS,
];
