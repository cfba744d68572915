//! Redust: a Redis 7.0 compatible server. The `redust-server` binary (src/main.rs) is a thin
//! front end over this library; see ARCHITECTURE.md for the map of modules.

pub mod acl;
pub mod alloc;
pub mod blocking;
pub mod client;
pub mod command;
pub mod commands;
pub mod config;
pub mod config_apply;
pub mod crash;
pub mod db;
pub mod dispatch;
pub mod event_loop;
pub mod evict;
pub mod info;
pub mod latency;
pub mod lazyfree;
pub mod log;
pub mod persistence;
pub mod propagate;
pub mod replication;
pub mod resp;
pub mod scripting;
pub mod server;
pub mod slowlog;
pub mod tracking;
pub mod types;
pub mod util;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// The Redis version we implement and report (clients and the Tcl suite gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";
