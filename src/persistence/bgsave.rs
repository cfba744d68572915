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

use crate::persistence::childinfo;
use crate::server::Server;

/// Seconds to wait before retrying a failed automatic BGSAVE (CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY: i64 = 5;

/// What a fork child is doing (Redis's child_type / rdb_child_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE to the dump file (also used by disk-based replication).
    RdbDisk,
    /// Diskless replication: the RDB goes into a pipe the parent relays to replicas.
    RdbSocket,
    /// BGREWRITEAOF: a new AOF base file.
    AofRewrite,
}

/// The running child, if any.
#[derive(Debug)]
pub struct Child {
    pub pid: Pid,
    pub started: Instant,
    /// `dirty` when the child forked: changes after that are still unsaved when it finishes.
    pub dirty_at_fork: u64,
    pub kind: ChildKind,
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
    /// The parent's end of the running child's info pipe.
    pub info_fd: Option<std::os::fd::RawFd>,
}

impl Server {
    /// True while a fork child (BGSAVE) runs.
    pub fn has_active_child(&self) -> bool {
        self.bgsave.child.is_some()
    }

    /// Fork a child writing the RDB snapshot to the dump file (Redis's rdbSaveBackground).
    pub fn bgsave(&mut self) -> Result<(), String> {
        self.bgsave_with(ChildKind::RdbDisk)
    }

    /// BGSAVE to the dump file, recorded as a child of `kind`.
    pub fn bgsave_with(&mut self, kind: ChildKind) -> Result<(), String> {
        if self.has_active_child() {
            return Err("Background save already in progress".into());
        }
        self.bgsave.last_try = self.now_ms / 1000;
        let rsi = self.rdb_save_info();
        let res = self.fork_child(kind, move |srv| {
            match srv.write_snapshot_in_child(rsi.as_ref()) {
                Ok(()) => 0,
                Err(e) => {
                    log::warn!("Write error saving DB on disk: {}", e);
                    1
                }
            }
        });
        match res {
            Ok(()) => {
                if let Some(c) = &self.bgsave.child {
                    log::info!("Background saving started by pid {}", c.pid);
                }
                Ok(())
            }
            Err(e) => {
                self.persistence.last_save_ok = false;
                log::warn!("Can't save in background: fork: {}", e);
                Err(format!("Can't save in background: fork: {}", e))
            }
        }
    }

    /// Fork a child that runs `work` on its copy of the server and exits with the code it
    /// returns (Redis's redisFork). The parent records the child and stops dict resizing
    /// (copy-on-write friendliness) until it is reaped.
    pub fn fork_child(
        &mut self,
        kind: ChildKind,
        work: impl FnOnce(&mut Server) -> i32,
    ) -> Result<(), String> {
        if self.has_active_child() {
            return Err("child already active".into());
        }
        let start = Instant::now();
        let pipe = childinfo::open_pipe();
        crate::log::flush();
        // SAFETY: the reactor is the only thread that touches the server; the child only
        // reads its copy of the dataset, writes a file or pipe, and ends with _exit.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                crate::log::set_role(b'C');
                self.in_fork_child = true;
                for l in &self.listeners {
                    drop_listener_fd(l);
                }
                let cfg = self.config.clone();
                let title = match kind {
                    ChildKind::RdbDisk => "redis-rdb-bgsave",
                    ChildKind::RdbSocket => "redis-rdb-to-slaves",
                    ChildKind::AofRewrite => "redis-aof-rewrite",
                };
                crate::util::proctitle::update(&cfg, Some(title));
                crate::config_apply::set_oom_score_adj(
                    self,
                    &cfg,
                    crate::config_apply::OomClass::BgChild,
                );
                if let Some((r, w)) = pipe {
                    childinfo::close(r);
                    self.child_reporter = Some(childinfo::Reporter::new(w));
                }
                let code = work(self);
                if code == 0 {
                    self.send_child_cow_info(kind);
                }
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
                if let Some((r, w)) = pipe {
                    childinfo::close(w);
                    self.bgsave.info_fd = Some(r);
                }
                let stats = &mut self.persistence.child_stats;
                stats.reset_current();
                stats.current_save_keys_total = self.dbs.iter().map(|d| d.len() as u64).sum();
                self.bgsave.child = Some(Child {
                    pid: child,
                    started: Instant::now(),
                    dirty_at_fork: self.dirty,
                    kind,
                });
                crate::db::dict::set_resize_allowed(false);
                Ok(())
            }
            Err(e) => {
                if let Some((r, w)) = pipe {
                    childinfo::close(r);
                    childinfo::close(w);
                }
                Err(e.to_string())
            }
        }
    }

    /// In the child, when its work is done: send the final copy-on-write size
    /// (sendChildCowInfo) and log it.
    fn send_child_cow_info(&self, kind: ChildKind) {
        let Some(rep) = &self.child_reporter else {
            return;
        };
        let (msg, name) = match kind {
            ChildKind::AofRewrite => (childinfo::AOF_COW_SIZE, "AOF rewrite"),
            _ => (childinfo::RDB_COW_SIZE, "RDB"),
        };
        let cow = childinfo::private_dirty_bytes();
        if cow != 0 {
            log::info!(
                "Fork CoW for {}: current {} MB, peak {} MB, average {} MB",
                name,
                cow >> 20,
                cow >> 20,
                cow >> 20
            );
        }
        rep.send(msg, 0);
    }

    /// Read what the child reported through the info pipe (receiveChildInfo).
    pub fn receive_child_info(&mut self) {
        if let Some(fd) = self.bgsave.info_fd {
            childinfo::receive(fd, &mut self.persistence.child_stats);
        }
    }

    /// In the child: write temp-<pid>.rdb, fsync, rename over the dump file.
    fn write_snapshot_in_child(
        &mut self,
        rsi: Option<&crate::persistence::rdb::RdbSaveInfo>,
    ) -> std::io::Result<()> {
        let tmp = format!("temp-{}.rdb", std::process::id());
        let res = (|| {
            let f = std::fs::File::create(&tmp)?;
            let w = crate::persistence::rdb::write_rdb(self, std::io::BufWriter::new(f), rsi)?;
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

    /// Reap a finished child (from cron).
    pub fn check_child_done(&mut self) {
        self.check_child_done_with(None);
    }

    /// Reap a finished child and record the outcome as Redis's backgroundSaveDoneHandler
    /// does; replicas waiting for it are served (`current` is a replica running a command,
    /// out of the slab).
    pub fn check_child_done_with(&mut self, current: Option<&mut crate::client::Client>) {
        let Some(child) = &self.bgsave.child else {
            return;
        };
        let pid = child.pid;
        self.receive_child_info();
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
        self.child_exited(status, current);
    }

    /// Record how the child ended, as Redis's backgroundSaveDoneHandler does, and serve the
    /// replicas that waited for it.
    fn child_exited(&mut self, status: WaitStatus, current: Option<&mut crate::client::Client>) {
        let Some(child) = self.bgsave.child.take() else {
            return;
        };
        let pid = child.pid;
        // The last reports (the final COW size) are in the pipe before the child exits.
        self.receive_child_info();
        if let Some(fd) = self.bgsave.info_fd.take() {
            childinfo::close(fd);
        }
        self.persistence.child_stats.reset_current();
        let ok = matches!(status, WaitStatus::Exited(_, 0));
        if child.kind == ChildKind::AofRewrite {
            crate::db::dict::set_resize_allowed(true);
            let sig = match status {
                WaitStatus::Signaled(_, s, _) => Some(s as i32),
                _ => None,
            };
            self.aof_rewrite_done(pid.as_raw(), ok, sig);
            return;
        }
        let secs = child.started.elapsed().as_secs() as i64;
        self.persistence.last_bgsave_time_sec = secs;
        match (child.kind, status) {
            (ChildKind::RdbDisk, WaitStatus::Exited(_, 0)) => {
                log::info!("Background saving terminated with success");
                self.dirty = self.dirty.saturating_sub(child.dirty_at_fork);
                self.lastsave = self.now_ms / 1000;
                self.persistence.last_save_ok = true;
                self.persistence.saves += 1;
            }
            (ChildKind::RdbDisk, WaitStatus::Exited(..)) => {
                log::warn!("Background saving error");
                self.persistence.last_save_ok = false;
            }
            (ChildKind::RdbDisk, WaitStatus::Signaled(_, sig, _)) => {
                log::warn!("Background saving terminated by signal {}", sig as i32);
                let _ = std::fs::remove_file(format!("temp-{}.rdb", pid));
                // A kill we asked for (SIGUSR1) is not an error, as in Redis.
                if sig != nix::sys::signal::Signal::SIGUSR1 {
                    self.persistence.last_save_ok = false;
                }
            }
            (ChildKind::RdbSocket, WaitStatus::Exited(_, 0)) => {
                log::info!("Background RDB transfer terminated with success")
            }
            (ChildKind::RdbSocket, WaitStatus::Exited(..)) => {
                log::warn!("Background transfer error")
            }
            (ChildKind::RdbSocket, WaitStatus::Signaled(_, sig, _)) => {
                log::warn!("Background transfer terminated by signal {}", sig as i32)
            }
            _ => {}
        }
        if child.kind == ChildKind::RdbSocket {
            crate::event_loop::deregister_rdb_pipe(self);
        }
        crate::db::dict::set_resize_allowed(true);
        self.update_replicas_waiting_bgsave(ok, child.kind, current);
    }

    /// Stop a running BGSAVE child (SIGUSR1, not an error) and reap it (SHUTDOWN, FLUSHALL,
    /// a replica loading a new dataset, the last diskless replica dropping).
    pub fn kill_rdb_child(&mut self) {
        let Some(child) = &self.bgsave.child else {
            return;
        };
        if child.kind == ChildKind::AofRewrite {
            return;
        }
        let pid = child.pid;
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1);
        let status = waitpid(pid, None).unwrap_or(WaitStatus::Signaled(
            pid,
            nix::sys::signal::Signal::SIGUSR1,
            false,
        ));
        self.child_exited(status, None);
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
        if self.repl.rdb_pipe.is_some() {
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
        self.disk_error_message().is_some()
    }

    /// The MISCONF error for writes while persistence fails (writeCommandsDeniedByDiskError
    /// and writeCommandsGetDiskErrorMessage).
    pub fn disk_error_message(&self) -> Option<String> {
        if self.config.stop_writes_on_bgsave_error
            && !self.config.save.is_empty()
            && !self.persistence.last_save_ok
        {
            return Some("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.".to_string());
        }
        self.aof_write_error()
            .map(|e| format!("MISCONF Errors writing to the AOF file: {}", e))
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
