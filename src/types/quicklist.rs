//! Redis's quicklist: the one list encoding of Redis 7.0. A list is a sequence of nodes, each a
//! listpack of a few elements (PACKED) or a single large element stored as is (PLAIN).
//!
//! - `fill` (`list-max-listpack-size`) bounds a packed node: negative values -1..-5 are byte
//!   limits of 4, 8, 16, 32 or 64 KiB, positive values an entry count (with an 8 KiB safety
//!   limit on bytes).
//! - `depth` (`list-compress-depth`) keeps that many nodes at each end uncompressed and LZF
//!   compresses the nodes in between, when compression saves enough (at least 48 bytes of
//!   input and 8 bytes saved, as `__quicklistCompressNode` requires).
//! - Elements of at least the packed threshold (1 GiB by default, `DEBUG
//!   QUICKLIST-PACKED-THRESHOLD`) get a PLAIN node of their own.
//!
//! Insertion, split and merge follow quicklist.c's `_quicklistInsert`, `_quicklistSplitNode`
//! and `_quicklistMergeNodes`, so the node layout (and so `DEBUG OBJECT`'s `ql_nodes` and the
//! RDB image) matches Redis's. Nodes live in a `VecDeque`; index lookups skip whole nodes.
//! Both fill and depth are fixed when the list is created, as in Redis.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::listpack::{Listpack, LpValue};
use crate::persistence::rdb::{bad, RdbReader, RdbWriter};

/// Byte limits of packed nodes for fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest packed node when the fill is an entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Per-entry overhead estimate used when checking whether an element fits.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Nodes smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save at least this many bytes to be kept.
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Default packed threshold (1 GiB).
pub const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// RDB node containers (`QUICKLIST_NODE_CONTAINER_*`).
pub const CONTAINER_PLAIN: u64 = 1;
pub const CONTAINER_PACKED: u64 = 2;

static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);

/// Set the size from which elements get PLAIN nodes (`quicklistisSetPackedThreshold`); 0
/// restores the default. False (nothing changed) above 4 GiB minus 1 MiB.
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        sz as usize
    };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

#[inline]
fn is_large(sz: usize) -> bool {
    sz >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

#[derive(Clone, Debug)]
enum Body {
    Packed(Listpack),
    Plain(Box<[u8]>),
    /// LZF-compressed listpack or plain element (`sz` of the node is the raw size).
    Lzf {
        data: Box<[u8]>,
        plain: bool,
    },
}

#[derive(Clone, Debug)]
struct Node {
    body: Body,
    count: usize,
    /// Uncompressed size in bytes (listpack bytes, or the plain element's length).
    sz: usize,
}

/// A read-only view of a node's contents.
enum View<'a> {
    Packed(Cow<'a, Listpack>),
    Plain(Cow<'a, [u8]>),
}

impl Node {
    fn packed(lp: Listpack) -> Node {
        Node {
            count: lp.len(),
            sz: lp.bytes_len(),
            body: Body::Packed(lp),
        }
    }

    fn plain(v: &[u8]) -> Node {
        Node {
            count: 1,
            sz: v.len(),
            body: Body::Plain(v.into()),
        }
    }

    fn is_plain(&self) -> bool {
        matches!(self.body, Body::Plain(_) | Body::Lzf { plain: true, .. })
    }

    fn is_compressed(&self) -> bool {
        matches!(self.body, Body::Lzf { .. })
    }

    /// Decompress in place (a no-op for raw nodes).
    fn decompress(&mut self) {
        if let Body::Lzf { data, plain } = &self.body {
            let raw =
                crate::util::lzf::decompress(data, self.sz).expect("quicklist node decompresses");
            self.body = if *plain {
                Body::Plain(raw.into_boxed_slice())
            } else {
                Body::Packed(Listpack::from_bytes(raw))
            };
        }
    }

    /// Try to compress in place (`__quicklistCompressNode`).
    fn compress(&mut self) {
        if self.sz < MIN_COMPRESS_BYTES {
            return;
        }
        let (raw, plain): (&[u8], bool) = match &self.body {
            Body::Packed(lp) => (lp.as_bytes(), false),
            Body::Plain(b) => (b, true),
            Body::Lzf { .. } => return,
        };
        if let Some(c) = crate::util::lzf::compress(raw, self.sz) {
            if c.len() + MIN_COMPRESS_IMPROVE < self.sz {
                self.body = Body::Lzf {
                    data: c.into_boxed_slice(),
                    plain,
                };
            }
        }
    }

    fn view(&self) -> View<'_> {
        match &self.body {
            Body::Packed(lp) => View::Packed(Cow::Borrowed(lp)),
            Body::Plain(b) => View::Plain(Cow::Borrowed(b)),
            Body::Lzf { data, plain } => {
                let raw = crate::util::lzf::decompress(data, self.sz)
                    .expect("quicklist node decompresses");
                if *plain {
                    View::Plain(Cow::Owned(raw))
                } else {
                    View::Packed(Cow::Owned(Listpack::from_bytes(raw)))
                }
            }
        }
    }

    /// The listpack of a raw packed node.
    fn lp_mut(&mut self) -> &mut Listpack {
        self.decompress();
        match &mut self.body {
            Body::Packed(lp) => lp,
            _ => unreachable!("not a packed node"),
        }
    }

    fn update_sz(&mut self) {
        if let Body::Packed(lp) = &self.body {
            self.sz = lp.bytes_len();
            self.count = lp.len();
        }
    }
}

/// Does a packed node of `sz` bytes meet the byte limit of a negative fill?
fn meets_optimization(sz: usize, fill: i32) -> bool {
    if fill >= 0 {
        return false;
    }
    OPTIMIZATION_LEVEL
        .get((-fill - 1) as usize)
        .is_some_and(|&lim| sz <= lim)
}

/// Would an element of `sz` bytes fit in `node` (`_quicklistNodeAllowInsert`)?
fn allow_insert(node: Option<&Node>, fill: i32, sz: usize) -> bool {
    let Some(node) = node else { return false };
    if node.is_plain() || is_large(sz) {
        return false;
    }
    let new_sz = node.sz + sz + SIZE_ESTIMATE_OVERHEAD;
    if meets_optimization(new_sz, fill) {
        true
    } else if new_sz > SIZE_SAFETY_LIMIT {
        false
    } else {
        (node.count as i64) < fill as i64
    }
}

/// May two neighbouring nodes merge (`_quicklistNodeAllowMerge`)?
fn allow_merge(a: Option<&Node>, b: Option<&Node>, fill: i32) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    if a.is_plain() || b.is_plain() {
        return false;
    }
    let merge_sz = (a.sz + b.sz).saturating_sub(11);
    if meets_optimization(merge_sz, fill) {
        true
    } else if merge_sz > SIZE_SAFETY_LIMIT {
        false
    } else {
        ((a.count + b.count) as i64) <= fill as i64
    }
}

/// A list.
#[derive(Clone, Debug)]
pub struct Quicklist {
    nodes: VecDeque<Node>,
    count: usize,
    fill: i32,
    depth: usize,
}

impl Quicklist {
    /// An empty list with `list-max-listpack-size` `fill` and `list-compress-depth` `depth`.
    pub fn new(fill: i64, depth: i64) -> Quicklist {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: fill.clamp(-5, (1 << 15) - 1) as i32,
            depth: depth.clamp(0, (1 << 16) - 1) as usize,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The fill factor (`ql_listpack_max`).
    pub fn fill(&self) -> i32 {
        self.fill
    }

    /// The compress depth.
    pub fn compress_depth(&self) -> usize {
        self.depth
    }

    /// Sum of the nodes' uncompressed sizes (`ql_uncompressed_size`).
    pub fn uncompressed_size(&self) -> usize {
        self.nodes.iter().map(|n| n.sz).sum()
    }

    /// Number of nodes currently compressed.
    #[cfg(test)]
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_compressed()).count()
    }

    /// Approximate heap bytes, for MEMORY USAGE.
    #[allow(dead_code)] // for MEMORY USAGE
    pub fn mem_usage(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| {
                std::mem::size_of::<Node>()
                    + match &n.body {
                        Body::Packed(lp) => lp.bytes_len(),
                        Body::Plain(b) => b.len(),
                        Body::Lzf { data, .. } => data.len(),
                    }
            })
            .sum()
    }

    // -- compression ------------------------------------------------------------------------

    /// Restore the compression invariant after a change touching nodes `lo..=hi`: the `depth`
    /// nodes at each end raw, the touched nodes and the first node past each end zone
    /// compressed (`__quicklistCompress`).
    fn settle(&mut self, lo: usize, hi: usize) {
        let d = self.depth;
        let n = self.nodes.len();
        if d == 0 || n == 0 {
            return;
        }
        for i in (0..d.min(n)).chain(n.saturating_sub(d)..n) {
            self.nodes[i].decompress();
        }
        if n <= 2 * d {
            return;
        }
        let mid = d..n - d;
        for i in [d, n - d - 1].into_iter().chain(lo..=hi.min(n - 1)) {
            if mid.contains(&i) && !self.nodes[i].is_compressed() {
                self.nodes[i].compress();
            }
        }
    }

    // -- lookup -----------------------------------------------------------------------------

    /// Node index and offset inside it of element `index` (< len), walking from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.count);
        if index < self.count / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                if index < acc + n.count {
                    return (i, index - acc);
                }
                acc += n.count;
            }
        } else {
            let mut acc = self.count;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                acc -= n.count;
                if index >= acc {
                    return (i, index - acc);
                }
            }
        }
        unreachable!("index within count")
    }

    /// Resolve a Redis index (negative from the tail) to a position, if in range.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let n = self.count as i64;
        let i = if index < 0 { index + n } else { index };
        (0..n).contains(&i).then_some(i as usize)
    }

    /// Call `f` with element `index` (negative counts from the tail), if in range.
    pub fn with_index<R>(&self, index: i64, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let i = self.resolve(index)?;
        let (ni, off) = self.locate(i);
        Some(match self.nodes[ni].view() {
            View::Plain(b) => f(LpValue::Str(&b)),
            View::Packed(lp) => f(lp.get_index(off as i64).expect("offset within node")),
        })
    }

    /// Visit elements from position `start` (< len) towards the tail (or the head when `rev`),
    /// while `f` returns true.
    pub fn visit(&self, start: usize, rev: bool, mut f: impl FnMut(LpValue<'_>) -> bool) {
        if start >= self.count {
            return;
        }
        let (mut ni, off) = self.locate(start);
        let mut first = Some(off);
        loop {
            let node = &self.nodes[ni];
            let go_on = match node.view() {
                View::Plain(b) => f(LpValue::Str(&b)),
                View::Packed(lp) => {
                    let skip = first.unwrap_or(if rev { node.count - 1 } else { 0 });
                    let mut go = true;
                    if rev {
                        for v in lp.iter().rev().skip(node.count - 1 - skip) {
                            if !f(v) {
                                go = false;
                                break;
                            }
                        }
                    } else {
                        for v in lp.iter().skip(skip) {
                            if !f(v) {
                                go = false;
                                break;
                            }
                        }
                    }
                    go
                }
            };
            first = None;
            if !go_on {
                return;
            }
            if rev {
                if ni == 0 {
                    return;
                }
                ni -= 1;
            } else {
                ni += 1;
                if ni == self.nodes.len() {
                    return;
                }
            }
        }
    }

    /// Every element front to back as owned byte strings (tests).
    #[cfg(test)]
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.count);
        self.visit(0, false, |v| {
            out.push(v.to_vec());
            true
        });
        out
    }

    // -- push / pop -------------------------------------------------------------------------

    /// Insert a node at `at`, then settle compression around it.
    fn insert_node(&mut self, at: usize, node: Node) {
        self.count += node.count;
        self.nodes.insert(at, node);
        let lo = at.saturating_sub(1);
        self.settle(lo, at + 1);
    }

    /// Push at the head or the tail (`quicklistPush`).
    pub fn push(&mut self, v: &[u8], tail: bool) {
        let sz = v.len();
        if is_large(sz) {
            let at = if tail { self.nodes.len() } else { 0 };
            self.insert_node(at, Node::plain(v));
            return;
        }
        let end = if tail {
            self.nodes.len().checked_sub(1)
        } else {
            Some(0)
        }
        .filter(|_| !self.nodes.is_empty());
        match end {
            Some(i) if allow_insert(self.nodes.get(i), self.fill, sz) => {
                let node = &mut self.nodes[i];
                let lp = node.lp_mut();
                if tail {
                    lp.append(v);
                } else {
                    lp.prepend(v);
                }
                node.update_sz();
                self.count += 1;
            }
            _ => {
                let mut lp = Listpack::new();
                lp.append(v);
                let at = if tail { self.nodes.len() } else { 0 };
                self.insert_node(at, Node::packed(lp));
            }
        }
    }

    /// Remove the node at `i`, settling compression (`__quicklistDelNode`).
    fn remove_node(&mut self, i: usize) {
        let n = self.nodes.remove(i).expect("node index");
        self.count -= n.count;
        self.settle(i, i.saturating_sub(1));
    }

    /// Pop from the head or the tail.
    pub fn pop(&mut self, tail: bool) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let ni = if tail { self.nodes.len() - 1 } else { 0 };
        let node = &mut self.nodes[ni];
        if node.is_plain() {
            node.decompress();
            let Body::Plain(b) = std::mem::replace(&mut node.body, Body::Plain(Box::default()))
            else {
                unreachable!("plain node")
            };
            self.remove_node(ni);
            return Some(b.into_vec());
        }
        let lp = node.lp_mut();
        let pos = if tail { lp.last() } else { lp.first() }.expect("nodes are never empty");
        let v = lp.get(pos).to_vec();
        lp.delete(pos);
        node.update_sz();
        self.count -= 1;
        if node.count == 0 {
            self.nodes.remove(ni);
            self.settle(ni, ni.saturating_sub(1));
        }
        Some(v)
    }

    // -- insertion in the middle ------------------------------------------------------------

    /// Split node `ni` at `off` (`_quicklistSplitNode`): with `after` the node keeps
    /// `[0, off]` and the returned node has the rest; otherwise the returned node has
    /// `[0, off)` and the node keeps the rest.
    fn split_node(&mut self, ni: usize, off: usize, after: bool) -> Node {
        let node = &mut self.nodes[ni];
        let lp = node.lp_mut();
        let mut new = lp.clone();
        let n = lp.len();
        if after {
            lp.delete_range(off as i64 + 1, n);
            new.delete_range(0, off + 1);
        } else {
            lp.delete_range(0, off);
            new.delete_range(off as i64, n);
        }
        node.update_sz();
        self.count -= new.len();
        Node::packed(new)
    }

    /// Merge node `a + 1` into node `a` (`_quicklistListpackMerge`).
    fn merge_pair(&mut self, a: usize) {
        let mut b = self.nodes.remove(a + 1).expect("merge neighbour");
        b.decompress();
        let node = &mut self.nodes[a];
        let lp = node.lp_mut();
        if let Body::Packed(other) = &b.body {
            lp.append_listpack(other);
        }
        node.update_sz();
        let hi = (a + 1).min(self.nodes.len() - 1);
        self.settle(a, hi);
    }

    /// Try merging the neighbourhood of `center` (`_quicklistMergeNodes`).
    fn merge_around(&mut self, mut center: usize) {
        let fill = self.fill;
        fn get(ql: &Quicklist, i: Option<usize>) -> Option<&Node> {
            i.and_then(|i| ql.nodes.get(i))
        }
        let prev = center.checked_sub(1);
        let prev_prev = center.checked_sub(2);
        if allow_merge(get(self, prev), get(self, prev_prev), fill) {
            self.merge_pair(center - 2);
            center -= 1;
        }
        let next = center + 1;
        if allow_merge(self.nodes.get(next), self.nodes.get(next + 1), fill) {
            self.merge_pair(next);
        }
        let target = if allow_merge(
            self.nodes.get(center),
            get(self, center.checked_sub(1)),
            fill,
        ) {
            self.merge_pair(center - 1);
            center - 1
        } else {
            center
        };
        if allow_merge(self.nodes.get(target), self.nodes.get(target + 1), fill) {
            self.merge_pair(target);
        }
    }

    /// Insert `v` before or after the element at position `index` (< len) (`_quicklistInsert`).
    pub fn insert(&mut self, index: usize, after: bool, v: &[u8]) {
        let sz = v.len();
        let fill = self.fill;
        let (ni, off) = self.locate(index);
        let node = &self.nodes[ni];
        let full = !allow_insert(Some(node), fill, sz);
        let at_tail = after && off == node.count - 1;
        let at_head = !after && off == 0;
        let avail_next = at_tail && allow_insert(self.nodes.get(ni + 1), fill, sz);
        let avail_prev = at_head && ni > 0 && allow_insert(self.nodes.get(ni - 1), fill, sz);

        if is_large(sz) {
            if node.is_plain() || at_tail || at_head {
                self.insert_node(ni + after as usize, Node::plain(v));
            } else {
                let new = self.split_node(ni, off, after);
                if after {
                    self.insert_node(ni + 1, Node::plain(v));
                    self.insert_node(ni + 2, new);
                } else {
                    self.insert_node(ni, new);
                    self.insert_node(ni + 1, Node::plain(v));
                }
            }
            return;
        }

        if !full {
            let node = &mut self.nodes[ni];
            let lp = node.lp_mut();
            let pos = lp.seek(off as i64).expect("offset within node");
            if after {
                lp.insert_after(pos, v);
            } else {
                lp.insert_before(pos, v);
            }
            node.update_sz();
            self.count += 1;
            self.settle(ni, ni);
        } else if at_tail && avail_next {
            let node = &mut self.nodes[ni + 1];
            node.lp_mut().prepend(v);
            node.update_sz();
            self.count += 1;
            self.settle(ni, ni + 1);
        } else if at_head && avail_prev {
            let node = &mut self.nodes[ni - 1];
            node.lp_mut().append(v);
            node.update_sz();
            self.count += 1;
            self.settle(ni - 1, ni);
        } else if at_tail || at_head {
            let mut lp = Listpack::new();
            lp.append(v);
            self.insert_node(ni + after as usize, Node::packed(lp));
        } else {
            let mut new = self.split_node(ni, off, after);
            {
                let lp = new.lp_mut();
                if after {
                    lp.prepend(v);
                } else {
                    lp.append(v);
                }
            }
            new.update_sz();
            let (at, center) = if after { (ni + 1, ni) } else { (ni, ni + 1) };
            self.insert_node(at, new);
            self.merge_around(center);
        }
    }

    // -- replace / delete -------------------------------------------------------------------

    /// Replace the element at position `index` (< len) (`quicklistReplaceEntry`).
    pub fn replace(&mut self, index: usize, v: &[u8]) {
        let (ni, off) = self.locate(index);
        let plain = self.nodes[ni].is_plain();
        if !plain && !is_large(v.len()) {
            let node = &mut self.nodes[ni];
            let lp = node.lp_mut();
            let pos = lp.seek(off as i64).expect("offset within node");
            lp.replace(pos, v);
            node.update_sz();
            self.settle(ni, ni);
        } else if plain && is_large(v.len()) {
            let node = &mut self.nodes[ni];
            node.body = Body::Plain(v.into());
            node.sz = v.len();
            self.settle(ni, ni);
        } else {
            self.insert(index, true, v);
            self.delete_range(index, 1);
        }
    }

    /// Delete up to `count` elements from position `start` (`quicklistDelRange`).
    pub fn delete_range(&mut self, start: usize, count: usize) {
        if count == 0 || start >= self.count {
            return;
        }
        let mut extent = count.min(self.count - start);
        let (mut ni, mut off) = self.locate(start);
        while extent > 0 {
            let node = &mut self.nodes[ni];
            if (off == 0 && extent >= node.count) || node.is_plain() {
                extent -= node.count;
                self.remove_node(ni);
            } else {
                let del = extent.min(node.count - off);
                node.lp_mut().delete_range(off as i64, del);
                node.update_sz();
                self.count -= del;
                extent -= del;
                if node.count == 0 {
                    self.remove_node(ni);
                } else {
                    self.settle(ni, ni);
                    ni += 1;
                }
            }
            off = 0;
        }
    }

    /// Remove up to `count` (0 = all) elements equal to `v`, scanning from the head or from
    /// the tail (LREM). Returns how many were removed.
    pub fn remove_matching(&mut self, v: &[u8], count: usize, from_tail: bool) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let mut removed = 0;
        let mut ni = if from_tail { self.nodes.len() } else { 0 };
        loop {
            if removed >= limit {
                break;
            }
            if from_tail {
                if ni == 0 {
                    break;
                }
                ni -= 1;
            } else if ni >= self.nodes.len() {
                break;
            }
            // Check a compressed node without decompressing it in place first.
            let hits = match self.nodes[ni].view() {
                View::Plain(b) => usize::from(&b[..] == v),
                View::Packed(lp) => lp.iter().filter(|e| e.eq_bytes(v)).count(),
            };
            if hits == 0 {
                if !from_tail {
                    ni += 1;
                }
                continue;
            }
            let node = &mut self.nodes[ni];
            if node.is_plain() {
                removed += 1;
                self.remove_node(ni);
                continue;
            }
            let want = hits.min(limit - removed);
            let lp = node.lp_mut();
            let mut positions: Vec<_> = if from_tail {
                lp.entries()
                    .rev()
                    .filter(|(_, e)| e.eq_bytes(v))
                    .map(|(p, _)| p)
                    .take(want)
                    .collect()
            } else {
                lp.entries()
                    .filter(|(_, e)| e.eq_bytes(v))
                    .map(|(p, _)| p)
                    .take(want)
                    .collect()
            };
            positions.sort_unstable();
            lp.delete_many(&positions);
            node.update_sz();
            self.count -= want;
            removed += want;
            if node.count == 0 {
                self.remove_node(ni);
            } else {
                self.settle(ni, ni);
                if !from_tail {
                    ni += 1;
                }
            }
        }
        removed
    }

    // -- RDB ----------------------------------------------------------------------------------

    /// Append a node loaded from RDB (`quicklistAppendListpack` / `quicklistAppendPlainNode`).
    fn append_node(&mut self, node: Node) {
        let at = self.nodes.len();
        self.insert_node(at, node);
    }

    /// The RDB_TYPE_LIST_QUICKLIST_2 payload: node count, then per node its container and its
    /// bytes (LZF blob when the node is compressed).
    pub fn rdb_save<W: io::Write>(&self, w: &mut RdbWriter<W>) -> io::Result<()> {
        w.len(self.nodes.len() as u64)?;
        for n in &self.nodes {
            w.len(if n.is_plain() {
                CONTAINER_PLAIN
            } else {
                CONTAINER_PACKED
            })?;
            match &n.body {
                Body::Packed(lp) => w.string(lp.as_bytes())?,
                Body::Plain(b) => w.string(b)?,
                Body::Lzf { data, .. } => w.lzf_blob(data, n.sz)?,
            }
        }
        Ok(())
    }

    /// Load RDB_TYPE_LIST_QUICKLIST (14, ziplist nodes) or _2 (18). `None` for a list that
    /// turns out empty (Redis skips such keys).
    pub fn rdb_load(
        r: &mut RdbReader,
        v2: bool,
        fill: i64,
        depth: i64,
    ) -> io::Result<Option<Quicklist>> {
        let n = r.len()?;
        let mut ql = Quicklist::new(fill, depth);
        for _ in 0..n {
            let container = if v2 { r.len()? } else { CONTAINER_PACKED };
            if container != CONTAINER_PACKED && container != CONTAINER_PLAIN {
                return Err(bad("Quicklist integrity check failed."));
            }
            let data = r.string()?;
            if data.is_empty() {
                return Err(bad("Quicklist node is empty"));
            }
            if container == CONTAINER_PLAIN {
                ql.append_node(Node::plain(&data));
                continue;
            }
            let lp = if v2 {
                if !Listpack::validate(&data, true) {
                    return Err(bad("Listpack integrity check failed."));
                }
                Listpack::from_bytes(data)
            } else {
                crate::types::ziplist::to_listpack(&data)
                    .ok_or_else(|| bad("Ziplist integrity check failed."))?
            };
            if lp.is_empty() {
                continue;
            }
            ql.append_node(Node::packed(lp));
        }
        Ok((!ql.is_empty()).then_some(ql))
    }

    /// Load the legacy RDB_TYPE_LIST (a length and that many strings).
    pub fn rdb_load_linked(
        r: &mut RdbReader,
        fill: i64,
        depth: i64,
    ) -> io::Result<Option<Quicklist>> {
        let n = r.len()?;
        let mut ql = Quicklist::new(fill, depth);
        for _ in 0..n {
            let v = r.string()?;
            ql.push(&v, true);
        }
        Ok((!ql.is_empty()).then_some(ql))
    }

    /// Load the legacy RDB_TYPE_LIST_ZIPLIST (one ziplist blob).
    pub fn rdb_load_ziplist(
        r: &mut RdbReader,
        fill: i64,
        depth: i64,
    ) -> io::Result<Option<Quicklist>> {
        let zl = r.string()?;
        if !crate::types::ziplist::validate(&zl, true) {
            return Err(bad("Ziplist integrity check failed."));
        }
        let mut ql = Quicklist::new(fill, depth);
        for v in crate::types::ziplist::iter(&zl) {
            let mut buf = [0u8; crate::types::listpack::INT_BUF_SIZE];
            ql.push(v.as_bytes(&mut buf), true);
        }
        Ok((!ql.is_empty()).then_some(ql))
    }

    /// Check the internal invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        let mut total = 0;
        for n in &self.nodes {
            assert!(n.count > 0, "empty node");
            let real = match n.view() {
                View::Plain(b) => {
                    assert_eq!(b.len(), n.sz);
                    1
                }
                View::Packed(lp) => {
                    assert_eq!(lp.bytes_len(), n.sz);
                    lp.len()
                }
            };
            assert_eq!(real, n.count);
            total += n.count;
        }
        assert_eq!(total, self.count);
        let d = self.depth;
        if d > 0 {
            let len = self.nodes.len();
            for i in (0..d.min(len)).chain(len.saturating_sub(d)..len) {
                assert!(!self.nodes[i].is_compressed(), "end node {i} compressed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_check(ql: &Quicklist, model: &VecDeque<Vec<u8>>) {
        ql.check();
        let got = ql.to_vecs();
        assert_eq!(got.len(), model.len());
        assert!(got.iter().eq(model.iter()), "contents differ");
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn value(&mut self) -> Vec<u8> {
            match self.next() % 4 {
                0 => (self.next() % 1000).to_string().into_bytes(),
                1 => vec![b'x'; (self.next() % 100) as usize],
                2 => vec![b'a' + (self.next() % 3) as u8; (self.next() % 3000) as usize],
                _ => format!("v{}", self.next() % 50).into_bytes(),
            }
        }
    }

    #[test]
    fn random_operations_match_a_model() {
        for (fill, depth) in [(-2, 0), (-2, 1), (5, 2), (1, 1), (16, 0), (-5, 3)] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (fill as u64) ^ ((depth as u64) << 8));
            let mut ql = Quicklist::new(fill, depth);
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for _ in 0..3000 {
                let v = rng.value();
                let n = model.len();
                match rng.next() % 10 {
                    0 | 1 => {
                        ql.push(&v, true);
                        model.push_back(v);
                    }
                    2 | 3 => {
                        ql.push(&v, false);
                        model.push_front(v);
                    }
                    4 => {
                        let tail = rng.next().is_multiple_of(2);
                        let want = if tail {
                            model.pop_back()
                        } else {
                            model.pop_front()
                        };
                        assert_eq!(ql.pop(tail), want);
                    }
                    5 if n > 0 => {
                        let i = (rng.next() % n as u64) as usize;
                        let after = rng.next().is_multiple_of(2);
                        ql.insert(i, after, &v);
                        model.insert(i + after as usize, v);
                    }
                    6 if n > 0 => {
                        let i = (rng.next() % n as u64) as usize;
                        ql.replace(i, &v);
                        model[i] = v;
                    }
                    7 if n > 0 => {
                        let i = (rng.next() % n as u64) as usize;
                        let c = (rng.next() % 5) as usize;
                        ql.delete_range(i, c);
                        for _ in 0..c.min(n - i) {
                            model.remove(i);
                        }
                    }
                    8 if n > 0 => {
                        let i = (rng.next() % n as u64) as usize;
                        let target = model[i].clone();
                        let count = (rng.next() % 3) as usize;
                        let from_tail = rng.next().is_multiple_of(2);
                        let removed = ql.remove_matching(&target, count, from_tail);
                        let limit = if count == 0 { usize::MAX } else { count };
                        let mut done = 0;
                        if from_tail {
                            let mut j = model.len();
                            while j > 0 && done < limit {
                                j -= 1;
                                if model[j] == target {
                                    model.remove(j);
                                    done += 1;
                                }
                            }
                        } else {
                            let mut j = 0;
                            while j < model.len() && done < limit {
                                if model[j] == target {
                                    model.remove(j);
                                    done += 1;
                                } else {
                                    j += 1;
                                }
                            }
                        }
                        assert_eq!(removed, done);
                    }
                    _ => {}
                }
                ql.check();
            }
            model_check(&ql, &model);
            for (i, expected) in model.iter().enumerate() {
                assert_eq!(
                    ql.with_index(i as i64, |v| v.to_vec()).as_deref(),
                    Some(&expected[..])
                );
            }
        }
    }

    #[test]
    fn plain_nodes_and_compression() {
        set_packed_threshold(10);
        let mut ql = Quicklist::new(-2, 1);
        for i in 0..50 {
            ql.push(
                format!("{}{}", "y".repeat(50 + i % 20), i).as_bytes(),
                i % 2 == 0,
            );
        }
        ql.check();
        assert!(ql.compressed_nodes() > 0);
        let before = ql.to_vecs();
        ql.replace(25, b"short");
        ql.replace(26, &[b'z'; 40]);
        ql.check();
        let after = ql.to_vecs();
        assert_eq!(after[25], b"short");
        assert_eq!(after[26], vec![b'z'; 40]);
        assert_eq!(before.len(), after.len());
        set_packed_threshold(0);
    }
}
