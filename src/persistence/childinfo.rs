//! The child info pipe (Redis's childinfo.c): a fork child reports its progress — keys
//! written so far and the memory copy-on-write has cost — to the parent, which shows it in
//! INFO (`current_cow_size`, `current_save_keys_processed`, `current_fork_perc`, ...) while
//! the child runs, and keeps the child's final copy-on-write size once it is done.
//!
//! Messages are fixed-size records written with one `write` (smaller than `PIPE_BUF`, so
//! atomic); the parent's end is non-blocking and drained from cron. The child side touches
//! nothing but its own copy of the descriptor.

use std::cell::Cell;
use std::os::fd::RawFd;
use std::time::Instant;

/// Progress while the child runs (CHILD_INFO_TYPE_CURRENT_INFO).
pub const CURRENT_INFO: u64 = 0;
/// The final copy-on-write size of an RDB child (CHILD_INFO_TYPE_RDB_COW_SIZE).
pub const RDB_COW_SIZE: u64 = 2;
/// The final copy-on-write size of an AOF rewrite child (CHILD_INFO_TYPE_AOF_COW_SIZE).
pub const AOF_COW_SIZE: u64 = 1;

/// How often the child sends progress while it writes (Redis: about once a second).
pub const REPORT_INTERVAL_MS: u128 = 1000;

const MSG_SIZE: usize = 32;

/// What INFO shows of the running child's progress, and the last child's final COW size.
#[derive(Debug, Default)]
pub struct ChildStats {
    /// Copy-on-write bytes of the running child, as last reported.
    pub current_cow_bytes: u64,
    /// The largest value `current_cow_bytes` took during this child.
    pub current_cow_peak: u64,
    /// When (ms, wall clock) the current COW size was measured; 0 when never.
    pub current_cow_updated_ms: u64,
    /// Keys written by the running child.
    pub current_save_keys_processed: u64,
    /// Keys in the dataset when the child forked.
    pub current_save_keys_total: u64,
    /// COW bytes of the last RDB / AOF rewrite child.
    pub rdb_last_cow_size: u64,
    pub aof_last_cow_size: u64,
}

impl ChildStats {
    /// Forget the previous child's progress (resetChildState), keeping the last COW sizes.
    pub fn reset_current(&mut self) {
        self.current_cow_bytes = 0;
        self.current_cow_peak = 0;
        self.current_cow_updated_ms = 0;
        self.current_save_keys_processed = 0;
        self.current_save_keys_total = 0;
    }

    /// `current_fork_perc`: keys processed as a percentage of the keys at fork time.
    pub fn fork_perc(&self) -> f64 {
        if self.current_save_keys_total == 0 {
            0.0
        } else {
            self.current_save_keys_processed as f64 * 100.0 / self.current_save_keys_total as f64
        }
    }

    /// Apply one message from the child.
    fn apply(&mut self, kind: u64, keys: u64, cow: u64, cow_updated_ms: u64) {
        match kind {
            CURRENT_INFO => {
                self.current_cow_bytes = cow;
                self.current_cow_peak = self.current_cow_peak.max(cow);
                self.current_cow_updated_ms = cow_updated_ms;
                self.current_save_keys_processed = keys;
            }
            RDB_COW_SIZE => self.rdb_last_cow_size = cow,
            AOF_COW_SIZE => self.aof_last_cow_size = cow,
            _ => {}
        }
    }
}

/// Open the pipe before forking: `(read end, write end)`, both close-on-exec, the read end
/// non-blocking. `None` if the pipe cannot be made (the child then reports nothing).
pub fn open_pipe() -> Option<(RawFd, RawFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return None;
    }
    // SAFETY: fcntl on a descriptor we just created.
    unsafe {
        let fl = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    Some((fds[0], fds[1]))
}

/// Close one end of the pipe.
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    unsafe { libc::close(fd) };
}

/// Bytes of this process's memory that are private and dirty — for a fork child, the pages
/// copy-on-write has duplicated (zmalloc_get_private_dirty). 0 when /proc is unavailable.
pub fn private_dirty_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup")
        .or_else(|_| std::fs::read_to_string("/proc/self/smaps"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum::<u64>()
        * 1024
}

/// The child's side: sends progress at most once per [`REPORT_INTERVAL_MS`].
#[derive(Debug)]
pub struct Reporter {
    fd: RawFd,
    last: Cell<Instant>,
}

impl Reporter {
    pub fn new(fd: RawFd) -> Reporter {
        Reporter {
            fd,
            last: Cell::new(Instant::now()),
        }
    }

    /// Report `keys` written so far if a report is due.
    pub fn progress(&self, keys: u64) {
        if self.last.get().elapsed().as_millis() >= REPORT_INTERVAL_MS {
            self.last.set(Instant::now());
            self.send(CURRENT_INFO, keys);
        }
    }

    /// Send a message of `kind` with the current copy-on-write size.
    pub fn send(&self, kind: u64, keys: u64) {
        let cow = private_dirty_bytes();
        let now = crate::server::mstime() as u64;
        let mut msg = [0u8; MSG_SIZE];
        for (i, v) in [kind, keys, cow, now].iter().enumerate() {
            msg[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
        }
        // SAFETY: writing our own buffer to the descriptor we were given; a full pipe or a
        // closed read end only loses this report.
        unsafe { libc::write(self.fd, msg.as_ptr().cast(), MSG_SIZE) };
    }
}

/// The parent's side: read every complete message waiting in the pipe into `stats`.
pub fn receive(fd: RawFd, stats: &mut ChildStats) {
    let mut msg = [0u8; MSG_SIZE];
    loop {
        // SAFETY: reading into our own buffer from the non-blocking read end we own.
        let n = unsafe { libc::read(fd, msg.as_mut_ptr().cast(), MSG_SIZE) };
        if n != MSG_SIZE as isize {
            return;
        }
        let word = |i: usize| u64::from_ne_bytes(msg[i * 8..i * 8 + 8].try_into().expect("8"));
        stats.apply(word(0), word(1), word(2), word(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_the_pipe() {
        let (r, w) = open_pipe().expect("pipe");
        let rep = Reporter::new(w);
        rep.send(CURRENT_INFO, 7);
        rep.send(RDB_COW_SIZE, 9);
        let mut s = ChildStats {
            current_save_keys_total: 14,
            ..Default::default()
        };
        receive(r, &mut s);
        assert_eq!(s.current_save_keys_processed, 7);
        assert_eq!(s.fork_perc(), 50.0);
        assert!(s.current_cow_updated_ms > 0);
        assert!(s.current_cow_peak >= s.current_cow_bytes);
        close(r);
        close(w);
    }
}
