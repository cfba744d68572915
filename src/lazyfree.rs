//! Freeing big values off the reactor (Redis's lazyfree.c, with bio's BIO_LAZY_FREE thread).
//!
//! UNLINK, FLUSHALL/FLUSHDB ASYNC and the `lazyfree-lazy-*` options hand what they remove
//! to a helper thread, which only drops it: the value is already out of the keyspace, owned
//! by nothing else, so the reactor never waits for the free of a million-element set. Small
//! values (a free effort of at most [`LAZYFREE_THRESHOLD`] allocations) are freed at once,
//! as Redis does, since sending them would cost more than freeing them. The thread touches
//! nothing but what it is sent and two counters (INFO's `lazyfree_pending_objects` and
//! `lazyfreed_objects`); a fork child never sends it anything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use crate::db::dict::Dict;
use crate::db::Sds;
use crate::types::object::{RObj, Value};

/// Values that take more allocations than this to free are freed in the background.
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Something to drop, and how many objects it counts for.
type Job = (Box<dyn Send>, usize);

/// Handle to the lazy-free thread, started on first use.
#[derive(Default)]
pub struct LazyFree {
    tx: Option<Sender<Job>>,
    pending: Arc<AtomicUsize>,
    freed: Arc<AtomicUsize>,
}

impl std::fmt::Debug for LazyFree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyFree")
            .field("pending", &self.pending())
            .field("freed", &self.freed())
            .finish()
    }
}

impl Value {
    /// How many allocations freeing this value takes, roughly (lazyfreeGetFreeEffort):
    /// compact encodings are one, tables and skiplists one per element, a list one per
    /// node, a stream one per node plus its groups' pending entries.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.node_count(),
            Value::Set(s) => s.free_effort(),
            Value::Hash(h) => h.table().map_or(1, |d| d.len()),
            Value::ZSet(z) => match z.enc() {
                crate::types::thin::Ref::Big(zs) => zs.zsl.len(),
                crate::types::thin::Ref::Small(_) => 1,
            },
            Value::Stream(s) => s.free_effort(),
        }
    }
}

impl LazyFree {
    fn send(&mut self, job: Box<dyn Send>, count: usize) {
        let tx = self.tx.get_or_insert_with(|| {
            let (tx, rx) = channel::<Job>();
            let (pending, freed) = (self.pending.clone(), self.freed.clone());
            std::thread::Builder::new()
                .name("bio_lazy_free".into())
                .spawn(move || {
                    for (job, n) in rx {
                        drop(job);
                        pending.fetch_sub(n, Ordering::AcqRel);
                        freed.fetch_add(n, Ordering::AcqRel);
                    }
                })
                .expect("spawn the lazy-free thread");
            tx
        });
        self.pending.fetch_add(count, Ordering::AcqRel);
        if let Err(back) = tx.send((job, count)) {
            // The thread is gone (it never exits while the server runs): free here.
            self.pending.fetch_sub(count, Ordering::AcqRel);
            drop(back);
        }
    }

    /// Free a deleted object, in the background when it is big (freeObjAsync).
    pub fn free_object(&mut self, obj: RObj) {
        if obj.value.free_effort() > LAZYFREE_THRESHOLD {
            self.send(Box::new(obj), 1);
        }
    }

    /// Free an emptied database's tables in the background (emptyDbAsync); every key counts.
    pub fn free_db(&mut self, keys: Dict<Sds, RObj>, expires: Dict<Sds, i64>) {
        let n = keys.len();
        if n == 0 {
            return;
        }
        self.send(Box::new((keys, expires)), n);
    }

    /// Objects sent and not freed yet (INFO lazyfree_pending_objects).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Objects freed in the background (INFO lazyfreed_objects).
    pub fn freed(&self) -> usize {
        self.freed.load(Ordering::Acquire)
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        self.freed.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::set::Set;

    #[test]
    fn big_values_go_to_the_thread_small_ones_do_not() {
        let mut lf = LazyFree::default();
        lf.free_object(RObj::new(
            Value::Str(crate::types::object::RString::from_bytes(b"x")),
            0,
        ));
        assert!(lf.tx.is_none(), "a small value is freed in place");
        let mut s = Set::default();
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), 128);
        }
        let obj = RObj::new(Value::Set(Box::new(s)), 0);
        assert!(obj.value.free_effort() > LAZYFREE_THRESHOLD);
        lf.free_object(obj);
        for _ in 0..1000 {
            if lf.pending() == 0 && lf.freed() == 1 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!((lf.pending(), lf.freed()), (0, 1));
        lf.reset_stats();
        assert_eq!(lf.freed(), 0);
    }
}
