//! Server-side scripting (Redis's script.c, eval.c, functions.c): Lua 5.1 scripts run by
//! EVAL and friends, and function libraries loaded with FUNCTION LOAD and run by FCALL.
//!
//! - [`lua`] builds the sandboxed Lua states (protected globals, read-only library tables,
//!   the `redis` API) and converts between RESP replies and Lua values.
//! - [`eval`] holds the script cache and the EVAL / SCRIPT machinery.
//! - [`function`] holds the function libraries and the FUNCTION / FCALL machinery.
//! - [`libs`] are the cjson, cmsgpack, struct and bit libraries Redis bundles.
//!
//! A script runs on the reactor thread, atomically: its `redis.call`s execute through the
//! normal `call()` path on a connection-less script client, and what they propagate is
//! collected into the caller's execution unit (wrapped in MULTI/EXEC). While it runs, the
//! Lua callbacks reach the server through [`Active`], set for the duration of the run. A
//! script that runs longer than `busy-reply-threshold` enters the timed-out state: the hook
//! serves other clients through `process_events_while_blocked`, where only commands flagged
//! `allow-busy` run (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE...) and the rest get BUSY.

pub mod eval;
pub mod function;
pub mod libs;
pub mod lua;

use std::cell::Cell;
use std::time::Instant;

use bytes::Bytes;

use crate::client::{flags as cf, Client};
use crate::command::table::Lookup;
use crate::command::{flags, CmdError};
use crate::server::Server;

/// Script flags (shebang `flags=` / register_function `flags`), Redis's SCRIPT_FLAG_*.
pub mod sflags {
    pub const NO_WRITES: u64 = 1 << 0;
    pub const ALLOW_OOM: u64 = 1 << 1;
    pub const ALLOW_STALE: u64 = 1 << 2;
    pub const NO_CLUSTER: u64 = 1 << 3;
    /// A script without a shebang: the pre-7.0 semantics.
    pub const EVAL_COMPAT_MODE: u64 = 1 << 4;
    pub const ALLOW_CROSS_SLOT: u64 = 1 << 5;

    /// Names, as shebangs and FUNCTION LIST spell them.
    pub const NAMES: &[(u64, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    /// The flag named `s`.
    pub fn parse(s: &str) -> Option<u64> {
        NAMES.iter().find(|(_, n)| *n == s).map(|(f, _)| *f)
    }
}

/// Propagation targets a script may choose with redis.set_repl.
pub const PROPAGATE_AOF: u8 = 1;
pub const PROPAGATE_REPL: u8 = 2;

/// BUSY replies while a script is timed out.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The script being run (Redis's scriptRunCtx).
#[derive(Debug)]
pub struct RunCtx {
    /// The function name (`f_<sha>` hex for EVAL, the function's name for FCALL).
    pub funcname: String,
    pub eval_mode: bool,
    pub read_only: bool,
    pub allow_oom: bool,
    /// A write command ran: the script can no longer be killed.
    pub write_dirty: bool,
    pub timed_out: bool,
    pub killed: bool,
    pub start: Instant,
    /// The time keys expire against during the script.
    pub snapshot_ms: i64,
    pub repl_flags: u8,
    /// The caller is our master or the AOF: obey it.
    pub obey: bool,
    /// The caller's argv, for FUNCTION STATS.
    pub caller_argv: Vec<Bytes>,
    pub caller_db: usize,
    /// Keyspace reads and writes of the caller (for tracking and ACL).
    pub caller_user: Option<crate::acl::UserId>,
    /// The caller's id, and its tracking options when it tracks keys in default mode
    /// (its declared keys are remembered when the script reads).
    pub caller_id: u64,
    pub caller_tracking: Option<crate::tracking::ClientTracking>,
}

/// Scripting state owned by the server.
pub struct Scripting {
    pub eval: eval::EvalEngine,
    pub functions: function::Functions,
    pub run: Option<RunCtx>,
    /// The client redis.call runs commands as (Redis's lua_client).
    pub client: Option<Box<Client>>,
    /// math.random's state (Redis's redisLrand48).
    pub rand48: u64,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: let scripts run `noscript` commands (for tests).
    pub disable_deny_scripts: bool,
}

impl std::fmt::Debug for Scripting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripting")
            .field("scripts", &self.eval.scripts.len())
            .field("running", &self.run.is_some())
            .finish()
    }
}

impl Scripting {
    /// Fresh scripting state: an EVAL engine, a functions engine, a script client.
    pub fn new(deprecated_api: bool) -> Scripting {
        let mut c = Client::new(
            0,
            None,
            String::new(),
            String::new(),
            crate::server::mstime(),
        );
        c.flags |= cf::SCRIPT;
        c.authenticated = true;
        Scripting {
            eval: eval::EvalEngine {
                deprecated_api,
                ..Default::default()
            },
            functions: function::Functions {
                deprecated_api,
                ..Default::default()
            },
            run: None,
            client: Some(Box::new(c)),
            rand48: lrand48_seed(0),
            disable_deny_scripts: false,
        }
    }

    /// Is a script running in the timed-out (busy) state?
    pub fn is_busy(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.timed_out)
    }

    /// The BUSY error for the running script's kind.
    pub fn busy_error(&self) -> &'static str {
        match &self.run {
            Some(r) if !r.eval_mode => BUSY_FUNCTION,
            _ => BUSY_EVAL,
        }
    }
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting::new(false)
    }
}

/// lrand48's seeding (Redis's redisSrand48): the 48-bit state from a 32-bit seed.
pub fn lrand48_seed(seed: i32) -> u64 {
    (((seed as u32 as u64) << 16) | 0x330E) & ((1 << 48) - 1)
}

/// The next lrand48 value (31 bits) and the new state.
pub fn lrand48_next(state: &mut u64) -> i32 {
    *state = (state.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1 << 48) - 1);
    (*state >> 17) as i32
}

/// The server and caller of the running script, reachable from Lua callbacks.
#[derive(Clone, Copy)]
struct Active {
    srv: *mut Server,
    caller: *mut Client,
}

thread_local! {
    static ACTIVE: Cell<Option<Active>> = const { Cell::new(None) };
}

/// Run `f` (which runs Lua code) with `srv` and `caller` reachable from Lua callbacks.
/// `f` gets neither: while it runs, they are only used through [`with_active`].
pub fn run_with_active<R>(srv: &mut Server, caller: &mut Client, f: impl FnOnce() -> R) -> R {
    let prev = ACTIVE.with(|a| {
        a.replace(Some(Active {
            srv: srv as *mut Server,
            caller: caller as *mut Client,
        }))
    });
    let r = f();
    ACTIVE.with(|a| a.set(prev));
    r
}

/// From a Lua callback: run `g` with the server and the caller of the running script, or
/// return None when no script runs.
pub fn with_active<R>(g: impl FnOnce(&mut Server, &mut Client) -> R) -> Option<R> {
    let a = ACTIVE.with(|a| a.get())?;
    // SAFETY: the pointers were made by `run_with_active` from exclusive references whose
    // owner does not use them until `run_with_active` returns; callbacks run on this thread
    // only, one at a time, and `g` is not re-entered (a script cannot run a script: EVAL
    // and FCALL are `noscript`, and the busy loop only runs `allow-busy` commands, none of
    // which calls back into Lua), so these are the only live references.
    unsafe { Some(g(&mut *a.srv, &mut *a.caller)) }
}

/// Is a script running (called from Lua callbacks)?
pub fn is_active() -> bool {
    ACTIVE.with(|a| a.get()).is_some()
}

/// Map script flags onto a command's flags as EVAL / FCALL's processCommand checks use
/// them (scriptFlagsToCmdFlags).
pub fn script_flags_to_cmd_flags(cmd_flags: u64, script_flags: u64) -> u64 {
    let mut f = cmd_flags & !(flags::STALE | flags::DENYOOM | flags::WRITE);
    if script_flags & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0 {
        f |= flags::DENYOOM;
    }
    if script_flags & sflags::NO_WRITES == 0 {
        f |= flags::WRITE;
    }
    if script_flags & sflags::ALLOW_STALE != 0 {
        f |= flags::STALE;
    }
    f & !flags::MAY_REPLICATE
}

impl Server {
    /// The checks before running a script and the run context (scriptPrepareForRun). On
    /// error the reply was not written: the caller returns the error.
    pub fn script_prepare(
        &mut self,
        caller: &Client,
        argv: &[Bytes],
        funcname: String,
        script_flags: u64,
        ro: bool,
        eval_mode: bool,
    ) -> Result<(), CmdError> {
        use crate::replication::replica::ReplState;
        let running_stale = self.is_replica()
            && self.repl.link.state != ReplState::Connected
            && !self.config.replica_serve_stale_data;
        let obey = caller.has(cf::MASTER | cf::AOF_CLIENT);
        if script_flags & sflags::EVAL_COMPAT_MODE == 0 {
            if script_flags & sflags::NO_CLUSTER != 0 && self.config.cluster_enabled {
                return Err(CmdError::err(
                    "Can not run script on cluster, 'no-cluster' flag is set.",
                ));
            }
            if running_stale && script_flags & sflags::ALLOW_STALE == 0 {
                return Err(CmdError::Static("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."));
            }
            if script_flags & sflags::NO_WRITES == 0 {
                if self.is_replica() && self.config.replica_read_only && !obey {
                    return Err(CmdError::Static(
                        "READONLY Can not run script with write flag on readonly replica",
                    ));
                }
                if !obey {
                    if let Some(msg) = self.disk_error_message() {
                        if msg.contains("AOF") {
                            return Err(CmdError::Owned(format!(
                                "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {}",
                                self.aof_write_error().unwrap_or_default()
                            )));
                        }
                        return Err(CmdError::Static("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."));
                    }
                }
                if ro {
                    return Err(CmdError::err(
                        "Can not execute a script with write flag using *_ro command.",
                    ));
                }
                if !self.good_replicas_ok() {
                    return Err(CmdError::Static(
                        "NOREPLICAS Not enough good replicas to write.",
                    ));
                }
            }
            if self.config.maxmemory > 0
                && script_flags & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0
                && self.pre_command_oom_state
                && !obey
            {
                return Err(CmdError::Static(
                    "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
                ));
            }
        } else if running_stale {
            return Err(CmdError::Static(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            ));
        }
        let compat = script_flags & sflags::EVAL_COMPAT_MODE != 0;
        let sc = self.scripting.client.as_mut().expect("script client");
        sc.db = caller.db;
        sc.reply.resp = 2;
        sc.flags &= !cf::MULTI;
        if caller.has(cf::MULTI) || self.in_exec {
            sc.flags |= cf::MULTI;
        }
        sc.user = caller.user;
        self.scripting.run = Some(RunCtx {
            funcname,
            eval_mode,
            read_only: ro || (!compat && script_flags & sflags::NO_WRITES != 0),
            allow_oom: !compat && script_flags & sflags::ALLOW_OOM != 0,
            write_dirty: false,
            timed_out: false,
            killed: false,
            start: Instant::now(),
            snapshot_ms: self.cmd_time_ms,
            repl_flags: PROPAGATE_AOF | PROPAGATE_REPL,
            obey,
            caller_argv: argv.to_vec(),
            caller_db: caller.db,
            caller_user: caller.user,
            caller_id: caller.id,
            caller_tracking: (caller.has(cf::TRACKING) && !caller.tracking.bcast)
                .then(|| caller.tracking.clone()),
        });
        Ok(())
    }

    /// The script ended (scriptResetRun): leave the busy state; the EVAL / FCALL itself is
    /// not propagated (its effects are).
    pub fn script_reset(&mut self) {
        if let Some(sc) = self.scripting.client.as_mut() {
            sc.flags &= !cf::MULTI;
        }
        if let Some(run) = self.scripting.run.take() {
            if run.timed_out {
                // Clients that waited for the script may run now.
                self.blocking_operation_ended();
            }
        }
    }

    /// After a busy script ended: serve what waited.
    fn blocking_operation_ended(&mut self) {
        if let Some(k) = self.repl.link.master_key {
            if !self.pending_reads.contains(&k) {
                self.pending_reads.push(k);
            }
        }
    }

    /// SCRIPT KILL / FUNCTION KILL (scriptKill).
    pub fn script_kill(&mut self, is_eval: bool) -> Result<(), CmdError> {
        let Some(run) = self.scripting.run.as_mut() else {
            return Err(CmdError::Static(
                "NOTBUSY No scripts in execution right now.",
            ));
        };
        if run.obey {
            return Err(CmdError::Static("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed."));
        }
        if run.write_dirty {
            return Err(CmdError::Static("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."));
        }
        if is_eval && !run.eval_mode {
            return Err(CmdError::Static(BUSY_FUNCTION));
        }
        if !is_eval && run.eval_mode {
            return Err(CmdError::Static(BUSY_EVAL));
        }
        run.killed = true;
        Ok(())
    }

    /// Called from the Lua hook every 100000 instructions (scriptInterrupt): once the
    /// script ran for `busy-reply-threshold`, serve other clients in the restricted busy
    /// mode. Returns true when the script must die (killed).
    pub fn script_interrupt(&mut self) -> bool {
        let Some(run) = self.scripting.run.as_mut() else {
            return false;
        };
        if !run.timed_out {
            let elapsed = run.start.elapsed().as_millis() as i64;
            if elapsed < self.config.busy_reply_threshold || self.config.busy_reply_threshold == 0 {
                return false;
            }
            log::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                elapsed,
                if run.eval_mode { "SCRIPT KILL" } else { "FUNCTION KILL" },
                run.funcname
            );
            run.timed_out = true;
        }
        self.process_events_while_blocked();
        self.scripting.run.as_ref().is_some_and(|r| r.killed)
    }

    /// Run a command for `redis.call` / `redis.pcall` (scriptCall): the checks Redis applies
    /// to commands from scripts, then `call()` on the script client. The reply is left in
    /// the script client's buffer; an error returned here was not written.
    /// `caller` is the client that ran the script (the ACL log shows it).
    pub fn script_call(
        &mut self,
        sc: &mut Client,
        caller: &Client,
        argv: &[Bytes],
    ) -> Result<(), String> {
        let id = match self.commands.lookup(argv) {
            Lookup::Found(id) => id,
            _ => return Err("Unknown Redis command called from script".to_string()),
        };
        let spec = self.commands.entries[id].spec;
        let argc = argv.len() as i32;
        let reject = |srv: &mut Server, msg: String| -> Result<(), String> {
            srv.commands.entries[id].stats.rejected += 1;
            Err(msg)
        };
        if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
            return reject(
                self,
                "Wrong number of args calling Redis command from script".into(),
            );
        }
        if spec.has(flags::NOSCRIPT) && !self.scripting.disable_deny_scripts {
            return reject(self, "This Redis command is not allowed from script".into());
        }
        if self.is_replica()
            && self.repl.link.state != crate::replication::replica::ReplState::Connected
            && !self.config.replica_serve_stale_data
            && !spec.has(flags::STALE)
        {
            return reject(
                self,
                "Can not execute the command on a stale replica".into(),
            );
        }
        if let Err(d) =
            self.acl_check_logged_as(sc, caller, id, argv, crate::acl::log::Context::Lua)
        {
            return reject(
                self,
                format!("The user executing the script {}", acl_error_message(d)),
            );
        }
        let run = self.scripting.run.as_ref().expect("a script runs");
        let (read_only, write_dirty, obey, allow_oom) =
            (run.read_only, run.write_dirty, run.obey, run.allow_oom);
        if read_only && spec.has(flags::WRITE | flags::MAY_REPLICATE) {
            return reject(
                self,
                "Write commands are not allowed from read-only scripts.".into(),
            );
        }
        if spec.has(flags::WRITE) && !write_dirty {
            if self.is_replica() && self.config.replica_read_only && !obey {
                return reject(
                    self,
                    "-READONLY You can't write against a read only replica.".into(),
                );
            }
            if let Some(msg) = self.disk_error_message() {
                return reject(self, format!("-{}", msg));
            }
            if !self.good_replicas_ok() {
                return reject(
                    self,
                    "-NOREPLICAS Not enough good replicas to write.".into(),
                );
            }
        }
        if !allow_oom
            && self.config.maxmemory > 0
            && !obey
            && !write_dirty
            && spec.has(flags::DENYOOM)
            && self.pre_command_oom_state
        {
            return reject(
                self,
                "-OOM command not allowed when used memory > 'maxmemory'.".into(),
            );
        }
        if spec.has(flags::WRITE) {
            if let Some(run) = self.scripting.run.as_mut() {
                run.write_dirty = true;
            }
        }
        let repl = self.scripting.run.as_ref().map_or(3, |r| r.repl_flags);
        let prev = std::mem::replace(&mut self.propagate_target, repl);
        self.call(sc, id, argv);
        self.propagate_target = prev;
        Ok(())
    }
}

/// What a script is told about an ACL denial (getAclErrorMessage).
pub fn acl_error_message(d: crate::acl::Denied) -> &'static str {
    match d {
        crate::acl::Denied::Command => "can't run this command or subcommand",
        crate::acl::Denied::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        crate::acl::Denied::Channel(_) => "can't publish to the channel mentioned in the command",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrand48_matches_the_c_sequence() {
        // srand48(0) then lrand48() x3 in glibc: 366850414 1610402240 206956554
        let mut s = lrand48_seed(0);
        assert_eq!(lrand48_next(&mut s), 366850414);
        assert_eq!(lrand48_next(&mut s), 1610402240);
        assert_eq!(lrand48_next(&mut s), 206956554);
    }

    #[test]
    fn script_flags_map_onto_command_flags() {
        let f = script_flags_to_cmd_flags(flags::NOSCRIPT, sflags::NO_WRITES);
        assert_eq!(f & (flags::WRITE | flags::DENYOOM), 0);
        let f = script_flags_to_cmd_flags(0, 0);
        assert_ne!(f & flags::WRITE, 0);
        assert_ne!(f & flags::DENYOOM, 0);
    }
}
