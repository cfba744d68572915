//! The keyspace: [`Db`] holds one database's keys and expiry times in two [`dict::Dict`]s, and
//! the `Ctx` methods here are what commands use to read and write keys with Redis's side
//! effects: lazy expiry on access, hit/miss statistics, LRU stamps, WATCH invalidation
//! (signal_modified_key) and keyspace notifications.

pub mod access;
pub mod dict;
pub mod expire;
pub mod notify;
pub mod sds;

use crate::command::{errors, CmdError, Ctx};
use crate::resp::reply::ReplyBuf;
use crate::server::Server;
use crate::types::object::{RObj, RString, Value};

use dict::Dict;

pub use sds::Sds;

/// One database.
#[derive(Debug, Default)]
pub struct Db {
    pub id: usize,
    pub keys: Dict<Sds, RObj>,
    /// Absolute expiry time in ms for keys that have one.
    pub expires: Dict<Sds, i64>,
    /// Average TTL estimate maintained by the active expire cycle.
    pub avg_ttl: i64,
    /// Where the active expire cycle resumes its scan.
    pub expires_cursor: u64,
}

impl Db {
    /// An empty database number `id`.
    pub fn new(id: usize) -> Db {
        let mut db = Db {
            id,
            ..Default::default()
        };
        db.guard_tables();
        db
    }

    /// The keyspace tables do not grow when the new table would take memory over
    /// `maxmemory` (Redis's dictExpandAllowed on the db dict types).
    fn guard_tables(&mut self) {
        self.keys
            .set_expand_allowed(crate::evict::keyspace_expand_allowed);
        self.expires
            .set_expand_allowed(crate::evict::keyspace_expand_allowed);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the database has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The expiry time of `key` in ms, if it has one.
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Has `key` a TTL that elapsed at `now_ms`?
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        matches!(self.expire_of(key), Some(t) if t < now_ms)
    }

    /// Add a key that must not exist.
    pub fn add(&mut self, key: &[u8], obj: RObj) {
        self.keys.insert(key.into(), obj);
    }

    /// Set `key` to `obj`, keeping its TTL only if `keep_ttl`. Returns true when the key is new.
    pub fn set(&mut self, key: &[u8], obj: RObj, keep_ttl: bool) -> bool {
        // One hash and one walk: the slot is found or made in one go.
        let mut obj = Some(obj);
        let (slot, new) =
            self.keys
                .get_or_insert_with(key, || key.into(), || obj.take().expect("unused"));
        if let Some(obj) = obj {
            *slot = obj;
        }
        if !keep_ttl {
            self.remove_expire(key);
        }
        new
    }

    /// Delete `key` and its TTL. Returns whether it existed.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.take(key).is_some()
    }

    /// Remove `key` and its TTL, handing back the object (to free it lazily).
    pub fn take(&mut self, key: &[u8]) -> Option<RObj> {
        let (_, obj) = self.keys.remove(key)?;
        self.remove_expire(key);
        Some(obj)
    }

    /// Set an absolute expiry (ms) on an existing key.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        match self.expires.get_mut(key) {
            Some(t) => *t = when_ms,
            None => {
                self.expires.insert(key.into(), when_ms);
            }
        }
    }

    /// Remove the TTL of `key`. Returns whether it had one.
    pub fn remove_expire(&mut self, key: &[u8]) -> bool {
        !self.expires.is_empty() && self.expires.remove(key).is_some()
    }

    /// Drop every key.
    pub fn clear(&mut self) -> usize {
        self.clear_into().0
    }

    /// Empty the database, handing back the key count and the old tables (to free them in
    /// the background).
    pub fn clear_into(&mut self) -> (usize, Dict<Sds, RObj>, Dict<Sds, i64>) {
        let n = self.keys.len();
        let keys = std::mem::take(&mut self.keys);
        let expires = std::mem::take(&mut self.expires);
        self.guard_tables();
        self.avg_ttl = 0;
        self.expires_cursor = 0;
        (n, keys, expires)
    }

    /// Empty the database, freeing its contents in the background when `lazy`
    /// (emptyDbAsync). Returns the number of keys removed.
    pub fn clear_with(&mut self, lazy: bool, lf: &mut crate::lazyfree::LazyFree) -> usize {
        let (n, keys, expires) = self.clear_into();
        if lazy {
            lf.free_db(keys, expires);
        }
        n
    }

    /// Resize and rehash work from cron (Redis's tryResizeHashTables + incrementallyRehash).
    pub fn cron_resize(&mut self) {
        self.keys.shrink_if_needed();
        self.expires.shrink_if_needed();
        if self.keys.is_rehashing() {
            self.keys.rehash_for(std::time::Duration::from_millis(1));
        } else if self.expires.is_rehashing() {
            self.expires.rehash_for(std::time::Duration::from_millis(1));
        }
    }
}

impl Server {
    /// Drop every key of every database, and the function libraries unless
    /// `with_functions` is false (Redis's emptyData): before loading a full sync or a
    /// DEBUG RELOAD / LOADAOF.
    pub fn empty_data(&mut self, with_functions: bool) {
        for i in 0..self.dbs.len() {
            crate::commands::multi::touch_all_watched_keys_in_db(self, i);
            self.dbs[i].clear();
        }
        crate::tracking::invalidate_on_flush(self, None);
        self.replica_keys_with_expire.flush();
        if with_functions {
            self.scripting.functions.clear();
        }
    }

    /// Delete an expired key with every side effect (Redis's deleteExpiredKeyAndPropagate):
    /// the DEL/UNLINK is propagated, `expired` is notified, stats count it.
    pub fn delete_expired(
        &mut self,
        db: usize,
        key: &[u8],
        mut current: Option<&mut crate::client::Client>,
    ) {
        if let Some(obj) = self.dbs[db].take(key) {
            if self.config.lazyfree_lazy_expire {
                self.lazyfree.free_object(obj);
            }
        }
        self.stats.expired_keys += 1;
        notify::notify_keyspace_event(
            self,
            current.as_deref_mut(),
            notify::EXPIRED,
            "expired",
            key,
            db,
        );
        self.signal_modified_key(db, key, current, 0);
        let cmd: &'static [u8] = if self.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        if self.should_propagate() {
            self.also_propagate(
                db,
                vec![
                    bytes::Bytes::from_static(cmd),
                    bytes::Bytes::copy_from_slice(key),
                ],
            );
        }
    }

    /// A key's value changed or the key went away (Redis's signalModifiedKey): WATCHes on it
    /// are invalidated and clients caching it are told, on every write path (commands,
    /// expiry, eviction). `current` is the executing client (out of the slab), `modifier`
    /// the id of the client that changed the key (0: expiry or eviction).
    pub fn signal_modified_key(
        &mut self,
        db: usize,
        key: &[u8],
        current: Option<&mut crate::client::Client>,
        modifier: u64,
    ) {
        crate::commands::multi::touch_watched_key(self, db, key);
        if self.tracking.active() {
            crate::tracking::invalidate_key(self, current, modifier, key, true);
        }
    }

    /// Is an absolute expiry time already in the past, so that setting it deletes the key
    /// at once (Redis's checkAlreadyExpired)? Not while loading (the AOF replays it) nor on
    /// a replica (the master's DEL follows).
    pub fn check_already_expired(&self, when_ms: i64) -> bool {
        when_ms <= self.cmd_time_ms && !self.persistence.loading && !self.is_replica()
    }

    /// Expire `key` if its TTL elapsed (Redis's expireIfNeeded). Replicas only report it.
    pub fn expire_if_needed(
        &mut self,
        db: usize,
        key: &[u8],
        current: Option<&mut crate::client::Client>,
    ) -> bool {
        self.expire_if_needed_for(db, key, current, false)
    }

    /// [`Server::expire_if_needed`], where `writing` says the key is looked up to be
    /// written: a writable replica then deletes an expired key rather than writing over
    /// a stale value (Redis's EXPIRE_FORCE_DELETE_EXPIRED).
    pub fn expire_if_needed_for(
        &mut self,
        db: usize,
        key: &[u8],
        current: Option<&mut crate::client::Client>,
        writing: bool,
    ) -> bool {
        let now = self.cmd_time_ms;
        // Nothing expires while loading: the data set is replayed as it was.
        if self.persistence.loading || !self.dbs[db].is_expired(key, now) {
            return false;
        }
        // Replicas wait for the master's DEL (commands from the master see the key as it
        // is); during CLIENT PAUSE the key only looks expired.
        if self.is_replica() {
            if self.executing_master {
                return false;
            }
            if !writing || self.config.replica_read_only {
                return true;
            }
        }
        if self.paused().is_some() {
            return true;
        }
        self.delete_expired(db, key, current);
        true
    }
}

impl<'a> Ctx<'a> {
    /// Give `key` in `db` an absolute expiry time (Redis's setExpire). On a writable
    /// replica a TTL set by its own clients (not the master) is remembered, as nobody
    /// else would ever delete that key.
    pub fn set_expire(&mut self, db: usize, key: &[u8], when_ms: i64) {
        self.srv.dbs[db].set_expire(key, when_ms);
        if self.srv.is_replica() && !self.srv.executing_master && !self.srv.persistence.loading {
            self.srv.replica_keys_with_expire.remember(db, key);
        }
    }

    /// Expire `key` in the client's db if needed; true when it is (now) logically gone.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let db = self.client.db;
        self.srv.expire_if_needed(db, key, Some(&mut *self.client))
    }

    /// Look a key up for reading (Redis's lookupKeyRead): lazy expiry, keyspace hit/miss
    /// statistics, LRU stamp. Returns the object and the reply buffer, borrowed together.
    pub fn read(&mut self, key: &[u8]) -> (Option<&RObj>, &mut ReplyBuf) {
        self.read_with(key, true)
    }

    /// Like [`Ctx::read`] but without stamping the access clock (Redis's LOOKUP_NOTOUCH: TYPE,
    /// EXISTS, TTL and friends do not count as accesses).
    pub fn read_notouch(&mut self, key: &[u8]) -> (Option<&RObj>, &mut ReplyBuf) {
        self.read_with(key, false)
    }

    fn read_with(&mut self, key: &[u8], touch: bool) -> (Option<&RObj>, &mut ReplyBuf) {
        let expired = self.expire_if_needed(key);
        let db = self.client.db;
        let keys = &self.srv.dbs[db].keys;
        let hash = keys.hash_key(key);
        if !expired && keys.contains_hashed(hash, key) {
            let clock = self.srv.access_clock();
            self.srv.stats.keyspace_hits += 1;
            let o = self.srv.dbs[db]
                .keys
                .get_mut_hashed(hash, key)
                .expect("present");
            if touch {
                clock.touch(o);
            }
            return (Some(&*o), &mut self.client.reply);
        }
        self.srv.stats.keyspace_misses += 1;
        notify::notify_keyspace_event(
            self.srv,
            Some(&mut *self.client),
            notify::KEY_MISS,
            "keymiss",
            key,
            db,
        );
        (None, &mut self.client.reply)
    }

    /// Look a key up for writing (Redis's lookupKeyWrite): lazy expiry only.
    pub fn write(&mut self, key: &[u8]) -> Option<&mut RObj> {
        let db = self.client.db;
        if self
            .srv
            .expire_if_needed_for(db, key, Some(&mut *self.client), true)
        {
            return None;
        }
        let db = self.client.db;
        let clock = self.srv.access_clock();
        let o = self.srv.dbs[db].keys.get_mut(key)?;
        clock.touch(o);
        Some(o)
    }

    /// Does `key` exist (after lazy expiry)?
    pub fn exists(&mut self, key: &[u8]) -> bool {
        !self.expire_if_needed(key) && self.srv.dbs[self.client.db].keys.contains_key(key)
    }

    /// Read a string value; WRONGTYPE for other types.
    pub fn read_string(
        &mut self,
        key: &[u8],
    ) -> Result<(Option<&RString>, &mut ReplyBuf), CmdError> {
        match self.read(key) {
            (None, r) => Ok((None, r)),
            (
                Some(RObj {
                    value: Value::Str(s),
                    ..
                }),
                r,
            ) => Ok((Some(s), r)),
            #[allow(unreachable_patterns)]
            (Some(_), _) => Err(errors::WRONGTYPE),
        }
    }

    /// Set `key` (Redis's setKey): overwrite or add, TTL dropped unless `keep_ttl`, watchers
    /// signalled.
    pub fn set_key(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        let db = self.client.db;
        let obj = RObj::new(value, self.srv.new_obj_clock());
        if self.srv.dbs[db].set(key, obj, keep_ttl) {
            self.notify(notify::NEW, "new", key);
        }
        self.signal_modified(key);
    }

    /// Delete `key` in the client's db (after lazy expiry), signalling watchers.
    pub fn delete_key(&mut self, key: &[u8]) -> bool {
        self.delete_key_with(key, self.srv.config.lazyfree_lazy_server_del)
    }

    /// [`Ctx::delete_key`], freeing a big value in the background when `lazy`
    /// (dbGenericDelete with async: UNLINK, lazyfree-lazy-user-del).
    pub fn delete_key_with(&mut self, key: &[u8], lazy: bool) -> bool {
        self.expire_if_needed(key);
        let db = self.client.db;
        let Some(obj) = self.srv.dbs[db].take(key) else {
            return false;
        };
        if lazy {
            self.srv.lazyfree.free_object(obj);
        } else {
            drop(obj);
        }
        self.signal_modified(key);
        true
    }

    /// Invalidate WATCHes on `key` (Redis's signalModifiedKey).
    pub fn signal_modified(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.signal_modified_in(db, key);
    }

    /// [`Ctx::signal_modified`] for `key` in `db`: WATCH, blocked clients, tracking.
    pub fn signal_modified_in(&mut self, db: usize, key: &[u8]) {
        let id = self.client.id;
        self.srv
            .signal_modified_key(db, key, Some(&mut *self.client), id);
        crate::blocking::signal_key_as_ready(self.srv, db, key);
    }

    /// Fire a keyspace notification for `key` in the client's db.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        notify::notify_keyspace_event(self.srv, Some(&mut *self.client), class, event, key, db);
    }
}
