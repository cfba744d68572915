//! Access control lists (Redis's acl.c): users, their passwords and selectors, the rule
//! language of ACL SETUSER / `user` directives / ACL files, permission checks, and the ACL
//! log ([`log`]).
//!
//! Users live in a slab ([`Acl::users`]) so a client refers to its user by [`UserId`]; the
//! `default` user is always id [`DEFAULT_USER`]. A client with no user (`None`: the master
//! link, AOF loading) may run anything. Deleting a user, or replacing all of them with
//! ACL LOAD, disconnects its clients, so no client ever holds a stale id.
//!
//! The hot path: a user whose root selector allows all commands, keys and channels is
//! flagged [`User::unrestricted`], and checking it is one flag test.

pub mod clients;
pub mod log;
pub mod selector;

use std::collections::BTreeMap;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::command::table::CommandTable;
use selector::{has_spaces, sflags};
pub use selector::{Denied, RuleError, Rules, Selector};

/// The rule context for a server: its command table and `acl-pubsub-default`.
pub fn rules<'a>(commands: &'a CommandTable, config: &crate::config::Config) -> Rules<'a> {
    Rules {
        commands,
        pubsub_all: config.acl_pubsub_default == crate::config::AclPubsubDefault::AllChannels,
    }
}

/// Index of a user in [`Acl::users`].
pub type UserId = usize;

/// The `default` user's id.
pub const DEFAULT_USER: UserId = 0;

/// User flags (Redis's USER_FLAG_*).
pub mod uflags {
    pub const ENABLED: u8 = 1 << 0;
    pub const DISABLED: u8 = 1 << 1;
    pub const NOPASS: u8 = 1 << 2;
    pub const SANITIZE_PAYLOAD_SKIP: u8 = 1 << 3;
    pub const SANITIZE_PAYLOAD: u8 = 1 << 4;

    /// Names in the order ACL LIST prints them.
    pub const NAMES: &[(u8, &str)] = &[
        (ENABLED, "on"),
        (DISABLED, "off"),
        (NOPASS, "nopass"),
        (SANITIZE_PAYLOAD_SKIP, "skip-sanitize-payload"),
        (SANITIZE_PAYLOAD, "sanitize-payload"),
    ];
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub flags: u8,
    /// SHA-256 hex digests of the passwords.
    pub passwords: Vec<String>,
    /// The root selector first, then the `(...)` selectors.
    pub selectors: Vec<Selector>,
    /// The root selector allows every command, key and channel: nothing to check.
    pub unrestricted: bool,
}

/// The lowercase hex SHA-256 of a password (ACLHashPassword).
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

/// A valid `#hash`: 64 lowercase hex characters.
fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compare two equal-length strings in time independent of where they differ.
fn time_independent_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl User {
    /// A new user: disabled, no passwords, an empty root selector (ACLCreateUser).
    pub fn new(name: &[u8], rules: &Rules) -> User {
        let mut u = User {
            name: name.to_vec(),
            flags: uflags::DISABLED,
            passwords: Vec::new(),
            selectors: vec![Selector::new(sflags::ROOT, rules)],
            unrestricted: false,
        };
        u.refresh();
        u
    }

    /// The `default` user as created at start-up: everything allowed, no password.
    pub fn new_default(rules: &Rules) -> User {
        let mut u = User::new(b"default", rules);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(op.as_bytes(), rules).expect("default user rules");
        }
        u
    }

    #[inline]
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    fn refresh(&mut self) {
        let root = &self.selectors[0];
        self.unrestricted = root.has(sflags::ALLCOMMANDS)
            && root.has(sflags::ALLKEYS)
            && root.has(sflags::ALLCHANNELS);
    }

    /// Apply one rule (Redis's ACLSetUser).
    pub fn apply(&mut self, op: &[u8], rules: &Rules) -> Result<(), RuleError> {
        let r = self.apply_inner(op, rules);
        self.refresh();
        r
    }

    fn apply_inner(&mut self, op: &[u8], rules: &Rules) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        if is("on") {
            self.flags = (self.flags | uflags::ENABLED) & !uflags::DISABLED;
        } else if is("off") {
            self.flags = (self.flags | uflags::DISABLED) & !uflags::ENABLED;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | uflags::SANITIZE_PAYLOAD_SKIP) & !uflags::SANITIZE_PAYLOAD;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | uflags::SANITIZE_PAYLOAD) & !uflags::SANITIZE_PAYLOAD_SKIP;
        } else if is("nopass") {
            self.flags |= uflags::NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !uflags::NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !uflags::NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            let pos = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(pos);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(0, rules);
            // Unbalanced quotes give no rules at all, as sdssplitargs does.
            let ops = crate::config::parse::split_args(&op[1..op.len() - 1]).unwrap_or_default();
            for o in &ops {
                s.apply(o, rules)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply_inner(op.as_bytes(), rules)?;
            }
            if rules.pubsub_all {
                self.apply_inner(b"allchannels", rules)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply_inner(op.as_bytes(), rules)?;
            }
        } else {
            self.selectors[0].apply(op, rules)?;
        }
        Ok(())
    }

    /// Apply a list of rules as one change (ACLStringSetUser's validation): selectors
    /// spread over several arguments are merged first; on an error nothing changes and the
    /// error reply text is returned.
    pub fn apply_all(&mut self, args: &[&[u8]], rules: &Rules) -> Result<(), String> {
        let merged = merge_selector_args(args).map_err(|i| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(args[i])
            )
        })?;
        let mut staged = self.clone();
        for op in &merged {
            staged.apply(op, rules).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(op),
                    e.message()
                )
            })?;
        }
        *self = staged;
        Ok(())
    }

    /// Whether `pass` authenticates this user (ACLCheckUserCredentials, minus the lookup).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.has(uflags::DISABLED) {
            return false;
        }
        if self.has(uflags::NOPASS) {
            return true;
        }
        let hashed = hash_password(pass);
        self.passwords
            .iter()
            .any(|p| time_independent_eq(p.as_bytes(), hashed.as_bytes()))
    }

    /// The rules that recreate this user, as ACL LIST prints them after the name
    /// (ACLDescribeUser).
    pub fn describe(&self, table: &CommandTable) -> Vec<u8> {
        let mut out = Vec::new();
        for &(f, name) in uflags::NAMES {
            if self.has(f) {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
            }
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            let d = s.describe(table);
            if i == 0 {
                out.extend_from_slice(&d);
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&d);
                out.push(b')');
            }
        }
        out
    }

    /// Check a command against every selector (ACLCheckAllUserCommandPerm): allowed when
    /// one selector allows it; otherwise the most relevant denial across selectors.
    pub fn check_command(
        &self,
        table: &CommandTable,
        id: usize,
        argv: &[Bytes],
    ) -> Result<(), Denied> {
        if self.unrestricted {
            return Ok(());
        }
        let mut keys = None;
        let mut worst = Denied::Command;
        for s in &self.selectors {
            match s.check_command(table, id, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if d.outranks(worst) {
                        worst = d;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether one selector allows the command and grants `kflags` access to every key
    /// (ACLUserCheckCmdWithUnrestrictedKeyAccess; SORT BY/GET need it).
    pub fn check_command_all_keys(
        &self,
        table: &CommandTable,
        id: usize,
        argv: &[Bytes],
        kflags: u32,
    ) -> bool {
        let mut keys = None;
        self.selectors.iter().any(|s| {
            s.check_command(table, id, argv, &mut keys).is_ok()
                && s.has_unrestricted_key_access(kflags)
        })
    }

    /// Whether a selector allows the channel (ACLUserCheckChannelPerm).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.has(sflags::ALLCHANNELS)
                || selector::channel_allowed(&s.channels, channel, is_pattern)
        })
    }

    /// Whether some selector has all channels.
    pub fn has_all_channels(&self) -> bool {
        self.selectors.iter().any(|s| s.has(sflags::ALLCHANNELS))
    }

    /// Every channel pattern of every selector.
    pub fn all_channel_patterns(&self) -> Vec<Vec<u8>> {
        self.selectors
            .iter()
            .flat_map(|s| s.channels.iter().cloned())
            .collect()
    }
}

/// Join selectors split over several arguments (`(+get` `~key)`) back into one
/// (ACLMergeSelectorArguments). `Err` holds the index of an unclosed `(`.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, &op) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().expect("open selector").1);
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// All users and the ACL log.
#[derive(Debug)]
pub struct Acl {
    /// Users by id; deleted users leave `None`.
    pub users: Vec<Option<User>>,
    /// Ids by name, in name order (ACL LIST / USERS order).
    by_name: BTreeMap<Vec<u8>, UserId>,
    pub log: log::AclLog,
}

impl Acl {
    /// Only the default user (ACLInit).
    pub fn new(rules: &Rules) -> Acl {
        let mut acl = Acl {
            users: Vec::new(),
            by_name: BTreeMap::new(),
            log: log::AclLog::default(),
        };
        acl.insert(User::new_default(rules));
        acl
    }

    fn insert(&mut self, u: User) -> UserId {
        let name = u.name.clone();
        let id = match self.users.iter().position(|s| s.is_none()) {
            Some(id) => {
                self.users[id] = Some(u);
                id
            }
            None => {
                self.users.push(Some(u));
                self.users.len() - 1
            }
        };
        self.by_name.insert(name, id);
        id
    }

    /// The user with id `id`.
    #[inline]
    pub fn user(&self, id: UserId) -> &User {
        self.users[id].as_ref().expect("live user id")
    }

    pub fn user_mut(&mut self, id: UserId) -> &mut User {
        self.users[id].as_mut().expect("live user id")
    }

    /// The default user.
    #[inline]
    pub fn default_user(&self) -> &User {
        self.user(DEFAULT_USER)
    }

    /// A user id by name.
    pub fn lookup(&self, name: &[u8]) -> Option<UserId> {
        self.by_name.get(name).copied()
    }

    /// User ids in name order.
    pub fn ids(&self) -> impl Iterator<Item = UserId> + '_ {
        self.by_name.values().copied()
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Never: the default user always exists.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Is a connection that did not authenticate let in? Only while `default` is enabled
    /// and needs no password (the negation of Redis's authRequired for such a client).
    #[inline]
    pub fn default_is_open(&self) -> bool {
        let d = self.default_user();
        d.has(uflags::NOPASS) && !d.has(uflags::DISABLED)
    }

    /// Does a client with this authentication state have to AUTH first (authRequired)?
    #[inline]
    pub fn auth_required(&self, authenticated: bool) -> bool {
        !authenticated && !self.default_is_open()
    }

    /// The user `name` authenticates with `pass` (ACLCheckUserCredentials).
    pub fn check_credentials(&self, name: &[u8], pass: &[u8]) -> Option<UserId> {
        let id = self.lookup(name)?;
        self.user(id).password_ok(pass).then_some(id)
    }

    /// Create user `name` from `u` or replace its rules, keeping its id.
    pub fn put(&mut self, u: User) -> UserId {
        match self.lookup(&u.name) {
            Some(id) => {
                *self.user_mut(id) = u;
                id
            }
            None => self.insert(u),
        }
    }

    /// Remove a user (never the default one); returns its id.
    pub fn remove(&mut self, name: &[u8]) -> Option<UserId> {
        let id = self.lookup(name)?;
        if id == DEFAULT_USER {
            return None;
        }
        self.by_name.remove(name);
        self.users[id] = None;
        Some(id)
    }

    /// Replace every user but keep the default user's id (ACL LOAD): `users` must contain
    /// a `default`. Returns the ids that no longer exist (their clients must go).
    pub fn replace_all(&mut self, users: Vec<User>) -> Vec<UserId> {
        let gone: Vec<UserId> = self.ids().filter(|&id| id != DEFAULT_USER).collect();
        let mut default = None;
        let mut others = Vec::new();
        for u in users {
            if u.name == b"default" {
                default = Some(u);
            } else {
                others.push(u);
            }
        }
        let default = default.expect("a default user");
        self.users = vec![Some(default)];
        self.by_name = BTreeMap::new();
        self.by_name.insert(b"default".to_vec(), DEFAULT_USER);
        for u in others {
            self.insert(u);
        }
        gone
    }

    /// `requirepass`: the default user gets this one password, or none at all
    /// (ACLUpdateDefaultUserPassword).
    pub fn set_default_password(&mut self, pass: Option<&[u8]>, rules: &Rules) {
        let d = self.user_mut(DEFAULT_USER);
        let _ = d.apply(b"resetpass", rules);
        match pass {
            Some(p) => {
                let mut op = b">".to_vec();
                op.extend_from_slice(p);
                let _ = d.apply(&op, rules);
            }
            None => {
                let _ = d.apply(b"nopass", rules);
            }
        }
    }

    /// `user <name> <rules>` lines for every user, in name order (ACL SAVE, CONFIG
    /// REWRITE, ACL LIST).
    pub fn list(&self, table: &CommandTable) -> Vec<Vec<u8>> {
        self.ids()
            .map(|id| {
                let u = self.user(id);
                let mut line = b"user ".to_vec();
                line.extend_from_slice(&u.name);
                line.push(b' ');
                line.extend_from_slice(&u.describe(table));
                line
            })
            .collect()
    }
}

impl Acl {
    /// The users as CONFIG REWRITE writes them (`user` lines without the keyword).
    pub fn rewrite_lines(&self, table: &CommandTable) -> Vec<String> {
        self.list(table)
            .into_iter()
            .map(|l| String::from_utf8_lossy(&l[5..]).into_owned())
            .collect()
    }
}

/// Validate a `user` directive of the configuration (ACLAppendUserForLoading): the rules
/// must parse, though unknown commands are only reported when the users are created.
/// `Err` holds the index into `args` Redis reports (its index into the merged rules, kept
/// as Redis computes it) and the reason.
pub fn validate_user_directive(
    args: &[Vec<u8>],
    seen: &[Vec<u8>],
    rules: &Rules,
) -> Result<(), (usize, String)> {
    if seen.contains(&args[1]) {
        return Err((1, RuleError::DuplicateUser.message().to_string()));
    }
    let ops: Vec<&[u8]> = args[2..].iter().map(|a| a.as_slice()).collect();
    let merged = merge_selector_args(&ops).map_err(|i| (i, "Syntax error".to_string()))?;
    let mut fake = User::new(b"__fakeuser__", rules);
    for (j, op) in merged.iter().enumerate() {
        match fake.apply(op, rules) {
            Err(RuleError::UnknownCommand) | Ok(()) => {}
            Err(e) => return Err((j, e.message().to_string())),
        }
    }
    Ok(())
}

/// Create the users of the configuration's `user` directives (ACLLoadConfiguredUsers): a
/// `default` entry resets and redefines the default user.
pub fn load_configured_users(
    acl: &mut Acl,
    directives: &[Vec<Vec<u8>>],
    rules: &Rules,
) -> Result<(), String> {
    for args in directives {
        let name = &args[1];
        if has_spaces(name) {
            return Err("Spaces not allowed in ACL usernames".to_string());
        }
        let mut u = match acl.lookup(name) {
            Some(id) => {
                let mut u = acl.user(id).clone();
                let _ = u.apply(b"reset", rules);
                u
            }
            None => User::new(name, rules),
        };
        let ops: Vec<&[u8]> = args[2..].iter().map(|a| a.as_slice()).collect();
        let merged = merge_selector_args(&ops).unwrap_or_default();
        for op in &merged {
            if let Err(e) = u.apply(op, rules) {
                return Err(format!(
                    "Error loading ACL rule '{}' for the user named '{}': {}",
                    String::from_utf8_lossy(op),
                    String::from_utf8_lossy(name),
                    e.message()
                ));
            }
        }
        if u.has(uflags::DISABLED) {
            ::log::info!("The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.", String::from_utf8_lossy(name));
        }
        acl.put(u);
    }
    Ok(())
}

/// Parse an ACL file into users (ACLLoadFromFile without the swap): every user line must
/// be valid, else the error text lists the problems. A `default` user is added when the
/// file has none.
pub fn parse_acl_file(filename: &str, rules: &Rules) -> Result<Vec<User>, String> {
    let content = std::fs::read(filename).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{}': {}",
            filename,
            crate::config::strerror(&e)
        )
    })?;
    let mut errors = String::new();
    let mut users: Vec<User> = Vec::new();
    for (i, line) in content.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line
            .split(|&b| b == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{}:{} should start with user keyword followed by the username. ",
                filename, linenum
            ));
            continue;
        }
        if has_spaces(argv[1]) {
            errors.push_str(&format!(
                "'{}:{}: username '{}' contains invalid characters. ",
                filename,
                linenum,
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        if users.iter().any(|u| u.name == argv[1]) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {}. ",
                String::from_utf8_lossy(argv[1]),
                linenum
            ));
            continue;
        }
        let mut u = User::new(argv[1], rules);
        let merged = match merge_selector_args(&argv[2..]) {
            Ok(m) => m,
            Err(_) => {
                errors.push_str(&format!(
                    "{}:{}: Unmatched parenthesis in selector definition.",
                    filename, linenum
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            if let Err(e) = u.apply(op, rules) {
                if e == RuleError::UnknownCommand {
                    errors.push_str(&format!(
                        "{}:{}: Error in applying operation '{}': {}. ",
                        filename,
                        linenum,
                        String::from_utf8_lossy(op),
                        e.message()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{}:{}: {}. ", filename, linenum, e.message()));
                    syntax_error = true;
                }
            }
        }
        users.push(u);
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    if !users.iter().any(|u| u.name == b"default") {
        users.push(User::new_default(rules));
    }
    Ok(users)
}

/// Write the users to `filename` through a temporary file (ACLSaveToFile).
pub fn save_acl_file(filename: &str, lines: &[Vec<u8>]) -> std::io::Result<()> {
    let mut content = Vec::new();
    for l in lines {
        content.extend_from_slice(l);
        content.push(b'\n');
    }
    let tmp = format!(
        "{}.tmp-{}-{}",
        filename,
        std::process::id(),
        crate::server::mstime()
    );
    let res = std::fs::write(&tmp, &content).and_then(|()| std::fs::rename(&tmp, filename));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests;
