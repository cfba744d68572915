//! Values stored in the keyspace. A [`RObj`] is a [`Value`] plus the LRU/LFU clock Redis keeps
//! per object. Each type's encodings live behind its own type (strings here; lists, hashes,
//! sets and sorted sets in their modules), and OBJECT ENCODING reports them by name.

/// Strings up to this length are created `embstr`, as in Redis.
pub const EMBSTR_SIZE_LIMIT: usize = 44;
/// Integers in [0, 10000) are shared objects in Redis (OBJECT REFCOUNT says so).
pub const SHARED_INTEGERS: i64 = 10000;
/// Refcount Redis reports for shared objects.
pub const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// A string value in one of Redis's three encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RString {
    /// `int`: the string is the decimal form of this integer.
    Int(i64),
    /// `embstr`: a short string, immutable in place, in one thin allocation.
    Emb(crate::types::embstr::EmbStr),
    /// `raw`: a growable string (after APPEND, SETRANGE, SETBIT...). Boxed, so that a string
    /// value stays one word beside its tag.
    Raw(Box<Vec<u8>>),
}

impl RString {
    /// Build a string value the way Redis's createStringObject + tryObjectEncoding would for
    /// a value from a client: integers become `int`, short strings `embstr`, others `raw`.
    pub fn from_bytes(b: &[u8]) -> RString {
        if b.len() <= 20 {
            if let Some(n) = crate::util::numbers::string2l(b) {
                return RString::Int(n);
            }
        }
        Self::from_bytes_no_int(b)
    }

    /// A `raw` string owning `v`.
    pub fn raw(v: Vec<u8>) -> RString {
        RString::Raw(Box::new(v))
    }

    /// Like [`RString::from_bytes`] without trying the integer encoding.
    pub fn from_bytes_no_int(b: &[u8]) -> RString {
        if b.len() <= EMBSTR_SIZE_LIMIT {
            RString::Emb(b.into())
        } else {
            RString::Raw(Box::new(b.to_vec()))
        }
    }

    /// The encoding name for OBJECT ENCODING.
    pub fn encoding(&self) -> &'static str {
        match self {
            RString::Int(_) => "int",
            RString::Emb(_) => "embstr",
            RString::Raw(_) => "raw",
        }
    }

    /// Length in bytes of the string form.
    pub fn len(&self) -> usize {
        match self {
            RString::Int(n) => crate::util::numbers::sdigits10(*n) as usize,
            RString::Emb(b) => b.len(),
            RString::Raw(v) => v.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Call `f` with the bytes of the string form, formatting integers on the stack.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            RString::Int(n) => f(crate::util::numbers::ll2string(*n).as_bytes()),
            RString::Emb(b) => f(b),
            RString::Raw(v) => f(v),
        }
    }

    /// The string form as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// Convert to `raw` for in-place modification and return the buffer
    /// (Redis's dbUnshareStringValue).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, RString::Raw(_)) {
            *self = RString::Raw(Box::new(self.to_vec()));
        }
        match self {
            RString::Raw(v) => v,
            _ => unreachable!("just converted to raw"),
        }
    }

    /// The integer value if the string is a valid integer (Redis's getLongLongFromObject).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            RString::Int(n) => Some(*n),
            RString::Emb(b) => crate::util::numbers::string2ll(b),
            RString::Raw(v) => crate::util::numbers::string2ll(v),
        }
    }

    /// Approximate bytes used, for MEMORY USAGE.
    pub fn mem_usage(&self) -> usize {
        match self {
            RString::Int(_) => 0,
            RString::Emb(b) => b.len(),
            RString::Raw(v) => v.capacity(),
        }
    }
}

/// The value types.
#[derive(Debug, Clone)]
pub enum Value {
    Str(RString),
    List(Box<crate::types::quicklist::Quicklist>),
    ZSet(crate::types::zset::ZSet),
    Set(Box<crate::types::set::Set>),
    Hash(crate::types::hash::Hash),
    Stream(Box<crate::types::stream::Stream>),
}

impl Value {
    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::ZSet(_) => "zset",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::Stream(_) => "stream",
        }
    }

    /// Redis's OBJ_* type number (the digest mixes it in).
    pub fn type_id(&self) -> u32 {
        match self {
            Value::Str(_) => 0,
            Value::List(_) => 1,
            Value::ZSet(_) => 3,
            Value::Set(_) => 2,
            Value::Hash(_) => 4,
            Value::Stream(_) => 6,
        }
    }

    /// Mix this value into a key's digest (Redis's xorObjectDigest, minus the expire part).
    pub fn digest(&self, d: &mut crate::util::digest::Digest20) {
        use crate::util::digest::mix_digest;
        mix_digest(d, &self.type_id().to_be_bytes());
        match self {
            Value::Str(s) => s.with_bytes(|b| mix_digest(d, b)),
            Value::List(l) => l.visit(0, false, |e| {
                let mut buf = [0u8; crate::types::listpack::INT_BUF_SIZE];
                mix_digest(d, e.as_bytes(&mut buf));
                true
            }),
            Value::ZSet(z) => z.digest(d),
            Value::Set(s) => s.digest(d),
            Value::Hash(h) => h.digest(d),
            Value::Stream(s) => s.digest(d),
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(_) => "quicklist",
            Value::ZSet(z) => z.encoding(),
            Value::Set(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Stream(_) => "stream",
        }
    }
}

/// A stored object: the value and its access clock (LRU time, or LFU time+counter).
#[derive(Debug, Clone)]
pub struct RObj {
    pub value: Value,
    pub lru: u32,
}

impl RObj {
    /// A new object stamped with `lru`.
    pub fn new(value: Value, lru: u32) -> RObj {
        RObj { value, lru }
    }

    /// A string object.
    pub fn string(s: RString, lru: u32) -> RObj {
        RObj::new(Value::Str(s), lru)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_objects_stay_small() {
        // A value is one word beside its tag, so that a keyspace entry (key, object, next
        // pointer) fits jemalloc's 48-byte class.
        assert_eq!(std::mem::size_of::<RString>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<RObj>(), 24);
    }

    #[test]
    fn small_collection_headers_take_the_smallest_class() {
        // A small hash or sorted set is one word in the object and its listpack, exactly
        // the listpack's bytes: no box, capacity, length or table struct in between.
        use crate::types::{hash::Hash, listpack::Listpack, zset::ZSet};
        assert_eq!(std::mem::size_of::<Listpack>(), 8);
        assert_eq!(std::mem::size_of::<Hash>(), 8);
        assert_eq!(std::mem::size_of::<ZSet>(), 8);
        // A keyspace entry: key (short ones inline), object, next pointer: 48 B.
        assert_eq!(std::mem::size_of::<crate::db::Sds>(), 16);
    }

    #[test]
    fn string_encodings() {
        assert_eq!(RString::from_bytes(b"123").encoding(), "int");
        let e = RString::from_bytes(b"hello");
        assert_eq!(e.encoding(), "embstr");
        assert_eq!(e.to_vec(), b"hello");
        let long = vec![b'x'; EMBSTR_SIZE_LIMIT + 1];
        assert_eq!(RString::from_bytes(&long).encoding(), "raw");
        let mut m = RString::from_bytes(b"abc");
        m.make_raw().extend_from_slice(b"def");
        assert_eq!(m.encoding(), "raw");
        assert_eq!(m.to_vec(), b"abcdef");
    }
}
