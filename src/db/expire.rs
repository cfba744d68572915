//! Active expiry (Redis's activeExpireCycle): sample keys with a TTL in each database and delete
//! the expired ones, repeating while many sampled keys were expired, within a time budget.
//! The slow cycle runs from cron (25% of a cron period at most), the fast one before sleep.

use crate::server::Server;

/// Which budget the cycle gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    Slow,
    Fast,
}

/// Keys sampled per database per loop (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const KEYS_PER_LOOP: usize = 20;
/// Fast cycle duration in microseconds.
const FAST_DURATION_US: i64 = 1000;
/// Percentage of CPU the slow cycle may use.
const SLOW_TIME_PERC: i64 = 25;
/// Acceptable percentage of expired keys among sampled ones.
const ACCEPTABLE_STALE: usize = 10;

/// Run one expiry cycle.
pub fn active_expire_cycle(srv: &mut Server, kind: Cycle) {
    if srv.is_replica() {
        return;
    }
    let effort = srv.config.active_expire_effort.clamp(1, 10) as usize - 1;
    let per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let acceptable = ACCEPTABLE_STALE.saturating_sub(effort);
    let start = crate::server::ustime();
    let limit_us = match kind {
        Cycle::Fast => FAST_DURATION_US + FAST_DURATION_US / 4 * effort as i64,
        Cycle::Slow => {
            (SLOW_TIME_PERC + 2 * effort as i64) * 1_000_000 / srv.hz.max(1) as i64 / 100
        }
    };
    if kind == Cycle::Fast && srv.dbs.iter().all(|d| d.expires.is_empty()) {
        return;
    }
    for db in 0..srv.dbs.len() {
        loop {
            if srv.dbs[db].expires.is_empty() {
                break;
            }
            let now = crate::server::mstime();
            srv.cmd_time_ms = now;
            let mut expired_keys: Vec<Box<[u8]>> = Vec::new();
            let mut sampled = 0;
            let mut cursor = srv.dbs[db].expires_cursor;
            let mut buckets = 0;
            while sampled < per_loop && buckets < per_loop * 20 {
                cursor = srv.dbs[db].expires.scan(cursor, |k, &when| {
                    sampled += 1;
                    if when < now {
                        expired_keys.push(k.clone());
                    }
                });
                buckets += 1;
                if cursor == 0 {
                    break;
                }
            }
            srv.dbs[db].expires_cursor = cursor;
            let n_expired = expired_keys.len();
            for k in expired_keys {
                if srv.dbs[db].is_expired(&k, now) {
                    srv.delete_expired(db, &k, None);
                }
            }
            if crate::server::ustime() - start > limit_us {
                return;
            }
            if sampled == 0 || n_expired * 100 / sampled <= acceptable || cursor == 0 {
                break;
            }
        }
    }
}
