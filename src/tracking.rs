//! Client-side caching support (Redis's tracking.c): CLIENT TRACKING and invalidation.
//!
//! - Default mode: the keys a tracking client reads (read-only commands) are remembered in
//!   a table key → client ids; when such a key is modified (`signal_modified_key`) every id
//!   gets one `invalidate` message and the entry is dropped. The table is shared by all dbs,
//!   as in Redis, and capped by `tracking-table-max-keys` (cron invalidates random keys).
//! - BCAST mode: clients subscribe to key prefixes; modified keys matching a prefix are
//!   collected during the event loop iteration and sent in one message per prefix before
//!   the reactor sleeps.
//! - Messages are RESP3 pushes `["invalidate", [keys]]`, or with REDIRECT go to another
//!   client: as a push when it speaks RESP3, else as a `__redis__:invalidate` Pub/Sub
//!   message when it is subscribed. Invalidations for the executing client are held until
//!   its command's reply is written (the pending list), so they never interleave with it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::Bytes;

use crate::client::{flags as cf, Client};
use crate::command::CommandSpec;
use crate::server::Server;

/// The channel RESP2 redirect clients receive invalidations on.
const CHANNEL: &[u8] = b"__redis__:invalidate";

/// A client's tracking options (CLIENT TRACKING ON ...).
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    /// Client id invalidations are redirected to, 0 for none.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING yes|no was given for the next command.
    pub caching: bool,
    /// The redirect client went away.
    pub broken_redir: bool,
    /// BCAST prefixes, in subscription order.
    pub prefixes: Vec<Bytes>,
}

/// Keys modified under one BCAST prefix during this loop iteration, and its subscribers.
#[derive(Debug, Default)]
struct Bcast {
    /// Key → id of the client that modified it last (0: none, e.g. expiry).
    keys: BTreeMap<Bytes, u64>,
    clients: BTreeSet<u64>,
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → ids of clients that may have it cached.
    table: HashMap<Bytes, HashSet<u64>>,
    /// Ids stored across the table (INFO tracking_total_items).
    total_items: u64,
    prefixes: BTreeMap<Bytes, Bcast>,
    /// Invalidations for the executing client, sent after its reply (None: a flush).
    pending: Vec<Option<Bytes>>,
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: usize,
    /// Consecutive cron runs still over the key limit: the effort grows with it.
    limit_runs: u32,
}

impl Tracking {
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    pub fn total_items(&self) -> u64 {
        self.total_items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Anything to do when a key changes?
    #[inline]
    pub fn active(&self) -> bool {
        self.clients > 0 || !self.table.is_empty()
    }
}

/// Does prefix `a` overlap `b` (one is a prefix of the other)?
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// CLIENT TRACKING ON with options already validated against each other; checks prefix
/// collisions and enables. `Err` is the error text.
pub fn enable(
    srv: &mut Server,
    c: &mut Client,
    redirect: u64,
    opts: ClientTracking,
    prefixes: &[Bytes],
) -> Result<(), String> {
    if opts.bcast {
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(old) = c.tracking.prefixes.iter().find(|o| overlaps(o, p)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(old)
                ));
            }
            if let Some(other) = prefixes[i + 1..].iter().find(|o| overlaps(p, o)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(other)
                ));
            }
        }
    }
    if !c.has(cf::TRACKING) {
        srv.tracking.clients += 1;
    }
    c.flags |= cf::TRACKING;
    let t = &mut c.tracking;
    t.redirect = redirect;
    t.broken_redir = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if opts.bcast {
        let list: Vec<Bytes> = if prefixes.is_empty() {
            vec![Bytes::new()]
        } else {
            prefixes.to_vec()
        };
        for p in list {
            let b = srv.tracking.prefixes.entry(p.clone()).or_default();
            if b.clients.insert(c.id) && !t.prefixes.contains(&p) {
                t.prefixes.push(p);
            }
        }
    }
    Ok(())
}

/// CLIENT TRACKING OFF, and on disconnection (disableTracking).
pub fn disable(srv: &mut Server, c: &mut Client) {
    for p in std::mem::take(&mut c.tracking.prefixes) {
        if let Some(b) = srv.tracking.prefixes.get_mut(&p) {
            b.clients.remove(&c.id);
            if b.clients.is_empty() {
                srv.tracking.prefixes.remove(&p);
            }
        }
    }
    if c.has(cf::TRACKING) {
        srv.tracking.clients -= 1;
        c.flags &= !cf::TRACKING;
        c.tracking = ClientTracking::default();
    }
}

/// After a read-only command of a tracking client: remember the keys it read
/// (trackingRememberKeys). `id` is the client's id, `t` its options.
pub fn remember_keys(
    srv: &mut Server,
    id: u64,
    t: &ClientTracking,
    spec: &CommandSpec,
    argv: &[Bytes],
) {
    if (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    // Shard channels look like keys to COMMAND, but are not tracked.
    if spec.has(crate::command::flags::PUBSUB) {
        return;
    }
    for (pos, _) in crate::command::keys::get_keys(spec, argv) {
        let Some(k) = argv.get(pos) else { continue };
        let ids = srv.tracking.table.entry(k.clone()).or_default();
        if ids.insert(id) {
            srv.tracking.total_items += 1;
        }
    }
}

/// The message body a client gets: an array of keys, or a null for a flush.
enum Body<'a> {
    Key(&'a [u8]),
    /// Pre-encoded RESP (a BCAST key array).
    Proto(&'a [u8]),
    Null,
}

/// Send an invalidation to tracking client `target_id` (sendTrackingMessage); `current` is
/// the executing client, which is not in the slab.
fn send(srv: &mut Server, current: &mut Option<&mut Client>, target_id: u64, body: Body<'_>) {
    let Some(redirect) = with_client(srv, current, target_id, |c| c.tracking.redirect) else {
        return;
    };
    let mut dest = target_id;
    if redirect != 0 {
        if with_client(srv, current, redirect, |_| ()).is_none() {
            with_client(srv, current, target_id, |c| {
                c.tracking.broken_redir = true;
                if c.reply.resp > 2 {
                    c.reply.push_len(2);
                    c.reply.bulk(b"tracking-redir-broken");
                    c.reply.int(redirect as i64);
                }
            });
            deliver_marked(srv, current, target_id);
            return;
        }
        dest = redirect;
    }
    let using_redirect = redirect != 0;
    let sent = with_client(srv, current, dest, |c| {
        if c.reply.resp > 2 {
            c.reply.push_len(2);
            c.reply.bulk(b"invalidate");
        } else if using_redirect && c.has(cf::PUBSUB) {
            c.reply.push_len(3);
            c.reply.bulk(b"message");
            c.reply.bulk(CHANNEL);
        } else {
            return false;
        }
        match body {
            Body::Key(k) => {
                c.reply.array_len(1);
                c.reply.bulk(k);
            }
            Body::Proto(p) => c.reply.raw(p),
            Body::Null => c.reply.null(),
        }
        true
    });
    if sent == Some(true) {
        deliver_marked(srv, current, dest);
    }
}

/// Run `f` on client `id`, wherever it is (the executing client or the slab). A message
/// written to the executing client while its replies are off is kept for it (its command's
/// output is dropped afterwards, pushes are not).
fn with_client<R>(
    srv: &mut Server,
    current: &mut Option<&mut Client>,
    id: u64,
    f: impl FnOnce(&mut Client) -> R,
) -> Option<R> {
    if let Some(c) = current.as_deref_mut() {
        if c.id == id {
            return Some(keep_if_off(c, f));
        }
    }
    let key = *srv.client_ids.get(&id)?;
    let c = srv.clients.get_mut(key)?.as_deref_mut()?;
    Some(f(c))
}

fn keep_if_off<R>(c: &mut Client, f: impl FnOnce(&mut Client) -> R) -> R {
    if matches!(
        c.reply_mode,
        crate::client::ReplyMode::Off | crate::client::ReplyMode::Skip
    ) {
        let mark = c.reply.buf.len();
        let r = f(c);
        let kept = c.reply.buf[mark..].to_vec();
        c.kept_pushes.extend_from_slice(&kept);
        r
    } else {
        f(c)
    }
}

/// Queue client `id`'s output for writing (the executing client's goes out after its reply).
fn deliver_marked(srv: &mut Server, current: &mut Option<&mut Client>, id: u64) {
    if current.as_deref().is_some_and(|c| c.id == id) {
        return;
    }
    if let Some(&key) = srv.client_ids.get(&id) {
        srv.output_appended(key);
    }
}

/// A key changed (trackingInvalidateKey): invalidate it for every client that read it.
/// `modifier` is the id of the client that changed it (0 for expiry / eviction), `current`
/// the executing client, `bcast` whether BCAST subscribers hear about it.
pub fn invalidate_key(
    srv: &mut Server,
    mut current: Option<&mut Client>,
    modifier: u64,
    key: &[u8],
    bcast: bool,
) {
    if bcast && !srv.tracking.prefixes.is_empty() {
        for (p, b) in srv.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                b.keys.insert(Bytes::copy_from_slice(key), modifier);
            }
        }
    }
    let Some(ids) = srv.tracking.table.remove(key) else {
        return;
    };
    srv.tracking.total_items -= ids.len() as u64;
    let current_id = current_id(srv, current.as_deref());
    // Inside a command the executing client hears about it after its reply.
    let defer = srv.in_nested_call > 0;
    let mut ids: Vec<u64> = ids.into_iter().collect();
    ids.sort_unstable();
    for id in ids {
        let Some((on, bcast_mode, noloop)) = with_client(srv, &mut current, id, |c| {
            (c.has(cf::TRACKING), c.tracking.bcast, c.tracking.noloop)
        }) else {
            continue;
        };
        if !on || bcast_mode {
            continue;
        }
        if noloop && Some(id) == current_id {
            continue;
        }
        if Some(id) == current_id && defer {
            srv.tracking.pending.push(Some(Bytes::copy_from_slice(key)));
        } else {
            send(srv, &mut current, id, Body::Key(key));
        }
    }
}

/// The client Redis calls current: a script's caller rather than the script's own client.
fn current_id(srv: &Server, current: Option<&Client>) -> Option<u64> {
    let c = current?;
    if c.has(cf::SCRIPT) {
        return srv.scripting.run.as_ref().map(|r| r.caller_id);
    }
    Some(c.id)
}

/// After the top-level command: send the executing client what it must hear about its own
/// changes (trackingHandlePendingKeyInvalidations).
pub fn handle_pending(srv: &mut Server, c: &mut Client) {
    if srv.tracking.pending.is_empty() {
        return;
    }
    let id = c.id;
    let mut current = Some(c);
    for k in std::mem::take(&mut srv.tracking.pending) {
        match k {
            Some(k) => send(srv, &mut current, id, Body::Key(&k)),
            None => send(srv, &mut current, id, Body::Null),
        }
    }
}

/// FLUSHDB / FLUSHALL / emptying for a load (trackingInvalidateKeysOnFlush): every tracking
/// client gets a null invalidation, and the table is dropped.
pub fn invalidate_on_flush(srv: &mut Server, mut current: Option<&mut Client>) {
    if srv.tracking.clients > 0 {
        let mut ids: Vec<u64> = srv
            .clients
            .iter()
            .filter_map(|(_, c)| c.as_deref())
            .filter(|c| c.has(cf::TRACKING))
            .map(|c| c.id)
            .collect();
        ids.sort_unstable();
        if current.as_deref().is_some_and(|c| c.has(cf::TRACKING)) {
            if srv.in_nested_call > 0 {
                srv.tracking.pending.push(None);
            } else if let Some(id) = current.as_deref().map(|c| c.id) {
                send(srv, &mut current, id, Body::Null);
            }
        }
        for id in ids {
            send(srv, &mut current, id, Body::Null);
        }
    }
    srv.tracking.table.clear();
    srv.tracking.total_items = 0;
}

/// Cron and before each command: keep the table under `tracking-table-max-keys` by
/// invalidating random keys, with an effort that grows while the limit is still exceeded
/// (trackingLimitUsedSlots).
pub fn limit_used_slots(srv: &mut Server, current: Option<&mut Client>) {
    let max = srv.config.tracking_table_max_keys as usize;
    if max == 0 || srv.tracking.table.is_empty() {
        return;
    }
    if srv.tracking.table.len() <= max {
        srv.tracking.limit_runs = 0;
        return;
    }
    let mut effort = 100 * (srv.tracking.limit_runs as usize + 1);
    let mut current = current;
    while effort > 0 {
        effort -= 1;
        // HashMap iteration order is arbitrary enough to stand in for a random walk.
        let Some(k) = srv.tracking.table.keys().next().cloned() else {
            break;
        };
        invalidate_key(srv, current.as_deref_mut(), 0, &k, false);
        if srv.tracking.table.len() <= max {
            srv.tracking.limit_runs = 0;
            return;
        }
    }
    srv.tracking.limit_runs += 1;
}

/// Before sleeping: send each BCAST prefix's modified keys to its subscribers
/// (trackingBroadcastInvalidationMessages).
pub fn broadcast(srv: &mut Server) {
    if srv.tracking.clients == 0 || srv.tracking.prefixes.values().all(|b| b.keys.is_empty()) {
        return;
    }
    let work: Vec<(BTreeMap<Bytes, u64>, Vec<u64>)> = srv
        .tracking
        .prefixes
        .values_mut()
        .filter(|b| !b.keys.is_empty())
        .map(|b| {
            (
                std::mem::take(&mut b.keys),
                b.clients.iter().copied().collect(),
            )
        })
        .collect();
    let mut none = None;
    for (keys, clients) in work {
        let all = key_array(&keys, None);
        for id in clients {
            let noloop = with_client(srv, &mut none, id, |c| c.tracking.noloop).unwrap_or(false);
            if noloop {
                if let Some(adhoc) = key_array(&keys, Some(id)) {
                    send(srv, &mut none, id, Body::Proto(&adhoc));
                }
            } else if let Some(all) = &all {
                send(srv, &mut none, id, Body::Proto(all));
            }
        }
    }
}

/// The RESP array of `keys`, without those `exclude` modified itself (None when empty).
fn key_array(keys: &BTreeMap<Bytes, u64>, exclude: Option<u64>) -> Option<Vec<u8>> {
    let list: Vec<Bytes> = keys
        .iter()
        .filter(|(_, &m)| exclude.is_none_or(|e| m != e))
        .map(|(k, _)| k.clone())
        .collect();
    if list.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(list.len() * 16);
    crate::replication::encode_command(&mut out, &list);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        assert!(overlaps(b"a", b"ab"));
        assert!(overlaps(b"ab", b"a"));
        assert!(overlaps(b"", b"x"));
        assert!(!overlaps(b"ab", b"ac"));
    }

    #[test]
    fn key_array_skips_the_noloop_client_own_keys() {
        let mut keys = BTreeMap::new();
        keys.insert(Bytes::from_static(b"a"), 7);
        keys.insert(Bytes::from_static(b"b"), 0);
        assert_eq!(
            key_array(&keys, None).unwrap(),
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n".to_vec()
        );
        assert_eq!(
            key_array(&keys, Some(7)).unwrap(),
            b"*1\r\n$1\r\nb\r\n".to_vec()
        );
        keys.remove(&Bytes::from_static(b"b"));
        assert!(key_array(&keys, Some(7)).is_none());
    }
}
