//! Persistence: the RDB format ([`rdb`]) and the persistence state INFO reports.

pub mod aof;
pub mod bgsave;
pub mod bio;
pub mod childinfo;
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
    pub loading_start_time: i64,
    pub loading_total_bytes: u64,
    pub loading_loaded_bytes: u64,
    /// Replication info from the aux fields of the last RDB loaded.
    pub loaded_rsi: Option<rdb::RdbSaveInfo>,
    /// The fork child's progress and the last children's copy-on-write sizes.
    pub child_stats: childinfo::ChildStats,
}

/// The `# Persistence` section of INFO.
pub fn info_persistence(srv: &Server) -> String {
    let p = &srv.persistence;
    let mut s = persistence_fields(srv);
    if p.loading {
        let elapsed = (srv.now_ms / 1000 - p.loading_start_time).max(0);
        let perc = if p.loading_total_bytes > 0 {
            p.loading_loaded_bytes as f64 * 100.0 / p.loading_total_bytes as f64
        } else {
            0.0
        };
        let eta = if p.loading_loaded_bytes > 0 {
            let rate = p.loading_loaded_bytes as f64 / elapsed.max(1) as f64;
            ((p.loading_total_bytes - p.loading_loaded_bytes) as f64 / rate) as i64
        } else {
            1
        };
        s.push_str(&format!(
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{:.2}\r\nloading_eta_seconds:{}\r\n",
            p.loading_start_time, p.loading_total_bytes, p.loading_loaded_bytes, perc, eta
        ));
    }
    s
}

fn persistence_fields(srv: &Server) -> String {
    let p = &srv.persistence;
    let cs = &p.child_stats;
    format!(
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{}\r\ncurrent_cow_size:{}\r\ncurrent_cow_size_age:{}\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n{}",
        p.loading as u8,
        cs.current_cow_peak,
        cs.current_cow_bytes,
        if cs.current_cow_updated_ms == 0 {
            0
        } else {
            (crate::server::mstime() as u64).saturating_sub(cs.current_cow_updated_ms) / 1000
        },
        cs.fork_perc(),
        cs.current_save_keys_processed,
        cs.current_save_keys_total,
        srv.dirty,
        srv.bgsave.child.as_ref().is_some_and(|c| c.kind != bgsave::ChildKind::AofRewrite) as u8,
        srv.lastsave,
        if p.last_save_ok { "ok" } else { "err" },
        p.last_bgsave_time_sec,
        srv.bgsave
            .child
            .as_ref()
            .filter(|c| c.kind != bgsave::ChildKind::AofRewrite)
            .map(|c| c.started.elapsed().as_secs() as i64)
            .unwrap_or(-1),
        p.saves,
        cs.rdb_last_cow_size,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
        srv.info_aof(),
    )
}
