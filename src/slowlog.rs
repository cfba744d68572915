//! The slow log: the last `slowlog-max-len` commands that took longer than
//! `slowlog-log-slower-than` microseconds, with Redis's entry shape and argument trimming.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::Client;
use crate::config::Config;

/// Arguments kept per entry (the last one says how many more there were).
pub const ENTRY_MAX_ARGC: usize = 32;
/// Bytes kept per argument.
pub const ENTRY_MAX_STRING: usize = 128;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub argv: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

/// The log, newest first.
#[derive(Debug, Default)]
pub struct SlowLog {
    pub entries: VecDeque<SlowLogEntry>,
    pub next_id: u64,
}

impl SlowLog {
    /// Record a command if it was slow enough (Redis's slowlogPushEntryIfNeeded).
    pub fn push_if_needed(&mut self, cfg: &Config, c: &Client, argv: &[Bytes], duration_us: u64, now_s: i64) {
        let threshold = cfg.slowlog_log_slower_than;
        if threshold < 0 || (duration_us as i64) < threshold {
            return;
        }
        let n = argv.len().min(ENTRY_MAX_ARGC);
        let mut args = Vec::with_capacity(n);
        for (j, a) in argv.iter().take(n).enumerate() {
            if n != argv.len() && j == n - 1 {
                args.push(format!("... ({} more arguments)", argv.len() - n + 1).into_bytes());
            } else if a.len() > ENTRY_MAX_STRING {
                let mut s = a[..ENTRY_MAX_STRING].to_vec();
                s.extend_from_slice(format!("... ({} more bytes)", a.len() - ENTRY_MAX_STRING).as_bytes());
                args.push(s);
            } else {
                args.push(a.to_vec());
            }
        }
        self.entries.push_front(SlowLogEntry {
            id: self.next_id,
            time: now_s,
            duration_us,
            argv: args,
            peer: c.addr.clone(),
            name: c.name.as_ref().map(|n| n.to_vec()).unwrap_or_default(),
        });
        self.next_id += 1;
        self.trim(cfg.slowlog_max_len as usize);
    }

    /// Drop entries past `max_len`.
    pub fn trim(&mut self, max_len: usize) {
        while self.entries.len() > max_len {
            self.entries.pop_back();
        }
    }
}
