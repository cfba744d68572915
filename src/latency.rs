//! The latency monitor: per event, the last 160 samples over `latency-monitor-threshold`
//! (one per second at most, keeping the max), with the all-time max, for LATENCY LATEST,
//! HISTORY, RESET, GRAPH and DOCTOR.

use std::collections::BTreeMap;

/// Samples kept per event (Redis's LATENCY_TS_LEN).
pub const TS_LEN: usize = 160;

/// One sample: unix time (s) and latency (ms).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub time: i64,
    pub latency: u64,
}

/// The time series of one event.
#[derive(Debug, Clone, Default)]
pub struct EventSeries {
    pub samples: Vec<Sample>,
    /// Index where the next sample goes in the ring.
    pub idx: usize,
    pub max: u64,
}

impl EventSeries {
    /// Samples in time order.
    pub fn ordered(&self) -> Vec<Sample> {
        let mut v: Vec<Sample> = Vec::with_capacity(self.samples.len());
        if self.samples.len() < TS_LEN {
            v.extend_from_slice(&self.samples);
        } else {
            v.extend_from_slice(&self.samples[self.idx..]);
            v.extend_from_slice(&self.samples[..self.idx]);
        }
        v
    }

    /// The newest sample.
    pub fn latest(&self) -> Option<Sample> {
        if self.samples.is_empty() {
            return None;
        }
        let i = if self.idx == 0 {
            self.samples.len() - 1
        } else {
            self.idx - 1
        };
        self.samples.get(i).copied()
    }
}

/// All events.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    pub events: BTreeMap<String, EventSeries>,
}

impl LatencyMonitor {
    /// Add a sample when monitoring is on and `ms` reaches the threshold.
    pub fn add_sample_if_needed(&mut self, threshold: i64, event: &str, ms: u64, now_s: i64) {
        if threshold > 0 && ms as i64 >= threshold {
            self.add_sample(event, ms, now_s);
        }
    }

    /// Add a sample (Redis's latencyAddSample).
    pub fn add_sample(&mut self, event: &str, ms: u64, now_s: i64) {
        let ts = self.events.entry(event.to_string()).or_default();
        if ms > ts.max {
            ts.max = ms;
        }
        // Same second as the previous sample: keep the larger.
        let prev = if ts.idx == 0 {
            ts.samples.len().wrapping_sub(1)
        } else {
            ts.idx - 1
        };
        if let Some(p) = ts.samples.get_mut(prev) {
            if p.time == now_s {
                if ms > p.latency {
                    p.latency = ms;
                }
                return;
            }
        }
        let s = Sample {
            time: now_s,
            latency: ms,
        };
        if ts.samples.len() < TS_LEN {
            ts.samples.push(s);
            ts.idx = ts.samples.len() % TS_LEN;
        } else {
            ts.samples[ts.idx] = s;
            ts.idx = (ts.idx + 1) % TS_LEN;
        }
    }

    /// LATENCY RESET of some or all events; returns how many were reset.
    pub fn reset(&mut self, events: &[String]) -> usize {
        if events.is_empty() {
            let n = self.events.len();
            self.events.clear();
            return n;
        }
        events
            .iter()
            .filter(|e| self.events.remove(*e).is_some())
            .count()
    }
}

/// Sub-buckets per power of two: about 1.5% precision, like HDR with 2 significant figures.
const SUB_BUCKETS: u64 = 64;
const SUB_BITS: u32 = 6;
/// Redis tracks 1 ns .. 1 s (LATENCY_HISTOGRAM_MIN/MAX_VALUE).
const HIST_MAX_NS: u64 = 1_000_000_000;

/// A per-command latency histogram (Redis keeps an hdr_histogram): log-linear buckets of
/// nanoseconds, for INFO latencystats percentiles and LATENCY HISTOGRAM.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    counts: Vec<u64>,
    pub total: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < SUB_BUCKETS {
        return v as usize;
    }
    let half = SUB_BUCKETS / 2;
    let msb = 63 - v.leading_zeros() as u64;
    let shift = msb - (SUB_BITS as u64 - 1);
    (SUB_BUCKETS + (shift - 1) * half + ((v >> shift) - half)) as usize
}

/// The highest value that falls in bucket `b`.
fn bucket_high(b: usize) -> u64 {
    let b = b as u64;
    if b < SUB_BUCKETS {
        return b;
    }
    let half = SUB_BUCKETS / 2;
    let k = b - SUB_BUCKETS;
    let shift = k / half + 1;
    let sub = k % half + half;
    ((sub + 1) << shift) - 1
}

impl Histogram {
    /// Record a duration in nanoseconds (clamped to Redis's 1 ns .. 1 s range).
    pub fn record(&mut self, ns: u64) {
        let b = bucket_of(ns.clamp(1, HIST_MAX_NS));
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        self.total += 1;
    }

    /// The value (ns) at percentile `p` (0..=100).
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let want = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (b, &n) in self.counts.iter().enumerate() {
            acc += n;
            if acc >= want {
                return bucket_high(b);
            }
        }
        bucket_high(self.counts.len().saturating_sub(1))
    }

    /// Cumulative counts at power-of-two microsecond boundaries, starting at 1 µs, listing
    /// only boundaries where the count grew (LATENCY HISTOGRAM's `histogram_usec`).
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut limit_ns = 1024u64;
        let mut acc = 0u64;
        let mut prev = 0u64;
        let mut b = 0;
        while acc < self.total {
            while b < self.counts.len() && bucket_high(b) < limit_ns {
                acc += self.counts[b];
                b += 1;
            }
            if acc > prev {
                out.push(((limit_ns - 1) / 1000, acc));
            }
            prev = acc;
            limit_ns *= 2;
            if limit_ns > HIST_MAX_NS * 4 {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_values() {
        let mut prev = 0;
        for v in [
            0u64,
            1,
            63,
            64,
            65,
            100,
            1000,
            1023,
            1024,
            65536,
            999_999_999,
        ] {
            let b = bucket_of(v);
            assert!(b >= prev);
            prev = b;
            assert!(bucket_high(b) >= v, "v={v} b={b} high={}", bucket_high(b));
            assert!(
                bucket_high(b) <= v + v / 30 + 1,
                "v={v} high={}",
                bucket_high(b)
            );
        }
    }

    #[test]
    fn percentiles_and_cdf() {
        let mut h = Histogram::default();
        for _ in 0..99 {
            h.record(5_000);
        }
        h.record(50_000_000);
        let p50 = h.value_at_percentile(50.0);
        assert!((5_000..=5_200).contains(&p50), "{p50}");
        assert!(h.value_at_percentile(100.0) >= 50_000_000);
        let cdf = h.cumulative_usec();
        assert_eq!(cdf.last().unwrap().1, 100);
        assert_eq!(cdf[0].1, 99);
    }
}
