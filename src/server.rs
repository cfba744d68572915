//! The one owner: every database, client, the configuration, statistics and timers live in
//! [`Server`], which only the reactor thread touches. `server_cron` runs periodic work at `hz`;
//! `before_sleep` runs once per event-loop iteration before the reactor waits (flushing
//! replies, closing clients). A fork child inherits a copy of this struct and only reads it.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mio::{Events, Poll};
use slab::Slab;

use crate::client::Client;
use crate::command::table::CommandTable;
use crate::config::Config;
use crate::db::Db;
use crate::event_loop::Listener;
use crate::latency::LatencyMonitor;
use crate::slowlog::SlowLog;

/// Counters shown by INFO stats and friends.
#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections: u64,
    pub rejected_connections: u64,
    pub total_commands: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    /// Clients disconnected by `maxmemory-clients`.
    pub evicted_clients: u64,
    /// When memory went over `maxmemory` without eviction catching up (None: it did not).
    pub eviction_exceeded_since: Option<Instant>,
    /// Time spent over `maxmemory` in past episodes, µs.
    pub total_eviction_exceeded_us: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub errors: HashMap<String, u64>,
    pub errors_disabled: bool,
    pub peak_memory: usize,
    pub client_qbuf_limit_disconnections: u64,
    pub client_outbuf_limit_disconnections: u64,
    pub io_reads: u64,
    pub io_writes: u64,
    /// Instantaneous metrics: (last sample time ms, last value) and ring of samples.
    pub inst: [InstMetric; 4],
}

/// Indexes of [`Stats::inst`].
pub const INST_COMMANDS: usize = 0;
pub const INST_NET_INPUT: usize = 1;
pub const INST_NET_OUTPUT: usize = 2;

/// A sampled rate (Redis's trackInstantaneousMetric).
#[derive(Debug, Default, Clone)]
pub struct InstMetric {
    last_time_ms: i64,
    last_value: u64,
    samples: [u64; 16],
    idx: usize,
}

impl InstMetric {
    /// Record the current counter value at time `now_ms`.
    pub fn track(&mut self, now_ms: i64, value: u64) {
        if self.last_time_ms > 0 {
            let dt = (now_ms - self.last_time_ms).max(1) as u64;
            let dv = value.saturating_sub(self.last_value);
            self.samples[self.idx] = dv * 1000 / dt;
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_time_ms = now_ms;
        self.last_value = value;
    }

    /// The average of the samples.
    pub fn get(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

impl Stats {
    /// Count an error reply by its code (the first word), as Redis's afterErrorReply does.
    pub fn record_error(&mut self, text: &str) {
        self.total_error_replies += 1;
        if self.errors_disabled {
            return;
        }
        let code = text.split(' ').next().unwrap_or("ERR");
        let code = if code.len() > 31 || code.is_empty() {
            "ERR"
        } else {
            code
        };
        if let Some(n) = self.errors.get_mut(code) {
            *n += 1;
        } else if self.errors.len() >= 128 {
            // Redis stops tracking new error codes past 128 distinct ones.
            self.errors.clear();
            self.errors_disabled = true;
            log::warn!("Errorstats stopped adding new errors because the number of different errors reached 128; Errorstats will be disabled until the next CONFIG RESETSTAT.");
        } else {
            self.errors.insert(code.to_string(), 1);
        }
    }
}

/// Client pause state (CLIENT PAUSE).
#[derive(Debug, Default, Clone, Copy)]
pub struct Pause {
    /// Pause end time in ms; 0 when not paused.
    pub end_ms: i64,
    /// Only writes are paused (WRITE), vs all commands (ALL).
    pub write_only: bool,
}

/// The server: everything the reactor owns.
pub struct Server {
    pub config: Config,
    pub config_file: Option<String>,
    pub dbs: Vec<Db>,
    /// Clients by mio token. A slot is `None` while its client is executing a command (the
    /// client is then held by the dispatcher) or when the slot is being torn down.
    pub clients: Slab<Option<Box<Client>>>,
    /// Client id → slab key, for messages addressed by id (tracking redirection).
    pub client_ids: std::collections::HashMap<u64, usize>,
    /// Client-side caching: tracked keys, BCAST prefixes, pending invalidations.
    pub tracking: crate::tracking::Tracking,
    pub next_client_id: u64,
    pub commands: CommandTable,
    /// Users, their permissions, and the ACL log.
    pub acl: crate::acl::Acl,
    pub stats: Stats,
    pub slowlog: SlowLog,
    pub latency: LatencyMonitor,
    /// The thread that frees big deleted values (UNLINK, FLUSHALL ASYNC, lazyfree-lazy-*).
    pub lazyfree: crate::lazyfree::LazyFree,
    pub poll: Poll,
    pub events: Option<Events>,
    /// Events buffer of the nested loop that serves clients during long operations.
    pub nested_events: Option<Events>,
    /// Client slab keys reported readable in the batch being handled.
    pub batch_readable: Vec<usize>,
    /// Read end of the signal self-pipe.
    pub signals: Option<mio::net::UnixStream>,
    pub listeners: Vec<Listener>,
    /// The bind addresses the TCP listeners were created for.
    pub active_binds: Vec<String>,
    /// Tokens of clients with replies to flush before the reactor sleeps.
    pub pending_writes: Vec<usize>,
    /// Tokens of clients that may still have unread input (read budget hit).
    pub pending_reads: Vec<usize>,
    /// Tokens of clients to close before the reactor sleeps.
    pub close_asap: Vec<usize>,
    /// Tokens of MONITOR clients.
    pub monitors: Vec<usize>,
    pub pid: i32,
    pub start_instant: Instant,
    pub start_time_ms: i64,
    /// Cached wall-clock ms, updated every loop iteration and before each command.
    pub now_ms: i64,
    /// Time snapshot for the current command (keys expire consistently inside it).
    pub cmd_time_ms: i64,
    /// The wall clock (µs) and the monotonic clock read together at the last
    /// [`Server::update_cached_time`]: a command's wall time is derived from the one
    /// monotonic reading it takes anyway (see [`Server::wall_us_at`]).
    pub clock_base: (Instant, i64),
    pub lruclock: u32,
    /// Changes since the last save.
    pub dirty: u64,
    pub lastsave: i64,
    pub cronloops: u64,
    pub hz: i32,
    pub shutdown_asap: bool,
    /// MIGRATE's cached connections.
    pub migrate: crate::commands::migrate::MigrateCache,
    /// The signal that asked for the shutdown (SIGINT/SIGTERM), 0 for none.
    pub last_sig_received: i32,
    /// A shutdown waiting for lagging replicas: its deadline (ms) and flags (0: none).
    pub shutdown_mstime: i64,
    pub shutdown_flags: crate::commands::server::ShutdownFlags,
    /// Writes are paused while a shutdown waits for replicas.
    pub pause_shutdown: bool,
    /// CLIENT PAUSE.
    pub pause: Pause,
    /// Writes paused while a FAILOVER waits for a replica to catch up (Redis's
    /// PAUSE_DURING_FAILOVER).
    pub pause_failover: bool,
    /// DEBUG PAUSE-CRON.
    pub cron_paused: bool,
    pub active_expire_enabled: bool,
    /// DEBUG REPLYBUFFER RESIZING: cron resizes reply buffers to their peak.
    pub reply_buffer_resizing: bool,
    /// DEBUG REPLYBUFFER PEAK-RESET-TIME: how often (ms) a reply buffer's peak is reset, so an
    /// idle client's buffer shrinks; negative is never.
    pub reply_buffer_peak_reset_ms: i64,
    pub executable: String,
    pub run_id: String,
    /// Replication: ids, offsets, backlog, replicas, and the link to our master.
    pub repl: crate::replication::Replication,
    /// Commands to propagate once the current execution unit ends (Redis's
    /// server.also_propagate), see `propagate`.
    pub also_propagate: Vec<crate::propagate::PropOp>,
    /// Depth of nested call()s (EXEC runs its commands nested).
    pub in_nested_call: u32,
    /// Propagate pending commands without wrapping them in MULTI/EXEC (active expiry).
    pub propagate_no_multi: bool,
    /// Where commands executed now propagate (a script's redis.set_repl narrows it).
    pub propagate_target: u8,
    /// Lua scripts and function libraries.
    pub scripting: crate::scripting::Scripting,
    /// The command running was sent by our master (keys do not expire for it).
    pub executing_master: bool,
    pub tcp_port: u16,
    /// Whether the process is the original (false in fork children).
    pub in_fork_child: bool,
    /// In a fork child: where it reports its progress to the parent (the child info pipe).
    pub child_reporter: Option<crate::persistence::childinfo::Reporter>,
    /// The watchdog period in use (ms; 0: off), re-armed from cron.
    pub watchdog_period: i64,
    /// The append-only file.
    pub aof: crate::persistence::aof::Aof,
    /// Set while in EXEC (commands run from a transaction).
    pub in_exec: bool,
    pub pubsub: crate::commands::pubsub::PubSub,
    pub watches: crate::commands::multi::Watches,
    pub blocking: crate::blocking::Blocking,
    /// Active expiry's state between cycles and its statistics.
    pub expire_cycle: crate::db::expire::CycleState,
    /// Keys a writable replica's clients gave a TTL, expired from cron.
    pub replica_keys_with_expire: crate::db::expire::ReplicaKeysWithExpire,
    /// Key eviction under `maxmemory`: the sampling pool and the eviction timer.
    pub evict: crate::evict::Evictor,
    /// The command being executed started over `maxmemory` with nothing to evict (scripts
    /// refuse their first write then, even if memory changes while they run).
    pub pre_command_oom_state: bool,
    /// `maxmemory` or `maxmemory-clients` is set: commands go through eviction first.
    pub memory_limits: bool,
    pub persistence: crate::persistence::PersistenceState,
    /// used_memory right after start-up (INFO used_memory_startup).
    pub startup_memory: usize,
    /// Error reply count when the innermost running command started (failed_calls).
    pub error_snapshot: u64,
    /// oom_score_adj before we first changed it, while we control it.
    pub oom_score_adj_base: Option<i32>,
    pub bgsave: crate::persistence::bgsave::BgSave,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and RDB loading skip the CRC64 check.
    pub skip_checksum_validation: bool,
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn mstime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Wall-clock microseconds since the Unix epoch.
pub fn ustime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Default period of the reply buffer peak reset (Redis's REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME).
pub const REPLY_BUFFER_PEAK_RESET_MS: i64 = 5000;

/// Redis's LRU clock resolution and width.
pub const LRU_CLOCK_RESOLUTION_MS: i64 = 1000;
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// The LRU clock for a time in ms.
pub fn lru_clock_at(ms: i64) -> u32 {
    ((ms / LRU_CLOCK_RESOLUTION_MS) as u32) & LRU_CLOCK_MAX
}

/// `n` random lowercase hex characters (run ids, replication ids, EOF marks).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    if !ok {
        let mut x = ustime() as u64 ^ (std::process::id() as u64) << 32;
        for b in bytes.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    const HEX: &[u8] = b"0123456789abcdef";
    bytes
        .iter()
        .map(|b| HEX[(*b & 15) as usize] as char)
        .collect()
}

impl Server {
    /// A server for `config`, with nothing bound yet.
    pub fn new(
        config: Config,
        config_file: Option<String>,
        executable: String,
    ) -> std::io::Result<Server> {
        let now = mstime();
        let dbs = (0..config.databases.max(1) as usize).map(Db::new).collect();
        let commands = CommandTable::build(crate::commands::ALL);
        let hz = config.hz as i32;
        let mut acl = crate::acl::Acl::new(&crate::acl::rules(&commands, &config));
        // The old `requirepass` is the default user's password (ACLUpdateDefaultUserPassword).
        acl.set_default_password(
            config.requirepass.as_deref(),
            &crate::acl::rules(&commands, &config),
        );
        Ok(Server {
            dbs,
            clients: Slab::new(),
            client_ids: Default::default(),
            tracking: Default::default(),
            next_client_id: 1,
            commands,
            acl,
            stats: Stats::default(),
            slowlog: SlowLog::default(),
            latency: LatencyMonitor::default(),
            poll: Poll::new()?,
            events: Some(Events::with_capacity(1024)),
            nested_events: None,
            batch_readable: Vec::new(),
            signals: None,
            listeners: Vec::new(),
            active_binds: Vec::new(),
            pending_writes: Vec::new(),
            lazyfree: Default::default(),
            pending_reads: Vec::new(),
            close_asap: Vec::new(),
            monitors: Vec::new(),
            pid: std::process::id() as i32,
            start_instant: Instant::now(),
            start_time_ms: now,
            now_ms: now,
            clock_base: (Instant::now(), ustime()),
            cmd_time_ms: now,
            lruclock: lru_clock_at(now),
            dirty: 0,
            lastsave: now / 1000,
            cronloops: 0,
            hz,
            shutdown_asap: false,
            migrate: Default::default(),
            last_sig_received: 0,
            shutdown_mstime: 0,
            shutdown_flags: Default::default(),
            pause_shutdown: false,
            pause: Pause::default(),
            pause_failover: false,
            cron_paused: false,
            active_expire_enabled: true,
            reply_buffer_resizing: true,
            reply_buffer_peak_reset_ms: REPLY_BUFFER_PEAK_RESET_MS,
            executable,
            run_id: random_hex(40),
            repl: crate::replication::Replication::new(),
            also_propagate: Vec::new(),
            in_nested_call: 0,
            propagate_no_multi: false,
            propagate_target: crate::propagate::PROPAGATE_ALL,
            scripting: crate::scripting::Scripting::new(config.lua_enable_deprecated_api),
            executing_master: false,
            tcp_port: config.port as u16,
            in_fork_child: false,
            child_reporter: None,
            watchdog_period: crate::crash::watchdog::effective_period(
                config.watchdog_period,
                config.hz as i32,
            ),
            aof: crate::persistence::aof::Aof::new(config.appendonly),
            in_exec: false,
            pubsub: Default::default(),
            watches: Default::default(),
            blocking: Default::default(),
            persistence: crate::persistence::PersistenceState {
                last_save_ok: true,
                last_bgsave_time_sec: -1,
                ..Default::default()
            },
            expire_cycle: Default::default(),
            replica_keys_with_expire: Default::default(),
            evict: Default::default(),
            pre_command_oom_state: false,
            memory_limits: config.maxmemory > 0 || config.maxmemory_clients != 0,
            startup_memory: 0,
            error_snapshot: 0,
            oom_score_adj_base: None,
            bgsave: Default::default(),
            skip_checksum_validation: false,
            config,
            config_file,
        })
    }

    /// Refresh the cached clocks.
    #[inline]
    pub fn update_cached_time(&mut self) {
        let us = ustime();
        self.clock_base = (Instant::now(), us);
        self.now_ms = us / 1000;
        self.lruclock = lru_clock_at(self.now_ms);
    }

    /// Wall-clock µs at monotonic instant `t`, from the clock pair read at the last loop
    /// iteration: exact but for clock adjustments made since, which the next iteration
    /// picks up.
    #[inline]
    pub fn wall_us_at(&self, t: Instant) -> i64 {
        let (base, us) = self.clock_base;
        us + t.saturating_duration_since(base).as_micros() as i64
    }

    /// Microseconds since start, monotonic.
    pub fn uptime_secs(&self) -> i64 {
        self.start_instant.elapsed().as_secs() as i64
    }

    /// Iterate every connected client, including `current` (which is out of the slab while it
    /// executes a command), in CLIENT ID order.
    pub fn all_clients<'a>(&'a self, current: Option<&'a Client>) -> Vec<&'a Client> {
        let mut v: Vec<&Client> = self
            .clients
            .iter()
            .filter_map(|(_, c)| c.as_deref())
            .collect();
        if let Some(c) = current {
            v.push(c);
        }
        v.sort_by_key(|c| c.id);
        v
    }

    /// The CLIENT LIST line of a client.
    pub fn client_info(&self, c: &Client) -> String {
        let mut s = String::new();
        let name = c
            .last_cmd
            .map(|id| self.commands.entries[id].fullname.as_str())
            .unwrap_or("NULL");
        let user = match c.user {
            Some(id) => String::from_utf8_lossy(&self.acl.user(id).name).into_owned(),
            None => "(superuser)".to_string(),
        };
        c.info_string(self.now_ms, name, &user, &mut s);
        s
    }

    /// Number of connected clients (including one executing).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Periodic work at `hz` (Redis's serverCron).
    pub fn server_cron(&mut self) {
        self.update_cached_time();
        if self.config.dynamic_hz {
            let mut hz = self.config.hz as i32;
            while self.clients.len() / hz.max(1) as usize > 200 && hz < 500 {
                hz *= 2;
            }
            self.hz = hz.min(500);
        } else {
            self.hz = self.config.hz as i32;
        }
        let period_ms = 1000 / self.hz.max(1) as i64;
        if self.watchdog_period > 0 {
            crate::crash::watchdog::schedule(self.watchdog_period);
        }
        let every = |ms: i64, loops: u64| -> bool {
            ms <= period_ms || loops.is_multiple_of((ms / period_ms) as u64)
        };
        if every(100, self.cronloops) {
            let now = self.now_ms;
            let cmds = self.stats.total_commands;
            let nin = self.stats.net_input_bytes;
            let nout = self.stats.net_output_bytes;
            self.stats.inst[INST_COMMANDS].track(now, cmds);
            self.stats.inst[INST_NET_INPUT].track(now, nin);
            self.stats.inst[INST_NET_OUTPUT].track(now, nout);
        }
        crate::evict::refresh_expand_limit(self);
        let used = crate::alloc::used_memory();
        if used > self.stats.peak_memory {
            self.stats.peak_memory = used;
        }
        if self.pause.end_ms != 0 && self.pause.end_ms <= self.now_ms {
            self.unpause_clients();
        }
        self.clients_cron();
        self.databases_cron();
        if self.tracking.clients > 0 {
            crate::tracking::limit_used_slots(self, None);
        }
        if !self.migrate.is_empty() && every(1000, self.cronloops) {
            let now = self.now_ms / 1000;
            self.migrate.close_timed_out(now);
        }
        self.save_points_cron();
        self.aof_cron(every(1000, self.cronloops));
        let repl_period = if self.failover_in_progress() {
            100
        } else {
            1000
        };
        if every(repl_period, self.cronloops) {
            self.replication_cron();
        }
        // A signal asked for a shutdown, or one waits for lagging replicas.
        if self.shutdown_asap && !self.shutdown_initiated() {
            let configured = match self.last_sig_received {
                libc::SIGINT => self.config.shutdown_on_sigint,
                libc::SIGTERM => self.config.shutdown_on_sigterm,
                _ => crate::config::ShutdownFlags(0),
            };
            if self.prepare_for_shutdown(configured.into()) {
                crate::event_loop::exit_now(0);
            }
        } else if self.shutdown_initiated()
            && (self.now_ms >= self.shutdown_mstime || self.ready_to_shutdown())
            && self.finish_shutdown()
        {
            crate::event_loop::exit_now(0);
        }
        self.cronloops += 1;
    }

    /// Per-client periodic checks: idle timeout, query buffer shrinking.
    fn clients_cron(&mut self) {
        let timeout_ms = self.config.timeout * 1000;
        let now = self.now_ms;
        let mut to_close = Vec::new();
        let mut with_output = Vec::new();
        for (key, slot) in self.clients.iter_mut() {
            let Some(c) = slot.as_deref_mut() else {
                continue;
            };
            if timeout_ms > 0
                && !c.has(crate::client::flags::SLAVE)
                && !c.has(crate::client::flags::MASTER)
                && !c.has(crate::client::flags::BLOCKED)
                && !c.has(crate::client::flags::PUBSUB)
                && now - c.last_interaction_ms > timeout_ms
            {
                log::debug!("Closing idle client");
                to_close.push(key);
                continue;
            }
            resize_query_buffer(c, now);
            if self.reply_buffer_resizing {
                c.reply.resize_to_peak();
            }
            if self.reply_buffer_peak_reset_ms >= 0
                && now - c.reply_peak_reset_ms >= self.reply_buffer_peak_reset_ms
            {
                c.reply.peak = c.reply.pending();
                c.reply_peak_reset_ms = now;
            }
            if c.reply.pending() > 0 && !c.has(crate::client::flags::CLOSE_ASAP) {
                with_output.push(key);
            }
        }
        for key in to_close {
            self.close_client(key);
        }
        // A soft output limit also runs out while no new output arrives (Redis checks in
        // clientsCron too).
        for key in with_output {
            self.output_appended(key);
        }
    }

    /// Per-database periodic work (active expiry comes with the keyspace).
    fn databases_cron(&mut self) {
        if self.active_expire_enabled {
            if self.is_replica() {
                crate::db::expire::expire_replica_keys(self);
            } else {
                crate::db::expire::active_expire_cycle(self, crate::db::expire::Cycle::Slow);
            }
        }
        for db in &mut self.dbs {
            db.cron_resize();
        }
    }

    /// Everything to do before the reactor sleeps (Redis's beforeSleep).
    pub fn before_sleep(&mut self) {
        if self.active_expire_enabled {
            crate::db::expire::active_expire_cycle(self, crate::db::expire::Cycle::Fast);
        }
        crate::blocking::before_sleep(self);
        // Deletions of keys that expired outside commands (serving blocked clients).
        self.propagate_pending(false);
        if self.repl.get_ack && self.paused().is_none() {
            self.send_getack_to_replicas();
            self.repl.get_ack = false;
        }
        self.update_failover_status();
        crate::tracking::broadcast(self);
        if self.aof_active() {
            self.aof_flush(false);
        }
        self.flush_pending_writes();
        if self.config.maxmemory_clients != 0 {
            crate::evict::evict_clients(self, None);
        }
        let closing = std::mem::take(&mut self.close_asap);
        for key in closing {
            self.close_client(key);
        }
        if self.repl.backlog.is_some() {
            let size = self.config.repl_backlog_size;
            self.repl
                .trim_backlog(size, 10 * crate::replication::backlog::TRIM_BLOCKS_PER_CALL);
        }
    }

    /// Is a shutdown waiting for replicas?
    pub fn shutdown_initiated(&self) -> bool {
        self.shutdown_mstime != 0
    }

    /// Did every replica acknowledge the whole replication stream (isReadyToShutdown)?
    fn ready_to_shutdown(&self) -> bool {
        let offset = self.repl.master_repl_offset;
        self.repl
            .replicas
            .iter()
            .filter_map(|r| self.client_by_key(r.key, None))
            .filter_map(|c| c.repl.as_ref())
            .all(|rc| rc.ack_off == offset)
    }

    /// Redis's prepareForShutdown. Unless `now`, lagging replicas get `shutdown-timeout`
    /// seconds to catch up, with writes paused: then this returns false with the shutdown
    /// initiated, and cron finishes it. Returns true when the process may exit now; false
    /// with nothing initiated when the shutdown failed.
    pub fn prepare_for_shutdown(
        &mut self,
        mut flags: crate::commands::server::ShutdownFlags,
    ) -> bool {
        if self.shutdown_initiated() {
            return false;
        }
        if self.persistence.loading {
            // Never overwrite the dump with a half-loaded dataset.
            flags.save = false;
            flags.nosave = true;
        }
        self.shutdown_flags = flags;
        log::warn!("User requested shutdown...");
        if !flags.now && self.config.shutdown_timeout != 0 && !self.ready_to_shutdown() {
            self.shutdown_mstime = self.now_ms + self.config.shutdown_timeout * 1000;
            if self.paused().is_none() {
                self.send_getack_to_replicas();
            }
            self.pause_shutdown = true;
            log::info!("Waiting for replicas before shutting down.");
            return false;
        }
        self.finish_shutdown()
    }

    /// Stop an initiated shutdown: blocked SHUTDOWNs get an error, writes resume.
    fn cancel_shutdown(&mut self) {
        self.shutdown_asap = false;
        crate::event_loop::SHUTDOWN_SIGNALLED.store(false, std::sync::atomic::Ordering::SeqCst);
        self.shutdown_flags = Default::default();
        self.shutdown_mstime = 0;
        self.last_sig_received = 0;
        crate::blocking::reply_to_clients_blocked_on_shutdown(self);
        self.pause_shutdown = false;
        self.resume_postponed_clients();
    }

    /// SHUTDOWN ABORT: false when no shutdown was initiated or requested.
    pub fn abort_shutdown(&mut self) -> bool {
        if self.shutdown_initiated() {
            self.cancel_shutdown();
        } else if self.shutdown_asap {
            self.shutdown_asap = false;
            crate::event_loop::SHUTDOWN_SIGNALLED.store(false, std::sync::atomic::Ordering::SeqCst);
        } else {
            return false;
        }
        log::info!("Shutdown manually aborted.");
        true
    }

    /// Redis's finishShutdown: log lagging replicas, kill children, flush the AOF, save if
    /// needed, remove files. True when the process may exit; false (after cancelling the
    /// shutdown) on an error that prevents it.
    pub fn finish_shutdown(&mut self) -> bool {
        if self.finish_shutdown_steps() {
            // Best effort: what replicas (and clients) still have pending goes out first.
            self.flush_pending_writes();
            self.close_listeners();
            log::warn!("Redis is now ready to exit, bye bye...");
            return true;
        }
        log::warn!("Errors trying to shut down the server. Check the logs for more information.");
        self.cancel_shutdown();
        false
    }

    fn finish_shutdown_steps(&mut self) -> bool {
        let flags = self.shutdown_flags;
        let offset = self.repl.master_repl_offset;
        let now = self.now_ms / 1000;
        let (mut total, mut lagging) = (0, 0);
        for r in &self.repl.replicas {
            let Some(c) = self.client_by_key(r.key, None) else {
                continue;
            };
            let Some(rc) = c.repl.as_ref() else {
                continue;
            };
            total += 1;
            if rc.ack_off != offset {
                lagging += 1;
                let online = rc.state == Some(crate::replication::ReplicaState::Online);
                log::warn!(
                    "Lagging replica {} reported offset {} behind master, lag={}, state={}.",
                    crate::replication::replica_name(c),
                    offset - rc.ack_off,
                    if online { now - rc.ack_time } else { 0 },
                    rc.state.map_or("none", |s| s.name())
                );
            }
        }
        if total > 0 {
            log::info!(
                "{} of {} replicas are in sync when shutting down.",
                total - lagging,
                total
            );
        }
        if self
            .bgsave
            .child
            .as_ref()
            .map(|c| c.kind)
            .is_some_and(|k| k != crate::persistence::bgsave::ChildKind::AofRewrite)
        {
            log::warn!("There is a child saving an .rdb. Killing it!");
            self.kill_rdb_child();
        }
        if self.bgsave.child.as_ref().map(|c| c.kind)
            == Some(crate::persistence::bgsave::ChildKind::AofRewrite)
        {
            // Without the initial rewrite the AOF does not hold the dataset yet.
            if self.aof.state == crate::persistence::aof::AofState::WaitRewrite {
                if flags.force {
                    log::warn!("Writing initial AOF. Exit anyway.");
                } else {
                    log::warn!("Writing initial AOF, can't exit.");
                    return false;
                }
            }
            log::warn!("There is a child rewriting the AOF. Killing it!");
            self.kill_aof_child();
        }
        if self.aof_active() {
            log::info!("Calling fsync() on the AOF file.");
            self.aof_flush(true);
            if let Some(f) = &self.aof.file {
                if let Err(e) = f.sync_data() {
                    log::warn!(
                        "Fail to fsync the AOF file: {}.",
                        crate::persistence::aof::strerror(e.raw_os_error().unwrap_or(0))
                    );
                }
            }
        }
        if !flags.nosave && (flags.save || !self.config.save.is_empty()) {
            log::info!("Saving the final RDB snapshot before exiting.");
            if let Err(e) = crate::persistence::rdb::save(self) {
                if !flags.force {
                    log::warn!("Error trying to save the DB, can't exit.");
                    let _ = e;
                    return false;
                }
                log::warn!("Error trying to save the DB. Exit anyway.");
            }
        }
        if let Some(pidfile) = &self.config.pidfile {
            log::info!("Removing the pid file.");
            let _ = std::fs::remove_file(pidfile);
        }
        for l in &self.listeners {
            if let Some(path) = l.unix_path() {
                let _ = std::fs::remove_file(path);
            }
        }
        true
    }

    /// Close the listening sockets before exiting (closeListeningSockets), so a client that
    /// connects after SHUTDOWN is refused rather than accepted by a dying process.
    fn close_listeners(&mut self) {
        // Closing a socket also removes it from the poller.
        self.listeners.clear();
    }
}

impl Server {
    /// Load the RDB file at start-up if there is one (Redis's loadDataFromDisk), restoring
    /// the replication id and offset it was saved with: a replica can then PSYNC from
    /// where it was, a master lets its former replicas continue with its old id.
    pub fn load_data_from_disk(&mut self) {
        if self.aof.state == crate::persistence::aof::AofState::On {
            use crate::persistence::aof::LoadResult;
            let start = Instant::now();
            let ret = self.aof_load_files();
            if matches!(ret, LoadResult::Failed | LoadResult::OpenErr) {
                std::process::exit(1);
            }
            if ret != LoadResult::NotExist {
                log::info!(
                    "DB loaded from append only file: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                );
            }
            return;
        }
        let path = self.config.dbfilename.clone();
        if !std::path::Path::new(&path).exists() {
            return;
        }
        let start = Instant::now();
        let master = !self.is_replica();
        if master {
            // Deletions of keys found expired while loading go to the backlog.
            self.repl.create_backlog();
        }
        match crate::persistence::rdb::load(self, &path) {
            Ok(_) => {
                log::info!(
                    "DB loaded from disk: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                crate::persistence::rdb::report_corrupt_file(self, &path, &e);
                std::process::exit(1);
            }
            Err(e) => {
                log::warn!("Fatal error loading the DB: {}. Exiting.", e);
                std::process::exit(1);
            }
        }
        let rsi = self.persistence.loaded_rsi.clone();
        let valid = rsi
            .as_ref()
            .filter(|r| r.repl_id.is_some() && r.repl_offset != -1 && r.repl_stream_db != -1);
        match valid {
            Some(r) if !master => {
                self.repl.replid = r.repl_id.clone().expect("checked");
                self.repl.master_repl_offset = r.repl_offset;
                self.repl.link.cached = Some(crate::replication::replica::CachedMaster {
                    replid: self.repl.replid.clone(),
                    reploff: r.repl_offset,
                    read_reploff: r.repl_offset,
                    db: r.repl_stream_db.max(0) as usize,
                });
            }
            Some(r) => {
                self.repl.replid2 = r.repl_id.clone().expect("checked");
                self.repl.second_replid_offset = r.repl_offset + 1;
                self.repl.rebase_offset(r.repl_offset);
                self.repl.no_replicas_since = self.now_ms / 1000;
            }
            None => {
                if master && self.repl.replicas.is_empty() {
                    self.repl.backlog = None;
                }
            }
        }
    }

    /// Tell systemd we are ready (sd_notify READY=1) when supervised.
    pub fn notify_supervisor_ready(&self) {
        let Ok(path) = std::env::var("NOTIFY_SOCKET") else {
            return;
        };
        let path = if let Some(abs) = path.strip_prefix('@') {
            format!("\0{}", abs)
        } else {
            path
        };
        if let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() {
            let _ = sock.send_to(b"READY=1\nSTATUS=Ready to accept connections\n", &path);
        }
    }

    /// DEBUG CHANGE-REPL-ID.
    pub fn change_repl_id(&mut self) {
        self.repl.change_replid();
        self.repl.clear_replid2();
    }

    /// Are clients paused now (by CLIENT PAUSE or a failover)? `Some(true)` when only
    /// writes are paused.
    pub fn paused(&self) -> Option<bool> {
        let client = self.pause.end_ms > self.now_ms;
        match (client, self.pause_failover || self.pause_shutdown) {
            (false, false) => None,
            (true, _) => Some(self.pause.write_only),
            (false, true) => Some(true),
        }
    }

    /// Resume clients held by CLIENT PAUSE: run what they had queued.
    pub fn unpause_clients(&mut self) {
        self.pause = Pause::default();
        self.resume_postponed_clients();
    }

    /// Run what paused clients had queued, once no pause holds them.
    pub fn resume_postponed_clients(&mut self) {
        if self.paused() == Some(false) {
            return;
        }
        let keys: Vec<usize> = self
            .clients
            .iter()
            .filter_map(|(k, c)| {
                c.as_deref()
                    .filter(|c| !c.argv.is_empty() || !c.querybuf.is_empty())
                    .map(|_| k)
            })
            .collect();
        for key in keys {
            self.reprocess_client(key);
        }
    }

    /// Process input a client already has buffered (after a pause or an unblock).
    pub fn reprocess_client(&mut self, key: usize) {
        let Some(Some(mut c)) = self.clients.get_mut(key).map(|s| s.take()) else {
            return;
        };
        self.process_input(&mut c);
        self.put_back(key, c);
    }
}

/// Give back query buffer space a client no longer needs (Redis's clientsCronResizeQueryBuffer):
/// all of it after 2 idle seconds, or down to the recent peak when the buffer is much larger.
fn resize_query_buffer(c: &mut Client, now_ms: i64) {
    const RESIZE_THRESHOLD: usize = 32 * 1024;
    let alloc = c.querybuf.capacity();
    let len = c.querybuf.len();
    let idle_secs = (now_ms - c.last_interaction_ms) / 1000;
    let bulk = c.parse.pending_bulk().unwrap_or(0);
    if alloc - len > 4 * 1024 {
        let target = if idle_secs > 2 {
            Some(len)
        } else if alloc > RESIZE_THRESHOLD && alloc / 2 > c.querybuf_peak {
            Some(len.max(c.querybuf_peak).max(bulk))
        } else {
            None
        };
        if let Some(t) = target {
            let mut nb = bytes::BytesMut::with_capacity(t);
            nb.extend_from_slice(&c.querybuf);
            c.querybuf = nb;
        }
    }
    c.querybuf_peak = c.querybuf.len().max(bulk);
}
