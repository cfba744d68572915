//! Set values (Redis 7.0's t_set.c encodings): an `intset` while every member is an integer
//! (Redis's string2ll rules) and there are at most `set-max-intset-entries` members, else a
//! `hashtable` ([`Dict`] with no values). Conversion goes one way only, inside [`Set::add`]
//! (setTypeAdd). Redis 7.0 has no listpack-encoded sets.
//!
//! Members are handed out as [`LpValue`]s (`Int` from an intset, `Str` from a table), so
//! commands reply the same way for both encodings. The RDB payloads (RDB_TYPE_SET and
//! RDB_TYPE_SET_INTSET) are read and written here too.

use std::io::{self, Write};

use crate::db::dict::Dict;
use crate::db::Sds;
use crate::persistence::rdb::{bad, RdbReader, RdbWriter};
use crate::types::intset::IntSet;
use crate::types::listpack::LpValue;
use crate::util::numbers::string2ll;

pub const RDB_TYPE_SET: u8 = 2;
pub const RDB_TYPE_SET_INTSET: u8 = 11;

/// A set value in one of its two encodings.
#[derive(Debug, Clone)]
pub enum Set {
    Intset(IntSet),
    Table(Dict<Sds, ()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(IntSet::new())
    }
}

impl Set {
    /// An empty set in the encoding suited to its first member (setTypeCreate).
    pub fn for_member(first: &[u8]) -> Set {
        if string2ll(first).is_some() {
            Set::Intset(IntSet::new())
        } else {
            Set::Table(Dict::new())
        }
    }

    /// An empty intset-encoded set (createIntsetObject), what SINTERSTORE and friends
    /// start from.
    pub fn new_intset() -> Set {
        Set::Intset(IntSet::new())
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(is) => is.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// True without members (such a set is never stored in the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Convert an intset to a hash table (setTypeConvert). No-op for a table.
    pub fn convert_to_table(&mut self) {
        if let Set::Intset(is) = self {
            let mut d: Dict<Sds, ()> = Dict::with_capacity(is.len());
            for v in is.iter() {
                d.insert(crate::util::numbers::ll2string(v).as_bytes().into(), ());
            }
            *self = Set::Table(d);
        }
    }

    /// Add `member`; true when it was not there (setTypeAdd). A non-integer member, or more
    /// than `max_intset` members, turns an intset into a table.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Set::Intset(is) = self {
            match string2ll(member) {
                Some(v) => {
                    if !is.insert(v) {
                        return false;
                    }
                    if is.len() > max_intset {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        let Set::Table(d) = self else {
            unreachable!("converted above")
        };
        if d.contains_key(member) {
            return false;
        }
        d.insert(member.into(), ());
        true
    }

    /// Remove `member`; true when it was there (setTypeRemove).
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(is) => string2ll(member).is_some_and(|v| is.remove(v)),
            Set::Table(d) => {
                let removed = d.remove(member).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
        }
    }

    /// Is `member` in the set (setTypeIsMember)?
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(is) => string2ll(member).is_some_and(|v| is.contains(v)),
            Set::Table(d) => d.contains_key(member),
        }
    }

    /// Is the member `m` (from another set) in this set? Avoids formatting integers when both
    /// sides are intsets.
    pub fn contains_value(&self, m: LpValue<'_>) -> bool {
        match (self, m) {
            (Set::Intset(is), LpValue::Int(v)) => is.contains(v),
            (_, LpValue::Str(s)) => self.contains(s),
            (Set::Table(d), LpValue::Int(v)) => {
                d.contains_key(crate::util::numbers::ll2string(v).as_bytes())
            }
        }
    }

    /// Iterate the members (intsets in ascending order).
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Intset(is) => Iter::Intset(is.iter()),
            Set::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A random member (setTypeRandomElement: intsetRandom or dictGetFairRandomKey).
    pub fn random(&self) -> Option<LpValue<'_>> {
        match self {
            Set::Intset(is) => is.random(crate::db::dict::next_rand()).map(LpValue::Int),
            Set::Table(d) => d.fair_random_entry().map(|(k, _)| LpValue::Str(k)),
        }
    }

    /// Move `n` buckets of an ongoing rehash, as Redis's random sampling does on its way
    /// (dictGetSomeKeys), so sets that are only read still finish rehashing.
    pub fn rehash_steps(&mut self, n: usize) {
        if let Set::Table(d) = self {
            if d.is_rehashing() {
                d.rehash_steps(n);
            }
        }
    }

    /// Allocations freeing the set takes (lazyfreeGetFreeEffort): one per member of a
    /// table, one for an intset.
    pub fn free_effort(&self) -> usize {
        match self {
            Set::Intset(_) => 1,
            Set::Table(d) => d.len(),
        }
    }

    /// Approximate memory footprint, for MEMORY USAGE.
    pub fn mem_usage(&self) -> usize {
        match self {
            Set::Intset(is) => is.blob_len(),
            // Like objectComputeSize: average a few members, scale by the count.
            Set::Table(d) => {
                let sample: Vec<usize> = d.iter().take(5).map(|(k, _)| k.len()).collect();
                d.mem_usage() + sample.iter().sum::<usize>() / sample.len().max(1) * d.len()
            }
        }
    }

    /// Mix this set into a key digest as DEBUG DIGEST does (members xored in).
    pub fn digest(&self, d: &mut crate::util::digest::Digest20) {
        let mut buf = [0u8; crate::types::listpack::INT_BUF_SIZE];
        for m in self.iter() {
            crate::util::digest::xor_digest(d, m.as_bytes(&mut buf));
        }
    }

    /// The RDB type byte (rdbSaveObjectType).
    pub fn rdb_type(&self) -> u8 {
        match self {
            Set::Intset(_) => RDB_TYPE_SET_INTSET,
            Set::Table(_) => RDB_TYPE_SET,
        }
    }

    /// Write the RDB payload (rdbSaveObject).
    pub fn rdb_save<W: Write>(&self, w: &mut RdbWriter<W>) -> io::Result<()> {
        match self {
            Set::Intset(is) => w.string(is.as_bytes()),
            Set::Table(d) => {
                w.len(d.len() as u64)?;
                for (m, _) in d.iter() {
                    w.string(m)?;
                }
                Ok(())
            }
        }
    }

    /// Read a set payload of RDB type `t`, choosing the encoding Redis chooses for the loaded
    /// size, and validating deeply (duplicates are an error).
    pub fn rdb_load(t: u8, r: &mut RdbReader, max_intset: usize) -> io::Result<Set> {
        match t {
            RDB_TYPE_SET => {
                let len = r.len()?;
                if len == 0 {
                    return Err(crate::persistence::rdb::empty_key());
                }
                let max = max_intset.min(1 << 30);
                let mut s = if len > max as u64 {
                    Set::Table(Dict::with_capacity(len.min(1 << 20) as usize))
                } else {
                    Set::new_intset()
                };
                for _ in 0..len {
                    let m = r.string()?;
                    if let Set::Intset(is) = &mut s {
                        match string2ll(&m) {
                            Some(v) => {
                                if !is.insert(v) {
                                    return Err(bad("Duplicate set members detected"));
                                }
                                continue;
                            }
                            None => s.convert_to_table(),
                        }
                    }
                    let Set::Table(d) = &mut s else {
                        unreachable!("converted above")
                    };
                    if d.insert(m.into(), ()).is_some() {
                        return Err(bad("Duplicate set members detected"));
                    }
                }
                Ok(s)
            }
            RDB_TYPE_SET_INTSET => {
                let blob = r.string()?;
                if !IntSet::validate(&blob, true) {
                    return Err(bad("Intset integrity check failed."));
                }
                let mut s = Set::Intset(IntSet::from_bytes(blob));
                if s.is_empty() {
                    return Err(crate::persistence::rdb::empty_key());
                }
                if s.len() > max_intset {
                    s.convert_to_table();
                }
                Ok(s)
            }
            _ => Err(bad("Unknown RDB encoding type")),
        }
    }
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    Intset(crate::types::intset::Iter<'a>),
    Table(crate::db::dict::Iter<'a, Sds, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        match self {
            Iter::Intset(i) => i.next().map(LpValue::Int),
            Iter::Table(t) => t.next().map(|(k, _)| LpValue::Str(k)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Intset(i) => i.size_hint(),
            Iter::Table(t) => t.size_hint(),
        }
    }
}

impl crate::commands::scan::ScanSource for Set {
    fn pairs(&self) -> bool {
        false
    }

    fn scan_step(&self, cursor: u64, out: &mut Vec<Vec<u8>>) -> Option<u64> {
        match self {
            Set::Intset(is) => {
                out.extend(
                    is.iter()
                        .map(|v| crate::util::numbers::ll2string(v).as_bytes().to_vec()),
                );
                None
            }
            Set::Table(d) => Some(d.scan(cursor, |k, _| out.push(k.to_vec()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = Set::for_member(b"1");
        assert!(s.add(b"1", 3));
        assert!(!s.add(b"1", 3));
        assert!(s.add(b"2", 3));
        assert!(s.add(b"3", 3));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"4", 3));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"4"));

        let mut s = Set::for_member(b"1");
        s.add(b"1", 512);
        // Not canonical integers: stored as strings.
        assert!(s.add(b"01", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        assert!(s.contains_value(LpValue::Int(1)));
    }

    #[test]
    fn remove_and_contains() {
        let mut s = Set::for_member(b"a");
        s.add(b"a", 512);
        s.add(b"7", 512);
        assert!(s.remove(b"a"));
        assert!(!s.remove(b"a"));
        assert_eq!(s.len(), 1);
        let mut i = Set::new_intset();
        i.add(b"5", 512);
        assert!(!i.remove(b"x"));
        assert!(i.remove(b"5"));
        assert!(i.is_empty());
    }

    #[test]
    fn rdb_round_trip() {
        for (members, enc) in [
            (vec!["1", "2", "3"], "intset"),
            (vec!["a", "2"], "hashtable"),
        ] {
            let mut s = Set::for_member(members[0].as_bytes());
            for m in &members {
                s.add(m.as_bytes(), 512);
            }
            let mut buf = Vec::new();
            let mut w = RdbWriter::new(&mut buf);
            s.rdb_save(&mut w).unwrap();
            let back = Set::rdb_load(s.rdb_type(), &mut RdbReader::new(&buf), 512).unwrap();
            assert_eq!(back.encoding(), enc);
            assert_eq!(back.len(), members.len());
            // Loading with a smaller limit converts.
            let small = Set::rdb_load(s.rdb_type(), &mut RdbReader::new(&buf), 1).unwrap();
            assert_eq!(small.encoding(), "hashtable");
        }
        let mut buf = Vec::new();
        let mut w = RdbWriter::new(&mut buf);
        w.len(2).unwrap();
        w.string(b"x").unwrap();
        w.string(b"x").unwrap();
        assert!(Set::rdb_load(RDB_TYPE_SET, &mut RdbReader::new(&buf), 512).is_err());
    }
}
