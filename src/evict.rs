//! Key eviction under `maxmemory` (Redis's evict.c). Before a command runs (and from a
//! reactor timer while a previous attempt ran out of time), [`perform_evictions`] compares the
//! memory that counts against `maxmemory` — used memory minus replica output buffers beyond
//! the backlog and the AOF buffer, which would otherwise feed back on the DELs eviction
//! propagates — with the limit, and deletes keys chosen by `maxmemory-policy` until enough
//! was freed or the `maxmemory-eviction-tenacity` time budget is spent.
//!
//! The LRU, LFU and TTL policies do not look for the best key: they sample
//! `maxmemory-samples` keys per database into a small pool that stays sorted by "idle" score
//! (LRU idle time, 255 minus the LFU counter, or the inverse of the expiry time) and survives
//! between calls, and evict the best entry still present. The random policies pick one random
//! key per call, visiting databases in turn. An evicted key is deleted with every side effect
//! of a deletion: WATCH (and later client tracking) invalidation, an `evicted` keyspace event,
//! a DEL or UNLINK propagated to replicas and the AOF, and the `evicted_keys` statistic.
//!
//! Client eviction (`maxmemory-clients`, Redis's evictClients) lives here too: when normal
//! and pubsub clients together use more memory than their limit, the biggest evictable ones
//! are disconnected, before keys are considered.
//!
//! Only the reactor thread runs this; nothing here blocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;

use crate::client::{flags as cflags, Client};
use crate::config::MaxmemoryPolicy;
use crate::db::{notify, Sds};
use crate::server::Server;

/// Entries of the eviction pool (Redis's EVPOOL_SIZE).
pub const EVPOOL_SIZE: usize = 16;

/// Reply chunk size the replication buffer is allocated in (PROTO_REPLY_CHUNK_BYTES).
const REPL_CHUNK_BYTES: usize = 16 * 1024;
/// Bookkeeping per replication buffer block as Redis estimates it (replBufBlock + listNode).
const REPL_BLOCK_OVERHEAD: usize = 64;

/// Load factor up to which a keyspace table may stay instead of growing past `maxmemory`
/// (Redis's HASHTABLE_MAX_LOAD_FACTOR).
const HASHTABLE_MAX_LOAD_FACTOR: f64 = 1.618;

/// `maxmemory` plus the memory not counted against it, as last seen by the reactor, for
/// [`keyspace_expand_allowed`] (which the tables call without access to the server). 0: no
/// limit.
static EXPAND_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Refresh the limit the keyspace tables grow under. Called whenever `maxmemory` changes
/// and before each command while it is set.
pub fn refresh_expand_limit(srv: &Server) {
    let limit = match srv.config.maxmemory {
        0 => 0,
        m => m.saturating_add(not_counted_memory(srv) as u64),
    };
    EXPAND_LIMIT.store(limit, Ordering::Relaxed);
}

/// May a keyspace table grow by `more` bytes at load factor `used_ratio` (Redis's
/// dictExpandAllowed)? Past a load factor of 1.618 it always may: chains would get too long.
pub fn keyspace_expand_allowed(more: usize, used_ratio: f64) -> bool {
    let limit = EXPAND_LIMIT.load(Ordering::Relaxed);
    if limit == 0 || used_ratio > HASHTABLE_MAX_LOAD_FACTOR {
        return true;
    }
    crate::alloc::used_memory() as u64 + more as u64 <= limit
}

/// What [`perform_evictions`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictResult {
    /// Memory is under the limit, or evicting is not allowed now.
    Ok,
    /// Memory is still over the limit, but the eviction timer keeps working on it.
    Running,
    /// Memory is over the limit and nothing (more) can be evicted.
    Fail,
}

/// A candidate key: its database and its score (higher is a better candidate).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PoolEntry {
    idle: u64,
    key: Sds,
    db: usize,
}

/// The eviction pool: at most [`EVPOOL_SIZE`] candidates sorted by ascending score, so the
/// best candidate is the last one. Entries may have been deleted or changed since they were
/// sampled; they are checked again when popped.
#[derive(Debug, Default)]
pub struct EvictionPool {
    entries: Vec<PoolEntry>,
}

impl EvictionPool {
    /// Offer a sampled key (the insertion of Redis's evictionPoolPopulate). It goes in its
    /// place by score if there is room; when the pool is full it displaces the worst entry,
    /// unless it is itself worse than every entry.
    pub fn offer(&mut self, db: usize, key: &[u8], idle: u64) {
        // The first entry whose score is not smaller than ours.
        let k = self.entries.partition_point(|e| e.idle < idle);
        if self.entries.len() == EVPOOL_SIZE {
            if k == 0 {
                return;
            }
            self.entries.remove(0);
            self.entries.insert(
                k - 1,
                PoolEntry {
                    idle,
                    key: key.into(),
                    db,
                },
            );
        } else {
            self.entries.insert(
                k,
                PoolEntry {
                    idle,
                    key: key.into(),
                    db,
                },
            );
        }
    }

    /// Take the best candidate that `exists` confirms, dropping the "ghosts" (keys deleted
    /// since they were sampled) met on the way.
    pub fn pop_best(
        &mut self,
        mut exists: impl FnMut(usize, &[u8]) -> bool,
    ) -> Option<(usize, Sds)> {
        while let Some(e) = self.entries.pop() {
            if exists(e.db, &e.key) {
                return Some((e.db, e.key));
            }
        }
        None
    }

    /// Number of candidates held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the pool holds no candidate.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Eviction state kept between calls.
#[derive(Debug, Default)]
pub struct Evictor {
    pool: EvictionPool,
    /// The random policies visit databases in turn, starting after this one.
    next_db: usize,
    /// The eviction timer is armed (Redis's isEvictionProcRunning).
    pub proc_running: bool,
}

/// Memory not counted against `maxmemory` (Redis's freeMemoryGetNotCountedMemory): the
/// shared replication buffer beyond what the backlog itself accounts for, and the AOF
/// buffer. Counting them would make eviction feed on its own DELs.
pub fn not_counted_memory(srv: &Server) -> usize {
    let mut overhead = 0;
    let repl_mem = srv.repl.buffer_mem();
    let backlog_size = srv.config.repl_backlog_size.max(0) as usize;
    if repl_mem > backlog_size {
        let counted = backlog_size + (backlog_size / REPL_CHUNK_BYTES + 1) * REPL_BLOCK_OVERHEAD;
        overhead += repl_mem.saturating_sub(counted);
    }
    if srv.aof_active() {
        overhead += srv.aof.buf.capacity();
    }
    overhead
}

/// How many bytes must be freed to get back under `maxmemory`, or `None` when memory is
/// within the limit (Redis's getMaxmemoryState).
pub fn memory_to_free(srv: &Server) -> Option<usize> {
    let limit = srv.config.maxmemory;
    if limit == 0 {
        return None;
    }
    let reported = crate::alloc::used_memory() as u64;
    if reported <= limit {
        return None;
    }
    let used = reported.saturating_sub(not_counted_memory(srv) as u64);
    (used > limit).then(|| (used - limit) as usize)
}

/// Would allocating `more` bytes take memory over `maxmemory` (Redis's
/// overMaxmemoryAfterAlloc)?
pub fn over_maxmemory_after_alloc(srv: &Server, more: usize) -> bool {
    let limit = srv.config.maxmemory;
    if limit == 0 {
        return false;
    }
    let used = crate::alloc::used_memory() as u64;
    if used + more as u64 <= limit {
        return false;
    }
    used.saturating_sub(not_counted_memory(srv) as u64) + more as u64 > limit
}

/// May keys be evicted now (Redis's isSafeToPerformEvictions)? Not while a timed-out script
/// holds the server or while loading, not on a replica that ignores `maxmemory` (it mirrors
/// its master), and not while clients are paused (the dataset must stay still).
fn safe_to_evict(srv: &Server) -> bool {
    if srv.scripting.is_busy() || srv.persistence.loading {
        return false;
    }
    if srv.is_replica() && srv.config.replica_ignore_maxmemory {
        return false;
    }
    srv.paused().is_none()
}

/// The time budget of one eviction call in µs, from `maxmemory-eviction-tenacity`: linear up
/// to 500µs at 10, then 15% more per step (about two minutes at 99), unlimited at 100.
pub fn time_limit_us(tenacity: i64) -> u64 {
    if tenacity <= 10 {
        50 * tenacity.max(0) as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powf(tenacity as f64 - 10.0)) as u64
    } else {
        u64::MAX
    }
}

/// Arm the eviction timer (Redis's startEvictionTimeProc): the reactor calls
/// [`eviction_time_proc`] on every turn until memory is back under the limit or nothing is
/// left to evict.
pub fn start_eviction_time_proc(srv: &mut Server) {
    srv.evict.proc_running = true;
}

/// One turn of the eviction timer.
pub fn eviction_time_proc(srv: &mut Server) {
    if perform_evictions(srv, None) != EvictResult::Running {
        srv.evict.proc_running = false;
    }
}

/// Sample every database into the pool (Redis's evictionPoolPopulate, for each db).
/// Returns the number of keys the sampled dictionaries hold in total.
fn populate_pool(srv: &mut Server) -> usize {
    let policy = srv.config.maxmemory_policy;
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    let clock = srv.access_clock();
    let pool = &mut srv.evict.pool;
    let mut total = 0;
    for (i, db) in srv.dbs.iter().enumerate() {
        if policy.is_allkeys() {
            if db.keys.is_empty() {
                continue;
            }
            total += db.keys.len();
            db.keys.sample(samples, |k, o| {
                let idle = if policy.is_lfu() {
                    255 - clock.lfu_decr_and_return(o.lru) as u64
                } else {
                    clock.idle_ms(o.lru)
                };
                pool.offer(i, k, idle);
            });
        } else {
            if db.expires.is_empty() {
                continue;
            }
            total += db.expires.len();
            db.expires.sample(samples, |k, &when| {
                let idle = if policy == MaxmemoryPolicy::VolatileTtl {
                    // The sooner it expires, the better.
                    u64::MAX - when as u64
                } else {
                    let Some(o) = db.keys.get(k) else { return };
                    if policy.is_lfu() {
                        255 - clock.lfu_decr_and_return(o.lru) as u64
                    } else {
                        clock.idle_ms(o.lru)
                    }
                };
                pool.offer(i, k, idle);
            });
        }
    }
    total
}

/// Choose the next key to evict under the current policy, or `None` when no key qualifies.
fn pick_key(srv: &mut Server) -> Option<(usize, Sds)> {
    let policy = srv.config.maxmemory_policy;
    let allkeys = policy.is_allkeys();
    if matches!(
        policy,
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom
    ) {
        let n = srv.dbs.len();
        for _ in 0..n {
            srv.evict.next_db = srv.evict.next_db.wrapping_add(1);
            let j = srv.evict.next_db % n;
            let db = &srv.dbs[j];
            let key = if allkeys {
                db.keys.random_entry().map(|(k, _)| k.clone())
            } else {
                db.expires.random_entry().map(|(k, _)| k.clone())
            };
            if let Some(k) = key {
                return Some((j, k));
            }
        }
        return None;
    }
    loop {
        if populate_pool(srv) == 0 {
            return None;
        }
        let dbs = &srv.dbs;
        let best = srv.evict.pool.pop_best(|db, key| {
            if allkeys {
                dbs[db].keys.contains_key(key)
            } else {
                dbs[db].expires.contains_key(key)
            }
        });
        if best.is_some() {
            return best;
        }
    }
}

/// Free memory by evicting keys when over `maxmemory` (Redis's performEvictions). Call it
/// before executing a command: on [`EvictResult::Fail`] commands that may grow memory are
/// refused. `current` is the client whose command is about to run (it is out of the client
/// table and still gets its keyspace notifications).
pub fn perform_evictions(srv: &mut Server, mut current: Option<&mut Client>) -> EvictResult {
    refresh_expand_limit(srv);
    // Not evicting is not a failure: it is as if memory were fine.
    if !safe_to_evict(srv) {
        return EvictResult::Ok;
    }
    let result = match memory_to_free(srv) {
        None => EvictResult::Ok,
        Some(_) if srv.config.maxmemory_policy == MaxmemoryPolicy::NoEviction => EvictResult::Fail,
        Some(to_free) => evict_keys(srv, to_free, &mut current),
    };
    update_exceeded_time(srv, result);
    result
}

/// The eviction loop proper: delete keys until `to_free` bytes were released, nothing is left
/// to evict, or the time budget is spent (then the eviction timer takes over).
fn evict_keys(srv: &mut Server, to_free: usize, current: &mut Option<&mut Client>) -> EvictResult {
    let limit_us = time_limit_us(srv.config.maxmemory_eviction_tenacity);
    let start = Instant::now();
    let lazy = srv.config.lazyfree_lazy_eviction;
    let threshold = srv.config.latency_monitor_threshold;
    let mut freed: i64 = 0;
    let mut keys_freed = 0u64;
    let mut exhausted = false;
    while freed < to_free as i64 {
        let Some((db, key)) = pick_key(srv) else {
            exhausted = true;
            break;
        };
        // Only what the deletion itself frees counts: the DEL's propagation and the
        // invalidations it causes are released later.
        let before = crate::alloc::used_memory() as i64;
        let del_start = Instant::now();
        srv.dbs[db].delete(&key);
        let del_ms = del_start.elapsed().as_millis() as u64;
        srv.latency
            .add_sample_if_needed(threshold, "eviction-del", del_ms, srv.now_ms / 1000);
        freed += before - crate::alloc::used_memory() as i64;
        srv.stats.evicted_keys += 1;
        srv.signal_modified_key(db, &key, current.as_deref_mut(), 0);
        notify::notify_keyspace_event(
            srv,
            current.as_deref_mut(),
            notify::EVICTED,
            "evicted",
            &key,
            db,
        );
        let cmd: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
        srv.also_propagate(
            db,
            vec![Bytes::from_static(cmd), Bytes::from(key.into_vec())],
        );
        keys_freed += 1;
        // Deletions free synchronously (lazyfree-lazy-eviction only changes what is
        // propagated), so `freed` is exact and only the time budget needs checking.
        if keys_freed.is_multiple_of(16) && start.elapsed().as_micros() as u64 > limit_us {
            start_eviction_time_proc(srv);
            break;
        }
    }
    let result = if exhausted {
        EvictResult::Fail
    } else if srv.evict.proc_running {
        EvictResult::Running
    } else {
        EvictResult::Ok
    };
    // The DELs go out on their own, never wrapped in a transaction.
    srv.propagate_pending(true);
    let ms = start.elapsed().as_millis() as u64;
    srv.latency
        .add_sample_if_needed(threshold, "eviction-cycle", ms, srv.now_ms / 1000);
    result
}

/// Account the time spent over the limit (INFO total/current_eviction_exceeded_time).
fn update_exceeded_time(srv: &mut Server, result: EvictResult) {
    let st = &mut srv.stats;
    match result {
        EvictResult::Running | EvictResult::Fail => {
            st.eviction_exceeded_since.get_or_insert_with(Instant::now);
        }
        EvictResult::Ok => {
            if let Some(since) = st.eviction_exceeded_since.take() {
                st.total_eviction_exceeded_us += since.elapsed().as_micros() as u64;
            }
        }
    }
}

/// (total, current) time spent over `maxmemory`, in ms, for INFO stats.
pub fn exceeded_time_ms(srv: &Server) -> (u64, u64) {
    let current = srv
        .stats
        .eviction_exceeded_since
        .map_or(0, |t| t.elapsed().as_micros() as u64);
    (
        (srv.stats.total_eviction_exceeded_us + current) / 1000,
        current / 1000,
    )
}

// ---------------------------------------------------------------------------
// Client eviction (maxmemory-clients)
// ---------------------------------------------------------------------------

/// May `c` be disconnected to reclaim client memory (Redis's clientEvictionAllowed)? Normal
/// and pubsub clients may, unless they asked for CLIENT NO-EVICT; masters and replicas never.
fn client_evictable(c: &Client) -> bool {
    !c.has(cflags::NO_EVICT) && counts_as_client_memory(c)
}

/// Normal and pubsub clients (MONITORs included) make up the memory `maxmemory-clients`
/// limits; the master link and replicas do not.
fn counts_as_client_memory(c: &Client) -> bool {
    !c.has(cflags::MASTER) && (!c.has(cflags::SLAVE) || c.has(cflags::MONITOR))
}

/// The memory a client holds for the purpose of `maxmemory-clients`: CLIENT LIST's tot-mem,
/// which counts the reply buffer at its real allocation (what `used_memory` sees), so client
/// eviction triggers before the same bytes push keys out.
fn client_memory(c: &Client) -> usize {
    c.memory_usage().1
}

/// Disconnect the clients using the most memory while normal and pubsub clients together use
/// more than `maxmemory-clients` (Redis's evictClients; it keeps clients in memory-size
/// buckets, we rank them when the limit is hit). `current`, the client whose command is about
/// to run, may be one of them: it is then marked to close and true is returned, and its
/// command must not run.
pub fn evict_clients(srv: &mut Server, mut current: Option<&mut Client>) -> bool {
    let limit = srv.config.maxmemory_clients_bytes() as usize;
    if limit == 0 {
        return false;
    }
    let mut total = 0;
    // (memory, slab key) of each evictable client.
    let mut candidates = Vec::new();
    let cur_key = current.as_deref().map(|c| c.key);
    let others = srv.clients.iter().filter_map(|(_, c)| c.as_deref());
    for c in others.chain(current.as_deref()) {
        if !counts_as_client_memory(c) {
            continue;
        }
        // The running client counts as of its last batch, before this command's arguments
        // (Redis's evictClients in processCommand sees its last_memory_usage).
        let mem = if Some(c.key) == cur_key {
            c.memory_at_last_batch
        } else {
            client_memory(c)
        };
        total += mem;
        if client_evictable(c) {
            candidates.push((mem, c.key));
        }
    }
    if total < limit {
        return false;
    }
    candidates.sort_unstable_by_key(|&(mem, _)| std::cmp::Reverse(mem));
    let mut evicted_current = false;
    for (mem, key) in candidates {
        if total < limit {
            break;
        }
        if Some(key) == cur_key {
            if let Some(c) = current.as_deref_mut() {
                log::info!("Evicting client: {}", srv.client_info(c));
                c.flags |= cflags::CLOSE_ASAP;
                evicted_current = true;
            }
        } else {
            if let Some(Some(c)) = srv.clients.get(key) {
                log::info!("Evicting client: {}", srv.client_info(c));
            }
            srv.close_client(key);
        }
        srv.stats.evicted_clients += 1;
        total -= mem;
    }
    if total >= limit {
        log::warn!("Over client maxmemory after evicting all evictable clients");
    }
    evicted_current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &EvictionPool) -> Vec<(u64, &[u8])> {
        p.entries.iter().map(|e| (e.idle, &e.key[..])).collect()
    }

    #[test]
    fn pool_keeps_ascending_order() {
        let mut p = EvictionPool::default();
        p.offer(0, b"b", 20);
        p.offer(0, b"a", 10);
        p.offer(0, b"c", 30);
        p.offer(1, b"m", 15);
        assert_eq!(
            keys(&p),
            vec![(10, &b"a"[..]), (15, b"m"), (20, b"b"), (30, b"c")]
        );
        assert_eq!(p.pop_best(|_, _| true), Some((0, b"c"[..].into())));
        assert_eq!(p.pop_best(|_, _| true), Some((0, b"b"[..].into())));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn full_pool_drops_worst_and_rejects_worse() {
        let mut p = EvictionPool::default();
        for i in 0..EVPOOL_SIZE as u64 {
            p.offer(0, format!("k{}", i + 1).as_bytes(), (i + 1) * 10);
        }
        assert_eq!(p.len(), EVPOOL_SIZE);
        // Worse than everything: ignored.
        p.offer(0, b"low", 5);
        assert!(p.entries.iter().all(|e| &e.key[..] != b"low"));
        // Better than some: the worst (10) goes, the new one lands in order.
        p.offer(0, b"mid", 25);
        let got = keys(&p);
        assert_eq!(got.len(), EVPOOL_SIZE);
        assert_eq!(got[0], (20, &b"k2"[..]));
        assert_eq!(got[1], (25, &b"mid"[..]));
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        // The best of all goes to the end.
        p.offer(3, b"top", 1000);
        assert_eq!(p.pop_best(|_, _| true), Some((3, b"top"[..].into())));
    }

    #[test]
    fn equal_scores_insert_before_existing() {
        let mut p = EvictionPool::default();
        p.offer(0, b"first", 7);
        p.offer(0, b"second", 7);
        assert_eq!(keys(&p), vec![(7, &b"second"[..]), (7, b"first")]);
    }

    #[test]
    fn ghosts_are_skipped() {
        let mut p = EvictionPool::default();
        p.offer(0, b"alive", 1);
        p.offer(0, b"gone1", 2);
        p.offer(0, b"gone2", 3);
        let got = p.pop_best(|_, k| k == b"alive");
        assert_eq!(got, Some((0, b"alive"[..].into())));
        assert!(p.is_empty());
        assert_eq!(p.pop_best(|_, _| true), None);
    }

    #[test]
    fn tenacity_time_limits() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert!(time_limit_us(99) > 100_000_000);
        assert_eq!(time_limit_us(100), u64::MAX);
    }
}
