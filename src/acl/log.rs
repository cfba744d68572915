//! The ACL log (ACL LOG): recent denials, newest first. Similar events within a minute
//! (same reason, context, object and user, among the ten newest entries) bump a counter
//! instead of adding entries; `acllog-max-len` bounds the length.

use std::collections::VecDeque;

/// Why access was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the denied command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

impl Context {
    pub fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// One log entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command's full name, the key, the channel, or `AUTH`.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Last update, unix milliseconds.
    pub ctime_ms: i64,
    /// CLIENT LIST line of the last client.
    pub cinfo: String,
}

/// Events further apart than this are not grouped.
const GROUPING_MAX_MS: i64 = 60_000;

/// The log.
#[derive(Debug, Default)]
pub struct AclLog {
    pub entries: VecDeque<Entry>,
}

impl AclLog {
    /// Add an event (addACLLogEntry).
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(10).position(|c| {
            c.reason == e.reason
                && c.context == e.context
                && (c.ctime_ms - e.ctime_ms).abs() <= GROUPING_MAX_MS
                && c.object == e.object
                && c.username == e.username
        });
        match similar {
            Some(i) => {
                let mut m = self.entries.remove(i).expect("matched entry");
                m.cinfo = e.cinfo;
                m.ctime_ms = e.ctime_ms;
                m.count += 1;
                self.entries.push_front(m);
            }
            None => {
                self.entries.push_front(e);
                self.entries.truncate(max_len);
            }
        }
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }
}
