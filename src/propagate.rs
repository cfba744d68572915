//! Propagation of writes to the AOF and to replicas, as Redis 7.0 does it.
//!
//! While a command runs, what it must propagate is collected in `Server::also_propagate`: a
//! lazily expired key's DEL, a handler's `also_propagate` (SPOP's SREMs, XREADGROUP's XCLAIMs),
//! then, when the command changed the dataset, the command itself (or what it asked to be
//! propagated instead: SET ... EX as SET ... PXAT). When the outermost command of the
//! execution unit returns (EXEC's queued commands, a script's calls and blocked clients served
//! by a write are all nested in it), the collected commands go out, wrapped in MULTI/EXEC
//! when there are several, so replicas and the AOF apply them atomically. Active expiry and
//! commands that touch arbitrary keys (SCAN, RANDOMKEY) send their DELs unwrapped.

use bytes::Bytes;

use crate::server::Server;

/// A command to propagate, with the db it applies to.
#[derive(Debug, Clone)]
pub struct PropOp {
    pub db: usize,
    pub argv: Vec<Bytes>,
}

impl Server {
    /// Is anybody listening to propagated commands (Redis's shouldPropagate)? A master with a
    /// backlog or replicas, or the AOF. Nothing is propagated while loading.
    #[inline]
    pub fn should_propagate(&self) -> bool {
        if self.persistence.loading {
            return false;
        }
        self.aof_active() || (!self.is_replica() && self.repl.backlog.is_some())
    }

    /// Schedule `argv` against `db` for propagation when the execution unit ends (Redis's
    /// alsoPropagate).
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.should_propagate() {
            self.also_propagate.push(PropOp { db, argv });
        }
    }

    /// Send what the execution unit collected (Redis's propagatePendingCommands): several
    /// commands are wrapped in MULTI/EXEC unless `no_multi`.
    pub fn propagate_pending(&mut self, no_multi: bool) {
        if self.also_propagate.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.also_propagate);
        let transaction = ops.len() > 1 && !no_multi && !self.propagate_no_multi;
        if transaction {
            self.propagate_now(ops[0].db, &[Bytes::from_static(b"MULTI")]);
        }
        for op in &ops {
            self.propagate_now(op.db, &op.argv);
        }
        if transaction {
            let db = ops.last().map_or(0, |o| o.db);
            self.propagate_now(db, &[Bytes::from_static(b"EXEC")]);
        }
        // Reuse the allocation for the next unit.
        let mut ops = ops;
        ops.clear();
        if self.also_propagate.is_empty() {
            self.also_propagate = ops;
        }
    }

    /// Feed one command to the AOF and to the replication stream (Redis's propagateNow).
    pub fn propagate_now(&mut self, db: usize, argv: &[Bytes]) {
        if self.aof_active() {
            self.aof_feed(db, argv);
        }
        self.feed_replicas(db as i64, argv);
    }
}
