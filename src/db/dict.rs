//! `Dict`: the incrementally rehashed hash table behind the keyspace, the
//! expires table, and the hash / set / sorted-set encodings.
//!
//! It has the same behaviour as Redis 7.0's `dict.c`, written as owned Rust
//! data:
//!
//! * **Layout.** Up to two tables of buckets. Each table is a boxed slice of
//!   `Option<Box<Node>>` (8 bytes per bucket, null means empty). Each node is
//!   one heap allocation holding the key, the value and the `next` link.
//!   Table sizes are powers of two and at least 4 (a table that was never
//!   used has 0 buckets and allocates nothing). The hash is not stored in the
//!   node, so rehashing a node hashes its key again (as Redis does).
//! * **Incremental rehashing.** Growing or shrinking allocates table 1 and
//!   sets `rehash_idx`. From then on, the buckets of table 0 are moved a few
//!   at a time: one bucket for each mutating operation (`insert*`,
//!   `get_or_insert_with`, `remove`, `get_mut`, `find_mut`), plus whatever the
//!   server cron runs through [`Dict::rehash_for`] or [`Dict::rehash_steps`].
//!   When table 0 is empty, table 1 takes its place. Lookups through `&self`
//!   (`get`, `contains_key`, `get_key_value`, `scan`, the random and sampling
//!   functions) never rehash. A table that holds only reads therefore relies
//!   on the cron to finish a rehash, or on the caller running
//!   `rehash_steps(1)` on its read path.
//! * **Invariants.** While rehashing, the buckets of table 0 below
//!   `rehash_idx` are empty and new nodes go into table 1. When not
//!   rehashing, table 1 has 0 buckets. `used[t]` is the number of nodes in
//!   table `t`, and every node sits in bucket `hash(key) & (size - 1)` of its
//!   table.
//! * **Resize policy.** This is process-global ([`set_resize_policy`]), like
//!   `dict_can_resize`. Under `Enable`, a table grows when `len >= buckets`.
//!   Under `Avoid` (a fork child exists), it grows only when
//!   `len / buckets > 5`, and a rehash moves buckets only if the two tables
//!   differ in size by at least 5x. This limits copy-on-write. Under
//!   `Forbid` (we are the fork child), a table never grows or rehashes.
//!   Shrinking is left to the caller ([`Dict::shrink_if_needed`], called from
//!   the cron and after deletes, like `htNeedsResize` + `dictResize`).
//! * **Hashing.** Generic over `S: BuildHasher`. The default is std's
//!   `RandomState` (SipHash-1-3 with random keys, like Redis's seeded
//!   siphash). Each operation hashes the key once. A caller that wants to
//!   save the 16 bytes `RandomState` adds to every dict can pass a
//!   zero-sized `BuildHasher` with a process-wide seed.
//! * **Fork safety.** The dict is plain owned data: no locks, no `Rc`/`Arc`,
//!   no interior mutability. A fork child can walk it as-is. The only shared
//!   state is the global resize policy (an atomic) and a thread-local PRNG
//!   used by the random and sampling functions ([`set_seed`]).
//! * **`unsafe`.** It is used in two places, each with `SAFETY` comments
//!   and a test. One allocates bucket arrays as zeroed memory (calloc), so
//!   growing to a huge table costs no page faults up front. The other frees
//!   an emptied table without a destructor call per bucket, so the step
//!   that finishes a rehash does not pause.
//! * **No deep recursion.** Chains are dropped, cloned and drained one node
//!   at a time, so even a chain of millions of nodes (degenerate hasher)
//!   cannot overflow the stack.

// This is a general-purpose container. Not every method has a caller in
// every build of the (binary) server crate.
#![allow(dead_code)]

use std::alloc::{self, Layout};
use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hash};
use std::iter::{Chain, FusedIterator};
use std::mem::{self, MaybeUninit};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use std::{slice, vec};

/// Smallest non-empty table size (Redis `DICT_HT_INITIAL_SIZE`).
pub const INITIAL_SIZE: usize = 4;
/// Under [`ResizePolicy::Avoid`], a table still grows once
/// `len / buckets` exceeds this ratio (Redis `dict_force_resize_ratio`).
pub const FORCE_RESIZE_RATIO: usize = 5;
/// [`Dict::shrink_if_needed`] shrinks a table once it is less than this
/// percentage full (Redis `HASHTABLE_MIN_FILL`).
pub const MIN_FILL_PERCENT: usize = 10;
/// How many entries [`Dict::fair_random_entry`] samples (Redis
/// `GETFAIR_NUM_ENTRIES`).
const FAIR_SAMPLE: usize = 15;
/// Sample sizes up to this many use a buffer on the stack.
const SAMPLE_STACK: usize = 32;
/// Number of chain-length slots in the stats histogram (Redis
/// `DICT_STATS_VECTLEN`).
const STATS_VECTLEN: usize = 50;

// ---------------------------------------------------------------------------
// Global resize policy and PRNG
// ---------------------------------------------------------------------------

/// Process-global resize policy (Redis `dictResizeEnable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizePolicy {
    /// Normal operation: grow at load factor 1 and rehash freely.
    Enable,
    /// A fork child exists. Grow only past [`FORCE_RESIZE_RATIO`], and
    /// rehash only when the two tables differ in size by at least that
    /// ratio. Shrinking is not allowed.
    Avoid,
    /// We are the fork child: never grow, shrink or rehash.
    Forbid,
}

static RESIZE_POLICY: AtomicU8 = AtomicU8::new(0);

/// Sets the process-global resize policy for every [`Dict`].
pub fn set_resize_policy(policy: ResizePolicy) {
    let v = match policy {
        ResizePolicy::Enable => 0,
        ResizePolicy::Avoid => 1,
        ResizePolicy::Forbid => 2,
    };
    RESIZE_POLICY.store(v, Ordering::Relaxed);
}

/// Returns the current process-global resize policy.
pub fn resize_policy() -> ResizePolicy {
    match RESIZE_POLICY.load(Ordering::Relaxed) {
        0 => ResizePolicy::Enable,
        1 => ResizePolicy::Avoid,
        _ => ResizePolicy::Forbid,
    }
}

/// Allows (`true` → [`ResizePolicy::Enable`]) or discourages
/// (`false` → [`ResizePolicy::Avoid`]) resizing for every [`Dict`].
/// Discouraging is what the server does while a fork child exists.
pub fn set_resize_allowed(allowed: bool) {
    set_resize_policy(if allowed {
        ResizePolicy::Enable
    } else {
        ResizePolicy::Avoid
    });
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(RandomState::new().hash_one(0x5EED_u64));
}

/// Seeds this thread's PRNG, which the random and sampling functions of
/// every [`Dict`] use. Meant for tests that need repeatable results.
pub fn set_seed(seed: u64) {
    RNG.with(|r| r.set(seed));
}

/// splitmix64: a small, fast PRNG that works with any seed. Also the random source of
/// the hash and set commands (HRANDFIELD, SRANDMEMBER, SPOP).
pub fn next_rand() -> u64 {
    RNG.with(|r| {
        let s = r.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        r.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// Uniform-ish random number in `0..n` (`n > 0`). Modulo bias is
/// negligible for a 64-bit source.
fn rand_below(n: usize) -> usize {
    (next_rand() % n as u64) as usize
}

// ---------------------------------------------------------------------------
// Nodes, links and tables
// ---------------------------------------------------------------------------

struct Node<K, V> {
    key: K,
    value: V,
    next: Link<K, V>,
}

/// A bucket or a `next` pointer. `repr(transparent)` over
/// `Option<Box<Node>>`, so it is one nullable pointer and the all-zero bit
/// pattern is the empty link (see [`alloc_table`]). Its `Drop` frees the
/// rest of the chain in a loop, not by recursion.
#[repr(transparent)]
struct Link<K, V>(Option<Box<Node<K, V>>>);

impl<K, V> Drop for Link<K, V> {
    fn drop(&mut self) {
        let mut cur = self.0.take();
        while let Some(mut node) = cur {
            cur = node.next.0.take();
            // `node` drops here. Its `next` is now empty, so nothing recurses.
        }
    }
}

type Table<K, V> = Box<[Link<K, V>]>;

/// Allocates a table of `size` empty buckets as zeroed memory, which the
/// allocator can return as untouched, lazily zeroed pages (calloc). Growing
/// a huge table therefore costs no page faults up front: like Redis, pages
/// are touched one by one as buckets get filled. If `fallible` is true,
/// returns `None` when the allocation fails; otherwise allocation failure
/// aborts through `handle_alloc_error`.
fn alloc_table<K, V>(size: usize, fallible: bool) -> Option<Table<K, V>> {
    if size == 0 {
        return Some(Box::new([]));
    }
    let layout = Layout::array::<Link<K, V>>(size).ok()?;
    // SAFETY: `layout` has a non-zero size (size > 0 and a `Link` is one
    // pointer), as `alloc_zeroed` requires.
    let raw = unsafe { alloc::alloc_zeroed(layout) };
    let Some(raw) = NonNull::new(raw.cast::<Link<K, V>>()) else {
        if fallible {
            return None;
        }
        alloc::handle_alloc_error(layout);
    };
    // SAFETY: `raw` came from the global allocator with
    // `Layout::array::<Link>(size)`, which is the layout `Box<[Link]>` of
    // length `size` frees with. Every element is initialized: `Link` is
    // `repr(transparent)` over `Option<Box<Node>>`, and the `Option` docs
    // guarantee that its `None` is the all-zero (null) bit pattern. So the
    // zeroed memory is `size` valid `Link(None)` values.
    Some(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(raw.as_ptr(), size)) })
}

/// Frees a table whose buckets are all empty, without running a destructor
/// on each bucket. When a rehash finishes, the old table can have millions
/// of buckets, and checking each one would be a visible pause.
fn free_empty_table<K, V>(table: Table<K, V>) {
    debug_assert!(table.iter().all(|l| l.0.is_none()));
    let raw = Box::into_raw(table) as *mut [MaybeUninit<Link<K, V>>];
    // SAFETY: `MaybeUninit<T>` has the same size and alignment as `T`, and
    // the cast keeps the slice length, so the pointer describes the same
    // allocation with the same layout. Dropping a `Box<[MaybeUninit<_>]>`
    // frees the memory and runs no element destructors. Skipping them leaks
    // nothing, because every element is `Link(None)` and owns nothing.
    drop(unsafe { Box::from_raw(raw) });
}

#[inline]
fn bucket_of(hash: u64, table_len: usize) -> usize {
    debug_assert!(table_len.is_power_of_two());
    (hash as usize) & (table_len - 1)
}

#[inline]
fn key_eq<K: Borrow<Q>, Q: ?Sized + Eq>(key: &K, k: &Q) -> bool {
    let key: &Q = key.borrow();
    key == k
}

/// Walks a chain and returns the link that holds the node with key `k`, or
/// the trailing empty link if no node has that key.
fn walk_mut<'a, K, V, Q>(mut cur: &'a mut Link<K, V>, k: &Q) -> &'a mut Link<K, V>
where
    K: Borrow<Q>,
    Q: ?Sized + Eq,
{
    while cur.0.as_ref().is_some_and(|n| !key_eq(&n.key, k)) {
        // The loop condition just checked that the link is non-empty.
        cur = &mut cur.0.as_mut().expect("checked non-empty").next;
    }
    cur
}

fn find_in<'a, K, V, Q>(table: &'a [Link<K, V>], hash: u64, k: &Q) -> Option<&'a Node<K, V>>
where
    K: Borrow<Q>,
    Q: ?Sized + Eq,
{
    if table.is_empty() {
        return None;
    }
    let mut cur = table[bucket_of(hash, table.len())].0.as_deref();
    while let Some(n) = cur {
        if key_eq(&n.key, k) {
            return Some(n);
        }
        cur = n.next.0.as_deref();
    }
    None
}

/// Finds `k` in `tables`. Returns either its node, or the empty link at the
/// end of `k`'s chain in the table new entries go to (table 1 while
/// rehashing), together with that table's index. Table 0 must be non-empty.
#[allow(clippy::type_complexity)]
fn locate<'a, K, V, Q>(
    tables: &'a mut [Table<K, V>; 2],
    hash: u64,
    k: &Q,
) -> Result<&'a mut Node<K, V>, (&'a mut Link<K, V>, usize)>
where
    K: Borrow<Q>,
    Q: ?Sized + Eq,
{
    let [t0, t1] = tables;
    let (target, t) = if t1.is_empty() {
        (t0, 0)
    } else {
        let i = bucket_of(hash, t0.len());
        if let Some(n) = walk_mut(&mut t0[i], k).0.as_deref_mut() {
            return Ok(n);
        }
        (t1, 1)
    };
    let i = bucket_of(hash, target.len());
    let slot = walk_mut(&mut target[i], k);
    match slot.0 {
        Some(ref mut n) => Ok(n),
        None => Err((slot, t)),
    }
}

/// One step of the reverse-binary SCAN cursor (Redis `dictScan`). Calls
/// `visit(table, bucket)` for every bucket the cursor covers and returns
/// the next cursor. `s1 == 0` means there is no rehash in progress. `s0`
/// must be non-zero.
fn scan_cursor(s0: usize, s1: usize, mut v: u64, mut visit: impl FnMut(usize, usize)) -> u64 {
    #[inline]
    fn advance(v: u64, mask: u64) -> u64 {
        // Set the bits above the mask, so that incrementing the reversed
        // cursor carries into the masked bits only.
        (v | !mask).reverse_bits().wrapping_add(1).reverse_bits()
    }
    if s1 == 0 {
        let m0 = s0 as u64 - 1;
        visit(0, (v & m0) as usize);
        return advance(v, m0);
    }
    // t_small is the smaller table and t_large the larger one.
    let (t_small, t_large, m_small, m_large) = if s0 <= s1 {
        (0, 1, s0 as u64 - 1, s1 as u64 - 1)
    } else {
        (1, 0, s1 as u64 - 1, s0 as u64 - 1)
    };
    visit(t_small, (v & m_small) as usize);
    // Visit every bucket of the larger table that the current bucket of the
    // smaller table expands to.
    loop {
        visit(t_large, (v & m_large) as usize);
        v = advance(v, m_large);
        if v & (m_small ^ m_large) == 0 {
            break;
        }
    }
    v
}

// ---------------------------------------------------------------------------
// Dict
// ---------------------------------------------------------------------------

/// A chained hash table that rehashes incrementally, modelled on Redis's
/// `dict`. See the module docs for its invariants.
pub struct Dict<K, V, S = RandomState> {
    /// `tables[0]` is the main table; `tables[1]` is the rehash target and
    /// has 0 buckets when no rehash is in progress.
    tables: [Table<K, V>; 2],
    /// Number of nodes in each table.
    used: [usize; 2],
    /// Next bucket of `tables[0]` to move. Meaningful only while rehashing.
    rehash_idx: usize,
    hasher: S,
    /// Asked before growing (Redis's dictType.expandAllowed) with the bytes the new table
    /// would take and the current load factor; the keyspace tables refuse to grow past
    /// `maxmemory` this way.
    expand_allowed: Option<fn(usize, f64) -> bool>,
}

impl<K, V> Dict<K, V, RandomState> {
    /// Creates an empty dict with a randomly seeded SipHash hasher. It
    /// allocates nothing until the first insert.
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }

    /// Creates an empty dict sized for `n` entries (see [`Dict::expand`]).
    pub fn with_capacity(n: usize) -> Self {
        let mut d = Self::new();
        d.expand(n);
        d
    }
}

impl Dict<(), ()> {
    /// Same as the module-level [`set_resize_allowed`]. It is here so that
    /// `Dict::set_resize_allowed(..)` works without type annotations.
    pub fn set_resize_allowed(allowed: bool) {
        set_resize_allowed(allowed);
    }

    /// Same as the module-level [`set_resize_policy`].
    pub fn set_resize_policy(policy: ResizePolicy) {
        set_resize_policy(policy);
    }

    /// Same as the module-level [`set_seed`]: seeds this thread's PRNG.
    pub fn set_seed(seed: u64) {
        set_seed(seed);
    }
}

impl<K, V, S: Default> Default for Dict<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> Dict<K, V, S> {
    /// Creates an empty dict that uses `hasher`. It allocates nothing until
    /// the first insert.
    pub fn with_hasher(hasher: S) -> Self {
        Dict {
            tables: [Box::new([]), Box::new([])],
            used: [0, 0],
            rehash_idx: 0,
            hasher,
            expand_allowed: None,
        }
    }

    /// Install the check consulted before each grow (see `expand_allowed`).
    pub fn set_expand_allowed(&mut self, f: fn(usize, f64) -> bool) {
        self.expand_allowed = Some(f);
    }

    /// Returns the dict's hasher.
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// Number of entries in both tables.
    #[inline]
    pub fn len(&self) -> usize {
        self.used[0] + self.used[1]
    }

    /// True if the dict has no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total number of buckets in both tables (Redis `dictSlots`).
    #[inline]
    pub fn buckets(&self) -> usize {
        self.tables[0].len() + self.tables[1].len()
    }

    /// True while an incremental rehash is in progress.
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        !self.tables[1].is_empty()
    }

    /// Estimated memory in bytes: the bucket arrays plus one node allocation
    /// per entry. It leaves out heap memory owned by the keys and values,
    /// allocator rounding, and the `Dict` struct itself
    /// (`size_of::<Dict<K, V, S>>()`).
    pub fn mem_usage(&self) -> usize {
        self.buckets() * mem::size_of::<Link<K, V>>() + self.len() * mem::size_of::<Node<K, V>>()
    }

    /// Removes every entry and frees both tables. This takes O(n) time. For
    /// huge dicts, the caller may prefer to move the dict to a background
    /// drop, as Redis lazyfree does.
    pub fn clear(&mut self) {
        self.tables = [Box::new([]), Box::new([])];
        self.used = [0, 0];
        self.rehash_idx = 0;
    }

    /// Removes all entries and returns them as an owning iterator. The dict
    /// is empty (and holds no tables) as soon as this returns. Entries the
    /// iterator does not yield are dropped with it.
    pub fn drain(&mut self) -> IntoIter<K, V> {
        let len = self.len();
        let tables = mem::take(&mut self.tables);
        self.used = [0, 0];
        self.rehash_idx = 0;
        IntoIter::new(tables, len)
    }

    /// Iterator over `(&K, &V)` in both tables, in bucket order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        let skip = if self.is_rehashing() {
            self.rehash_idx
        } else {
            0
        };
        Iter {
            buckets: self.tables[0][skip..].iter().chain(self.tables[1].iter()),
            node: None,
            remaining: self.len(),
        }
    }

    /// Iterator over `(&K, &mut V)` in both tables, in bucket order.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        let remaining = self.len();
        let skip = if self.is_rehashing() {
            self.rehash_idx
        } else {
            0
        };
        let [t0, t1] = &mut self.tables;
        IterMut {
            buckets: t0[skip..].iter_mut().chain(t1.iter_mut()),
            node: None,
            remaining,
        }
    }

    /// Iterator over the keys.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Iterator over the values.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Keeps only the entries for which `f` returns true. Never resizes:
    /// call [`Dict::shrink_if_needed`] afterwards if many were removed.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        for t in 0..2 {
            let mut removed = 0;
            for bucket in self.tables[t].iter_mut() {
                let mut cur = bucket;
                while cur.0.is_some() {
                    let keep = {
                        let n = cur.0.as_mut().expect("checked non-empty");
                        f(&n.key, &mut n.value)
                    };
                    if keep {
                        cur = &mut cur.0.as_mut().expect("checked non-empty").next;
                    } else {
                        let mut gone = cur.0.take().expect("checked non-empty");
                        cur.0 = gone.next.0.take();
                        removed += 1;
                    }
                }
            }
            self.used[t] -= removed;
        }
    }

    /// Does `n` steps of incremental rehashing (Redis `dictRehash`). Each
    /// step moves one non-empty bucket from table 0 to table 1. The whole
    /// call visits at most `10 * n` empty buckets, so it is bounded even on
    /// a sparse table.
    ///
    /// Returns true if a rehash is still in progress and may continue. It
    /// returns false if the rehash finished (or none was in progress), or if
    /// the global [`ResizePolicy`] does not let this rehash move buckets
    /// right now.
    pub fn rehash_steps(&mut self, n: usize) -> bool
    where
        K: Hash,
        S: BuildHasher,
    {
        if !self.is_rehashing() || !self.rehash_permitted() {
            return false;
        }
        let Dict {
            tables: [t0, t1],
            used,
            rehash_idx,
            hasher,
            ..
        } = self;
        let mut empty_visits = n.saturating_mul(10);
        let mut steps = n;
        while steps > 0 && used[0] != 0 {
            steps -= 1;
            // `used[0] != 0`, so a non-empty bucket exists at or after
            // `rehash_idx` and the index stays in bounds.
            while t0[*rehash_idx].0.is_none() {
                *rehash_idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    return true;
                }
            }
            let mut chain = t0[*rehash_idx].0.take();
            while let Some(mut node) = chain {
                chain = node.next.0.take();
                let dst = &mut t1[bucket_of(hasher.hash_one(&node.key), t1.len())];
                node.next.0 = dst.0.take();
                dst.0 = Some(node);
                used[0] -= 1;
                used[1] += 1;
            }
            *rehash_idx += 1;
        }
        if used[0] == 0 {
            let old = mem::replace(t0, mem::take(t1));
            free_empty_table(old);
            used[0] = used[1];
            used[1] = 0;
            *rehash_idx = 0;
            return false;
        }
        true
    }

    /// Rehashes in batches of 100 steps until the rehash is done or `budget`
    /// has elapsed (Redis `dictRehashMilliseconds`, used by the cron's
    /// active rehashing). Returns the number of steps run, counting 100
    /// per batch (an upper bound on the buckets moved). Returns 0 if no
    /// rehash is in progress or the resize policy pauses it.
    pub fn rehash_for(&mut self, budget: Duration) -> usize
    where
        K: Hash,
        S: BuildHasher,
    {
        if !self.is_rehashing() || !self.rehash_permitted() {
            return 0;
        }
        let start = Instant::now();
        let mut steps = 0;
        loop {
            let more = self.rehash_steps(100);
            steps += 100;
            if !more || start.elapsed() > budget {
                return steps;
            }
        }
    }

    fn rehash_permitted(&self) -> bool {
        match resize_policy() {
            ResizePolicy::Enable => true,
            ResizePolicy::Forbid => false,
            ResizePolicy::Avoid => {
                let (s0, s1) = (self.tables[0].len(), self.tables[1].len());
                s0.max(s1) / s0.min(s1).max(1) >= FORCE_RESIZE_RATIO
            }
        }
    }

    #[inline]
    fn rehash_step(&mut self)
    where
        K: Hash,
        S: BuildHasher,
    {
        if self.is_rehashing() {
            self.rehash_steps(1);
        }
    }

    /// Resizes so that the table has at least `size` buckets, rounded up to
    /// a power of two with a minimum of 4 (Redis `dictTryExpand`). Used to
    /// pre-size before bulk loads (RDB loading, RESIZEDB) and, with a
    /// smaller `size`, to shrink. Returns true if a resize happened or
    /// started. It returns false, doing nothing, if a rehash is already in
    /// progress, if `size` is smaller than the number of entries in table
    /// 0, if the table already has that size, or if the allocation fails or
    /// would overflow. The caller must clamp untrusted size hints.
    ///
    /// An empty dict gets its new table at once. Otherwise table 1 is
    /// allocated and the entries move incrementally.
    pub fn expand(&mut self, size: usize) -> bool {
        self.expand_inner(size, true)
    }

    fn expand_inner(&mut self, size: usize, fallible: bool) -> bool {
        if self.is_rehashing() || self.used[0] > size {
            return false;
        }
        let Some(new_size) = size.max(INITIAL_SIZE).checked_next_power_of_two() else {
            return false;
        };
        if new_size == self.tables[0].len() {
            return false;
        }
        let Some(table) = alloc_table(new_size, fallible) else {
            return false;
        };
        if self.used[0] == 0 {
            // Nothing to move (first use, or every entry was removed).
            let old = mem::replace(&mut self.tables[0], table);
            free_empty_table(old);
        } else {
            self.tables[1] = table;
            self.rehash_idx = 0;
        }
        true
    }

    fn find_hashed<Q>(&self, hash: u64, k: &Q) -> Option<&Node<K, V>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        find_in(&self.tables[0], hash, k).or_else(|| find_in(&self.tables[1], hash, k))
    }

    /// True if adding an entry now would start a grow (Redis
    /// `_dictExpandIfNeeded` conditions).
    fn needs_grow(&self) -> bool {
        if self.is_rehashing() {
            return false;
        }
        let size = self.tables[0].len();
        if size == 0 {
            return true;
        }
        let used = self.used[0];
        match resize_policy() {
            ResizePolicy::Enable => used >= size,
            ResizePolicy::Avoid => used / size > FORCE_RESIZE_RATIO,
            ResizePolicy::Forbid => false,
        }
    }

    /// Grows the table before adding an entry, if the load factor and the
    /// resize policy call for it (Redis `_dictExpandIfNeeded`).
    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.tables[0].len();
        if size == 0 {
            // The first table is small: allocation failure aborts here, so
            // that the insert that follows always has a table.
            self.expand_inner(INITIAL_SIZE, false);
            return;
        }
        if self.needs_grow() {
            if let Some(allowed) = self.expand_allowed {
                let more = (self.used[0] + 1).next_power_of_two() * mem::size_of::<Link<K, V>>();
                if !allowed(more, self.used[0] as f64 / size as f64) {
                    return;
                }
            }
            // If this fails (out of memory), chains just get longer.
            self.expand_inner(self.used[0] + 1, true);
        }
    }

    /// Shrinks the table to fit if it is less than 10% full and has more than
    /// 4 buckets (Redis `htNeedsResize` + `dictResize`). It does nothing
    /// under a policy other than [`ResizePolicy::Enable`] or while
    /// rehashing. Call it from the cron and after deletes. Returns true if a
    /// resize started (or, for an empty dict, happened at once).
    pub fn shrink_if_needed(&mut self) -> bool {
        let size = self.buckets();
        let used = self.len();
        if size <= INITIAL_SIZE || used.saturating_mul(100) / size >= MIN_FILL_PERCENT {
            return false;
        }
        if resize_policy() != ResizePolicy::Enable || self.is_rehashing() {
            return false;
        }
        self.expand(used.max(INITIAL_SIZE))
    }

    /// One SCAN step (Redis `dictScan`). Calls `f` for every entry in the
    /// buckets that `cursor` covers, in both tables while rehashing, and
    /// returns the next cursor. Start with 0; a returned 0 means the scan is
    /// done. Every entry present for the whole scan is returned at least
    /// once, even if the table grows, shrinks or rehashes between calls.
    /// Entries may be returned more than once. Never rehashes.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&K, &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let (s0, s1) = (self.tables[0].len(), self.tables[1].len());
        scan_cursor(s0, s1, cursor, |t, b| {
            let mut cur = self.tables[t][b].0.as_deref();
            while let Some(n) = cur {
                f(&n.key, &n.value);
                cur = n.next.0.as_deref();
            }
        })
    }

    /// Like [`Dict::scan`], but the callback gets `&mut V`.
    pub fn scan_mut(&mut self, cursor: u64, mut f: impl FnMut(&K, &mut V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let (s0, s1) = (self.tables[0].len(), self.tables[1].len());
        let tables = &mut self.tables;
        scan_cursor(s0, s1, cursor, |t, b| {
            let mut cur = tables[t][b].0.as_deref_mut();
            while let Some(n) = cur {
                f(&n.key, &mut n.value);
                cur = n.next.0.as_deref_mut();
            }
        })
    }

    /// Returns a random entry (Redis `dictGetRandomKey`). It picks random
    /// buckets until it finds a non-empty one, then a random node of that
    /// chain. The result is not uniform: entries in long chains are less
    /// likely to be picked. The expected time is O(buckets / len), so keep
    /// sparse tables shrunk. Never rehashes. Returns `None` only if the dict
    /// is empty.
    pub fn random_entry(&self) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let [t0, t1] = &self.tables;
        let head = if self.is_rehashing() {
            // Buckets of table 0 below `rehash_idx` are known to be empty.
            let s0 = t0.len();
            let span = s0 + t1.len() - self.rehash_idx;
            loop {
                let h = self.rehash_idx + rand_below(span);
                let link = if h >= s0 { &t1[h - s0] } else { &t0[h] };
                if let Some(n) = link.0.as_deref() {
                    break n;
                }
            }
        } else {
            let mask = t0.len() - 1;
            loop {
                if let Some(n) = t0[next_rand() as usize & mask].0.as_deref() {
                    break n;
                }
            }
        };
        let mut chain_len = 0;
        let mut cur = Some(head);
        while let Some(n) = cur {
            chain_len += 1;
            cur = n.next.0.as_deref();
        }
        let mut n = head;
        for _ in 0..rand_below(chain_len) {
            n = n.next.0.as_deref().expect("index below chain length");
        }
        Some((&n.key, &n.value))
    }

    /// Samples up to `count` entries (Redis `dictGetSomeKeys`) and calls `f`
    /// for each one. Returns how many were delivered. It starts at a random
    /// bucket and walks forward through both tables, collecting whole
    /// chains (using reservoir sampling within the last chain). It jumps to
    /// a new random spot after a run of empty buckets, and gives up after
    /// `10 * count` bucket steps. So it can return fewer than `count`
    /// entries, and may even return none on a non-empty dict. As in Redis,
    /// a random jump can land on buckets already collected, so one call can
    /// (rarely) deliver the same entry twice. The results are not uniformly
    /// distributed; this is meant for expiry and eviction sampling. Never
    /// rehashes.
    pub fn sample(&self, count: usize, mut f: impl FnMut(&K, &V)) -> usize {
        let count = count.min(self.len());
        let mut stack_buf = [None; SAMPLE_STACK];
        let mut heap_buf;
        let buf: &mut [Option<&Node<K, V>>] = if count <= SAMPLE_STACK {
            &mut stack_buf[..count]
        } else {
            heap_buf = vec![None; count];
            &mut heap_buf
        };
        let got = self.sample_into(buf);
        for n in buf[..got].iter().flatten() {
            f(&n.key, &n.value);
        }
        got
    }

    /// Returns a random entry, picked uniformly from a sample of 15 (Redis
    /// `dictGetFairRandomKey`). This is fairer than [`Dict::random_entry`]
    /// when chain lengths vary. If the sample comes back empty, it falls
    /// back to `random_entry`. Never rehashes.
    pub fn fair_random_entry(&self) -> Option<(&K, &V)> {
        let mut buf = [None; FAIR_SAMPLE];
        let got = self.sample_into(&mut buf);
        if got == 0 {
            return self.random_entry();
        }
        buf[rand_below(got)].map(|n| (&n.key, &n.value))
    }

    /// Core of [`Dict::sample`]: fills `out[..returned]` with nodes.
    fn sample_into<'a>(&'a self, out: &mut [Option<&'a Node<K, V>>]) -> usize {
        let count = out.len().min(self.len());
        if count == 0 {
            return 0;
        }
        let rehashing = self.is_rehashing();
        let ntables = if rehashing { 2 } else { 1 };
        let (s0, s1) = (self.tables[0].len(), self.tables[1].len());
        let max_mask = s0.max(s1) - 1;
        let mut i = next_rand() as usize & max_mask;
        let mut max_steps = count * 10;
        let mut empty_run = 0;
        let mut stored = 0;
        'outer: while stored < count && max_steps > 0 {
            max_steps -= 1;
            for t in 0..ntables {
                if rehashing && t == 0 && i < self.rehash_idx {
                    // Buckets of table 0 below `rehash_idx` are empty. If `i`
                    // is also past the end of table 1 (a shrink), both tables
                    // are empty at `i` up to `rehash_idx`: jump there.
                    if i >= s1 {
                        i = self.rehash_idx;
                    } else {
                        continue;
                    }
                }
                let table = &self.tables[t];
                if i >= table.len() {
                    continue;
                }
                match table[i].0.as_deref() {
                    None => {
                        empty_run += 1;
                        if empty_run >= 5 && empty_run > count {
                            i = next_rand() as usize & max_mask;
                            empty_run = 0;
                        }
                    }
                    Some(head) => {
                        empty_run = 0;
                        let mut cur = Some(head);
                        while let Some(n) = cur {
                            if stored < count {
                                out[stored] = Some(n);
                            } else {
                                // Reservoir sampling, so the tail of a long
                                // chain can be sampled too.
                                let r = rand_below(stored + 1);
                                if r < count {
                                    out[r] = Some(n);
                                }
                            }
                            stored += 1;
                            cur = n.next.0.as_deref();
                        }
                        if stored >= count {
                            break 'outer;
                        }
                    }
                }
            }
            i = (i + 1) & max_mask;
        }
        stored.min(count)
    }

    /// Human-readable table statistics in the format of Redis
    /// `dictGetStats` (used by DEBUG HTSTATS / HTSTATS-KEY). Covers table 1
    /// too while rehashing.
    pub fn stats(&self) -> String {
        let mut out = String::new();
        self.table_stats(&mut out, 0);
        if self.is_rehashing() {
            self.table_stats(&mut out, 1);
        }
        out
    }

    fn table_stats(&self, out: &mut String, t: usize) {
        let name = if t == 0 {
            "main hash table"
        } else {
            "rehashing target"
        };
        let used = self.used[t];
        let table = &self.tables[t];
        if used == 0 {
            let _ = write!(
                out,
                "Hash table {t} stats ({name}):\nNo stats available for empty dictionaries\n"
            );
            return;
        }
        let mut histogram = [0usize; STATS_VECTLEN];
        let (mut slots, mut max_chain, mut total_chain) = (0usize, 0usize, 0usize);
        for bucket in table.iter() {
            let mut chain = 0usize;
            let mut cur = bucket.0.as_deref();
            while let Some(n) = cur {
                chain += 1;
                cur = n.next.0.as_deref();
            }
            histogram[chain.min(STATS_VECTLEN - 1)] += 1;
            if chain > 0 {
                slots += 1;
                max_chain = max_chain.max(chain);
                total_chain += chain;
            }
        }
        // Redis computes these ratios in single precision.
        let _ = write!(
            out,
            "Hash table {t} stats ({name}):\n table size: {}\n number of elements: {used}\n \
             different slots: {slots}\n max chain length: {max_chain}\n \
             avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n \
             Chain length distribution:\n",
            table.len(),
            total_chain as f32 / slots as f32,
            used as f32 / slots as f32,
        );
        // Like Redis, the last (overflow) slot of the histogram is not shown.
        for (len, &n) in histogram.iter().enumerate().take(STATS_VECTLEN - 1) {
            if n != 0 {
                let pct = n as f32 / table.len() as f32 * 100.0;
                let _ = writeln!(out, "   {len}: {n} ({pct:.2}%)");
            }
        }
    }
}

impl<K, V, S> Dict<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    #[inline]
    fn hash<Q: ?Sized + Hash>(&self, k: &Q) -> u64 {
        self.hasher.hash_one(k)
    }

    fn find<Q>(&self, k: &Q) -> Option<&Node<K, V>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        self.find_hashed(self.hash(k), k)
    }

    /// Returns the value stored under `k`. Never rehashes (takes `&self`).
    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.find(k).map(|n| &n.value)
    }

    /// Returns the stored key and value for `k`. Never rehashes.
    pub fn get_key_value<Q>(&self, k: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.find(k).map(|n| (&n.key, &n.value))
    }

    /// True if `k` is present. Never rehashes.
    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.find(k).is_some()
    }

    /// Looks up `k` for mutation, after doing one rehash step if a rehash is
    /// in progress (like Redis `dictFind`). Returns the stored key and a
    /// mutable reference to the value.
    pub fn find_mut<Q>(&mut self, k: &Q) -> Option<(&K, &mut V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        let hash = self.hash(k);
        self.find_mut_hashed(hash, k)
    }

    /// The hash of `k`, for the `*_hashed` lookups: a caller that looks the same key up
    /// twice (a presence check, then the access) hashes it once.
    #[inline]
    pub fn hash_key<Q: ?Sized + Hash>(&self, k: &Q) -> u64 {
        self.hash(k)
    }

    /// [`Dict::contains_key`] with the key's hash already computed ([`Dict::hash_key`]).
    pub fn contains_hashed<Q>(&self, hash: u64, k: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        !self.is_empty() && self.find_hashed(hash, k).is_some()
    }

    /// [`Dict::get_mut`] with the key's hash already computed ([`Dict::hash_key`]).
    pub fn get_mut_hashed<Q>(&mut self, hash: u64, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        if self.is_empty() {
            return None;
        }
        self.find_mut_hashed(hash, k).map(|(_, v)| v)
    }

    fn find_mut_hashed<Q>(&mut self, hash: u64, k: &Q) -> Option<(&K, &mut V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        self.rehash_step();
        let [t0, t1] = &mut self.tables;
        if !t0.is_empty() {
            let i = bucket_of(hash, t0.len());
            if let Some(n) = walk_mut(&mut t0[i], k).0.as_deref_mut() {
                return Some((&n.key, &mut n.value));
            }
        }
        if !t1.is_empty() {
            let i = bucket_of(hash, t1.len());
            if let Some(n) = walk_mut(&mut t1[i], k).0.as_deref_mut() {
                return Some((&n.key, &mut n.value));
            }
        }
        None
    }

    /// Mutable access to the value under `k`. Does one rehash step (see
    /// [`Dict::find_mut`]).
    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.find_mut(k).map(|(_, v)| v)
    }

    /// Inserts `key` → `value`. If the key was present, replaces the value
    /// (the stored key is kept) and returns the old value. Does one rehash
    /// step, and may start a grow.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        self.prepare_insert(hash, &key, true);
        let (slot, t) = match locate(&mut self.tables, hash, &key) {
            Ok(n) => return Some(mem::replace(&mut n.value, value)),
            Err(slot) => slot,
        };
        slot.0 = Some(Box::new(Node {
            key,
            value,
            next: Link(None),
        }));
        self.used[t] += 1;
        None
    }

    /// Inserts an entry whose key the caller knows is absent. This skips the
    /// chain scan: the node is pushed at the head of its bucket in O(1)
    /// (Redis `dictAdd` after a failed lookup). Returns the new value.
    ///
    /// If the key is in fact present, the dict ends up holding two entries
    /// for it. This is memory-safe, but lookups see only one of them and
    /// `len` counts both. Debug builds assert that the key is absent.
    pub fn insert_new(&mut self, key: K, value: V) -> &mut V {
        debug_assert!(!self.contains_key(&key), "insert_new: key already present");
        let hash = self.hash(&key);
        self.prepare_insert(hash, &key, false);
        let t = self.is_rehashing() as usize;
        let table = &mut self.tables[t];
        let slot = &mut table[bucket_of(hash, table.len())];
        let next = Link(slot.0.take());
        let node = slot.0.insert(Box::new(Node { key, value, next }));
        self.used[t] += 1;
        &mut node.value
    }

    /// Returns the value for `k`, inserting `make_key()` → `make_val()` first
    /// if `k` is absent. The key is hashed once. The bool is true if the
    /// entry was inserted. `make_key()` must return a key equal to `k` (same
    /// `Eq`, same hash); debug builds check the hash. Does one rehash step.
    pub fn get_or_insert_with<Q>(
        &mut self,
        k: &Q,
        make_key: impl FnOnce() -> K,
        make_val: impl FnOnce() -> V,
    ) -> (&mut V, bool)
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        let hash = self.hash(k);
        self.prepare_insert(hash, k, true);
        let (slot, t) = match locate(&mut self.tables, hash, k) {
            Ok(n) => return (&mut n.value, false),
            Err(slot) => slot,
        };
        let key = make_key();
        debug_assert!(
            self.hasher.hash_one(&key) == hash && key_eq(&key, k),
            "get_or_insert_with: make_key() returned a different key"
        );
        let node = slot.0.insert(Box::new(Node {
            key,
            value: make_val(),
            next: Link(None),
        }));
        self.used[t] += 1;
        (&mut node.value, true)
    }

    /// Shared front half of the insert paths: one rehash step, then growth
    /// if the load factor calls for it. Growth must happen before the
    /// insert position is found. So when the table is at its growth
    /// threshold and the key might already be present (`check_present`),
    /// look it up first: replacing a value never grows the table.
    fn prepare_insert<Q>(&mut self, hash: u64, k: &Q, check_present: bool)
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        self.rehash_step();
        if self.needs_grow() && !(check_present && self.find_hashed(hash, k).is_some()) {
            self.expand_if_needed();
        }
    }

    /// Removes `k` and returns the stored key and value. Does one rehash
    /// step. Never shrinks: call [`Dict::shrink_if_needed`] afterwards, as
    /// Redis does after deletes from hashes, sets and zsets.
    pub fn remove<Q>(&mut self, k: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let hash = self.hash(k);
        for t in 0..2 {
            let table = &mut self.tables[t];
            if table.is_empty() {
                continue;
            }
            let i = bucket_of(hash, table.len());
            let slot = walk_mut(&mut table[i], k);
            if let Some(mut node) = slot.0.take() {
                slot.0 = node.next.0.take();
                self.used[t] -= 1;
                let Node { key, value, .. } = *node;
                return Some((key, value));
            }
        }
        None
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for Dict<K, V, S> {
    /// Clones the entries with the same bucket layout and rehash state.
    fn clone(&self) -> Self {
        fn clone_table<K: Clone, V: Clone>(src: &[Link<K, V>]) -> Table<K, V> {
            let mut dst = alloc_table(src.len(), false).expect("infallible allocation");
            for (d, s) in dst.iter_mut().zip(src.iter()) {
                let mut tail = d;
                let mut cur = s.0.as_deref();
                while let Some(n) = cur {
                    let node = tail.0.insert(Box::new(Node {
                        key: n.key.clone(),
                        value: n.value.clone(),
                        next: Link(None),
                    }));
                    tail = &mut node.next;
                    cur = n.next.0.as_deref();
                }
            }
            dst
        }
        Dict {
            tables: [clone_table(&self.tables[0]), clone_table(&self.tables[1])],
            used: self.used,
            rehash_idx: self.rehash_idx,
            hasher: self.hasher.clone(),
            expand_allowed: self.expand_allowed,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for Dict<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> Extend<(K, V)> for Dict<K, V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Default> FromIterator<(K, V)> for Dict<K, V, S> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut d = Self::default();
        d.extend(iter);
        d
    }
}

// ---------------------------------------------------------------------------
// Iterators
// ---------------------------------------------------------------------------

type BucketIter<'a, K, V> = Chain<slice::Iter<'a, Link<K, V>>, slice::Iter<'a, Link<K, V>>>;
type BucketIterMut<'a, K, V> =
    Chain<slice::IterMut<'a, Link<K, V>>, slice::IterMut<'a, Link<K, V>>>;
type BucketIntoIter<K, V> = Chain<vec::IntoIter<Link<K, V>>, vec::IntoIter<Link<K, V>>>;

/// Borrowing iterator over a [`Dict`]; see [`Dict::iter`].
pub struct Iter<'a, K, V> {
    buckets: BucketIter<'a, K, V>,
    node: Option<&'a Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.node {
                self.node = n.next.0.as_deref();
                self.remaining -= 1;
                return Some((&n.key, &n.value));
            }
            if self.remaining == 0 {
                return None;
            }
            self.node = self.buckets.next()?.0.as_deref();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            buckets: self.buckets.clone(),
            node: self.node,
            remaining: self.remaining,
        }
    }
}

/// Mutable iterator over a [`Dict`]; see [`Dict::iter_mut`].
pub struct IterMut<'a, K, V> {
    buckets: BucketIterMut<'a, K, V>,
    node: Option<&'a mut Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.node.take() {
                let Node { key, value, next } = n;
                self.node = next.0.as_deref_mut();
                self.remaining -= 1;
                return Some((&*key, value));
            }
            if self.remaining == 0 {
                return None;
            }
            self.node = self.buckets.next()?.0.as_deref_mut();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

/// Owning iterator over the entries of a [`Dict`], from
/// [`Dict::into_iter`](IntoIterator::into_iter) or [`Dict::drain`].
/// Entries it does not yield are dropped with it.
pub struct IntoIter<K, V> {
    buckets: BucketIntoIter<K, V>,
    chain: Link<K, V>,
    remaining: usize,
}

impl<K, V> IntoIter<K, V> {
    fn new([t0, t1]: [Table<K, V>; 2], len: usize) -> Self {
        IntoIter {
            buckets: t0.into_vec().into_iter().chain(t1.into_vec()),
            chain: Link(None),
            remaining: len,
        }
    }
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(mut node) = self.chain.0.take() {
                self.chain.0 = node.next.0.take();
                self.remaining -= 1;
                let Node { key, value, .. } = *node;
                return Some((key, value));
            }
            if self.remaining == 0 {
                return None;
            }
            self.chain = self.buckets.next()?;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for IntoIter<K, V> {}
impl<K, V> FusedIterator for IntoIter<K, V> {}

impl<K, V, S> IntoIterator for Dict<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        let len = self.len();
        IntoIter::new(self.tables, len)
    }
}

impl<'a, K, V, S> IntoIterator for &'a Dict<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a mut Dict<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::{BuildHasherDefault, Hasher};
    use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    // The resize policy is process-global and tests run in parallel. Tests
    // that change it take the write lock (and restore `Enable`); every
    // other test takes the read lock.
    static POLICY_LOCK: RwLock<()> = RwLock::new(());

    fn shared() -> RwLockReadGuard<'static, ()> {
        POLICY_LOCK.read().unwrap_or_else(|e| e.into_inner())
    }

    fn exclusive() -> RwLockWriteGuard<'static, ()> {
        POLICY_LOCK.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Test-local deterministic PRNG, independent of the dict's.
    struct TestRng(u64);
    impl TestRng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Hasher that sends every key to bucket 0.
    #[derive(Default, Clone)]
    struct ZeroHasher;
    impl Hasher for ZeroHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {}
    }
    type ZeroState = BuildHasherDefault<ZeroHasher>;

    /// Checks every structural invariant listed in the module docs.
    fn check_invariants<K: Hash + Eq + fmt::Debug, V, S: BuildHasher>(d: &Dict<K, V, S>) {
        for t in &d.tables {
            assert!(t.is_empty() || (t.len().is_power_of_two() && t.len() >= INITIAL_SIZE));
        }
        if !d.is_rehashing() {
            assert_eq!(d.used[1], 0);
        } else {
            assert!(!d.tables[0].is_empty());
            assert!(d.tables[0][..d.rehash_idx].iter().all(|l| l.0.is_none()));
        }
        let mut keys: HashSet<&K> = HashSet::new();
        for (t, table) in d.tables.iter().enumerate() {
            let mut count = 0;
            for (i, bucket) in table.iter().enumerate() {
                let mut cur = bucket.0.as_deref();
                while let Some(n) = cur {
                    assert_eq!(bucket_of(d.hasher.hash_one(&n.key), table.len()), i);
                    assert!(keys.insert(&n.key), "duplicate key {:?}", n.key);
                    count += 1;
                    cur = n.next.0.as_deref();
                }
            }
            assert_eq!(count, d.used[t], "used[{t}] mismatch");
        }
        assert_eq!(d.iter().count(), d.len());
    }

    #[test]
    fn basic_operations_and_borrowed_lookup() {
        let _g = shared();
        let mut d: Dict<String, i32> = Dict::new();
        assert!(d.is_empty());
        assert_eq!(d.get("a"), None);
        assert_eq!(d.remove("a"), None);
        assert_eq!(d.buckets(), 0);
        assert_eq!(d.mem_usage(), 0);

        assert_eq!(d.insert("a".to_string(), 1), None);
        assert_eq!(d.insert("b".to_string(), 2), None);
        assert_eq!(d.insert("a".to_string(), 10), Some(1));
        assert_eq!(d.len(), 2);
        assert_eq!(d.get("a"), Some(&10));
        assert_eq!(d.get_key_value("b"), Some((&"b".to_string(), &2)));
        assert!(d.contains_key("b"));
        assert!(!d.contains_key("c"));

        *d.get_mut("b").unwrap() += 5;
        assert_eq!(d.get("b"), Some(&7));
        let (k, v) = d.find_mut("b").unwrap();
        assert_eq!(k, "b");
        *v = 8;
        assert_eq!(d.get("b"), Some(&8));
        assert!(d.get_mut("zz").is_none());

        *d.insert_new("c".to_string(), 3) += 1;
        assert_eq!(d.get("c"), Some(&4));

        let mut made = 0;
        let (v, inserted) = d.get_or_insert_with(
            "d",
            || {
                made += 1;
                "d".to_string()
            },
            || 40,
        );
        assert!(inserted);
        *v += 2;
        let (v, inserted) = d.get_or_insert_with("d", || unreachable!(), || unreachable!());
        assert!(!inserted);
        assert_eq!(*v, 42);
        assert_eq!(made, 1);

        assert_eq!(d.remove("a"), Some(("a".to_string(), 10)));
        assert_eq!(d.remove("a"), None);
        assert_eq!(d.len(), 3);
        assert_eq!(d.buckets(), 4);
        assert_eq!(
            d.mem_usage(),
            4 * mem::size_of::<usize>() + 3 * mem::size_of::<Node<String, i32>>()
        );
        check_invariants(&d);

        // Byte-string keys looked up by slice.
        let mut b: Dict<Box<[u8]>, ()> = Dict::default();
        b.insert(Box::from(&b"key"[..]), ());
        assert!(b.contains_key(&b"key"[..]));
        assert!(b.remove(&b"key"[..]).is_some());

        d.clear();
        assert!(d.is_empty());
        assert_eq!(d.buckets(), 0);
        d.insert("x".into(), 1);
        assert_eq!(d.get("x"), Some(&1));
    }

    #[test]
    fn bucket_is_one_pointer() {
        assert_eq!(mem::size_of::<Link<String, u64>>(), mem::size_of::<usize>());
        assert_eq!(mem::size_of::<Link<u64, u64>>(), mem::size_of::<usize>());
    }

    #[test]
    fn growth_doubles_at_load_factor_one() {
        let _g = shared();
        let mut d: Dict<u64, u64> = Dict::new();
        for i in 0..4 {
            d.insert(i, i);
        }
        assert_eq!(d.buckets(), 4);
        assert!(!d.is_rehashing());
        // Replacing at the threshold does not grow.
        assert_eq!(d.insert(3, 30), Some(3));
        assert_eq!(d.get_or_insert_with(&2, || 2, || 0), (&mut 2, false));
        assert_eq!(d.buckets(), 4);
        d.insert(4, 4); // used (4) >= size (4): grow to 8
        assert_eq!(
            d.tables[0].len() + d.tables[1].len(),
            if d.is_rehashing() { 12 } else { 8 }
        );
        while d.rehash_steps(1) {}
        assert_eq!(d.buckets(), 8);
        check_invariants(&d);
    }

    #[test]
    fn alloc_table_is_all_empty_and_free_empty_table_works() {
        let t: Table<String, String> = alloc_table(1 << 12, false).unwrap();
        assert_eq!(t.len(), 1 << 12);
        assert!(t.iter().all(|l| l.0.is_none()));
        free_empty_table(t);
        let t: Table<String, String> = alloc_table(0, false).unwrap();
        assert!(t.is_empty());
        free_empty_table(t);
        // A table that could never be allocated fails cleanly when fallible.
        assert!(alloc_table::<u8, u8>(usize::MAX / 4, true).is_none());
    }

    #[test]
    fn expand_rules() {
        let _g = shared();
        let mut d: Dict<u64, u64> = Dict::with_capacity(1000);
        assert_eq!(d.buckets(), 1024);
        assert!(!d.is_rehashing());
        assert!(!d.expand(1000), "same size is a no-op");
        assert!(d.expand(10), "empty dict resizes at once");
        assert_eq!(d.buckets(), 16);
        for i in 0..10 {
            d.insert(i, i);
        }
        assert!(!d.expand(5), "smaller than len");
        assert!(d.expand(100));
        assert!(d.is_rehashing());
        assert!(!d.expand(1000), "already rehashing");
        assert!(!d.expand(usize::MAX), "overflow");
        while d.rehash_steps(1) {}
        assert_eq!(d.buckets(), 128);
        check_invariants(&d);
        // Allocation failure (absurd size) reports false, dict unchanged.
        assert!(!d.expand(usize::MAX / 4));
        assert_eq!(d.buckets(), 128);
    }

    #[test]
    fn model_check_against_hashmap_across_grow_and_shrink_cycles() {
        let _g = shared();
        let mut rng = TestRng(7);
        let mut d: Dict<u64, u64> = Dict::new();
        let mut m: HashMap<u64, u64> = HashMap::new();
        let (mut ops_while_rehashing, mut grows, mut shrinks) = (0u64, 0, 0);
        for cycle in 0..6 {
            let target = [5_000u64, 40_000, 300, 20_000, 64, 9_000][cycle];
            let key_space = target * 2;
            // Grow phase: mostly inserts.
            while (m.len() as u64) < target {
                let k = rng.below(key_space);
                let was_rehashing = d.is_rehashing();
                let before = d.buckets();
                match rng.below(10) {
                    0..=5 => assert_eq!(d.insert(k, k ^ 1), m.insert(k, k ^ 1)),
                    6 => {
                        let (v, ins) = d.get_or_insert_with(&k, || k, || 7);
                        assert_eq!(ins, !m.contains_key(&k));
                        *v += 1;
                        *m.entry(k).or_insert(7) += 1;
                    }
                    7 => {
                        if let std::collections::hash_map::Entry::Vacant(e) = m.entry(k) {
                            d.insert_new(k, 3);
                            e.insert(3);
                        }
                    }
                    8 => assert_eq!(d.remove(&k), m.remove_entry(&k)),
                    _ => assert_eq!(d.get_mut(&k).copied(), m.get(&k).copied()),
                }
                if d.buckets() > before && !was_rehashing {
                    grows += 1;
                }
                ops_while_rehashing += d.is_rehashing() as u64;
                assert_eq!(d.len(), m.len());
                assert_eq!(d.get(&k), m.get(&k));
            }
            check_invariants(&d);
            // Shrink phase: mostly deletes, with the cron's shrink and
            // active rehashing mixed in.
            let floor = target / 50;
            let mut live = m.keys().copied().collect::<Vec<_>>().into_iter();
            while (m.len() as u64) > floor {
                let k = rng.below(key_space);
                match rng.below(10) {
                    0..=6 => {
                        let k = live.next().unwrap();
                        assert_eq!(d.remove(&k), m.remove_entry(&k));
                        assert_eq!(d.remove(&k), None);
                    }
                    7 => assert_eq!(d.get(&k), m.get(&k)),
                    8 => {
                        if d.shrink_if_needed() {
                            shrinks += 1;
                        }
                    }
                    _ => {
                        d.rehash_steps(rng.below(4) as usize);
                    }
                }
                ops_while_rehashing += d.is_rehashing() as u64;
                assert_eq!(d.len(), m.len());
            }
            check_invariants(&d);
            let mut got: Vec<_> = d.iter().map(|(k, v)| (*k, *v)).collect();
            let mut want: Vec<_> = m.iter().map(|(k, v)| (*k, *v)).collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want);
        }
        assert!(grows > 20, "grows: {grows}");
        assert!(shrinks > 3, "shrinks: {shrinks}");
        assert!(ops_while_rehashing > 1000, "{ops_while_rehashing}");
        // Shrinking all the way down to empty.
        let keys: Vec<u64> = m.keys().copied().collect();
        for k in keys {
            assert!(d.remove(&k).is_some());
            d.shrink_if_needed();
        }
        while d.rehash_steps(10) {}
        d.shrink_if_needed();
        assert!(d.is_empty());
        assert_eq!(d.buckets(), INITIAL_SIZE);
        check_invariants(&d);
    }

    #[test]
    fn degenerate_hasher_still_correct() {
        let _g = shared();
        let mut d: Dict<u32, u32, ZeroState> = Dict::default();
        for i in 0..2_000 {
            assert_eq!(d.insert(i, i), None);
        }
        for i in 0..2_000 {
            assert_eq!(d.get(&i), Some(&i));
        }
        for i in (0..2_000).step_by(2) {
            assert_eq!(d.remove(&i), Some((i, i)));
        }
        while d.rehash_steps(1) {}
        assert_eq!(d.len(), 1_000);
        assert!(d.get(&3).is_some() && d.get(&4).is_none());
        check_invariants(&d);
        let seen: HashSet<u32> = d.keys().copied().collect();
        assert_eq!(seen.len(), 1_000);
    }

    #[test]
    fn long_chain_drop_clone_and_drain_do_not_overflow_stack() {
        let _g = shared();
        const N: u32 = 1_000_000;
        // Build one chain of N nodes directly: inserting through a
        // degenerate hasher would take quadratic time.
        let build = || {
            let mut d: Dict<u32, u32, ZeroState> = Dict::default();
            d.expand(4);
            let head = &mut d.tables[0][0];
            for i in 0..N {
                let next = Link(head.0.take());
                head.0 = Some(Box::new(Node {
                    key: i,
                    value: i,
                    next,
                }));
            }
            d.used[0] = N as usize;
            d
        };
        let d = build();
        assert_eq!(d.iter().count(), N as usize);
        let c = d.clone();
        assert_eq!(c.len(), N as usize);
        assert_eq!(c.iter().next(), Some((&(N - 1), &(N - 1))));
        drop(c);
        drop(d);

        let mut d = build();
        let mut it = d.drain();
        assert_eq!(it.next(), Some((N - 1, N - 1)));
        drop(it); // Drops the rest of the chain.
        assert!(d.is_empty());

        let d = build();
        assert_eq!(d.into_iter().take(3).count(), 3);

        let mut d = build();
        d.clear();
        assert!(d.is_empty());

        let mut d = build();
        d.retain(|k, _| k % 2 == 0);
        assert_eq!(d.len(), N as usize / 2);
    }

    /// Scans to completion, calling `between` after every step.
    fn full_scan<S: BuildHasher>(
        d: &mut Dict<u64, u64, S>,
        mut between: impl FnMut(&mut Dict<u64, u64, S>),
    ) -> Vec<u64> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, _| seen.push(*k));
            if cursor == 0 {
                return seen;
            }
            between(d);
        }
    }

    #[test]
    fn scan_without_changes_returns_each_entry_exactly_once() {
        let _g = shared();
        for n in [0u64, 1, 3, 4, 5, 100, 1000, 4097] {
            let mut d: Dict<u64, u64> = Dict::new();
            for i in 0..n {
                d.insert(i, i);
            }
            while d.rehash_steps(100) {}
            let mut seen = full_scan(&mut d, |_| {});
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
        // Frozen in the middle of a rehash (both grow and shrink): every
        // entry is still returned.
        for (fill, target) in [(1000u64, 1 << 14), (1000, 1024)] {
            let mut d: Dict<u64, u64> = Dict::new();
            for i in 0..fill * 40 {
                d.insert(i, i);
            }
            while d.rehash_steps(100) {}
            for i in fill..fill * 40 {
                d.remove(&i);
            }
            while d.rehash_steps(100) {}
            assert!(d.expand(target));
            d.rehash_steps(300);
            assert!(d.is_rehashing());
            let seen: HashSet<u64> = full_scan(&mut d, |_| {}).into_iter().collect();
            assert_eq!(seen.len(), fill as usize);
        }
    }

    #[test]
    fn scan_guarantee_holds_across_grows_and_shrinks_mid_scan() {
        let _g = shared();
        let (mut grows, mut shrinks, mut steps_rehashing) = (0, 0, 0);
        for seed in 0..24u64 {
            let mut rng = TestRng(seed);
            let mut d: Dict<u64, u64> = Dict::new();
            let stable = 300u64;
            for k in 0..stable {
                d.insert(k, k);
            }
            // Volatile keys live at 1_000_000.. and come and go in bursts
            // between scan calls, growing the table up to ~32x and
            // shrinking it back.
            let mut volatile: Vec<u64> = Vec::new();
            let mut next_volatile = 1_000_000u64;
            let seen: HashSet<u64> = full_scan(&mut d, |d| {
                let buckets = d.buckets();
                match rng.below(16) {
                    0 if volatile.len() < 8_000 => {
                        for _ in 0..rng.below(3_000) {
                            d.insert(next_volatile, 0);
                            volatile.push(next_volatile);
                            next_volatile += 1;
                        }
                    }
                    1 => {
                        let n = rng.below(volatile.len() as u64 + 1) as usize;
                        for k in volatile.drain(..n) {
                            assert!(d.remove(&k).is_some());
                        }
                        if d.shrink_if_needed() {
                            shrinks += 1;
                        }
                    }
                    2 => {
                        d.rehash_steps(rng.below(50) as usize);
                    }
                    _ => {}
                }
                if d.buckets() > buckets {
                    grows += 1;
                }
                steps_rehashing += d.is_rehashing() as u32;
            })
            .into_iter()
            .collect();
            for k in 0..stable {
                assert!(seen.contains(&k), "seed {seed}: stable key {k} missed");
            }
            check_invariants(&d);
        }
        eprintln!("scan test: grows {grows} shrinks {shrinks} rehashing steps {steps_rehashing}");
        assert!(grows > 50, "grows {grows}");
        assert!(shrinks > 20, "shrinks {shrinks}");
        assert!(steps_rehashing > 100, "{steps_rehashing}");
    }

    #[test]
    fn scan_mut_updates_values() {
        let _g = shared();
        let mut d: Dict<u64, u64> = (0..500).map(|i| (i, i)).collect();
        let mut cursor = 0;
        loop {
            cursor = d.scan_mut(cursor, |_, v| *v += 1000);
            if cursor == 0 {
                break;
            }
        }
        assert!(d.iter().all(|(k, v)| *v == *k + 1000));
    }

    /// Puts `d` in the middle of a grow or a shrink.
    fn dict_in_state(state: usize, n: u64) -> Dict<u64, u64> {
        let mut d: Dict<u64, u64> = Dict::new();
        match state {
            0 => {
                for i in 0..n {
                    d.insert(i, i);
                }
                while d.rehash_steps(100) {}
            }
            1 => {
                for i in 0..n {
                    d.insert(i, i);
                }
                while d.rehash_steps(100) {}
                assert!(d.expand(n as usize * 64));
                d.rehash_steps(n as usize / 4);
            }
            _ => {
                for i in 0..n * 30 {
                    d.insert(i, i);
                }
                while d.rehash_steps(100) {}
                for i in n..n * 30 {
                    d.remove(&i);
                }
                while d.rehash_steps(100) {}
                assert!(d.shrink_if_needed());
                d.rehash_steps(n as usize);
            }
        }
        assert_eq!(d.is_rehashing(), state != 0);
        assert_eq!(d.len(), n as usize);
        d
    }

    #[test]
    fn random_and_sample_return_present_entries_and_cover_all() {
        let _g = shared();
        set_seed(12345);
        for state in 0..3 {
            let n = 100u64;
            let d = dict_in_state(state, n);
            let mut by_random = HashSet::new();
            let mut by_fair = HashSet::new();
            let mut by_sample = HashSet::new();
            for _ in 0..20_000 {
                let (k, v) = d.random_entry().unwrap();
                assert!(*k < n && k == v);
                by_random.insert(*k);
                let (k, _) = d.fair_random_entry().unwrap();
                assert!(*k < n);
                by_fair.insert(*k);
                let mut batch = Vec::new();
                let got = d.sample(5, |k, _| batch.push(*k));
                assert_eq!(got, batch.len());
                assert!(got <= 5);
                by_sample.extend(batch.into_iter().inspect(|k| assert!(*k < n)));
            }
            assert_eq!(by_random.len(), n as usize, "state {state}");
            assert_eq!(by_fair.len(), n as usize, "state {state}");
            assert_eq!(by_sample.len(), n as usize, "state {state}");
            // Bigger than the stack buffer, and bigger than len.
            let mut big = HashSet::new();
            let got = d.sample(1000, |k, _| {
                assert!(*k < n);
                big.insert(*k);
            });
            assert!(got <= n as usize && big.len() <= got);
        }
        let empty: Dict<u64, u64> = Dict::new();
        assert!(empty.random_entry().is_none());
        assert!(empty.fair_random_entry().is_none());
        assert_eq!(empty.sample(10, |_, _| panic!()), 0);
        // A single entry in a big sparse table is still found.
        let mut one: Dict<u64, u64> = Dict::with_capacity(1 << 12);
        one.insert(9, 9);
        assert_eq!(one.random_entry(), Some((&9, &9)));
        assert_eq!(one.fair_random_entry(), Some((&9, &9)));
    }

    #[test]
    fn sampling_reaches_the_tail_of_a_long_chain() {
        let _g = shared();
        let mut d: Dict<u32, u32, ZeroState> = Dict::default();
        for i in 0..200 {
            d.insert(i, i);
        }
        while d.rehash_steps(100) {}
        let mut seen = HashSet::new();
        for _ in 0..5_000 {
            d.sample(3, |k, _| {
                seen.insert(*k);
            });
            seen.insert(*d.random_entry().unwrap().0);
        }
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn resize_policy_avoid_and_forbid() {
        let _g = exclusive();
        // Associated functions resolve without type annotations.
        Dict::set_resize_allowed(false);
        assert_eq!(resize_policy(), ResizePolicy::Avoid);

        // Avoid: no growth until len / buckets > 5.
        let mut d: Dict<u64, u64> = Dict::new();
        for i in 0..24 {
            d.insert(i, i);
        }
        assert_eq!(d.buckets(), 4, "grew before ratio 5");
        d.insert(24, 24); // 24 / 4 = 6 > 5: forced growth to 32
        assert!(d.buckets() > 4);
        // Ratio 8 is large enough for the rehash to proceed under Avoid.
        while d.rehash_steps(1) {}
        assert_eq!(d.buckets(), 32);
        assert!(!d.shrink_if_needed());
        check_invariants(&d);

        // Avoid pauses a rehash whose tables differ by less than 5x.
        set_resize_allowed(true);
        let mut d: Dict<u64, u64> = Dict::new();
        for i in 0..5 {
            d.insert(i, i); // the 5th insert starts growing 4 -> 8
        }
        assert!(d.is_rehashing());
        set_resize_allowed(false);
        assert!(!d.rehash_steps(100));
        d.insert(100, 100);
        d.remove(&0);
        assert!(d.is_rehashing());
        assert_eq!(d.rehash_for(Duration::from_millis(1)), 0);
        check_invariants(&d);
        set_resize_allowed(true);
        while d.rehash_steps(1) {}
        assert!(!d.is_rehashing());

        // Forbid: never grow or rehash, even past ratio 5.
        Dict::set_resize_policy(ResizePolicy::Forbid);
        let mut d: Dict<u64, u64> = Dict::new();
        for i in 0..100 {
            d.insert(i, i);
        }
        assert_eq!(d.buckets(), 4);
        assert!((0..100).all(|i| d.get(&i) == Some(&i)));
        set_resize_policy(ResizePolicy::Enable);
        d.insert(100, 100);
        assert!(d.is_rehashing());
        set_resize_policy(ResizePolicy::Forbid);
        assert!(!d.rehash_steps(10));
        set_resize_policy(ResizePolicy::Enable);
        assert!(d.rehash_for(Duration::from_secs(1)) > 0);
        assert!(!d.is_rehashing());
        check_invariants(&d);
    }

    #[test]
    fn stats_text_matches_redis_format() {
        let _g = shared();
        let d: Dict<u32, u32, ZeroState> = Dict::default();
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        );
        let mut d: Dict<u32, u32, ZeroState> = Dict::default();
        for i in 0..3 {
            d.insert(i, i);
        }
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\n table size: 4\n number of elements: 3\n \
             different slots: 1\n max chain length: 3\n avg chain length (counted): 3.00\n \
             avg chain length (computed): 3.00\n Chain length distribution:\n   \
             0: 3 (75.00%)\n   3: 1 (25.00%)\n"
        );
        d.insert(3, 3);
        d.insert(4, 4); // starts a grow to 8
        assert!(d.is_rehashing());
        let s = d.stats();
        assert!(s.starts_with("Hash table 0 stats (main hash table):\n table size: 4\n"));
        assert!(s.contains("Hash table 1 stats (rehashing target):\n table size: 8\n"));

        let mut d: Dict<u64, u64> = (0..1000).map(|i| (i, i)).collect();
        while d.rehash_steps(100) {}
        let s = d.stats();
        assert!(s.contains(" table size: 1024\n number of elements: 1000\n"));
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[7], " Chain length distribution:");
        assert!(lines[8].starts_with("   0: "));
        let counted: usize = lines[8..]
            .iter()
            .map(|l| {
                l.trim()
                    .split(':')
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
            })
            .map(|n| n.unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(counted, 1024);
    }

    #[test]
    fn iterators_cover_both_tables() {
        let _g = shared();
        for state in 0..3 {
            let mut d = dict_in_state(state, 300);
            let want: Vec<u64> = (0..300).collect();
            let mut keys: Vec<u64> = d.keys().copied().collect();
            keys.sort_unstable();
            assert_eq!(keys, want);
            assert_eq!(d.iter().len(), 300);
            assert_eq!(d.values().count(), 300);
            for (k, v) in d.iter_mut() {
                *v = k * 2;
            }
            for (k, v) in &mut d {
                *v += k;
            }
            assert!((&d).into_iter().all(|(k, v)| *v == k * 3));
            let c = d.clone();
            assert_eq!(c.is_rehashing(), d.is_rehashing());
            check_invariants(&c);
            assert!(c.iter().all(|(k, v)| d.get(k) == Some(v)));
            let mut all: Vec<(u64, u64)> = d.drain().collect();
            all.sort_unstable();
            assert_eq!(all, (0..300).map(|k| (k, k * 3)).collect::<Vec<_>>());
            assert!(d.is_empty() && d.buckets() == 0);
            let mut sum = 0;
            for (k, _) in c {
                sum += k;
            }
            assert_eq!(sum, 299 * 300 / 2);
        }
        let d: Dict<u8, u8> = Dict::new();
        assert_eq!(d.iter().next(), None);
        assert_eq!(format!("{d:?}"), "{}");
    }

    #[test]
    fn retain_keeps_counts_right_while_rehashing() {
        let _g = shared();
        for state in 0..3 {
            let mut d = dict_in_state(state, 1000);
            d.retain(|k, v| {
                *v += 1;
                k % 3 == 0
            });
            assert_eq!(d.len(), 334);
            assert!(d.iter().all(|(k, v)| k % 3 == 0 && *v == k + 1));
            check_invariants(&d);
            while d.rehash_steps(10) {}
            check_invariants(&d);
        }
    }

    #[test]
    fn rehash_for_finishes_a_big_rehash() {
        let _g = shared();
        let mut d: Dict<u64, u64> = (0..100_000).map(|i| (i, i)).collect();
        while d.rehash_steps(1000) {}
        assert!(d.expand(1 << 20));
        let mut total = 0;
        while d.is_rehashing() {
            total += d.rehash_for(Duration::from_millis(1));
        }
        assert!(total > 0);
        assert_eq!(d.buckets(), 1 << 20);
        check_invariants(&d);
    }

    /// Sanity check, not an assertion: no single insert should pause for
    /// long while growing to 2M keys. Prints the worst insert latency. Runs
    /// only in optimized builds without debug assertions
    /// (`cargo test --release -- --nocapture`).
    #[test]
    fn timing_sanity_no_long_pause_while_growing() {
        if cfg!(debug_assertions) {
            eprintln!("timing_sanity skipped in debug builds");
            return;
        }
        let _g = shared();
        let n = 2_000_000u64;
        let mut d: Dict<u64, u64> = Dict::new();
        let mut worst = Duration::ZERO;
        let mut over_1ms = 0;
        let start = Instant::now();
        for i in 0..n {
            let t = Instant::now();
            d.insert(i, i);
            let e = t.elapsed();
            if e > Duration::from_millis(1) {
                over_1ms += 1;
                if std::env::var_os("DICT_TIMING_VERBOSE").is_some() {
                    eprintln!(
                        "slow insert #{i}: {e:?} buckets {} rehashing {}",
                        d.buckets(),
                        d.is_rehashing()
                    );
                }
            }
            worst = worst.max(e);
        }
        eprintln!(
            "timing_sanity: {n} inserts in {:?}, worst single insert {:?}, {over_1ms} over 1ms, \
             buckets {}",
            start.elapsed(),
            worst,
            d.buckets()
        );
    }
}
