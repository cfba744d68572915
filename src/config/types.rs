//! Value types of configuration parameters that are not plain booleans,
//! integers or strings: the enum-typed parameters (`maxmemory-policy`,
//! `appendfsync`, `loglevel`, ...), the `shutdown-on-sig*` flag sets, and the
//! structured values of the "special" parameters (`save`,
//! `client-output-buffer-limit`, `replicaof`, `notify-keyspace-events`).
//!
//! Every enum implements [`ConfigEnum`], whose name table is the single source
//! for parsing, `CONFIG GET` output, rewrite output and error messages, in the
//! same order as Redis 7.0's `configEnum` arrays.

/// An enum-typed configuration parameter: a closed set of named values.
pub trait ConfigEnum: Copy + PartialEq + Sized + 'static {
    /// Accepted names in Redis's order. Several names may map to the same
    /// value; the first one is used when formatting.
    const NAMES: &'static [(&'static str, Self)];

    /// Looks a name up, ASCII case-insensitively.
    fn from_name(name: &[u8]) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, v)| v)
    }

    /// The canonical (first) name of this value.
    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|&&(_, v)| v == self)
            .map_or("unknown", |&(n, _)| n)
    }
}

macro_rules! config_enum {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }
     names { $($name:literal => $val:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty { $($(#[$vmeta])* $variant),+ }
        impl ConfigEnum for $ty {
            const NAMES: &'static [(&'static str, Self)] = &[$(($name, $ty::$val)),+];
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

config_enum! {
    /// `maxmemory-policy`: what to evict when `maxmemory` is reached.
    MaxmemoryPolicy { VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl, AllkeysLru, AllkeysLfu, AllkeysRandom, NoEviction }
    names {
        "volatile-lru" => VolatileLru, "volatile-lfu" => VolatileLfu,
        "volatile-random" => VolatileRandom, "volatile-ttl" => VolatileTtl,
        "allkeys-lru" => AllkeysLru, "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom, "noeviction" => NoEviction,
    }
}

impl MaxmemoryPolicy {
    /// True for the LRU policies.
    pub fn is_lru(self) -> bool {
        matches!(self, Self::VolatileLru | Self::AllkeysLru)
    }
    /// True for the LFU policies.
    pub fn is_lfu(self) -> bool {
        matches!(self, Self::VolatileLfu | Self::AllkeysLfu)
    }
    /// True when shared integer objects are not used (Redis's
    /// MAXMEMORY_FLAG_NO_SHARED_INTEGERS): LRU and LFU policies need an access clock of
    /// their own in every object.
    pub fn no_shared_integers(self) -> bool {
        self.is_lru() || self.is_lfu()
    }
    /// True for the `allkeys-*` policies.
    pub fn is_allkeys(self) -> bool {
        matches!(
            self,
            Self::AllkeysLru | Self::AllkeysLfu | Self::AllkeysRandom
        )
    }
}

config_enum! {
    /// `syslog-facility`.
    SyslogFacility { User, Local0, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }
    names {
        "user" => User, "local0" => Local0, "local1" => Local1, "local2" => Local2,
        "local3" => Local3, "local4" => Local4, "local5" => Local5, "local6" => Local6,
        "local7" => Local7,
    }
}

config_enum! {
    /// `loglevel`, ordered from most to least verbose (so `<` compares verbosity).
    LogLevel { Debug, Verbose, Notice, Warning }
    names { "debug" => Debug, "verbose" => Verbose, "notice" => Notice, "warning" => Warning }
}

impl PartialOrd for LogLevel {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LogLevel {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

config_enum! {
    /// `supervised`: how to talk to an init system.
    Supervised { Upstart, Systemd, Auto, No }
    names { "upstart" => Upstart, "systemd" => Systemd, "auto" => Auto, "no" => No }
}

config_enum! {
    /// `appendfsync`: AOF fsync policy.
    AppendFsync { Everysec, Always, No }
    names { "everysec" => Everysec, "always" => Always, "no" => No }
}

config_enum! {
    /// `repl-diskless-load`.
    ReplDisklessLoad { Disabled, OnEmptyDb, Swapdb }
    names { "disabled" => Disabled, "on-empty-db" => OnEmptyDb, "swapdb" => Swapdb }
}

config_enum! {
    /// `tls-auth-clients`.
    TlsAuthClients { No, Yes, Optional }
    names { "no" => No, "yes" => Yes, "optional" => Optional }
}

config_enum! {
    /// `oom-score-adj` (`yes` is a synonym of `relative` and is what
    /// `CONFIG GET` reports for it).
    OomScoreAdj { No, Relative, Absolute }
    names { "no" => No, "yes" => Relative, "relative" => Relative, "absolute" => Absolute }
}

config_enum! {
    /// `acl-pubsub-default`: default channel permissions of new ACL users.
    AclPubsubDefault { AllChannels, ResetChannels }
    names { "allchannels" => AllChannels, "resetchannels" => ResetChannels }
}

config_enum! {
    /// `sanitize-dump-payload`.
    SanitizeDumpPayload { No, Yes, Clients }
    names { "no" => No, "yes" => Yes, "clients" => Clients }
}

config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`.
    ProtectedAction { No, Yes, Local }
    names { "no" => No, "yes" => Yes, "local" => Local }
}

impl ProtectedAction {
    /// Whether a client (local = connected over loopback or a unix socket)
    /// may perform the protected action (Redis's `allowProtectedAction`).
    pub fn allows(self, client_is_local: bool) -> bool {
        self == Self::Yes || (self == Self::Local && client_is_local)
    }
}

config_enum! {
    /// `cluster-preferred-endpoint-type`.
    ClusterPreferredEndpointType { Ip, Hostname, UnknownEndpoint }
    names { "ip" => Ip, "hostname" => Hostname, "unknown-endpoint" => UnknownEndpoint }
}

config_enum! {
    /// `propagation-error-behavior`.
    PropagationErrorBehavior { Ignore, Panic, PanicOnReplicas }
    names { "ignore" => Ignore, "panic" => Panic, "panic-on-replicas" => PanicOnReplicas }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm`: a set of SHUTDOWN flags
/// (`default` is the empty set). Formats as e.g. `nosave now force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShutdownFlags(pub u32);

impl ShutdownFlags {
    /// Force a save even without save points (`save`).
    pub const SAVE: u32 = 1;
    /// Don't save (`nosave`).
    pub const NOSAVE: u32 = 2;
    /// Don't wait for replicas (`now`).
    pub const NOW: u32 = 4;
    /// Ignore errors that would prevent shutdown (`force`).
    pub const FORCE: u32 = 8;
    /// Flag names, in Redis's order.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("default", 0),
        ("save", Self::SAVE),
        ("nosave", Self::NOSAVE),
        ("now", Self::NOW),
        ("force", Self::FORCE),
    ];

    /// True when `flag` (one of the constants) is set.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }

    /// Space separated names, like `configEnumGetName` with bitflags.
    pub fn names(self) -> String {
        if let Some(&(n, _)) = Self::NAMES.iter().find(|&&(_, v)| v == self.0) {
            return n.to_string();
        }
        let mut unmatched = self.0;
        let mut out: Vec<&str> = Vec::new();
        for &(n, v) in Self::NAMES {
            if v != 0 && v == unmatched & v {
                out.push(n);
                unmatched &= !v;
            }
        }
        if out.is_empty() || unmatched != 0 {
            "unknown".to_string()
        } else {
            out.join(" ")
        }
    }
}

/// One `save <seconds> <changes>` point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaveParam {
    /// Seconds since the last save.
    pub seconds: i64,
    /// Minimum number of changes (a C `int` in Redis).
    pub changes: i64,
}

/// Client class of an output buffer limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientClass {
    /// Normal clients (index 0).
    Normal = 0,
    /// Replicas, called `slave` in `CONFIG GET` (index 1).
    Replica = 1,
    /// Pub/Sub clients (index 2).
    Pubsub = 2,
}

impl ClientClass {
    /// Parses `normal`, `slave`/`replica`, `pubsub` (not `master`), like
    /// `getClientTypeByName` restricted to the classes with limits.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"normal" => Some(Self::Normal),
            b"slave" | b"replica" => Some(Self::Replica),
            b"pubsub" => Some(Self::Pubsub),
            _ => None,
        }
    }
}

/// Output buffer limits of one client class (`client-output-buffer-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObufLimit {
    /// Disconnect as soon as the buffer exceeds this many bytes (0 = off).
    pub hard_limit_bytes: u64,
    /// Soft limit in bytes (0 = off).
    pub soft_limit_bytes: u64,
    /// Disconnect when over the soft limit for this many seconds.
    pub soft_limit_seconds: i64,
}

/// Default output buffer limits: normal, replica, pubsub.
pub const DEFAULT_OBUF_LIMITS: [ObufLimit; 3] = [
    ObufLimit {
        hard_limit_bytes: 0,
        soft_limit_bytes: 0,
        soft_limit_seconds: 0,
    },
    ObufLimit {
        hard_limit_bytes: 256 << 20,
        soft_limit_bytes: 64 << 20,
        soft_limit_seconds: 60,
    },
    ObufLimit {
        hard_limit_bytes: 32 << 20,
        soft_limit_bytes: 8 << 20,
        soft_limit_seconds: 60,
    },
];

/// The master this server replicates from (`replicaof <host> <port>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplicaOf {
    /// Master host name or address.
    pub host: String,
    /// Master port.
    pub port: u16,
}

/// Keyspace notification classes (`notify-keyspace-events` bits), identical
/// to Redis's `NOTIFY_*` values.
pub mod notify {
    /// `K`: `__keyspace@<db>__` events.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: `__keyevent@<db>__` events.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key miss events (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module-only "key loaded" notification (no letter).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new key events (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// Parses class letters (`keyspaceEventsStringToFlags`); `None` on an
    /// unknown character.
    pub fn from_letters(classes: &[u8]) -> Option<u32> {
        let mut flags = 0;
        for &c in classes {
            flags |= match c {
                b'A' => ALL,
                b'g' => GENERIC,
                b'$' => STRING,
                b'l' => LIST,
                b's' => SET,
                b'h' => HASH,
                b'z' => ZSET,
                b'x' => EXPIRED,
                b'e' => EVICTED,
                b'K' => KEYSPACE,
                b'E' => KEYEVENT,
                b't' => STREAM,
                b'm' => KEY_MISS,
                b'd' => MODULE,
                b'n' => NEW,
                _ => return None,
            };
        }
        Some(flags)
    }

    /// Formats flags as class letters (`keyspaceEventsFlagsToString`).
    pub fn to_letters(flags: u32) -> String {
        let mut s = String::new();
        if flags & ALL == ALL {
            s.push('A');
        } else {
            for (bit, c) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if flags & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names() {
        assert_eq!(
            MaxmemoryPolicy::from_name(b"ALLKEYS-LRU"),
            Some(MaxmemoryPolicy::AllkeysLru)
        );
        assert_eq!(MaxmemoryPolicy::NoEviction.name(), "noeviction");
        assert_eq!(
            OomScoreAdj::from_name(b"relative"),
            Some(OomScoreAdj::Relative)
        );
        assert_eq!(OomScoreAdj::Relative.name(), "yes");
        assert_eq!(LogLevel::from_name(b"bogus"), None);
        assert!(LogLevel::Debug < LogLevel::Warning);
        assert!(ProtectedAction::Local.allows(true));
        assert!(!ProtectedAction::Local.allows(false));
        assert!(MaxmemoryPolicy::AllkeysLfu.is_lfu() && MaxmemoryPolicy::AllkeysLfu.is_allkeys());
        assert_eq!(AppendFsync::Everysec.to_string(), "everysec");
    }

    #[test]
    fn shutdown_flags() {
        assert_eq!(ShutdownFlags(0).names(), "default");
        assert_eq!(ShutdownFlags(ShutdownFlags::SAVE).names(), "save");
        let f = ShutdownFlags(ShutdownFlags::NOSAVE | ShutdownFlags::NOW | ShutdownFlags::FORCE);
        assert_eq!(f.names(), "nosave now force");
        assert!(f.has(ShutdownFlags::NOW));
        assert_eq!(ShutdownFlags(16).names(), "unknown");
    }

    #[test]
    fn keyspace_letters() {
        assert_eq!(
            notify::from_letters(b"KEA")
                .map(notify::to_letters)
                .as_deref(),
            Some("AKE")
        );
        assert_eq!(
            notify::from_letters(b"Elgm$")
                .map(notify::to_letters)
                .as_deref(),
            Some("g$lEm")
        );
        assert_eq!(
            notify::from_letters(b"").map(notify::to_letters).as_deref(),
            Some("")
        );
        assert_eq!(notify::from_letters(b"Kq"), None);
        let all = notify::from_letters(b"g$lshzxetdnKEm").unwrap();
        assert_eq!(notify::to_letters(all), "AKEm"); // Redis drops `n` when `A` is set
        assert_eq!(all & notify::LOADED, 0);
    }

    #[test]
    fn client_classes() {
        assert_eq!(ClientClass::from_name(b"SLAVE"), Some(ClientClass::Replica));
        assert_eq!(
            ClientClass::from_name(b"replica"),
            Some(ClientClass::Replica)
        );
        assert_eq!(ClientClass::from_name(b"master"), None);
    }
}
