//! From parsed arguments to an executed command: Redis's processInputBuffer, processCommand
//! (lookup, arity, auth, MULTI queueing, context checks) and call() (execution, statistics,
//! slowlog, latency, MONITOR feed, propagation).

use bytes::Bytes;

use crate::client::{flags as cf, Client, ReplyMode};
use crate::command::table::Lookup;
use crate::command::{errors, flags, CmdError, CmdResult, CommandSpec, Ctx, Propagation};
use crate::resp::parse::{parse_command, ParseLimits, Parsed};
use crate::server::Server;

/// Argument slots a client keeps between commands.
const ARGV_KEEP: usize = 1024;

impl Server {
    /// Parse and execute every complete command in the client's query buffer.
    pub fn process_input(&mut self, c: &mut Client) {
        c.qb_consumed = 0;
        self.process_input_batch(c);
        c.qb_consumed = 0;
        if c.querybuf.is_empty() && !c.parse.in_progress() {
            // Reclaim the space of parsed commands, as Redis trims its buffer after a batch.
            c.querybuf.clear();
            c.querybuf.reserve(16 * 1024);
        }
        if self.config.maxmemory_clients != 0 {
            c.memory_at_last_batch = c.memory_usage().1;
        }
    }

    fn process_input_batch(&mut self, c: &mut Client) {
        loop {
            if c.has(cf::CLOSE_AFTER_REPLY) || c.has(cf::CLOSE_ASAP) || c.has(cf::BLOCKED) {
                return;
            }
            if c.has(cf::POSTPONED) {
                if self.paused().is_some() {
                    return;
                }
                c.flags &= !cf::POSTPONED;
            }
            let limits = ParseLimits {
                max_bulk_len: self.config.proto_max_bulk_len as u64,
                unauthenticated: self.acl.auth_required(c.authenticated),
                is_master: c.has(cf::MASTER),
            };
            if c.argv.is_empty() || c.parse.in_progress() {
                let before = c.querybuf.len();
                let parsed = parse_command(&mut c.querybuf, &mut c.parse, &mut c.argv, &limits);
                c.qb_consumed += before - c.querybuf.len();
                match parsed {
                    Ok(Parsed::Incomplete) => return,
                    Ok(Parsed::Command) => {}
                    Err(e) => {
                        log::debug!(
                            "Protocol error ({}) from client: id={} addr={}",
                            e.reason,
                            c.id,
                            c.addr
                        );
                        let text = format!("ERR {}", e.reply);
                        self.stats.record_error(&text);
                        c.reply.error_line(text.as_bytes());
                        c.flags |= cf::CLOSE_AFTER_REPLY | cf::PROTOCOL_ERROR;
                        c.argv.clear();
                        return;
                    }
                }
            }
            if c.argv.is_empty() {
                continue;
            }
            if self.process_command(c) {
                // Keep the parsed command; it runs when the pause ends.
                c.flags |= cf::POSTPONED;
                return;
            }
            c.argv.clear();
            // A huge command's argument array is given back, as Redis frees argv after
            // every command; the usual few slots are kept for the next one.
            if c.argv.capacity() > ARGV_KEEP {
                c.argv = Vec::new();
            }
            if c.master.is_some() {
                self.master_command_applied(c);
            }
            self.check_output_limits(c);
        }
    }

    /// Close a client whose pending output went over its class's limits
    /// (Redis's checkClientOutputBufferLimits + closeClientOnOutputBufferLimitReached).
    /// Output was added to client `key`, which is not the one executing (a message, an
    /// invalidation, a MONITOR line): enforce its output buffer limits there and then, as
    /// Redis does on every reply it accumulates, and queue it for writing.
    pub fn output_appended(&mut self, key: usize) {
        let Some(Some(mut c)) = self.clients.get_mut(key).map(|s| s.take()) else {
            return;
        };
        self.check_output_limits(&mut c);
        self.put_back(key, c);
    }

    /// The output limits of `c`'s class.
    fn obuf_limit_of(&self, c: &Client) -> &crate::config::ObufLimit {
        let class = match c.client_type() {
            crate::client::ClientType::Replica => crate::config::ClientClass::Replica,
            crate::client::ClientType::PubSub => crate::config::ClientClass::Pubsub,
            _ => crate::config::ClientClass::Normal,
        };
        self.config.obuf_limit(class)
    }

    /// Pending reply bytes past which a command generating a huge reply may stop early: the
    /// client is over its hard output limit by then and will be closed without the reply
    /// (Redis's HRANDFIELD, SRANDMEMBER and ZRANDMEMBER stop on CLIENT_CLOSE_ASAP).
    pub fn reply_stop_bytes(&self, c: &Client) -> usize {
        match self.obuf_limit_of(c).hard_limit_bytes {
            0 => usize::MAX,
            hard => (hard as usize).saturating_add(crate::resp::reply::REPLY_CHUNK_BYTES),
        }
    }

    pub fn check_output_limits(&mut self, c: &mut Client) -> bool {
        if c.has(cf::CLOSE_ASAP) {
            return true;
        }
        let used = c.output_list_bytes() as u64;
        let over = if used > 1024 && self.acl.auth_required(c.authenticated) {
            true
        } else {
            let lim = self.obuf_limit_of(c);
            let hard = lim.hard_limit_bytes > 0 && used >= lim.hard_limit_bytes;
            let mut soft = false;
            if lim.soft_limit_bytes > 0 && used >= lim.soft_limit_bytes {
                if c.obuf_soft_limit_since == 0 {
                    c.obuf_soft_limit_since = self.now_ms;
                } else if (self.now_ms - c.obuf_soft_limit_since) / 1000 > lim.soft_limit_seconds {
                    soft = true;
                }
            } else {
                c.obuf_soft_limit_since = 0;
            }
            hard || soft
        };
        if over {
            log::warn!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.client_info(c)
            );
            self.stats.client_outbuf_limit_disconnections += 1;
            c.flags |= cf::CLOSE_ASAP;
        }
        over
    }

    /// CLIENT PAUSE: does command `id` have to wait? (Replicas are never paused; a WRITE pause
    /// holds commands that may replicate, including an EXEC of such commands.)
    fn is_paused_for_command(&self, c: &Client, id: usize, cflags: u64) -> bool {
        let Some(write_only) = self.paused() else {
            return false;
        };
        // Replicas are never paused; the master link is, like any client (its stream is
        // still read, so the replica's read offset runs ahead of the applied one).
        if c.has(cf::SLAVE) {
            return false;
        }
        if !write_only {
            return true;
        }
        let spec = self.commands.entries[id].spec;
        cflags & (flags::WRITE | flags::MAY_REPLICATE) != 0
            || spec.name == "exec" && c.multi_queue.iter().any(|q| self.argv_is_write(&q.argv))
    }

    /// The flags command `id` runs with: its own, or for EVAL and FCALL its script's
    /// (evalGetCommandFlags / fcallGetCommandFlags).
    fn effective_flags(&self, id: usize, argv: &[Bytes]) -> u64 {
        let spec = self.commands.entries[id].spec;
        if spec.group == crate::command::Group::Scripting && spec.has(flags::NO_MANDATORY_KEYS) {
            self.script_command_flags(spec.name, argv, spec.flags)
        } else {
            spec.flags
        }
    }

    fn argv_is_write(&self, argv: &[Bytes]) -> bool {
        match self.commands.lookup(argv) {
            Lookup::Found(id) => {
                self.effective_flags(id, argv) & (flags::WRITE | flags::MAY_REPLICATE) != 0
            }
            _ => false,
        }
    }

    /// Write an error that rejects a command before it runs (counted as rejected).
    fn reject(&mut self, c: &mut Client, cmd_id: Option<usize>, e: &CmdError) {
        if let Some(id) = cmd_id {
            if self.commands.entries[id].spec.name == "exec" && c.has(cf::MULTI) {
                // A rejected EXEC aborts the transaction (Redis's execCommandAbort).
                let e = CmdError::Owned(format!(
                    "EXECABORT Transaction discarded because of: {}",
                    e.text()
                ));
                self.stats.record_error(e.text());
                self.commands.entries[id].stats.rejected += 1;
                crate::commands::multi::discard_transaction(self, c);
                crate::commands::multi::unwatch_all(self, c);
                c.reply.error_line(e.text().as_bytes());
                return;
            }
        }
        self.stats.record_error(e.text());
        if let Some(id) = cmd_id {
            self.commands.entries[id].stats.rejected += 1;
        }
        if c.has(cf::MULTI) {
            c.flags |= cf::DIRTY_EXEC;
        }
        c.reply.error_line(e.text().as_bytes());
    }

    /// Redis's processCommand: checks, then queue (MULTI) or call. Returns true when the
    /// command was postponed by CLIENT PAUSE (its argv stays in the client).
    pub fn process_command(&mut self, c: &mut Client) -> bool {
        let argv = std::mem::take(&mut c.argv);
        // The arguments still count as the client's memory while it runs (CLIENT LIST's
        // argv-mem and tot-mem, client eviction), as in Redis.
        c.executing_argv_mem = crate::client::argv_mem(&argv);
        let postponed = self.process_argv(c, &argv);
        c.executing_argv_mem = 0;
        c.argv = argv;
        postponed
    }

    fn process_argv(&mut self, c: &mut Client, argv: &[Bytes]) -> bool {
        let name = &argv[0];
        if name.eq_ignore_ascii_case(b"host:") || name.eq_ignore_ascii_case(b"post") {
            log::warn!("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.");
            c.flags |= cf::CLOSE_ASAP;
            return false;
        }
        let skip_reply = match c.reply_mode {
            ReplyMode::SkipNext => {
                c.reply_mode = ReplyMode::Skip;
                true
            }
            ReplyMode::Off => true,
            _ => false,
        };
        let reply_mark = c.reply.buf.len();
        let errors_before = self.stats.total_error_replies;
        let was_replica = c.has(cf::SLAVE) && c.repl.as_ref().is_some_and(|r| r.state.is_some());
        let postponed = self.process_argv_inner(c, argv);
        if postponed {
            if skip_reply && c.reply_mode == ReplyMode::Skip {
                c.reply_mode = ReplyMode::SkipNext;
            }
            return true;
        }
        if c.master.is_some() {
            // Our master gets no replies, except the ACK answering a GETACK.
            if self.stats.total_error_replies > errors_before {
                self.log_critical_error(c, argv, reply_mark, "replica", "master");
            }
            let keep = c
                .master
                .as_mut()
                .is_some_and(|mc| std::mem::take(&mut mc.force_reply));
            if !keep {
                c.reply.buf.truncate(reply_mark.max(c.reply.sent));
            }
        } else if was_replica && c.reply.buf.len() > reply_mark {
            // A replica must not make us reply on the replication link.
            let name = self.command_name(argv);
            log::warn!(
                "Replica generated a reply to command '{}', disconnecting it: {}",
                name,
                self.client_info(c)
            );
            c.reply.buf.truncate(reply_mark.max(c.reply.sent));
            c.flags |= cf::CLOSE_ASAP;
        }
        if skip_reply && c.reply_mode != ReplyMode::On {
            c.reply.buf.truncate(reply_mark.max(c.reply.sent));
        }
        if !c.kept_pushes.is_empty() {
            let pushes = std::mem::take(&mut c.kept_pushes);
            c.reply.raw(&pushes);
        }
        if c.reply_mode == ReplyMode::Skip {
            c.reply_mode = ReplyMode::On;
        }
        false
    }

    /// The checks of processCommand, then queue or call. True when postponed by a pause.
    fn process_argv_inner(&mut self, c: &mut Client, argv: &[Bytes]) -> bool {
        let id = match self.commands.lookup(argv) {
            Lookup::Found(id) => id,
            Lookup::Unknown => {
                let mut args = String::new();
                for a in &argv[1..] {
                    if args.len() >= 128 {
                        break;
                    }
                    let room = 128 - args.len();
                    let s = String::from_utf8_lossy(a);
                    let s: String = s.chars().take(room).collect();
                    args.push_str(&format!("'{}' ", s));
                }
                let name: String = String::from_utf8_lossy(&argv[0])
                    .chars()
                    .take(128)
                    .collect();
                let e = CmdError::err(format!(
                    "unknown command '{}', with args beginning with: {}",
                    name, args
                ));
                self.reject(c, None, &e);
                return false;
            }
            Lookup::UnknownSub(parent) => {
                let sub: String = String::from_utf8_lossy(&argv[1])
                    .chars()
                    .take(128)
                    .collect();
                let e = CmdError::err(format!(
                    "unknown subcommand '{}'. Try {} HELP.",
                    sub,
                    self.commands.entries[parent].spec.name.to_ascii_uppercase()
                ));
                self.reject(c, None, &e);
                return false;
            }
        };
        let spec = self.commands.entries[id].spec;
        let argc = argv.len() as i32;
        if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
            let e = CmdError::err(format!(
                "wrong number of arguments for '{}' command",
                self.commands.entries[id].fullname
            ));
            self.reject(c, Some(id), &e);
            return false;
        }
        if spec.has(flags::PROTECTED) {
            let (option, label) = if spec.name == "debug" {
                (self.config.enable_debug_command, "DEBUG")
            } else {
                (self.config.enable_module_command, "MODULE")
            };
            if !option.allows(is_local(c)) {
                let e = CmdError::err(format!("{label} command not allowed. If the enable-{}-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.", label.to_ascii_lowercase()));
                self.reject(c, Some(id), &e);
                return false;
            }
        }
        // EXEC is checked as the commands it will run.
        let is_exec = spec.name == "exec";
        let (mflags, minv) = if is_exec {
            (c.multi_flags, c.multi_inv_flags)
        } else {
            (0, 0)
        };
        // EVAL and FCALL are checked with their script's flags (evalGetCommandFlags).
        let cflags = self.effective_flags(id, argv);
        let is_write = cflags & flags::WRITE != 0 || mflags & flags::WRITE != 0;
        let is_read = cflags & flags::READONLY != 0 || mflags & flags::READONLY != 0;
        let is_denystale = cflags & flags::STALE == 0 || minv & flags::STALE != 0;
        let is_denyloading = cflags & flags::LOADING == 0 || minv & flags::LOADING != 0;
        let is_may_replicate = (cflags | mflags) & (flags::WRITE | flags::MAY_REPLICATE) != 0;
        let obey = c.has(cf::MASTER);
        if self.acl.auth_required(c.authenticated) && !spec.has(flags::NO_AUTH) {
            self.reject(c, Some(id), &errors::NOAUTH);
            return false;
        }
        if c.has(cf::MULTI) && spec.has(flags::NO_MULTI) {
            self.reject(
                c,
                Some(id),
                &CmdError::err("Command not allowed inside a transaction"),
            );
            return false;
        }
        let context = if c.has(cf::MULTI) {
            crate::acl::log::Context::Multi
        } else {
            crate::acl::log::Context::Toplevel
        };
        if let Err(d) = self.acl_check(c, id, argv, context) {
            let e = crate::acl::clients::denied_error(d, &self.commands.entries[id].fullname);
            self.reject(c, Some(id), &CmdError::Owned(e));
            return false;
        }
        // maxmemory / maxmemory-clients; with neither set this is the only cost.
        if self.memory_limits && self.enforce_memory_limits(c, id, cflags | mflags) {
            return false;
        }
        if self.tracking.clients > 0 {
            crate::tracking::limit_used_slots(self, Some(c));
        }
        if (is_write || spec.name == "ping") && !obey {
            if let Some(msg) = self.disk_error_message() {
                self.reject(c, Some(id), &CmdError::Owned(msg));
                return false;
            }
        }
        if is_write && !self.good_replicas_ok() {
            self.reject(
                c,
                Some(id),
                &CmdError::Static("NOREPLICAS Not enough good replicas to write."),
            );
            return false;
        }
        if self.is_replica() && self.config.replica_read_only && !obey && is_write {
            self.reject(
                c,
                Some(id),
                &CmdError::Static("READONLY You can't write against a read only replica."),
            );
            return false;
        }
        if c.has(cf::PUBSUB) && c.reply.resp == 2 {
            let allowed = matches!(
                spec.name,
                "ping"
                    | "subscribe"
                    | "ssubscribe"
                    | "unsubscribe"
                    | "sunsubscribe"
                    | "psubscribe"
                    | "punsubscribe"
                    | "quit"
                    | "reset"
            );
            if !allowed {
                let e = CmdError::err(format!(
                    "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    self.commands.entries[id].fullname
                ));
                self.reject(c, Some(id), &e);
                return false;
            }
        }
        if self.is_replica()
            && self.repl.link.state != crate::replication::replica::ReplState::Connected
            && !self.config.replica_serve_stale_data
            && is_denystale
        {
            self.reject(c, Some(id), &CmdError::Static("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."));
            return false;
        }
        if self.persistence.loading && is_denyloading {
            self.reject(
                c,
                Some(id),
                &CmdError::Static("LOADING Redis is loading the dataset in memory"),
            );
            return false;
        }
        // While a script is timed out, only `allow-busy` commands run.
        if self.scripting.is_busy() && !spec.has(flags::ALLOW_BUSY) {
            let e = CmdError::Static(self.scripting.busy_error());
            self.reject(c, Some(id), &e);
            return false;
        }
        if c.has(cf::SLAVE) && (is_may_replicate || is_write || is_read) {
            self.reject(
                c,
                Some(id),
                &CmdError::err("Replica can't interact with the keyspace"),
            );
            return false;
        }
        if self.is_paused_for_command(c, id, cflags) {
            return true;
        }
        if c.has(cf::MULTI)
            && !matches!(
                spec.name,
                "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
            )
        {
            crate::commands::multi::queue_command(self, c, argv, cflags);
            return false;
        }
        self.call(c, id, argv);
        c.woff = self.repl.master_repl_offset;
        // Clients woken by a command run while a script is busy wait for the script.
        if self.blocking.has_pending_work() && self.scripting.run.is_none() {
            crate::blocking::handle_clients_blocked_on_keys(self);
            self.propagate_pending(false);
        }
        false
    }

    /// The memory part of processCommand: evict clients over `maxmemory-clients` (possibly
    /// this one: its command is then dropped), then keys over `maxmemory`, and refuse what may
    /// grow memory if nothing could be evicted. Not while a timed-out script holds the server
    /// (its propagation must not mix with the evictions' DELs). True when the command must
    /// not run.
    fn enforce_memory_limits(&mut self, c: &mut Client, id: usize, cmd_flags: u64) -> bool {
        if self.config.maxmemory_clients != 0 && crate::evict::evict_clients(self, Some(&mut *c)) {
            return true;
        }
        if self.config.maxmemory == 0 || self.scripting.is_busy() {
            return false;
        }
        let out_of_memory =
            crate::evict::perform_evictions(self, Some(&mut *c)) == crate::evict::EvictResult::Fail;
        let name = self.commands.entries[id].spec.name;
        if out_of_memory && rejects_on_oom(c, name, cmd_flags) {
            self.reject(
                c,
                Some(id),
                &CmdError::Static("OOM command not allowed when used memory > 'maxmemory'."),
            );
            return true;
        }
        // Scripts check their first write against the state at the start of the command.
        self.pre_command_oom_state = out_of_memory;
        false
    }

    /// Execute command `id` for client `c` (Redis's call()).
    pub fn call(&mut self, c: &mut Client, id: usize, argv: &[Bytes]) {
        let spec = self.commands.entries[id].spec;
        let handler = spec
            .handler
            .expect("container commands resolve to subcommands");
        let dirty_before = self.dirty;
        // Errors replied by nested calls (EXEC's commands) count for those commands only.
        self.error_snapshot = self.stats.total_error_replies;
        let start_instant = std::time::Instant::now();
        let start = self.wall_us_at(start_instant);
        // Nested calls (EXEC's commands, a script's) see the time of the outer command.
        if self.in_nested_call == 0 {
            self.cmd_time_ms = start / 1000;
        }
        let db_before = c.db;
        c.last_cmd = Some(id);
        let mut ctx = Ctx {
            srv: self,
            client: c,
            argv,
            cmd: spec,
            prop: Propagation::default(),
            redacted: 0,
        };
        let prev_master = ctx.srv.executing_master;
        ctx.srv.executing_master = ctx.client.has(cf::MASTER);
        ctx.srv.in_nested_call += 1;
        let res: CmdResult = handler(&mut ctx);
        ctx.srv.in_nested_call -= 1;
        if let Err(e) = &res {
            ctx.error(e);
        }
        let prop = std::mem::take(&mut ctx.prop);
        let redacted = ctx.redacted;
        let elapsed = start_instant.elapsed();
        if self.tracking.clients > 0 && spec.has(flags::READONLY) {
            self.track_read_keys(c, spec, argv);
        }
        c.commands_processed += 1;
        // Replaying the AOF counts nothing (Redis calls with CMD_CALL_NONE).
        if !c.has(cf::AOF_CLIENT) {
            if redacted == 0 {
                self.record_call(c, id, argv, db_before, elapsed);
            } else {
                let shown: Vec<Bytes> = argv
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        if i < 64 && redacted & (1 << i) != 0 {
                            Bytes::from_static(b"(redacted)")
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                self.record_call(c, id, &shown, db_before, elapsed);
            }
        }
        // Only an increase counts (a SAVE inside the command resets the counter; FLUSHALL
        // forces its propagation). EXEC is never propagated itself: its commands are,
        // wrapped in MULTI/EXEC.
        let dirty = self.dirty > dirty_before;
        if (dirty || prop.force) && !prop.prevent && spec.name != "exec" && self.should_propagate()
        {
            let main = prop.rewritten.unwrap_or_else(|| argv.to_vec());
            self.also_propagate.push(crate::propagate::PropOp {
                db: c.db,
                argv: main,
                target: self.propagate_target,
            });
        }
        if self.in_nested_call == 0 {
            self.propagate_pending(spec.has(flags::TOUCHES_ARBITRARY_KEYS));
            // Invalidations of the client's own keys go after its reply.
            crate::tracking::handle_pending(self, c);
            // CLIENT CACHING applies to the next command (or transaction) only.
            if c.tracking.caching
                && !c.has(cf::MULTI)
                && !self.commands.entries[id].fullname.starts_with("client|")
            {
                c.tracking.caching = false;
            }
        }
        self.executing_master = prev_master;
        let used = crate::alloc::used_memory();
        if used > self.stats.peak_memory {
            self.stats.peak_memory = used;
        }
    }

    /// Client-side caching: after a read-only command, remember the keys of the tracking
    /// client (for a command a script runs: the script's declared keys, for its caller).
    fn track_read_keys(&mut self, c: &Client, spec: &CommandSpec, argv: &[Bytes]) {
        if matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
            return;
        }
        if c.has(cf::SCRIPT) {
            let Some(run) = self.scripting.run.as_ref() else {
                return;
            };
            let Some(t) = run.caller_tracking.clone() else {
                return;
            };
            let (id, caller_argv) = (run.caller_id, run.caller_argv.clone());
            if let Lookup::Found(cid) = self.commands.lookup(&caller_argv) {
                let caller_spec = self.commands.entries[cid].spec;
                crate::tracking::remember_keys(self, id, &t, caller_spec, &caller_argv);
            }
        } else if c.has(cf::TRACKING) && !c.tracking.bcast {
            crate::tracking::remember_keys(self, c.id, &c.tracking, spec, argv);
        }
    }

    /// Per-call statistics of call(): command stats and latency histogram, the latency
    /// monitor, the slow log and the MONITOR feed.
    fn record_call(
        &mut self,
        c: &Client,
        id: usize,
        argv: &[Bytes],
        db_before: usize,
        elapsed: std::time::Duration,
    ) {
        let spec = self.commands.entries[id].spec;
        let duration = elapsed.as_micros() as u64;
        if self.stats.total_error_replies > self.error_snapshot {
            self.commands.entries[id].stats.failed += 1;
        }
        self.error_snapshot = self.stats.total_error_replies;
        let stats = &mut self.commands.entries[id].stats;
        stats.calls += 1;
        stats.usec += duration;
        if self.config.latency_tracking && !c.has(cf::BLOCKED) {
            stats
                .latency
                .get_or_insert_with(Default::default)
                .record(elapsed.as_nanos() as u64);
        }
        self.stats.total_commands += 1;
        let fast = spec.has(flags::FAST);
        self.latency.add_sample_if_needed(
            self.config.latency_monitor_threshold,
            if fast { "fast-command" } else { "command" },
            duration / 1000,
            self.now_ms / 1000,
        );
        if !spec.has(flags::SKIP_SLOWLOG) && !c.has(cf::BLOCKED) {
            self.slowlog
                .push_if_needed(&self.config, c, argv, duration, self.now_ms / 1000);
        }
        if !spec.has(flags::SKIP_MONITOR | flags::ADMIN) && !self.monitors.is_empty() {
            crate::commands::server::feed_monitors(self, c, db_before, argv);
        }
    }

    /// The full name of the command in `argv`, for logs.
    pub fn command_name(&self, argv: &[Bytes]) -> String {
        match self.commands.lookup(argv) {
            Lookup::Found(id) => self.commands.entries[id].fullname.clone(),
            _ => "<unknown>".to_string(),
        }
    }

    /// Redis logs an error sent on a replication link, with the latest stream bytes, since
    /// master and replica datasets then diverge.
    fn log_critical_error(&self, c: &Client, argv: &[Bytes], mark: usize, from: &str, to: &str) {
        let text = String::from_utf8_lossy(&c.reply.buf[mark.min(c.reply.buf.len())..])
            .trim_end()
            .trim_start_matches('-')
            .to_string();
        if let Some(b) = &self.repl.backlog {
            if b.histlen() > 0 {
                let tail = b.tail_bytes(256);
                log::warn!("Latest backlog is: '{}'", crate::config::parse::repr(&tail));
            }
        }
        log::warn!(
            "== CRITICAL == This {} is sending an error to its {}: '{}' after processing the command '{}'",
            from,
            to,
            text,
            self.command_name(argv)
        );
    }
}

/// Is the client connected locally (unix socket or loopback)? Protected configs and DEBUG
/// with `local` allow these only.
pub fn is_local(c: &Client) -> bool {
    c.has(cf::UNIX_SOCKET) || c.addr.starts_with("127.0.0.1:") || c.addr.starts_with("::1:")
}

/// Is this command refused when memory is over the limit with nothing to evict? Commands
/// that may grow memory are (`cmd_flags` includes the flags of the commands EXEC will run), and
/// inside MULTI so is queuing anything but EXEC/DISCARD/QUIT/RESET.
fn rejects_on_oom(c: &Client, name: &str, cmd_flags: u64) -> bool {
    cmd_flags & flags::DENYOOM != 0
        || (c.has(cf::MULTI) && !matches!(name, "exec" | "discard" | "quit" | "reset"))
}
