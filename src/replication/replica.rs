//! The replica side of replication: REPLICAOF starts a non-blocking connection to the master
//! and a handshake driven by socket readiness (PING, AUTH, REPLCONF listening-port /
//! ip-address / capa, PSYNC). `+CONTINUE` turns the socket into the master client at once,
//! resuming from the cached master's offset; `+FULLRESYNC` is followed by the RDB payload
//! (`$<len>` or `$EOF:<mark>`), written to a temp file, renamed over the dump file and loaded
//! while clients get LOADING. The master client then streams commands; its replies are
//! dropped except the ACKs, and what it applied is proxied to our own replicas unchanged.
//!
//! When the link drops, the master client's replication id and offset are cached so the
//! next connection can PSYNC from where it stopped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::BytesMut;
use mio::Interest;

use super::ReplicaState;
use crate::client::{flags as cf, Client, Conn};
use crate::command::{CmdError, CmdResult, Ctx};
use crate::server::Server;

/// Length of the EOF mark of a diskless transfer (RDB_EOF_MARK_SIZE).
const EOF_MARK_SIZE: usize = 40;
/// fsync the received RDB every this many bytes (REPL_MAX_WRITTEN_BEFORE_FSYNC).
const MAX_WRITTEN_BEFORE_FSYNC: i64 = 8 * 1024 * 1024;

/// The replica's state of the link with its master (Redis's REPL_STATE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplState {
    #[default]
    None,
    Connect,
    Connecting,
    ReceivePingReply,
    ReceiveAuthReply,
    ReceivePortReply,
    ReceiveIpReply,
    ReceiveCapaReply,
    ReceivePsyncReply,
    Transfer,
    Connected,
}

impl ReplState {
    /// Between the connection and the PSYNC reply.
    pub fn is_handshake(self) -> bool {
        matches!(
            self,
            ReplState::ReceivePingReply
                | ReplState::ReceiveAuthReply
                | ReplState::ReceivePortReply
                | ReplState::ReceiveIpReply
                | ReplState::ReceiveCapaReply
                | ReplState::ReceivePsyncReply
        )
    }
}

/// An RDB being received from the master.
#[derive(Debug)]
pub struct Transfer {
    /// Payload size; -1 until the bulk header arrived, 0 with an EOF mark.
    pub size: i64,
    pub read: i64,
    eof_mark: Option<Vec<u8>>,
    lastbytes: Vec<u8>,
    file: File,
    tmpfile: String,
    last_fsync_off: i64,
}

/// What is kept of a master after the link dropped (Redis's cached_master).
#[derive(Debug, Clone)]
pub struct CachedMaster {
    pub replid: String,
    pub reploff: i64,
    pub read_reploff: i64,
    pub db: usize,
}

/// Replication state of the master client.
#[derive(Debug)]
pub struct MasterClient {
    /// Offset of the last byte applied.
    pub reploff: i64,
    /// Offset of the last byte read.
    pub read_reploff: i64,
    pub replid: String,
    /// Bytes read but not yet applied and proxied.
    pub raw: BytesMut,
    /// Synced with the old SYNC: no ACKs.
    pub pre_psync: bool,
    /// Keep the replies of the current command (the ACK answering GETACK).
    pub force_reply: bool,
}

/// The link with our master.
#[derive(Debug, Default)]
pub struct Link {
    pub state: ReplState,
    /// The connection during the handshake and the transfer (repl_transfer_s).
    pub sock: Option<mio::net::TcpStream>,
    inbuf: Vec<u8>,
    pub transfer: Option<Transfer>,
    /// Slab key of the master client once connected.
    pub master_key: Option<usize>,
    pub cached: Option<CachedMaster>,
    /// The master's id and offset from +FULLRESYNC.
    pub master_replid: String,
    pub master_initial_offset: i64,
    /// Unix time the link went down (0: never up, or up).
    pub down_since: i64,
    pub transfer_lastio: i64,
    /// Loading the received RDB: link events wait.
    pub loading: bool,
}

impl Link {
    /// Take one line (without CR LF) from the bytes received, if complete.
    fn take_line(&mut self) -> Option<String> {
        let nl = memchr::memchr(b'\n', &self.inbuf)?;
        let mut line: Vec<u8> = self.inbuf.drain(..=nl).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(String::from_utf8_lossy(&line).into_owned())
    }
}

/// What reading the link socket gave.
enum ReadOutcome {
    Data,
    Closed(String),
}

/// Read what the socket has into `buf` (edge-triggered: until it would block), at most
/// `limit` bytes.
fn read_available(sock: &mut mio::net::TcpStream, buf: &mut Vec<u8>, limit: usize) -> ReadOutcome {
    let mut chunk = [0u8; 16 * 1024];
    let start = buf.len();
    loop {
        let room = limit.saturating_sub(buf.len() - start).min(chunk.len());
        if room == 0 {
            return ReadOutcome::Data;
        }
        match sock.read(&mut chunk[..room]) {
            Ok(0) => return ReadOutcome::Closed("connection lost".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Data,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return ReadOutcome::Closed(e.to_string()),
        }
    }
}

/// Write all of `data`, waiting for the socket (briefly) when it is full.
fn write_all_sync(sock: &mut mio::net::TcpStream, mut data: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !data.is_empty() {
        match sock.write(data) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "write zero")),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() > deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "timeout"));
                }
                let mut pfd = libc::pollfd {
                    fd: sock.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: poll on one valid descriptor with a correctly sized array.
                unsafe { libc::poll(&mut pfd, 1, 100) };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let argv: Vec<bytes::Bytes> = args
        .iter()
        .map(|a| bytes::Bytes::copy_from_slice(a))
        .collect();
    let mut out = Vec::new();
    super::encode_command(&mut out, &argv);
    out
}

impl Server {
    /// Start replicating from `host:port` (Redis's replicationSetMaster).
    pub fn replication_set_master(&mut self, host: String, port: u16) {
        let was_master = !self.is_replica();
        self.config.replicaof = None;
        if let Some(k) = self.repl.link.master_key.take() {
            // Cached: the new master may continue our history (PSYNC with its offset).
            self.free_master_client(k, true);
        }
        crate::blocking::disconnect_all_blocked(
            self,
            "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
        );
        self.config.replicaof = Some(crate::config::ReplicaOf { host, port });
        self.refresh_oom_score_adj();
        self.cancel_handshake(false);
        if was_master {
            self.discard_cached_master();
            self.cache_master_using_myself();
        }
        crate::log::set_role(b'S');
        self.repl.link.state = ReplState::Connect;
        let m = self.config.replicaof.clone().expect("set above");
        log::info!("Connecting to MASTER {}:{}", m.host, m.port);
        self.connect_with_master();
    }

    /// Become a master (Redis's replicationUnsetMaster).
    pub fn replication_unset_master(&mut self) {
        if !self.is_replica() {
            return;
        }
        self.config.replicaof = None;
        if let Some(k) = self.repl.link.master_key.take() {
            self.free_master_client(k, false);
        }
        self.discard_cached_master();
        self.cancel_handshake(false);
        self.repl.shift_replid();
        self.disconnect_replicas();
        self.repl.link.state = ReplState::None;
        self.repl.slaveseldb = -1;
        crate::log::set_role(b'M');
        self.refresh_oom_score_adj();
        self.repl.no_replicas_since = self.now_ms / 1000;
        self.repl.link.down_since = 0;
        if self.config.appendonly && !self.aof_active() {
            self.restart_aof_after_sync();
        }
    }

    /// Turn the AOF back on after loading a dataset from the master (restartAOFAfterSYNC).
    fn restart_aof_after_sync(&mut self) {
        for _ in 0..10 {
            if self.aof_start().is_ok() {
                return;
            }
            log::warn!("Failed enabling the AOF after successful master synchronization! Trying it again in one second.");
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        log::warn!("FATAL: this replica instance finished the synchronization with its master, but the AOF can't be turned on. Exiting now.");
        std::process::exit(1);
    }

    /// Apply the oom-score-adj value of our current role.
    fn refresh_oom_score_adj(&mut self) {
        let class = if self.is_replica() {
            crate::config_apply::OomClass::Replica
        } else {
            crate::config_apply::OomClass::Master
        };
        let cfg = self.config.clone();
        crate::config_apply::set_oom_score_adj(self, &cfg, class);
    }

    /// Open the non-blocking connection to the master (connectWithMaster).
    pub fn connect_with_master(&mut self) -> bool {
        let Some(m) = self.config.replicaof.clone() else {
            return false;
        };
        let res = (|| -> io::Result<mio::net::TcpStream> {
            let addr: SocketAddr = (m.host.as_str(), m.port)
                .to_socket_addrs()?
                .min_by_key(|a| !a.is_ipv4())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
            connect_nonblocking(addr, self.config.bind_source_addr.as_deref())
        })();
        match res {
            Ok(mut s) => {
                if let Err(e) = self.poll.registry().register(
                    &mut s,
                    crate::event_loop::REPL_LINK_TOKEN,
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    log::warn!("Unable to connect to MASTER: {}", e);
                    return false;
                }
                self.repl.link.sock = Some(s);
                self.repl.link.inbuf.clear();
                self.repl.link.transfer_lastio = self.now_ms / 1000;
                self.repl.link.state = ReplState::Connecting;
                log::info!("MASTER <-> REPLICA sync started");
                true
            }
            Err(e) => {
                log::warn!("Unable to connect to MASTER: {}", e);
                false
            }
        }
    }

    /// Close the handshake/transfer connection.
    fn undo_connect_with_master(&mut self) {
        if let Some(mut s) = self.repl.link.sock.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        self.repl.link.inbuf.clear();
    }

    /// Abort a connection attempt, handshake or transfer (cancelReplicationHandshake); with
    /// `reconnect`, start over at once. True when something was in progress.
    pub fn cancel_handshake(&mut self, reconnect: bool) -> bool {
        let st = self.repl.link.state;
        if st == ReplState::Transfer {
            self.undo_connect_with_master();
            if let Some(t) = self.repl.link.transfer.take() {
                drop(t.file);
                let _ = std::fs::remove_file(&t.tmpfile);
            }
            self.repl.link.state = ReplState::Connect;
        } else if st == ReplState::Connecting || st.is_handshake() {
            self.undo_connect_with_master();
            self.repl.link.state = ReplState::Connect;
        } else {
            return false;
        }
        if reconnect {
            if let Some(m) = self.config.replicaof.clone() {
                log::info!("Reconnecting to MASTER {}:{} after failure", m.host, m.port);
                self.connect_with_master();
            }
        }
        true
    }

    /// The handshake failed: close and retry from cron.
    fn sync_error(&mut self) {
        self.undo_connect_with_master();
        if let Some(t) = self.repl.link.transfer.take() {
            let _ = std::fs::remove_file(&t.tmpfile);
        }
        self.repl.link.state = ReplState::Connect;
    }

    /// Readiness of the link socket (Redis's syncWithMaster / readSyncBulkPayload).
    pub fn repl_link_event(&mut self, writable: bool) {
        if self.repl.link.loading {
            return;
        }
        if !self.is_replica() {
            self.undo_connect_with_master();
            return;
        }
        if self.repl.link.state == ReplState::Connecting {
            if !writable {
                return;
            }
            let Some(sock) = self.repl.link.sock.as_mut() else {
                return;
            };
            let err = match sock.take_error() {
                Ok(Some(e)) => Some(e.to_string()),
                Ok(None) => sock.peer_addr().err().map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(e) = err {
                if e.contains("not connected") || e.contains("Transport endpoint") {
                    // Still connecting.
                    return;
                }
                log::warn!("Error condition on socket for SYNC: {}", e);
                self.sync_error();
                return;
            }
            log::info!("Non blocking connect for SYNC fired the event.");
            let _ = self.poll.registry().reregister(
                sock,
                crate::event_loop::REPL_LINK_TOKEN,
                Interest::READABLE,
            );
            self.repl.link.state = ReplState::ReceivePingReply;
            if let Err(e) = write_all_sync(sock, &resp(&[b"PING"])) {
                log::warn!("Sending command to master in replication handshake: {}", e);
                self.sync_error();
            }
            return;
        }
        if self.repl.link.state == ReplState::Transfer {
            self.read_sync_bulk_payload();
            return;
        }
        if !self.repl.link.state.is_handshake() {
            return;
        }
        let Some(sock) = self.repl.link.sock.as_mut() else {
            return;
        };
        let outcome = read_available(sock, &mut self.repl.link.inbuf, usize::MAX);
        self.repl.link.transfer_lastio = self.now_ms / 1000;
        while self.repl.link.state.is_handshake() {
            let Some(line) = self.repl.link.take_line() else {
                break;
            };
            if !self.handshake_reply(line) {
                return;
            }
        }
        if self.repl.link.state == ReplState::Transfer && !self.repl.link.inbuf.is_empty() {
            self.read_sync_bulk_payload();
            return;
        }
        if let ReadOutcome::Closed(e) = outcome {
            if self.repl.link.state.is_handshake() {
                log::warn!("Master did not respond to command during SYNC handshake");
                let _ = e;
                self.sync_error();
            }
        }
    }

    /// One reply line of the handshake. False when the handshake ended (error or success
    /// that consumed the socket).
    fn handshake_reply(&mut self, line: String) -> bool {
        match self.repl.link.state {
            ReplState::ReceivePingReply => {
                if !line.starts_with('+')
                    && !line.starts_with("-NOAUTH")
                    && !line.starts_with("-NOPERM")
                    && !line.starts_with("-ERR operation not permitted")
                {
                    log::warn!("Error reply to PING from master: '{}'", line);
                    self.sync_error();
                    return false;
                }
                log::info!("Master replied to PING, replication can continue...");
                self.send_handshake()
            }
            ReplState::ReceiveAuthReply => {
                if line.starts_with('-') {
                    log::warn!("Unable to AUTH to MASTER: {}", line);
                    self.sync_error();
                    return false;
                }
                self.repl.link.state = ReplState::ReceivePortReply;
                true
            }
            ReplState::ReceivePortReply => {
                if line.starts_with('-') {
                    log::info!(
                        "(Non critical) Master does not understand REPLCONF listening-port: {}",
                        line
                    );
                }
                self.repl.link.state = if self.config.replica_announce_ip.is_some() {
                    ReplState::ReceiveIpReply
                } else {
                    ReplState::ReceiveCapaReply
                };
                true
            }
            ReplState::ReceiveIpReply => {
                if line.starts_with('-') {
                    log::info!(
                        "(Non critical) Master does not understand REPLCONF ip-address: {}",
                        line
                    );
                }
                self.repl.link.state = ReplState::ReceiveCapaReply;
                true
            }
            ReplState::ReceiveCapaReply => {
                if line.starts_with('-') {
                    log::info!(
                        "(Non critical) Master does not understand REPLCONF capa: {}",
                        line
                    );
                }
                self.send_psync()
            }
            ReplState::ReceivePsyncReply => self.psync_reply(line),
            _ => false,
        }
    }

    /// AUTH, REPLCONF listening-port, ip-address and capa, pipelined.
    fn send_handshake(&mut self) -> bool {
        let mut out = Vec::new();
        let auth = self.config.masterauth.clone();
        if let Some(pass) = &auth {
            match &self.config.masteruser {
                Some(user) => out.extend(resp(&[b"AUTH", user.as_bytes(), pass])),
                None => out.extend(resp(&[b"AUTH", pass])),
            }
        }
        let port = if self.config.replica_announce_port != 0 {
            self.config.replica_announce_port
        } else {
            self.config.port
        };
        out.extend(resp(&[
            b"REPLCONF",
            b"listening-port",
            port.to_string().as_bytes(),
        ]));
        if let Some(ip) = &self.config.replica_announce_ip {
            out.extend(resp(&[b"REPLCONF", b"ip-address", ip.as_bytes()]));
        }
        out.extend(resp(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]));
        self.repl.link.state = if auth.is_some() {
            ReplState::ReceiveAuthReply
        } else {
            ReplState::ReceivePortReply
        };
        let Some(sock) = self.repl.link.sock.as_mut() else {
            return false;
        };
        if let Err(e) = write_all_sync(sock, &out) {
            log::warn!("Sending command to master in replication handshake: {}", e);
            self.sync_error();
            return false;
        }
        true
    }

    /// PSYNC with the cached master's id and offset, or `? -1` (slaveTryPartialResynchronization).
    fn send_psync(&mut self) -> bool {
        self.repl.link.master_initial_offset = -1;
        let (id, off) = match &self.repl.link.cached {
            Some(cm) => {
                let off = (cm.reploff + 1).to_string();
                log::info!(
                    "Trying a partial resynchronization (request {}:{}).",
                    cm.replid,
                    off
                );
                (cm.replid.clone(), off)
            }
            None => {
                log::info!("Partial resynchronization not possible (no cached master)");
                ("?".to_string(), "-1".to_string())
            }
        };
        let cmd = if self.repl.failover.state == super::failover::FailoverState::InProgress {
            resp(&[b"PSYNC", id.as_bytes(), off.as_bytes(), b"FAILOVER"])
        } else {
            resp(&[b"PSYNC", id.as_bytes(), off.as_bytes()])
        };
        self.repl.link.state = ReplState::ReceivePsyncReply;
        let Some(sock) = self.repl.link.sock.as_mut() else {
            return false;
        };
        if let Err(e) = write_all_sync(sock, &cmd) {
            log::warn!("Unable to send PSYNC to master: {}", e);
            self.abort_failover("Write error to failover target");
            self.sync_error();
            return false;
        }
        true
    }

    /// The PSYNC reply: +FULLRESYNC, +CONTINUE, or an error.
    fn psync_reply(&mut self, line: String) -> bool {
        if line.is_empty() {
            // A newline keep-alive while the master prepares.
            return true;
        }
        let failing_over = self.repl.failover.state == super::failover::FailoverState::InProgress;
        if let Some(rest) = line.strip_prefix("+FULLRESYNC") {
            let mut it = rest.split_whitespace();
            match (it.next(), it.next()) {
                (Some(id), Some(off)) if id.len() == 40 => {
                    self.repl.link.master_replid = id.to_string();
                    self.repl.link.master_initial_offset = off.parse().unwrap_or(-1);
                    log::info!(
                        "Full resync from master: {}:{}",
                        self.repl.link.master_replid,
                        self.repl.link.master_initial_offset
                    );
                }
                _ => {
                    log::warn!("Master replied with wrong +FULLRESYNC syntax.");
                    self.repl.link.master_replid.clear();
                }
            }
            if failing_over {
                self.clear_failover_state();
            }
            return self.prepare_transfer();
        }
        if let Some(rest) = line.strip_prefix("+CONTINUE") {
            log::info!("Successful partial resynchronization with master.");
            let new = rest.trim();
            if new.len() == 40 {
                let cached_id = self
                    .repl
                    .link
                    .cached
                    .as_ref()
                    .map(|c| c.replid.clone())
                    .unwrap_or_default();
                if new != cached_id {
                    log::warn!("Master replication ID changed to {}", new);
                    self.repl.replid2 = cached_id;
                    self.repl.second_replid_offset = self.repl.master_repl_offset + 1;
                    self.repl.replid = new.to_string();
                    if let Some(c) = self.repl.link.cached.as_mut() {
                        c.replid = new.to_string();
                    }
                    self.disconnect_replicas();
                }
            }
            if failing_over {
                self.clear_failover_state();
            }
            self.resurrect_cached_master();
            self.repl.create_backlog();
            log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            return false;
        }
        if line.starts_with("-NOMASTERLINK") || line.starts_with("-LOADING") {
            log::info!(
                "Master is currently unable to PSYNC but should be in the future: {}",
                line
            );
            if failing_over {
                self.abort_failover("Failover target rejected psync request");
                return false;
            }
            self.sync_error();
            return false;
        }
        if !line.starts_with("-ERR") {
            log::warn!("Unexpected reply to PSYNC from master: {}", line);
        } else {
            log::info!(
                "Master does not support PSYNC or is in error state (reply: {})",
                line
            );
        }
        if failing_over {
            self.abort_failover("Failover target rejected psync request");
            return false;
        }
        log::info!("Retrying with SYNC...");
        let Some(sock) = self.repl.link.sock.as_mut() else {
            return false;
        };
        if let Err(e) = write_all_sync(sock, b"SYNC\r\n") {
            log::warn!("I/O error writing to MASTER: {}", e);
            self.sync_error();
            return false;
        }
        self.prepare_transfer()
    }

    /// Open the temp file and wait for the RDB payload.
    fn prepare_transfer(&mut self) -> bool {
        let now = self.now_ms / 1000;
        let mut file = None;
        let mut tmpfile = String::new();
        for _ in 0..5 {
            tmpfile = format!("temp-{}.{}.rdb", now, std::process::id());
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmpfile)
            {
                Ok(f) => {
                    file = Some(f);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
            }
        }
        let Some(file) = file else {
            log::warn!(
                "Opening the temp file needed for MASTER <-> REPLICA synchronization: {}",
                io::Error::last_os_error()
            );
            self.sync_error();
            return false;
        };
        self.repl.link.transfer = Some(Transfer {
            size: -1,
            read: 0,
            eof_mark: None,
            lastbytes: Vec::new(),
            file,
            tmpfile,
            last_fsync_off: 0,
        });
        self.repl.link.state = ReplState::Transfer;
        self.repl.link.transfer_lastio = now;
        true
    }

    /// Receive the RDB payload (Redis's readSyncBulkPayload, disk-based).
    fn read_sync_bulk_payload(&mut self) {
        loop {
            let link = &mut self.repl.link;
            let Some(t) = link.transfer.as_mut() else {
                return;
            };
            if t.size == -1 {
                // The bulk header, after optional keep-alive newlines.
                let Some(nl) = memchr::memchr(b'\n', &link.inbuf) else {
                    let Some(sock) = link.sock.as_mut() else {
                        return;
                    };
                    match read_available(sock, &mut link.inbuf, 1024) {
                        ReadOutcome::Data if memchr::memchr(b'\n', &link.inbuf).is_some() => {
                            continue
                        }
                        ReadOutcome::Data => {
                            if link.inbuf.len() >= 1024 {
                                log::warn!(
                                    "I/O error reading bulk count from MASTER: line too long"
                                );
                                self.cancel_handshake(true);
                            }
                            return;
                        }
                        ReadOutcome::Closed(e) => {
                            log::warn!("I/O error reading bulk count from MASTER: {}", e);
                            self.cancel_handshake(true);
                            return;
                        }
                    }
                };
                let line = link.take_line().unwrap_or_default();
                let _ = nl;
                self.repl.stat_net_repl_input_bytes += line.len() as u64 + 1;
                link.transfer_lastio = self.now_ms / 1000;
                if let Some(err) = line.strip_prefix('-') {
                    log::warn!("MASTER aborted replication with an error: {}", err);
                    self.cancel_handshake(true);
                    return;
                }
                if line.is_empty() {
                    continue;
                }
                if !line.starts_with('$') {
                    log::warn!("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?", line);
                    self.cancel_handshake(true);
                    return;
                }
                let t = link.transfer.as_mut().expect("present");
                if let Some(mark) = line[1..]
                    .strip_prefix("EOF:")
                    .filter(|m| m.len() >= EOF_MARK_SIZE)
                {
                    t.eof_mark = Some(mark.as_bytes()[..EOF_MARK_SIZE].to_vec());
                    t.size = 0;
                    log::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
                } else {
                    t.size = line[1..].trim().parse().unwrap_or(0);
                    log::info!(
                        "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
                        t.size
                    );
                }
                continue;
            }
            // Payload bytes: first what the handshake read left over, then the socket.
            let limit = if t.eof_mark.is_some() {
                usize::MAX
            } else {
                (t.size - t.read) as usize
            };
            let mut data: Vec<u8> = Vec::new();
            if !link.inbuf.is_empty() {
                let n = link.inbuf.len().min(limit);
                data.extend(link.inbuf.drain(..n));
            }
            let mut closed = None;
            if data.is_empty() {
                let Some(sock) = link.sock.as_mut() else {
                    return;
                };
                match read_available(sock, &mut data, limit.min(1 << 20)) {
                    ReadOutcome::Data => {}
                    ReadOutcome::Closed(e) => closed = Some(e),
                }
            }
            if data.is_empty() {
                if let Some(e) = closed {
                    log::warn!("I/O error trying to sync with MASTER: {}", e);
                    self.cancel_handshake(true);
                }
                return;
            }
            self.repl.stat_net_repl_input_bytes += data.len() as u64;
            let link = &mut self.repl.link;
            link.transfer_lastio = self.now_ms / 1000;
            let t = link.transfer.as_mut().expect("present");
            let mut eof = false;
            if let Some(mark) = &t.eof_mark {
                t.lastbytes
                    .extend_from_slice(&data[data.len().saturating_sub(EOF_MARK_SIZE)..]);
                let excess = t.lastbytes.len().saturating_sub(EOF_MARK_SIZE);
                t.lastbytes.drain(..excess);
                eof = t.lastbytes == *mark;
            }
            if let Err(e) = t.file.write_all(&data) {
                log::warn!("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {}", e);
                self.cancel_handshake(true);
                return;
            }
            t.read += data.len() as i64;
            if eof {
                let len = (t.read - EOF_MARK_SIZE as i64).max(0) as u64;
                if let Err(e) = t.file.set_len(len) {
                    log::warn!(
                        "Error truncating the RDB file received from the master for SYNC: {}",
                        e
                    );
                    self.cancel_handshake(true);
                    return;
                }
            }
            if t.read >= t.last_fsync_off + MAX_WRITTEN_BEFORE_FSYNC {
                let _ = t.file.sync_data();
                t.last_fsync_off = t.read;
            }
            if t.eof_mark.is_none() && t.read == t.size {
                eof = true;
            }
            if eof {
                self.finish_sync_transfer();
                return;
            }
            if closed.is_some() {
                log::warn!("I/O error trying to sync with MASTER: connection lost");
                self.cancel_handshake(true);
                return;
            }
        }
    }

    /// The RDB arrived: replace the dataset with it and become a connected replica.
    fn finish_sync_transfer(&mut self) {
        let Some(t) = self.repl.link.transfer.take() else {
            return;
        };
        let usemark = t.eof_mark.is_some();
        // The AOF restarts from the new dataset once it is loaded.
        if self.aof_active() {
            self.aof_stop();
        }
        if self.has_active_child() {
            if let Some(ch) = &self.bgsave.child {
                log::info!("Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process {} and removing its temp file to avoid any race", ch.pid);
            }
            self.kill_rdb_child();
        }
        // replicationAttachToNewMaster: our replicas must resync with us too.
        self.discard_cached_master();
        self.disconnect_replicas();
        self.repl.backlog = None;
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        self.empty_data(true);
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        if let Err(e) = t.file.sync_all() {
            log::warn!("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: {}", e);
            let _ = std::fs::remove_file(&t.tmpfile);
            self.cancel_handshake(true);
            return;
        }
        drop(t.file);
        if let Err(e) = std::fs::rename(&t.tmpfile, &self.config.dbfilename) {
            log::warn!(
                "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {}",
                self.config.dbfilename,
                e
            );
            let _ = std::fs::remove_file(&t.tmpfile);
            self.cancel_handshake(true);
            return;
        }
        self.repl.link.loading = true;
        let path = self.config.dbfilename.clone();
        let res = crate::persistence::rdb::load(self, &path);
        self.repl.link.loading = false;
        let del_sync = self.config.rdb_del_sync_files && self.all_persistence_disabled();
        if let Err(e) = res {
            log::warn!(
                "Failed trying to load the MASTER synchronization DB from disk: {}",
                e
            );
            self.empty_data(true);
            self.cancel_handshake(true);
            if del_sync {
                log::info!("Removing the RDB file obtained from the master. This replica has persistence disabled");
                let _ = std::fs::remove_file(&path);
            }
            return;
        }
        if del_sync {
            log::info!("Removing the RDB file obtained from the master. This replica has persistence disabled");
            let _ = std::fs::remove_file(&path);
        }
        let db = self
            .persistence
            .loaded_rsi
            .as_ref()
            .map_or(0, |r| r.repl_stream_db);
        let Some(sock) = self.repl.link.sock.take() else {
            self.repl.link.state = ReplState::Connect;
            return;
        };
        let leftover = std::mem::take(&mut self.repl.link.inbuf);
        let replid = self.repl.link.master_replid.clone();
        let off = self.repl.link.master_initial_offset;
        let key = self.create_master_client(
            sock,
            db.max(0) as usize,
            replid.clone(),
            off,
            off,
            &leftover,
        );
        self.repl.link.state = ReplState::Connected;
        self.repl.link.down_since = 0;
        self.repl.replid = replid;
        self.repl.master_repl_offset = off;
        self.repl.clear_replid2();
        self.repl.create_backlog();
        log::info!("MASTER <-> REPLICA sync: Finished with success");
        if self.config.appendonly {
            self.restart_aof_after_sync();
        }
        if usemark {
            if let Some(k) = key {
                if let Some(Some(mut c)) = self.clients.get_mut(k).map(|s| s.take()) {
                    self.replication_send_ack(&mut c);
                    self.put_back(k, c);
                }
            }
        }
    }

    /// Turn the link socket into the master client (replicationCreateMasterClient).
    fn create_master_client(
        &mut self,
        mut sock: mio::net::TcpStream,
        db: usize,
        replid: String,
        reploff: i64,
        read_reploff: i64,
        leftover: &[u8],
    ) -> Option<usize> {
        let _ = self.poll.registry().deregister(&mut sock);
        let addr = sock
            .peer_addr()
            .map(|a| crate::event_loop::fmt_addr(&a))
            .unwrap_or_default();
        let laddr = sock
            .local_addr()
            .map(|a| crate::event_loop::fmt_addr(&a))
            .unwrap_or_default();
        let _ = sock.set_nodelay(true);
        let entry = self.clients.vacant_entry();
        let key = entry.key();
        let mut conn = Conn::Tcp(sock);
        if self
            .poll
            .registry()
            .register(conn.source(), mio::Token(key), Interest::READABLE)
            .is_err()
        {
            return None;
        }
        let id = self.next_client_id;
        self.next_client_id += 1;
        let mut c = Client::new(id, Some(conn), addr, laddr, self.now_ms);
        c.key = key;
        c.flags |= cf::MASTER;
        c.authenticated = true;
        c.user = None;
        c.db = db.min(self.dbs.len().saturating_sub(1));
        let mut mc = MasterClient {
            reploff,
            read_reploff,
            replid,
            raw: BytesMut::new(),
            pre_psync: reploff == -1,
            force_reply: false,
        };
        if !leftover.is_empty() {
            c.querybuf.extend_from_slice(leftover);
            mc.raw.extend_from_slice(leftover);
            mc.read_reploff += leftover.len() as i64;
        }
        c.master = Some(Box::new(mc));
        entry.insert(Some(Box::new(c)));
        self.client_ids.insert(id, key);
        self.repl.link.master_key = Some(key);
        if !leftover.is_empty() {
            self.pending_reads.push(key);
        }
        Some(key)
    }

    /// Resume with the cached master over the new connection (replicationResurrectCachedMaster).
    fn resurrect_cached_master(&mut self) {
        let Some(cm) = self.repl.link.cached.take() else {
            self.sync_error();
            return;
        };
        let Some(sock) = self.repl.link.sock.take() else {
            return;
        };
        let leftover = std::mem::take(&mut self.repl.link.inbuf);
        self.create_master_client(sock, cm.db, cm.replid, cm.reploff, cm.reploff, &leftover);
        self.repl.link.state = ReplState::Connected;
        self.repl.link.down_since = 0;
    }

    /// Synthesize a cached master from our own id and offset, so that a former master can
    /// PSYNC with its new master (replicationCacheMasterUsingMyself).
    fn cache_master_using_myself(&mut self) {
        log::info!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        self.repl.link.master_initial_offset = self.repl.master_repl_offset;
        self.repl.link.cached = Some(CachedMaster {
            replid: self.repl.replid.clone(),
            reploff: self.repl.master_repl_offset,
            read_reploff: self.repl.master_repl_offset,
            db: 0,
        });
    }

    /// Forget the cached master (replicationDiscardCachedMaster).
    fn discard_cached_master(&mut self) {
        if self.repl.link.cached.take().is_some() {
            log::info!("Discarding previously cached master state.");
        }
    }

    /// Free the master client. With `cache`, keep its state for a later PSYNC and reconnect
    /// (replicationCacheMaster + replicationHandleMasterDisconnection).
    fn free_master_client(&mut self, key: usize, cache: bool) {
        let c = match self.clients.get_mut(key) {
            Some(slot) => slot.take(),
            None => None,
        };
        let Some(mut c) = c else { return };
        if let Some(conn) = c.conn.as_mut() {
            let _ = self.poll.registry().deregister(conn.source());
        }
        self.clients.remove(key);
        self.client_ids.remove(&c.id);
        self.pending_writes.retain(|&k| k != key);
        self.pending_reads.retain(|&k| k != key);
        self.close_asap.retain(|&k| k != key);
        log::warn!("Connection with master lost.");
        if cache {
            self.cache_master(&mut c);
        }
    }

    /// The master client is closing (from close_client): log, cache, reconnect.
    pub fn on_master_close(&mut self, c: &mut Client) {
        if self.repl.link.master_key != Some(c.key) {
            return;
        }
        self.repl.link.master_key = None;
        log::warn!("Connection with master lost.");
        if !c.has(cf::PROTOCOL_ERROR) {
            self.cache_master(c);
        } else {
            self.handle_master_disconnection();
        }
    }

    fn cache_master(&mut self, c: &mut Client) {
        log::info!("Caching the disconnected master state.");
        let Some(mc) = c.master.take() else {
            return;
        };
        self.repl.link.cached = Some(CachedMaster {
            replid: mc.replid,
            reploff: mc.reploff,
            read_reploff: mc.reploff,
            db: c.db,
        });
        self.handle_master_disconnection();
    }

    fn handle_master_disconnection(&mut self) {
        self.repl.link.master_key = None;
        self.repl.link.state = ReplState::Connect;
        self.repl.link.down_since = self.now_ms / 1000;
        if let Some(m) = self.config.replicaof.clone() {
            log::info!("Reconnecting to MASTER {}:{}", m.host, m.port);
            self.connect_with_master();
        }
    }

    /// REPLCONF ACK <offset> to the master (replicationSendAck).
    pub fn replication_send_ack(&mut self, c: &mut Client) {
        let Some(mc) = c.master.as_ref() else { return };
        let off = mc.reploff.to_string();
        c.reply.raw(&resp(&[b"REPLCONF", b"ACK", off.as_bytes()]));
    }

    /// Bytes were read from the master: they will be applied, then proxied.
    pub fn master_read(&mut self, c: &mut Client, start: usize) {
        if let Some(mc) = c.master.as_mut() {
            let new = &c.querybuf[start..];
            mc.raw.extend_from_slice(new);
            mc.read_reploff += new.len() as i64;
            self.repl.stat_net_repl_input_bytes += new.len() as u64;
        }
    }

    /// A command from the master completed: advance the offset and proxy what was applied to
    /// our replicas (outside MULTI only: a transaction goes out with its EXEC).
    pub fn master_command_applied(&mut self, c: &mut Client) {
        if c.has(cf::MULTI) {
            return;
        }
        let Some(mc) = c.master.as_mut() else { return };
        let new_off = mc.read_reploff - c.querybuf.len() as i64;
        let applied = (new_off - mc.reploff).max(0) as usize;
        mc.reploff = new_off;
        if applied == 0 {
            return;
        }
        let applied = applied.min(mc.raw.len());
        let data = mc.raw.split_to(applied);
        self.feed_stream_from_master(&data);
    }

    /// Our offsets as a replica (slave_repl_offset, slave_read_repl_offset).
    pub fn replica_offsets(&self, current: Option<&Client>) -> (i64, i64) {
        if let Some(c) = self.master_client(current) {
            if let Some(mc) = &c.master {
                return (mc.reploff, mc.read_reploff);
            }
        }
        if let Some(cm) = &self.repl.link.cached {
            return (cm.reploff, cm.read_reploff);
        }
        (1, 1)
    }

    /// The master client, in the slab or running a command.
    pub fn master_client<'a>(&'a self, current: Option<&'a Client>) -> Option<&'a Client> {
        let key = self.repl.link.master_key?;
        self.client_by_key(key, current)
    }

    /// Replica-side cron work (the replica half of replicationCron).
    pub fn replica_cron(&mut self) {
        if !self.is_replica() {
            return;
        }
        let now = self.now_ms / 1000;
        let timeout = self.config.repl_timeout;
        let st = self.repl.link.state;
        if (st == ReplState::Connecting || st.is_handshake())
            && now - self.repl.link.transfer_lastio > timeout
        {
            log::warn!("Timeout connecting to the MASTER...");
            self.cancel_handshake(true);
        }
        if self.repl.link.state == ReplState::Transfer
            && now - self.repl.link.transfer_lastio > timeout
        {
            log::warn!("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            self.cancel_handshake(true);
        }
        if self.repl.link.state == ReplState::Connected {
            if let Some(k) = self.repl.link.master_key {
                let idle = self
                    .clients
                    .get(k)
                    .and_then(|s| s.as_deref())
                    .map(|c| now - c.last_interaction_ms / 1000);
                if idle.is_some_and(|i| i > timeout) {
                    log::warn!("MASTER timeout: no data nor PING received...");
                    self.close_client(k);
                }
            }
        }
        if self.repl.link.state == ReplState::Connect {
            if let Some(m) = self.config.replicaof.clone() {
                log::info!("Connecting to MASTER {}:{}", m.host, m.port);
                self.connect_with_master();
            }
        }
        if let Some(k) = self.repl.link.master_key {
            if let Some(Some(mut c)) = self.clients.get_mut(k).map(|s| s.take()) {
                if !c.master.as_ref().is_some_and(|m| m.pre_psync) {
                    self.replication_send_ack(&mut c);
                }
                self.put_back(k, c);
            }
        }
    }

    /// Set up replication from the configuration at start-up (`replicaof` in redis.conf).
    pub fn replication_startup(&mut self) {
        if self.is_replica() {
            crate::log::set_role(b'S');
            self.repl.link.state = ReplState::Connect;
        }
    }

    /// Is this replica's state one where the master client or its transfer exists?
    pub fn repl_state_name(&self) -> &'static str {
        let st = self.repl.link.state;
        if st.is_handshake() {
            return "handshake";
        }
        match st {
            ReplState::None => "none",
            ReplState::Connect => "connect",
            ReplState::Connecting => "connecting",
            ReplState::Transfer => "sync",
            ReplState::Connected => "connected",
            _ => "unknown",
        }
    }
}

/// A non-blocking TCP connection to `addr`, optionally from `source` (bind-source-addr).
fn connect_nonblocking(addr: SocketAddr, source: Option<&str>) -> io::Result<mio::net::TcpStream> {
    use nix::sys::socket::{
        bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrStorage,
    };
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(io::Error::from)?;
    if let Some(src) = source {
        let ip: std::net::IpAddr = src
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad bind-source-addr"))?;
        bind(
            fd.as_raw_fd(),
            &SockaddrStorage::from(SocketAddr::new(ip, 0)),
        )
        .map_err(io::Error::from)?;
    }
    match connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => {}
        Err(e) => return Err(io::Error::from(e)),
    }
    // SAFETY: we own the descriptor and hand its ownership to the std stream.
    let std = unsafe { std::net::TcpStream::from_raw_fd(fd.into_raw_fd()) };
    Ok(mio::net::TcpStream::from_std(std))
}

/// REPLICAOF / SLAVEOF host port | NO ONE (Redis's replicaofCommand).
pub fn replicaof_command(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.config.cluster_enabled {
        return Err(CmdError::err("REPLICAOF not allowed in cluster mode."));
    }
    if ctx.srv.failover_in_progress() {
        return Err(CmdError::err("REPLICAOF not allowed while failing over."));
    }
    if ctx.arg(1).eq_ignore_ascii_case(b"no") && ctx.arg(2).eq_ignore_ascii_case(b"one") {
        if ctx.srv.is_replica() {
            ctx.srv.replication_unset_master();
            let info = ctx.srv.client_info(ctx.client);
            log::info!("MASTER MODE enabled (user request from '{}')", info);
        }
    } else {
        if ctx.client.has(cf::SLAVE) {
            return Err(CmdError::err(
                "Command is not valid when client is a replica.",
            ));
        }
        let port = crate::util::numbers::string2ll(ctx.arg(2))
            .filter(|p| (0..=65535).contains(p))
            .ok_or(CmdError::Static("ERR Invalid master port"))? as u16;
        let host = String::from_utf8_lossy(ctx.arg(1)).into_owned();
        if let Some(m) = &ctx.srv.config.replicaof {
            if m.host.eq_ignore_ascii_case(&host) && m.port == port {
                log::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
                ctx.reply()
                    .simple(b"OK Already connected to specified master");
                return Ok(());
            }
        }
        ctx.srv.replication_set_master(host.clone(), port);
        let info = ctx.srv.client_info(ctx.client);
        log::info!(
            "REPLICAOF {}:{} enabled (user request from '{}')",
            host,
            port,
            info
        );
    }
    ctx.reply().ok();
    Ok(())
}

/// ROLE (Redis's roleCommand).
pub fn role_command(ctx: &mut Ctx) -> CmdResult {
    let srv = &*ctx.srv;
    match srv.config.replicaof.clone() {
        None => {
            let mut rows = Vec::new();
            for r in &srv.repl.replicas {
                let Some(c) = srv.client_by_key(r.key, Some(&*ctx.client)) else {
                    continue;
                };
                let Some(rc) = &c.repl else { continue };
                if rc.state != Some(ReplicaState::Online) {
                    continue;
                }
                let ip = rc.announced_ip.clone().unwrap_or_else(|| {
                    c.addr
                        .rsplit_once(':')
                        .map(|x| x.0.to_string())
                        .unwrap_or_default()
                });
                rows.push((ip, rc.listening_port, rc.ack_off));
            }
            let off = srv.repl.master_repl_offset;
            let r = &mut ctx.client.reply;
            r.array_len(3);
            r.bulk(b"master");
            r.int(off);
            r.array_len(rows.len());
            for (ip, port, ack) in rows {
                r.array_len(3);
                r.bulk(ip.as_bytes());
                r.bulk_i64(port);
                r.bulk_i64(ack);
            }
        }
        Some(m) => {
            let state = srv.repl_state_name();
            let off = srv
                .master_client(Some(&*ctx.client))
                .and_then(|c| c.master.as_ref())
                .map_or(-1, |mc| mc.reploff);
            let r = &mut ctx.client.reply;
            r.array_len(5);
            r.bulk(b"slave");
            r.bulk(m.host.as_bytes());
            r.int(m.port as i64);
            r.bulk(state.as_bytes());
            r.int(off);
        }
    }
    Ok(())
}
