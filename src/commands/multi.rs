//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queued commands were already checked for
//! existence and arity when queued; EXEC runs them back to back with nothing interleaved.
//! WATCH is optimistic locking: any write to a watched key (signal_modified_key) marks the
//! watching clients dirty and their EXEC fails with a null reply.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use crate::acl::Denied;
use crate::client::{flags as cf, Client, QueuedCommand};
use crate::command::table::Lookup;
use crate::command::{
    acl, flags::*, keyflags, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::server::Server;

/// Which clients watch which keys, by (db, key).
#[derive(Debug, Default)]
pub struct Watches {
    pub keys: HashMap<(usize, Bytes), Vec<usize>>,
    /// Clients (by slab key) whose watched keys were touched.
    pub dirty: HashSet<usize>,
    /// (client, db, key) watched while the key was already logically expired: its deletion
    /// is no logical change, so it does not fail EXEC (Redis's watchedKey.expired).
    pub expired: HashSet<(usize, usize, Bytes)>,
}

/// Queue a command inside MULTI (reply +QUEUED); `cmd_flags` are its flags.
pub fn queue_command(_srv: &mut Server, c: &mut Client, argv: &[Bytes], cmd_flags: u64) {
    c.multi_flags |= cmd_flags;
    c.multi_inv_flags |= !cmd_flags;
    c.multi_argv_bytes += argv.iter().map(|a| a.len()).sum::<usize>();
    c.multi_queue.push(QueuedCommand {
        argv: argv.to_vec(),
    });
    c.reply.raw(b"+QUEUED\r\n");
}

/// Mark every client watching `key` in `db` as dirty (Redis's touchWatchedKey).
pub fn touch_watched_key(srv: &mut Server, db: usize, key: &[u8]) {
    if srv.watches.keys.is_empty() {
        return;
    }
    let id = (db, Bytes::copy_from_slice(key));
    let Some(list) = srv.watches.keys.get(&id) else {
        return;
    };
    let gone = !srv.dbs[db].keys.contains_key(key);
    for &k in list {
        let flag = (k, db, id.1.clone());
        if gone && srv.watches.expired.remove(&flag) {
            // Deleting a key that was already expired when watched changes nothing.
            continue;
        }
        srv.watches.dirty.insert(k);
    }
}

/// Mark every client watching a key of `db` that exists as dirty (FLUSHDB/FLUSHALL, before
/// the db is emptied).
pub fn touch_all_watched_keys_in_db(srv: &mut Server, db: usize) {
    let touched: Vec<(usize, Bytes)> = srv
        .watches
        .keys
        .iter()
        .filter(|((d, k), _)| *d == db && srv.dbs[db].keys.contains_key(&k[..]))
        .flat_map(|((_, key), v)| v.iter().map(move |&c| (c, key.clone())))
        .collect();
    for (c, key) in touched {
        if !srv.watches.expired.remove(&(c, db, key)) {
            srv.watches.dirty.insert(c);
        }
    }
}

/// SWAPDB's invalidation (Redis's touchAllWatchedKeysInDb(emptied, replaced_with)): a key
/// watched in `emptied` is touched if it exists there now or will exist after the swap, unless
/// it stays logically expired or was expired and is now gone.
pub fn touch_watched_keys_on_swap(srv: &mut Server, emptied: usize, replaced_with: usize) {
    let now = srv.cmd_time_ms;
    let candidates: Vec<(usize, Bytes)> = srv
        .watches
        .keys
        .iter()
        .filter(|((d, _), _)| *d == emptied)
        .flat_map(|((_, key), v)| v.iter().map(move |&c| (c, key.clone())))
        .collect();
    for (c, key) in candidates {
        let in_emptied = srv.dbs[emptied].keys.contains_key(&key[..]);
        let in_other = srv.dbs[replaced_with].keys.contains_key(&key[..]);
        if !in_emptied && !in_other {
            continue;
        }
        let other_expired = srv.dbs[replaced_with].is_expired(&key, now);
        let flag = (c, emptied, key);
        if srv.watches.expired.contains(&flag) {
            if !in_other {
                srv.watches.expired.remove(&flag);
                continue;
            } else if other_expired {
                continue;
            }
        } else if !in_emptied && other_expired {
            srv.watches.expired.insert(flag);
            continue;
        }
        srv.watches.dirty.insert(c);
    }
}

/// Forget every WATCH of a client.
pub fn unwatch_all(srv: &mut Server, c: &mut Client) {
    for (db, key) in c.watched.drain(..) {
        srv.watches.expired.remove(&(c.key, db, key.clone()));
        if let Some(list) = srv.watches.keys.get_mut(&(db, key.clone())) {
            list.retain(|&k| k != c.key);
            if list.is_empty() {
                srv.watches.keys.remove(&(db, key));
            }
        }
    }
    srv.watches.dirty.remove(&c.key);
}

/// Leave MULTI state, dropping the queue.
pub fn discard_transaction(_srv: &mut Server, c: &mut Client) {
    c.multi_queue.clear();
    c.multi_argv_bytes = 0;
    c.multi_flags = 0;
    c.multi_inv_flags = 0;
    c.flags &= !(cf::MULTI | cf::DIRTY_EXEC | cf::DIRTY_CAS);
}

fn multi(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.has(cf::MULTI) {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.flags |= cf::MULTI;
    ctx.reply().ok();
    Ok(())
}

fn discard(ctx: &mut Ctx) -> CmdResult {
    if !ctx.client.has(cf::MULTI) {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx.srv, ctx.client);
    unwatch_all(ctx.srv, ctx.client);
    ctx.reply().ok();
    Ok(())
}

fn exec(ctx: &mut Ctx) -> CmdResult {
    if !ctx.client.has(cf::MULTI) {
        return Err(CmdError::err("EXEC without MULTI"));
    }
    let srv = &mut *ctx.srv;
    let c = &mut *ctx.client;
    // A watched key that expired since WATCH counts as modified.
    let mut expired_watch = false;
    for (db, key) in &c.watched {
        if srv.dbs[*db].is_expired(key, srv.cmd_time_ms)
            && !srv.watches.expired.contains(&(c.key, *db, key.clone()))
        {
            expired_watch = true;
        }
    }
    if c.has(cf::DIRTY_EXEC) {
        discard_transaction(srv, c);
        unwatch_all(srv, c);
        return Err(CmdError::Static(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if srv.watches.dirty.contains(&c.key) || expired_watch {
        discard_transaction(srv, c);
        unwatch_all(srv, c);
        c.reply.null_array();
        return Ok(());
    }
    unwatch_all(srv, c);
    let queue = std::mem::take(&mut c.multi_queue);
    c.multi_argv_bytes = 0;
    c.flags &= !cf::MULTI;
    c.reply.array_len(queue.len());
    srv.in_exec = true;
    for q in &queue {
        match srv.commands.lookup(&q.argv) {
            Lookup::Found(id) => {
                // Permissions may have changed since the command was queued.
                match srv.acl_check(c, id, &q.argv, crate::acl::log::Context::Multi) {
                    Ok(()) => srv.call(c, id, &q.argv),
                    Err(d) => {
                        let reason = match d {
                            Denied::Command => "no permission to execute the command or subcommand",
                            Denied::Key(_) => "no permission to touch the specified keys",
                            Denied::Channel(_) => {
                                "no permission to access one of the channels used as arguments"
                            }
                        };
                        let e = format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}");
                        srv.stats.record_error(&e);
                        c.reply.error_line(e.as_bytes());
                    }
                }
            }
            _ => c.reply.error_line(b"ERR unknown command"),
        }
    }
    srv.in_exec = false;
    discard_transaction(srv, c);
    Ok(())
}

fn watch(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.has(cf::MULTI) {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let db = ctx.client.db;
    for key in &ctx.argv[1..] {
        if ctx.client.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        ctx.client.watched.push((db, key.clone()));
        ctx.srv
            .watches
            .keys
            .entry((db, key.clone()))
            .or_default()
            .push(ctx.client.key);
        if ctx.srv.dbs[db].is_expired(key, ctx.srv.cmd_time_ms) {
            ctx.srv
                .watches
                .expired
                .insert((ctx.client.key, db, key.clone()));
        }
    }
    ctx.reply().ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx) -> CmdResult {
    unwatch_all(ctx.srv, ctx.client);
    ctx.reply().ok();
    Ok(())
}

const TX: u64 = acl::TRANSACTION;
const WATCH_KEYS: &[KeySpec] = &[KeySpec::range(1, -1, 1, keyflags::RO)];

/// Transaction commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, multi)
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .group(Group::Transactions)
        .since("1.2.0")
        .doc("Starts a transaction.", "O(1)"),
    CommandSpec::new("exec", 1, exec)
        .flags(NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG)
        .acl(TX)
        .group(Group::Transactions)
        .since("1.2.0")
        .doc(
            "Executes all commands in a transaction.",
            "Depends on commands in the transaction",
        ),
    CommandSpec::new("discard", 1, discard)
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .group(Group::Transactions)
        .since("2.0.0")
        .doc(
            "Discards a transaction.",
            "O(N), when N is the number of queued commands",
        ),
    CommandSpec::new("watch", -2, watch)
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .keys(WATCH_KEYS)
        .group(Group::Transactions)
        .since("2.2.0")
        .doc(
            "Monitors changes to keys to determine the execution of a transaction.",
            "O(1) for every key.",
        )
        .syntax("key:key..."),
    CommandSpec::new("unwatch", 1, unwatch)
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .group(Group::Transactions)
        .since("2.2.0")
        .doc("Forgets about watched keys of a transaction.", "O(1)"),
];
