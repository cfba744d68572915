//! The master side of replication: a client that sends SYNC or PSYNC becomes a replica.
//!
//! - PSYNC with a known replication id and an offset the backlog still holds gets `+CONTINUE`
//!   and the backlog from that offset (partial resynchronization).
//! - Otherwise a full resynchronization: a forked child writes an RDB snapshot either to the
//!   dump file, which the parent then sends (`$<len>\r\n` + file), or (diskless, for
//!   replicas with `capa eof`) into a pipe that the parent relays to the waiting replicas'
//!   sockets (`$EOF:<mark>\r\n` + RDB + mark). From the fork on, the stream accumulates for
//!   them in the shared backlog; it starts flowing once the RDB is sent (disk) or once the
//!   replica acknowledges it loaded it (diskless).
//! - REPLCONF ACK keeps each replica's acknowledged offset, which WAIT counts.
//!
//! The child writing the snapshot only reads its copy of the dataset and writes to a file or
//! pipe; it never touches client sockets and leaves with `_exit`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;

use bytes::Bytes;

use super::{replica_name, ReplicaClient, ReplicaRef, ReplicaState};
use crate::client::{flags as cf, Client};
use crate::command::{CmdError, CmdResult, Ctx};
use crate::persistence::bgsave::ChildKind;
use crate::server::Server;

/// Bytes read from the RDB file or the pipe per write (PROTO_IOBUF_LEN).
const IOBUF_LEN: usize = 16 * 1024;

/// A disk-based RDB transfer to one replica.
#[derive(Debug)]
pub struct BulkTransfer {
    file: File,
    /// `$<size>\r\n` still to send.
    preamble: Vec<u8>,
    off: u64,
    size: u64,
    /// The chunk read from the file and how much of it was sent.
    buf: Vec<u8>,
    buf_pos: usize,
}

/// The relay of a diskless transfer: the child writes the RDB into a pipe; the parent reads
/// a buffer at a time and writes it to every replica in the transfer, reading the next one
/// only when all of them took the current one.
#[derive(Debug)]
pub struct RdbPipe {
    pub read: File,
    /// Closing it tells the child it may exit.
    pub exit_write: Option<OwnedFd>,
    pub buf: Vec<u8>,
    /// Replicas still in the transfer.
    pub conns: Vec<usize>,
    /// Replicas that did not take all of the current buffer yet.
    pub writing: usize,
    /// The pipe reached EOF.
    pub done: bool,
}

/// What `next_output` found to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutSrc {
    Reply,
    Bulk,
    Pipe,
    Stream,
}

/// The next bytes to write to client `c`: its replies first, then for a replica the RDB being
/// transferred or the stream from its cursor.
pub fn next_output<'a>(
    c: &'a mut Client,
    repl: &'a super::Replication,
) -> io::Result<Option<(&'a [u8], OutSrc)>> {
    if c.reply.pending() > 0 {
        return Ok(Some((&c.reply.buf[c.reply.sent..], OutSrc::Reply)));
    }
    let key = c.key;
    let Some(r) = c.repl.as_mut() else {
        return Ok(None);
    };
    match r.state {
        Some(ReplicaState::SendBulk) => {
            let Some(b) = r.bulk.as_mut() else {
                return Ok(None);
            };
            if !b.preamble.is_empty() {
                return Ok(Some((&b.preamble, OutSrc::Bulk)));
            }
            if b.buf_pos == b.buf.len() {
                if b.off >= b.size {
                    return Ok(None);
                }
                let want = IOBUF_LEN.min((b.size - b.off) as usize);
                b.buf.resize(want, 0);
                let n = b.file.read_at(&mut b.buf, b.off)?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "premature EOF",
                    ));
                }
                b.buf.truncate(n);
                b.buf_pos = 0;
            }
            Ok(Some((&b.buf[b.buf_pos..], OutSrc::Bulk)))
        }
        Some(ReplicaState::WaitBgsaveEnd) => match &repl.rdb_pipe {
            Some(p) if p.conns.contains(&key) && r.pipe_off < p.buf.len() => {
                Ok(Some((&p.buf[r.pipe_off..], OutSrc::Pipe)))
            }
            _ => Ok(None),
        },
        Some(ReplicaState::Online) if !r.start_stream_on_ack => {
            let Some(next) = repl
                .replicas
                .iter()
                .find(|x| x.key == key)
                .and_then(|x| x.next)
            else {
                return Ok(None);
            };
            let Some(bl) = &repl.backlog else {
                return Ok(None);
            };
            let chunk = bl.chunk_at(next);
            Ok((!chunk.is_empty()).then_some((chunk, OutSrc::Stream)))
        }
        _ => Ok(None),
    }
}

/// What finished when `n` bytes from `src` were written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Progress {
    pub bulk_done: bool,
    pub pipe_chunk_done: bool,
    pub stream_moved: bool,
}

/// Account for `n` bytes of `src` written to `c`.
pub fn advance(
    c: &mut Client,
    repl: &mut super::Replication,
    src: OutSrc,
    n: usize,
    p: &mut Progress,
) {
    match src {
        OutSrc::Reply => c.reply.consume(n),
        OutSrc::Bulk => {
            repl.stat_net_repl_output_bytes += n as u64;
            let Some(b) = c.repl.as_mut().and_then(|r| r.bulk.as_mut()) else {
                return;
            };
            if !b.preamble.is_empty() {
                b.preamble.drain(..n);
            } else {
                b.buf_pos += n;
                b.off += n as u64;
                if b.off >= b.size {
                    p.bulk_done = true;
                }
            }
        }
        OutSrc::Pipe => {
            repl.stat_net_repl_output_bytes += n as u64;
            if let Some(r) = c.repl.as_mut() {
                r.pipe_off += n;
                let len = repl.rdb_pipe.as_ref().map_or(0, |p| p.buf.len());
                if r.pipe_off >= len {
                    r.last_partial_write = 0;
                    p.pipe_chunk_done = true;
                } else {
                    r.last_partial_write = crate::server::mstime() / 1000;
                }
            }
        }
        OutSrc::Stream => {
            repl.stat_net_repl_output_bytes += n as u64;
            if let Some(r) = repl.cursor_mut(c.key) {
                if let Some(next) = r.next.as_mut() {
                    *next += n as i64;
                }
            }
            p.stream_moved = true;
        }
    }
}

/// Write `data` straight to the client's socket (the +FULLRESYNC / +CONTINUE lines and the
/// keep-alive newlines, which must not wait behind the stream). True if all was written.
fn write_direct(c: &mut Client, data: &[u8]) -> bool {
    match c.conn.as_mut() {
        Some(conn) => matches!(conn.write(data), Ok(n) if n == data.len()),
        None => false,
    }
}

impl Server {
    /// SYNC and PSYNC (Redis's syncCommand).
    pub fn sync_command(&mut self, c: &mut Client, argv: &[Bytes]) -> CmdResult {
        if c.has(cf::SLAVE) {
            return Ok(());
        }
        let psync = argv[0].eq_ignore_ascii_case(b"psync");
        if psync && argv.len() > 3 && argv[3].eq_ignore_ascii_case(b"failover") {
            log::warn!(
                "Failover request received for replid {}.",
                String::from_utf8_lossy(&argv[1])
            );
            if !self.is_replica() {
                return Err(CmdError::err("PSYNC FAILOVER can't be sent to a master."));
            }
            if argv[1].eq_ignore_ascii_case(self.repl.replid.as_bytes()) {
                self.replication_unset_master();
                log::info!(
                    "MASTER MODE enabled (failover request from '{}')",
                    self.client_info(c)
                );
            } else {
                return Err(CmdError::err("PSYNC FAILOVER replid must match my replid."));
            }
        }
        if self.failover_in_progress() {
            return Err(CmdError::Static(
                "NOMASTERLINK Can't SYNC while failing over",
            ));
        }
        if self.is_replica() && self.repl.link.state != super::replica::ReplState::Connected {
            return Err(CmdError::Static(
                "NOMASTERLINK Can't SYNC while not connected with my master",
            ));
        }
        if c.reply.pending() > 0 {
            return Err(CmdError::err(
                "SYNC and PSYNC are invalid with pending output",
            ));
        }
        // A filtered RDB is never written to disk (it is not a snapshot of the dataset), so
        // it needs a replica that reads EOF-marked transfers.
        if c.repl
            .as_ref()
            .is_some_and(|rc| rc.rdb_filter != 0 && !rc.capa_eof)
        {
            return Err(CmdError::err("Filtered replica requires EOF capability"));
        }
        log::info!("Replica {} asks for synchronization", replica_name(c));
        let rc = c.repl.get_or_insert_with(Default::default);
        if psync {
            let Some(offset) = crate::util::numbers::string2ll(&argv[2]) else {
                log::warn!(
                    "Replica {} asks for synchronization but with a wrong offset",
                    replica_name(c)
                );
                return Err(crate::command::errors::NOT_INTEGER);
            };
            if self.try_partial_resync(c, &argv[1], offset) {
                self.repl.stat_sync_partial_ok += 1;
                return Ok(());
            }
            if argv[1].first() != Some(&b'?') {
                self.repl.stat_sync_partial_err += 1;
            }
        } else {
            rc.pre_psync = true;
        }
        self.repl.stat_sync_full += 1;
        let rc = c.repl.as_mut().expect("set above");
        rc.state = Some(ReplicaState::WaitBgsaveStart);
        let capa_eof = rc.capa_eof;
        let filter = rc.rdb_filter;
        if self.config.repl_disable_tcp_nodelay {
            if let Some(crate::client::Conn::Tcp(s)) = &c.conn {
                let _ = s.set_nodelay(false);
            }
        }
        c.flags |= cf::SLAVE;
        self.repl.replicas.push(ReplicaRef {
            key: c.key,
            next: None,
        });
        if self.repl.replicas.len() == 1 && self.repl.backlog.is_none() {
            self.repl.change_replid();
            self.repl.clear_replid2();
            self.repl.create_backlog();
            log::info!(
                "Replication backlog created, my new replication IDs are '{}' and '{}'",
                self.repl.replid,
                self.repl.replid2
            );
        }
        match self.bgsave.child.as_ref().map(|ch| ch.kind) {
            Some(ChildKind::RdbDisk) => {
                // Attach to a BGSAVE that already registers the stream for another replica.
                let other = self.repl.replicas.iter().find_map(|r| {
                    let o = self.clients.get(r.key)?.as_deref()?;
                    let orc = o.repl.as_ref()?;
                    (orc.state == Some(ReplicaState::WaitBgsaveEnd)
                        && !orc.rdb_only
                        && orc.rdb_filter == filter)
                        .then_some((orc.psync_initial_offset, orc.capa_eof, r.next))
                });
                match other {
                    Some((offset, other_eof, next)) if capa_eof || !other_eof => {
                        if let Some(r) = self.repl.cursor_mut(c.key) {
                            r.next = next;
                        }
                        self.setup_full_resync(c, offset, false);
                        log::info!("Waiting for end of BGSAVE for SYNC");
                    }
                    _ => log::info!("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"),
                }
            }
            Some(ChildKind::RdbSocket) => {
                log::info!("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
            }
            _ => {
                if self.config.repl_diskless_sync
                    && capa_eof
                    && self.config.repl_diskless_sync_delay > 0
                {
                    log::info!("Delay next BGSAVE for diskless SYNC");
                } else if !self.has_active_child() {
                    self.start_bgsave_for_replication(capa_eof, filter, Some(c));
                } else {
                    log::info!("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
                }
            }
        }
        Ok(())
    }

    /// Serve PSYNC from the backlog if the replica's history is ours (Redis's
    /// masterTryPartialResynchronization). True when the partial resync was accepted.
    fn try_partial_resync(&mut self, c: &mut Client, replid: &[u8], offset: i64) -> bool {
        let r = &self.repl;
        let is_id1 = replid.eq_ignore_ascii_case(r.replid.as_bytes());
        let is_id2 = replid.eq_ignore_ascii_case(r.replid2.as_bytes());
        if !is_id1 && (!is_id2 || offset > r.second_replid_offset) {
            if replid.first() != Some(&b'?') {
                if !is_id1 && !is_id2 {
                    log::info!("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')", String::from_utf8_lossy(replid), r.replid, r.replid2);
                } else {
                    log::info!("Partial resynchronization not accepted: Requested offset for second ID was {}, but I can reply up to {}", offset, r.second_replid_offset);
                }
            } else {
                log::info!("Full resync requested by replica {}", replica_name(c));
            }
            return false;
        }
        let ok = r
            .backlog
            .as_ref()
            .is_some_and(|b| b.can_serve_from(offset, r.master_repl_offset));
        if !ok {
            log::info!(
                "Unable to partial resync with replica {} for lack of backlog (Replica request was: {}).",
                replica_name(c),
                offset
            );
            if offset > r.master_repl_offset {
                log::warn!("Warning: replica {} tried to PSYNC with an offset that is greater than the master replication offset.", replica_name(c));
            }
            return false;
        }
        c.flags |= cf::SLAVE;
        let now = self.now_ms / 1000;
        let rc = c.repl.get_or_insert_with(Default::default);
        rc.state = Some(ReplicaState::Online);
        rc.ack_time = now;
        rc.start_stream_on_ack = false;
        let line = if rc.capa_psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid)
        } else {
            "+CONTINUE\r\n".to_string()
        };
        self.repl.replicas.push(ReplicaRef {
            key: c.key,
            next: Some(offset),
        });
        if !write_direct(c, line.as_bytes()) {
            c.flags |= cf::CLOSE_ASAP;
            return true;
        }
        let len = self.repl.master_repl_offset + 1 - offset;
        log::info!(
            "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {}.",
            replica_name(c),
            len,
            offset
        );
        self.refresh_good_replicas();
        true
    }

    /// Reply +FULLRESYNC and start accumulating the stream for the replica (Redis's
    /// replicationSetupSlaveForFullResync).
    fn setup_full_resync(&mut self, c: &mut Client, offset: i64, set_cursor: bool) -> bool {
        let Some(rc) = c.repl.as_mut() else {
            return false;
        };
        rc.psync_initial_offset = offset;
        rc.state = Some(ReplicaState::WaitBgsaveEnd);
        let pre_psync = rc.pre_psync;
        let rdb_only = rc.rdb_only;
        if set_cursor && !rdb_only {
            if let Some(r) = self.repl.cursor_mut(c.key) {
                r.next = Some(offset + 1);
            }
        }
        self.repl.slaveseldb = -1;
        if !pre_psync {
            let line = format!("+FULLRESYNC {} {}\r\n", self.repl.replid, offset);
            if !write_direct(c, line.as_bytes()) {
                c.flags |= cf::CLOSE_ASAP;
                return false;
            }
        }
        true
    }

    /// Run `f` on replica `key`, whether it is in the slab or is `current`.
    fn with_replica<R>(
        &mut self,
        key: usize,
        current: &mut Option<&mut Client>,
        f: impl FnOnce(&mut Server, &mut Client) -> R,
    ) -> Option<R> {
        if let Some(c) = current.as_deref_mut() {
            if c.key == key {
                return Some(f(self, c));
            }
        }
        let mut c = self.clients.get_mut(key)?.take()?;
        let r = f(self, &mut c);
        self.put_back(key, c);
        Some(r)
    }

    /// Start a BGSAVE for the replicas waiting for one (Redis's startBgsaveForReplication):
    /// to their sockets when they all understand EOF-marked transfers and diskless sync is
    /// on, otherwise to disk. On failure the waiting replicas are told and dropped.
    pub fn start_bgsave_for_replication(
        &mut self,
        mincapa_eof: bool,
        filter: u8,
        mut current: Option<&mut Client>,
    ) {
        // A filtered RDB goes to sockets even without diskless sync: it must not replace
        // the dump file.
        let socket = (self.config.repl_diskless_sync || filter != 0) && mincapa_eof;
        log::info!(
            "Starting BGSAVE for SYNC with target: {}",
            if socket { "replicas sockets" } else { "disk" }
        );
        let waiting: Vec<usize> = self
            .repl
            .replicas
            .iter()
            .map(|r| r.key)
            .filter(|&k| {
                self.client_by_key(k, current.as_deref())
                    .and_then(|c| c.repl.as_ref())
                    .is_some_and(|rc| {
                        rc.state == Some(ReplicaState::WaitBgsaveStart) && rc.rdb_filter == filter
                    })
            })
            .collect();
        let res = if socket {
            self.rdb_save_to_replicas_sockets(&waiting, filter, &mut current)
        } else {
            self.bgsave_with(ChildKind::RdbDisk)
        };
        if res.is_err() {
            log::warn!("BGSAVE for replication failed");
            for k in waiting {
                self.with_replica(k, &mut current, |srv, c| {
                    if let Some(rc) = c.repl.as_mut() {
                        if matches!(
                            rc.state,
                            Some(ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd)
                        ) {
                            rc.state = None;
                            c.flags &= !cf::SLAVE;
                            srv.repl.replicas.retain(|r| r.key != c.key);
                            let e = "ERR BGSAVE failed, replication can't continue";
                            srv.stats.record_error(e);
                            c.reply.error_line(e.as_bytes());
                            c.flags |= cf::CLOSE_AFTER_REPLY;
                        }
                    }
                });
            }
            return;
        }
        if !socket {
            if self.config.rdb_del_sync_files {
                self.repl.rdb_generated_by_replication = true;
            }
            let offset = self.repl.master_repl_offset;
            for k in waiting {
                self.with_replica(k, &mut current, |srv, c| {
                    srv.setup_full_resync(c, offset, true);
                });
            }
        }
    }

    /// Fork a child writing the RDB, EOF-marked, into a pipe the parent relays to `waiting`
    /// (Redis's rdbSaveToSlavesSockets).
    fn rdb_save_to_replicas_sockets(
        &mut self,
        waiting: &[usize],
        filter: u8,
        current: &mut Option<&mut Client>,
    ) -> Result<(), String> {
        if self.has_active_child() || self.repl.rdb_pipe.is_some() {
            return Err("busy".into());
        }
        let (pipe_r, pipe_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
        let (exit_r, exit_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
        let offset = self.repl.master_repl_offset;
        let mut conns = Vec::new();
        for &k in waiting {
            let ok = self.with_replica(k, current, |srv, c| srv.setup_full_resync(c, offset, true));
            if ok == Some(true) {
                if let Some(rc) = self
                    .client_by_key_mut(k, current)
                    .and_then(|c| c.repl.as_mut())
                {
                    rc.pipe_off = 0;
                }
                conns.push(k);
            }
        }
        let rsi = self.rdb_save_info();
        let child_pipe_r = pipe_r.as_raw_fd();
        let exit_w_fd = exit_w.as_raw_fd();
        let res = self.fork_child(ChildKind::RdbSocket, move |srv| {
            // SAFETY: the child closes its copies of the pipe ends it does not use.
            unsafe {
                libc::close(child_pipe_r);
                libc::close(exit_w_fd);
            }
            let out = io::BufWriter::with_capacity(64 * 1024, File::from(pipe_w));
            let ok = write_rdb_with_eof_mark(srv, out, rsi.as_ref(), filter);
            // Wait until the parent relayed everything (it closes its end of the exit pipe).
            let mut exit_r = File::from(exit_r);
            let mut b = [0u8; 1];
            let _ = exit_r.read(&mut b);
            if ok.is_ok() {
                0
            } else {
                1
            }
        });
        match res {
            Ok(()) => {
                let mut read = File::from(pipe_r);
                set_nonblocking(&read);
                crate::event_loop::register_rdb_pipe(self, &mut read);
                self.repl.rdb_pipe = Some(RdbPipe {
                    read,
                    exit_write: Some(exit_w),
                    buf: Vec::with_capacity(IOBUF_LEN),
                    conns,
                    writing: 0,
                    done: false,
                });
                Ok(())
            }
            Err(e) => {
                // Undo: the replicas wait for a BGSAVE to start again.
                for k in waiting {
                    if let Some(rc) = self
                        .client_by_key_mut(*k, current)
                        .and_then(|c| c.repl.as_mut())
                    {
                        if rc.state == Some(ReplicaState::WaitBgsaveEnd) {
                            rc.state = Some(ReplicaState::WaitBgsaveStart);
                        }
                    }
                    if let Some(r) = self.repl.cursor_mut(*k) {
                        r.next = None;
                    }
                }
                Err(e)
            }
        }
    }

    fn client_by_key_mut<'a>(
        &'a mut self,
        key: usize,
        current: &'a mut Option<&mut Client>,
    ) -> Option<&'a mut Client> {
        if let Some(c) = current.as_deref_mut() {
            if c.key == key {
                return Some(c);
            }
        }
        self.clients.get_mut(key)?.as_deref_mut()
    }

    /// Read the child's pipe and relay it to the replicas in the transfer (Redis's
    /// rdbPipeReadHandler).
    pub fn rdb_pipe_readable(&mut self) {
        loop {
            let Some(p) = self.repl.rdb_pipe.as_mut() else {
                return;
            };
            if p.writing > 0 || p.done {
                return;
            }
            p.buf.resize(IOBUF_LEN, 0);
            let n = match p.read.read(&mut p.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    p.buf.clear();
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!(
                        "Diskless rdb transfer, read error sending DB to replicas: {}",
                        e
                    );
                    let conns = std::mem::take(&mut p.conns);
                    for k in conns {
                        self.close_client(k);
                    }
                    self.kill_rdb_child();
                    return;
                }
            };
            p.buf.truncate(n);
            if n == 0 {
                p.done = true;
                let up = p.conns.len();
                log::warn!(
                    "Diskless rdb transfer, done reading from pipe, {} replicas still up.",
                    up
                );
                crate::event_loop::deregister_rdb_pipe(self);
                // The child may exit now; reaping it puts the replicas online.
                if let Some(p) = self.repl.rdb_pipe.as_mut() {
                    p.exit_write = None;
                }
                return;
            }
            let conns = p.conns.clone();
            let mut alive = 0;
            for k in conns {
                let Some(Some(c)) = self.clients.get_mut(k) else {
                    continue;
                };
                let Some(rc) = c.repl.as_mut() else { continue };
                rc.pipe_off = 0;
                let buf = &self.repl.rdb_pipe.as_ref().expect("present").buf;
                let res = match c.conn.as_mut() {
                    Some(conn) => conn.write(buf),
                    None => Err(io::Error::other("no connection")),
                };
                match res {
                    Ok(w) => {
                        rc.pipe_off = w;
                        self.repl.stat_net_repl_output_bytes += w as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        log::warn!(
                            "Diskless rdb transfer, write error sending DB to replica: {}",
                            e
                        );
                        self.close_client(k);
                        continue;
                    }
                }
                let Some(Some(c)) = self.clients.get_mut(k) else {
                    continue;
                };
                let rc = c.repl.as_mut().expect("replica");
                if rc.pipe_off < n {
                    rc.last_partial_write = self.now_ms / 1000;
                    if let Some(p) = self.repl.rdb_pipe.as_mut() {
                        p.writing += 1;
                    }
                    self.set_write_interest(k, true);
                }
                alive += 1;
            }
            if alive == 0 {
                log::warn!("Diskless rdb transfer, last replica dropped, killing fork child.");
                self.kill_rdb_child();
                return;
            }
        }
    }

    /// A replica took the whole current relay buffer.
    pub fn rdb_pipe_conn_drained(&mut self) {
        let resume = match self.repl.rdb_pipe.as_mut() {
            Some(p) => {
                p.writing = p.writing.saturating_sub(1);
                p.writing == 0
            }
            None => false,
        };
        if resume {
            self.rdb_pipe_readable();
        }
    }

    /// A replica is going away: take it out of the diskless transfer.
    fn rdb_pipe_remove(&mut self, c: &Client) {
        let Some(p) = self.repl.rdb_pipe.as_mut() else {
            return;
        };
        let Some(i) = p.conns.iter().position(|&k| k == c.key) else {
            return;
        };
        p.conns.remove(i);
        let unfinished = c.repl.as_ref().is_some_and(|r| r.pipe_off < p.buf.len());
        if unfinished && p.writing > 0 {
            p.writing -= 1;
            if p.writing == 0 {
                self.rdb_pipe_readable();
            }
        }
    }

    /// A BGSAVE ended: serve the replicas that waited for it (Redis's
    /// updateSlavesWaitingBgsave). `current` is a replica running a command (REPLCONF ACK),
    /// out of the slab.
    pub fn update_replicas_waiting_bgsave(
        &mut self,
        ok: bool,
        kind: ChildKind,
        mut current: Option<&mut Client>,
    ) {
        if kind == ChildKind::RdbSocket {
            self.repl.rdb_pipe = None;
        }
        let keys: Vec<usize> = self.repl.replicas.iter().map(|r| r.key).collect();
        for k in keys {
            self.with_replica(k, &mut current, |srv, c| {
                srv.replica_bgsave_done(c, ok, kind);
            });
            self.schedule_write(k);
        }
    }

    fn replica_bgsave_done(&mut self, c: &mut Client, ok: bool, kind: ChildKind) {
        if c.repl.as_ref().and_then(|r| r.state) != Some(ReplicaState::WaitBgsaveEnd) {
            return;
        }
        if !ok {
            c.flags |= cf::CLOSE_ASAP;
            log::warn!("SYNC failed. BGSAVE child returned an error");
        } else if kind == ChildKind::RdbSocket {
            log::info!("Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming", replica_name(c));
            if self.replica_put_online(c) {
                if let Some(rc) = c.repl.as_mut() {
                    rc.start_stream_on_ack = true;
                }
            } else {
                c.flags |= cf::CLOSE_ASAP;
            }
        } else {
            match File::open(&self.config.dbfilename).and_then(|f| {
                let size = f.metadata()?.len();
                Ok((f, size))
            }) {
                Ok((file, size)) => {
                    let rc = c.repl.as_mut().expect("replica");
                    rc.state = Some(ReplicaState::SendBulk);
                    rc.bulk = Some(BulkTransfer {
                        file,
                        preamble: format!("${}\r\n", size).into_bytes(),
                        off: 0,
                        size,
                        buf: Vec::new(),
                        buf_pos: 0,
                    });
                }
                Err(e) => {
                    c.flags |= cf::CLOSE_ASAP;
                    log::warn!("SYNC failed. Can't open/stat DB after BGSAVE: {}", e);
                }
            }
        }
        if c.has(cf::CLOSE_ASAP) {
            self.close_asap.push(c.key);
        }
    }

    /// The replica got its RDB: it is online (Redis's replicaPutOnline). False for an
    /// RDB-only replica, which is then closed.
    fn replica_put_online(&mut self, c: &mut Client) -> bool {
        let now = self.now_ms / 1000;
        let Some(rc) = c.repl.as_mut() else {
            return false;
        };
        if rc.rdb_only {
            rc.state = Some(ReplicaState::RdbTransmitted);
            log::info!(
                "RDB transfer completed, rdb only replica ({}) should be disconnected asap",
                replica_name(c)
            );
            return false;
        }
        rc.state = Some(ReplicaState::Online);
        rc.ack_time = now;
        log::info!("Synchronization with replica {} succeeded", replica_name(c));
        self.refresh_good_replicas();
        true
    }

    /// The disk RDB was fully sent to replica `key`.
    pub fn replica_bulk_done(&mut self, key: usize) {
        let Some(Some(mut c)) = self.clients.get_mut(key).map(|s| s.take()) else {
            return;
        };
        if let Some(rc) = c.repl.as_mut() {
            rc.bulk = None;
        }
        if !self.replica_put_online(&mut c) {
            c.flags |= cf::CLOSE_ASAP;
        }
        self.put_back(key, c);
        self.schedule_write(key);
    }

    /// A replica client is being freed (the replica part of Redis's freeClient).
    pub fn on_replica_close(&mut self, c: &Client) {
        let Some(rc) = &c.repl else { return };
        if !c.has(cf::SLAVE) && rc.state.is_none() {
            return;
        }
        if c.has(cf::SLAVE) && !c.has(cf::MONITOR) {
            log::warn!("Connection with replica {} lost.", replica_name(c));
        }
        let state = rc.state;
        self.repl.replicas.retain(|r| r.key != c.key);
        self.rdb_pipe_remove(c);
        // Nobody else waits for a disk BGSAVE started for replication only: stop it.
        if self.config.save.is_empty()
            && state == Some(ReplicaState::WaitBgsaveEnd)
            && self.bgsave.child.as_ref().map(|ch| ch.kind) == Some(ChildKind::RdbDisk)
            && !self.repl.replicas.iter().any(|r| {
                self.clients
                    .get(r.key)
                    .and_then(|s| s.as_deref())
                    .and_then(|o| o.repl.as_ref())
                    .is_some_and(|o| o.state == Some(ReplicaState::WaitBgsaveEnd))
            })
        {
            self.kill_rdb_child();
        }
        if self.repl.replicas.is_empty() {
            self.repl.no_replicas_since = self.now_ms / 1000;
        }
        self.refresh_good_replicas();
        let size = self.config.repl_backlog_size;
        self.repl
            .trim_backlog(size, super::backlog::TRIM_BLOCKS_PER_CALL);
    }

    /// Close every replica (Redis's disconnectSlaves).
    pub fn disconnect_replicas(&mut self) {
        let keys: Vec<usize> = self.repl.replicas.iter().map(|r| r.key).collect();
        for k in keys {
            match self.clients.get(k) {
                Some(Some(_)) => self.close_client(k),
                // The current client: close once its command returns.
                Some(None) => self.close_asap.push(k),
                None => {}
            }
        }
    }

    /// REPLCONF (Redis's replconfCommand).
    pub fn replconf_command(&mut self, ctx_client: &mut Client, argv: &[Bytes]) -> CmdResult {
        if argv.len().is_multiple_of(2) {
            return Err(crate::command::errors::SYNTAX);
        }
        let mut j = 1;
        while j < argv.len() {
            let opt = &argv[j];
            let val = &argv[j + 1];
            let is = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
            if is("listening-port") {
                let port = crate::util::numbers::string2ll(val)
                    .ok_or(crate::command::errors::NOT_INTEGER)?;
                ctx_client
                    .repl
                    .get_or_insert_with(Default::default)
                    .listening_port = port;
            } else if is("ip-address") {
                if val.len() >= 46 + 256 {
                    return Err(CmdError::err(format!(
                        "REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        val.len()
                    )));
                }
                ctx_client
                    .repl
                    .get_or_insert_with(Default::default)
                    .announced_ip = Some(String::from_utf8_lossy(val).into_owned());
            } else if is("capa") {
                let rc = ctx_client.repl.get_or_insert_with(Default::default);
                if val.eq_ignore_ascii_case(b"eof") {
                    rc.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    rc.capa_psync2 = true;
                }
            } else if is("ack") {
                if !ctx_client.has(cf::SLAVE) {
                    return Ok(());
                }
                let Some(offset) = crate::util::numbers::string2ll(val) else {
                    return Ok(());
                };
                let now = self.now_ms / 1000;
                let mut check_child = false;
                if let Some(rc) = ctx_client.repl.as_mut() {
                    if offset > rc.ack_off {
                        rc.ack_off = offset;
                    }
                    rc.ack_time = now;
                    check_child = rc.state == Some(ReplicaState::WaitBgsaveEnd);
                }
                if check_child && self.bgsave.child.is_some() {
                    self.check_child_done_with(Some(&mut *ctx_client));
                }
                if let Some(rc) = ctx_client.repl.as_mut() {
                    // The replica loaded the RDB: the stream may flow (put_back queues it).
                    if rc.start_stream_on_ack && rc.state == Some(ReplicaState::Online) {
                        rc.start_stream_on_ack = false;
                    }
                }
                // No reply.
                return Ok(());
            } else if is("getack") {
                if self.is_replica() && ctx_client.has(cf::MASTER) {
                    // The one reply our master gets (CLIENT_MASTER_FORCE_REPLY).
                    if let Some(mc) = ctx_client.master.as_mut() {
                        mc.force_reply = true;
                    }
                    self.replication_send_ack(ctx_client);
                }
                return Ok(());
            } else if is("rdb-only") {
                let v = crate::util::numbers::string2ll(val)
                    .filter(|v| (0..=1).contains(v))
                    .ok_or(CmdError::Static(
                        "ERR value is out of range, must be positive",
                    ))?;
                ctx_client
                    .repl
                    .get_or_insert_with(Default::default)
                    .rdb_only = v == 1;
            } else if is("rdb-filter-only") {
                let filters = crate::config::parse::split_args(val)
                    .map_err(|_| CmdError::err("Missing rdb-filter-only values"))?;
                // Everything is left out but what the filters include.
                let mut filter =
                    super::rdb_filter::EXCLUDE_DATA | super::rdb_filter::EXCLUDE_FUNCTIONS;
                for f in &filters {
                    if !f.eq_ignore_ascii_case(b"functions") {
                        return Err(CmdError::err(format!(
                            "Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(f)
                        )));
                    }
                    filter &= !super::rdb_filter::EXCLUDE_FUNCTIONS;
                }
                ctx_client
                    .repl
                    .get_or_insert_with(Default::default)
                    .rdb_filter = filter;
            } else {
                return Err(CmdError::err(format!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(opt)
                )));
            }
            j += 2;
        }
        ctx_client.reply.ok();
        Ok(())
    }

    /// Replicas that acknowledged at least `offset` (replicationCountAcksByOffset).
    pub fn count_acks(&self, offset: i64, current: Option<&Client>) -> usize {
        self.repl
            .replicas
            .iter()
            .filter_map(|r| self.client_by_key(r.key, current))
            .filter_map(|c| c.repl.as_ref())
            .filter(|rc| rc.state == Some(ReplicaState::Online) && rc.ack_off >= offset)
            .count()
    }

    /// Master-side cron work (the master half of Redis's replicationCron).
    pub fn master_cron(&mut self) {
        let now = self.now_ms / 1000;
        let period = self.config.repl_ping_replica_period.max(1) as u64;
        if self.repl.cron_loops.is_multiple_of(period)
            && !self.repl.replicas.is_empty()
            && !(self.failover_in_progress() && self.pause.end_ms > self.now_ms)
        {
            let db = self.repl.slaveseldb;
            self.feed_replicas(db, &[Bytes::from_static(b"PING")]);
        }
        // Replicas waiting for their RDB get a newline each second so they do not time out.
        let socket_child = self.bgsave.child.as_ref().map(|c| c.kind) == Some(ChildKind::RdbSocket);
        let keys: Vec<usize> = self.repl.replicas.iter().map(|r| r.key).collect();
        let timeout = self.config.repl_timeout;
        for k in keys {
            let Some(Some(c)) = self.clients.get_mut(k) else {
                continue;
            };
            let Some(rc) = c.repl.as_ref() else { continue };
            let state = rc.state;
            let presync = state == Some(ReplicaState::WaitBgsaveStart)
                || (state == Some(ReplicaState::WaitBgsaveEnd) && !socket_child);
            if presync {
                let _ = write_direct(c, b"\n");
            }
            let rc = c.repl.as_ref().expect("replica");
            if state == Some(ReplicaState::Online) && !rc.pre_psync && now - rc.ack_time > timeout {
                log::warn!(
                    "Disconnecting timedout replica (streaming sync): {}",
                    replica_name(c)
                );
                self.close_client(k);
                continue;
            }
            if state == Some(ReplicaState::WaitBgsaveEnd)
                && socket_child
                && rc.last_partial_write != 0
                && now - rc.last_partial_write > timeout
            {
                log::warn!(
                    "Disconnecting timedout replica (full sync): {}",
                    replica_name(c)
                );
                self.close_client(k);
                continue;
            }
        }
        if self.repl.replicas.is_empty()
            && self.config.repl_backlog_ttl > 0
            && self.repl.backlog.is_some()
            && !self.is_replica()
            && now - self.repl.no_replicas_since > self.config.repl_backlog_ttl
        {
            self.repl.change_replid();
            self.repl.clear_replid2();
            self.repl.backlog = None;
            log::info!(
                "Replication backlog freed after {} seconds without connected replicas.",
                self.config.repl_backlog_ttl
            );
        }
        self.start_pending_replication_fork();
        self.remove_rdb_used_to_sync_replicas();
        self.refresh_good_replicas();
    }

    /// Start the BGSAVE that waiting replicas need, unless diskless sync waits for more of
    /// them (Redis's replicationStartPendingFork).
    pub fn start_pending_replication_fork(&mut self) {
        if self.has_active_child() || self.repl.rdb_pipe.is_some() {
            return;
        }
        let now = self.now_ms / 1000;
        let (mut waiting, mut max_idle, mut mincapa_eof) = (0i64, 0i64, true);
        // Replicas wanting differently filtered RDBs wait for a later fork.
        let mut filter = None;
        for r in &self.repl.replicas {
            let Some(Some(c)) = self.clients.get(r.key) else {
                continue;
            };
            let Some(rc) = &c.repl else { continue };
            if rc.state == Some(ReplicaState::WaitBgsaveStart)
                && *filter.get_or_insert(rc.rdb_filter) == rc.rdb_filter
            {
                waiting += 1;
                max_idle = max_idle.max(now - c.last_interaction_ms / 1000);
                mincapa_eof &= rc.capa_eof;
            }
        }
        let max = self.config.repl_diskless_sync_max_replicas;
        if waiting > 0
            && (!self.config.repl_diskless_sync
                || (max > 0 && waiting >= max)
                || max_idle >= self.config.repl_diskless_sync_delay)
        {
            self.start_bgsave_for_replication(mincapa_eof, filter.unwrap_or(0), None);
        }
    }

    /// Remove the RDB file a BGSAVE for replication left in an instance without persistence
    /// (rdb-del-sync-files).
    fn remove_rdb_used_to_sync_replicas(&mut self) {
        if !self.config.rdb_del_sync_files {
            self.repl.rdb_generated_by_replication = false;
            return;
        }
        if !self.repl.rdb_generated_by_replication || !self.all_persistence_disabled() {
            return;
        }
        let busy = self.repl.replicas.iter().any(|r| {
            self.clients
                .get(r.key)
                .and_then(|s| s.as_deref())
                .and_then(|c| c.repl.as_ref())
                .is_some_and(|rc| {
                    matches!(
                        rc.state,
                        Some(
                            ReplicaState::WaitBgsaveStart
                                | ReplicaState::WaitBgsaveEnd
                                | ReplicaState::SendBulk
                        )
                    )
                })
        });
        if !busy && std::fs::symlink_metadata(&self.config.dbfilename).is_ok() {
            self.repl.rdb_generated_by_replication = false;
            log::info!(
                "Removing the RDB file used to feed replicas in a persistence-less instance"
            );
            let _ = std::fs::remove_file(&self.config.dbfilename);
        }
    }

    /// Neither save points nor AOF.
    pub fn all_persistence_disabled(&self) -> bool {
        self.config.save.is_empty() && !self.aof_active()
    }

    /// Send REPLCONF GETACK to every replica (beforeSleep, after a WAIT blocked).
    pub fn send_getack_to_replicas(&mut self) {
        let db = self.repl.slaveseldb;
        self.feed_replicas(
            db,
            &[
                Bytes::from_static(b"REPLCONF"),
                Bytes::from_static(b"GETACK"),
                Bytes::from_static(b"*"),
            ],
        );
    }

    /// WAIT numreplicas timeout (Redis's waitCommand).
    pub fn wait_command(ctx: &mut Ctx) -> CmdResult {
        if ctx.srv.is_replica() {
            return Err(CmdError::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
        }
        let numreplicas = crate::util::numbers::string2ll(ctx.arg(1))
            .ok_or(crate::command::errors::NOT_INTEGER)?;
        let timeout = crate::blocking::parse_timeout_ms(ctx.arg(2), ctx.srv.now_ms)?;
        let offset = ctx.client.woff;
        let acks = ctx.srv.count_acks(offset, Some(&*ctx.client)) as i64;
        if acks >= numreplicas || ctx.client.has(cf::MULTI) || ctx.srv.in_exec {
            ctx.reply().int(acks);
            return Ok(());
        }
        crate::blocking::block_for_wait(ctx, offset, numreplicas, timeout);
        ctx.srv.repl.get_ack = true;
        Ok(())
    }
}

/// `$EOF:<mark>\r\n`, the RDB, then the mark (Redis's rdbSaveRioWithEOFMark).
fn write_rdb_with_eof_mark(
    srv: &Server,
    mut out: io::BufWriter<File>,
    rsi: Option<&crate::persistence::rdb::RdbSaveInfo>,
    filter: u8,
) -> io::Result<()> {
    let mark = crate::server::random_hex(40);
    out.write_all(b"$EOF:")?;
    out.write_all(mark.as_bytes())?;
    out.write_all(b"\r\n")?;
    let mut out = crate::persistence::rdb::write_rdb_ext(srv, out, rsi, false, filter)?;
    out.write_all(mark.as_bytes())?;
    out.flush()
}

fn set_nonblocking(f: &File) {
    // SAFETY: fcntl on a descriptor we own, only toggling O_NONBLOCK.
    unsafe {
        let fd = f.as_raw_fd();
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// Build the replica state a client gets from REPLCONF (for tests and defaults).
pub fn replica_client() -> ReplicaClient {
    ReplicaClient::default()
}
