//! Hash values (Redis's t_hash.c encodings): a `listpack` of field, value, field, value...
//! while the hash is small, a `hashtable` ([`Dict`]) once it has more than
//! `hash-max-listpack-entries` fields or a field or value longer than
//! `hash-max-listpack-value` bytes. Conversion goes one way only, at the moments Redis
//! converts: [`Hash::try_conversion`] on a command's input sizes before inserting
//! (hashTypeTryConversion) and inside [`Hash::set`] (hashTypeSet).
//!
//! Elements are handed out as [`LpValue`]s whatever the encoding, so commands reply and
//! compare the same way for both. The RDB payloads (RDB_TYPE_HASH, _HASH_LISTPACK and the
//! legacy _HASH_ZIPMAP and _HASH_ZIPLIST) are read and written here too.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::db::dict::Dict;
use crate::db::Sds;
use crate::persistence::rdb::{bad, RdbReader, RdbWriter};
use crate::types::listpack::{Listpack, LpValue};
use crate::types::thin::{Enc, Mut, Ref};

pub const RDB_TYPE_HASH: u8 = 4;
pub const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
pub const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
pub const RDB_TYPE_HASH_LISTPACK: u8 = 16;

/// The conversion thresholds, from `hash-max-listpack-entries` / `-value`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Limits {
    /// The limits configured on the server.
    pub fn of(cfg: &crate::config::Config) -> Limits {
        Limits {
            max_entries: cfg.hash_max_listpack_entries as usize,
            max_value: cfg.hash_max_listpack_value as usize,
        }
    }
}

/// A hash value in one of its two encodings, `listpack` or `hashtable`, in one word (so
/// that the keyspace object holds it without a box of its own).
#[derive(Debug, Clone)]
pub struct Hash(Enc<Listpack, Dict<Sds, Sds>>);

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty listpack-encoded hash (createHashObject).
    pub fn new() -> Hash {
        Hash(Enc::small(Listpack::new()))
    }

    /// The encoding, by reference: the listpack or the table.
    pub fn enc(&self) -> Ref<'_, Listpack, Dict<Sds, Sds>> {
        self.0.get()
    }

    /// The hash table, when the hash is so encoded.
    pub fn table(&self) -> Option<&Dict<Sds, Sds>> {
        match self.0.get() {
            Ref::Big(d) => Some(d),
            Ref::Small(_) => None,
        }
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        if self.0.is_big() {
            "hashtable"
        } else {
            "listpack"
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self.0.get() {
            Ref::Small(lp) => lp.len() / 2,
            Ref::Big(d) => d.len(),
        }
    }

    /// True without fields (such a hash is never stored in the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Convert a listpack to a hash table (hashTypeConvert). No-op for a table.
    pub fn convert_to_table(&mut self) {
        let Ref::Small(lp) = self.0.get() else { return };
        let mut d: Dict<Sds, Sds> = Dict::with_capacity(lp.len() / 2);
        for (f, v) in lp.pairs() {
            d.insert(f.to_vec().into(), v.to_vec().into());
        }
        self.0 = Enc::big(Box::new(d));
    }

    /// Convert to a hash table before inserting when any of `args` is longer than the
    /// value limit or their total would make the listpack unsafe (hashTypeTryConversion).
    pub fn try_conversion<B: AsRef<[u8]>>(&mut self, args: &[B], limits: Limits) {
        let Ref::Small(lp) = self.0.get() else { return };
        let mut sum = 0usize;
        for a in args {
            let len = a.as_ref().len();
            if len > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum += len;
        }
        if !lp.safe_to_add(sum) {
            self.convert_to_table();
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match self.0.get() {
            Ref::Small(lp) => {
                let pos = lp.find(lp.first()?, field, 1)?;
                Some(lp.get(lp.next(pos)?))
            }
            Ref::Big(d) => d.get(field).map(|v| LpValue::Str(v)),
        }
    }

    /// Does `field` exist?
    pub fn contains(&self, field: &[u8]) -> bool {
        match self.0.get() {
            Ref::Small(lp) => lp.first().and_then(|p| lp.find(p, field, 1)).is_some(),
            Ref::Big(d) => d.contains_key(field),
        }
    }

    /// Set `field` to `value`; true when the field existed (an update) (hashTypeSet). Converts
    /// to a table on a too long field or value, or when the listpack passes the entry limit.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if !self.0.is_big() && (field.len() > limits.max_value || value.len() > limits.max_value) {
            self.convert_to_table();
        }
        match self.0.get_mut() {
            Mut::Small(lp) => {
                let found = lp.first().and_then(|p| lp.find(p, field, 1));
                let update = match found {
                    Some(fpos) => {
                        let vpos = lp
                            .next(fpos)
                            .expect("hash listpack has a value for every field");
                        lp.replace(vpos, value);
                        true
                    }
                    None => {
                        lp.append(field);
                        lp.append(value);
                        false
                    }
                };
                if lp.len() / 2 > limits.max_entries {
                    self.convert_to_table();
                }
                update
            }
            Mut::Big(d) => {
                if let Some(v) = d.get_mut(field) {
                    *v = value.into();
                    true
                } else {
                    d.insert(field.into(), value.into());
                    false
                }
            }
        }
    }

    /// Remove `field`; true when it existed (hashTypeDelete).
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.0.get_mut() {
            Mut::Small(lp) => match lp.first().and_then(|p| lp.find(p, field, 1)) {
                Some(pos) => {
                    lp.delete_range_at(pos, 2);
                    true
                }
                None => false,
            },
            Mut::Big(d) => {
                let removed = d.remove(field).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
        }
    }

    /// Iterate `(field, value)` pairs.
    pub fn iter(&self) -> Iter<'_> {
        match self.0.get() {
            Ref::Small(lp) => Iter::Listpack(lp.pairs()),
            Ref::Big(d) => Iter::Table(d.iter()),
        }
    }

    /// A random pair, fairly chosen (hashTypeRandomElement).
    pub fn random_pair(&self) -> Option<(LpValue<'_>, LpValue<'_>)> {
        match self.0.get() {
            Ref::Small(lp) => lp.random_pair(crate::db::dict::next_rand()),
            Ref::Big(d) => d
                .fair_random_entry()
                .map(|(k, v)| (LpValue::Str(k), LpValue::Str(v))),
        }
    }

    /// Move `n` buckets of an ongoing rehash, as Redis's random sampling does on its way
    /// (dictGetSomeKeys), so hashes that are only read still finish rehashing.
    pub fn rehash_steps(&mut self, n: usize) {
        if let Mut::Big(d) = self.0.get_mut() {
            if d.is_rehashing() {
                d.rehash_steps(n);
            }
        }
    }

    /// Approximate memory footprint, for MEMORY USAGE.
    pub fn mem_usage(&self) -> usize {
        match self.0.get() {
            Ref::Small(lp) => lp.bytes_len(),
            // Like objectComputeSize: average a few entries, scale by the count.
            Ref::Big(d) => {
                let sample: Vec<usize> = d.iter().take(5).map(|(k, v)| k.len() + v.len()).collect();
                d.mem_usage() + sample.iter().sum::<usize>() / sample.len().max(1) * d.len()
            }
        }
    }

    /// Mix this hash into a key digest as DEBUG DIGEST does: every pair is mixed into its own
    /// digest, whose SHA1 is xored in (order-independent).
    pub fn digest(&self, d: &mut crate::util::digest::Digest20) {
        use crate::util::digest::mix_digest;
        let mut buf = [0u8; crate::types::listpack::INT_BUF_SIZE];
        for (f, v) in self.iter() {
            let mut ele = [0u8; 20];
            mix_digest(&mut ele, f.as_bytes(&mut buf));
            mix_digest(&mut ele, v.as_bytes(&mut buf));
            crate::util::digest::xor_digest(d, &ele);
        }
    }

    /// The RDB type byte (rdbSaveObjectType).
    pub fn rdb_type(&self) -> u8 {
        match self.0.get() {
            Ref::Small(_) => RDB_TYPE_HASH_LISTPACK,
            Ref::Big(_) => RDB_TYPE_HASH,
        }
    }

    /// Write the RDB payload (rdbSaveObject).
    pub fn rdb_save<W: Write>(&self, w: &mut RdbWriter<W>) -> io::Result<()> {
        match self.0.get() {
            Ref::Small(lp) => w.string(lp.as_bytes()),
            Ref::Big(d) => {
                w.len(d.len() as u64)?;
                for (f, v) in d.iter() {
                    w.string(f)?;
                    w.string(v)?;
                }
                Ok(())
            }
        }
    }

    /// Read a hash payload of RDB type `t`, choosing the encoding Redis chooses for the
    /// loaded size, and validating deeply (duplicate fields are an error).
    pub fn rdb_load(t: u8, r: &mut RdbReader, limits: Limits) -> io::Result<Hash> {
        match t {
            RDB_TYPE_HASH => {
                let len = r.len()?;
                if len == 0 {
                    return Err(crate::persistence::rdb::empty_key());
                }
                let mut h = if len > limits.max_entries as u64 {
                    Hash(Enc::big(Box::new(Dict::with_capacity(
                        len.min(1 << 20) as usize
                    ))))
                } else {
                    Hash::new()
                };
                let mut seen: HashSet<Vec<u8>> = HashSet::new();
                for _ in 0..len {
                    let f = r.string()?;
                    let v = r.string()?;
                    match h.0.get_mut() {
                        Mut::Small(lp) => {
                            if !seen.insert(f.clone()) {
                                return Err(bad("Hash with dup elements"));
                            }
                            if f.len() > limits.max_value
                                || v.len() > limits.max_value
                                || !lp.safe_to_add(f.len() + v.len())
                            {
                                h.convert_to_table();
                                let Mut::Big(d) = h.0.get_mut() else {
                                    unreachable!()
                                };
                                d.insert(f.into(), v.into());
                            } else {
                                lp.append(&f[..]);
                                lp.append(&v[..]);
                            }
                        }
                        Mut::Big(d) => {
                            if d.insert(f.into(), v.into()).is_some() {
                                return Err(bad("Duplicate hash fields detected"));
                            }
                        }
                    }
                }
                Ok(h)
            }
            RDB_TYPE_HASH_LISTPACK | RDB_TYPE_HASH_ZIPLIST | RDB_TYPE_HASH_ZIPMAP => {
                let blob = r.string()?;
                let (lp, maxlen) = match t {
                    RDB_TYPE_HASH_LISTPACK => {
                        if !Listpack::validate_pairs(&blob, true) {
                            let mut entries = 0usize;
                            if Listpack::validate_with(&blob, |_| {
                                entries += 1;
                                true
                            }) && entries.is_multiple_of(2)
                            {
                                // Well formed but for repeated fields: show what came in.
                                crate::log::hex_dump("listpack with dup elements dump", &blob);
                            }
                            return Err(bad("Hash listpack integrity check failed."));
                        }
                        (Listpack::from_bytes(blob), 0)
                    }
                    RDB_TYPE_HASH_ZIPLIST => {
                        if !crate::types::ziplist::validate(&blob, true) {
                            return Err(bad("Hash ziplist integrity check failed."));
                        }
                        let lp = crate::types::ziplist::pairs_to_listpack(&blob)
                            .ok_or_else(|| bad("Hash ziplist integrity check failed."))?;
                        if !Listpack::validate_pairs(lp.as_bytes(), true) {
                            return Err(bad("Hash ziplist integrity check failed."));
                        }
                        (lp, 0)
                    }
                    _ => {
                        if !crate::types::zipmap::validate(&blob, true) {
                            return Err(bad("Zipmap integrity check failed."));
                        }
                        let lp = crate::types::zipmap::to_listpack(&blob)
                            .ok_or_else(|| bad("Zipmap integrity check failed."))?;
                        if !Listpack::validate_pairs(lp.as_bytes(), true) {
                            return Err(bad("Hash zipmap with dup elements"));
                        }
                        let maxlen = lp.iter().map(|v| v.str_len()).max().unwrap_or(0);
                        (lp, maxlen)
                    }
                };
                let mut h = Hash(Enc::small(lp));
                if h.is_empty() {
                    return Err(crate::persistence::rdb::empty_key());
                }
                if h.len() > limits.max_entries || maxlen > limits.max_value {
                    h.convert_to_table();
                }
                Ok(h)
            }
            _ => Err(bad("Unknown RDB encoding type")),
        }
    }
}

/// Iterator over a hash's `(field, value)` pairs.
pub enum Iter<'a> {
    Listpack(crate::types::listpack::Pairs<'a>),
    Table(crate::db::dict::Iter<'a, Sds, Sds>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(p) => p.next(),
            Iter::Table(t) => t.next().map(|(k, v)| (LpValue::Str(k), LpValue::Str(v))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Listpack(p) => p.size_hint(),
            Iter::Table(t) => t.size_hint(),
        }
    }
}

impl crate::commands::scan::ScanSource for Hash {
    fn pairs(&self) -> bool {
        true
    }

    fn scan_step(&self, cursor: u64, out: &mut Vec<Vec<u8>>) -> Option<u64> {
        match self.0.get() {
            Ref::Small(lp) => {
                out.extend(lp.iter().map(|v| v.to_vec()));
                None
            }
            Ref::Big(d) => Some(d.scan(cursor, |k, v| {
                out.push(k.to_vec());
                out.push(v.to_vec());
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    fn bytes(v: Option<LpValue<'_>>) -> Option<Vec<u8>> {
        v.map(|v| v.to_vec())
    }

    #[test]
    fn set_get_remove_listpack() {
        let mut h = Hash::new();
        assert!(!h.set(b"a", b"1", L));
        assert!(!h.set(b"b", b"x", L));
        assert!(h.set(b"a", b"2", L));
        assert_eq!(h.len(), 2);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(bytes(h.get(b"a")), Some(b"2".to_vec()));
        // A value equal to a field name must not be found as a field.
        assert!(!h.contains(b"x"));
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn converts_on_entries_and_value_length() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", L);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", L);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);

        let mut h = Hash::new();
        h.set(b"f", b"123456789", L);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(bytes(h.get(b"f")), Some(b"123456789".to_vec()));

        let mut h = Hash::new();
        h.try_conversion(&[b"short".as_slice(), b"waytoolongvalue"], L);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn rdb_round_trip_both_encodings() {
        for n in [3usize, 10] {
            let mut h = Hash::new();
            for i in 0..n {
                h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), L);
            }
            let mut buf = Vec::new();
            let mut w = RdbWriter::new(&mut buf);
            h.rdb_save(&mut w).unwrap();
            let back = Hash::rdb_load(h.rdb_type(), &mut RdbReader::new(&buf), L).unwrap();
            assert_eq!(back.encoding(), h.encoding());
            assert_eq!(back.len(), n);
            for i in 0..n {
                assert_eq!(
                    bytes(back.get(format!("f{i}").as_bytes())),
                    Some(format!("{i}").into_bytes())
                );
            }
        }
    }

    #[test]
    fn rdb_rejects_duplicate_fields() {
        let mut lp = Listpack::new();
        lp.extend([b"a".as_slice(), b"1", b"a", b"2"]);
        let mut buf = Vec::new();
        let mut w = RdbWriter::new(&mut buf);
        w.string(lp.as_bytes()).unwrap();
        assert!(Hash::rdb_load(RDB_TYPE_HASH_LISTPACK, &mut RdbReader::new(&buf), L).is_err());

        let mut buf = Vec::new();
        let mut w = RdbWriter::new(&mut buf);
        w.len(2).unwrap();
        for s in [b"a", b"1", b"a", b"2"] {
            w.string(s).unwrap();
        }
        assert!(Hash::rdb_load(RDB_TYPE_HASH, &mut RdbReader::new(&buf), L).is_err());
    }
}
