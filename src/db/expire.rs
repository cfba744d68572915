//! Active expiry (Redis's activeExpireCycle): sample keys with a TTL, database after database
//! (resuming where the previous call stopped), and delete the expired ones, repeating on a
//! database while more than an acceptable share of the sampled keys were stale, within a time
//! budget. The slow cycle runs from cron (25% of a cron period at most); the fast one runs
//! before sleep, only when the previous cycle hit its time limit or the estimated share of
//! stale keys is high, and never more often than every two fast-cycle durations.

use crate::server::Server;

/// Which budget the cycle gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    Slow,
    Fast,
}

/// Keys sampled per database per loop (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const KEYS_PER_LOOP: u64 = 20;
/// Fast cycle duration in microseconds.
const FAST_DURATION_US: i64 = 1000;
/// Percentage of CPU the slow cycle may use.
const SLOW_TIME_PERC: i64 = 25;
/// Acceptable percentage of expired keys among sampled ones.
const ACCEPTABLE_STALE: u64 = 10;
/// Databases visited per call unless the previous call ran out of time (CRON_DBS_PER_CALL).
const DBS_PER_CALL: usize = 16;

/// What the cycle remembers between calls, and the statistics INFO reports.
#[derive(Debug, Default, Clone)]
pub struct CycleState {
    /// Next database to visit.
    current_db: usize,
    /// The previous call stopped on its time limit.
    timelimit_exit: bool,
    /// When the last fast cycle started (µs).
    last_fast_cycle: i64,
    /// Running estimate of the share of stale keys among those with a TTL (0..1).
    pub stale_perc: f64,
    /// Cycles that stopped on their time limit.
    pub time_cap_reached: u64,
    /// Total time spent in the cycle (µs).
    pub time_used_us: i64,
}

/// Run one expiry cycle.
pub fn active_expire_cycle(srv: &mut Server, kind: Cycle) {
    // Nothing expires while clients are paused (Redis's checkClientPauseTimeoutAndReturnIfPaused).
    if srv.is_replica() || srv.dbs.is_empty() || srv.paused().is_some() {
        return;
    }
    let effort = srv.config.active_expire_effort.clamp(1, 10) as u64 - 1;
    let keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let fast_duration = FAST_DURATION_US + FAST_DURATION_US / 4 * effort as i64;
    let slow_time_perc = SLOW_TIME_PERC + 2 * effort as i64;
    let acceptable = ACCEPTABLE_STALE - effort;

    let start = crate::server::ustime();
    // The DELs go out one by one, not wrapped in a transaction.
    srv.propagate_no_multi = true;
    active_expire_cycle_inner(
        srv,
        kind,
        start,
        keys_per_loop,
        fast_duration,
        slow_time_perc,
        acceptable,
    );
    srv.propagate_pending(true);
    srv.propagate_no_multi = false;
}

fn active_expire_cycle_inner(
    srv: &mut Server,
    kind: Cycle,
    start: i64,
    keys_per_loop: u64,
    fast_duration: i64,
    slow_time_perc: i64,
    acceptable: u64,
) {
    let st = &mut srv.expire_cycle;
    if kind == Cycle::Fast {
        if !st.timelimit_exit && st.stale_perc < acceptable as f64 {
            return;
        }
        if start < st.last_fast_cycle + fast_duration * 2 {
            return;
        }
        st.last_fast_cycle = start;
    }
    let dbnum = srv.dbs.len();
    let dbs_per_call = if DBS_PER_CALL > dbnum || st.timelimit_exit {
        dbnum
    } else {
        DBS_PER_CALL
    };
    let timelimit = match kind {
        Cycle::Fast => fast_duration,
        Cycle::Slow => (slow_time_perc * 1_000_000 / srv.hz.max(1) as i64 / 100).max(1),
    };
    st.timelimit_exit = false;

    let (mut total_sampled, mut total_expired) = (0u64, 0u64);
    let mut iteration = 0u64;
    let mut expired_keys: Vec<crate::db::Sds> = Vec::new();
    let mut j = 0;
    while j < dbs_per_call && !srv.expire_cycle.timelimit_exit {
        let db = srv.expire_cycle.current_db % dbnum;
        srv.expire_cycle.current_db = srv.expire_cycle.current_db.wrapping_add(1);
        j += 1;
        loop {
            iteration += 1;
            let d = &mut srv.dbs[db];
            let num = d.expires.len() as u64;
            if num == 0 {
                d.avg_ttl = 0;
                break;
            }
            // A sparse table is cheaper to leave for later than to walk.
            let slots = d.expires.buckets() as u64;
            if slots > 4 && num * 100 / slots < 1 {
                break;
            }
            let now = crate::server::mstime();
            srv.cmd_time_ms = now;
            let d = &mut srv.dbs[db];
            let num = num.min(keys_per_loop);
            let max_buckets = num * 20;
            let (mut sampled, mut checked) = (0u64, 0u64);
            let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
            expired_keys.clear();
            let mut cursor = d.expires_cursor;
            while sampled < num && checked < max_buckets {
                cursor = d.expires.scan(cursor, |k, &when| {
                    sampled += 1;
                    let ttl = when - now;
                    if ttl > 0 {
                        ttl_sum += ttl;
                        ttl_samples += 1;
                    } else if when < now {
                        expired_keys.push(k.clone());
                    }
                });
                checked += 1;
            }
            d.expires_cursor = cursor;
            if ttl_samples > 0 {
                let avg = ttl_sum / ttl_samples;
                if d.avg_ttl == 0 {
                    d.avg_ttl = avg;
                }
                d.avg_ttl = (d.avg_ttl / 50) * 49 + avg / 50;
            }
            let mut expired = 0u64;
            for k in &expired_keys {
                if srv.dbs[db].is_expired(k, now) {
                    srv.delete_expired(db, k, None);
                    expired += 1;
                }
            }
            total_expired += expired;
            total_sampled += sampled;
            if iteration & 0xf == 0 && crate::server::ustime() - start > timelimit {
                srv.expire_cycle.timelimit_exit = true;
                srv.expire_cycle.time_cap_reached += 1;
                break;
            }
            if sampled != 0 && expired * 100 / sampled <= acceptable {
                break;
            }
        }
    }
    let elapsed = crate::server::ustime() - start;
    let st = &mut srv.expire_cycle;
    st.time_used_us += elapsed;
    let current = if total_sampled > 0 {
        total_expired as f64 / total_sampled as f64
    } else {
        0.0
    };
    st.stale_perc = current * 0.05 + st.stale_perc * 0.95;
    srv.latency.add_sample_if_needed(
        srv.config.latency_monitor_threshold,
        "expire-cycle",
        (elapsed / 1000) as u64,
        srv.now_ms / 1000,
    );
}

/// Keys a writable replica's own clients gave a TTL (Redis's slaveKeysWithExpire). A replica
/// never expires the master's keys — the master's DELs do — but nobody else would delete the
/// ones it created itself, so they are remembered here, with a bitmap of the databases
/// (the first 64) holding them, and expired from cron.
#[derive(Default)]
pub struct ReplicaKeysWithExpire {
    keys: crate::db::dict::Dict<Box<[u8]>, u64>,
}

impl ReplicaKeysWithExpire {
    /// Remember that `key` in `db` got a TTL from a replica's own client.
    pub fn remember(&mut self, db: usize, key: &[u8]) {
        if db > 63 {
            return;
        }
        match self.keys.get_mut(key) {
            Some(bits) => *bits |= 1 << db,
            None => {
                self.keys.insert(key.into(), 1 << db);
            }
        }
    }

    /// Forget every key (FLUSHALL, a full sync: the bitmaps no longer say where
    /// the keys are).
    pub fn flush(&mut self) {
        if !self.keys.is_empty() {
            self.keys = Default::default();
        }
    }

    /// SWAPDB: the keys of `a` are now in `b` and the reverse.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a > 63 || b > 63 {
            return;
        }
        for (_, bits) in self.keys.iter_mut() {
            let (x, y) = (*bits >> a & 1, *bits >> b & 1);
            if x != y {
                *bits ^= 1 << a | 1 << b;
            }
        }
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Expire the remembered keys of a writable replica whose TTL elapsed (Redis's
/// expireSlaveKeys): random keys are checked until more than three still have a TTL to go,
/// the set is empty, or a millisecond has passed. Keys that no longer exist or lost their
/// TTL are forgotten on the way.
pub fn expire_replica_keys(srv: &mut Server) {
    if srv.replica_keys_with_expire.is_empty() {
        return;
    }
    let start = crate::server::mstime();
    srv.cmd_time_ms = start;
    let (mut cycles, mut pending) = (0u64, 0u32);
    srv.propagate_no_multi = true;
    while let Some((key, &dbids)) = srv.replica_keys_with_expire.keys.random_entry() {
        let key = key.clone();
        let mut still = 0u64;
        for db in 0..srv.dbs.len().min(64) {
            if dbids & (1 << db) == 0 {
                continue;
            }
            let Some(&when) = srv.dbs[db].expires.get(&key[..]) else {
                continue;
            };
            if when <= start {
                srv.delete_expired(db, &key, None);
            } else {
                pending += 1;
                still |= 1 << db;
            }
        }
        if still != 0 {
            if let Some(bits) = srv.replica_keys_with_expire.keys.get_mut(&key[..]) {
                *bits = still;
            }
        } else {
            srv.replica_keys_with_expire.keys.remove(&key[..]);
        }
        cycles += 1;
        if pending > 3
            || srv.replica_keys_with_expire.is_empty()
            || (cycles % 64 == 0 && crate::server::mstime() - start > 1)
        {
            break;
        }
    }
    srv.replica_keys_with_expire.keys.shrink_if_needed();
    srv.propagate_pending(true);
    srv.propagate_no_multi = false;
}
