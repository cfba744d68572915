//! Persistence: the RDB format ([`rdb`]) and the persistence state INFO reports.

pub mod rdb;

use crate::server::Server;

/// Persistence bookkeeping (INFO persistence, fork statistics).
#[derive(Debug, Default)]
pub struct PersistenceState {
    pub last_save_ok: bool,
    pub saves: u64,
    pub latest_fork_usec: u64,
    pub total_forks: u64,
    pub last_bgsave_time_sec: i64,
    pub loading: bool,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
}

/// The `# Persistence` section of INFO.
pub fn info_persistence(srv: &Server) -> String {
    let p = &srv.persistence;
    format!(
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        p.loading as u8,
        srv.dirty,
        srv.lastsave,
        if p.last_save_ok { "ok" } else { "err" },
        p.last_bgsave_time_sec,
        p.saves,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
    )
}
