//! Sorted sets (Redis's t_zset.c data structures): a [`ZSet`] is either a `listpack` of
//! (member, score) pairs ordered by score then member, or a `skiplist` — a [`SkipList`] for
//! order and rank plus a [`Dict`] member→score for O(1) lookups.
//!
//! Scores in a listpack are stored as Redis stores them: the `d2string` text, which the listpack
//! keeps as an integer when it is one. Conversion rules (zsetAdd growing past
//! `zset-max-listpack-entries`/`-value`, zsetConvertToListpackIfNeeded for store destinations,
//! RDB loading) live here; commands only pass the current [`Limits`].

use std::cell::Cell;
use std::io::{self, Write};

use crate::db::dict::Dict;
use crate::persistence::rdb::{bad, RdbReader, RdbWriter};
use crate::types::listpack::{Listpack, LpPos, LpValue, INT_BUF_SIZE};
use crate::types::skiplist::{NodeId, SkipList};
use crate::types::thin::{Enc, Mut, Ref};
use crate::util::numbers::{d2string, zzl_strtod};

/// RDB type numbers of sorted sets.
pub const RDB_TYPE_ZSET: u8 = 3;
pub const RDB_TYPE_ZSET_2: u8 = 5;
pub const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
pub const RDB_TYPE_ZSET_LISTPACK: u8 = 17;

thread_local! {
    static RNG: Cell<u64> = Cell::new(0x853c_49e6_748f_ea9b ^ std::process::id() as u64);
}

/// A random 64-bit number (splitmix64) for skiplist levels and ZRANDMEMBER.
pub fn rand_u64() -> u64 {
    RNG.with(|r| {
        let s = r.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        r.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// The encoding thresholds (zset-max-listpack-entries / -value).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// The `skiplist` encoding.
#[derive(Clone, Debug, Default)]
pub struct SkipZSet {
    pub dict: Dict<crate::db::Sds, f64>,
    pub zsl: SkipList,
}

/// A sorted set in one of its two encodings, `listpack` or `skiplist`, in one word (so that
/// the keyspace object holds it without a box of its own).
#[derive(Clone, Debug)]
pub struct ZSet(Enc<Listpack, SkipZSet>);

/// ZADD's input flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What [`ZSet::add`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    /// The resulting score would be NaN; nothing changed.
    Nan,
    Added(f64),
    Updated(f64),
    /// Nothing to do (flags prevented it, or the score did not change).
    Nop(f64),
    /// Member exists and the score is unchanged (counts as processed).
    Same(f64),
}

/// A score interval (zrangespec).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    /// Parse `min` and `max` (zslParseRange).
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = crate::util::numbers::parse_range_bound(min)?;
        let (max, maxex) = crate::util::numbers::parse_range_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
    /// True when no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range.
#[derive(Clone, Debug)]
pub enum LexBound {
    MinusInf,
    PlusInf,
    Incl(Box<[u8]>),
    Excl(Box<[u8]>),
}

impl LexBound {
    fn parse(b: &[u8]) -> Option<LexBound> {
        match b.first() {
            Some(b'+') if b.len() == 1 => Some(LexBound::PlusInf),
            Some(b'-') if b.len() == 1 => Some(LexBound::MinusInf),
            Some(b'(') => Some(LexBound::Excl(b[1..].into())),
            Some(b'[') => Some(LexBound::Incl(b[1..].into())),
            _ => None,
        }
    }
    /// Position in the total order -inf < strings < +inf, for comparing bounds.
    fn key(&self) -> (u8, &[u8]) {
        match self {
            LexBound::MinusInf => (0, b""),
            LexBound::Incl(s) | LexBound::Excl(s) => (1, s),
            LexBound::PlusInf => (2, b""),
        }
    }
    fn exclusive(&self) -> bool {
        matches!(self, LexBound::Excl(_))
    }
}

/// A lexicographic interval (zlexrangespec).
#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Parse `min` and `max` (zslParseLexRange).
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }
    pub fn gte_min(&self, e: &[u8]) -> bool {
        match &self.min {
            LexBound::MinusInf => true,
            LexBound::PlusInf => false,
            LexBound::Incl(m) => e >= &m[..],
            LexBound::Excl(m) => e > &m[..],
        }
    }
    pub fn lte_max(&self, e: &[u8]) -> bool {
        match &self.max {
            LexBound::MinusInf => false,
            LexBound::PlusInf => true,
            LexBound::Incl(m) => e <= &m[..],
            LexBound::Excl(m) => e < &m[..],
        }
    }
    /// True when no member can be in the range.
    pub fn is_empty(&self) -> bool {
        let c = self.min.key().cmp(&self.max.key());
        c.is_gt() || (c.is_eq() && (self.min.exclusive() || self.max.exclusive()))
    }
}

/// A score as a listpack entry holds it.
#[inline]
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(i) => i as f64,
        LpValue::Str(s) => zzl_strtod(s),
    }
}

/// How zzlInsertAt stores a score: an integer when double2ll allows (so -0 becomes 0), else
/// the d2string text.
#[inline]
fn score_entry(score: f64, text: &crate::util::numbers::NumStr) -> LpValue<'_> {
    match crate::util::numbers::double2ll(score) {
        Some(i) => LpValue::Int(i),
        None => LpValue::Str(text.as_bytes()),
    }
}

/// Call `f` with the bytes of a listpack member.
#[inline]
pub fn with_member<R>(v: LpValue<'_>, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buf = [0u8; INT_BUF_SIZE];
    f(v.as_bytes(&mut buf))
}

/// Where an iteration stands.
#[derive(Clone, Copy, Debug)]
enum Cursor<'a> {
    Lp(Option<LpPos>),
    Sl(Option<NodeId<'a>>),
}

/// Iterator over (member, score) in score order, either direction.
pub struct ZIter<'a> {
    z: &'a ZSet,
    cur: Cursor<'a>,
    rev: bool,
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (LpValue<'a>, f64);
    fn next(&mut self) -> Option<Self::Item> {
        match (&mut self.cur, self.z.0.get()) {
            (Cursor::Lp(pos), Ref::Small(lp)) => {
                let p = (*pos)?;
                let sp = lp.next(p).expect("zset listpack has pairs");
                let item = (lp.get(p), lp_score(lp.get(sp)));
                *pos = if self.rev {
                    lp.prev(p).and_then(|s| lp.prev(s))
                } else {
                    lp.next(sp)
                };
                Some(item)
            }
            (Cursor::Sl(node), Ref::Big(zs)) => {
                let id = (*node)?;
                let (e, s) = zs.zsl.get(id);
                *node = if self.rev {
                    zs.zsl.prev(id)
                } else {
                    zs.zsl.next(id)
                };
                Some((LpValue::Str(e), s))
            }
            _ => None,
        }
    }
}

impl ZSet {
    /// An empty listpack-encoded sorted set.
    pub fn new_listpack() -> ZSet {
        ZSet(Enc::small(Listpack::new()))
    }

    /// The encoding, by reference: the listpack or the skiplist.
    pub fn enc(&self) -> Ref<'_, Listpack, SkipZSet> {
        self.0.get()
    }

    /// An empty skiplist-encoded sorted set.
    pub fn new_skiplist() -> ZSet {
        ZSet(Enc::big(Box::default()))
    }

    /// An empty set in the encoding Redis picks for `len` elements (zrangeResultBeginStore).
    pub fn for_len(len: usize, limits: Limits) -> ZSet {
        if len > limits.max_entries {
            Self::new_skiplist()
        } else {
            Self::new_listpack()
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self.0.get() {
            Ref::Small(_) => "listpack",
            Ref::Big(_) => "skiplist",
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self.0.get() {
            Ref::Small(lp) => lp.len() / 2,
            Ref::Big(zs) => zs.zsl.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        match self.0.get() {
            Ref::Small(lp) => lp.is_empty(),
            Ref::Big(zs) => zs.zsl.is_empty(),
        }
    }

    /// Listpack: position of `ele`'s entry and its score (zzlFind).
    fn lp_find(lp: &Listpack, ele: &[u8]) -> Option<(LpPos, f64)> {
        let p = lp.find(lp.first()?, ele, 1)?;
        let sp = lp.next(p)?;
        Some((p, lp_score(lp.get(sp))))
    }

    /// Listpack: insert keeping the order (zzlInsert).
    fn lp_insert(lp: &mut Listpack, ele: &[u8], score: f64) {
        let stext = d2string(score);
        let sval = score_entry(score, &stext);
        let mut at = None;
        for (i, (e, s)) in lp.pairs().enumerate() {
            let s = lp_score(s);
            if s > score || (s == score && e.cmp_bytes(ele).is_gt()) {
                at = Some(i);
                break;
            }
        }
        match at.and_then(|i| lp.seek(2 * i as i64)) {
            Some(p) => {
                let p = lp.insert_before(p, ele);
                lp.insert_after(p, sval);
            }
            None => {
                lp.append(ele);
                lp.append(sval);
            }
        }
    }

    /// The score of `ele`.
    pub fn score(&self, ele: &[u8]) -> Option<f64> {
        match self.0.get() {
            Ref::Small(lp) => Self::lp_find(lp, ele).map(|(_, s)| s),
            Ref::Big(zs) => zs.dict.get(ele).copied(),
        }
    }

    /// Convert a listpack to a skiplist (zsetConvert to skiplist).
    pub fn convert_to_skiplist(&mut self) {
        let Mut::Small(lp) = self.0.get_mut() else {
            return;
        };
        let mut zs = SkipZSet::default();
        zs.dict.expand(lp.len() / 2);
        for (e, s) in lp.pairs() {
            let score = lp_score(s);
            let ele: crate::db::Sds = e.to_vec().into();
            zs.zsl.insert(score, &ele);
            zs.dict.insert(ele, score);
        }
        self.0 = Enc::big(Box::new(zs));
    }

    /// Convert a skiplist to a listpack.
    pub fn convert_to_listpack(&mut self) {
        let Mut::Big(zs) = self.0.get_mut() else {
            return;
        };
        let mut lp = Listpack::new();
        for (e, s) in zs.zsl.iter() {
            lp.append(e);
            let stext = d2string(s);
            lp.append(score_entry(s, &stext));
        }
        self.0 = Enc::small(lp);
    }

    /// zsetConvertToListpackIfNeeded: used for store destinations built as skiplists.
    pub fn convert_to_listpack_if_needed(
        &mut self,
        maxelelen: usize,
        totelelen: usize,
        limits: Limits,
    ) {
        if let Mut::Big(zs) = self.0.get_mut() {
            if zs.zsl.len() <= limits.max_entries
                && maxelelen <= limits.max_value
                && totelelen <= crate::types::listpack::LISTPACK_MAX_SAFETY_SIZE
            {
                self.convert_to_listpack();
            }
        }
    }

    /// Add or update a member (zsetAdd), converting the encoding when the listpack would
    /// outgrow `limits`.
    pub fn add(&mut self, score: f64, ele: &[u8], f: AddFlags, limits: Limits) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::Nan;
        }
        if let Mut::Small(lp) = self.0.get_mut() {
            if let Some((pos, cur)) = Self::lp_find(lp, ele) {
                return match Self::new_score(score, cur, f) {
                    Err(o) => o,
                    Ok(new) if new == cur => AddOutcome::Same(new),
                    Ok(new) => {
                        lp.delete_range_at(pos, 2);
                        Self::lp_insert(lp, ele, new);
                        AddOutcome::Updated(new)
                    }
                };
            }
            if f.xx {
                return AddOutcome::Nop(score);
            }
            if lp.len() / 2 + 1 > limits.max_entries
                || ele.len() > limits.max_value
                || !lp.safe_to_add(ele.len())
            {
                self.convert_to_skiplist();
            } else {
                Self::lp_insert(lp, ele, score);
                return AddOutcome::Added(score);
            }
        }
        let Mut::Big(zs) = self.0.get_mut() else {
            unreachable!("converted above")
        };
        if let Some(&cur) = zs.dict.get(ele) {
            return match Self::new_score(score, cur, f) {
                Err(o) => o,
                Ok(new) if new == cur => AddOutcome::Same(new),
                Ok(new) => {
                    zs.zsl.update_score(cur, ele, new);
                    *zs.dict.get_mut(ele).expect("present") = new;
                    AddOutcome::Updated(new)
                }
            };
        }
        if f.xx {
            return AddOutcome::Nop(score);
        }
        zs.zsl.insert(score, ele);
        zs.dict.insert(ele.into(), score);
        AddOutcome::Added(score)
    }

    /// The score an existing member gets under `f`, or the outcome when it does not change.
    fn new_score(score: f64, cur: f64, f: AddFlags) -> Result<f64, AddOutcome> {
        if f.nx {
            return Err(AddOutcome::Nop(cur));
        }
        let new = if f.incr { score + cur } else { score };
        if new.is_nan() {
            return Err(AddOutcome::Nan);
        }
        if (f.gt && new <= cur) || (f.lt && new >= cur) {
            return Err(AddOutcome::Nop(cur));
        }
        Ok(new)
    }

    /// Remove `ele`; true when it was present (zsetRemoveFromSkiplist / zzlDelete).
    pub fn remove(&mut self, ele: &[u8]) -> bool {
        match self.0.get_mut() {
            Mut::Small(lp) => match Self::lp_find(lp, ele) {
                Some((pos, _)) => {
                    lp.delete_range_at(pos, 2);
                    true
                }
                None => false,
            },
            Mut::Big(zs) => match zs.dict.remove(ele) {
                Some((_, score)) => {
                    zs.zsl.delete(score, ele);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based rank of `ele` (from the top when `rev`) and its score (zsetRank).
    pub fn rank(&self, ele: &[u8], rev: bool) -> Option<(usize, f64)> {
        let len = self.len();
        let (r, s) = match self.0.get() {
            Ref::Small(lp) => {
                let mut found = None;
                for (i, (e, s)) in lp.pairs().enumerate() {
                    if e.eq_bytes(ele) {
                        found = Some((i, lp_score(s)));
                        break;
                    }
                }
                found?
            }
            Ref::Big(zs) => {
                let s = *zs.dict.get(ele)?;
                let r = zs.zsl.rank(s, ele);
                debug_assert!(r != 0);
                (r - 1, s)
            }
        };
        Some((if rev { len - 1 - r } else { r }, s))
    }

    /// Iterate everything, lowest first (or highest first when `rev`).
    pub fn iter(&self, rev: bool) -> ZIter<'_> {
        self.iter_rank(0, rev)
    }

    /// Iterate from 0-based rank `start` counted from the lowest (from the highest when `rev`).
    pub fn iter_rank(&self, start: usize, rev: bool) -> ZIter<'_> {
        let len = self.len();
        let idx = if rev {
            len.wrapping_sub(1).wrapping_sub(start)
        } else {
            start
        };
        let cur = if start >= len {
            match self.0.get() {
                Ref::Small(_) => Cursor::Lp(None),
                Ref::Big(_) => Cursor::Sl(None),
            }
        } else {
            match self.0.get() {
                Ref::Small(lp) => Cursor::Lp(lp.seek(2 * idx as i64)),
                Ref::Big(zs) => Cursor::Sl(zs.zsl.by_rank(idx + 1)),
            }
        };
        ZIter { z: self, cur, rev }
    }

    /// Iterate from the first element in `range` (the last when `rev`); the caller stops at
    /// the other end of the range. Returns the start's 0-based rank from the lowest too.
    fn iter_where(
        &self,
        rev: bool,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> (ZIter<'_>, usize) {
        match self.0.get() {
            Ref::Small(lp) => {
                let n = lp.len() / 2;
                let found = if rev {
                    lp.pairs()
                        .rev()
                        .enumerate()
                        .find(|(_, (e, s))| with_member(*e, |e| lte_max(lp_score(*s), e)))
                        .map(|(i, p)| (n - 1 - i, p))
                } else {
                    lp.pairs()
                        .enumerate()
                        .find(|(_, (e, s))| with_member(*e, |e| gte_min(lp_score(*s), e)))
                };
                let start = match found {
                    Some((i, (e, s))) => {
                        let s = lp_score(s);
                        if with_member(e, |e| gte_min(s, e) && lte_max(s, e)) {
                            Some(i)
                        } else {
                            None
                        }
                    }
                    None => None,
                };
                match start {
                    Some(i) => (
                        ZIter {
                            z: self,
                            cur: Cursor::Lp(lp.seek(2 * i as i64)),
                            rev,
                        },
                        i,
                    ),
                    None => (
                        ZIter {
                            z: self,
                            cur: Cursor::Lp(None),
                            rev,
                        },
                        0,
                    ),
                }
            }
            Ref::Big(zs) => {
                let found = if rev {
                    zs.zsl.last_where(|s, e| lte_max(s, e))
                } else {
                    zs.zsl.first_where(|s, e| gte_min(s, e))
                };
                match found {
                    Some((id, rank)) => {
                        let (e, s) = zs.zsl.get(id);
                        if gte_min(s, e) && lte_max(s, e) {
                            (
                                ZIter {
                                    z: self,
                                    cur: Cursor::Sl(Some(id)),
                                    rev,
                                },
                                rank - 1,
                            )
                        } else {
                            (
                                ZIter {
                                    z: self,
                                    cur: Cursor::Sl(None),
                                    rev,
                                },
                                0,
                            )
                        }
                    }
                    None => (
                        ZIter {
                            z: self,
                            cur: Cursor::Sl(None),
                            rev,
                        },
                        0,
                    ),
                }
            }
        }
    }

    /// Iterate members with scores in `r` from its start (its end when `rev`), stopping at the
    /// other end.
    pub fn iter_score<'a>(
        &'a self,
        r: &ScoreRange,
        rev: bool,
    ) -> impl Iterator<Item = (LpValue<'a>, f64)> + 'a {
        let r = *r;
        let (it, _) = if r.is_empty() {
            (
                ZIter {
                    z: self,
                    cur: self.empty_cursor(),
                    rev,
                },
                0,
            )
        } else {
            self.iter_where(rev, |s, _| r.gte_min(s), |s, _| r.lte_max(s))
        };
        it.take_while(move |(_, s)| if rev { r.gte_min(*s) } else { r.lte_max(*s) })
    }

    /// Iterate members in the lexicographic range `r` (scores assumed equal), either direction.
    pub fn iter_lex<'a>(
        &'a self,
        r: &'a LexRange,
        rev: bool,
    ) -> impl Iterator<Item = (LpValue<'a>, f64)> + 'a {
        let (it, _) = if r.is_empty() {
            (
                ZIter {
                    z: self,
                    cur: self.empty_cursor(),
                    rev,
                },
                0,
            )
        } else {
            self.iter_where(rev, |_, e| r.gte_min(e), |_, e| r.lte_max(e))
        };
        it.take_while(move |(e, _)| {
            with_member(*e, |e| if rev { r.gte_min(e) } else { r.lte_max(e) })
        })
    }

    fn empty_cursor(&self) -> Cursor<'_> {
        match self.0.get() {
            Ref::Small(_) => Cursor::Lp(None),
            Ref::Big(_) => Cursor::Sl(None),
        }
    }

    /// Number of members with scores in `r` (ZCOUNT).
    pub fn count_score(&self, r: &ScoreRange) -> usize {
        if r.is_empty() {
            return 0;
        }
        match self.0.get() {
            Ref::Big(zs) => {
                let Some((_, first)) = zs.zsl.first_where(|s, _| r.gte_min(s)) else {
                    return 0;
                };
                let Some((_, last)) = zs.zsl.last_where(|s, _| r.lte_max(s)) else {
                    return 0;
                };
                (last + 1).saturating_sub(first)
            }
            Ref::Small(_) => self.iter_score(r, false).count(),
        }
    }

    /// Number of members in the lexicographic range `r` (ZLEXCOUNT).
    pub fn count_lex(&self, r: &LexRange) -> usize {
        if r.is_empty() {
            return 0;
        }
        match self.0.get() {
            Ref::Big(zs) => {
                let Some((_, first)) = zs.zsl.first_where(|_, e| r.gte_min(e)) else {
                    return 0;
                };
                let Some((_, last)) = zs.zsl.last_where(|_, e| r.lte_max(e)) else {
                    return 0;
                };
                (last + 1).saturating_sub(first)
            }
            Ref::Small(_) => self.iter_lex(r, false).count(),
        }
    }

    /// Remove the members `items` (collected from a range); returns how many.
    pub fn remove_all(&mut self, items: &[Vec<u8>]) -> usize {
        items.iter().filter(|e| self.remove(e)).count()
    }

    /// Collect (member, score) pairs of an iterator into owned values.
    pub fn collect<'a>(it: impl Iterator<Item = (LpValue<'a>, f64)>) -> Vec<(Vec<u8>, f64)> {
        it.map(|(e, s)| (e.to_vec(), s)).collect()
    }

    /// Approximate bytes used, for MEMORY USAGE (objectComputeSize: the listpack blob, or the
    /// dict plus a few sampled skiplist nodes scaled by the length).
    #[allow(dead_code)] // MEMORY USAGE arrives with the hash/set branch's object.rs.
    pub fn mem_usage(&self) -> usize {
        match self.0.get() {
            Ref::Small(lp) => lp.bytes_len(),
            Ref::Big(zs) => {
                let sample: Vec<usize> = zs.zsl.iter().take(5).map(|(e, _)| e.len()).collect();
                let per_node = 48 + 2 * sample.iter().sum::<usize>() / sample.len().max(1);
                zs.dict.mem_usage() + per_node * zs.zsl.len()
            }
        }
    }

    /// Mix the set into a key digest (debug.c xorObjectDigest).
    pub fn digest(&self, d: &mut crate::util::digest::Digest20) {
        use crate::util::digest::{mix_digest, xor_digest};
        for (e, s) in self.iter(false) {
            let mut ed = [0u8; 20];
            with_member(e, |e| mix_digest(&mut ed, e));
            mix_digest(&mut ed, crate::util::numbers::fmt_g17(s).as_bytes());
            xor_digest(d, &ed);
        }
    }

    /// `count` random (member, score) pairs with repetitions.
    pub fn random_with_repeats(&self, count: usize) -> Vec<(Vec<u8>, f64)> {
        match self.0.get() {
            Ref::Small(lp) => lp
                .random_pairs(count, rand_u64)
                .into_iter()
                .map(|(e, s)| (e.to_vec(), lp_score(s)))
                .collect(),
            Ref::Big(zs) => (0..count)
                .filter_map(|_| zs.dict.fair_random_entry())
                .map(|(e, s)| (e.to_vec(), *s))
                .collect(),
        }
    }

    /// Up to `count` distinct random (member, score) pairs.
    pub fn random_unique(&self, count: usize) -> Vec<(Vec<u8>, f64)> {
        match self.0.get() {
            Ref::Small(lp) => lp
                .random_pairs_unique(count, rand_u64)
                .into_iter()
                .map(|(e, s)| (e.to_vec(), lp_score(s)))
                .collect(),
            Ref::Big(_) => {
                let mut all = Self::collect(self.iter(false));
                let want = count.min(all.len());
                // Partial Fisher-Yates: the first `want` slots end up a uniform sample.
                for i in 0..want {
                    let j = i + (rand_u64() % (all.len() - i) as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(want);
                all
            }
        }
    }

    /// The RDB type byte this set is saved with (rdbSaveObjectType).
    pub fn rdb_type(&self) -> u8 {
        match self.0.get() {
            Ref::Small(_) => RDB_TYPE_ZSET_LISTPACK,
            Ref::Big(_) => RDB_TYPE_ZSET_2,
        }
    }

    /// Write the RDB payload, without the type byte: the listpack blob, or the ZSET_2 pairs.
    pub fn rdb_save<W: Write>(&self, w: &mut RdbWriter<W>) -> io::Result<()> {
        match self.0.get() {
            Ref::Small(lp) => w.string(lp.as_bytes()),
            Ref::Big(zs) => {
                w.len(zs.zsl.len() as u64)?;
                // Highest first, as Redis does, so loading inserts at the head cheaply.
                for (e, s) in zs.zsl.iter().rev() {
                    w.string(e)?;
                    w.binary_double(s)?;
                }
                Ok(())
            }
        }
    }

    /// Load an RDB payload of type `t` (one of the RDB_TYPE_ZSET* numbers). An empty set
    /// comes back empty: the caller skips the key, as Redis does.
    pub fn rdb_load(t: u8, r: &mut RdbReader, limits: Limits) -> io::Result<ZSet> {
        match t {
            RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => {
                let n = r.len()?;
                let mut zs = SkipZSet::default();
                if n > 4 {
                    zs.dict.expand((n as usize).min(1 << 20));
                }
                let (mut maxelelen, mut totelelen) = (0usize, 0usize);
                for _ in 0..n {
                    let ele: Box<[u8]> = r.string()?.into();
                    let score = if t == RDB_TYPE_ZSET_2 {
                        r.binary_double()?
                    } else {
                        load_string_double(r)?
                    };
                    if score.is_nan() {
                        return Err(bad("Zset with NAN score detected"));
                    }
                    maxelelen = maxelelen.max(ele.len());
                    totelelen += ele.len();
                    if zs.dict.contains_key(&ele[..]) {
                        return Err(bad("Duplicate zset fields detected"));
                    }
                    zs.zsl.insert(score, &ele);
                    zs.dict.insert(ele.into(), score);
                }
                let mut z = ZSet(Enc::big(Box::new(zs)));
                z.convert_to_listpack_if_needed(maxelelen, totelelen, limits);
                Ok(z)
            }
            RDB_TYPE_ZSET_ZIPLIST | RDB_TYPE_ZSET_LISTPACK => {
                let blob = r.string()?;
                let lp = if t == RDB_TYPE_ZSET_ZIPLIST {
                    crate::types::ziplist::pairs_to_listpack(&blob)
                        .ok_or_else(|| bad("Zset ziplist integrity check failed."))?
                } else {
                    if !Listpack::validate_pairs(&blob, true) {
                        return Err(bad("Zset listpack integrity check failed."));
                    }
                    Listpack::from_bytes(blob)
                };
                let mut z = ZSet(Enc::small(lp));
                if z.len() > limits.max_entries {
                    z.convert_to_skiplist();
                }
                Ok(z)
            }
            _ => Err(bad("Unknown sorted set RDB type")),
        }
    }
}

/// A legacy string-encoded double (rdbLoadDoubleValue).
fn load_string_double(r: &mut RdbReader) -> io::Result<f64> {
    let n = r.u8()?;
    match n {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => {
            let b = r.take(n as usize)?;
            let s = std::str::from_utf8(b).map_err(|_| bad("bad double"))?;
            Ok(crate::util::numbers::strtod(s.as_bytes()).value)
        }
    }
}

/// ZSCAN: members and scores. A listpack hands back its entries as stored; the skiplist form
/// walks its dict, formatting scores as `%.17Lg` of the score (createStringObjectFromLongDouble),
/// which for a double is its `%.17g`.
impl crate::commands::scan::ScanSource for ZSet {
    fn pairs(&self) -> bool {
        true
    }

    fn scan_step(&self, cursor: u64, out: &mut Vec<Vec<u8>>) -> Option<u64> {
        match self.0.get() {
            Ref::Small(lp) => {
                out.extend(lp.iter().map(|v| v.to_vec()));
                None
            }
            Ref::Big(zs) => Some(zs.dict.scan(cursor, |k, v| {
                out.push(k.to_vec());
                out.push(crate::util::numbers::fmt_g17(*v).as_bytes().to_vec());
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_entries: 128,
        max_value: 64,
    };

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        z.iter(false)
            .map(|(e, s)| (String::from_utf8(e.to_vec()).unwrap(), s))
            .collect()
    }

    #[test]
    fn scan_pairs_scores_like_redis() {
        use crate::commands::scan::ScanSource;
        let mut lp = ZSet::new_listpack();
        let mut sk = ZSet::new_skiplist();
        for z in [&mut lp, &mut sk] {
            z.add(1.1, b"a", AddFlags::default(), L);
            z.add(3.0, b"b", AddFlags::default(), L);
            z.add(f64::NEG_INFINITY, b"c", AddFlags::default(), L);
        }
        let mut out = Vec::new();
        assert_eq!(lp.scan_step(0, &mut out), None);
        // The listpack hands back its stored text.
        assert_eq!(
            out,
            [&b"c"[..], b"-inf", b"a", b"1.1000000000000001", b"b", b"3"]
        );
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = sk.scan_step(cursor, &mut out).expect("hash table");
            if cursor == 0 {
                break;
            }
        }
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = out
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                (b"a".to_vec(), b"1.1000000000000001".to_vec()),
                (b"b".to_vec(), b"3".to_vec()),
                (b"c".to_vec(), b"-inf".to_vec()),
            ]
        );
    }

    #[test]
    fn listpack_and_skiplist_agree() {
        let mut a = ZSet::new_listpack();
        let mut b = ZSet::new_skiplist();
        let ops: Vec<(f64, String)> = (0..100)
            .map(|i| (((i * 37) % 17) as f64 * 0.5, format!("e{}", (i * 13) % 40)))
            .collect();
        for (s, e) in &ops {
            assert_eq!(
                a.add(*s, e.as_bytes(), AddFlags::default(), L),
                b.add(*s, e.as_bytes(), AddFlags::default(), L)
            );
        }
        assert_eq!(a.encoding(), "listpack");
        assert_eq!(members(&a), members(&b));
        for e in ["e1", "e2", "nope"] {
            assert_eq!(a.rank(e.as_bytes(), false), b.rank(e.as_bytes(), false));
            assert_eq!(a.rank(e.as_bytes(), true), b.rank(e.as_bytes(), true));
        }
        let r = ScoreRange::parse(b"(1", b"5").unwrap();
        assert_eq!(a.count_score(&r), b.count_score(&r));
        let ra: Vec<_> = a
            .iter_score(&r, true)
            .map(|(e, s)| (e.to_vec(), s))
            .collect();
        let rb: Vec<_> = b
            .iter_score(&r, true)
            .map(|(e, s)| (e.to_vec(), s))
            .collect();
        assert_eq!(ra, rb);
        assert!(a.remove(b"e1") && b.remove(b"e1"));
        assert_eq!(members(&a), members(&b));
        let mut c = b.clone();
        c.convert_to_listpack();
        assert_eq!(members(&a), members(&c));
    }

    #[test]
    fn converts_past_limits() {
        let mut z = ZSet::new_listpack();
        for i in 0..128 {
            z.add(i as f64, format!("{i}").as_bytes(), AddFlags::default(), L);
        }
        assert_eq!(z.encoding(), "listpack");
        z.add(1.5, b"x", AddFlags::default(), L);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new_listpack();
        z.add(1.0, &[b'a'; 65], AddFlags::default(), L);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn scores_stored_like_redis() {
        let mut z = ZSet::new_listpack();
        z.add(1.5, b"a", AddFlags::default(), L);
        z.add(3.0, b"b", AddFlags::default(), L);
        z.add(f64::INFINITY, b"c", AddFlags::default(), L);
        let Ref::Small(lp) = z.enc() else { panic!() };
        let v: Vec<String> = lp.iter().map(|v| v.to_string()).collect();
        assert_eq!(v, ["a", "1.5", "b", "3", "c", "inf"]);
        assert!(matches!(lp.get_index(3), Some(LpValue::Int(3))));
    }

    #[test]
    fn lex_ranges() {
        let mut z = ZSet::new_listpack();
        for e in ["a", "b", "c", "d"] {
            z.add(0.0, e.as_bytes(), AddFlags::default(), L);
        }
        let r = LexRange::parse(b"(a", b"[c").unwrap();
        assert_eq!(z.count_lex(&r), 2);
        let r = LexRange::parse(b"-", b"+").unwrap();
        assert_eq!(z.count_lex(&r), 4);
        assert!(LexRange::parse(b"a", b"+").is_none());
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
    }
}
#[cfg(test)]
mod rdb_tests {
    use super::*;

    fn roundtrip(z: &ZSet, l: Limits) -> ZSet {
        let mut bytes = Vec::new();
        z.rdb_save(&mut RdbWriter::new(&mut bytes)).unwrap();
        let mut r = RdbReader::new(&bytes);
        ZSet::rdb_load(z.rdb_type(), &mut r, l).unwrap()
    }

    #[test]
    fn rdb_roundtrip_both_encodings_and_corrupt_input_never_panics() {
        let l = Limits {
            max_entries: 4,
            max_value: 64,
        };
        let mut z = ZSet::new_listpack();
        for i in 0..10 {
            z.add(
                i as f64 * 0.25,
                format!("m{i}").as_bytes(),
                AddFlags::default(),
                l,
            );
        }
        assert_eq!(z.encoding(), "skiplist");
        let back = roundtrip(&z, l);
        assert_eq!(back.encoding(), "skiplist");
        assert_eq!(
            ZSet::collect(back.iter(false)),
            ZSet::collect(z.iter(false))
        );
        let big = Limits {
            max_entries: 128,
            max_value: 64,
        };
        let back = roundtrip(&z, big);
        assert_eq!(back.encoding(), "listpack");
        let mut good = Vec::new();
        back.rdb_save(&mut RdbWriter::new(&mut good)).unwrap();
        // Flip bytes and truncate: loading must fail or succeed, never panic.
        let mut seed = 7u64;
        for i in 0..2000 {
            let mut b = good.clone();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = 1 + (seed >> 33) as usize % (b.len() - 1);
            b[at] = (seed >> 13) as u8;
            if i % 3 == 0 {
                b.truncate(at);
            }
            for t in [
                RDB_TYPE_ZSET,
                RDB_TYPE_ZSET_2,
                RDB_TYPE_ZSET_ZIPLIST,
                RDB_TYPE_ZSET_LISTPACK,
            ] {
                let mut r = RdbReader::new(&b);
                let _ = ZSet::rdb_load(t, &mut r, big);
            }
        }
    }
    #[test]
    fn listpack_validates() {
        let l = Limits {
            max_entries: 128,
            max_value: 64,
        };
        let mut z = ZSet::new_listpack();
        for (s, e) in [(1.0, "a"), (2.0, "b"), (3.5, "c"), (f64::NEG_INFINITY, "d")] {
            z.add(s, e.as_bytes(), AddFlags::default(), l);
        }
        let Ref::Small(lp) = z.enc() else { panic!() };
        assert!(Listpack::validate(lp.as_bytes(), true), "plain");
        assert!(Listpack::validate_pairs(lp.as_bytes(), true), "pairs");
    }
}
