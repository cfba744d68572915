//! Per-object access clocks (Redis's evict.c LRU/LFU helpers): `RObj::lru` holds either the
//! 24-bit LRU clock of the last access (seconds resolution), or, under an LFU
//! `maxmemory-policy`, 16 bits of minutes since the epoch (last decrement time) and an 8-bit
//! logarithmic access counter, updated on every access that is not "no touch".

use std::cell::Cell;

use crate::server::{Server, LRU_CLOCK_MAX, LRU_CLOCK_RESOLUTION_MS};
use crate::types::object::RObj;

/// Counter of a new object under LFU (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0x2545_F491_4F6C_DD1D) };
}

/// A uniform double in [0, 1) (xorshift64*).
fn rand_unit() -> f64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Minutes since the epoch, 16 bits (Redis's LFUGetTimeInMinutes).
pub(crate) fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 1000 / 60) as u32) & 0xffff
}

/// A snapshot of what access-clock updates need, taken from the server so an object borrowed
/// from the keyspace can be stamped without borrowing the server again.
#[derive(Debug, Clone, Copy)]
pub struct AccessClock {
    lfu: bool,
    now_ms: i64,
    lruclock: u32,
    decay_time: i64,
    log_factor: i64,
}

impl AccessClock {
    /// The clock a newly created object starts with (Redis's createObject).
    pub fn new_obj(&self) -> u32 {
        if self.lfu {
            (lfu_minutes(self.now_ms) << 8) | LFU_INIT_VAL
        } else {
            self.lruclock
        }
    }

    /// Record an access to `o` (the LRU/LFU part of Redis's lookupKey).
    pub fn touch(&self, o: &mut RObj) {
        if self.lfu {
            let counter = self.lfu_log_incr(self.lfu_decr_and_return(o.lru));
            o.lru = (lfu_minutes(self.now_ms) << 8) | counter;
        } else {
            o.lru = self.lruclock;
        }
    }

    /// The LFU counter after applying the decay for elapsed time (Redis's LFUDecrAndReturn).
    pub fn lfu_decr_and_return(&self, clock: u32) -> u32 {
        let ldt = clock >> 8;
        let counter = clock & 255;
        let now = lfu_minutes(self.now_ms);
        let elapsed = if now >= ldt {
            now - ldt
        } else {
            65535 - ldt + now
        };
        let periods = if self.decay_time > 0 {
            elapsed as i64 / self.decay_time
        } else {
            0
        };
        if periods > counter as i64 {
            0
        } else {
            counter - periods as u32
        }
    }

    /// Logarithmically increment an LFU counter (Redis's LFULogIncr).
    fn lfu_log_incr(&self, counter: u32) -> u32 {
        if counter == 255 {
            return 255;
        }
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * self.log_factor as f64 + 1.0);
        if rand_unit() < p {
            counter + 1
        } else {
            counter
        }
    }

    /// Milliseconds since the last access under LRU (Redis's estimateObjectIdleTime).
    pub fn idle_ms(&self, clock: u32) -> u64 {
        let now = self.lruclock;
        let ticks = if now >= clock {
            now - clock
        } else {
            now + (LRU_CLOCK_MAX - clock)
        };
        ticks as u64 * LRU_CLOCK_RESOLUTION_MS as u64
    }
}

impl Server {
    /// True when objects' clocks hold LFU data (an LFU maxmemory-policy).
    pub fn lfu_enabled(&self) -> bool {
        self.config.maxmemory_policy.is_lfu()
    }

    /// The current access clock.
    pub fn access_clock(&self) -> AccessClock {
        AccessClock {
            lfu: self.lfu_enabled(),
            now_ms: self.now_ms,
            lruclock: self.lruclock,
            decay_time: self.config.lfu_decay_time,
            log_factor: self.config.lfu_log_factor,
        }
    }

    /// The clock a newly created object starts with.
    pub fn new_obj_clock(&self) -> u32 {
        self.access_clock().new_obj()
    }
}
