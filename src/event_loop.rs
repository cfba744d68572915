//! The reactor: one `mio::Poll` for the listeners, every client socket and the signal pipe.
//! Readiness becomes reads into query buffers (then dispatch) and writes of pending replies;
//! `run` alternates `poll` with `server_cron` (at `hz`) and `before_sleep`.
//!
//! Sockets are edge-triggered, so a readable client is read until the kernel has nothing more
//! or a per-event budget is spent (then it is retried next iteration without waiting).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use mio::net::{TcpListener, UnixListener, UnixStream};
use mio::{Events, Interest, Token};

use crate::client::{flags, Client, Conn};
use crate::server::Server;

/// Token of the signal pipe.
const SIGNAL_TOKEN: Token = Token(usize::MAX - 1);
/// Token of the replica's connection to its master during the handshake and transfer.
pub const REPL_LINK_TOKEN: Token = Token(usize::MAX - 3);
/// Token of the read end of the diskless-replication RDB pipe.
pub const RDB_PIPE_TOKEN: Token = Token(usize::MAX - 4);
/// Listener tokens count down from here.
const LISTENER_BASE: usize = usize::MAX - 16;

/// Bytes read per read call (Redis's PROTO_IOBUF_LEN).
const IOBUF_LEN: usize = 16 * 1024;
/// Bytes one client may read per readiness event before others get a turn.
const READ_BUDGET: usize = 1024 * 1024;
/// Bytes written to one client per iteration (Redis's NET_MAX_WRITES_PER_EVENT).
const MAX_WRITES_PER_EVENT: usize = 64 * 1024;

/// A listening socket.
pub enum Listener {
    Tcp(TcpListener, SocketAddr),
    Unix(UnixListener, String),
}

impl Listener {
    /// The socket path of a unix listener.
    pub fn unix_path(&self) -> Option<&str> {
        match self {
            Listener::Unix(_, p) => Some(p),
            Listener::Tcp(..) => None,
        }
    }
}

/// Set by the signal handler on SIGTERM/SIGINT, cleared when a shutdown is aborted: a second
/// SIGINT while it is set exits at once, even while the reactor is busy in a synchronous save.
pub static SHUTDOWN_SIGNALLED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// `temp-<pid>.rdb`, which that immediate exit removes (Redis's rdbRemoveTempFile).
static TEMP_RDB: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();

/// Install the part of SIGTERM/SIGINT handling that must run inside the handler (after
/// daemonizing: the temp file name holds our pid).
pub fn install_insist_handler() {
    let _ = TEMP_RDB
        .set(std::ffi::CString::new(format!("temp-{}.rdb", std::process::id())).expect("no NUL"));
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let handler = move || {
            use std::sync::atomic::Ordering;
            if SHUTDOWN_SIGNALLED.swap(true, Ordering::SeqCst) && sig == libc::SIGINT {
                const MSG: &[u8] = b"You insist... exiting now.\n";
                // SAFETY: write, unlink and _exit are async-signal-safe; the path was built
                // before the handler was installed.
                unsafe {
                    libc::write(2, MSG.as_ptr().cast(), MSG.len());
                    if let Some(p) = TEMP_RDB.get() {
                        libc::unlink(p.as_ptr());
                    }
                    libc::_exit(1);
                }
            }
        };
        // SAFETY: the handler only touches an atomic and async-signal-safe calls.
        unsafe { signal_hook::low_level::register(sig, handler) }.expect("register signal");
    }
}

/// Exit the process at once, without running destructors (the state may be huge).
pub fn exit_now(code: i32) -> ! {
    crate::log::flush();
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

fn bind_tcp(addr: &str, port: u16, backlog: i32) -> io::Result<TcpListener> {
    let (addr, optional) = match addr.strip_prefix('-') {
        Some(a) => (a, true),
        None => (addr, false),
    };
    let ip: std::net::IpAddr = match addr {
        "*" => "0.0.0.0".parse().unwrap(),
        "::*" => "::".parse().unwrap(),
        a => a
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "Invalid argument"))?,
    };
    let sa = SocketAddr::new(ip, port);
    let domain = if ip.is_ipv4() {
        nix::sys::socket::AddressFamily::Inet
    } else {
        nix::sys::socket::AddressFamily::Inet6
    };
    use nix::sys::socket::{
        bind, listen, setsockopt, socket, sockopt, Backlog, SockFlag, SockType, SockaddrStorage,
    };
    let fd = socket(
        domain,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(io::Error::from)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(io::Error::from)?;
    if ip.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &true).map_err(io::Error::from)?;
    }
    let res = bind(fd.as_raw_fd(), &SockaddrStorage::from(sa))
        .and_then(|_| listen(&fd, Backlog::new(backlog).unwrap_or(Backlog::MAXCONN)));
    if let Err(e) = res {
        let _ = optional;
        return Err(io::Error::from(e));
    }
    let std_l: std::net::TcpListener = std::net::TcpListener::from(fd);
    Ok(TcpListener::from_std(std_l))
}

impl Server {
    /// Bind every configured address, the unix socket, and the signal pipe. Logs and returns an
    /// error the caller turns into exit code 1, as Redis does.
    /// Bind TCP listeners for `port` on `binds` (Redis's listenToPort): an address prefixed
    /// with `-` is optional, and unsupported address families are skipped.
    pub fn bind_tcp_listeners(&self, port: u16, binds: &[String]) -> io::Result<Vec<Listener>> {
        let mut out = Vec::new();
        if port == 0 {
            return Ok(out);
        }
        for addr in binds {
            match bind_tcp(addr, port, self.config.tcp_backlog as i32) {
                Ok(l) => {
                    let local = l.local_addr()?;
                    out.push(Listener::Tcp(l, local));
                }
                Err(e) => {
                    let optional = addr.starts_with('-');
                    let unsupported = matches!(
                        e.raw_os_error(),
                        Some(libc::EAFNOSUPPORT)
                            | Some(libc::EPROTONOSUPPORT)
                            | Some(libc::ESOCKTNOSUPPORT)
                            | Some(libc::EADDRNOTAVAIL)
                    );
                    if optional && unsupported {
                        continue;
                    }
                    log::warn!(
                        "Warning: Could not create server TCP listening socket {}:{}: {}",
                        addr.trim_start_matches('-'),
                        port,
                        e
                    );
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// Register listeners with the poller under their tokens.
    fn register_listeners(&mut self) -> io::Result<()> {
        for (i, l) in self.listeners.iter_mut().enumerate() {
            let token = Token(LISTENER_BASE - i);
            let r = match l {
                Listener::Tcp(t, _) => self
                    .poll
                    .registry()
                    .reregister(t, token, Interest::READABLE)
                    .or_else(|_| self.poll.registry().register(t, token, Interest::READABLE)),
                Listener::Unix(u, _) => self
                    .poll
                    .registry()
                    .reregister(u, token, Interest::READABLE)
                    .or_else(|_| self.poll.registry().register(u, token, Interest::READABLE)),
            };
            r?;
        }
        Ok(())
    }

    /// Replace the TCP listeners (CONFIG SET port / bind), like Redis's changeListenPort /
    /// changeBindAddr. The old sockets are closed first (the new set may reuse the same
    /// address); if the new set cannot be bound, the old configuration is bound again.
    pub fn rebind_tcp(&mut self, port: u16, binds: &[String]) -> io::Result<()> {
        let old_port = self.listeners.iter().find_map(|l| match l {
            Listener::Tcp(_, a) => Some(a.port()),
            _ => None,
        });
        let (old_port, old_binds) = (
            old_port.unwrap_or(self.config.port as u16),
            self.active_binds.clone(),
        );
        let all = std::mem::take(&mut self.listeners);
        let mut unix = Vec::new();
        for mut l in all {
            match &mut l {
                Listener::Tcp(t, _) => {
                    let _ = self.poll.registry().deregister(t);
                }
                Listener::Unix(..) => unix.push(l),
            }
        }
        let result = match self.bind_tcp_listeners(port, binds) {
            Ok(new) => {
                self.active_binds = binds.to_vec();
                Ok(new)
            }
            Err(e) => {
                let restored = self
                    .bind_tcp_listeners(old_port, &old_binds)
                    .unwrap_or_default();
                Err((e, restored))
            }
        };
        let (err, tcp) = match result {
            Ok(v) => (None, v),
            Err((e, v)) => (Some(e), v),
        };
        self.listeners = tcp;
        self.listeners.extend(unix);
        let _ = self.register_listeners();
        match err {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    pub fn listen(&mut self) -> io::Result<()> {
        let port = self.config.port as u16;
        let binds = self.config.bind.clone();
        match self.bind_tcp_listeners(port, &binds) {
            Ok(ls) => {
                self.listeners = ls;
                self.active_binds = binds.clone();
            }
            Err(e) => {
                log::warn!("Failed listening on port {} (tcp), aborting.", port);
                return Err(e);
            }
        }
        if let Some(path) = self.config.unixsocket.clone() {
            let _ = std::fs::remove_file(&path);
            match UnixListener::bind(&path) {
                Ok(l) => {
                    use std::os::unix::fs::PermissionsExt;
                    if self.config.unixsocketperm != 0 {
                        let _ = std::fs::set_permissions(
                            &path,
                            std::fs::Permissions::from_mode(self.config.unixsocketperm as u32),
                        );
                    }
                    self.listeners.push(Listener::Unix(l, path));
                }
                Err(e) => {
                    log::warn!("Failed opening Unix socket: {}", e);
                    return Err(e);
                }
            }
        }
        if self.listeners.is_empty() && !binds.is_empty() {
            log::warn!("Configured to not listen anywhere, exiting.");
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no listening sockets",
            ));
        }
        self.register_listeners()
    }

    /// Register the signal self-pipe with the poller (done before loading data, so SIGTERM
    /// is noticed while loading too).
    pub fn set_signal_pipe(&mut self, mut signals: UnixStream) {
        self.poll
            .registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)
            .expect("register signal pipe");
        self.signals = Some(signals);
    }

    /// Run the reactor until shutdown.
    pub fn run(&mut self) -> ! {
        let mut events = self.events.take().expect("events buffer");
        let mut next_cron = self.now_ms;
        loop {
            self.update_cached_time();
            if self.now_ms >= next_cron {
                if !self.cron_paused {
                    self.server_cron();
                }
                next_cron = self.now_ms + 1000 / self.hz.max(1) as i64;
            }
            // The eviction timer fires on every turn while it is armed (a 0 ms time event).
            if self.evict.proc_running {
                crate::evict::eviction_time_proc(self);
            }
            self.before_sleep();
            let timeout = if self.pending_reads.is_empty() && !self.evict.proc_running {
                let wake = self
                    .blocking
                    .next_timeout()
                    .map_or(next_cron, |t| t.min(next_cron));
                Duration::from_millis((wake - self.now_ms).clamp(0, 1000) as u64)
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warn!("poll failed: {e}");
                }
                continue;
            }
            self.update_cached_time();
            self.handle_events(&events);
        }
    }

    /// Dispatch one batch of readiness events.
    fn handle_events(&mut self, events: &Events) {
        // Remembered for a long command run from this batch (process_events_while_blocked).
        self.batch_readable.clear();
        self.batch_readable.extend(
            events
                .iter()
                .filter(|ev| {
                    ev.token().0 < LISTENER_BASE - 16 && (ev.is_readable() || ev.is_read_closed())
                })
                .map(|ev| ev.token().0),
        );
        let retry = std::mem::take(&mut self.pending_reads);
        for key in retry {
            self.handle_readable(key);
        }
        for ev in events.iter() {
            let token = ev.token();
            if token == SIGNAL_TOKEN {
                if let Some(mut pipe) = self.signals.take() {
                    self.handle_signals(&mut pipe);
                    self.signals = Some(pipe);
                }
            } else if token == REPL_LINK_TOKEN {
                self.repl_link_event(ev.is_writable() || ev.is_error() || ev.is_write_closed());
            } else if token == RDB_PIPE_TOKEN {
                self.rdb_pipe_readable();
            } else if token.0 > LISTENER_BASE - 16 && token.0 <= LISTENER_BASE {
                if LISTENER_BASE - token.0 < self.listeners.len() {
                    self.accept(LISTENER_BASE - token.0);
                }
            } else {
                let read = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                // Redis's AE_BARRIER: with appendfsync always, write before reading, so the
                // reply to a command read now waits for before_sleep, which writes (and
                // fsyncs) the AOF first; output already pending was covered by the last one.
                let barrier = self.fsync_barrier();
                if ev.is_writable() && barrier {
                    self.handle_writable(token.0);
                }
                if read {
                    self.handle_readable(token.0);
                }
                if ev.is_writable() && !barrier {
                    self.handle_writable(token.0);
                }
            }
        }
    }

    /// Must replies wait until the AOF is written (appendfsync always)?
    fn fsync_barrier(&self) -> bool {
        self.aof_active() && self.config.appendfsync == crate::config::AppendFsync::Always
    }

    /// Serve clients from inside a long operation (loading a dataset, later a busy script):
    /// Redis's processEventsWhileBlocked. Commands run in the restricted mode the dispatcher
    /// applies while `loading` (or busy) is set, so the keyspace being built is never touched
    /// by them; the client running the long operation is out of the slab and not served.
    pub fn process_events_while_blocked(&mut self) {
        self.update_cached_time();
        let mut events = self
            .nested_events
            .take()
            .unwrap_or_else(|| Events::with_capacity(128));
        // Readiness is edge-triggered: clients whose events sit unhandled in the outer batch
        // (behind the command now running) are never reported again, so read them here.
        for key in std::mem::take(&mut self.batch_readable) {
            self.handle_readable(key);
        }
        for _ in 0..4 {
            self.flush_pending_writes();
            if self.poll.poll(&mut events, Some(Duration::ZERO)).is_err() || events.is_empty() {
                break;
            }
            self.handle_events(&events);
        }
        self.flush_pending_writes();
        let closing = std::mem::take(&mut self.close_asap);
        for key in closing {
            self.close_client(key);
        }
        self.nested_events = Some(events);
        // Redis's whileBlockedCron: a SIGTERM while loading exits without saving.
        if self.shutdown_asap && self.persistence.loading {
            let flags = crate::commands::server::ShutdownFlags {
                nosave: true,
                ..Default::default()
            };
            if self.prepare_for_shutdown(flags) {
                exit_now(0);
            }
            self.shutdown_asap = false;
        }
    }

    fn handle_signals(&mut self, pipe: &mut UnixStream) {
        let mut buf = [0u8; 64];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &sig in &buf[..n] {
                        self.on_signal(sig as i32);
                    }
                }
                Err(_) => break,
            }
        }
    }

    fn on_signal(&mut self, sig: i32) {
        let name = if sig == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        if self.shutdown_asap && sig == libc::SIGINT {
            log::warn!("You insist... exiting now.");
            exit_now(1);
        }
        if self.persistence.loading {
            log::warn!("Received shutdown signal during loading, scheduling shutdown.");
        } else {
            log::warn!("Received {} scheduling shutdown...", name);
        }
        self.shutdown_asap = true;
        self.last_sig_received = sig;
    }

    fn accept(&mut self, idx: usize) {
        loop {
            let accepted = match &self.listeners[idx] {
                Listener::Tcp(l, local) => l.accept().map(|(s, peer)| {
                    let _ = s.set_nodelay(true);
                    let local = s.local_addr().unwrap_or(*local);
                    (Conn::Tcp(s), fmt_addr(&peer), fmt_addr(&local), false)
                }),
                Listener::Unix(l, path) => l.accept().map(|(s, _)| {
                    (
                        Conn::Unix(s),
                        format!("{}:0", path),
                        format!("{}:0", path),
                        true,
                    )
                }),
            };
            match accepted {
                Ok((conn, addr, laddr, unix)) => self.register_client(conn, addr, laddr, unix),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("Accepting client connection: {}", e);
                    return;
                }
            }
        }
    }

    fn register_client(&mut self, mut conn: Conn, addr: String, laddr: String, unix: bool) {
        if let Conn::Tcp(s) = &conn {
            if self.config.tcp_keepalive > 0 {
                set_keepalive(s.as_raw_fd(), self.config.tcp_keepalive as i32);
            }
        }
        self.stats.total_connections += 1;
        if self.config.protected_mode
            && self.acl.default_user().has(crate::acl::uflags::NOPASS)
            && !unix
            && !is_loopback(&addr)
        {
            let _ = conn.write(PROTECTED_MODE_DENIED.as_bytes());
            self.stats.rejected_connections += 1;
            return;
        }
        if self.clients.len() >= self.config.maxclients as usize {
            let _ = conn.write(b"-ERR max number of clients reached\r\n");
            self.stats.rejected_connections += 1;
            self.stats.record_error("ERR max number of clients reached");
            return;
        }
        let entry = self.clients.vacant_entry();
        let key = entry.key();
        if self
            .poll
            .registry()
            .register(conn.source(), Token(key), Interest::READABLE)
            .is_err()
        {
            return;
        }
        let id = self.next_client_id;
        self.next_client_id += 1;
        let mut c = Client::new(id, Some(conn), addr, laddr, self.now_ms);
        c.key = key;
        if unix {
            c.flags |= flags::UNIX_SOCKET;
        }
        c.authenticated = self.acl.default_is_open();
        entry.insert(Some(Box::new(c)));
        self.client_ids.insert(id, key);
        log::debug!("Accepted client id {}", id);
    }

    /// Read what the socket has and process complete commands.
    pub fn handle_readable(&mut self, key: usize) {
        let Some(Some(mut c)) = self.clients.get_mut(key).map(|s| s.take()) else {
            return;
        };
        let mut budget = READ_BUDGET;
        let mut closed = false;
        loop {
            if c.has(flags::CLOSE_AFTER_REPLY) || c.has(flags::CLOSE_ASAP) {
                break;
            }
            // A big bulk argument is read into a buffer of exactly its size and no more
            // (Redis's readQueryFromClient asks only for the rest of it), so the argument
            // needs no copy and the buffer never doubles past it: the client's memory is
            // what it sent, which client eviction (maxmemory-clients) compares.
            let want = match c.parse.pending_bulk() {
                Some(n) if n >= crate::resp::parse::PROTO_MBULK_BIG_ARG => {
                    match (n + 2).saturating_sub(c.querybuf.len()) {
                        0 => IOBUF_LEN,
                        rest => rest,
                    }
                }
                _ => IOBUF_LEN,
            };
            c.querybuf.reserve(want);
            let Some(conn) = c.conn.as_mut() else { break };
            let spare = c.querybuf.spare_capacity_mut();
            let asked = spare.len().min(want);
            // SAFETY: read() only writes into the buffer; we zero-initialize nothing and
            // only advance the length by what the kernel reported as written.
            let buf =
                unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr() as *mut u8, asked) };
            match conn.read(buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    let start = c.querybuf.len();
                    // SAFETY: the kernel initialized the first n bytes of spare capacity.
                    unsafe { c.querybuf.set_len(c.querybuf.len() + n) };
                    if c.master.is_some() {
                        self.master_read(&mut c, start);
                    }
                    self.stats.net_input_bytes += n as u64;
                    self.stats.io_reads += 1;
                    c.last_interaction_ms = self.now_ms;
                    if c.querybuf.len() > c.querybuf_peak {
                        c.querybuf_peak = c.querybuf.len();
                    }
                    self.process_input(&mut c);
                    if c.querybuf.len() as u64 > self.config.client_query_buffer_limit {
                        log::warn!(
                            "Closing client that reached max query buffer length: {} (qbuf initial bytes: {:?})",
                            self.client_info(&c),
                            String::from_utf8_lossy(&c.querybuf[..c.querybuf.len().min(64)])
                        );
                        self.stats.client_qbuf_limit_disconnections += 1;
                        closed = true;
                        break;
                    }
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        self.pending_reads.push(key);
                        break;
                    }
                    // A short read emptied the socket's receive queue: whatever arrives
                    // from now on raises a new edge, so asking again would only return
                    // EAGAIN. Redis reads once per event too; this saves that syscall
                    // on every unpipelined command.
                    if n < asked {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("Reading from client: {}", e);
                    closed = true;
                    break;
                }
            }
        }
        self.put_back(key, c);
        if closed {
            self.close_client(key);
        }
    }

    /// Return a client taken out for processing to its slot and queue its output.
    pub fn put_back(&mut self, key: usize, c: Box<Client>) {
        let wants_write = !c.pending_write && self.has_pending_output(&c);
        let close = c.has(flags::CLOSE_ASAP);
        if let Some(slot) = self.clients.get_mut(key) {
            *slot = Some(c);
            if wants_write {
                if let Some(Some(c)) = self.clients.get_mut(key) {
                    c.pending_write = true;
                }
                self.pending_writes.push(key);
            }
            if close {
                self.close_asap.push(key);
            }
        }
    }

    /// Flush every client with pending output (before the reactor sleeps).
    pub fn flush_pending_writes(&mut self) {
        while !self.pending_writes.is_empty() {
            let keys = std::mem::take(&mut self.pending_writes);
            for key in keys {
                if let Some(Some(c)) = self.clients.get_mut(key) {
                    c.pending_write = false;
                }
                self.write_to_client(key, true);
            }
        }
    }

    fn handle_writable(&mut self, key: usize) {
        self.write_to_client(key, false);
    }

    /// Does the client have anything to write: replies, or for a replica an RDB transfer or
    /// stream bytes?
    pub fn has_pending_output(&self, c: &Client) -> bool {
        if c.reply.pending() > 0 {
            return true;
        }
        let Some(r) = &c.repl else { return false };
        match r.state {
            Some(crate::replication::ReplicaState::SendBulk) => true,
            Some(crate::replication::ReplicaState::WaitBgsaveEnd) => self
                .repl
                .rdb_pipe
                .as_ref()
                .is_some_and(|p| p.conns.contains(&c.key) && r.pipe_off < p.buf.len()),
            _ => self.replica_has_stream_to_send(c),
        }
    }

    /// Register or unregister interest in WRITABLE for client `key`.
    pub fn set_write_interest(&mut self, key: usize, on: bool) {
        let Some(Some(c)) = self.clients.get_mut(key) else {
            return;
        };
        if c.write_registered == on {
            return;
        }
        c.write_registered = on;
        let interest = if on {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if let Some(conn) = c.conn.as_mut() {
            let _ = self
                .poll
                .registry()
                .reregister(conn.source(), Token(key), interest);
        }
    }

    /// Write pending output; register for WRITABLE if the socket is full. A replica's output
    /// is its replies, then the RDB being transferred or the replication stream.
    fn write_to_client(&mut self, key: usize, from_before_sleep: bool) {
        let mut written = 0usize;
        let mut failed = false;
        let mut progress = crate::replication::master::Progress::default();
        {
            let Server { clients, repl, .. } = self;
            let Some(Some(c)) = clients.get_mut(key) else {
                return;
            };
            // Nothing more goes to a client that is about to be closed (over its output
            // limits, evicted, killed): Redis skips them in handleClientsWithPendingWrites.
            if c.has(flags::CLOSE_ASAP) {
                return;
            }
            loop {
                let Some(mut conn) = c.conn.take() else { break };
                let res = match crate::replication::master::next_output(c, repl) {
                    Ok(Some((chunk, src))) => Some((conn.write(chunk), src)),
                    Ok(None) => None,
                    Err(e) => {
                        log::warn!("Read error sending DB to replica: {}", e);
                        failed = true;
                        None
                    }
                };
                c.conn = Some(conn);
                let Some((res, src)) = res else { break };
                match res {
                    Ok(0) => break,
                    Ok(n) => {
                        crate::replication::master::advance(c, repl, src, n, &mut progress);
                        written += n;
                        if written >= MAX_WRITES_PER_EVENT && !from_before_sleep {
                            break;
                        }
                        if src == crate::replication::master::OutSrc::Bulk && progress.bulk_done {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        log::debug!("Error writing to client: {}", e);
                        failed = true;
                        break;
                    }
                }
            }
        }
        self.stats.net_output_bytes += written as u64;
        if written > 0 {
            self.stats.io_writes += 1;
        }
        if failed {
            self.close_client(key);
            return;
        }
        if progress.stream_moved {
            let size = self.config.repl_backlog_size;
            self.repl
                .trim_backlog(size, crate::replication::backlog::TRIM_BLOCKS_PER_CALL);
        }
        if progress.bulk_done {
            self.replica_bulk_done(key);
        }
        let Some(Some(c)) = self.clients.get(key) else {
            return;
        };
        let pending = self.has_pending_output(c);
        let close_after = c.has(flags::CLOSE_AFTER_REPLY);
        if !pending && close_after {
            self.close_client(key);
            return;
        }
        self.set_write_interest(key, pending);
        if progress.pipe_chunk_done {
            self.rdb_pipe_conn_drained();
        }
    }

    /// Disconnect and free a client.
    pub fn close_client(&mut self, key: usize) {
        let Some(slot) = self.clients.get_mut(key) else {
            return;
        };
        let Some(mut c) = slot.take() else {
            // Executing right now: close it when the command returns.
            return;
        };
        if let Some(conn) = c.conn.as_mut() {
            let _ = self.poll.registry().deregister(conn.source());
        }
        self.clients.remove(key);
        self.client_ids.remove(&c.id);
        crate::tracking::disable(self, &mut c);
        self.monitors.retain(|&k| k != key);
        self.pending_writes.retain(|&k| k != key);
        self.pending_reads.retain(|&k| k != key);
        crate::commands::pubsub::unsubscribe_all(self, &mut c);
        crate::commands::multi::unwatch_all(self, &mut c);
        crate::blocking::on_client_close(self, key);
        self.close_asap.retain(|&k| k != key);
        if c.repl.is_some() {
            self.on_replica_close(&c);
        }
        if c.master.is_some() {
            self.on_master_close(&mut c);
        }
        log::debug!("Client closed connection id={}", c.id);
    }
}

/// Watch the read end of the diskless RDB pipe.
pub fn register_rdb_pipe(srv: &mut Server, f: &mut std::fs::File) {
    let fd = f.as_raw_fd();
    let _ = srv.poll.registry().register(
        &mut mio::unix::SourceFd(&fd),
        RDB_PIPE_TOKEN,
        Interest::READABLE,
    );
}

/// Stop watching the diskless RDB pipe.
pub fn deregister_rdb_pipe(srv: &mut Server) {
    if let Some(p) = &srv.repl.rdb_pipe {
        let fd = p.read.as_raw_fd();
        let _ = srv
            .poll
            .registry()
            .deregister(&mut mio::unix::SourceFd(&fd));
    }
}

/// Format a peer address as Redis does (`ip:port`, IPv6 without brackets).
pub fn fmt_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("{}:{}", v6.ip(), v6.port()),
    }
}

fn set_keepalive(fd: i32, interval: i32) {
    // SAFETY: plain setsockopt calls on a socket we own, with correctly sized int options.
    unsafe {
        let yes: libc::c_int = 1;
        let sz = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            &yes as *const _ as *const _,
            sz,
        );
        let idle: libc::c_int = interval;
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPIDLE,
            &idle as *const _ as *const _,
            sz,
        );
        let intvl: libc::c_int = (interval / 3).max(1);
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPINTVL,
            &intvl as *const _ as *const _,
            sz,
        );
        let cnt: libc::c_int = 3;
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPCNT,
            &cnt as *const _ as *const _,
            sz,
        );
    }
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("::1:")
}

const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
