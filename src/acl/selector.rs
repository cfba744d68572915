//! One ACL selector (Redis's `aclSelector`): which commands (a bit per command-table entry,
//! plus allowed first arguments), which keys (glob patterns with read/write permissions)
//! and which Pub/Sub channels a user may use. Every user has a root selector and any
//! number of extra `(...)` selectors; a command is allowed when one selector allows it.
//!
//! Selectors parse the rule language (`+get`, `-@write`, `~obj:*`, `%R~pat`, `&chan`, ...)
//! and print it back in the canonical form of ACL LIST / ACL GETUSER
//! ([`Selector::describe_commands`] reproduces Redis's best-fit category search).

use bytes::Bytes;

use crate::command::table::CommandTable;
use crate::command::{acl as cat, flags, keyflags, keys, CommandSpec};
use crate::util::glob::string_match;

/// Selector flags (Redis's SELECTOR_FLAG_*).
pub mod sflags {
    /// The user's root selector (rules outside parentheses).
    pub const ROOT: u8 = 1 << 0;
    pub const ALLKEYS: u8 = 1 << 1;
    pub const ALLCOMMANDS: u8 = 1 << 2;
    pub const ALLCHANNELS: u8 = 1 << 3;
}

/// Key pattern permissions (Redis's ACL_READ_PERMISSION / ACL_WRITE_PERMISSION).
pub const PERM_READ: u8 = 1 << 0;
pub const PERM_WRITE: u8 = 1 << 1;
pub const PERM_ALL: u8 = PERM_READ | PERM_WRITE;

/// Why a rule was refused (the errno values of Redis's ACLSetUser), with Redis's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    KeyAfterAllKeys,
    ChannelAfterAllChannels,
    NoSuchPassword,
    BadHash,
    DuplicateUser,
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis's ACLSetUserStringError text.
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::DuplicateUser => "Duplicate user found. A user can only be defined once in config files",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a command was denied, with the argument position of the key or channel. The order
/// is Redis's ACL_DENIED_* order, used to pick the error to report across selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }

    /// Whether this denial is the one to report instead of `other` (a worse reason, or the
    /// same reason at a later argument).
    pub fn outranks(self, other: Denied) -> bool {
        let (a, ai) = self.rank();
        let (b, bi) = other.rank();
        a > b || (a == b && ai > bi)
    }
}

/// A key pattern with the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub perms: u8,
    pub pattern: Vec<u8>,
}

impl KeyPattern {
    /// `~pat`, `%R~pat` or `%W~pat`.
    fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.perms {
            PERM_READ => b"%R~".as_slice(),
            PERM_WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// What the rules need from the rest of the server.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub commands: &'a CommandTable,
    /// `acl-pubsub-default allchannels`: new selectors start with all channels.
    pub pubsub_all: bool,
}

/// One selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub flags: u8,
    /// A bit per command-table entry.
    allowed: Vec<u64>,
    /// The reserved bit of Redis's bitmap, set only by `+@all`: the rules were written
    /// subtractively, so commands added later are allowed too.
    future: bool,
    /// First arguments allowed for otherwise denied commands (`+select|0`).
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

/// The glob-matched channel list check (ACLCheckChannelAgainstList): a channel matches the
/// ACL patterns; a PSUBSCRIBE pattern must equal one literally.
pub fn channel_allowed(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p.as_slice() == channel
        } else {
            string_match(p, channel, false)
        }
    })
}

/// Which arguments of a command are channels (Redis's commands_with_channels): the first
/// argument index, how many (`None`: all the rest), and whether they are patterns. Only
/// publishing and subscribing is checked; unsubscribing never is.
fn channel_args(spec: &CommandSpec) -> Option<(usize, Option<usize>, bool)> {
    match spec.name {
        "subscribe" | "ssubscribe" => Some((1, None, false)),
        "psubscribe" => Some((1, None, true)),
        "publish" | "spublish" => Some((1, Some(1), false)),
        _ => None,
    }
}

/// Does a string contain whitespace or NUL (ACLStringHasSpaces)?
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// A category by name, case-insensitively.
pub fn category_by_name(name: &[u8]) -> Option<u64> {
    cat::NAMES
        .iter()
        .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|(f, _)| *f)
}

impl Selector {
    /// An empty selector (no commands, keys or channels; all channels when
    /// `acl-pubsub-default` says so).
    pub fn new(flags: u8, rules: &Rules) -> Selector {
        let n = rules.commands.entries.len();
        Selector {
            flags: flags
                | if rules.pubsub_all {
                    sflags::ALLCHANNELS
                } else {
                    0
                },
            allowed: vec![0; n.div_ceil(64)],
            future: false,
            firstargs: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    #[inline]
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Whether the bit of command `id` is set (not considering ALLCOMMANDS).
    #[inline]
    pub fn command_bit(&self, id: usize) -> bool {
        self.allowed
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        let Some(w) = self.allowed.get_mut(id / 64) else {
            return;
        };
        if on {
            *w |= 1 << (id % 64);
        } else {
            *w &= !(1 << (id % 64));
            self.flags &= !sflags::ALLCOMMANDS;
        }
    }

    fn reset_firstargs(&mut self, id: usize) {
        self.firstargs.retain(|(i, _)| *i != id);
    }

    /// Allow or deny one command; a container's subcommands follow it
    /// (ACLChangeSelectorPerm).
    fn change_perm(&mut self, table: &CommandTable, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.reset_firstargs(id);
        for &sub in table.entries[id].subs.values() {
            self.set_bit(sub, allow);
        }
    }

    fn set_all(&mut self, allow: bool) {
        let word = if allow { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = word);
        self.future = allow;
        if allow {
            self.flags |= sflags::ALLCOMMANDS;
        } else {
            self.flags &= !sflags::ALLCOMMANDS;
        }
        self.firstargs.clear();
    }

    /// `+@cat` / `-@cat` over every command and subcommand, in table order.
    fn set_category(&mut self, table: &CommandTable, cflag: u64, allow: bool) {
        for id in 0..table.entries.len() {
            if table.entries[id].spec.acl_categories() & cflag != 0 {
                self.change_perm(table, id, allow);
            }
        }
    }

    /// How many commands of a category are allowed and denied.
    fn count_category(&self, table: &CommandTable, cflag: u64) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (id, e) in table.entries.iter().enumerate() {
            if e.spec.acl_categories() & cflag != 0 {
                if self.command_bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    fn add_firstarg(&mut self, id: usize, arg: &[u8]) {
        match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
            Some((_, args)) => {
                if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                    args.push(arg.to_vec());
                }
            }
            None => self.firstargs.push((id, vec![arg.to_vec()])),
        }
    }

    /// Apply one selector rule (Redis's ACLSetSelector).
    pub fn apply(&mut self, op: &[u8], rules: &Rules) -> Result<(), RuleError> {
        let table = rules.commands;
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        if is("allkeys") || is("~*") {
            self.flags |= sflags::ALLKEYS;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.flags &= !sflags::ALLKEYS;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.flags |= sflags::ALLCHANNELS;
            self.channels.clear();
        } else if is("resetchannels") {
            self.flags &= !sflags::ALLCHANNELS;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.has(sflags::ALLCHANNELS) {
                return Err(RuleError::ChannelAfterAllChannels);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c.as_slice() == pat) {
                self.channels.push(pat.to_vec());
            }
            self.flags &= !sflags::ALLCHANNELS;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&b| b == b'|') {
                None => {
                    let id = table.get_orig_full(name).ok_or(RuleError::UnknownCommand)?;
                    self.change_perm(table, id, true);
                }
                Some(p) => {
                    let (base, sub) = (&name[..p], &name[p + 1..]);
                    let id = table.get_orig_full(base).ok_or(RuleError::UnknownCommand)?;
                    if table.entries[id].parent.is_some() {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !table.entries[id].spec.subcommands.is_empty() {
                        let sid = table.get_orig_full(name).ok_or(RuleError::UnknownCommand)?;
                        self.change_perm(table, sid, true);
                    } else {
                        log::warn!("Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})", String::from_utf8_lossy(name));
                        self.add_firstarg(id, sub);
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let id = table
                .get_orig_full(&op[1..])
                .ok_or(RuleError::UnknownCommand)?;
            self.change_perm(table, id, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let cflag = category_by_name(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(table, cflag, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `~pattern` or `%R~` / `%W~` / `%RW~pattern`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.has(sflags::ALLKEYS) {
            return Err(RuleError::KeyAfterAllKeys);
        }
        let mut perms = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            let mut ok = true;
            while offset < op.len() {
                let c = op[offset].to_ascii_uppercase();
                if c == b'R' && perms & PERM_READ == 0 {
                    perms |= PERM_READ;
                } else if c == b'W' && perms & PERM_WRITE == 0 {
                    perms |= PERM_WRITE;
                } else if op[offset] == b'~' {
                    offset += 1;
                    break;
                } else {
                    ok = false;
                    break;
                }
                offset += 1;
            }
            if perms == 0 || !ok {
                return Err(RuleError::Syntax);
            }
        } else {
            perms = PERM_ALL;
        }
        let pat = &op[offset.min(op.len())..];
        if has_spaces(pat) {
            return Err(RuleError::Syntax);
        }
        match self.patterns.iter_mut().find(|p| p.pattern == pat) {
            Some(p) => p.perms |= perms,
            None => self.patterns.push(KeyPattern {
                perms,
                pattern: pat.to_vec(),
            }),
        }
        self.flags &= !sflags::ALLKEYS;
        Ok(())
    }

    /// Can this selector access `key` as a key spec with `kflags` does
    /// (ACLSelectorCheckKey)? Reads need a read pattern, inserts/updates/deletes a write one;
    /// a key accessed neither way (EXISTS, TYPE) needs any pattern.
    pub fn key_allowed(&self, key: &[u8], kflags: u32) -> bool {
        if self.has(sflags::ALLKEYS) {
            return true;
        }
        let need = perms_for(kflags);
        self.patterns
            .iter()
            .any(|p| p.perms & need == need && string_match(&p.pattern, key, false))
    }

    /// Does this selector grant the access of `kflags` to every key (`~*`, `%R~*`,
    /// allkeys)? (ACLSelectorHasUnrestrictedKeyAccess.)
    pub fn has_unrestricted_key_access(&self, kflags: u32) -> bool {
        if self.has(sflags::ALLKEYS) {
            return true;
        }
        let need = perms_for(kflags);
        self.patterns
            .iter()
            .any(|p| p.perms & need == need && p.pattern == b"*")
    }

    /// Check command `id` with arguments `argv` (ACLSelectorCheckCmd). `keys` caches the
    /// key positions between selectors.
    pub fn check_command(
        &self,
        table: &CommandTable,
        id: usize,
        argv: &[Bytes],
        keys: &mut Option<Vec<(usize, u32)>>,
    ) -> Result<(), Denied> {
        let entry = &table.entries[id];
        let spec = entry.spec;
        if !self.has(sflags::ALLCOMMANDS) && !spec.has(flags::NO_AUTH) && !self.command_bit(id) {
            let idx = if entry.parent.is_some() { 2 } else { 1 };
            let allowed = argv.len() >= 2
                && argv.get(idx).is_some_and(|a| {
                    self.firstargs
                        .iter()
                        .find(|(i, _)| *i == id)
                        .is_some_and(|(_, args)| args.iter().any(|f| f.eq_ignore_ascii_case(a)))
                });
            if !allowed {
                return Err(Denied::Command);
            }
        }
        if !self.has(sflags::ALLKEYS) && keys::has_keys(spec) {
            let keys = keys.get_or_insert_with(|| keys::keys_for_acl(spec, argv));
            for &(pos, kflags) in keys.iter() {
                if !self.key_allowed(&argv[pos], kflags) {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.has(sflags::ALLCHANNELS) {
            if let Some((start, count, is_pattern)) = channel_args(spec) {
                let stop = count.map_or(argv.len(), |n| (start + n).min(argv.len()));
                for (pos, ch) in argv.iter().enumerate().take(stop).skip(start) {
                    if !channel_allowed(&self.channels, ch, is_pattern) {
                        return Err(Denied::Channel(pos));
                    }
                }
            }
        }
        Ok(())
    }

    /// The command rules in the form ACL SETUSER accepts (ACLDescribeSelectorCommandRules):
    /// `+@all` or `-@all`, then the categories that best explain the bitmap, then single
    /// commands (and first arguments) for what remains.
    pub fn describe_commands(&self, table: &CommandTable) -> Vec<u8> {
        let mut out = Vec::new();
        let rules = Rules {
            commands: table,
            pubsub_all: false,
        };
        // The rules are applied to `fake` as they are emitted, so the remaining difference
        // from the real bitmap is always known.
        let mut fake = Selector::new(0, &rules);
        let additive = !self.future;
        if additive {
            out.extend_from_slice(b"-@all ");
            fake.set_all(false);
        } else {
            out.extend_from_slice(b"+@all ");
            fake.set_all(true);
        }
        // `temp` starts as the user's bitmap; each chosen category is applied inverted to
        // it, so it is not chosen again for commands already explained.
        let mut temp = Selector::new(0, &rules);
        temp.allowed.clone_from(&self.allowed);
        let mut applied = [false; cat::NAMES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, &(cflag, _)) in cat::NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(table, cflag);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (cflag, name) = cat::NAMES[j];
            fake.set_category(table, cflag, additive);
            temp.set_category(table, cflag, !additive);
            out.push(if additive { b'+' } else { b'-' });
            out.push(b'@');
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
            applied[j] = true;
        }
        for (id, e) in table.entries.iter().enumerate() {
            let userbit = self.command_bit(id);
            if userbit != fake.command_bit(id) {
                out.push(if userbit { b'+' } else { b'-' });
                out.extend_from_slice(e.fullname.as_bytes());
                out.push(b' ');
                fake.change_perm(table, id, userbit);
            }
            if !userbit {
                if let Some((_, args)) = self.firstargs.iter().find(|(i, _)| *i == id) {
                    for a in args {
                        out.push(b'+');
                        out.extend_from_slice(e.fullname.as_bytes());
                        out.push(b'|');
                        out.extend_from_slice(a);
                        out.push(b' ');
                    }
                }
            }
        }
        out.pop();
        debug_assert_eq!(fake.allowed, self.allowed, "ACL describe must round-trip");
        out
    }

    /// The key patterns as ACL GETUSER lists them (`~*` for allkeys).
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.has(sflags::ALLKEYS) {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            p.describe(&mut out);
        }
        out
    }

    /// The channel patterns as ACL GETUSER lists them (`&*` for allchannels).
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.has(sflags::ALLCHANNELS) {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The whole selector as rules (ACLDescribeSelector): keys, channels, commands.
    pub fn describe(&self, table: &CommandTable) -> Vec<u8> {
        let mut out = Vec::new();
        if self.has(sflags::ALLKEYS) {
            out.extend_from_slice(b"~* ");
        } else {
            for p in &self.patterns {
                p.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.has(sflags::ALLCHANNELS) {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands(table));
        out
    }
}

/// The pattern permissions a key spec's flags need.
fn perms_for(kflags: u32) -> u8 {
    let mut need = 0;
    if kflags & keyflags::ACCESS != 0 {
        need |= PERM_READ;
    }
    if kflags & (keyflags::INSERT | keyflags::DELETE | keyflags::UPDATE) != 0 {
        need |= PERM_WRITE;
    }
    need
}
