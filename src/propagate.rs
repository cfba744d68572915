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
    /// Where it goes: AOF and/or replicas (`scripting::PROPAGATE_*`; scripts may choose
    /// with redis.set_repl).
    pub target: u8,
}

/// Both the AOF and the replicas.
pub const PROPAGATE_ALL: u8 = crate::scripting::PROPAGATE_AOF | crate::scripting::PROPAGATE_REPL;

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
            self.also_propagate.push(PropOp {
                db,
                argv,
                target: PROPAGATE_ALL,
            });
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
            self.propagate_now(ops[0].db, &[Bytes::from_static(b"MULTI")], PROPAGATE_ALL);
        }
        for op in &ops {
            self.propagate_now(op.db, &op.argv, op.target);
        }
        if transaction {
            let db = ops.last().map_or(0, |o| o.db);
            self.propagate_now(db, &[Bytes::from_static(b"EXEC")], PROPAGATE_ALL);
        }
        // Reuse the allocation for the next unit.
        let mut ops = ops;
        ops.clear();
        if self.also_propagate.is_empty() {
            self.also_propagate = ops;
        }
    }

    /// Feed one command to the AOF and to the replication stream (Redis's propagateNow).
    pub fn propagate_now(&mut self, db: usize, argv: &[Bytes], target: u8) {
        if self.aof_active() && target & crate::scripting::PROPAGATE_AOF != 0 {
            self.aof_feed(db, argv);
        }
        if target & crate::scripting::PROPAGATE_REPL != 0 {
            self.feed_replicas(db as i64, argv);
        }
    }
}
