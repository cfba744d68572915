//! Commands as data. Every command is one [`CommandSpec`] (name, arity, flags, key specs, ACL
//! categories, documentation, handler), declared next to its handler in `commands/<family>.rs`
//! and collected into one [`table::CommandTable`] that drives dispatch, arity checks, `COMMAND`
//! and `COMMAND DOCS`, and `INFO commandstats`.
//!
//! A handler gets a [`Ctx`]: the server, the calling client, its arguments, and the hooks for
//! replication (`propagate_as`, `also_propagate`) that later persistence and replication read.

pub mod args;
pub mod docs;
pub mod keys;
pub mod table;

use bytes::Bytes;

use crate::client::Client;
use crate::db::Db;
use crate::resp::reply::ReplyBuf;
use crate::server::Server;

/// What a handler returns: replies were written to the client, or one error to send.
pub type CmdResult = Result<(), CmdError>;

/// A command handler.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// An error reply. The text is what follows `-` on the wire, code included (`ERR ...`,
/// `WRONGTYPE ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Static(&'static str),
    Owned(String),
}

impl CmdError {
    /// An `ERR`-prefixed error from formatted text.
    pub fn err(msg: impl std::fmt::Display) -> CmdError {
        CmdError::Owned(format!("ERR {msg}"))
    }

    /// The full error text.
    pub fn text(&self) -> &str {
        match self {
            CmdError::Static(s) => s,
            CmdError::Owned(s) => s,
        }
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError::Owned(s)
    }
}

/// Redis's shared error replies.
pub mod errors {
    use super::CmdError;
    pub const WRONGTYPE: CmdError =
        CmdError::Static("WRONGTYPE Operation against a key holding the wrong kind of value");
    pub const SYNTAX: CmdError = CmdError::Static("ERR syntax error");
    pub const NOT_INTEGER: CmdError =
        CmdError::Static("ERR value is not an integer or out of range");
    pub const NOT_FLOAT: CmdError = CmdError::Static("ERR value is not a valid float");
    pub const NO_SUCH_KEY: CmdError = CmdError::Static("ERR no such key");
    pub const OUT_OF_RANGE: CmdError = CmdError::Static("ERR index out of range");
    pub const NOAUTH: CmdError = CmdError::Static("NOAUTH Authentication required.");
    pub const DB_INDEX: CmdError = CmdError::Static("ERR DB index is out of range");
    pub const SAME_OBJECT: CmdError =
        CmdError::Static("ERR source and destination objects are the same");
    pub const OVERFLOW: CmdError = CmdError::Static("ERR increment or decrement would overflow");
    pub const TIMEOUT_NEG: CmdError = CmdError::Static("ERR timeout is negative");
    pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
}

/// Command flags (Redis's CMD_*).
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const MODULE: u64 = 1 << 3;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 8;
    pub const LOADING: u64 = 1 << 9;
    pub const STALE: u64 = 1 << 10;
    pub const SKIP_MONITOR: u64 = 1 << 11;
    pub const SKIP_SLOWLOG: u64 = 1 << 12;
    pub const ASKING: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const NO_AUTH: u64 = 1 << 15;
    pub const MAY_REPLICATE: u64 = 1 << 16;
    pub const SENTINEL: u64 = 1 << 17;
    pub const ONLY_SENTINEL: u64 = 1 << 18;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 19;
    pub const PROTECTED: u64 = 1 << 20;
    pub const NO_ASYNC_LOADING: u64 = 1 << 23;
    pub const NO_MULTI: u64 = 1 << 24;
    pub const MOVABLE_KEYS: u64 = 1 << 25;
    pub const ALLOW_BUSY: u64 = 1 << 26;
    /// May lazily expire keys it does not name (SCAN, RANDOMKEY): their DELs are not
    /// wrapped in MULTI/EXEC. Hidden from COMMAND INFO, as in Redis.
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 28;

    /// Names as COMMAND INFO prints them, in Redis's order. Like Redis, `may_replicate` (and
    /// the sentinel and protected flags) are not shown.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories.
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    /// Category names in Redis's order.
    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Key spec flags (Redis's CMD_KEY_*).
pub mod keyflags {
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Names in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where the key search starts.
#[derive(Debug, Clone, Copy)]
pub enum BeginSearch {
    Index(i32),
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    Unknown,
}

/// How keys are found from the start position.
#[derive(Debug, Clone, Copy)]
pub enum FindKeys {
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        step: i32,
    },
    Unknown,
}

/// One key spec (Redis 7 `key_specs`).
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub flags: u32,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl KeySpec {
    /// A single key at `index`.
    pub const fn one(index: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }
    }

    /// Keys from `index` to `lastkey` (negative counts from the end) every `step`.
    pub const fn range(index: i32, lastkey: i32, step: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey,
                step,
                limit: 0,
            },
        }
    }

    /// A key count at `index` followed by that many keys (`firstkey` relative to it).
    pub const fn keynum(
        index: i32,
        keynumidx: i32,
        firstkey: i32,
        step: i32,
        flags: u32,
    ) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            },
        }
    }

    /// Keys after `keyword`, searched from `startfrom`.
    pub const fn keyword(
        keyword: &'static str,
        startfrom: i32,
        lastkey: i32,
        step: i32,
        limit: i32,
        flags: u32,
    ) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Keyword { keyword, startfrom },
            find: FindKeys::Range {
                lastkey,
                step,
                limit,
            },
        }
    }
}

/// Command groups as COMMAND DOCS reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    PubSub,
    Transactions,
    Connection,
    Server,
    Scripting,
    HyperLogLog,
    Cluster,
    Sentinel,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    /// Name in COMMAND DOCS.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::HyperLogLog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// A command, or a subcommand of a container command, as data.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name (the subcommand's own name for subcommands).
    pub name: &'static str,
    /// Redis arity: positive = exact argc, negative = at least -arity.
    pub arity: i32,
    pub flags: u64,
    /// ACL categories beyond those implied by flags.
    pub acl: u64,
    pub keys: &'static [KeySpec],
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Argument syntax in the docs' grammar, parsed by [`docs`] for COMMAND DOCS.
    pub syntax: &'static str,
    pub tips: &'static [&'static str],
    /// Custom key extraction for commands with movable keys.
    pub getkeys: Option<GetKeysFn>,
}

/// Custom key extraction (Redis's getkeys_proc): positions of the keys in an argv, each
/// with its key-spec flags.
pub type GetKeysFn = fn(&[Bytes]) -> Vec<(usize, u32)>;

impl CommandSpec {
    /// A command with defaults; refine with the builder methods.
    pub const fn new(name: &'static str, arity: i32, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags: 0,
            acl: 0,
            keys: &[],
            handler: Some(handler),
            subcommands: &[],
            group: Group::Generic,
            since: "1.0.0",
            summary: "",
            complexity: "",
            syntax: "",
            tips: &[],
            getkeys: None,
        }
    }

    /// A container command (CONFIG, CLIENT, ...) dispatching to subcommands.
    pub const fn container(name: &'static str, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            name,
            arity: -2,
            flags: 0,
            acl: 0,
            keys: &[],
            handler: None,
            subcommands,
            group: Group::Generic,
            since: "1.0.0",
            summary: "",
            complexity: "",
            syntax: "",
            tips: &[],
            getkeys: None,
        }
    }

    /// Give a command with its own handler subcommands too (COMMAND).
    pub const fn subcommands_of(mut self, subs: &'static [CommandSpec]) -> Self {
        self.subcommands = subs;
        self
    }

    pub const fn flags(mut self, f: u64) -> Self {
        self.flags = f;
        self
    }
    pub const fn acl(mut self, a: u64) -> Self {
        self.acl = a;
        self
    }
    pub const fn keys(mut self, k: &'static [KeySpec]) -> Self {
        self.keys = k;
        self
    }
    pub const fn group(mut self, g: Group) -> Self {
        self.group = g;
        self
    }
    pub const fn since(mut self, s: &'static str) -> Self {
        self.since = s;
        self
    }
    pub const fn doc(mut self, summary: &'static str, complexity: &'static str) -> Self {
        self.summary = summary;
        self.complexity = complexity;
        self
    }
    pub const fn syntax(mut self, s: &'static str) -> Self {
        self.syntax = s;
        self
    }
    pub const fn tips(mut self, t: &'static [&'static str]) -> Self {
        self.tips = t;
        self
    }
    pub const fn getkeys(mut self, f: GetKeysFn) -> Self {
        self.getkeys = Some(f);
        self.flags |= flags::MOVABLE_KEYS;
        self
    }
    /// Key extraction for a command whose one key spec has VARIABLE_FLAGS (SET, BITFIELD):
    /// the key positions are fixed, only their flags depend on the arguments.
    pub const fn varflags(mut self, f: GetKeysFn) -> Self {
        self.getkeys = Some(f);
        self
    }

    #[inline]
    pub fn has(&self, f: u64) -> bool {
        self.flags & f != 0
    }

    /// ACL categories including those Redis derives from the flags and group.
    pub fn acl_categories(&self) -> u64 {
        let mut a = self.acl;
        if self.has(flags::WRITE) {
            a |= acl::WRITE;
        }
        if self.has(flags::READONLY) && self.acl & acl::SCRIPTING == 0 {
            a |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            a |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            a |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            a |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            a |= acl::BLOCKING;
        }
        if a & acl::FAST == 0 {
            a |= acl::SLOW;
        }
        a
    }

    /// Can keys sit where the legacy (first, last, step) range does not say (Redis's
    /// CMD_MOVABLE_KEYS, derived from the key specs as populateCommandLegacyRangeSpec
    /// does): a spec found by keyword or key count, a range with a step other than 1 or
    /// not following the previous one, or an incomplete spec.
    pub fn movable_keys(&self) -> bool {
        if self.flags & flags::MOVABLE_KEYS != 0 {
            return true;
        }
        let mut prev_last = 0;
        let mut any_range = false;
        for ks in self.keys {
            if ks.flags & keyflags::INCOMPLETE != 0 {
                return true;
            }
            let (BeginSearch::Index(idx), FindKeys::Range { lastkey, step, .. }) =
                (ks.begin, ks.find)
            else {
                return true;
            };
            if self.keys.len() == 1 {
                return false;
            }
            if step != 1 || (prev_last != 0 && prev_last != idx - 1) {
                return true;
            }
            any_range = true;
            let last = if lastkey >= 0 { idx + lastkey } else { lastkey };
            // As Redis compares them, unsigned: a negative (to the end) last key wins.
            prev_last = (prev_last as u32).max(last as u32) as i32;
        }
        !self.keys.is_empty() && !any_range
    }

    /// Legacy (first, last, step) key range as COMMAND INFO reports it.
    pub fn legacy_range(&self) -> (i32, i32, i32) {
        let mut first = 0;
        let mut last = 0;
        let mut step = 0;
        let mut prev_last = 0;
        for (i, ks) in self.keys.iter().enumerate() {
            let BeginSearch::Index(idx) = ks.begin else {
                continue;
            };
            let FindKeys::Range {
                lastkey, step: s, ..
            } = ks.find
            else {
                continue;
            };
            if i == 0 || first == 0 {
                first = idx;
                step = s;
                last = if lastkey < 0 { lastkey } else { idx + lastkey };
                prev_last = last;
                continue;
            }
            if s != step || idx != prev_last + step && prev_last >= 0 {
                continue;
            }
            last = if lastkey < 0 { lastkey } else { idx + lastkey };
            prev_last = last;
        }
        (first, last, step)
    }
}

/// Where a propagated command goes instead of (or besides) the one executed.
#[derive(Debug, Default)]
pub struct Propagation {
    /// Replace the executed command's argv in the replication/AOF stream
    /// (Redis's rewriteClientCommandVector).
    pub rewritten: Option<Vec<Bytes>>,
    /// Do not propagate the executed command itself (Redis's preventCommandPropagation).
    pub prevent: bool,
    /// Propagate the command even if it changed nothing (Redis's forceCommandPropagation).
    pub force: bool,
}

/// Everything a handler can reach while it runs.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub argv: &'a [Bytes],
    pub cmd: &'static CommandSpec,
    pub prop: Propagation,
    /// Arguments (bit i = argv[i]) shown as `(redacted)` in SLOWLOG and MONITOR
    /// (Redis's redactClientCommandArgument): passwords and ACL rules.
    pub redacted: u64,
}

impl<'a> Ctx<'a> {
    /// The reply buffer of the calling client.
    #[inline]
    pub fn reply(&mut self) -> &mut ReplyBuf {
        &mut self.client.reply
    }

    /// The calling client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.dbs[self.client.db]
    }

    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn arg(&self, i: usize) -> &'a [u8] {
        &self.argv[i]
    }

    /// Write an error reply, counting it in the error stats.
    pub fn error(&mut self, e: &CmdError) {
        self.srv.stats.record_error(e.text());
        self.client.reply.error_line(e.text().as_bytes());
    }

    /// Hide argument `i` from SLOWLOG and MONITOR.
    pub fn redact(&mut self, i: usize) {
        if i < 64 {
            self.redacted |= 1 << i;
        }
    }

    /// Propagate `argv` instead of the command as executed.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        self.prop.rewritten = Some(argv);
    }

    /// Also propagate `argv` against db `db` (Redis's alsoPropagate): it goes out, in
    /// order, with what the rest of the execution unit propagates.
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        self.srv.also_propagate(db, argv);
    }

    /// Current time in milliseconds, cached for the command like Redis's `commandTimeSnapshot`:
    /// inside a command, "now" is the time the command started.
    #[inline]
    #[allow(clippy::misnamed_getters)]
    pub fn now_ms(&self) -> i64 {
        self.srv.cmd_time_ms
    }

    /// Mark `n` changes to the dataset (Redis's server.dirty).
    #[inline]
    pub fn dirty(&mut self, n: u64) {
        self.srv.dirty += n;
    }
}
