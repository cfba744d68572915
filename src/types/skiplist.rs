//! The skiplist of Redis sorted sets (t_zset.c's `zsl*`): nodes ordered by (score, member)
//! with per-level spans, so ranks are found in O(log N). Nodes live in an arena (`Vec`) and
//! link by index; freed slots are reused. Node 0 is the header.
//!
//! The skiplist only orders; the member→score dictionary of the `skiplist` encoding lives in
//! [`super::zset`].

use std::cmp::Ordering;

const MAX_LEVEL: usize = 32;
/// Redis's ZSKIPLIST_P = 0.25, as a threshold on 16 random bits.
const P_THRESHOLD: u32 = 0xFFFF / 4;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    span: usize,
}

#[derive(Clone, Debug)]
struct Node {
    ele: Box<[u8]>,
    score: f64,
    backward: u32,
    level: Vec<Level>,
}

/// A node handle; valid until the skiplist is next modified.
pub type NodeId = u32;

/// An ordered (score, member) list with O(log N) insert, delete and rank.
#[derive(Clone, Debug)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    length: usize,
    level: usize,
}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

/// Does (score, ele) of node `n` sort before (score, ele)?
#[inline]
fn node_before(n: &Node, score: f64, ele: &[u8]) -> bool {
    n.score < score || (n.score == score && n.ele.as_ref().cmp(ele) == Ordering::Less)
}

impl SkipList {
    /// An empty skiplist.
    pub fn new() -> SkipList {
        let head = Node {
            ele: Box::default(),
            score: 0.0,
            backward: NIL,
            level: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                MAX_LEVEL
            ],
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
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

    /// The member and score of `id`.
    #[inline]
    pub fn get(&self, id: NodeId) -> (&[u8], f64) {
        let n = &self.nodes[id as usize];
        (&n.ele, n.score)
    }

    /// First node (lowest), if any.
    pub fn first(&self) -> Option<NodeId> {
        let f = self.nodes[HEAD as usize].level[0].forward;
        (f != NIL).then_some(f)
    }

    /// Last node (highest), if any.
    pub fn last(&self) -> Option<NodeId> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The node after `id`.
    #[inline]
    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        let f = self.nodes[id as usize].level[0].forward;
        (f != NIL).then_some(f)
    }

    /// The node before `id`.
    #[inline]
    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        let b = self.nodes[id as usize].backward;
        (b != NIL).then_some(b)
    }

    fn alloc(&mut self, node: Node) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Insert a member that is not present (zslInsert).
    pub fn insert(&mut self, score: f64, ele: Box<[u8]>) -> NodeId {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.nodes[x as usize].level[i];
                if l.forward != NIL && node_before(&self.nodes[l.forward as usize], score, &ele) {
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
                update[i] = HEAD;
                self.nodes[HEAD as usize].level[i].span = self.length;
            }
            self.level = level;
        }
        let id = self.alloc(Node {
            ele,
            score,
            backward: NIL,
            level: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                level
            ],
        });
        for i in 0..level {
            let up = update[i] as usize;
            let ul = self.nodes[up].level[i];
            self.nodes[id as usize].level[i] = Level {
                forward: ul.forward,
                span: ul.span - (rank[0] - rank[i]),
            };
            self.nodes[up].level[i] = Level {
                forward: id,
                span: rank[0] - rank[i] + 1,
            };
        }
        for (i, &up) in update.iter().enumerate().take(self.level).skip(level) {
            self.nodes[up as usize].level[i].span += 1;
        }
        self.nodes[id as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        let f0 = self.nodes[id as usize].level[0].forward;
        if f0 != NIL {
            self.nodes[f0 as usize].backward = id;
        } else {
            self.tail = id;
        }
        self.length += 1;
        id
    }

    /// The update vector for (score, ele): per level, the last node before it.
    fn find_update(&self, score: f64, ele: &[u8]) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.nodes[x as usize].level[i].forward;
                if f != NIL && node_before(&self.nodes[f as usize], score, ele) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Unlink `x` given its update vector; returns the freed node's member.
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) -> Box<[u8]> {
        for (i, &up) in update.iter().enumerate().take(self.level) {
            let xl = self.nodes[x as usize].level.get(i).copied();
            let ul = &mut self.nodes[up as usize].level[i];
            if ul.forward == x {
                let xl = xl.expect("linked at this level");
                ul.span += xl.span;
                ul.span -= 1;
                ul.forward = xl.forward;
            } else {
                ul.span -= 1;
            }
        }
        let (f, b) = {
            let n = &self.nodes[x as usize];
            (n.level[0].forward, n.backward)
        };
        if f != NIL {
            self.nodes[f as usize].backward = b;
        } else {
            self.tail = b;
        }
        while self.level > 1 && self.nodes[HEAD as usize].level[self.level - 1].forward == NIL {
            self.level -= 1;
        }
        self.length -= 1;
        let n = &mut self.nodes[x as usize];
        n.level = Vec::new();
        self.free.push(x);
        std::mem::take(&mut n.ele)
    }

    /// Delete (score, ele); true when it was present (zslDelete).
    pub fn delete(&mut self, score: f64, ele: &[u8]) -> bool {
        let update = self.find_update(score, ele);
        let x = self.nodes[update[0] as usize].level[0].forward;
        if x != NIL && self.nodes[x as usize].score == score && *self.nodes[x as usize].ele == *ele
        {
            self.delete_node(x, &update);
            if self.length == 0 {
                self.nodes.truncate(1);
                self.free.clear();
            }
            true
        } else {
            false
        }
    }

    /// Change the score of a present member (zslUpdateScore).
    pub fn update_score(&mut self, cur: f64, ele: &[u8], new: f64) -> NodeId {
        let update = self.find_update(cur, ele);
        let x = self.nodes[update[0] as usize].level[0].forward;
        debug_assert!(x != NIL && self.nodes[x as usize].score == cur);
        let n = &self.nodes[x as usize];
        let prev_ok = n.backward == NIL || self.nodes[n.backward as usize].score < new;
        let next_ok =
            n.level[0].forward == NIL || self.nodes[n.level[0].forward as usize].score > new;
        if prev_ok && next_ok {
            self.nodes[x as usize].score = new;
            return x;
        }
        let ele = self.delete_node(x, &update);
        self.insert(new, ele)
    }

    /// 1-based rank of (score, ele), or 0 when absent (zslGetRank).
    pub fn rank(&self, score: f64, ele: &[u8]) -> usize {
        let mut rank = 0;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].level[i];
                if l.forward == NIL {
                    break;
                }
                let f = &self.nodes[l.forward as usize];
                if f.score < score || (f.score == score && f.ele.as_ref() <= ele) {
                    rank += l.span;
                    x = l.forward;
                } else {
                    break;
                }
            }
            if x != HEAD && *self.nodes[x as usize].ele == *ele {
                return rank;
            }
        }
        0
    }

    /// The node at 1-based `rank` (zslGetElementByRank).
    pub fn by_rank(&self, rank: usize) -> Option<NodeId> {
        let mut traversed = 0;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].level[i];
                if l.forward != NIL && traversed + l.span <= rank {
                    traversed += l.span;
                    x = l.forward;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return (x != HEAD).then_some(x);
            }
        }
        None
    }

    /// The first node for which `past_min` is true, assuming it is monotonic along the list
    /// (false..., true...). Also returns its 1-based rank.
    pub fn first_where(&self, past_min: impl Fn(f64, &[u8]) -> bool) -> Option<(NodeId, usize)> {
        let mut x = HEAD;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].level[i];
                if l.forward == NIL {
                    break;
                }
                let f = &self.nodes[l.forward as usize];
                if !past_min(f.score, &f.ele) {
                    rank += l.span;
                    x = l.forward;
                } else {
                    break;
                }
            }
        }
        let f = self.nodes[x as usize].level[0].forward;
        (f != NIL).then_some((f, rank + 1))
    }

    /// The last node for which `within_max` is true, assuming it is monotonic along the list
    /// (true..., false...). Also returns its 1-based rank.
    pub fn last_where(&self, within_max: impl Fn(f64, &[u8]) -> bool) -> Option<(NodeId, usize)> {
        let mut x = HEAD;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].level[i];
                if l.forward == NIL {
                    break;
                }
                let f = &self.nodes[l.forward as usize];
                if within_max(f.score, &f.ele) {
                    rank += l.span;
                    x = l.forward;
                } else {
                    break;
                }
            }
        }
        (x != HEAD).then_some((x, rank))
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
    front: Option<NodeId>,
    back: Option<NodeId>,
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
            sl.insert(s, format!("m{}", s as i64).into_bytes().into());
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
        let id = sl.update_score(1.0, b"m1", 5000.0);
        assert_eq!(sl.get(id).1, 5000.0);
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
}
