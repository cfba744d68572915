//! The skiplist of Redis sorted sets (t_zset.c's `zsl*`): nodes ordered by (score, member)
//! with per-level spans, so ranks are found in O(log N).
//!
//! Each node is one allocation, as in Redis: a small header (score, backward link, sizes),
//! then its levels (forward link and span), then the member's bytes. A search step reads
//! the current node's level and the next node's score, which sit together, so it costs one
//! cache miss rather than the two or three of nodes whose levels and member live in
//! allocations of their own. The raw links are private to this module; outside it, a node
//! is a [`NodeId`] that borrows the list, so it can never outlive a modification.
//!
//! The skiplist only orders; the member→score dictionary of the `skiplist` encoding lives in
//! [`super::zset`].

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::mem::size_of;
use std::ptr::{self, NonNull};

const MAX_LEVEL: usize = 32;
/// Redis's ZSKIPLIST_P = 0.25, as a threshold on 16 random bits.
const P_THRESHOLD: u32 = 0xFFFF / 4;

#[repr(C)]
struct Head {
    score: f64,
    backward: *mut Head,
    ele_len: u32,
    nlevel: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Level {
    forward: *mut Head,
    span: usize,
}

fn node_layout(nlevel: usize, ele_len: usize) -> Layout {
    let size = size_of::<Head>() + nlevel * size_of::<Level>() + ele_len;
    Layout::from_size_align(size, std::mem::align_of::<Head>()).expect("skiplist node layout")
}

/// A new unlinked node (zslCreateNode): levels empty, member copied in.
fn new_node(nlevel: usize, score: f64, ele: &[u8]) -> *mut Head {
    let ele_len = u32::try_from(ele.len()).expect("sorted set member over 4 GiB");
    let layout = node_layout(nlevel, ele.len());
    // SAFETY: the layout is non-empty (the header alone is 24 bytes). Every byte the node's
    // accessors read is written here: the header, `nlevel` levels, then the member.
    unsafe {
        let p = alloc(layout).cast::<Head>();
        if p.is_null() {
            handle_alloc_error(layout);
        }
        p.write(Head {
            score,
            backward: ptr::null_mut(),
            ele_len,
            nlevel: nlevel as u32,
        });
        for i in 0..nlevel {
            level_ptr(p, i).write(Level {
                forward: ptr::null_mut(),
                span: 0,
            });
        }
        ptr::copy_nonoverlapping(ele.as_ptr(), ele_ptr(p), ele.len());
        p
    }
}

/// Level `i` of node `p`. `p` must be a live node with more than `i` levels.
#[inline]
unsafe fn level_ptr(p: *mut Head, i: usize) -> *mut Level {
    p.cast::<u8>().add(size_of::<Head>()).cast::<Level>().add(i)
}

/// Where the member bytes of node `p` start. `p` must be a live node.
#[inline]
unsafe fn ele_ptr(p: *mut Head) -> *mut u8 {
    let nlevel = (*p).nlevel as usize;
    p.cast::<u8>()
        .add(size_of::<Head>() + nlevel * size_of::<Level>())
}

/// The member of node `p`. `p` must be a live node, and outlive `'a`.
#[inline]
unsafe fn ele_of<'a>(p: *mut Head) -> &'a [u8] {
    std::slice::from_raw_parts(ele_ptr(p), (*p).ele_len as usize)
}

/// Free node `p` (zslFreeNode). `p` must be live and unlinked; it is dangling afterwards.
unsafe fn free_node(p: *mut Head) {
    let layout = node_layout((*p).nlevel as usize, (*p).ele_len as usize);
    dealloc(p.cast::<u8>(), layout);
}

/// A node of a [`SkipList`], borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId<'a> {
    node: NonNull<Head>,
    _list: PhantomData<&'a SkipList>,
}

impl NodeId<'_> {
    fn new(p: *mut Head) -> Option<Self> {
        NonNull::new(p).map(|node| NodeId {
            node,
            _list: PhantomData,
        })
    }
}

/// An ordered (score, member) list with O(log N) insert, delete and rank.
pub struct SkipList {
    /// The header node: MAX_LEVEL levels, no member; its score is never read.
    header: NonNull<Head>,
    tail: *mut Head,
    length: usize,
    level: usize,
}

// SAFETY: a SkipList owns all its nodes; nothing is shared with other lists or threads.
unsafe impl Send for SkipList {}
// SAFETY: shared access only reads.
unsafe impl Sync for SkipList {}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SkipList {
    fn drop(&mut self) {
        let mut x = self.header.as_ptr();
        while !x.is_null() {
            // SAFETY: every node on level 0 is live and owned by the list; each is freed
            // once, after its successor was read.
            unsafe {
                let next = (*level_ptr(x, 0)).forward;
                free_node(x);
                x = next;
            }
        }
    }
}

impl Clone for SkipList {
    fn clone(&self) -> Self {
        let mut sl = SkipList::new();
        for (e, s) in self.iter() {
            sl.insert(s, e);
        }
        sl
    }
}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(e, s)| (String::from_utf8_lossy(e), s)))
            .finish()
    }
}

/// Does node `n`'s (score, ele) sort before (score, ele)? `n` must be live.
#[inline]
unsafe fn node_before(n: *mut Head, score: f64, ele: &[u8]) -> bool {
    let ns = (*n).score;
    ns < score || (ns == score && ele_of(n).cmp(ele) == Ordering::Less)
}

impl SkipList {
    /// An empty skiplist.
    pub fn new() -> SkipList {
        let header = new_node(MAX_LEVEL, 0.0, b"");
        SkipList {
            // SAFETY: new_node never returns null.
            header: unsafe { NonNull::new_unchecked(header) },
            tail: ptr::null_mut(),
            length: 0,
            level: 1,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.length
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    fn random_level() -> usize {
        let mut level = 1;
        while level < MAX_LEVEL && (super::zset::rand_u64() as u32 & 0xFFFF) < P_THRESHOLD {
            level += 1;
        }
        level
    }

    #[inline]
    fn hdr(&self) -> *mut Head {
        self.header.as_ptr()
    }

    /// The member and score of `id`.
    #[inline]
    pub fn get<'a>(&'a self, id: NodeId<'a>) -> (&'a [u8], f64) {
        let p = id.node.as_ptr();
        // SAFETY: a NodeId borrows its list, which cannot have been modified since.
        unsafe { (ele_of(p), (*p).score) }
    }

    /// First node (lowest), if any.
    pub fn first(&self) -> Option<NodeId<'_>> {
        // SAFETY: the header is live and has MAX_LEVEL levels.
        NodeId::new(unsafe { (*level_ptr(self.hdr(), 0)).forward })
    }

    /// Last node (highest), if any.
    pub fn last(&self) -> Option<NodeId<'_>> {
        NodeId::new(self.tail)
    }

    /// The node after `id`.
    #[inline]
    pub fn next<'a>(&'a self, id: NodeId<'a>) -> Option<NodeId<'a>> {
        // SAFETY: `id` is a live node of a list borrowed for 'a; every node has level 0.
        NodeId::new(unsafe { (*level_ptr(id.node.as_ptr(), 0)).forward })
    }

    /// The node before `id`.
    #[inline]
    pub fn prev<'a>(&'a self, id: NodeId<'a>) -> Option<NodeId<'a>> {
        // SAFETY: as in `next`.
        NodeId::new(unsafe { (*id.node.as_ptr()).backward })
    }

    /// Insert a member that is not present (zslInsert).
    pub fn insert(&mut self, score: f64, ele: &[u8]) {
        let mut update = [ptr::null_mut::<Head>(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let hdr = self.hdr();
        // SAFETY: the walk only follows forward links of live nodes, at levels each node
        // has (a node is linked at level i only if it has more than i levels), and the
        // header has them all. The new node is linked at exactly its own levels.
        unsafe {
            let mut x = hdr;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let l = *level_ptr(x, i);
                    if !l.forward.is_null() && node_before(l.forward, score, ele) {
                        rank[i] += l.span;
                        x = l.forward;
                    } else {
                        break;
                    }
                }
                update[i] = x;
            }
            let level = Self::random_level();
            if level > self.level {
                for i in self.level..level {
                    rank[i] = 0;
                    update[i] = hdr;
                    (*level_ptr(hdr, i)).span = self.length;
                }
                self.level = level;
            }
            let x = new_node(level, score, ele);
            for i in 0..level {
                let ul = level_ptr(update[i], i);
                let xl = level_ptr(x, i);
                (*xl).forward = (*ul).forward;
                (*xl).span = (*ul).span - (rank[0] - rank[i]);
                (*ul).forward = x;
                (*ul).span = rank[0] - rank[i] + 1;
            }
            for (i, &up) in update.iter().enumerate().take(self.level).skip(level) {
                (*level_ptr(up, i)).span += 1;
            }
            (*x).backward = if update[0] == hdr {
                ptr::null_mut()
            } else {
                update[0]
            };
            let f0 = (*level_ptr(x, 0)).forward;
            if f0.is_null() {
                self.tail = x;
            } else {
                (*f0).backward = x;
            }
            self.length += 1;
        }
    }

    /// The update vector for (score, ele): per level, the last node before it.
    fn find_update(&self, score: f64, ele: &[u8]) -> [*mut Head; MAX_LEVEL] {
        let mut update = [self.hdr(); MAX_LEVEL];
        let mut x = self.hdr();
        // SAFETY: as in `insert`, the walk follows live forward links only.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let f = (*level_ptr(x, i)).forward;
                    if !f.is_null() && node_before(f, score, ele) {
                        x = f;
                    } else {
                        break;
                    }
                }
                update[i] = x;
            }
        }
        update
    }

    /// Unlink `x` given its update vector (zslDeleteNode). The node stays allocated; the
    /// caller frees it.
    unsafe fn unlink(&mut self, x: *mut Head, update: &[*mut Head; MAX_LEVEL]) {
        for (i, &up) in update.iter().enumerate().take(self.level) {
            let ul = level_ptr(up, i);
            if (*ul).forward == x {
                let xl = *level_ptr(x, i);
                (*ul).span += xl.span;
                (*ul).span -= 1;
                (*ul).forward = xl.forward;
            } else {
                (*ul).span -= 1;
            }
        }
        let f = (*level_ptr(x, 0)).forward;
        if f.is_null() {
            self.tail = (*x).backward;
        } else {
            (*f).backward = (*x).backward;
        }
        while self.level > 1 && (*level_ptr(self.hdr(), self.level - 1)).forward.is_null() {
            self.level -= 1;
        }
        self.length -= 1;
    }

    /// The node right after the update vector's level-0 node, if it is (score, ele).
    fn found(&self, update: &[*mut Head; MAX_LEVEL], score: f64, ele: &[u8]) -> *mut Head {
        // SAFETY: update[0] is a live node (or the header).
        unsafe {
            let x = (*level_ptr(update[0], 0)).forward;
            if !x.is_null() && (*x).score == score && ele_of(x) == ele {
                x
            } else {
                ptr::null_mut()
            }
        }
    }

    /// Delete (score, ele); true when it was present (zslDelete).
    pub fn delete(&mut self, score: f64, ele: &[u8]) -> bool {
        let update = self.find_update(score, ele);
        let x = self.found(&update, score, ele);
        if x.is_null() {
            return false;
        }
        // SAFETY: `x` is a live linked node and `update` its update vector; after the
        // unlink nothing points at it, so it is freed once.
        unsafe {
            self.unlink(x, &update);
            free_node(x);
        }
        true
    }

    /// Change the score of a present member (zslUpdateScore).
    pub fn update_score(&mut self, cur: f64, ele: &[u8], new: f64) {
        let update = self.find_update(cur, ele);
        let x = self.found(&update, cur, ele);
        assert!(!x.is_null(), "update_score of a member that is not there");
        // SAFETY: `x` is live and linked. If it can stay where it is only its score
        // changes; otherwise it is unlinked, its member copied into a new node, and then
        // freed (nothing points at it any more).
        unsafe {
            let b = (*x).backward;
            let f = (*level_ptr(x, 0)).forward;
            if (b.is_null() || (*b).score < new) && (f.is_null() || (*f).score > new) {
                (*x).score = new;
                return;
            }
            self.unlink(x, &update);
            self.insert(new, ele_of(x));
            free_node(x);
        }
    }

    /// The search every lookup shares: from the header down the levels, move forward while
    /// `go(next, rank of next)` holds; after each level `stop(node, rank)` may end the
    /// walk. Returns the node reached, its 1-based rank (0 for the header) and whether
    /// `stop` ended the walk. `go` and `stop` get live nodes (never the header for `go`).
    fn descend(
        &self,
        mut go: impl FnMut(*mut Head, usize) -> bool,
        mut stop: impl FnMut(*mut Head, usize) -> bool,
    ) -> (*mut Head, usize, bool) {
        let mut x = self.hdr();
        let mut rank = 0;
        // SAFETY: the walk follows live forward links only, at levels each node has.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let l = *level_ptr(x, i);
                    if l.forward.is_null() || !go(l.forward, rank + l.span) {
                        break;
                    }
                    rank += l.span;
                    x = l.forward;
                }
                if stop(x, rank) {
                    return (x, rank, true);
                }
            }
        }
        (x, rank, false)
    }

    /// 1-based rank of (score, ele), or 0 when absent (zslGetRank).
    pub fn rank(&self, score: f64, ele: &[u8]) -> usize {
        let hdr = self.hdr();
        // SAFETY (closures): `descend` passes live nodes only.
        let (_, rank, found) = self.descend(
            |f, _| unsafe {
                let fs = (*f).score;
                fs < score || (fs == score && ele_of(f) <= ele)
            },
            |x, _| x != hdr && unsafe { ele_of(x) } == ele,
        );
        if found {
            rank
        } else {
            0
        }
    }

    /// The node at 1-based `rank` (zslGetElementByRank).
    pub fn by_rank(&self, rank: usize) -> Option<NodeId<'_>> {
        let hdr = self.hdr();
        match self.descend(|_, r| r <= rank, |_, r| r == rank) {
            (x, _, true) if x != hdr => NodeId::new(x),
            _ => None,
        }
    }

    /// The first node for which `past_min` is true, assuming it is monotonic along the list
    /// (false..., true...). Also returns its 1-based rank.
    pub fn first_where(
        &self,
        past_min: impl Fn(f64, &[u8]) -> bool,
    ) -> Option<(NodeId<'_>, usize)> {
        // SAFETY (closure): `descend` passes live nodes only.
        let (x, rank, _) = self.descend(
            |f, _| !past_min(unsafe { (*f).score }, unsafe { ele_of(f) }),
            |_, _| false,
        );
        // SAFETY: `x` is the header or a live node; both have level 0.
        NodeId::new(unsafe { (*level_ptr(x, 0)).forward }).map(|id| (id, rank + 1))
    }

    /// The last node for which `within_max` is true, assuming it is monotonic along the list
    /// (true..., false...). Also returns its 1-based rank.
    pub fn last_where(
        &self,
        within_max: impl Fn(f64, &[u8]) -> bool,
    ) -> Option<(NodeId<'_>, usize)> {
        // SAFETY (closure): `descend` passes live nodes only.
        let (x, rank, _) = self.descend(
            |f, _| within_max(unsafe { (*f).score }, unsafe { ele_of(f) }),
            |_, _| false,
        );
        if x == self.hdr() {
            None
        } else {
            NodeId::new(x).map(|id| (id, rank))
        }
    }

    /// Iterate (member, score) from lowest to highest.
    pub fn iter(&self) -> SlIter<'_> {
        SlIter {
            sl: self,
            front: self.first(),
            back: self.last(),
            remaining: self.length,
        }
    }
}

/// Double-ended iterator over a skiplist.
pub struct SlIter<'a> {
    sl: &'a SkipList,
    front: Option<NodeId<'a>>,
    back: Option<NodeId<'a>>,
    remaining: usize,
}

impl<'a> Iterator for SlIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let id = self.front?;
        self.remaining -= 1;
        self.front = self.sl.next(id);
        Some(self.sl.get(id))
    }
}

impl DoubleEndedIterator for SlIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let id = self.back?;
        self.remaining -= 1;
        self.back = self.sl.prev(id);
        Some(self.sl.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_rank_delete() {
        let mut sl = SkipList::new();
        for i in 0..1000 {
            let s = ((i * 7919) % 1000) as f64;
            sl.insert(s, format!("m{}", s as i64).as_bytes());
        }
        assert_eq!(sl.len(), 1000);
        let v: Vec<f64> = sl.iter().map(|(_, s)| s).collect();
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        for r in 1..=1000 {
            let id = sl.by_rank(r).unwrap();
            let (e, s) = sl.get(id);
            assert_eq!(s, (r - 1) as f64);
            assert_eq!(sl.rank(s, e), r);
        }
        for i in (0..1000).step_by(2) {
            assert!(sl.delete(i as f64, format!("m{i}").as_bytes()));
        }
        assert!(!sl.delete(0.0, b"m0"));
        assert_eq!(sl.len(), 500);
        for r in 1..=500 {
            let (e, s) = sl.get(sl.by_rank(r).unwrap());
            assert_eq!(s, (2 * r - 1) as f64);
            assert_eq!(sl.rank(s, e), r);
        }
        sl.update_score(1.0, b"m1", 5000.0);
        assert_eq!(sl.get(sl.last().unwrap()), (&b"m1"[..], 5000.0));
        sl.update_score(3.0, b"m3", 2.5); // stays in place: only the score changes
        assert_eq!(sl.get(sl.first().unwrap()), (&b"m3"[..], 2.5));
        assert_eq!(sl.rank(5000.0, b"m1"), 500);
        let rev: Vec<f64> = sl.iter().rev().map(|(_, s)| s).collect();
        assert_eq!(rev.len(), 500);
        assert_eq!(rev[0], 5000.0);
        let (id, rank) = sl.first_where(|s, _| s >= 100.0).unwrap();
        assert_eq!(sl.get(id).1, 101.0);
        assert_eq!(rank, 50);
        let (id, rank) = sl.last_where(|s, _| s <= 100.0).unwrap();
        assert_eq!(sl.get(id).1, 99.0);
        assert_eq!(rank, 49);
    }

    #[test]
    fn matches_a_sorted_model_under_random_updates() {
        let mut sl = SkipList::new();
        let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for step in 0..20_000 {
            let ele = format!("member-{}", rnd(300)).into_bytes();
            let score = rnd(50) as f64;
            match (model.get(&ele).copied(), rnd(3)) {
                (None, _) => {
                    sl.insert(score, &ele);
                    model.insert(ele, score);
                }
                (Some(cur), 0) => {
                    assert!(sl.delete(cur, &ele));
                    model.remove(&ele);
                }
                (Some(cur), _) => {
                    sl.update_score(cur, &ele, score);
                    model.insert(ele, score);
                }
            }
            if step % 1000 == 0 || step == 19_999 {
                let mut want: Vec<(f64, &[u8])> = model.iter().map(|(e, &s)| (s, &e[..])).collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
                let got: Vec<(f64, &[u8])> = sl.iter().map(|(e, s)| (s, e)).collect();
                assert_eq!(got, want);
                let back: Vec<(f64, &[u8])> = sl.iter().rev().map(|(e, s)| (s, e)).collect();
                assert!(back.iter().rev().eq(want.iter()));
                for (r, (s, e)) in want.iter().enumerate() {
                    assert_eq!(sl.rank(*s, e), r + 1);
                    assert_eq!(sl.get(sl.by_rank(r + 1).unwrap()), (*e, *s));
                }
                assert_eq!(sl.len(), want.len());
            }
        }
        let c = sl.clone();
        assert!(c.iter().eq(sl.iter()));
    }
}
