//! The append-only file, Redis 7.0's multi-part AOF: in `appenddirname` a manifest lists a
//! BASE file (a snapshot: RDB when `aof-use-rdb-preamble`, else commands), the INCR files
//! holding every write since (in order), and HISTORY files that a rewrite made obsolete.
//!
//! - Every propagated write is appended (as RESP, with SELECT when the db changes) to an
//!   in-memory buffer, written to the current INCR file before the reactor sleeps, and
//!   fsynced per `appendfsync`: on the reactor for `always`, on the bio thread once a second
//!   for `everysec`.
//! - BGREWRITEAOF first opens a new INCR file for the writes to come, then forks a child that
//!   writes a new BASE; when it succeeds the parent renames it in, turns the older files into
//!   HISTORY and deletes them (unless `aof-disable-auto-gc`).
//! - At start-up the files are loaded in manifest order ([`load`]).
//!
//! The rewrite child only reads its copy of the dataset and writes a file, and exits with
//! `_exit`; it never touches the bio thread.

mod load;
mod manifest;

pub use manifest::{AofInfo, Manifest, ManifestError};

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::bgsave::ChildKind;
use super::bio::Bio;
use crate::server::Server;
use crate::types::object::Value;

/// Items per command when a rewrite writes collections as commands
/// (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;
/// Seconds between logged write errors (AOF_WRITE_LOG_ERROR_RATE).
const WRITE_LOG_ERROR_RATE: i64 = 30;

/// Redis's aof_state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AofState {
    #[default]
    Off,
    On,
    /// Turned on; the first rewrite (the initial BASE) is running.
    WaitRewrite,
}

/// How loading one file or the whole AOF went (Redis's AOF_* codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadResult {
    Ok,
    NotExist,
    Empty,
    OpenErr,
    Failed,
    Truncated,
}

/// The AOF state the server owns.
#[derive(Debug)]
pub struct Aof {
    pub state: AofState,
    pub file: Option<File>,
    pub buf: Vec<u8>,
    pub selected_db: i64,
    pub manifest: Manifest,
    pub last_incr_size: i64,
    pub last_incr_fsync_offset: i64,
    pub current_size: i64,
    pub rewrite_base_size: i64,
    /// Unix time of the last fsync.
    pub last_fsync: i64,
    pub flush_postponed_start: i64,
    pub last_write_ok: bool,
    pub last_write_errno: i32,
    last_write_error_log: i64,
    pub rewrite_scheduled: bool,
    pub rewrite_time_start: i64,
    pub rewrite_time_last: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub delayed_fsync: u64,
    cur_timestamp: i64,
    limit_delay_minutes: i64,
    limit_next_time: i64,
    pub bio: Option<Bio>,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write (tests).
    pub flush_sleep_us: i64,
}

impl Aof {
    /// AOF state at start-up: on when `appendonly yes`.
    pub fn new(on: bool) -> Aof {
        Aof {
            state: if on { AofState::On } else { AofState::Off },
            ..Aof::default()
        }
    }
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            state: AofState::Off,
            file: None,
            buf: Vec::new(),
            selected_db: -1,
            manifest: Manifest::default(),
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            current_size: 0,
            rewrite_base_size: 0,
            last_fsync: 0,
            flush_postponed_start: 0,
            last_write_ok: true,
            last_write_errno: 0,
            last_write_error_log: 0,
            rewrite_scheduled: false,
            rewrite_time_start: -1,
            rewrite_time_last: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            delayed_fsync: 0,
            cur_timestamp: 0,
            limit_delay_minutes: 0,
            limit_next_time: 0,
            bio: None,
            flush_sleep_us: 0,
        }
    }
}

pub(crate) fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// strerror(3) text for an errno.
pub fn strerror(errno: i32) -> String {
    io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Server {
    pub(crate) fn aof_path(&self, name: &str) -> PathBuf {
        Path::new(&self.config.appenddirname).join(name)
    }

    fn aof_bio(&mut self) -> &Bio {
        self.aof.bio.get_or_insert_with(Bio::start)
    }

    /// Is the AOF on, or being turned on?
    #[inline]
    pub fn aof_active(&self) -> bool {
        self.aof.state != AofState::Off
    }

    /// Append a propagated command (Redis's feedAppendOnlyFile). While the AOF is being
    /// turned on, only once the initial rewrite runs (its INCR file takes what follows).
    pub fn aof_feed(&mut self, db: usize, argv: &[Bytes]) {
        let rewriting = self.bgsave.child.as_ref().map(|c| c.kind) == Some(ChildKind::AofRewrite);
        if self.aof.state != AofState::On && !(self.aof.state == AofState::WaitRewrite && rewriting)
        {
            return;
        }
        if self.config.aof_timestamp_enabled {
            let now = self.now_ms / 1000;
            if self.aof.cur_timestamp < now {
                self.aof.cur_timestamp = now;
                self.aof
                    .buf
                    .extend_from_slice(format!("#TS:{}\r\n", now).as_bytes());
            }
        }
        if db as i64 != self.aof.selected_db {
            let d = db.to_string();
            self.aof.buf.extend_from_slice(
                format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{}\r\n", d.len(), d).as_bytes(),
            );
            self.aof.selected_db = db as i64;
        }
        crate::replication::encode_command(&mut self.aof.buf, argv);
    }

    /// Write the buffer to the INCR file and fsync per policy (Redis's flushAppendOnlyFile).
    /// With `everysec`, a write waits (up to 2 s) while a background fsync is in progress,
    /// unless `force`.
    pub fn aof_flush(&mut self, force: bool) {
        use crate::config::AppendFsync;
        if self.aof.file.is_none() {
            return;
        }
        let now = self.now_ms / 1000;
        let policy = self.config.appendfsync;
        let mut sync_in_progress = false;
        if self.aof.buf.is_empty() {
            // Nothing new, but what was written may still need its fsync.
            let unsynced = self.aof.last_incr_fsync_offset != self.aof.last_incr_size;
            let try_sync = match policy {
                AppendFsync::Everysec => {
                    sync_in_progress = self.aof.bio.as_ref().is_some_and(|b| b.pending() > 0);
                    unsynced && now > self.aof.last_fsync && !sync_in_progress
                }
                AppendFsync::Always => unsynced,
                AppendFsync::No => false,
            };
            if try_sync {
                self.aof_try_fsync(sync_in_progress);
            }
            return;
        }
        if policy == AppendFsync::Everysec {
            sync_in_progress = self.aof.bio.as_ref().is_some_and(|b| b.pending() > 0);
            if sync_in_progress && !force {
                if self.aof.flush_postponed_start == 0 {
                    self.aof.flush_postponed_start = now;
                    return;
                } else if now - self.aof.flush_postponed_start < 2 {
                    return;
                }
                self.aof.delayed_fsync += 1;
                log::info!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
            }
        }
        if self.aof.flush_sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(
                self.aof.flush_sleep_us as u64,
            ));
        }
        let start = std::time::Instant::now();
        let file = self.aof.file.as_mut().expect("checked");
        let mut written = 0usize;
        let mut error: Option<io::Error> = None;
        while written < self.aof.buf.len() {
            match file.write(&self.aof.buf[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let ms = start.elapsed().as_millis() as u64;
        let threshold = self.config.latency_monitor_threshold;
        let event = if sync_in_progress {
            "aof-write-pending-fsync"
        } else if self.has_active_child() {
            "aof-write-active-child"
        } else {
            "aof-write-alone"
        };
        self.latency.add_sample_if_needed(threshold, event, ms, now);
        self.latency
            .add_sample_if_needed(threshold, "aof-write", ms, now);
        self.aof.flush_postponed_start = 0;
        if written != self.aof.buf.len() {
            self.aof_write_failed(written, error, policy, now);
            return;
        }
        if !self.aof.last_write_ok {
            log::warn!("AOF write error looks solved, Redis can write again.");
            self.aof.last_write_ok = true;
        }
        self.aof.current_size += written as i64;
        self.aof.last_incr_size += written as i64;
        if self.aof.buf.capacity() < 4000 {
            self.aof.buf.clear();
        } else {
            self.aof.buf = Vec::new();
        }
        self.aof_try_fsync(sync_in_progress);
    }

    /// A write to the AOF failed or was short: log (rate-limited), undo a partial write,
    /// and refuse writes until it succeeds again (or exit with `appendfsync always`).
    fn aof_write_failed(
        &mut self,
        written: usize,
        error: Option<io::Error>,
        policy: crate::config::AppendFsync,
        now: i64,
    ) {
        let can_log = now - self.aof.last_write_error_log > WRITE_LOG_ERROR_RATE;
        if can_log {
            self.aof.last_write_error_log = now;
        }
        let mut kept = written;
        match &error {
            Some(e) if written == 0 => {
                if can_log {
                    log::warn!("Error writing to the AOF file: {}", strerror(errno_of(e)));
                }
                self.aof.last_write_errno = errno_of(e);
            }
            _ => {
                if can_log {
                    log::warn!(
                        "Short write while writing to the AOF file: (nwritten={}, expected={})",
                        written,
                        self.aof.buf.len()
                    );
                }
                // Remove the partial write so the file stays loadable.
                let len = self.aof.last_incr_size as u64;
                let file = self.aof.file.as_mut().expect("checked");
                match file.set_len(len) {
                    Ok(()) => kept = 0,
                    Err(e) => {
                        if can_log {
                            log::warn!("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: {}", strerror(errno_of(&e)));
                        }
                    }
                }
                self.aof.last_write_errno = libc::ENOSPC;
            }
        }
        if policy == crate::config::AppendFsync::Always {
            log::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            crate::event_loop::exit_now(1);
        }
        self.aof.last_write_ok = false;
        if kept > 0 {
            self.aof.current_size += kept as i64;
            self.aof.last_incr_size += kept as i64;
            self.aof.buf.drain(..kept);
        }
    }

    fn aof_try_fsync(&mut self, sync_in_progress: bool) {
        use crate::config::AppendFsync;
        if self.config.no_appendfsync_on_rewrite && self.has_active_child() {
            return;
        }
        let now = self.now_ms / 1000;
        match self.config.appendfsync {
            AppendFsync::Always => {
                let start = std::time::Instant::now();
                if let Some(f) = &self.aof.file {
                    if let Err(e) = f.sync_data() {
                        log::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", strerror(errno_of(&e)));
                        crate::event_loop::exit_now(1);
                    }
                }
                let ms = start.elapsed().as_millis() as u64;
                self.latency.add_sample_if_needed(
                    self.config.latency_monitor_threshold,
                    "aof-fsync-always",
                    ms,
                    now,
                );
                self.aof.last_incr_fsync_offset = self.aof.last_incr_size;
                self.aof.last_fsync = now;
            }
            AppendFsync::Everysec if now > self.aof.last_fsync => {
                if !sync_in_progress {
                    if let Some(dup) = self.aof.file.as_ref().and_then(|f| f.try_clone().ok()) {
                        self.aof_bio().fsync(dup);
                    }
                    self.aof.last_incr_fsync_offset = self.aof.last_incr_size;
                }
                self.aof.last_fsync = now;
            }
            _ => {}
        }
    }

    /// Write the manifest through a temp file, fsynced (writeAofManifestFile).
    fn aof_persist_manifest(&self, m: &mut Manifest) -> io::Result<()> {
        if !m.dirty {
            return Ok(());
        }
        let name = format!("{}.manifest", self.config.appendfilename);
        let tmp = format!("temp-{}.manifest", self.config.appendfilename);
        let path = self.aof_path(&name);
        let tmp_path = self.aof_path(&tmp);
        let res = (|| {
            let mut f = File::create(&tmp_path).inspect_err(|e| {
                log::warn!(
                    "Can't open the AOF manifest file {}: {}",
                    tmp,
                    strerror(errno_of(e))
                )
            })?;
            f.write_all(m.format().as_bytes()).inspect_err(|e| {
                log::warn!(
                    "Error trying to write the temporary AOF manifest file {}: {}",
                    tmp,
                    strerror(errno_of(e))
                )
            })?;
            f.sync_all().inspect_err(|e| {
                log::warn!(
                    "Fail to fsync the temp AOF file {}: {}.",
                    tmp,
                    strerror(errno_of(e))
                )
            })?;
            std::fs::rename(&tmp_path, &path).inspect_err(|e| {
                log::warn!(
                    "Error trying to rename the temporary AOF manifest file {} into {}: {}",
                    tmp,
                    name,
                    strerror(errno_of(e))
                )
            })?;
            if let Ok(d) = File::open(&self.config.appenddirname) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if res.is_ok() {
            m.dirty = false;
        }
        res
    }

    /// Persist the server's own manifest.
    fn aof_persist_own_manifest(&mut self) -> io::Result<()> {
        let mut m = std::mem::take(&mut self.aof.manifest);
        let res = self.aof_persist_manifest(&mut m);
        self.aof.manifest = m;
        res
    }

    /// Read the manifest (at start-up and by DEBUG LOADAOF); a broken one stops the server
    /// (aofLoadManifestFromDisk).
    pub fn aof_load_manifest_from_disk(&mut self) {
        self.aof.manifest = Manifest::default();
        if !Path::new(&self.config.appenddirname).is_dir() {
            return;
        }
        let name = format!("{}.manifest", self.config.appendfilename);
        let path = self.aof_path(&name);
        if !path.exists() {
            return;
        }
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                log::warn!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    path.display(),
                    strerror(errno_of(&e))
                );
                std::process::exit(1);
            }
        };
        match Manifest::parse(&data) {
            Ok(m) => self.aof.manifest = m,
            Err(e) => {
                log::warn!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
                if let Some((n, line)) = e.line {
                    log::warn!("Reading the manifest file, at line {}\n", n);
                    log::warn!(">>> '{}'\n", line);
                }
                log::warn!("{}\n", e.msg);
                std::process::exit(1);
            }
        }
    }

    /// An old single-file `appendonly.aof` becomes the BASE of a new AOF directory
    /// (aofUpgradePrepare).
    pub(crate) fn aof_upgrade_prepare(&mut self) {
        if let Err(e) = std::fs::create_dir_all(&self.config.appenddirname) {
            log::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(errno_of(&e))
            );
            std::process::exit(1);
        }
        let m = &mut self.aof.manifest;
        m.base = Some(AofInfo {
            name: self.config.appendfilename.clone(),
            seq: 1,
            kind: b'b',
        });
        m.curr_base_seq = 1;
        m.dirty = true;
        if self.aof_persist_own_manifest().is_err() {
            std::process::exit(1);
        }
        let to = self.aof_path(&self.config.appendfilename);
        if let Err(e) = std::fs::rename(&self.config.appendfilename, &to) {
            log::warn!(
                "Error trying to move the old AOF file {} into dir {}: {}",
                self.config.appendfilename,
                self.config.appenddirname,
                strerror(errno_of(&e))
            );
            std::process::exit(1);
        }
        log::info!(
            "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
            self.config.appendfilename,
            self.config.appenddirname
        );
    }

    /// The size of an AOF file, with Redis's log line when it cannot be read.
    pub(crate) fn aof_file_size(&self, name: &str) -> Result<i64, LoadResult> {
        match std::fs::metadata(self.aof_path(name)) {
            Ok(m) => Ok(m.len() as i64),
            Err(e) => {
                log::warn!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    name,
                    strerror(errno_of(&e))
                );
                Err(if e.kind() == io::ErrorKind::NotFound {
                    LoadResult::NotExist
                } else {
                    LoadResult::OpenErr
                })
            }
        }
    }

    /// Open (creating it if needed) the INCR file at start-up; with no AOF at all, write a
    /// BASE from the current dataset first (aofOpenIfNeededOnServerStart).
    pub fn aof_open_on_server_start(&mut self) {
        if self.aof.state != AofState::On {
            return;
        }
        if let Err(e) = std::fs::create_dir_all(&self.config.appenddirname) {
            log::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(errno_of(&e))
            );
            std::process::exit(1);
        }
        let filename = self.config.appendfilename.clone();
        let had_incr = !self.aof.manifest.incr.is_empty();
        if self.aof.manifest.base.is_none() && !had_incr {
            let base = self
                .aof
                .manifest
                .new_base(&filename, self.config.aof_use_rdb_preamble);
            let path = self.aof_path(&base);
            if self.aof_rewrite_to(&path).is_err() {
                std::process::exit(1);
            }
            log::info!("Creating AOF base file {} on server start", base);
        }
        let name = self.aof.manifest.last_incr(&filename);
        let path = self.aof_path(&name);
        match OpenOptions::new().append(true).create(true).open(&path) {
            Ok(f) => self.aof.file = Some(f),
            Err(e) => {
                log::warn!(
                    "Can't open the append-only file {}: {}",
                    name,
                    strerror(errno_of(&e))
                );
                std::process::exit(1);
            }
        }
        if self.aof_persist_own_manifest().is_err() {
            std::process::exit(1);
        }
        self.aof.last_incr_size = self.aof_file_size(&name).unwrap_or(0);
        self.aof.last_incr_fsync_offset = self.aof.last_incr_size;
        if had_incr {
            log::info!("Opening AOF incr file {} on server start", name);
        } else {
            log::info!("Creating AOF incr file {} on server start", name);
        }
    }

    /// Delete the history files (aofDelHistoryFiles), unless `aof-disable-auto-gc`.
    pub fn aof_del_history_files(&mut self) {
        if self.config.aof_disable_auto_gc || self.aof.manifest.history.is_empty() {
            return;
        }
        let history = std::mem::take(&mut self.aof.manifest.history);
        for h in history {
            log::info!("Removing the history file {} in the background", h.name);
            let _ = std::fs::remove_file(self.aof_path(&h.name));
        }
        self.aof.manifest.dirty = true;
        let _ = self.aof_persist_own_manifest();
    }

    /// Switch appends to a new INCR file (a temp one while AOF is being turned on), before a
    /// rewrite (openNewIncrAofForAppend).
    fn aof_open_new_incr(&mut self) -> io::Result<()> {
        if self.aof.state == AofState::Off {
            return Ok(());
        }
        let filename = self.config.appendfilename.clone();
        let (name, temp_m) = if self.aof.state == AofState::WaitRewrite {
            (format!("temp-{}.incr", filename), None)
        } else {
            let mut m = self.aof.manifest.clone();
            let n = m.new_incr(&filename);
            (n, Some(m))
        };
        let path = self.aof_path(&name);
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .inspect_err(|e| {
                log::warn!(
                    "Can't open the append-only file {}: {}",
                    name,
                    strerror(errno_of(e))
                )
            })?;
        if let Some(mut m) = temp_m {
            self.aof_persist_manifest(&mut m)?;
            self.aof.manifest = m;
        }
        log::info!("Creating AOF incr file {} on background rewrite", name);
        if let Some(old) = self.aof.file.replace(f) {
            self.aof_bio().fsync_and_close(old);
            self.aof.last_fsync = self.now_ms / 1000;
        }
        self.aof.last_incr_size = 0;
        self.aof.last_incr_fsync_offset = 0;
        Ok(())
    }

    /// Write the whole dataset as an AOF BASE file to `path` through a temp file
    /// (rewriteAppendOnlyFile): an RDB image with `aof-use-rdb-preamble`, else commands.
    pub fn aof_rewrite_to(&self, path: &Path) -> io::Result<()> {
        let tmp = format!("temp-rewriteaof-{}.aof", std::process::id());
        let res = (|| {
            let f = File::create(&tmp).inspect_err(|e| {
                log::warn!(
                    "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {}",
                    strerror(errno_of(e))
                )
            })?;
            let mut w = BufWriter::with_capacity(64 * 1024, f);
            if self.config.aof_use_rdb_preamble {
                w = crate::persistence::rdb::write_rdb_ext(self, w, None, true, 0)?;
            } else {
                self.aof_rewrite_commands(&mut w)?;
            }
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            Ok(())
        })();
        if let Err(e) = res {
            log::warn!(
                "Write error writing append only file on disk: {}",
                strerror(errno_of(&e))
            );
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, path) {
            log::warn!(
                "Error moving temp append only file on the final destination: {}",
                strerror(errno_of(&e))
            );
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }

    /// The dataset as commands (rewriteAppendOnlyFileRio).
    fn aof_rewrite_commands<W: Write>(&self, w: &mut W) -> io::Result<()> {
        if self.config.aof_timestamp_enabled {
            write!(w, "#TS:{}\r\n", crate::server::mstime() / 1000)?;
        }
        let delay = self.config.rdb_key_save_delay;
        let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
        crate::scripting::function::aof_rewrite_functions(self, &mut out);
        w.write_all(&out)?;
        for (i, db) in self.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            let n = i.to_string();
            write!(w, "*2\r\n$6\r\nSELECT\r\n${}\r\n{}\r\n", n.len(), n)?;
            for (k, o) in db.keys.iter() {
                out.clear();
                rewrite_object(&mut out, k, &o.value);
                if let Some(when) = db.expire_of(k) {
                    crate::replication::encode_command(
                        &mut out,
                        &[
                            Bytes::from_static(b"PEXPIREAT"),
                            Bytes::copy_from_slice(k),
                            Bytes::from(when.to_string()),
                        ],
                    );
                }
                w.write_all(&out)?;
                if delay != 0 {
                    crate::persistence::rdb::debug_delay(delay);
                }
            }
        }
        Ok(())
    }

    /// Fork a child writing a new BASE file (rewriteAppendOnlyFileBackground).
    pub fn aof_rewrite_background(&mut self) -> Result<(), String> {
        if self.has_active_child() {
            return Err("child active".into());
        }
        if let Err(e) = std::fs::create_dir_all(&self.config.appenddirname) {
            log::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(errno_of(&e))
            );
            self.aof.last_bgrewrite_ok = false;
            return Err(e.to_string());
        }
        self.aof.selected_db = -1;
        self.aof_flush(true);
        if let Err(e) = self.aof_open_new_incr() {
            self.aof.last_bgrewrite_ok = false;
            return Err(e.to_string());
        }
        self.aof.rewrites += 1;
        let res = self.fork_child(ChildKind::AofRewrite, |srv| {
            let tmp = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
            match srv.aof_rewrite_to(Path::new(&tmp)) {
                Ok(()) => {
                    log::info!("Successfully created the temporary AOF base file {}", tmp);
                    0
                }
                Err(_) => 1,
            }
        });
        match res {
            Ok(()) => {
                if let Some(c) = &self.bgsave.child {
                    log::info!(
                        "Background append only file rewriting started by pid {}",
                        c.pid
                    );
                }
                self.aof.rewrite_scheduled = false;
                self.aof.rewrite_time_start = self.now_ms / 1000;
                Ok(())
            }
            Err(e) => {
                self.aof.last_bgrewrite_ok = false;
                log::warn!("Can't rewrite append only file in background: fork: {}", e);
                Err(e)
            }
        }
    }

    /// The rewrite child ended (backgroundRewriteDoneHandler): install its BASE, turn the
    /// files it covers into history, persist the manifest.
    pub fn aof_rewrite_done(&mut self, pid: i32, exited_ok: bool, signal: Option<i32>) {
        let tmp = format!("temp-rewriteaof-bg-{}.aof", pid);
        if exited_ok {
            log::info!("Background AOF rewrite terminated with success");
            match self.aof_install_rewrite(&tmp) {
                Ok(()) => {
                    self.aof_del_history_files();
                    self.aof.last_bgrewrite_ok = true;
                    self.aof.consecutive_failures = 0;
                    log::info!("Background AOF rewrite finished successfully");
                    if self.aof.state == AofState::WaitRewrite {
                        self.aof.state = AofState::On;
                    }
                }
                Err(()) => {
                    self.aof.last_bgrewrite_ok = false;
                    self.aof.consecutive_failures += 1;
                }
            }
        } else {
            match signal {
                None => {
                    self.aof.last_bgrewrite_ok = false;
                    self.aof.consecutive_failures += 1;
                    log::warn!("Background AOF rewrite terminated with error");
                }
                Some(sig) => {
                    if sig != libc::SIGUSR1 {
                        self.aof.last_bgrewrite_ok = false;
                        self.aof.consecutive_failures += 1;
                    }
                    log::warn!("Background AOF rewrite terminated by signal {}", sig);
                }
            }
        }
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(format!("temp-rewriteaof-{}.aof", pid));
        if self.aof.state == AofState::WaitRewrite {
            // The initial rewrite failed: drop what accumulated, try again from cron.
            self.aof.buf.clear();
            let temp_incr = format!("temp-{}.incr", self.config.appendfilename);
            log::info!(
                "Removing the temp incr aof file {} in the background",
                temp_incr
            );
            let _ = std::fs::remove_file(self.aof_path(&temp_incr));
            self.aof.rewrite_scheduled = true;
        }
        self.aof.rewrite_time_last = self.now_ms / 1000 - self.aof.rewrite_time_start;
        self.aof.rewrite_time_start = -1;
    }

    /// Rename the new BASE (and, when the AOF is being turned on, the temp INCR) into place
    /// and persist the updated manifest.
    fn aof_install_rewrite(&mut self, tmp: &str) -> Result<(), ()> {
        let filename = self.config.appendfilename.clone();
        let mut m = self.aof.manifest.clone();
        let base = m.new_base(&filename, self.config.aof_use_rdb_preamble);
        let base_path = self.aof_path(&base);
        std::fs::rename(tmp, &base_path).map_err(|e| {
            log::warn!(
                "Error trying to rename the temporary AOF base file {} into {}: {}",
                tmp,
                base_path.display(),
                strerror(errno_of(&e))
            )
        })?;
        log::info!(
            "Successfully renamed the temporary AOF base file {} into {}",
            tmp,
            base
        );
        let mut new_incr_path = None;
        if self.aof.state == AofState::WaitRewrite {
            let temp_incr = format!("temp-{}.incr", filename);
            let temp_path = self.aof_path(&temp_incr);
            let incr = m.new_incr(&filename);
            let incr_path = self.aof_path(&incr);
            if let Err(e) = std::fs::rename(&temp_path, &incr_path) {
                log::warn!(
                    "Error trying to rename the temporary AOF incr file {} into {}: {}",
                    temp_path.display(),
                    incr_path.display(),
                    strerror(errno_of(&e))
                );
                let _ = std::fs::remove_file(&base_path);
                return Err(());
            }
            log::info!(
                "Successfully renamed the temporary AOF incr file {} into {}",
                temp_incr,
                incr
            );
            new_incr_path = Some(incr_path);
        }
        m.mark_rewritten_incr_as_history(self.aof.file.is_some());
        if self.aof_persist_manifest(&mut m).is_err() {
            let _ = std::fs::remove_file(&base_path);
            if let Some(p) = new_incr_path {
                let _ = std::fs::remove_file(p);
            }
            return Err(());
        }
        self.aof.manifest = m;
        if self.aof.state != AofState::Off {
            self.aof.current_size =
                self.aof_file_size(&base).unwrap_or(0) + self.aof.last_incr_size;
            self.aof.rewrite_base_size = self.aof.current_size;
        }
        Ok(())
    }

    /// Stop a rewrite child (killAppendOnlyChild).
    pub fn kill_aof_child(&mut self) {
        let Some(c) = &self.bgsave.child else { return };
        if c.kind != ChildKind::AofRewrite {
            return;
        }
        let pid = c.pid;
        log::info!("Killing running AOF rewrite child: {}", pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1);
        let _ = nix::sys::wait::waitpid(pid, None);
        self.bgsave.child = None;
        crate::db::dict::set_resize_allowed(true);
        let _ = std::fs::remove_file(format!("temp-rewriteaof-bg-{}.aof", pid));
        let _ = std::fs::remove_file(format!("temp-rewriteaof-{}.aof", pid));
        self.aof.rewrite_time_start = -1;
    }

    /// Turn the AOF off (stopAppendOnly).
    pub fn aof_stop(&mut self) {
        if self.aof.state == AofState::Off {
            return;
        }
        self.aof_flush(true);
        if let Some(f) = &self.aof.file {
            match f.sync_data() {
                Ok(()) => self.aof.last_fsync = self.now_ms / 1000,
                Err(e) => log::warn!("Fail to fsync the AOF file: {}", strerror(errno_of(&e))),
            }
        }
        self.aof.file = None;
        self.aof.selected_db = -1;
        self.aof.state = AofState::Off;
        self.aof.rewrite_scheduled = false;
        self.aof.last_incr_size = 0;
        self.aof.last_incr_fsync_offset = 0;
        self.kill_aof_child();
        self.aof.buf = Vec::new();
    }

    /// Turn the AOF on: a rewrite writes the initial BASE (startAppendOnly).
    pub fn aof_start(&mut self) -> Result<(), String> {
        self.aof.state = AofState::WaitRewrite;
        let aof_child = self.bgsave.child.as_ref().map(|c| c.kind) == Some(ChildKind::AofRewrite);
        if self.has_active_child() && !aof_child {
            self.aof.rewrite_scheduled = true;
            log::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        } else if self.in_exec {
            self.aof.rewrite_scheduled = true;
            log::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
        } else {
            if aof_child {
                log::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
                self.kill_aof_child();
            }
            if let Err(e) = self.aof_rewrite_background() {
                self.aof.state = AofState::Off;
                log::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
                return Err(e);
            }
        }
        self.aof.last_fsync = self.now_ms / 1000;
        if let Some(b) = &self.aof.bio {
            if b.fsync_error().is_some() {
                log::warn!("AOF reopen, just ignore the AOF fsync error in bio job");
                b.clear_error();
            }
        }
        if !self.aof.last_write_ok {
            log::warn!("AOF reopen, just ignore the last error.");
            self.aof.last_write_ok = true;
        }
        Ok(())
    }

    /// The limiter on repeatedly failing rewrites (aofRewriteLimited): after 3 failures in a
    /// row, wait 1, 2, 4... up to 60 minutes between automatic attempts.
    fn aof_rewrite_limited(&mut self) -> bool {
        const THRESHOLD: u64 = 3;
        const MAX_MINUTES: i64 = 60;
        let now = self.now_ms / 1000;
        if self.aof.consecutive_failures < THRESHOLD {
            self.aof.limit_delay_minutes = 0;
            self.aof.limit_next_time = 0;
            return false;
        }
        if self.aof.limit_next_time != 0 {
            if now < self.aof.limit_next_time {
                return true;
            }
            self.aof.limit_next_time = 0;
            return false;
        }
        self.aof.limit_delay_minutes = if self.aof.limit_delay_minutes == 0 {
            1
        } else {
            (self.aof.limit_delay_minutes * 2).min(MAX_MINUTES)
        };
        self.aof.limit_next_time = now + self.aof.limit_delay_minutes * 60;
        log::warn!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes", self.aof.limit_delay_minutes);
        true
    }

    /// AOF work from cron: scheduled and automatic rewrites, postponed flushes, retrying
    /// after write errors (once a second).
    pub fn aof_cron(&mut self, once_per_second: bool) {
        if !self.has_active_child() && self.aof.rewrite_scheduled && !self.aof_rewrite_limited() {
            let _ = self.aof_rewrite_background();
        }
        if self.aof.state == AofState::On
            && !self.has_active_child()
            && self.config.auto_aof_rewrite_percentage > 0
            && self.aof.current_size > self.config.auto_aof_rewrite_min_size
        {
            let base = self.aof.rewrite_base_size.max(1);
            let growth = self.aof.current_size * 100 / base - 100;
            if growth >= self.config.auto_aof_rewrite_percentage && !self.aof_rewrite_limited() {
                log::info!("Starting automatic rewriting of AOF on {}% growth", growth);
                let _ = self.aof_rewrite_background();
            }
        }
        if self.aof_active() && self.aof.flush_postponed_start != 0 {
            self.aof_flush(false);
        }
        if once_per_second && self.aof_active() && !self.aof.last_write_ok {
            self.aof_flush(false);
        }
    }

    /// The strerror of a failing AOF write or background fsync, if writes must be refused.
    pub fn aof_write_error(&self) -> Option<String> {
        if self.aof.state == AofState::Off {
            return None;
        }
        if !self.aof.last_write_ok {
            return Some(strerror(self.aof.last_write_errno));
        }
        self.aof
            .bio
            .as_ref()
            .and_then(|b| b.fsync_error())
            .map(strerror)
    }

    /// The AOF part of INFO persistence.
    pub fn info_aof(&self) -> String {
        let a = &self.aof;
        let now = self.now_ms / 1000;
        let rewriting = self.bgsave.child.as_ref().map(|c| c.kind) == Some(ChildKind::AofRewrite);
        let mut s = format!(
            "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
            (a.state != AofState::Off) as u8,
            rewriting as u8,
            a.rewrite_scheduled as u8,
            a.rewrite_time_last,
            if a.rewrite_time_start != -1 { now - a.rewrite_time_start } else { -1 },
            if a.last_bgrewrite_ok { "ok" } else { "err" },
            a.rewrites,
            a.consecutive_failures,
            if self.aof_write_error().is_none() { "ok" } else { "err" },
            self.persistence.child_stats.aof_last_cow_size,
        );
        if a.state != AofState::Off {
            s.push_str(&format!(
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
                a.current_size,
                a.rewrite_base_size,
                a.rewrite_scheduled as u8,
                a.buf.len(),
                a.bio.as_ref().map_or(0, |b| b.pending()),
                a.delayed_fsync
            ));
        }
        s
    }
}

/// One key's value as the commands that rebuild it (rewriteListObject, rewriteSetObject,
/// rewriteSortedSetObject, rewriteHashObject, SET for strings), at most 64 items a command.
fn rewrite_object(out: &mut Vec<u8>, key: &[u8], v: &Value) {
    use crate::types::listpack::INT_BUF_SIZE;
    let k = Bytes::copy_from_slice(key);
    let mut batch: Vec<Bytes> = Vec::with_capacity(2 + 2 * ITEMS_PER_CMD);
    let flush = |out: &mut Vec<u8>, batch: &mut Vec<Bytes>| {
        if batch.len() > 2 {
            crate::replication::encode_command(out, batch);
        }
        batch.truncate(2);
    };
    match v {
        Value::Str(s) => {
            let val = Bytes::from(s.to_vec());
            crate::replication::encode_command(out, &[Bytes::from_static(b"SET"), k, val]);
        }
        Value::List(l) => {
            batch.extend([Bytes::from_static(b"RPUSH"), k]);
            l.visit(0, false, |e| {
                let mut buf = [0u8; INT_BUF_SIZE];
                batch.push(Bytes::copy_from_slice(e.as_bytes(&mut buf)));
                if batch.len() - 2 == ITEMS_PER_CMD {
                    flush(out, &mut batch);
                }
                true
            });
            flush(out, &mut batch);
        }
        Value::Set(s) => {
            batch.extend([Bytes::from_static(b"SADD"), k]);
            for e in s.iter() {
                let mut buf = [0u8; INT_BUF_SIZE];
                batch.push(Bytes::copy_from_slice(e.as_bytes(&mut buf)));
                if batch.len() - 2 == ITEMS_PER_CMD {
                    flush(out, &mut batch);
                }
            }
            flush(out, &mut batch);
        }
        Value::ZSet(z) => {
            batch.extend([Bytes::from_static(b"ZADD"), k]);
            for (e, score) in z.iter(false) {
                let mut buf = [0u8; INT_BUF_SIZE];
                batch.push(Bytes::copy_from_slice(
                    crate::util::numbers::fmt_g17(score).as_bytes(),
                ));
                batch.push(Bytes::copy_from_slice(e.as_bytes(&mut buf)));
                if (batch.len() - 2) / 2 == ITEMS_PER_CMD {
                    flush(out, &mut batch);
                }
            }
            flush(out, &mut batch);
        }
        Value::Hash(h) => {
            batch.extend([Bytes::from_static(b"HMSET"), k]);
            for (f, val) in h.iter() {
                let mut b1 = [0u8; INT_BUF_SIZE];
                let mut b2 = [0u8; INT_BUF_SIZE];
                batch.push(Bytes::copy_from_slice(f.as_bytes(&mut b1)));
                batch.push(Bytes::copy_from_slice(val.as_bytes(&mut b2)));
                if (batch.len() - 2) / 2 == ITEMS_PER_CMD {
                    flush(out, &mut batch);
                }
            }
            flush(out, &mut batch);
        }
        Value::Stream(s) => rewrite_stream(out, k, s),
    }
}

/// The commands rebuilding a stream (rewriteStreamObject): XADDs (or the XADD MAXLEN 0 trick
/// for an empty stream), XSETID with the counters, and per group XGROUP CREATE plus an XCLAIM
/// per pending entry or XGROUP CREATECONSUMER for a consumer without any.
fn rewrite_stream(out: &mut Vec<u8>, k: Bytes, s: &crate::types::stream::Stream) {
    use crate::types::stream::StreamId;
    let enc = crate::replication::encode_command;
    let b = Bytes::from_static;
    let id_arg = |id: StreamId| Bytes::from(id.to_vec());
    let int_arg = |n: i64| Bytes::from(n.to_string());
    if s.length > 0 {
        s.range(StreamId::MIN, StreamId::MAX, false, |e| {
            let mut argv = Vec::with_capacity(3 + 2 * e.fields.len());
            argv.extend([b(b"XADD"), k.clone(), id_arg(e.id)]);
            for (f, v) in &e.fields {
                argv.push(Bytes::from(f.to_vec()));
                argv.push(Bytes::from(v.to_vec()));
            }
            enc(out, &argv);
            true
        });
    } else {
        enc(
            out,
            &[
                b(b"XADD"),
                k.clone(),
                b(b"MAXLEN"),
                b(b"0"),
                id_arg(StreamId::new(0, 1)),
                b(b"x"),
                b(b"y"),
            ],
        );
    }
    enc(
        out,
        &[
            b(b"XSETID"),
            k.clone(),
            id_arg(s.last_id),
            b(b"ENTRIESADDED"),
            int_arg(s.entries_added as i64),
            b(b"MAXDELETEDID"),
            id_arg(s.max_deleted_entry_id),
        ],
    );
    for (name, g) in &s.groups {
        let gname = Bytes::from(name.clone());
        enc(
            out,
            &[
                b(b"XGROUP"),
                b(b"CREATE"),
                k.clone(),
                gname.clone(),
                id_arg(g.last_id),
                b(b"ENTRIESREAD"),
                int_arg(g.entries_read),
            ],
        );
        for (cname, c) in &g.consumers {
            let cn = Bytes::from(cname.clone());
            if c.pel.is_empty() {
                enc(
                    out,
                    &[
                        b(b"XGROUP"),
                        b(b"CREATECONSUMER"),
                        k.clone(),
                        gname.clone(),
                        cn,
                    ],
                );
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                enc(
                    out,
                    &[
                        b(b"XCLAIM"),
                        k.clone(),
                        gname.clone(),
                        cn.clone(),
                        b(b"0"),
                        id_arg(*id),
                        b(b"TIME"),
                        int_arg(nack.delivery_time),
                        b(b"RETRYCOUNT"),
                        int_arg(nack.delivery_count as i64),
                        b(b"JUSTID"),
                        b(b"FORCE"),
                    ],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_object_batches_items() {
        let mut out = Vec::new();
        let mut set = crate::types::set::Set::for_member(b"a");
        for i in 0..100 {
            set.add(format!("m{}", i).as_bytes(), 512);
        }
        rewrite_object(&mut out, b"k", &Value::Set(Box::new(set)));
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("SADD").count(), 2);
    }

    #[test]
    fn strerror_is_the_c_text() {
        assert_eq!(strerror(libc::ENOSPC), "No space left on device");
    }
}
