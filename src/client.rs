//! A connected client: its socket, query buffer and parser state, reply buffer, and the per
//! connection state commands read and change (selected db, protocol, name, flags, MULTI queue,
//! subscriptions). Clients live in the server's slab, keyed by their mio token; `id` is the
//! monotonically increasing CLIENT ID.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use bytes::{Bytes, BytesMut};
use mio::net::{TcpStream, UnixStream};

use crate::resp::parse::ParseState;
use crate::resp::reply::ReplyBuf;

/// A client socket: TCP or unix domain.
#[derive(Debug)]
pub enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    /// The mio source to (re)register.
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Conn::Tcp(s) => s,
            Conn::Unix(s) => s,
        }
    }

    /// The raw file descriptor (CLIENT LIST `fd=`).
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Conn::Tcp(s) => s.as_raw_fd(),
            Conn::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// The current command's reply is being skipped.
    Skip,
}

/// Client flags (a subset of Redis's CLIENT_* that we track), shown in CLIENT LIST `flags=`.
pub mod flags {
    pub const SLAVE: u32 = 1 << 0;
    pub const MONITOR: u32 = 1 << 1;
    pub const MASTER: u32 = 1 << 2;
    pub const MULTI: u32 = 1 << 3;
    pub const BLOCKED: u32 = 1 << 4;
    pub const DIRTY_CAS: u32 = 1 << 5;
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 6;
    pub const UNBLOCKED: u32 = 1 << 7;
    pub const CLOSE_ASAP: u32 = 1 << 8;
    pub const UNIX_SOCKET: u32 = 1 << 9;
    pub const READONLY: u32 = 1 << 10;
    pub const NO_EVICT: u32 = 1 << 11;
    pub const DIRTY_EXEC: u32 = 1 << 12;
    pub const PROTOCOL_ERROR: u32 = 1 << 13;
    pub const PUBSUB: u32 = 1 << 14;
    pub const TRACKING: u32 = 1 << 15;
    pub const NO_TOUCH: u32 = 1 << 16;
    /// Holding a parsed command until CLIENT PAUSE ends (Redis's BLOCKED_POSTPONE).
    pub const POSTPONED: u32 = 1 << 17;
    /// The client that replays the AOF while loading (Redis's CLIENT_ID_AOF).
    pub const AOF_CLIENT: u32 = 1 << 18;
    /// The client scripts run commands as (Redis's CLIENT_SCRIPT).
    pub const SCRIPT: u32 = 1 << 19;
}

/// The type of a client for CLIENT LIST TYPE / KILL TYPE and output buffer limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

impl ClientType {
    /// Parse a CLIENT ... TYPE argument.
    pub fn parse(s: &[u8]) -> Option<ClientType> {
        let s = s.to_ascii_lowercase();
        Some(match &s[..] {
            b"normal" => ClientType::Normal,
            b"slave" | b"replica" => ClientType::Replica,
            b"pubsub" => ClientType::PubSub,
            b"master" => ClientType::Master,
            _ => return None,
        })
    }
}

/// A queued MULTI command.
#[derive(Debug)]
pub struct QueuedCommand {
    pub argv: Vec<Bytes>,
}

/// One connection's state.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    /// Slab key (mio token) of this client.
    pub key: usize,
    pub conn: Option<Conn>,
    /// Peer address as `ip:port` (or `path:0` for unix sockets).
    pub addr: String,
    /// Local address as `ip:port`.
    pub laddr: String,
    pub querybuf: BytesMut,
    /// Peak query buffer size since the last cron check (for the greedy-buffer shrink).
    pub querybuf_peak: usize,
    /// Bytes of the query buffer already parsed in the current read batch; Redis trims its
    /// buffer only after the batch, so CLIENT LIST's `qbuf` counts them.
    pub qb_consumed: usize,
    /// When the output buffer went over the soft limit (ms), 0 if under it.
    pub obuf_soft_limit_since: i64,
    pub parse: ParseState,
    /// The arguments of the command being parsed or executed.
    pub argv: Vec<Bytes>,
    pub reply: ReplyBuf,
    pub reply_mode: ReplyMode,
    /// Push messages written while replies are switched off (CLIENT REPLY OFF|SKIP): Redis
    /// still delivers pushes then, so dispatch re-appends these after dropping the replies.
    pub kept_pushes: Vec<u8>,
    /// CLIENT TRACKING options (meaningful while flags has TRACKING).
    pub tracking: crate::tracking::ClientTracking,
    pub db: usize,
    pub name: Option<Bytes>,
    pub flags: u32,
    /// Authenticated explicitly (AUTH/HELLO), or let in because `default` needed no
    /// password when the connection was made.
    pub authenticated: bool,
    /// The ACL user; `None` for internal clients that may run anything (master link, AOF).
    pub user: Option<crate::acl::UserId>,
    /// Unix time (seconds) the client connected.
    pub ctime: i64,
    /// Unix time (ms) of the last interaction.
    pub last_interaction_ms: i64,
    /// Table id of the last command executed (`cmd=` in CLIENT LIST).
    pub last_cmd: Option<usize>,
    pub multi_queue: Vec<QueuedCommand>,
    pub multi_argv_bytes: usize,
    /// [`argv_mem`] of the command running now (its argv is out of the client meanwhile).
    pub executing_argv_mem: usize,
    /// `memory_usage().1` when its last batch of input was processed: what client eviction
    /// counts for the client whose command is about to run (Redis's last_memory_usage, so
    /// that command's own arguments are not held against it twice).
    pub memory_at_last_batch: usize,
    /// When the reply buffer's peak was last reset (ms).
    pub reply_peak_reset_ms: i64,
    pub watched: Vec<(usize, Bytes)>,
    pub channels: HashSet<Bytes>,
    pub patterns: Vec<Bytes>,
    pub shard_channels: HashSet<Bytes>,
    /// Interested in WRITABLE events (a reply did not fit in the socket).
    pub write_registered: bool,
    /// Waiting in the server's pending-writes list.
    pub pending_write: bool,
    /// Queued attribute request from DEBUG PROTOCOL attrib etc. (RESP3 extras).
    pub no_evict: bool,
    /// Number of commands processed on this connection.
    pub commands_processed: u64,
    /// Flags of the commands queued in MULTI, or-ed, and of their complements (Redis's
    /// mstate.cmd_flags / cmd_inv_flags): EXEC is checked as the commands it will run.
    pub multi_flags: u64,
    pub multi_inv_flags: u64,
    /// Replication offset after this client's last command (WAIT waits for it).
    pub woff: i64,
    /// Set when this client is (becoming) one of our replicas.
    pub repl: Option<Box<crate::replication::ReplicaClient>>,
    /// Set when this client is our master.
    pub master: Option<Box<crate::replication::replica::MasterClient>>,
}

impl Client {
    /// Write a push message (pub/sub message or confirmation), which is delivered even when
    /// the client switched its replies off (Redis's CLIENT_PUSHING).
    pub fn push(&mut self, f: impl FnOnce(&mut ReplyBuf)) {
        if matches!(self.reply_mode, ReplyMode::Off | ReplyMode::Skip) {
            let mark = self.reply.buf.len();
            f(&mut self.reply);
            self.kept_pushes.extend_from_slice(&self.reply.buf[mark..]);
        } else {
            f(&mut self.reply);
        }
    }

    /// A client for a freshly accepted connection.
    pub fn new(id: u64, conn: Option<Conn>, addr: String, laddr: String, now_ms: i64) -> Client {
        Client {
            id,
            key: usize::MAX,
            conn,
            addr,
            laddr,
            querybuf: BytesMut::new(),
            querybuf_peak: 0,
            qb_consumed: 0,
            obuf_soft_limit_since: 0,
            parse: ParseState::default(),
            argv: Vec::new(),
            reply: ReplyBuf::default(),
            reply_mode: ReplyMode::On,
            kept_pushes: Vec::new(),
            tracking: Default::default(),
            db: 0,
            name: None,
            flags: 0,
            authenticated: false,
            user: Some(crate::acl::DEFAULT_USER),
            ctime: now_ms / 1000,
            last_interaction_ms: now_ms,
            last_cmd: None,
            multi_queue: Vec::new(),
            multi_argv_bytes: 0,
            executing_argv_mem: 0,
            memory_at_last_batch: 0,
            reply_peak_reset_ms: now_ms,
            watched: Vec::new(),
            channels: HashSet::new(),
            patterns: Vec::new(),
            shard_channels: HashSet::new(),
            write_registered: false,
            pending_write: false,
            no_evict: false,
            commands_processed: 0,
            multi_flags: 0,
            multi_inv_flags: 0,
            woff: 0,
            repl: None,
            master: None,
        }
    }

    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The client's type for output limits and filters.
    pub fn client_type(&self) -> ClientType {
        if self.has(flags::MASTER) {
            ClientType::Master
        } else if self.has(flags::SLAVE) && !self.has(flags::MONITOR) {
            ClientType::Replica
        } else if self.has(flags::PUBSUB) {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }

    /// Number of Pub/Sub subscriptions of every kind.
    pub fn subscription_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Output bytes beyond Redis's fixed 16k reply buffer: what Redis keeps in its reply list,
    /// and what output buffer limits apply to (getClientOutputBufferMemoryUsage).
    pub fn output_list_bytes(&self) -> usize {
        self.reply
            .pending()
            .saturating_sub(crate::resp::reply::REPLY_CHUNK_BYTES)
    }

    /// What the client's WATCHed keys, pub/sub subscriptions and BCAST tracking prefixes
    /// take in its own tables (Redis counts their list, dict and rax entries the same way;
    /// key and channel names are shared with the server's tables, prefixes are the client's).
    fn subscriptions_memory(&self) -> usize {
        use std::mem::size_of;
        self.watched.capacity() * size_of::<(usize, Bytes)>()
            + (self.channels.capacity() + self.shard_channels.capacity()) * (size_of::<Bytes>() + 1)
            + self.patterns.capacity() * size_of::<Bytes>()
            + self.tracking.prefixes.capacity() * size_of::<Bytes>()
            + self
                .tracking
                .prefixes
                .iter()
                .map(|p| p.len())
                .sum::<usize>()
    }

    /// Memory of the client's current command's arguments, parsed or running.
    fn argv_mem(&self) -> usize {
        argv_mem(&self.argv) + self.executing_argv_mem
    }

    /// Memory attributed to the client's buffers (approximation of Redis's getClientMemoryUsage).
    pub fn memory_usage(&self) -> (usize, usize) {
        let obuf = self.output_list_bytes();
        let argv = self.argv_mem();
        // The reply buffer counts at its real allocation (Redis's buf_usable_size).
        let total = obuf
            + self.reply.buf.capacity()
            + self.querybuf.capacity()
            + self.qb_consumed
            + argv
            + self.multi_argv_bytes
            + std::mem::size_of::<Client>()
            + self.subscriptions_memory();
        (obuf, total)
    }

    /// CLIENT LIST / CLIENT INFO line for this client (without the trailing newline).
    pub fn info_string(&self, now_ms: i64, cmd_name: &str, user: &str, out: &mut String) {
        use std::fmt::Write as _;
        let mut fl = String::new();
        if self.has(flags::SLAVE) {
            fl.push(if self.has(flags::MONITOR) { 'O' } else { 'S' });
        }
        for (f, c) in [
            (flags::MASTER, 'M'),
            (flags::PUBSUB, 'P'),
            (flags::MULTI, 'x'),
            (flags::BLOCKED | flags::POSTPONED, 'b'),
            (flags::TRACKING, 't'),
            (flags::DIRTY_CAS, 'd'),
            (flags::CLOSE_AFTER_REPLY, 'c'),
            (flags::UNBLOCKED, 'u'),
            (flags::CLOSE_ASAP, 'A'),
            (flags::UNIX_SOCKET, 'U'),
            (flags::READONLY, 'r'),
            (flags::NO_EVICT, 'e'),
        ] {
            if self.has(f) {
                fl.push(c);
            }
            // 't' covers tracking; broken redirection and BCAST show as 'R' and 'B' after it.
            if self.has(flags::TRACKING) {
                let at = fl.find('t').map_or(fl.len(), |i| i + 1);
                let mut extra = String::new();
                if self.tracking.broken_redir {
                    extra.push('R');
                }
                if self.tracking.bcast {
                    extra.push('B');
                }
                fl.insert_str(at, &extra);
            }
        }
        if fl.is_empty() {
            fl.push('N');
        }
        let events = match (self.conn.is_some(), self.write_registered) {
            (false, _) => "",
            (true, false) => "r",
            (true, true) => "rw",
        };
        let (obufmem, total) = self.memory_usage();
        let now = now_ms / 1000;
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.conn.as_ref().map(|c| c.fd()).unwrap_or(-1),
            self.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
            now - self.ctime,
            (now_ms - self.last_interaction_ms) / 1000,
            fl,
            self.db,
            self.channels.len(),
            self.patterns.len(),
            self.shard_channels.len(),
            if self.has(flags::MULTI) { self.multi_queue.len() as i64 } else { -1 },
            self.querybuf.len() + self.qb_consumed,
            self.querybuf.capacity() - self.querybuf.len(),
            self.argv_mem(),
            self.multi_argv_bytes,
            self.reply.buf.capacity(),
            self.reply.peak.min(crate::resp::reply::REPLY_CHUNK_BYTES),
            self.reply.pending().min(crate::resp::reply::REPLY_CHUNK_BYTES),
            self.output_list_bytes().div_ceil(crate::resp::reply::REPLY_CHUNK_BYTES),
            obufmem,
            total,
            events,
            cmd_name,
            user,
            if self.has(flags::TRACKING) { self.tracking.redirect as i64 } else { -1 },
            self.reply.resp,
        );
    }
}

/// What a command's arguments count for in a client's memory: their bytes and one pointer
/// each (Redis's argv_len_sum + sizeof(robj*) * argc).
pub fn argv_mem(argv: &[Bytes]) -> usize {
    argv.iter().map(|a| a.len()).sum::<usize>() + argv.len() * std::mem::size_of::<usize>()
}
