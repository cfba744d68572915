//! Blocked clients: BLPOP and friends wait on keys without polling.
//!
//! API contract:
//! - A blocking command that finds nothing to serve calls [`block_on_keys`] and returns
//!   without replying; the client stops processing input until it is unblocked.
//! - Any write to a key (`Ctx::signal_modified`, a key being added) marks it ready if clients
//!   block on it ([`signal_key_as_ready`]); after the current command (or EXEC / script)
//!   finishes, the server re-runs each blocked client's command, in blocking order, while the
//!   key stays ready ([`handle_clients_blocked_on_keys`]).
//! - On timeout the client gets a null array (RESP2 `*-1`), as Redis's
//!   replyToBlockedClientTimedOut does for list, zset and stream blocking.
//!
//! Design (Redis 7.2's): a blocked client keeps its argv; `(db, key)` maps to a FIFO of waiting
//! clients. A re-executed command that still finds nothing calls `block_on_keys` again, which
//! then only notes it, so the client keeps its place in every queue. A client is only woken
//! for a key holding the type it waits for (its command's ACL category: list, zset, stream).
//! Served or timed-out clients go to an "unblocked" list; `before_sleep` resumes their input.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use bytes::Bytes;

use crate::client::flags as cf;
use crate::command::table::Lookup;
use crate::command::{acl, CmdError, Ctx};
use crate::server::Server;

/// One blocked client.
#[derive(Debug)]
struct Blocked {
    db: usize,
    /// Distinct keys waited on.
    keys: Vec<Bytes>,
    /// Absolute timeout in ms, 0 for none.
    timeout: i64,
    /// The command to re-execute, and its table id.
    argv: Vec<Bytes>,
    cmd: usize,
    /// The value type (Redis OBJ_* number) that can serve it.
    kind: u32,
    /// WAIT: the replication offset and the number of replicas waited for.
    wait: Option<(i64, i64)>,
}

/// The blocking state of the server.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Blocked clients by slab key.
    clients: HashMap<usize, Blocked>,
    /// Per db: key → clients waiting, in blocking order.
    keys: HashMap<usize, HashMap<Bytes, VecDeque<usize>>>,
    /// Keys signalled since the last handling, in order, without duplicates.
    ready: Vec<(usize, Bytes)>,
    ready_set: HashSet<(usize, Bytes)>,
    /// (timeout ms, slab key) of clients with a timeout.
    timeouts: BTreeSet<(i64, usize)>,
    /// Clients unblocked whose pending input must be processed.
    unblocked: Vec<usize>,
    /// Clients blocked in SHUTDOWN, waiting for replicas.
    shutdown: Vec<usize>,
    /// Set while a blocked client's command is being re-executed; `block_on_keys` then
    /// records that it is still blocked.
    reexec: Option<bool>,
}

impl Blocking {
    /// Number of blocked clients with a timeout (INFO clients_in_timeout_table).
    pub fn with_timeout(&self) -> usize {
        self.timeouts.len()
    }

    /// The earliest timeout of a blocked client, in ms.
    pub fn next_timeout(&self) -> Option<i64> {
        self.timeouts.first().map(|&(t, _)| t)
    }

    /// True when ready keys or unblocked clients wait for handling.
    pub fn has_pending_work(&self) -> bool {
        !self.ready.is_empty() || !self.unblocked.is_empty()
    }
}

/// Parse a blocking timeout in seconds (decimals allowed) into an absolute time in ms, 0 for
/// "forever" (Redis's getTimeoutFromObjectOrReply with UNIT_SECONDS).
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let secs = crate::util::longdouble::string2ld(arg)
        .ok_or(CmdError::Static(
            "ERR timeout is not a float or out of range",
        ))?
        .to_f64();
    let ms = (secs * 1000.0).ceil();
    // An out-of-range conversion gives LLONG_MIN on x86, which Redis then reports as negative.
    let ms = if ms.is_finite() && ms > -9.2e18 && ms < 9.2e18 {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(crate::command::errors::TIMEOUT_NEG);
    }
    Ok(if ms > 0 { ms.wrapping_add(now_ms) } else { 0 })
}

/// May the calling client block? Not inside EXEC nor scripts: there the blocking command
/// replies as if it timed out.
pub fn deny_blocking(ctx: &Ctx) -> bool {
    ctx.srv.in_exec || ctx.client.has(cf::MASTER | cf::AOF_CLIENT | cf::SCRIPT)
}

/// The kind (OBJ_STREAM) of XREAD/XREADGROUP waiters.
const STREAM_KIND: u32 = 6;

/// The value type a blocking command waits for, from its ACL category.
fn kind_of(ctx: &Ctx) -> u32 {
    let a = ctx.cmd.acl;
    if a & acl::SORTEDSET != 0 {
        3
    } else if a & acl::STREAM != 0 {
        6
    } else {
        1
    }
}

/// Block the calling client on `keys` (in its db) until one is ready, or until the absolute
/// time `timeout_ms` (0 = forever).
pub fn block_on_keys(ctx: &mut Ctx, keys: &[Bytes], timeout_ms: i64) {
    let argv = ctx.argv.to_vec();
    block_on_keys_with(ctx, keys, timeout_ms, argv)
}

/// Is a blocked client's command being re-executed (served after a wake-up)?
pub fn is_reexecuting(srv: &Server) -> bool {
    srv.blocking.reexec.is_some()
}

/// Like [`block_on_keys`], re-executing `argv` instead of the command as given when woken
/// (XREAD rewrites `$` into the IDs it resolved, as Redis 7.2 does).
pub fn block_on_keys_with(ctx: &mut Ctx, keys: &[Bytes], timeout_ms: i64, argv: Vec<Bytes>) {
    if let Some(still) = ctx.srv.blocking.reexec.as_mut() {
        // A woken client found nothing after all: it stays blocked where it was.
        *still = true;
        return;
    }
    if deny_blocking(ctx) {
        ctx.reply().null_array();
        return;
    }
    let cmd = match ctx.srv.commands.lookup(ctx.argv) {
        Lookup::Found(id) => id,
        _ => return,
    };
    let ck = ctx.client.key;
    let db = ctx.client.db;
    let mut distinct: Vec<Bytes> = Vec::with_capacity(keys.len());
    for k in keys {
        if !distinct.contains(k) {
            distinct.push(k.clone());
        }
    }
    let kind = kind_of(ctx);
    let b = &mut ctx.srv.blocking;
    let per_db = b.keys.entry(db).or_default();
    for k in &distinct {
        per_db.entry(k.clone()).or_default().push_back(ck);
    }
    if timeout_ms > 0 {
        b.timeouts.insert((timeout_ms, ck));
    }
    b.clients.insert(
        ck,
        Blocked {
            db,
            keys: distinct,
            timeout: timeout_ms,
            argv,
            cmd,
            kind,
            wait: None,
        },
    );
    ctx.client.flags |= cf::BLOCKED;
}

/// Parse a timeout in milliseconds (WAIT's) into an absolute time, 0 for forever (Redis's
/// getTimeoutFromObjectOrReply with UNIT_MILLISECONDS).
pub fn parse_timeout_ms(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let ms = crate::util::numbers::string2ll(arg).ok_or(CmdError::Static(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(crate::command::errors::TIMEOUT_NEG);
    }
    if ms == 0 {
        return Ok(0);
    }
    ms.checked_add(now_ms)
        .ok_or(CmdError::Static("ERR timeout is out of range"))
}

/// Block the calling client in WAIT until `numreplicas` replicas acknowledged `offset`.
pub fn block_for_wait(ctx: &mut Ctx, offset: i64, numreplicas: i64, timeout_ms: i64) {
    let ck = ctx.client.key;
    let cmd = match ctx.srv.commands.lookup(ctx.argv) {
        Lookup::Found(id) => id,
        _ => return,
    };
    let b = &mut ctx.srv.blocking;
    if timeout_ms > 0 {
        b.timeouts.insert((timeout_ms, ck));
    }
    b.clients.insert(
        ck,
        Blocked {
            db: ctx.client.db,
            keys: Vec::new(),
            timeout: timeout_ms,
            argv: Vec::new(),
            cmd,
            kind: 0,
            wait: Some((offset, numreplicas)),
        },
    );
    ctx.srv.repl.waiting_acks.insert(0, ck);
    ctx.client.flags |= cf::BLOCKED;
}

/// Block the calling SHUTDOWN while the shutdown waits for lagging replicas.
pub fn block_for_shutdown(ctx: &mut Ctx) {
    let ck = ctx.client.key;
    let cmd = match ctx.srv.commands.lookup(ctx.argv) {
        Lookup::Found(id) => id,
        _ => return,
    };
    ctx.srv.blocking.clients.insert(
        ck,
        Blocked {
            db: ctx.client.db,
            keys: Vec::new(),
            timeout: 0,
            argv: Vec::new(),
            cmd,
            kind: 0,
            wait: None,
        },
    );
    ctx.srv.blocking.shutdown.push(ck);
    ctx.client.flags |= cf::BLOCKED;
}

/// The shutdown failed or was aborted: every SHUTDOWN blocked on it gets an error
/// (replyToClientsBlockedOnShutdown).
pub fn reply_to_clients_blocked_on_shutdown(srv: &mut Server) {
    const MSG: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
    for ck in std::mem::take(&mut srv.blocking.shutdown) {
        unregister(&mut srv.blocking, ck);
        if let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) {
            srv.stats.record_error(MSG);
            c.reply.error_line(MSG.as_bytes());
            c.flags &= !cf::BLOCKED;
            srv.blocking.unblocked.push(ck);
            srv.put_back(ck, c);
        }
    }
}

/// Answer the WAITs whose replicas acknowledged enough (Redis's
/// processClientsWaitingReplicas).
pub fn process_clients_waiting_replicas(srv: &mut Server) {
    if srv.repl.waiting_acks.is_empty() {
        return;
    }
    let waiting = srv.repl.waiting_acks.clone();
    let (mut last_offset, mut last_num) = (0i64, 0i64);
    for ck in waiting {
        let Some((offset, numreplicas)) = srv.blocking.clients.get(&ck).and_then(|b| b.wait) else {
            continue;
        };
        let acks = if last_offset != 0 && last_offset >= offset && last_num >= numreplicas {
            last_num
        } else {
            let n = srv.count_acks(offset, None) as i64;
            if n < numreplicas {
                continue;
            }
            last_offset = offset;
            last_num = n;
            n
        };
        unregister(&mut srv.blocking, ck);
        if let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) {
            c.reply.int(acks);
            c.flags &= !cf::BLOCKED;
            srv.blocking.unblocked.push(ck);
            srv.put_back(ck, c);
        }
    }
}

/// Unblock every client blocked on keys or WAIT with error `msg`, and close them after the
/// reply (Redis's disconnectAllBlockedClients, when the instance turns replica).
pub fn disconnect_all_blocked(srv: &mut Server, msg: &str) {
    let blocked: Vec<usize> = srv.blocking.clients.keys().copied().collect();
    for ck in blocked {
        unregister(&mut srv.blocking, ck);
        if let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) {
            srv.stats.record_error(msg);
            c.reply.error_line(msg.as_bytes());
            c.flags &= !cf::BLOCKED;
            c.flags |= cf::CLOSE_AFTER_REPLY;
            srv.put_back(ck, c);
        }
    }
}

/// Mark `key` in `db` ready if clients block on it (Redis's signalKeyAsReady). Free when
/// nobody blocks.
#[inline]
pub fn signal_key_as_ready(srv: &mut Server, db: usize, key: &[u8]) {
    if srv.blocking.clients.is_empty() {
        return;
    }
    signal_slow(&mut srv.blocking, db, key);
}

fn signal_slow(b: &mut Blocking, db: usize, key: &[u8]) {
    let Some((k, _)) = b.keys.get(&db).and_then(|m| m.get_key_value(key)) else {
        return;
    };
    let entry = (db, k.clone());
    if b.ready_set.insert(entry.clone()) {
        b.ready.push(entry);
    }
}

/// Mark every key of `db` that clients block on as ready (SWAPDB, FLUSHDB, FLUSHALL: Redis's
/// scanDatabaseForReadyKeys and scanDatabaseForDeletedKeys).
pub fn scan_database_for_ready_keys(srv: &mut Server, db: usize) {
    if srv.blocking.clients.is_empty() {
        return;
    }
    // Keys that exist may serve their waiters; keys that are gone unblock XREADGROUP
    // clients (Redis's scanDatabaseForDeletedKeys), so every waited key is signalled.
    let keys: Vec<Bytes> = match srv.blocking.keys.get(&db) {
        Some(m) => m.keys().cloned().collect(),
        None => return,
    };
    for k in keys {
        signal_slow(&mut srv.blocking, db, &k);
    }
}

/// Forget everything about blocked client `ck`; returns its state.
fn unregister(b: &mut Blocking, ck: usize) -> Option<Blocked> {
    let st = b.clients.remove(&ck)?;
    if let Some(per_db) = b.keys.get_mut(&st.db) {
        for k in &st.keys {
            if let Some(q) = per_db.get_mut(k) {
                q.retain(|&x| x != ck);
                if q.is_empty() {
                    per_db.remove(k);
                }
            }
        }
        if per_db.is_empty() {
            b.keys.remove(&st.db);
        }
    }
    if st.timeout > 0 {
        b.timeouts.remove(&(st.timeout, ck));
    }
    Some(st)
}

/// Forget a WAIT client in the replication's list.
fn forget_wait(srv: &mut Server, ck: usize) {
    srv.repl.waiting_acks.retain(|&k| k != ck);
}

/// A client is going away: drop its blocking state silently.
pub fn on_client_close(srv: &mut Server, ck: usize) {
    if srv.blocking.clients.is_empty() {
        return;
    }
    unregister(&mut srv.blocking, ck);
    srv.blocking.unblocked.retain(|&k| k != ck);
    srv.blocking.shutdown.retain(|&k| k != ck);
    forget_wait(srv, ck);
}

/// How a client is unblocked without being served.
#[derive(Clone, Copy)]
enum Unblock {
    Timeout,
    Error,
    /// An error of the blocked command itself (a stream key gone under XREADGROUP).
    Custom(&'static str),
}

/// Unblock `ck` with a timeout or error reply (the client must be in the slab).
fn unblock_with(srv: &mut Server, ck: usize, how: Unblock) -> bool {
    let Some(st) = unregister(&mut srv.blocking, ck) else {
        return false;
    };
    if st.wait.is_some() {
        forget_wait(srv, ck);
    }
    let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) else {
        return true;
    };
    match how {
        Unblock::Timeout => match st.wait {
            Some((offset, _)) => {
                let n = srv.count_acks(offset, None) as i64;
                c.reply.int(n)
            }
            None => c.reply.null_array(),
        },
        Unblock::Error | Unblock::Custom(_) => {
            let e = match how {
                Unblock::Custom(e) => e,
                _ => "UNBLOCKED client unblocked via CLIENT UNBLOCK",
            };
            srv.stats.record_error(e);
            srv.commands.entries[st.cmd].stats.failed += 1;
            c.reply.error_line(e.as_bytes());
        }
    }
    c.flags &= !cf::BLOCKED;
    srv.blocking.unblocked.push(ck);
    srv.put_back(ck, c);
    true
}

/// CLIENT UNBLOCK: unblock client `id` if it is blocked; true when it was.
pub fn unblock_by_id(srv: &mut Server, id: u64, error: bool) -> bool {
    let Some(ck) = srv.clients.iter().find_map(|(k, c)| {
        c.as_deref()
            .filter(|c| c.id == id && c.has(cf::BLOCKED))
            .map(|_| k)
    }) else {
        return false;
    };
    unblock_with(
        srv,
        ck,
        if error {
            Unblock::Error
        } else {
            Unblock::Timeout
        },
    )
}

/// Unblock clients whose timeout passed (Redis's handleBlockedClientsTimeout).
pub fn handle_timeouts(srv: &mut Server) {
    let Some(first) = srv.blocking.next_timeout() else {
        return;
    };
    let now = crate::server::mstime();
    if first > now {
        return;
    }
    while let Some(&(t, ck)) = srv.blocking.timeouts.first() {
        if t > now {
            break;
        }
        unblock_with(srv, ck, Unblock::Timeout);
        // unblock_with removed the entry; guard against a client missing from the slab.
        srv.blocking.timeouts.remove(&(t, ck));
    }
}

/// Re-execute the command of blocked client `ck`. Returns true when it was served (or failed),
/// false when it is still blocked.
fn reexecute(srv: &mut Server, ck: usize) -> bool {
    let Some(st) = srv.blocking.clients.get_mut(&ck) else {
        return true;
    };
    let (argv, cmd) = (std::mem::take(&mut st.argv), st.cmd);
    let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) else {
        if let Some(st) = srv.blocking.clients.get_mut(&ck) {
            st.argv = argv;
        }
        return false;
    };
    c.flags &= !cf::BLOCKED;
    srv.blocking.reexec = Some(false);
    // The command was counted when it first ran; the wake-up is the same call.
    let calls = srv.commands.entries[cmd].stats.calls;
    let total = srv.stats.total_commands;
    let processed = c.commands_processed;
    srv.call(&mut c, cmd, &argv);
    srv.commands.entries[cmd].stats.calls = calls;
    srv.stats.total_commands = total;
    c.commands_processed = processed;
    let still = srv.blocking.reexec.take().unwrap_or(false);
    if still {
        c.flags |= cf::BLOCKED;
        if let Some(st) = srv.blocking.clients.get_mut(&ck) {
            st.argv = argv;
        }
    } else {
        unregister(&mut srv.blocking, ck);
        srv.blocking.unblocked.push(ck);
    }
    srv.put_back(ck, c);
    !still
}

/// Serve clients blocked on keys that became ready (Redis's handleClientsBlockedOnKeys):
/// for each ready key, in signal order, re-run its waiting clients' commands in blocking order
/// while the key exists with the type they wait for. Serving may make more keys ready (BLMOVE
/// pushes); the loop runs until none are left.
pub fn handle_clients_blocked_on_keys(srv: &mut Server) {
    if srv.blocking.reexec.is_some() {
        return;
    }
    while !srv.blocking.ready.is_empty() {
        let ready = std::mem::take(&mut srv.blocking.ready);
        srv.blocking.ready_set.clear();
        for (db, key) in ready {
            let waiting: Vec<usize> = match srv.blocking.keys.get(&db).and_then(|m| m.get(&key)) {
                Some(q) => q.iter().copied().collect(),
                None => continue,
            };
            for ck in waiting {
                // The key may have expired (its deletion propagates) or gone meanwhile.
                srv.cmd_time_ms = crate::server::mstime();
                let kind = if srv.expire_if_needed(db, &key, None) {
                    None
                } else {
                    srv.dbs[db].keys.get(&key[..]).map(|o| o.value.type_id())
                };
                if kind != Some(STREAM_KIND) {
                    // XREADGROUP depends on the key and its group: once the stream is gone
                    // (deleted, overwritten, flushed, swapped away) it cannot be served
                    // (Redis's unblockDeletedStreamReadgroupClients).
                    let readgroup = srv.blocking.clients.get(&ck).is_some_and(|st| {
                        st.kind == STREAM_KIND && st.argv.first().is_some_and(|a| a.len() == 10)
                    });
                    if readgroup {
                        unblock_with(
                            srv,
                            ck,
                            Unblock::Custom("UNBLOCKED the stream key no longer exists"),
                        );
                    }
                }
                let Some(kind) = kind else {
                    continue;
                };
                match srv.blocking.clients.get(&ck) {
                    Some(st) if st.kind == kind => {}
                    _ => continue,
                }
                reexecute(srv, ck);
            }
        }
    }
}

/// Resume the input of clients that were unblocked (Redis's processUnblockedClients).
pub fn process_unblocked_clients(srv: &mut Server) {
    while !srv.blocking.unblocked.is_empty() {
        let list = std::mem::take(&mut srv.blocking.unblocked);
        for ck in list {
            let Some(Some(mut c)) = srv.clients.get_mut(ck).map(|s| s.take()) else {
                continue;
            };
            if !c.has(cf::BLOCKED) && (!c.querybuf.is_empty() || !c.argv.is_empty()) {
                srv.process_input(&mut c);
            }
            srv.put_back(ck, c);
        }
        handle_clients_blocked_on_keys(srv);
    }
}

/// Everything blocking needs before the reactor sleeps: timeouts, ready keys, unblocked input.
pub fn before_sleep(srv: &mut Server) {
    if srv.blocking.clients.is_empty() && !srv.blocking.has_pending_work() {
        return;
    }
    handle_timeouts(srv);
    process_clients_waiting_replicas(srv);
    handle_clients_blocked_on_keys(srv);
    process_unblocked_clients(srv);
}
