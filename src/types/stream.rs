//! The stream value (Redis's t_stream.c low level part and stream.h): entries live in listpack
//! nodes keyed by their master ID, in ID order, exactly as Redis lays them out so that RDB
//! payloads are byte-compatible:
//!
//! ```text
//! master entry: count | deleted | num-fields | field_1 .. field_N | 0
//! entry:        flags | ms-delta | seq-delta | [num-fields | field_i value_i ..] | lp-count
//!               (with SAMEFIELDS only the values are stored)
//! ```
//!
//! Deleted entries are only flagged (tombstones) until their node empties. Besides the
//! entries a stream holds its last generated ID, first live ID, the largest deleted ID, the
//! all-time count of added entries and its consumer groups (each with a pending entries list
//! of NACKs and its consumers). Every decoder here is fallible: a loaded payload is validated
//! deeply, and even then nothing panics on inconsistent data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Write};

use crate::persistence::rdb::{bad, RdbReader, RdbWriter};
use crate::types::listpack::{Listpack, LpPos, LpValue, INT_BUF_SIZE};

/// RDB type of streams before 7.0 (no first ID, tombstone or counters).
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
/// RDB type 7.0 writes.
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Listpacks hold at most 1 GB (STREAM_LISTPACK_MAX_SIZE).
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// A stream entry ID: milliseconds and sequence, ordered as a 128-bit number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, `None` past the maximum (streamIncrID's C_ERR).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, `None` before 0-0 (streamDecrID's C_ERR).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    pub fn is_zero(self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The 128-bit big-endian form used as radix tree key and in RDB PELs.
    pub fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Decode the 128-bit big-endian form.
    pub fn decode(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        let ms = u64::from_be_bytes(b[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(b[8..].try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }

    /// The `<ms>-<seq>` form as bytes.
    pub fn to_vec(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's string2ull: a strict integer first, then strtoull's laxer grammar (leading
/// blanks, a sign; a minus wraps around).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::numbers::string2ll(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if i == s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parse a stream ID as clients give it (streamGenericParseIDOrReply): `<ms>-<seq>`, `<ms>`
/// (the sequence is `missing_seq`), `-` and `+` unless `strict`, and `<ms>-*` when
/// `allow_auto_seq` (then the flag returned is false: the sequence was not given).
pub fn parse_id(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Option<(StreamId, bool)> {
    if arg.len() > 127 {
        return None;
    }
    // The C code works on a NUL-terminated copy.
    let s = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if s == b"-" || s == b"+" {
        if strict {
            return None;
        }
        return Some((
            if s == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    let (ms_part, seq_part) = match s.iter().position(|&c| c == b'-') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let ms = string2ull(ms_part)?;
    match seq_part {
        Some(b"*") if allow_auto_seq => Some((StreamId::new(ms, 0), false)),
        Some(sp) => Some((StreamId::new(ms, string2ull(sp)?), true)),
        None => Some((StreamId::new(ms, missing_seq), true)),
    }
}

/// A pending (delivered, not acknowledged) entry of a consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer owning it; `None` only transiently (XCLAIM FORCE, RDB loading).
    pub consumer: Option<Vec<u8>>,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time: i64,
    /// IDs of its pending entries (the NACKs live in the group's PEL).
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// Logical reads counter, -1 when unknown (SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Remove `id` from the PEL and its owner's PEL; true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(nack) => {
                if let Some(c) = nack.consumer.and_then(|n| self.consumers.get_mut(&n)) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Delete a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Give pending entry `id` to consumer `name` (which must exist), creating the NACK when
    /// missing; returns the NACK.
    pub fn assign(&mut self, id: StreamId, name: &[u8]) -> &mut Nack {
        let nack = self.pel.entry(id).or_insert(Nack {
            delivery_time: 0,
            delivery_count: 0,
            consumer: None,
        });
        if nack.consumer.as_deref() != Some(name) {
            if let Some(old) = nack.consumer.take() {
                if let Some(c) = self.consumers.get_mut(&old) {
                    c.pel.remove(&id);
                }
            }
            if let Some(c) = self.consumers.get_mut(name) {
                c.pel.insert(id);
            }
            nack.consumer = Some(name.to_vec());
        }
        nack
    }
}

/// One entry as read: its ID and field/value pairs (borrowed from the node).
#[derive(Debug)]
pub struct Entry<'a> {
    pub id: StreamId,
    pub fields: Vec<(LpValue<'a>, LpValue<'a>)>,
}

/// An entry of a node with where its flags are, for marking it deleted.
struct RawEntry<'a> {
    flags_pos: LpPos,
    flags: i64,
    id: StreamId,
    fields: Vec<(LpValue<'a>, LpValue<'a>)>,
}

/// Decode every entry (tombstones included) of the node with master ID `master`. `None` on
/// a malformed node.
fn decode_node(master: StreamId, lp: &Listpack) -> Option<Vec<RawEntry<'_>>> {
    let mut it = lp.entries();
    let int = |it: &mut crate::types::listpack::Entries<'_>| it.next()?.1.as_i64();
    let _count = int(&mut it)?;
    let _deleted = int(&mut it)?;
    let nf = int(&mut it)?;
    if nf < 0 {
        return None;
    }
    let mut master_fields = Vec::new();
    for _ in 0..nf {
        master_fields.push(it.next()?.1);
    }
    it.next()?; // the master terminator
    let mut out = Vec::new();
    while let Some((flags_pos, f)) = it.next() {
        let flags = f.as_i64()?;
        let msd = int(&mut it)?;
        let seqd = int(&mut it)?;
        let id = StreamId::new(
            master.ms.wrapping_add(msd as u64),
            master.seq.wrapping_add(seqd as u64),
        );
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                fields.push((*f, it.next()?.1));
            }
        } else {
            let n = int(&mut it)?;
            if n < 0 {
                return None;
            }
            for _ in 0..n {
                let f = it.next()?.1;
                let v = it.next()?.1;
                fields.push((f, v));
            }
        }
        it.next()?; // lp-count
        out.push(RawEntry {
            flags_pos,
            flags,
            id,
            fields,
        });
    }
    Some(out)
}

/// The (live, deleted) counters at the head of a node.
fn node_counts(lp: &Listpack) -> (i64, i64) {
    let mut it = lp.iter();
    let live = it.next().and_then(|v| v.as_i64()).unwrap_or(0);
    let deleted = it.next().and_then(|v| v.as_i64()).unwrap_or(0);
    (live, deleted)
}

/// Set the node's (live, deleted) counters.
fn set_node_counts(lp: &mut Listpack, live: i64, deleted: i64) {
    if let Some(p) = lp.first() {
        lp.replace(p, live);
        if let Some(p2) = lp.next(p) {
            lp.replace(p2, deleted);
        }
    }
}

/// What to trim by (XADD/XTRIM MAXLEN or MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// Why an append failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the top item (EDOM).
    IdTooSmall,
    /// The entry cannot fit in a listpack (ERANGE).
    TooLarge,
}

/// Node size limits (stream-node-max-bytes / stream-node-max-entries).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: u64,
    pub max_entries: i64,
}

/// A stream value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    /// Listpack nodes by master ID.
    nodes: BTreeMap<StreamId, Listpack>,
    /// Live entries.
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry, 0-0 when empty.
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Allocations freeing the stream takes, estimated as Redis does
    /// (lazyfreeGetFreeEffort): one per node, and per group one plus the first group's PEL.
    pub fn free_effort(&self) -> usize {
        let groups = self.groups.len();
        let pel = self.groups.values().next().map_or(0, |g| g.pel.len());
        self.nodes.len() + groups * (1 + pel)
    }

    /// Number of listpack nodes (XINFO radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// An estimate of the radix tree's node count (XINFO radix-tree-nodes): keys share
    /// prefixes, so a tree of n 16-byte keys has about 16 + n inner nodes at most.
    pub fn rax_nodes_estimate(&self) -> usize {
        let n = self.nodes.len();
        if n == 0 {
            1
        } else {
            n + n.min(16) + 1
        }
    }

    /// Append an entry made of `pairs` (field, value, field, value...), with an explicit ID
    /// (`use_id`: the ID and whether its sequence was given) or a generated one
    /// (streamAppendItem).
    pub fn append<B: AsRef<[u8]>>(
        &mut self,
        pairs: &[B],
        use_id: Option<(StreamId, bool)>,
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let id = match use_id {
            Some((id, true)) => id,
            Some((id, false)) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AppendError::IdTooSmall);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().unwrap_or(StreamId::MIN)
                }
            }
        };
        if id <= self.last_id {
            return Err(AppendError::IdTooSmall);
        }
        let numfields = pairs.len() / 2;
        let totelelen: usize = pairs.iter().map(|p| p.as_ref().len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        // Can the tail node take it?
        let mut use_tail = false;
        if let Some(lp) = self.nodes.values().next_back() {
            let mut max_bytes = limits.max_bytes as usize;
            if max_bytes == 0 || max_bytes > LISTPACK_MAX_SIZE {
                max_bytes = LISTPACK_MAX_SIZE;
            }
            use_tail = lp.bytes_len() + totelelen < max_bytes;
            if use_tail && limits.max_entries != 0 {
                let (live, deleted) = node_counts(lp);
                if live + deleted >= limits.max_entries {
                    use_tail = false;
                }
            }
        }
        let mut flags = 0;
        let (master, lp) = if use_tail {
            let (&master, lp) = self.nodes.iter_mut().next_back().expect("checked");
            let (live, _) = node_counts(lp);
            if let Some(p) = lp.first() {
                lp.replace(p, live + 1);
            }
            // Same fields as the master entry?
            let mut it = lp.iter().skip(2);
            let mf = it.next().and_then(|v| v.as_i64()).unwrap_or(-1);
            if mf == numfields as i64
                && (0..numfields)
                    .all(|i| it.next().is_some_and(|f| f.eq_str(pairs[i * 2].as_ref())))
            {
                flags |= FLAG_SAMEFIELDS;
            }
            (master, lp)
        } else {
            let mut lp = Listpack::new();
            lp.append(1i64);
            lp.append(0i64);
            lp.append(numfields as i64);
            for i in 0..numfields {
                lp.append(pairs[i * 2].as_ref());
            }
            lp.append(0i64);
            flags |= FLAG_SAMEFIELDS;
            (id, self.nodes.entry(id).or_insert(lp))
        };
        lp.append(flags);
        lp.append(id.ms.wrapping_sub(master.ms) as i64);
        lp.append(id.seq.wrapping_sub(master.seq) as i64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        if !same {
            lp.append(numfields as i64);
        }
        for i in 0..numfields {
            if !same {
                lp.append(pairs[i * 2].as_ref());
            }
            lp.append(pairs[i * 2 + 1].as_ref());
        }
        let mut lp_count = numfields as i64 + 3;
        if !same {
            lp_count += numfields as i64 + 1;
        }
        lp.append(lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Visit entries with IDs in `start..=end`, ascending or (`rev`) descending, tombstones
    /// included when `!skip_tombstones`, until `f` returns false.
    fn visit_raw(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        skip_tombstones: bool,
        mut f: impl FnMut(&RawEntry<'_>) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::MIN);
            for (master, lp) in self.nodes.range(from..) {
                let Some(entries) = decode_node(*master, lp) else {
                    continue;
                };
                for e in &entries {
                    if e.id < start || (skip_tombstones && e.flags & FLAG_DELETED != 0) {
                        continue;
                    }
                    if e.id > end || !f(e) {
                        return;
                    }
                }
            }
        } else {
            for (master, lp) in self.nodes.range(..=end).rev() {
                let Some(entries) = decode_node(*master, lp) else {
                    continue;
                };
                for e in entries.iter().rev() {
                    if e.id > end || (skip_tombstones && e.flags & FLAG_DELETED != 0) {
                        continue;
                    }
                    if e.id < start || !f(e) {
                        return;
                    }
                }
            }
        }
    }

    /// Visit live entries in `start..=end` (ascending, or descending when `rev`) until `f`
    /// returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(&Entry<'_>) -> bool,
    ) {
        self.visit_raw(start, end, rev, true, |e| {
            f(&Entry {
                id: e.id,
                fields: e.fields.clone(),
            })
        })
    }

    /// Call `f` with the live entry `id`, if there is one; true when there was.
    pub fn with_entry(&self, id: StreamId, f: impl FnOnce(&Entry<'_>)) -> bool {
        let mut f = Some(f);
        let mut found = false;
        self.range(id, id, false, |e| {
            if let Some(f) = f.take() {
                f(e);
            }
            found = true;
            false
        });
        found
    }

    /// Is there a live entry `id`?
    pub fn entry_exists(&self, id: StreamId) -> bool {
        self.with_entry(id, |_| {})
    }

    /// The first or last entry ID, tombstones included unless `skip_tombstones`
    /// (streamGetEdgeID): MAX/MIN when there is none.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let mut found = None;
        self.visit_raw(StreamId::MIN, StreamId::MAX, !first, skip_tombstones, |e| {
            found = Some(e.id);
            false
        });
        found.unwrap_or(if first { StreamId::MAX } else { StreamId::MIN })
    }

    /// The last live ID (streamLastValidID), 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        let mut found = StreamId::MIN;
        self.visit_raw(StreamId::MIN, StreamId::MAX, true, true, |e| {
            found = e.id;
            false
        });
        found
    }

    /// Mark entry `id` deleted (streamDeleteItem); true when it was live. The caller updates
    /// `first_id` and `max_deleted_entry_id`.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, lp)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(pos) = decode_node(master, lp).and_then(|es| {
            es.iter()
                .find(|e| e.id == id && e.flags & FLAG_DELETED == 0)
                .map(|e| (e.flags_pos, e.flags))
        }) else {
            return false;
        };
        let (live, deleted) = node_counts(lp);
        if live <= 1 {
            self.nodes.remove(&master);
        } else {
            lp.replace(pos.0, pos.1 | FLAG_DELETED);
            set_node_counts(lp, live - 1, deleted + 1);
        }
        self.length = self.length.saturating_sub(1);
        true
    }

    /// Trim from the head (streamTrim). `approx` only removes whole nodes; `limit` (0 = none)
    /// caps the entries removed. Returns how many were removed.
    pub fn trim(&mut self, strategy: TrimStrategy, approx: bool, limit: i64) -> i64 {
        if strategy == TrimStrategy::None {
            return 0;
        }
        let mut deleted: i64 = 0;
        loop {
            if let TrimStrategy::MaxLen(max) = strategy {
                if self.length <= max {
                    break;
                }
            }
            let Some((&master, lp)) = self.nodes.iter_mut().next() else {
                break;
            };
            let (entries, marked) = node_counts(lp);
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let decoded = decode_node(master, lp);
            let remove_node = match strategy {
                TrimStrategy::MaxLen(max) => self.length.saturating_sub(entries as u64) >= max,
                TrimStrategy::MinId(min) => decoded
                    .as_ref()
                    .and_then(|es| es.last().map(|e| e.id < min))
                    .unwrap_or(true),
                TrimStrategy::None => false,
            };
            if remove_node {
                self.nodes.remove(&master);
                self.length = self.length.saturating_sub(entries.max(0) as u64);
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            // Mark entries deleted inside the head node.
            let marks: Vec<(LpPos, i64)> = {
                let mut marks = Vec::new();
                let mut len = self.length;
                for e in decoded.iter().flatten() {
                    let stop = match strategy {
                        TrimStrategy::MaxLen(max) => len <= max,
                        TrimStrategy::MinId(min) => e.id >= min,
                        TrimStrategy::None => true,
                    };
                    if stop {
                        break;
                    }
                    if e.flags & FLAG_DELETED == 0 {
                        marks.push((e.flags_pos, e.flags | FLAG_DELETED));
                        len -= 1;
                    }
                }
                marks
            };
            for (pos, flags) in &marks {
                lp.replace(*pos, *flags);
            }
            let n = marks.len() as i64;
            set_node_counts(lp, entries - n, marked + n);
            self.length -= n as u64;
            deleted += n;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true);
        }
        deleted
    }

    /// Does `start..=end` (whole stream when `None`) hold a tombstone
    /// (streamRangeHasTombstones)?
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let s = start.unwrap_or(StreamId::MIN);
        let e = end.unwrap_or(StreamId::MAX);
        s <= self.max_deleted_entry_id && self.max_deleted_entry_id <= e
    }

    /// The logical read counter of `id`, -1 when it cannot be known
    /// (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        -1
    }

    /// A group's lag, `None` when it cannot be computed (streamReplyWithCGLag).
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        if er != -1 {
            Some(self.entries_added as i64 - er)
        } else {
            None
        }
    }

    /// Mix the entries into a digest (xorObjectDigest's stream part).
    pub fn digest(&self, d: &mut crate::util::digest::Digest20) {
        use crate::util::digest::mix_digest;
        self.range(StreamId::MIN, StreamId::MAX, false, |e| {
            mix_digest(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
            for (f, v) in &e.fields {
                let mut b1 = [0u8; INT_BUF_SIZE];
                let mut b2 = [0u8; INT_BUF_SIZE];
                mix_digest(d, f.as_bytes(&mut b1));
                mix_digest(d, v.as_bytes(&mut b2));
            }
            true
        });
    }

    /// Approximate bytes used, for MEMORY USAGE (objectComputeSize's stream part).
    pub fn mem_usage(&self) -> usize {
        let mut n = 64 + self.nodes.len() * 40;
        n += self.nodes.values().map(|lp| lp.bytes_len()).sum::<usize>();
        for (name, g) in &self.groups {
            n += 48 + name.len() + g.pel.len() * 56;
            for (cname, c) in &g.consumers {
                n += 48 + cname.len() + c.pel.len() * 24;
            }
        }
        n
    }

    /// Write the RDB_TYPE_STREAM_LISTPACKS_2 payload.
    pub fn rdb_save<W: Write>(&self, w: &mut RdbWriter<W>) -> io::Result<()> {
        w.len(self.nodes.len() as u64)?;
        for (master, lp) in &self.nodes {
            w.string(&master.encode())?;
            w.string(lp.as_bytes())?;
        }
        w.len(self.length)?;
        for id in [self.last_id, self.first_id, self.max_deleted_entry_id] {
            w.len(id.ms)?;
            w.len(id.seq)?;
        }
        w.len(self.entries_added)?;
        w.len(self.groups.len() as u64)?;
        for (name, g) in &self.groups {
            w.string(name)?;
            w.len(g.last_id.ms)?;
            w.len(g.last_id.seq)?;
            w.len(g.entries_read as u64)?;
            w.len(g.pel.len() as u64)?;
            for (id, nack) in &g.pel {
                w.raw(&id.encode())?;
                w.raw(&nack.delivery_time.to_le_bytes())?;
                w.len(nack.delivery_count)?;
            }
            w.len(g.consumers.len() as u64)?;
            for (cname, c) in &g.consumers {
                w.string(cname)?;
                w.raw(&c.seen_time.to_le_bytes())?;
                w.len(c.pel.len() as u64)?;
                for id in &c.pel {
                    w.raw(&id.encode())?;
                }
            }
        }
        Ok(())
    }

    /// Read a stream payload of RDB type 15 or 19, validating every node deeply.
    pub fn rdb_load(t: u8, r: &mut RdbReader) -> io::Result<Stream> {
        let mut s = Stream::new();
        let nodes = r.len()?;
        for _ in 0..nodes {
            let key = r.string()?;
            let master = StreamId::decode(&key)
                .ok_or_else(|| bad("Stream node key entry is not the size of a stream ID"))?;
            let blob = r.string()?;
            if !validate_node(&blob) {
                return Err(bad("Stream listpack integrity check failed."));
            }
            let lp = Listpack::from_bytes(blob);
            if lp.is_empty() {
                return Err(bad("Empty listpack inside stream"));
            }
            if s.nodes.insert(master, lp).is_some() {
                return Err(bad("Listpack re-added with existing key"));
            }
        }
        s.length = r.len()?;
        s.last_id = StreamId::new(r.len()?, r.len()?);
        if t == RDB_TYPE_STREAM_LISTPACKS_2 {
            s.first_id = StreamId::new(r.len()?, r.len()?);
            s.max_deleted_entry_id = StreamId::new(r.len()?, r.len()?);
            s.entries_added = r.len()?;
        } else {
            s.entries_added = s.length;
            s.first_id = s.edge_id(true, true);
        }
        if s.length != 0 && s.nodes.is_empty() {
            return Err(bad("Stream length inconsistent with rax entries"));
        }
        let ngroups = r.len()?;
        for _ in 0..ngroups {
            let name = r.string()?;
            let last_id = StreamId::new(r.len()?, r.len()?);
            let entries_read = if t == RDB_TYPE_STREAM_LISTPACKS_2 {
                r.len()? as i64
            } else {
                s.estimate_distance(last_id)
            };
            let mut g = Group::new(last_id, entries_read);
            let pel = r.len()?;
            for _ in 0..pel {
                let id = StreamId::decode(r.take(16)?).expect("16 bytes");
                let delivery_time = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
                let delivery_count = r.len()?;
                let nack = Nack {
                    delivery_time,
                    delivery_count,
                    consumer: None,
                };
                if g.pel.insert(id, nack).is_some() {
                    return Err(bad(
                        "Duplicated global PEL entry loading stream consumer group",
                    ));
                }
            }
            let nconsumers = r.len()?;
            for _ in 0..nconsumers {
                let cname = r.string()?;
                if g.consumers.contains_key(&cname) {
                    return Err(bad("Duplicate stream consumer detected."));
                }
                let seen_time = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
                let mut c = Consumer {
                    seen_time,
                    pel: BTreeSet::new(),
                };
                let n = r.len()?;
                for _ in 0..n {
                    let id = StreamId::decode(r.take(16)?).expect("16 bytes");
                    let Some(nack) = g.pel.get_mut(&id) else {
                        return Err(bad("Consumer entry not found in group global PEL"));
                    };
                    nack.consumer = Some(cname.clone());
                    if !c.pel.insert(id) {
                        return Err(bad(
                            "Duplicated consumer PEL entry  loading a stream consumer group",
                        ));
                    }
                }
                g.consumers.insert(cname, c);
            }
            if g.pel.values().any(|n| n.consumer.is_none()) {
                return Err(bad("Stream CG PEL entry without consumer"));
            }
            // A NACK owned by two consumers would leave one consumer PEL dangling.
            for (cname, c) in &g.consumers {
                if c.pel
                    .iter()
                    .any(|id| g.pel.get(id).and_then(|n| n.consumer.as_ref()) != Some(cname))
                {
                    return Err(bad("Stream consumer PEL entry shared by consumers"));
                }
            }
            if s.groups.insert(name, g).is_some() {
                return Err(bad("Duplicated consumer group name"));
            }
        }
        Ok(s)
    }
}

/// Deep integrity check of one node (streamValidateListpackIntegrity with deep set).
pub fn validate_node(blob: &[u8]) -> bool {
    if !Listpack::validate(blob, true) {
        return false;
    }
    let lp = Listpack::from_bytes(blob.to_vec());
    let mut it = lp.iter();
    let int = |it: &mut crate::types::listpack::Iter<'_>| it.next().and_then(|v| v.as_i64());
    let (Some(count), Some(deleted), Some(mf)) = (int(&mut it), int(&mut it), int(&mut it)) else {
        return false;
    };
    if mf < 0 || count < 0 || deleted < 0 {
        return false;
    }
    for _ in 0..mf {
        if it.next().is_none() {
            return false;
        }
    }
    if int(&mut it) != Some(0) {
        return false;
    }
    let mut total = count + deleted;
    while total > 0 {
        total -= 1;
        let Some(flags) = int(&mut it) else {
            return false;
        };
        if int(&mut it).is_none() || int(&mut it).is_none() {
            return false;
        }
        let mut fields = mf;
        let mut extra = 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            let Some(n) = int(&mut it) else { return false };
            if n < 0 {
                return false;
            }
            fields = n;
            for _ in 0..n {
                if it.next().is_none() {
                    return false;
                }
            }
            extra += fields + 1;
        }
        for _ in 0..fields {
            if it.next().is_none() {
                return false;
            }
        }
        if int(&mut it) != Some(fields + extra) {
            return false;
        }
    }
    it.next().is_none()
}

trait EqStr {
    fn eq_str(&self, s: &[u8]) -> bool;
}

impl EqStr for LpValue<'_> {
    /// Byte equality of the string forms (the master-fields comparison of streamAppendItem).
    fn eq_str(&self, s: &[u8]) -> bool {
        let mut buf = [0u8; INT_BUF_SIZE];
        self.as_bytes(&mut buf) == s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: NodeLimits = NodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    };

    type Owned = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn collect(s: &Stream) -> Owned {
        let mut out = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, false, |e| {
            out.push((
                e.id,
                e.fields
                    .iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
            ));
            true
        });
        out
    }

    #[test]
    fn node_layout_matches_redis() {
        let mut s = Stream::new();
        s.append(&[b"a", b"1"], Some((StreamId::new(5, 0), true)), 0, LIM)
            .unwrap();
        s.append(&[b"a", b"2"], Some((StreamId::new(5, 1), true)), 0, LIM)
            .unwrap();
        s.append(&[b"b", b"x"], Some((StreamId::new(6, 0), true)), 0, LIM)
            .unwrap();
        let lp = s.nodes.get(&StreamId::new(5, 0)).unwrap();
        let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        let want: Vec<&[u8]> = vec![
            b"3", b"0", b"1", b"a", b"0", // master entry
            b"2", b"0", b"0", b"1", b"4", // samefields entry
            b"2", b"0", b"1", b"2", b"4", //
            b"0", b"1", b"0", b"1", b"b", b"x", b"6", // own fields
        ];
        assert_eq!(items, want.iter().map(|b| b.to_vec()).collect::<Vec<_>>());
        assert!(validate_node(lp.as_bytes()));
        assert_eq!(s.length, 3);
        assert_eq!(s.last_valid_id(), StreamId::new(6, 0));
    }

    #[test]
    fn delete_trim_and_nodes() {
        let mut s = Stream::new();
        let lim = NodeLimits {
            max_bytes: 0,
            max_entries: 2,
        };
        for i in 1..=5u64 {
            s.append(&[b"f", b"v"], Some((StreamId::new(i, 0), true)), 0, lim)
                .unwrap();
        }
        assert_eq!(s.node_count(), 3);
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.length, 4);
        assert_eq!(s.edge_id(true, false), StreamId::new(1, 0));
        assert_eq!(s.trim(TrimStrategy::MaxLen(2), false, 0), 2);
        assert_eq!(
            collect(&s).iter().map(|e| e.0.ms).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert_eq!(s.first_id, StreamId::new(4, 0));
        // The node holding 4-0 only has IDs below 5-0: even `~` removes it whole.
        assert_eq!(s.trim(TrimStrategy::MinId(StreamId::new(5, 0)), true, 0), 1);
        assert_eq!(
            s.trim(TrimStrategy::MinId(StreamId::new(5, 0)), false, 0),
            0
        );
        assert_eq!(s.length, 1);
    }

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(
            parse_id(b"1-2", 0, true, false),
            Some((StreamId::new(1, 2), true))
        );
        assert_eq!(
            parse_id(b"7", 9, true, false),
            Some((StreamId::new(7, 9), true))
        );
        assert_eq!(
            parse_id(b"7-*", 0, true, true),
            Some((StreamId::new(7, 0), false))
        );
        assert_eq!(parse_id(b"7-*", 0, true, false), None);
        assert_eq!(parse_id(b"-", 0, true, false), None);
        assert_eq!(parse_id(b"+", 0, false, false), Some((StreamId::MAX, true)));
        assert_eq!(parse_id(b"1-a", 0, false, false), None);
        assert_eq!(parse_id(b"18446744073709551616", 0, false, false), None);
    }

    #[test]
    fn rdb_round_trip() {
        let mut s = Stream::new();
        for i in 1..=300u64 {
            let v = i.to_string();
            s.append(&[b"field".as_slice(), v.as_bytes()], None, i, LIM)
                .unwrap();
        }
        s.delete(StreamId::new(10, 0));
        s.max_deleted_entry_id = StreamId::new(10, 0);
        let mut g = Group::new(StreamId::new(20, 0), 20);
        g.consumers.insert(
            b"alice".to_vec(),
            Consumer {
                seen_time: 1234,
                pel: BTreeSet::new(),
            },
        );
        g.assign(StreamId::new(3, 0), b"alice").delivery_count = 2;
        s.groups.insert(b"g1".to_vec(), g);
        let mut w = RdbWriter::new(Vec::new());
        s.rdb_save(&mut w).unwrap();
        let bytes = w.into_inner();
        let mut r = RdbReader::new(&bytes);
        let back = Stream::rdb_load(RDB_TYPE_STREAM_LISTPACKS_2, &mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(back, s);
        assert_eq!(collect(&back).len(), 299);
    }
}
