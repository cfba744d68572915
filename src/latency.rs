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
        let i = if self.idx == 0 { self.samples.len() - 1 } else { self.idx - 1 };
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
        let prev = if ts.idx == 0 { ts.samples.len().wrapping_sub(1) } else { ts.idx - 1 };
        if let Some(p) = ts.samples.get_mut(prev) {
            if p.time == now_s {
                if ms > p.latency {
                    p.latency = ms;
                }
                return;
            }
        }
        let s = Sample { time: now_s, latency: ms };
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
        events.iter().filter(|e| self.events.remove(*e).is_some()).count()
    }
}
