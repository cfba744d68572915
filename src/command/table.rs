//! The command table: every family's [`CommandSpec`]s collected once at start-up, with the
//! lookup used by dispatch (case-insensitive, no allocation), `rename-command`, and the
//! per-command statistics slots that `INFO commandstats` prints.

use std::collections::HashMap;

use bytes::Bytes;

use super::CommandSpec;

/// Statistics of one command (Redis's calls/microseconds/rejected_calls/failed_calls, and
/// the latency histogram behind INFO latencystats and LATENCY HISTOGRAM).
#[derive(Debug, Default, Clone)]
pub struct CmdStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    pub latency: Option<Box<crate::latency::Histogram>>,
}

/// One command or subcommand in the table.
#[derive(Debug)]
pub struct CmdEntry {
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for subcommands.
    pub fullname: String,
    /// Index of the container for subcommands.
    pub parent: Option<usize>,
    /// Subcommands by lower-case name.
    pub subs: NameMap,
    pub stats: CmdStats,
}

/// Result of looking up an argv.
pub enum Lookup {
    Found(usize),
    Unknown,
    /// argv[0] is a container but argv[1] is not one of its subcommands.
    UnknownSub(usize),
}

/// FNV-1a, for the command-name maps. Their keys are our own fixed set of names, so a
/// client can choose what it looks up but not what collides in the table: a keyed hash
/// (SipHash) buys nothing there and costs a visible share of a cheap command.
#[derive(Default)]
pub struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map from lower-case command names.
pub type NameMap = HashMap<Vec<u8>, usize, std::hash::BuildHasherDefault<NameHasher>>;

/// All commands.
#[derive(Debug, Default)]
pub struct CommandTable {
    pub entries: Vec<CmdEntry>,
    /// Top-level commands by (possibly renamed) lower-case name.
    by_name: NameMap,
    /// Top-level commands by their original name: ACL rules name commands this way, so
    /// they stay valid whatever `rename-command` did (Redis's orig_commands).
    orig_by_name: HashMap<Vec<u8>, usize>,
}

impl CommandTable {
    /// Build the table from every family's command list.
    pub fn build(families: &[&'static [CommandSpec]]) -> CommandTable {
        let mut t = CommandTable::default();
        for fam in families {
            for spec in fam.iter() {
                let id = t.entries.len();
                t.entries.push(CmdEntry {
                    spec,
                    fullname: spec.name.to_string(),
                    parent: None,
                    subs: NameMap::default(),
                    stats: CmdStats::default(),
                });
                t.by_name.insert(spec.name.as_bytes().to_vec(), id);
                t.orig_by_name.insert(spec.name.as_bytes().to_vec(), id);
                for sub in spec.subcommands {
                    let sid = t.entries.len();
                    t.entries.push(CmdEntry {
                        spec: sub,
                        fullname: format!("{}|{}", spec.name, sub.name),
                        parent: Some(id),
                        subs: NameMap::default(),
                        stats: CmdStats::default(),
                    });
                    t.entries[id].subs.insert(sub.name.as_bytes().to_vec(), sid);
                }
            }
        }
        t
    }

    /// Apply `rename-command old new` (empty `new` removes the command).
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), String> {
        let Some(id) = self.by_name.remove(old.to_ascii_lowercase().as_bytes()) else {
            return Err(format!("No such command in rename-command: {old}"));
        };
        if !new.is_empty() {
            let key = new.to_ascii_lowercase().into_bytes();
            if self.by_name.contains_key(&key) {
                return Err(format!("Target command name already exists: {new}"));
            }
            self.by_name.insert(key, id);
        }
        Ok(())
    }

    /// A top-level command by name, case-insensitively.
    pub fn get(&self, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 64];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&lower[..]).copied()
    }

    /// A command or subcommand by full name (`config|get`).
    pub fn get_full(&self, name: &[u8]) -> Option<usize> {
        match name.iter().position(|&b| b == b'|') {
            None => self.get(name),
            Some(p) => {
                let parent = self.get(&name[..p])?;
                self.entries[parent]
                    .subs
                    .get(&name[p + 1..].to_ascii_lowercase())
                    .copied()
            }
        }
    }

    /// A command or subcommand by its original full name (`config|get`), case-insensitively,
    /// ignoring renames (Redis's ACLLookupCommand). More than one `|`, or a `|` after a
    /// command without subcommands, finds nothing.
    pub fn get_orig_full(&self, name: &[u8]) -> Option<usize> {
        let mut parts = name.split(|&b| b == b'|');
        let base = parts.next()?.to_ascii_lowercase();
        let sub = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let id = *self.orig_by_name.get(&base)?;
        match sub {
            None => Some(id),
            Some(sub) => {
                let e = &self.entries[id];
                if e.spec.subcommands.is_empty() {
                    return None;
                }
                e.subs.get(&sub.to_ascii_lowercase()).copied()
            }
        }
    }

    /// Resolve the command an argv names, descending into subcommands.
    pub fn lookup(&self, argv: &[Bytes]) -> Lookup {
        let Some(id) = self.get(&argv[0]) else {
            return Lookup::Unknown;
        };
        let e = &self.entries[id];
        if e.spec.subcommands.is_empty() || argv.len() < 2 {
            return Lookup::Found(id);
        }
        match e.subs.get(&argv[1].to_ascii_lowercase()) {
            Some(&sid) => Lookup::Found(sid),
            None => Lookup::UnknownSub(id),
        }
    }

    /// Top-level command ids in table order.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent.is_none())
            .map(|(i, _)| i)
    }

    /// Whether a top-level command (not renamed away) is reachable by its name.
    pub fn is_visible(&self, id: usize) -> bool {
        let e = &self.entries[id];
        match e.parent {
            Some(p) => self.is_visible(p),
            None => self.by_name.values().any(|&v| v == id),
        }
    }

    /// Reset all statistics (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        for e in &mut self.entries {
            e.stats = CmdStats::default();
        }
    }
}
