//! Background saving: BGSAVE forks a child that writes the snapshot of the parent's memory as
//! it was at fork time (copy-on-write), while the parent keeps serving. The parent reaps the
//! child from cron and records success or failure; save points (`save <secs> <changes>`)
//! trigger BGSAVE from cron too.
//!
//! The child only reads its copy of the dataset and writes a file: it touches no client
//! socket, logs without locks (see `log`), and leaves with `_exit`.

use std::time::Instant;

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use crate::server::Server;

/// Seconds to wait before retrying a failed automatic BGSAVE (CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY: i64 = 5;

/// The running child, if any.
#[derive(Debug)]
pub struct Child {
    pub pid: Pid,
    pub started: Instant,
    /// `dirty` when the child forked: changes after that are still unsaved when it finishes.
    pub dirty_at_fork: u64,
}

/// Background-save state.
#[derive(Debug, Default)]
pub struct BgSave {
    pub child: Option<Child>,
    /// BGSAVE SCHEDULE (or a BGSAVE inside MULTI) asked for a save once possible.
    pub scheduled: bool,
    /// Unix time of the last BGSAVE attempt (for the retry delay).
    pub last_try: i64,
    pub last_status_ok: bool,
}

impl Server {
    /// True while a fork child (BGSAVE) runs.
    pub fn has_active_child(&self) -> bool {
        self.bgsave.child.is_some()
    }

    /// Fork a child writing the RDB snapshot (Redis's rdbSaveBackground).
    pub fn bgsave(&mut self) -> Result<(), String> {
        if self.has_active_child() {
            return Err("Background save already in progress".into());
        }
        self.bgsave.last_try = self.now_ms / 1000;
        let start = Instant::now();
        // SAFETY: this process is single-threaded (no fsync thread exists yet), so the child
        // can use the allocator and everything else it inherited; it ends with _exit.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                crate::log::set_role(b'C');
                self.in_fork_child = true;
                for l in &self.listeners {
                    drop_listener_fd(l);
                }
                let code = match self.write_snapshot_in_child() {
                    Ok(()) => 0,
                    Err(e) => {
                        log::warn!("Write error saving DB on disk: {}", e);
                        1
                    }
                };
                crate::event_loop::exit_now(code);
            }
            Ok(ForkResult::Parent { child }) => {
                let usec = start.elapsed().as_micros() as u64;
                self.persistence.latest_fork_usec = usec;
                self.persistence.total_forks += 1;
                self.latency.add_sample_if_needed(
                    self.config.latency_monitor_threshold,
                    "fork",
                    usec / 1000,
                    self.now_ms / 1000,
                );
                log::info!("Background saving started by pid {}", child);
                self.bgsave.child = Some(Child {
                    pid: child,
                    started: Instant::now(),
                    dirty_at_fork: self.dirty,
                });
                crate::db::dict::set_resize_allowed(false);
                Ok(())
            }
            Err(e) => {
                self.persistence.last_save_ok = false;
                log::warn!("Can't save in background: fork: {}", e);
                Err(format!("Can't save in background: fork: {}", e))
            }
        }
    }

    /// In the child: write temp-<pid>.rdb, fsync, rename over the dump file.
    fn write_snapshot_in_child(&mut self) -> std::io::Result<()> {
        let tmp = format!("temp-{}.rdb", std::process::id());
        let res = (|| {
            let f = std::fs::File::create(&tmp)?;
            let w = crate::persistence::rdb::write_rdb(self, std::io::BufWriter::new(f))?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.config.dbfilename)
        })();
        match &res {
            Ok(()) => log::info!("DB saved on disk"),
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        res
    }

    /// Reap a finished child (from cron): record the outcome as Redis's
    /// backgroundSaveDoneHandler does.
    pub fn check_child_done(&mut self) {
        let Some(child) = &self.bgsave.child else {
            return;
        };
        let pid = child.pid;
        let status = match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => return,
            Ok(s) => s,
            Err(e) => {
                log::warn!(
                    "waitpid() returned an error: {}. child_type: RDB, child_pid = {}",
                    e,
                    pid
                );
                return;
            }
        };
        let child = self.bgsave.child.take().expect("checked above");
        let secs = child.started.elapsed().as_secs() as i64;
        self.persistence.last_bgsave_time_sec = secs;
        match status {
            WaitStatus::Exited(_, 0) => {
                log::info!("Background saving terminated with success");
                self.dirty = self.dirty.saturating_sub(child.dirty_at_fork);
                self.lastsave = self.now_ms / 1000;
                self.persistence.last_save_ok = true;
                self.persistence.saves += 1;
            }
            WaitStatus::Exited(..) => {
                log::warn!("Background saving error");
                self.persistence.last_save_ok = false;
            }
            WaitStatus::Signaled(_, sig, _) => {
                log::warn!("Background saving terminated by signal {}", sig as i32);
                let _ = std::fs::remove_file(format!("temp-{}.rdb", pid));
                // A kill we asked for (SIGUSR1) is not an error, as in Redis.
                if sig != nix::sys::signal::Signal::SIGUSR1 {
                    self.persistence.last_save_ok = false;
                }
            }
            _ => {}
        }
        crate::db::dict::set_resize_allowed(true);
    }

    /// Stop a running BGSAVE child and remove its temp file (SHUTDOWN, FLUSHALL).
    pub fn kill_rdb_child(&mut self) {
        if let Some(child) = self.bgsave.child.take() {
            let _ = nix::sys::signal::kill(child.pid, nix::sys::signal::Signal::SIGUSR1);
            let _ = waitpid(child.pid, None);
            let _ = std::fs::remove_file(format!("temp-{}.rdb", child.pid));
            crate::db::dict::set_resize_allowed(true);
        }
    }

    /// Save points and scheduled saves (from cron).
    pub fn save_points_cron(&mut self) {
        self.check_child_done();
        if self.has_active_child() {
            return;
        }
        let now = self.now_ms / 1000;
        if self.bgsave.scheduled {
            self.bgsave.scheduled = false;
            let _ = self.bgsave();
            return;
        }
        let retry_ok =
            self.persistence.last_save_ok || now - self.bgsave.last_try > BGSAVE_RETRY_DELAY;
        let due = self
            .config
            .save
            .iter()
            .find(|sp| {
                self.dirty >= sp.changes as u64 && now - self.lastsave > sp.seconds && retry_ok
            })
            .map(|sp| (sp.changes, sp.seconds));
        if let Some((changes, secs)) = due {
            log::info!("{} changes in {} seconds. Saving...", changes, secs);
            let _ = self.bgsave();
        }
    }

    /// MISCONF: writes are refused while the last background save failed and save points
    /// exist (stop-writes-on-bgsave-error).
    pub fn writes_denied_by_disk_error(&self) -> bool {
        self.config.stop_writes_on_bgsave_error
            && !self.config.save.is_empty()
            && !self.persistence.last_save_ok
    }
}

fn drop_listener_fd(l: &crate::event_loop::Listener) {
    use std::os::fd::AsRawFd;
    let fd = match l {
        crate::event_loop::Listener::Tcp(t, _) => t.as_raw_fd(),
        crate::event_loop::Listener::Unix(u, _) => u.as_raw_fd(),
    };
    // SAFETY: the child closes its copy of a listening socket it will never use, so the
    // parent can rebind the port while the child runs; the fd is not used afterwards.
    unsafe { libc::close(fd) };
}
