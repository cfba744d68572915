//! Replication (Redis's replication.c), in three parts:
//! - this module: the replication state the server owns ([`Replication`]: ids, offsets, the
//!   backlog, the replicas and the link to our own master), feeding the stream, INFO
//!   replication, ROLE and the replication cron;
//! - [`master`]: serving replicas (SYNC/PSYNC, full resynchronization through a forked RDB
//!   child writing to disk or to a pipe relayed to the replica sockets, partial
//!   resynchronization from the backlog, REPLCONF, WAIT);
//! - [`replica`]: being a replica (REPLICAOF, the non-blocking handshake with the master,
//!   receiving and loading the RDB, the master client, PSYNC with a cached master).
//!
//! The stream a master sends is exactly what `Server::propagate_now` feeds here (SELECT when
//! the db changes, then the command as RESP); a replica proxies the bytes it applied from its
//! own master to its sub-replicas unchanged, so chained replicas share ids and offsets.

pub mod backlog;
pub mod failover;
pub mod master;
pub mod replica;

use bytes::Bytes;

use crate::client::{flags as cf, Client};
use crate::server::Server;
use backlog::Backlog;

/// A replica's state as seen from its master (Redis's SLAVE_STATE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Sent SYNC/PSYNC; waiting for a BGSAVE to start.
    WaitBgsaveStart,
    /// A BGSAVE for it runs; the stream accumulates meanwhile.
    WaitBgsaveEnd,
    /// Sending the RDB file from disk.
    SendBulk,
    /// Streaming.
    Online,
    /// RDB-only replica that got its RDB.
    RdbTransmitted,
}

impl ReplicaState {
    /// The name INFO replication shows.
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
            ReplicaState::RdbTransmitted => "rdb_transmitted",
        }
    }
}

/// Parts of the dataset a filtered RDB leaves out (Redis's SLAVE_REQ_RDB_EXCLUDE_*).
pub mod rdb_filter {
    /// No keys.
    pub const EXCLUDE_DATA: u8 = 1;
    /// No function libraries.
    pub const EXCLUDE_FUNCTIONS: u8 = 2;
}

/// What a master knows about a replica client (and, before SYNC, what REPLCONF told it).
#[derive(Debug, Default)]
pub struct ReplicaClient {
    /// None until SYNC/PSYNC.
    pub state: Option<ReplicaState>,
    pub listening_port: i64,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub rdb_only: bool,
    /// What the replica leaves out of its RDB (REPLCONF rdb-filter-only): bits of
    /// [`rdb_filter`]. A filtered RDB always goes to the replica's socket.
    pub rdb_filter: u8,
    /// Came with SYNC (old protocol: no ACKs expected).
    pub pre_psync: bool,
    pub ack_off: i64,
    /// Unix time of the last ACK.
    pub ack_time: i64,
    pub psync_initial_offset: i64,
    /// Diskless: the stream starts when the first ACK confirms the RDB was loaded.
    pub start_stream_on_ack: bool,
    /// Disk-based full sync: the RDB file being sent.
    pub bulk: Option<master::BulkTransfer>,
    /// Diskless: bytes of the relay buffer already written to this replica.
    pub pipe_off: usize,
    /// Unix time of the last partial write during a diskless transfer (0: none pending).
    pub last_partial_write: i64,
}

/// A replica attached to the stream: its client and the offset of the next byte to send
/// (None while it waits for a BGSAVE to start).
#[derive(Debug, Clone, Copy)]
pub struct ReplicaRef {
    pub key: usize,
    pub next: Option<i64>,
}

/// The replication state.
#[derive(Debug)]
pub struct Replication {
    pub replid: String,
    pub replid2: String,
    pub master_repl_offset: i64,
    pub second_replid_offset: i64,
    /// Created when the first replica attaches (or by the master's own restart).
    pub backlog: Option<Backlog>,
    /// Db the stream last SELECTed (-1: none, forces a SELECT).
    pub slaveseldb: i64,
    /// Replicas in attach order.
    pub replicas: Vec<ReplicaRef>,
    /// Unix time since when there are no replicas (backlog TTL).
    pub no_replicas_since: i64,
    /// Replicas online with a lag within `min-replicas-max-lag`.
    pub good_replicas: usize,
    pub cron_loops: u64,
    /// A WAIT asked for ACKs: send REPLCONF GETACK before sleeping.
    pub get_ack: bool,
    /// Clients blocked in WAIT, newest first.
    pub waiting_acks: Vec<usize>,
    /// Diskless transfer in progress: the relay of the child's pipe.
    pub rdb_pipe: Option<master::RdbPipe>,
    /// A BGSAVE for replication wrote the RDB file (rdb-del-sync-files).
    pub rdb_generated_by_replication: bool,
    /// Scratch buffer for encoding commands into the stream.
    scratch: Vec<u8>,
    pub stat_sync_full: u64,
    pub stat_sync_partial_ok: u64,
    pub stat_sync_partial_err: u64,
    pub stat_net_repl_input_bytes: u64,
    pub stat_net_repl_output_bytes: u64,
    /// The replica role: the link with our master.
    pub link: replica::Link,
    /// A FAILOVER in progress.
    pub failover: failover::Failover,
}

impl Replication {
    /// Fresh state with a random replication id.
    pub fn new() -> Replication {
        Replication {
            replid: crate::server::random_hex(40),
            replid2: "0".repeat(40),
            master_repl_offset: 0,
            second_replid_offset: -1,
            backlog: None,
            slaveseldb: -1,
            replicas: Vec::new(),
            no_replicas_since: crate::server::mstime() / 1000,
            good_replicas: 0,
            cron_loops: 0,
            get_ack: false,
            waiting_acks: Vec::new(),
            rdb_pipe: None,
            rdb_generated_by_replication: false,
            scratch: Vec::new(),
            stat_sync_full: 0,
            stat_sync_partial_ok: 0,
            stat_sync_partial_err: 0,
            stat_net_repl_input_bytes: 0,
            stat_net_repl_output_bytes: 0,
            link: replica::Link::default(),
            failover: failover::Failover::default(),
        }
    }

    /// A new replication id (Redis's changeReplicationId).
    pub fn change_replid(&mut self) {
        self.replid = crate::server::random_hex(40);
    }

    /// Forget the secondary id (clearReplicationId2).
    pub fn clear_replid2(&mut self) {
        self.replid2 = "0".repeat(40);
        self.second_replid_offset = -1;
    }

    /// The current id becomes the secondary one, valid up to the current offset, and a new
    /// history starts (shiftReplicationId: a replica turned master).
    pub fn shift_replid(&mut self) {
        self.replid2 = self.replid.clone();
        self.second_replid_offset = self.master_repl_offset + 1;
        self.change_replid();
        log::warn!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2,
            self.second_replid_offset,
            self.replid
        );
    }

    /// Create the backlog, empty, starting after the current offset.
    pub fn create_backlog(&mut self) {
        if self.backlog.is_none() {
            self.backlog = Some(Backlog::new());
        }
    }

    /// Shift the stream's offsets by `base` (a master restarting from an RDB that recorded
    /// its offset: Redis's rebaseReplicationBuffer).
    pub fn rebase_offset(&mut self, base: i64) {
        self.master_repl_offset += base;
        if let Some(b) = self.backlog.as_mut() {
            b.rebase(base);
        }
    }

    /// The smallest next-offset of any replica reading the stream.
    pub fn oldest_reader(&self) -> Option<i64> {
        self.replicas.iter().filter_map(|r| r.next).min()
    }

    /// The stream cursor of replica `key`.
    pub fn cursor_mut(&mut self, key: usize) -> Option<&mut ReplicaRef> {
        self.replicas.iter_mut().find(|r| r.key == key)
    }

    /// Release what the backlog no longer needs.
    pub fn trim_backlog(&mut self, backlog_size: i64, max_blocks: usize) {
        let oldest = self.oldest_reader();
        if let Some(b) = self.backlog.as_mut() {
            b.trim(backlog_size, oldest, max_blocks);
        }
    }

    /// Memory of the stream blocks (mem_total_replication_buffers).
    pub fn buffer_mem(&self) -> usize {
        self.backlog.as_ref().map_or(0, |b| b.mem())
    }
}

impl Default for Replication {
    fn default() -> Self {
        Replication::new()
    }
}

/// Append `argv` to `out` as a RESP multibulk.
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    let mut f = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(f.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(f.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The name Redis logs for a replica: `ip:port` (announced ip or peer address, listening
/// port), `ip:<unknown-replica-port>`, or `client id #N`.
pub fn replica_name(c: &Client) -> String {
    let peer_ip = c.addr.rsplit_once(':').map(|(ip, _)| ip.to_string());
    let (ip, port) = match &c.repl {
        Some(r) => (r.announced_ip.clone().or(peer_ip.clone()), r.listening_port),
        None => (peer_ip.clone(), 0),
    };
    match ip {
        Some(ip) if !c.has(cf::UNIX_SOCKET) => {
            if port != 0 {
                if ip.contains(':') {
                    format!("[{}]:{}", ip, port)
                } else {
                    format!("{}:{}", ip, port)
                }
            } else {
                format!("{}:<unknown-replica-port>", ip)
            }
        }
        _ => format!("client id #{}", c.id),
    }
}

impl Server {
    /// True when this server replicates from a master (Redis's `server.masterhost != NULL`).
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.config.replicaof.is_some()
    }

    /// Feed a command to the replication stream (Redis's replicationFeedSlaves): a SELECT
    /// first when `db` differs from the stream's, then the command. Only a top-level master
    /// with a backlog feeds; a replica proxies its master's stream instead.
    pub fn feed_replicas(&mut self, db: i64, argv: &[Bytes]) {
        if self.is_replica() || self.repl.backlog.is_none() {
            return;
        }
        let mut buf = std::mem::take(&mut self.repl.scratch);
        buf.clear();
        if self.repl.slaveseldb != db {
            let mut f = itoa::Buffer::new();
            let n = f.format(db);
            buf.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$");
            let mut g = itoa::Buffer::new();
            buf.extend_from_slice(g.format(n.len()).as_bytes());
            buf.extend_from_slice(b"\r\n");
            buf.extend_from_slice(n.as_bytes());
            buf.extend_from_slice(b"\r\n");
            self.repl.slaveseldb = db;
        }
        encode_command(&mut buf, argv);
        self.feed_stream(&buf);
        self.repl.scratch = buf;
    }

    /// Append raw stream bytes (a replica proxying what it applied from its master: Redis's
    /// replicationFeedStreamFromMasterStream).
    pub fn feed_stream_from_master(&mut self, data: &[u8]) {
        if self.repl.backlog.is_some() {
            self.feed_stream(data);
        }
    }

    /// Append bytes to the backlog and schedule the replicas' writes.
    fn feed_stream(&mut self, data: &[u8]) {
        let size = self.config.repl_backlog_size;
        let Some(bl) = self.repl.backlog.as_mut() else {
            return;
        };
        let added = bl.feed(data, &mut self.repl.master_repl_offset, size);
        for i in 0..self.repl.replicas.len() {
            let r = self.repl.replicas[i];
            if r.next.is_some() {
                self.schedule_write(r.key);
            }
        }
        if added {
            self.repl.trim_backlog(size, backlog::TRIM_BLOCKS_PER_CALL);
            self.check_replicas_output_limits();
        }
    }

    /// Put a client in the pending-writes list (it may be out of the slab running a command:
    /// `put_back` then queues it).
    pub fn schedule_write(&mut self, key: usize) {
        if let Some(Some(c)) = self.clients.get_mut(key) {
            if !c.pending_write {
                c.pending_write = true;
                self.pending_writes.push(key);
            }
        }
    }

    /// Bytes a client has to send: its reply buffer plus, for a replica, the stream from its
    /// cursor (what output buffer limits apply to).
    pub fn replica_pending_bytes(&self, key: usize) -> usize {
        let Some(next) = self
            .repl
            .replicas
            .iter()
            .find(|r| r.key == key)
            .and_then(|r| r.next)
        else {
            return 0;
        };
        self.repl
            .backlog
            .as_ref()
            .map_or(0, |b| b.pending_from(next).0)
    }

    /// Does replica `c` (at `key`) have stream bytes it may send now?
    pub fn replica_has_stream_to_send(&self, c: &Client) -> bool {
        let Some(r) = &c.repl else { return false };
        if r.state != Some(ReplicaState::Online) || r.start_stream_on_ack {
            return false;
        }
        match self.repl.replicas.iter().find(|x| x.key == c.key) {
            Some(ReplicaRef { next: Some(n), .. }) => *n <= self.repl.master_repl_offset,
            _ => false,
        }
    }

    /// Close replicas over their output buffer limits (closeClientOnOutputBufferLimitReached
    /// for replicas, checked when the stream grows by a block).
    fn check_replicas_output_limits(&mut self) {
        let keys: Vec<usize> = self.repl.replicas.iter().map(|r| r.key).collect();
        for key in keys {
            let Some(Some(mut c)) = self.clients.get_mut(key).map(|s| s.take()) else {
                continue;
            };
            self.check_output_limits(&mut c);
            self.put_back(key, c);
        }
    }

    /// Recount replicas good for `min-replicas-to-write` (refreshGoodSlavesCount).
    pub fn refresh_good_replicas(&mut self) {
        if self.config.min_replicas_to_write == 0 || self.config.min_replicas_max_lag == 0 {
            return;
        }
        let now = self.now_ms / 1000;
        let lag = self.config.min_replicas_max_lag;
        let mut good = 0;
        for r in &self.repl.replicas {
            if let Some(Some(c)) = self.clients.get(r.key) {
                if let Some(rc) = &c.repl {
                    if rc.state == Some(ReplicaState::Online) && now - rc.ack_time <= lag {
                        good += 1;
                    }
                }
            }
        }
        self.repl.good_replicas = good;
    }

    /// May writes go on with the configured `min-replicas-*` (checkGoodReplicasStatus)?
    pub fn good_replicas_ok(&self) -> bool {
        self.is_replica()
            || self.config.min_replicas_max_lag == 0
            || self.config.min_replicas_to_write == 0
            || self.repl.good_replicas as i64 >= self.config.min_replicas_to_write
    }

    /// Replication work once a second (Redis's replicationCron).
    pub fn replication_cron(&mut self) {
        self.replica_cron();
        self.master_cron();
        self.repl.cron_loops += 1;
    }

    /// The replica part of INFO replication, or the master part.
    pub fn info_replication(&self, current: Option<&Client>) -> String {
        use std::fmt::Write as _;
        let r = &self.repl;
        let now = self.now_ms / 1000;
        let mut s = String::new();
        match &self.config.replicaof {
            None => s.push_str("role:master\r\n"),
            Some(m) => {
                let l = &r.link;
                let (reploff, read_reploff) = self.replica_offsets(current);
                let master_last_io = self
                    .master_client(current)
                    .map(|c| (self.now_ms - c.last_interaction_ms) / 1000)
                    .unwrap_or(-1);
                let _ = write!(
                    s,
                    "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                    m.host,
                    m.port,
                    if l.state == replica::ReplState::Connected { "up" } else { "down" },
                    master_last_io,
                    (l.state == replica::ReplState::Transfer) as u8,
                    read_reploff,
                    reploff,
                );
                if l.state == replica::ReplState::Transfer {
                    let (size, read) = l
                        .transfer
                        .as_ref()
                        .map_or((0, 0), |t| (t.size.max(0), t.read));
                    let perc = if size > 0 {
                        read as f64 / size as f64 * 100.0
                    } else {
                        0.0
                    };
                    let _ = write!(
                        s,
                        "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                        size,
                        read,
                        size - read,
                        perc,
                        now - l.transfer_lastio
                    );
                }
                if l.state != replica::ReplState::Connected {
                    let _ = write!(
                        s,
                        "master_link_down_since_seconds:{}\r\n",
                        if l.down_since != 0 {
                            now - l.down_since
                        } else {
                            -1
                        }
                    );
                }
                let _ = write!(
                    s,
                    "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                    self.config.replica_priority,
                    self.config.replica_read_only as u8,
                    self.config.replica_announced as u8
                );
            }
        }
        let _ = write!(s, "connected_slaves:{}\r\n", r.replicas.len());
        if self.config.min_replicas_to_write != 0 && self.config.min_replicas_max_lag != 0 {
            let _ = write!(s, "min_slaves_good_slaves:{}\r\n", r.good_replicas);
        }
        let mut id = 0;
        for rr in &r.replicas {
            let Some(c) = self.client_by_key(rr.key, current) else {
                continue;
            };
            let Some(rc) = &c.repl else { continue };
            let Some(state) = rc.state else { continue };
            let ip = rc.announced_ip.clone().unwrap_or_else(|| {
                c.addr
                    .rsplit_once(':')
                    .map(|x| x.0.to_string())
                    .unwrap_or_default()
            });
            let lag = if state == ReplicaState::Online {
                now - rc.ack_time
            } else {
                0
            };
            let _ = write!(
                s,
                "slave{}:ip={},port={},state={},offset={},lag={}\r\n",
                id,
                ip,
                rc.listening_port,
                state.name(),
                rc.ack_off,
                lag
            );
            id += 1;
        }
        let (bl_first, bl_hist) = match &r.backlog {
            Some(b) => (b.first_offset(r.master_repl_offset), b.histlen()),
            None => (0, 0),
        };
        let _ = write!(
            s,
            "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.failover_state_name(),
            r.replid,
            r.replid2,
            r.master_repl_offset,
            r.second_replid_offset,
            r.backlog.is_some() as u8,
            self.config.repl_backlog_size,
            bl_first,
            bl_hist
        );
        s
    }

    /// A client by slab key, or the current one (out of the slab while it executes).
    pub fn client_by_key<'a>(
        &'a self,
        key: usize,
        current: Option<&'a Client>,
    ) -> Option<&'a Client> {
        match current {
            Some(c) if c.key == key => Some(c),
            _ => self.clients.get(key).and_then(|c| c.as_deref()),
        }
    }
}
